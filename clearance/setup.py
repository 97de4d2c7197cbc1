"""Setting the system up: cohorts, windows, offices and steps — and what such a change does to students.

A change to which steps apply, or how, is settled like any other change by the unit of work
(clearance.settle, rule 5): a step newly in force voids the printed forms of the students it now
applies to; one retired or narrowed may complete others; a step switched to automatic is cleared
by the system.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, time

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

import audit
from clearance.refused import Refused
from clearance.settle import touch_cohorts
from clearance.status import cohorts_clause
from clearance.window import window_closes_on, window_opens_on
from database import db
from models import Account, Cohort, FormVersion, Office, School, Step, StepMode, Student
from wording import say, twin

COHORT_FIELDS = (
    "name_en",
    "name_zh",
    "kind",
    "opens_on",
    "closes_on",
    "certificate_day",
    "certificate_hours",
    "certificate_place",
    "certificate_place_zh",
    "documents",
    "documents_zh",
)
# Each text a student reads, in English and in Chinese (the `_zh` twin): admins edit them side by side.
OFFICE_FIELDS = (
    "code",
    "name_en",
    "name_zh",
    "location",
    "location_zh",
    "hours",
    "hours_zh",
    "phone",
    "instructions",
    "instructions_zh",
)
STEP_FIELDS = (
    "office_id",
    "title_en",
    "title_zh",
    "instructions",
    "instructions_zh",
    "what_to_bring",
    "what_to_bring_zh",
    "position",
    "mode",
)


def _given(values: dict, fields: Iterable[str]) -> dict:
    """The fields a new row is made with; one not given (a Chinese twin the CLI has no option for) keeps its default."""
    return {name: values[name] for name in fields if name in values}


def _changes(target, values: dict, fields: Iterable[str]) -> dict[str, tuple]:
    """Set the given fields; return {field: (before, after)} for those that changed."""
    changed = {}
    for name in fields:
        if name in values and getattr(target, name) != values[name]:
            changed[name] = (getattr(target, name), values[name])
            setattr(target, name, values[name])
    return changed


def _describe(changes: dict[str, tuple]) -> tuple[str, str]:
    before = "; ".join(f"{k}: {_plain(old)}" for k, (old, _new) in changes.items())
    after = "; ".join(f"{k}: {_plain(new)}" for k, (_old, new) in changes.items())
    return before, after


def _plain(value) -> str:
    if isinstance(value, list):
        return ", ".join(getattr(item, "code", None) or getattr(item, "title_en", str(item)) for item in value)
    return getattr(value, "value", value) if value is not None else ""


# Hours as people write them on the notice: "08:30-16:00" (a hyphen or an en dash, spaces allowed).
HOURS = re.compile(r"(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})")


def parse_hours(text: str) -> tuple[time, time] | None:
    """Certificate hours as (start, end), or None when they are not written like 08:30-16:00."""
    found = HOURS.fullmatch(text.strip())
    if found is None:
        return None
    start_hour, start_minute, end_hour, end_minute = (int(part) for part in found.groups())
    if max(start_hour, end_hour) > 23 or max(start_minute, end_minute) > 59:
        return None
    return time(start_hour, start_minute), time(end_hour, end_minute)


class CohortRefused(Refused):
    """A cohort's values refused with every problem at once: `problems` maps a field's name to what is wrong."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(" ".join(str(message) for message in problems.values()))
        self.problems = problems


def cohort_problems(values: dict, cohort: Cohort | None = None) -> dict[str, str]:
    """Everything that cannot be right in a cohort's values, by field; a value missing (None) is not compared."""
    problems = {}
    opens, closes, day = values.get("opens_on"), values.get("closes_on"), values.get("certificate_day")
    code = values.get("code") if cohort is None else None
    if code and db.session.scalar(select(Cohort.id).where(Cohort.code == code)):
        problems["code"] = _l("A cohort with this code already exists.")
    if opens and closes and closes < opens:
        problems["closes_on"] = _l("The window closes before it opens.")
    if opens and day and day < opens:
        problems["certificate_day"] = _l(
            "The certificate day (%(day)s) comes before the window opens (%(opens)s).", day=day, opens=opens
        )
    hours = (values.get("certificate_hours") or "").strip()
    if hours:
        parsed = parse_hours(hours)
        if parsed is None:
            problems["certificate_hours"] = _l("Write the certificate hours like 08:30-16:00.")
        elif parsed[1] <= parsed[0]:
            problems["certificate_hours"] = _l(
                "The certificate hours must end after they start (%(hours)s).", hours=hours
            )
    return problems


def save_cohort(cohort: Cohort | None, values: dict, actor: Account | None, actor_label: str | None = None) -> Cohort:
    """Create a cohort, or change one (from the admin pages or the CLI); refused with every problem at once."""
    problems = cohort_problems(values, cohort)
    if problems:
        raise CohortRefused(problems)
    if cohort is None:
        cohort = Cohort(code=values["code"], **_given(values, COHORT_FIELDS))
        db.session.add(cohort)
        db.session.flush()
        audit.record(
            "cohort.created",
            actor,
            actor_label=actor_label,
            subject=cohort.code,
            after=f"{cohort.opens_on} – {cohort.closes_on}",
        )
        return cohort
    changes = _changes(cohort, values, COHORT_FIELDS)
    if changes:
        before, after = _describe(changes)
        audit.record("cohort.changed", actor, actor_label=actor_label, subject=cohort.code, before=before, after=after)
    return cohort


