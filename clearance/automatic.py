"""Automatic steps (rule 4): cleared by the system whenever the student has no open hold of the office.

The unit of work (clearance.settle) runs this for every student a transaction touched: at import,
when a step's mode is switched to automatic, when a hold is released, when a student is added.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from clearance.changes import record_states
from clearance.settle import settle
from clearance.status import Shown, chunks, step_pairs
from database import db
from models import Account, ActorKind, Step, StepMode, StepState, Student
from wording import say

AUTOMATIC_REASON = say("automatic: no open hold")


def clear_due_automatic_steps(student_ids: Iterable[int]) -> int:
    """Clear, as the system, the applicable automatic steps that nothing holds or blocks. Returns how many."""
    due: list[tuple[int, Step]] = []
    for ids in chunks(student_ids):
        pairs = step_pairs([Student.id.in_(ids), Step.mode == StepMode.AUTOMATIC]).subquery()
        query = (
            select(pairs.c.student_id, Step)
            .join(Step, Step.id == pairs.c.step_id)
            .where(pairs.c.shown == Shown.PENDING.value)
        )
        due += db.session.execute(query).all()
    by_step: dict[int, list[tuple[int, Step]]] = {}
    for student_id, step in due:
        by_step.setdefault(step.id, []).append((student_id, step))
    for pairs in by_step.values():
        record_states(pairs, StepState.CLEARED, None, ActorKind.SYSTEM, AUTOMATIC_REASON, "step.cleared", settle=False)
    return len(due)


def refresh_students(student_ids: Iterable[int], why: str = "students refreshed", actor: Account | None = None) -> None:
    """Settle these students' automatic steps and forms now, not only at commit (tests, scripts)."""
    settle(dict.fromkeys(student_ids, (actor, why)))
