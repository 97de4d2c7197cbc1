"""Writing audit events. Call inside the transaction of the change it records."""

from __future__ import annotations

from database import db
from models import Account, AuditEvent


def record(
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
) -> AuditEvent:
    """Add one audit event to the session; `actor` None means the system."""
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        actor_label=actor_label or (actor.username if actor else "system"),
        action=action,
        student_id=student_id,
        office_id=office_id,
        subject=subject[:200],
        from_value="" if before is None else str(before),
        to_value="" if after is None else str(after),
        reason=reason,
    )
    db.session.add(event)
    return event
