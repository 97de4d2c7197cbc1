"""Writing audit events, one or many, in one format. Call inside the transaction of the change it records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert

from clock import utcnow
from database import db
from models import Account, AuditEvent


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
    event = AuditEvent(**entry(action, actor, **details))
    db.session.add(event)
    return event


def record_many(entries: list[dict]) -> None:
    """Write many events made by `entry` in one statement (bulk changes, imports)."""
    if entries:
        db.session.execute(insert(AuditEvent), entries)
