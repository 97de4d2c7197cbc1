"""Setting the system up: cohorts, windows, offices and steps — and what such a change does to students.

A change to which steps apply, or how, is settled like any other change by the unit of work
(clearance.settle, rule 5): a step newly in force voids the printed forms of the students it now
applies to; one retired or narrowed may complete others; a step switched to automatic is cleared
by the system.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

import audit
from clearance.refused import Refused
from clearance.settle import touch_cohorts
from clearance.status import cohorts_clause
from database import db
from models import Account, Cohort, FormVersion, Office, Step, StepMode, Student

COHORT_FIELDS = (
    "name_en",
    "name_zh",
    "kind",
    "opens_on",
    "closes_on",
    "certificate_day",
    "certificate_hours",
    "certificate_place",
    "documents",
)
OFFICE_FIELDS = ("code", "name_en", "name_zh", "location", "hours", "phone", "instructions")
STEP_FIELDS = ("office_id", "title_en", "title_zh", "instructions", "what_to_bring", "position", "mode")


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


def save_cohort(cohort: Cohort | None, values: dict, actor: Account | None, actor_label: str | None = None) -> Cohort:
    """Create a cohort, or change one (from the admin pages or the CLI); the window must not close before it opens."""
    if values["closes_on"] < values["opens_on"]:
        raise Refused(_l("The window closes before it opens."))
    if cohort is None:
        if db.session.scalar(select(Cohort.id).where(Cohort.code == values["code"])):
            raise Refused(_l("A cohort with this code already exists."))
        cohort = Cohort(code=values["code"], **{name: values[name] for name in COHORT_FIELDS})
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


def extend_window(student: Student, until: date | None, reason: str, actor: Account) -> None:
    """Let one student use the system until a later day (None removes the extension), with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise Refused(_l("Give a reason for the extension."))
    if until is not None and until <= student.cohort.closes_on:
        raise Refused(_l("Choose a day after the cohort's window closes (%(day)s).", day=student.cohort.closes_on))
    before = student.window_extended_until
    student.window_extended_until = until
    student.window_extension_reason = reason
    audit.record(
        "window.extended",
        actor,
        student_id=student.id,
        subject=student.student_id,
        before=before or "",
        after=until or "no extension",
        reason=reason,
    )


def save_office(office: Office | None, values: dict, actor: Account) -> Office:
    """Create an office, or change its details."""
    clash = db.session.scalar(select(Office.id).where(Office.code == values["code"]))
    if clash is not None and (office is None or clash != office.id):
        raise Refused(_l("Another office already has this code."))
    if office is None:
        office = Office(**{name: values[name] for name in OFFICE_FIELDS})
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
        step = Step(**{name: values[name] for name in STEP_FIELDS})
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
        touch_cohorts(scope, f"step {step.title_en} {'added' if created else 'changed'} by {actor.username}", actor)
    return step
