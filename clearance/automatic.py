"""Automatic steps (rule 4): cleared by the system whenever the student has no open hold of the office.

This runs at import, when a step's mode is switched to automatic, and when a hold is released.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import insert, select, update

from clearance.forms import chunks, recheck_forms
from clearance.status import step_applies
from clock import utcnow
from database import db
from models import Account, ActorKind, AuditEvent, Hold, Step, StepMode, StepState, StepStatus, Student


def refresh_students(student_ids: Iterable[int], office_id: int | None = None, why: str = "",
                     actor: Account | None = None) -> int:
    """Clear (as the system) the pending automatic steps that no open hold blocks, then re-check forms.

    Set-based, so an import of thousands of students stays fast. Returns how many were cleared.
    """
    cleared = 0
    for ids in chunks(student_ids):
        cleared += _clear_automatic(ids, office_id)
        recheck_forms(ids, actor, why or "students refreshed")
    return cleared


def _clear_automatic(student_ids: list[int], office_id: int | None) -> int:
    cohort_of = dict(db.session.execute(select(Student.id, Student.cohort_id).where(Student.id.in_(student_ids))).all())
    query = select(Step).where(Step.mode == StepMode.AUTOMATIC, Step.retired.is_(False))
    if office_id is not None:
        query = query.where(Step.office_id == office_id)
    steps = db.session.scalars(query).all()
    now = utcnow()
    cleared = 0
    for step in steps:
        held = set(db.session.scalars(select(Hold.student_id).where(
            Hold.office_id == step.office_id, Hold.released_at.is_(None), Hold.student_id.in_(student_ids))))
        recorded = dict(db.session.execute(select(StepStatus.student_id, StepStatus.state).where(
            StepStatus.step_id == step.id, StepStatus.student_id.in_(student_ids))).all())
        due = [sid for sid, cohort_id in cohort_of.items()
               if step_applies(step, cohort_id) and sid not in held
               and recorded.get(sid, StepState.PENDING) == StepState.PENDING]
        if not due:
            continue
        pending_rows = [sid for sid in due if sid in recorded]
        if pending_rows:
            db.session.execute(update(StepStatus).where(StepStatus.step_id == step.id,
                                                        StepStatus.student_id.in_(pending_rows))
                               .values(state=StepState.CLEARED, actor_kind=ActorKind.SYSTEM, actor_id=None,
                                       reason="", changed_at=now))
        new_rows = [sid for sid in due if sid not in recorded]
        if new_rows:
            db.session.execute(insert(StepStatus), [
                {"student_id": sid, "step_id": step.id, "state": StepState.CLEARED, "reason": "",
                 "actor_kind": ActorKind.SYSTEM, "actor_id": None, "changed_at": now} for sid in new_rows])
        db.session.execute(insert(AuditEvent), [
            {"at": now, "actor_id": None, "actor_label": "system", "action": "step.cleared", "student_id": sid,
             "office_id": step.office_id, "subject": f"step:{step.id}", "from_value": "pending",
             "to_value": "cleared", "reason": "automatic: no open hold"} for sid in due])
        cleared += len(due)
    return cleared
