"""Form versions (rule 5): a current version exists exactly while every applicable step is cleared.

The unit of work (clearance.settle) calls `settle_forms` before every commit that touched a
student, so a version is issued the moment a student becomes complete, however that happened, and
voided the moment any applicable step stops being cleared. Printing again without a change keeps
the serial.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from sqlalchemy import bindparam, insert, select

import audit
from clearance.settle import lock_students
from clearance.status import chunks, completeness
from clock import utcnow
from database import db
from models import Account, AuditEvent, FormVersion, Student
from wording import say

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud and typed at a desk
CODE_LENGTH = 8
EVERY_STEP_CLEARED = say("every applicable step cleared")  # why a form version was issued


def current_form(student: Student) -> FormVersion | None:
    """The student's valid form version, if any."""
    query = select(FormVersion).where(FormVersion.student_id == student.id, FormVersion.voided_at.is_(None))
    return db.session.scalar(query)


def last_voided_printout(student: Student) -> FormVersion | None:
    """The student's latest voided version that was printed: a paper they may still hold, no longer valid."""
    printed = select(AuditEvent.subject).where(AuditEvent.student_id == student.id, AuditEvent.action == "form.printed")
    query = (
        select(FormVersion)
        .where(FormVersion.student_id == student.id, FormVersion.voided_at.is_not(None))
        .where(FormVersion.serial.in_(printed))
        .order_by(FormVersion.voided_at.desc(), FormVersion.id.desc())
        .limit(1)
    )
    return db.session.scalar(query)


def recheck_forms(student_ids: Iterable[int], actor: Account | None, why: str) -> None:
    """Issue or void the versions of these students now, for one reason (the unit of work does this itself)."""
    settle_forms(dict.fromkeys(student_ids, (actor, why)))


def settle_forms(reasons: dict[int, tuple[Account | None, str]]) -> None:
    """Issue a version to each student who became complete; void, with its reason, the version of each who is not."""
    for ids in chunks(sorted(reasons)):
        lock_students(ids)  # concurrent changes to a student queue here (PostgreSQL; SQLite holds the write lock)
        complete = completeness(ids)
        current = {
            form.student_id: form
            for form in db.session.scalars(
                select(FormVersion).where(FormVersion.student_id.in_(ids), FormVersion.voided_at.is_(None))
            )
        }
        issue = [sid for sid, done in complete.items() if done and sid not in current]
        void = [current[sid] for sid, done in complete.items() if not done and sid in current]
        _issue(issue, reasons)
        _void(void, reasons)


def _issue(student_ids: list[int], reasons: dict[int, tuple[Account | None, str]]) -> None:
    """New current versions, in a few statements for any number of students."""
    if not student_ids:
        return
    now = utcnow()
    codes = _new_codes(len(student_ids))
    placeholders = {f"tmp-{secrets.token_hex(8)}": sid for sid in student_ids}
    # No RETURNING: on SQLite it would insert row by row to keep the order; the unique placeholders say which is which.
    db.session.execute(
        insert(FormVersion),
        [
            {"student_id": sid, "serial": tmp, "code": code, "issued_at": now, "void_reason": ""}
            for (tmp, sid), code in zip(placeholders.items(), codes, strict=True)
        ],
    )
    issued = db.session.execute(
        select(FormVersion.id, FormVersion.serial).where(FormVersion.serial.in_(list(placeholders)))
    ).all()
    student_ids = [placeholders[tmp] for _id, tmp in issued]
    ids = [form_id for form_id, _tmp in issued]
    serials = [f"LS{now.year}-{form_id:06d}" for form_id in ids]  # short, ordered, unique: read off the printout
    _update_by_id([{"id": i, "serial": serial} for i, serial in zip(ids, serials, strict=True)])
    audit.record_many(
        [
            audit.entry(
                "form.issued",
                reasons[sid][0],
                student_id=sid,
                subject=serial,
                after="current",
                at=now,
                reason=EVERY_STEP_CLEARED,
            )
            for sid, serial in zip(student_ids, serials, strict=True)
        ]
    )


def _void(forms: list[FormVersion], reasons: dict[int, tuple[Account | None, str]]) -> None:
    """Void these versions, each with the reason its student is no longer complete."""
    if not forms:
        return
    now = utcnow()
    voided = [(form.id, form.student_id, form.serial) for form in forms]
    changes = [{"id": form_id, "voided_at": now, "void_reason": reasons[sid][1]} for form_id, sid, _serial in voided]
    _update_by_id(changes)
    for form in forms:
        db.session.expire(form)  # read again when next used
    audit.record_many(
        [
            audit.entry(
                "form.voided",
                reasons[sid][0],
                student_id=sid,
                subject=serial,
                before="current",
                after="void",
                reason=reasons[sid][1],
                at=now,
            )
            for _form_id, sid, serial in voided
        ]
    )


def _update_by_id(rows: list[dict]) -> None:
    """Update form versions by id in one executemany (the ORM's bulk update by primary key runs one UPDATE
    a row on SQLite, to check each row count)."""
    table = FormVersion.__table__
    values = {name: bindparam(name) for name in rows[0] if name != "id"}
    db.session.execute(
        table.update().where(table.c.id == bindparam("form_id")).values(**values),
        [{**{k: v for k, v in row.items() if k != "id"}, "form_id": row["id"]} for row in rows],
    )


def _new_codes(count: int) -> list[str]:
    """Short codes no form has yet: random, so a code cannot be guessed from another."""
    codes: set[str] = set()
    while len(codes) < count:
        wanted = {"".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)) for _ in range(count - len(codes))}
        taken = set(db.session.scalars(select(FormVersion.code).where(FormVersion.code.in_(list(wanted)))))
        codes |= wanted - taken
    return list(codes)
