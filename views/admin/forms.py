"""The admin pages' forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from clearance.permissions import ROLE_LABELS
from models import CohortKind, Role, StepMode
from views.forms import Form, day_in_range

CODE = Regexp(r"^[A-Za-z0-9_-]+$", message=_l("Letters, digits, hyphens and underscores only."))


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes: a multi-select list box needs Ctrl-click, and hides its choices."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CohortForm(Form):
    code = StringField(_l("Code (as in the student CSV)"), validators=[DataRequired(), Length(max=32), CODE])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=200)])
    name_zh = StringField(_l("Name in Chinese"), validators=[Length(max=200)])
    kind = SelectField(
        _l("Kind"),
        choices=[
            SelectChoice(CohortKind.DEGREE.value, _l("Degree students")),
            SelectChoice(CohortKind.NON_DEGREE.value, _l("Non-degree students")),
        ],
    )
    # InputRequired, not DataRequired: it keeps the "not a valid date" message of a mistyped date.
    opens_on = DateField(_l("Window opens (first day)"), validators=[InputRequired(), day_in_range])
    closes_on = DateField(_l("Window closes (last day, inclusive)"), validators=[InputRequired(), day_in_range])
    certificate_day = DateField(_l("Certificate day"), validators=[Optional(), day_in_range])
    # Their format and order are checked with the dates, all at once, by clearance.setup.cohort_problems.
    certificate_hours = StringField(
        _l("Certificate hours"), validators=[Length(max=40)], description=_l("Like 08:30-16:00.")
    )
    certificate_place = StringField(
        _l("Certificate place"),
        validators=[Length(max=200)],
        description=_l("Left empty: each student's school's office and room, set under Schools on the cohorts page."),
    )
    certificate_place_zh = StringField(_l("Certificate place (Chinese)"), validators=[Length(max=200)], default="")
    documents = StringField(
        _l("Documents handed over"),
        validators=[Length(max=300)],
        description=_l(
            "Left empty: graduation and degree certificates for degree students, "
            "a certificate of completion for non-degree students."
        ),
    )
    documents_zh = StringField(
        _l("Documents handed over (Chinese)"),
        validators=[Length(max=300)],
        description=_l("Left empty with the English also empty: the default certificates, in Chinese."),
        default="",
    )


class ExtendForm(Form):
    student_id = StringField(_l("Student ID"), validators=[DataRequired(), Length(max=32)])
    day = DateField(
        _l("Stretch the window to include this day"),
        validators=[Optional(), day_in_range],
        description=_l(
            "A day before the cohort's window opens lets the student start earlier; a day after it closes lets "
            "them finish later. Leave empty to give the student the cohort's window again."
        ),
    )
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=300)])


class SchoolForm(Form):
    name_zh = StringField(_l("Name in Chinese"), validators=[Length(max=200)])
    certificate_place = StringField(
        _l("Certificate place (office and room)"),
        validators=[Length(max=200)],
        description=_l(
            "Printed on the form of this school's students, unless their cohort names a place. "
            "For example: School of Nursing office, Building 3, room 204."
        ),
    )
    certificate_place_zh = StringField(
        _l("Certificate place (Chinese)"),
        validators=[Length(max=200)],
        description=_l("For example: 护理学院办公室，3号楼204室."),
        default="",
    )


class OfficeForm(Form):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=16), CODE])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=200)])
    name_zh = StringField(_l("Name in Chinese"), validators=[Length(max=200)])
    location = StringField(_l("Where (English)"), validators=[Length(max=300)])
    location_zh = StringField(_l("Where (Chinese)"), validators=[Length(max=300)], default="")
    hours = StringField(_l("Opening hours (English)"), validators=[Length(max=200)])
    hours_zh = StringField(_l("Opening hours (Chinese)"), validators=[Length(max=200)], default="")
    phone = StringField(_l("Phone"), validators=[Length(max=100)])
    instructions = TextAreaField(_l("Instructions for students (English)"), validators=[Length(max=2000)])
    instructions_zh = TextAreaField(
        _l("Instructions for students (Chinese)"), validators=[Length(max=2000)], default=""
    )


class StepForm(Form):
    office_id = SelectField(_l("Office"), coerce=int)
    title_en = StringField(_l("Title in English"), validators=[DataRequired(), Length(max=200)])
    title_zh = StringField(_l("Title in Chinese"), validators=[Length(max=200)])
    instructions = TextAreaField(_l("Instructions (English)"), validators=[Length(max=2000)])
    instructions_zh = TextAreaField(_l("Instructions (Chinese)"), validators=[Length(max=2000)], default="")
    what_to_bring = StringField(_l("What to bring (English)"), validators=[Length(max=500)])
    what_to_bring_zh = StringField(_l("What to bring (Chinese)"), validators=[Length(max=500)], default="")
    position = IntegerField(_l("Order (smaller comes first)"), validators=[NumberRange(min=0, max=10000)], default=100)
    mode = SelectField(
        _l("Who clears it"),
        choices=[
            SelectChoice(StepMode.SELF_SERVICE.value, _l("Self-service: the student (or the office)")),
            SelectChoice(StepMode.STAFF.value, _l("Staff: only the office")),
            SelectChoice(StepMode.AUTOMATIC.value, _l("Automatic: the system, when the office holds nothing")),
        ],
    )
    cohorts = CheckboxesField(_l("Applies to cohorts"), coerce=int, description=_l("None ticked: every cohort."))
    prerequisites = CheckboxesField(
        _l("Needs these steps first"), coerce=int, description=_l("None ticked: the step can be cleared any time.")
    )
    retired = BooleanField(_l("Retired (no longer applies; its history is kept)"))
    confirm_void = BooleanField(_l("Yes, void those forms"))


class AccountForm(Form):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(min=2, max=64)])
    display_name = StringField(_l("Name shown"), validators=[Length(max=200)])
    role = SelectField(
        _l("Role"),
        choices=[SelectChoice(role.value, ROLE_LABELS[role]) for role in (Role.STAFF, Role.DESK, Role.ADMIN)],
    )
    office_id = SelectField(_l("Office"), coerce=int)
    school_id = SelectField(_l("Limited to school"), coerce=int)
    password = PasswordField(_l("First password (changed at first login)"), validators=[Optional(), Length(max=200)])
    disabled = BooleanField(_l("Disabled (cannot log in; nothing is deleted)"))


class ImportForm(Form):
    file = FileField(_l("Student list (CSV)"), validators=[FileRequired(_l("Choose a file."))])
    encoding = SelectField(
        _l("Encoding"),
        choices=[
            SelectChoice("utf-8", _l("UTF-8 (Excel: CSV UTF-8)")),
            SelectChoice("gb18030", _l("GB18030 (Excel CSV on a Chinese system)")),
        ],
    )
