"""Form versions (rule 5): a current version exists exactly while every applicable step is cleared.

Every change to steps, statuses or holds calls `recheck_forms` in its own transaction, so a
version is issued the moment a student becomes complete, however that happened, and voided the
moment any applicable step stops being cleared. Printing again without a change keeps the serial.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator

from sqlalchemy import select

import audit
from clearance.status import counts_as_cleared, step_applies
from clock import utcnow
from database import db
from models import Account, FormVersion, Hold, Step, StepState, StepStatus, Student

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud and typed at a desk
CODE_LENGTH = 8
CHUNK = 5000  # stays under every database's limit on bound parameters


def chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ids = list(ids)
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def current_form(student: Student) -> FormVersion | None:
    """The student's valid form version, if any."""
    query = select(FormVersion).where(FormVersion.student_id == student.id, FormVersion.voided_at.is_(None))
    return db.session.scalar(query)


def completeness(student_ids: list[int]) -> dict[int, bool]:
    """Whether each student has every applicable step cleared, in a few queries for any number."""
    steps = list(db.session.scalars(select(Step).where(Step.retired.is_(False))))
    cohort_of = dict(db.session.execute(select(Student.id, Student.cohort_id).where(Student.id.in_(student_ids))).all())
    cleared = set(db.session.execute(select(StepStatus.student_id, StepStatus.step_id).where(
        StepStatus.student_id.in_(student_ids), StepStatus.state == StepState.CLEARED)).all())
    held = set(db.session.execute(select(Hold.student_id, Hold.office_id).where(
        Hold.student_id.in_(student_ids), Hold.released_at.is_(None))).all())
    steps_of_cohort = {cohort: [s for s in steps if step_applies(s, cohort)] for cohort in set(cohort_of.values())}
    return {
        sid: all(counts_as_cleared((sid, step.id) in cleared, (sid, step.office_id) in held)
                 for step in steps_of_cohort[cohort])
        for sid, cohort in cohort_of.items()
    }


def recheck_forms(student_ids: Iterable[int], actor: Account | None, why: str) -> None:
    """Issue a version to each student who became complete; void the version of each who is no longer."""
    for ids in chunks(student_ids):
        # Row locks on PostgreSQL, so concurrent changes to a student queue here; SQLite holds the write lock.
        db.session.execute(select(Student.id).where(Student.id.in_(ids)).with_for_update())
        complete = completeness(ids)
        current = {form.student_id: form for form in db.session.scalars(
            select(FormVersion).where(FormVersion.student_id.in_(ids), FormVersion.voided_at.is_(None)))}
        for student_id, is_complete in complete.items():
            if is_complete and student_id not in current:
                _issue(student_id, actor)
            elif not is_complete and student_id in current:
                _void(current[student_id], actor, why)


def _issue(student_id: int, actor: Account | None) -> FormVersion:
    now = utcnow()
    form = FormVersion(student_id=student_id, serial=f"tmp-{secrets.token_hex(8)}", code=_new_code(), issued_at=now)
    db.session.add(form)
    db.session.flush()
    form.serial = f"LS{now.year}-{form.id:06d}"  # short, ordered, unique: read off the printout
    audit.record("form.issued", actor, student_id=student_id, subject=form.serial, after="current",
                 reason="every applicable step cleared")
    return form


def _void(form: FormVersion, actor: Account | None, why: str) -> None:
    form.voided_at = utcnow()
    form.void_reason = why
    audit.record("form.voided", actor, student_id=form.student_id, subject=form.serial, before="current",
                 after="void", reason=why)


def _new_code() -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if db.session.scalar(select(FormVersion.id).where(FormVersion.code == code)) is None:
            return code