def _window_text(student: Student) -> str:
    return f"{window_opens_on(student)} – {window_closes_on(student)}"


def extend_window(student: Student, day: date | None, reason: str, actor: Account) -> None:
    """Stretch one student's window to include a day before it opens or after it closes (None: the cohort's again).

    The window then runs from the earlier of the day and the cohort's opening to the later of the day and
    its closing (clearance.window); the reason is required and audited with the window before and after.
    """
    reason = (reason or "").strip()
    if not reason:
        raise Refused(_l("Give a reason for the extension."))
    cohort = student.cohort
    if day is not None and cohort.opens_on <= day <= cohort.closes_on:
        raise Refused(
            _l(
                "%(day)s is already inside the cohort's window (%(opens)s – %(closes)s): choose a day before it "
                "opens or after it closes.",
                day=day,
                opens=cohort.opens_on,
                closes=cohort.closes_on,
            )
        )
    before = _window_text(student)
    student.window_extended_until = day
    student.window_extension_reason = reason
    audit.record(
        "window.extended",
        actor,
        student_id=student.id,
        subject=student.student_id,
        before=before,
        after=_window_text(student),
        reason=reason,
    )


SCHOOL_FIELDS = ("name_zh", "certificate_place", "certificate_place_zh")


def save_school(school: School, values: dict, actor: Account) -> School:
    """Change a school's Chinese name or its certificate place; its name stays as the student CSV spells it."""
    changes = _changes(school, values, SCHOOL_FIELDS)
    if changes:
        before, after = _describe(changes)
        audit.record("school.changed", actor, subject=school.name, before=before, after=after)
    return school


def save_office(office: Office | None, values: dict, actor: Account) -> Office:
    """Create an office, or change its details."""
    clash = db.session.scalar(select(Office.id).where(Office.code == values["code"]))
    if clash is not None and (office is None or clash != office.id):
        raise Refused(_l("Another office already has this code."))
    if office is None:
        office = Office(**_given(values, OFFICE_FIELDS))
        db.session.add(office)
        db.session.flush()
        audit.record("office.created", actor, office_id=office.id, subject=office.code, after=office.name_en)
        return office
    changes = _changes(office, values, OFFICE_FIELDS)
    if changes:
        before, after = _describe(changes)
        audit.record("office.changed", actor, office_id=office.id, subject=office.code, before=before, after=after)
    return office


def forms_voided_by(step: Step | None, cohorts: list[Cohort], retired: bool) -> int:
    """How many current forms saving a step this way would void: those of students it newly applies to."""
    if retired:
        return 0
    newly = cohorts_clause([c.id for c in cohorts])
    if step is not None and not step.retired:
        newly = newly & ~cohorts_clause([c.id for c in step.cohorts])
    return db.session.scalar(
        select(func.count()).select_from(FormVersion).join(Student).where(newly, FormVersion.voided_at.is_(None))
    )


def _check_prerequisites(step: Step | None, mode: StepMode, prerequisites: list[Step]) -> None:
    """No step may wait for itself, directly or through others; an automatic step waits for none."""
    if prerequisites and mode == StepMode.AUTOMATIC:
        raise Refused(_l("An automatic step is cleared whenever nothing is held: it cannot need other steps first."))
    if step is None:
        return
    waiting, seen = list(prerequisites), set()
    while waiting:
        required = waiting.pop()
        if required.id == step.id:
            raise Refused(_l("These prerequisites make a circle: the step would wait for itself."))
        if required.id not in seen:
            seen.add(required.id)
            waiting.extend(required.prerequisites)


def save_step(
    step: Step | None, values: dict, cohorts: list[Cohort], prerequisites: list[Step], retired: bool, actor: Account
) -> Step:
    """Create or change a step; the unit of work settles every student whose steps changed."""
    _check_prerequisites(step, values["mode"], prerequisites)
    created = step is None
    # The cohorts it applied to before (None: every cohort); a new step applied to nobody.
    before = set() if step is None else ({c.id for c in step.cohorts} or None)
    if created:
        step = Step(**_given(values, STEP_FIELDS))
        db.session.add(step)
        changes = {"step": ("", values["title_en"])}
    else:
        changes = _changes(step, values, STEP_FIELDS)
    changes |= _changes(
        step,
        {"cohorts": cohorts, "prerequisites": prerequisites, "retired": retired},
        ("cohorts", "prerequisites", "retired"),
    )
    db.session.flush()
    if changes:
        before_text, after_text = _describe(changes)
        if created:  # nothing before; after, only what was given
            before_text, after_text = "", _describe({k: v for k, v in changes.items() if v[1]})[1]
        audit.record(
            "step.created" if created else "step.changed",
            actor,
            office_id=step.office_id,
            subject=f"step:{step.id} {step.title_en}",
            before=before_text,
            after=after_text,
        )
        after = {c.id for c in cohorts} or None
        scope = None if before is None or after is None else before | after  # naming none means every cohort
        title = twin(step.title_en, step.title_zh)
        if created:
            why = say("step %(step)s added by %(user)s", step=title, user=actor.username)
        else:
            why = say("step %(step)s changed by %(user)s", step=title, user=actor.username)
        touch_cohorts(scope, why, actor)
    return step
