"""The university's rules as plain functions: which steps apply, each step's status, the window.

No request and no rendering here: views call these and show the result.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import insert, or_, select, update

from clock import today, utcnow
from database import db
from models import (
    ActorKind,
    AuditEvent,
    Cohort,
    Hold,
    Step,
    StepMode,
    StepState,
    StepStatus,
    Student,
    step_cohorts,
)

# --- The window (rule 6) -------------------------------------------------------


class Window(enum.StrEnum):
    NOT_YET_OPEN = "not-yet-open"
    OPEN = "open"
    CLOSED = "closed"


def window_closes_on(student: Student) -> date:
    """The last day the student may use the system: the cohort's, or a later extension."""
    closes = student.cohort.closes_on
    extended = student.window_extended_until
    return max(closes, extended) if extended else closes


def window_state(student: Student, on: date | None = None) -> Window:
    """Whether the student's window (inclusive, university time) is open on a day, by default today."""
    on = on or today()
    if on < student.cohort.opens_on:
        return Window.NOT_YET_OPEN
    if on > window_closes_on(student):
        return Window.CLOSED
    return Window.OPEN


def current_cohorts(on: date | None = None) -> list[Cohort]:
    """Cohorts whose window has not yet closed, soonest first (shown on the login page)."""
    on = on or today()
    query = select(Cohort).where(Cohort.closes_on >= on).order_by(Cohort.opens_on, Cohort.code)
    return list(db.session.scalars(query))


# --- Which steps apply, and their status (rule 4) ---------------------------


def applicable_steps(student: Student) -> list[Step]:
    """Steps in force for the student's cohort (naming none means all cohorts), in order."""
    names_cohort = select(step_cohorts.c.step_id).where(step_cohorts.c.cohort_id == student.cohort_id)
    names_any = select(step_cohorts.c.step_id)
    query = (
        select(Step)
        .where(Step.retired.is_(False))
        .where(or_(Step.id.in_(names_cohort), Step.id.not_in(names_any)))
        .order_by(Step.position, Step.id)
    )
    return list(db.session.scalars(query))


def step_applies(step: Step, cohort_id: int) -> bool:
    """Whether a step is in force for a cohort."""
    return not step.retired and (not step.cohorts or any(c.id == cohort_id for c in step.cohorts))


def open_holds(student: Student, office_id: int | None = None) -> list[Hold]:
    """The student's unreleased holds, of one office or all."""
    query = select(Hold).where(Hold.student_id == student.id, Hold.released_at.is_(None))
    if office_id is not None:
        query = query.where(Hold.office_id == office_id)
    return list(db.session.scalars(query.order_by(Hold.placed_at)))


class Shown(enum.StrEnum):
    """A step's status as people see it: holds block whatever is recorded."""

    CLEARED = "cleared"
    PENDING = "pending"
    BLOCKED = "blocked"


@dataclass
class StepView:
    """Everything the checklist and the office pages show about one step for one student."""

    step: Step
    shown: Shown
    recorded: StepStatus | None
    holds: list[Hold] = field(default_factory=list)
    missing_prerequisites: list[Step] = field(default_factory=list)

    @property
    def staff_block_reason(self) -> str:
        recorded = self.recorded
        return recorded.reason if recorded and recorded.state == StepState.BLOCKED else ""

    @property
    def cleared_at(self) -> datetime | None:
        recorded = self.recorded
        return recorded.changed_at if recorded and recorded.state == StepState.CLEARED else None

    @property
    def cleared_by_kind(self) -> ActorKind | None:
        recorded = self.recorded
        return recorded.actor_kind if recorded and recorded.state == StepState.CLEARED else None


def shown_state(recorded: StepStatus | None, holds: list[Hold]) -> Shown:
    """An open hold blocks the step; otherwise what was recorded (nothing recorded is pending)."""
    if holds:
        return Shown.BLOCKED
    if recorded is None or recorded.state == StepState.PENDING:
        return Shown.PENDING
    return Shown.CLEARED if recorded.state == StepState.CLEARED else Shown.BLOCKED


def checklist(student: Student) -> list[StepView]:
    """Every step that applies to the student, with its status, holds and unmet prerequisites."""
    steps = applicable_steps(student)
    recorded = {
        status.step_id: status
        for status in db.session.scalars(select(StepStatus).where(StepStatus.student_id == student.id))
    }
    holds_by_office: dict[int, list[Hold]] = {}
    for hold in open_holds(student):
        holds_by_office.setdefault(hold.office_id, []).append(hold)
    views = {
        step.id: StepView(step, shown_state(recorded.get(step.id), holds_by_office.get(step.office_id, [])),
                          recorded.get(step.id), holds_by_office.get(step.office_id, []))
        for step in steps
    }
    for view in views.values():
        view.missing_prerequisites = [
            required
            for required in view.step.prerequisites
            if required.id in views and views[required.id].shown != Shown.CLEARED
        ]
    return list(views.values())


# --- Automatic steps (rule 4) ---------------------------------------------------


def refresh_students(student_ids: list[int]) -> int:
    """Clear (as the system) every automatic step of these students that no open hold blocks.

    Set-based, so an import of thousands of students stays fast. Returns how many were cleared.
    """
    if not student_ids:
        return 0
    wanted = set(student_ids)
    cohort_of = dict(db.session.execute(select(Student.id, Student.cohort_id).where(Student.id.in_(wanted))).all())
    steps = db.session.scalars(select(Step).where(Step.mode == StepMode.AUTOMATIC, Step.retired.is_(False))).all()
    now = utcnow()
    cleared = 0
    for step in steps:
        held = set(db.session.scalars(select(Hold.student_id).where(
            Hold.office_id == step.office_id, Hold.released_at.is_(None))))
        recorded = dict(db.session.execute(select(StepStatus.student_id, StepStatus.state).where(
            StepStatus.step_id == step.id)).all())
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
