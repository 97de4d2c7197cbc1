"""Small forms shared by the blueprints."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError


class EmptyForm(FlaskForm):
    """A button-only POST still carries the CSRF token."""


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(message=_l("Give a reason.")), Length(max=500)])


def _yuan_and_fen(_form, field) -> None:
    amount = field.data
    if amount is not None and (not amount.is_finite() or amount < 0 or amount > 99999999 or amount != round(amount, 2)):
        raise ValidationError(_l("Give an amount of 0 or more with at most 2 decimals, e.g. 35.50."))


class HoldForm(FlaskForm):
    amount = DecimalField(_l("Amount owed (¥, optional)"), validators=[Optional(), _yuan_and_fen])
    reason = StringField(_l("Reason (the student sees it)"),
                         validators=[DataRequired(message=_l("Give a reason.")), Length(max=300)])
