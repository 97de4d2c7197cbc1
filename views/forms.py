"""Small forms shared by the blueprints."""

from __future__ import annotations

from datetime import date
from functools import partial

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

import clearance
from clearance.changes import MAX_REASON
from reading import without_hidden

# The days a date typed into a form or a filter may name: every record, with room; 9999-12-31 has no next day.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)


def out_of_range(typed: str) -> str:
    """The message for a day outside FIRST_DAY…LAST_DAY."""
    return _(
        "%(text)s is out of range: choose a day between %(first)s and %(last)s.",
        text=typed,
        first=FIRST_DAY.isoformat(),
        last=LAST_DAY.isoformat(),
    )


def day_in_range(form, field) -> None:
    """A DateField's validator: a day outside FIRST_DAY…LAST_DAY is refused with a message, never a 500 later."""
    if field.data is not None and not FIRST_DAY <= field.data <= LAST_DAY:
        raise ValidationError(out_of_range(field.data.isoformat()))


class Form(FlaskForm):
    """The app's forms: what is typed into text fields loses hidden characters (reading.without_hidden).

    A bidirectional override in a reason or a name would show it reversed to the student and on the
    printed form; the person typing sees the same text without it. Passwords are kept exactly as typed.
    """

    class Meta:
        def bind_field(self, form, unbound_field, options):
            kind = unbound_field.field_class
            if issubclass(kind, StringField) and not issubclass(kind, PasswordField):
                clean = partial(without_hidden, multiline=issubclass(kind, TextAreaField))
                options["filters"] = (*unbound_field.kwargs.get("filters", ()), clean)
            return unbound_field.bind(form=form, **options)


class EmptyForm(Form):
    """A button-only POST still carries the CSRF token."""


GIVE_A_REASON = DataRequired(message=_l("Give a reason."))


class ReasonForm(Form):
    reason = TextAreaField(
        _l("Reason"), validators=[DataRequired(message=_l("Give a reason.")), Length(max=MAX_REASON)]
    )


class AmountField(StringField):
    """Yuan as typed, read by the one amount rule (clearance.amounts): `data` is a Decimal, or None when empty."""

    def process_formdata(self, valuelist) -> None:
        try:
            self.data = clearance.parse_amount(valuelist[0] if valuelist else "")
        except clearance.Refused as refused:
            self.data = None
            raise ValueError(str(refused)) from None


class HoldForm(Form):
    amount = AmountField(_l("Amount owed (¥, optional)"))
    reason = StringField(
        _l("Reason (the student sees it)"),
        validators=[DataRequired(message=_l("Give a reason.")), Length(max=MAX_REASON)],
    )
