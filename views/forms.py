"""Small forms shared by the blueprints."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

import clearance
from clearance.changes import MAX_REASON


class EmptyForm(FlaskForm):
    """A button-only POST still carries the CSRF token."""


GIVE_A_REASON = DataRequired(message=_l("Give a reason."))


class ReasonForm(FlaskForm):
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


class HoldForm(FlaskForm):
    amount = AmountField(_l("Amount owed (¥, optional)"))
    reason = StringField(
        _l("Reason (the student sees it)"),
        validators=[DataRequired(message=_l("Give a reason.")), Length(max=MAX_REASON)],
    )
