"""Small forms shared by the blueprints."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class EmptyForm(FlaskForm):
    """A button-only POST still carries the CSRF token."""


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(message=_l("Give a reason.")), Length(max=500)])


class HoldForm(FlaskForm):
    amount = DecimalField(_l("Amount owed (¥, optional)"), places=2,
                          validators=[Optional(), NumberRange(min=0, max=99999999, message=_l("Give 0 or more."))])
    reason = StringField(_l("Reason (the student sees it)"),
                         validators=[DataRequired(message=_l("Give a reason.")), Length(max=300)])
