"""Writing audit events, one or many, in one format. Call inside the transaction of the change it records.

Every event also goes to the app's log, one line each, once its transaction has committed (an event
rolled back with its change never happened, so it is not logged either).
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask_babel import force_locale
from sqlalchemy import event, insert

import logs
import wording
from clock import utcnow
from database import db
from languages import DEFAULT as DEFAULT_LANGUAGE
from models import Account, AuditEvent

log = logging.getLogger(f"{logs.LOGGER}.audit")
_PENDING = "audit_events_to_log"


def entry(
    action: str,
    actor: Account | None,
    *,
    student_id: int | None = None,
    office_id: int | None = None,
    subject: str = "",
    before: object = "",
    after: object = "",
    reason: str = "",
    actor_label: str | None = None,
    at: datetime | None = None,
) -> dict:
    """One audit event's values; `actor` None means the system (or `actor_label`, e.g. "cli")."""
    return {
        "at": at or utcnow(),
        "actor_id": actor.id if actor else None,
        "actor_label": actor_label or (actor.username if actor else "system"),
        "action": action,
        "student_id": student_id,
        "office_id": office_id,
        "subject": subject[:200],
        "from_value": "" if before is None else str(before),
        "to_value": "" if after is None else str(after),
        "reason": reason,
    }


def record(action: str, actor: Account | None, **details) -> AuditEvent:
    """Add one audit event to the session (see `entry` for the details)."""
    values = entry(action, actor, **details)
    audit_event = AuditEvent(**values)
    db.session.add(audit_event)
    _log_after_commit([values])
    return audit_event


def record_many(entries: list[dict]) -> None:
    """Write many events made by `entry` in one statement (bulk changes, imports)."""
    if entries:
        db.session.execute(insert(AuditEvent), entries)
        _log_after_commit(entries)


def _log_after_commit(entries: list[dict]) -> None:
    db.session().info.setdefault(_PENDING, []).extend(entries)


@event.listens_for(db.session, "after_commit")
def _log_committed(session) -> None:
    pending = session.info.pop(_PENDING, [])
    if pending:
        with force_locale(DEFAULT_LANGUAGE):  # what the system said (wording.say), in English words, not JSON
            for values in pending:
                log.info(_line(values))


@event.listens_for(db.session, "after_soft_rollback")
def _forget_rolled_back(session, _previous_transaction) -> None:
    session.info.pop(_PENDING, None)


def _line(values: dict) -> str:
    """One event as `key=value` pairs; `at` is the line's own UTC time, the ids and text escaped."""
    return logs.pairs(
        event="audit",
        action=values["action"],
        at=values["at"].strftime("%Y-%m-%dT%H:%M:%SZ"),  # stored in UTC
        actor=values["actor_label"],
        actor_id=values["actor_id"] or "-",
        student_id=values["student_id"] or "-",
        office_id=values["office_id"] or "-",
        subject=values["subject"],
        before=wording.read(values["from_value"]),
        after=wording.read(values["to_value"]),
        reason=wording.read(values["reason"]),
    )
