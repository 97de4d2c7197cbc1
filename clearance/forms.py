"""Form versions (rule 5): a current version exists exactly while every applicable step is cleared.

The unit of work (clearance.settle) calls `settle_forms` before every commit that touched a
student, so a version is issued the moment a student becomes complete, however that happened, and
voided the moment any applicable step stops being cleared. Printing again without a change keeps
the serial.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from sqlalchemy import select

import audit
from clearance.status import chunks, completeness
from clock import utcnow
from database import db
from models import Account, FormVersion, Student

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud and typed at a desk
CODE_LENGTH = 8


def current_form(student: Student) -> FormVersion | None:
    """The student's valid form version, if any."""
    query = select(FormVersion).where(FormVersion.student_id == student.id, FormVersion.voided_at.is_(None))
    return db.session.scalar(query)


def recheck_forms(student_ids: Iterable[int], actor: Account | None, why: str) -> None:
    """Issue or void the versions of these students now, for one reason (the unit of work does this itself)."""
    settle_forms(dict.fromkeys(student_ids, (actor, why)))


def settle_forms(reasons: dict[int, tuple[Account | None, str]]) -> None:
    """Issue a version to each student who became complete; void, with its reason, the version of each who is not."""
    for ids in chunks(reasons):
        # Row locks on PostgreSQL, so concurrent changes to a student queue here; SQLite holds the write lock.
        db.session.execute(select(Student.id).where(Student.id.in_(ids)).with_for_update())
        complete = completeness(ids)
        current = {
            form.student_id: form
            for form in db.session.scalars(
                select(FormVersion).where(FormVersion.student_id.in_(ids), FormVersion.voided_at.is_(None))
            )
        }
        for student_id, is_complete in complete.items():
            actor, why = reasons[student_id]
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
    audit.record(
        "form.issued",
        actor,
        student_id=student_id,
        subject=form.serial,
        after="current",
        reason="every applicable step cleared",
    )
    return form


def _void(form: FormVersion, actor: Account | None, why: str) -> None:
    form.voided_at = utcnow()
    form.void_reason = why
    audit.record(
        "form.voided",
        actor,
        student_id=form.student_id,
        subject=form.serial,
        before="current",
        after="void",
        reason=why,
    )


def _new_code() -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if db.session.scalar(select(FormVersion.id).where(FormVersion.code == code)) is None:
            return code
