"""Which steps apply to a student, and each step's status as people see it (rule 4)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, exists, or_, select
from sqlalchemy.sql.elements import ColumnElement

from database import db
from models import ActorKind, Hold, Step, StepMode, StepState, StepStatus, Student, step_cohorts


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
    def reopen_reason(self) -> str:
        """Why the office (or a hold) returned a cleared step to pending, shown to the student."""
        recorded = self.recorded
        return recorded.reason if recorded and recorded.state == StepState.PENDING else ""

    @property
    def cleared_at(self) -> datetime | None:
        recorded = self.recorded
        return recorded.changed_at if recorded and recorded.state == StepState.CLEARED else None

    @property
    def cleared_by_kind(self) -> ActorKind | None:
        recorded = self.recorded
        return recorded.actor_kind if recorded and recorded.state == StepState.CLEARED else None


def counts_as_cleared(recorded_cleared: bool, held: bool) -> bool:
    """The one rule for "cleared": recorded as cleared, and no open hold of the step's office."""
    return recorded_cleared and not held


def shown_state(recorded: StepStatus | None, holds: list[Hold]) -> Shown:
    """An open hold blocks the step; otherwise what was recorded (nothing recorded is pending)."""
    if counts_as_cleared(recorded is not None and recorded.state == StepState.CLEARED, bool(holds)):
        return Shown.CLEARED
    if holds:
        return Shown.BLOCKED
    if recorded is None or recorded.state == StepState.PENDING:
        return Shown.PENDING
    return Shown.BLOCKED


def shown_state_sql(office_id) -> ColumnElement[str]:
    """`shown_state` in SQL, over a query joined to Student and (outer) to StepStatus.

    `office_id` is the step's office: a value for one step, or the Step.office_id column.
    """
    held = exists().where(Hold.student_id == Student.id, Hold.office_id == office_id, Hold.released_at.is_(None))
    return case(
        (held, Shown.BLOCKED.value),
        (StepStatus.state == StepState.CLEARED, Shown.CLEARED.value),
        (StepStatus.state == StepState.BLOCKED, Shown.BLOCKED.value),
        else_=Shown.PENDING.value,
    )


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




def next_step(views: list[StepView]) -> StepView | None:
    """The step to do next: the first one not cleared whose prerequisites are met (else the first not cleared)."""
    open_steps = [view for view in views if view.shown != Shown.CLEARED]
    ready = [view for view in open_steps if not view.missing_prerequisites]
    return (ready or open_steps or [None])[0]


def step_view(student: Student, step: Step) -> StepView | None:
    """One applicable step's view for a student; None when the step does not apply to them."""
    return next((view for view in checklist(student) if view.step.id == step.id), None)


SCHOOL_OFFICE = "SCHOOL"  # the standard office that stands for each student's own school


def office_title(office, student: Student | None = None) -> str:
    """The office's English name; the student's own school office is named after their school."""
    if office.code == SCHOOL_OFFICE and student is not None:
        return f"{student.school.name} office"
    return office.name_en


def self_service_ready(views: list[StepView]) -> list[StepView]:
    """The self-service steps the student can clear with a button right now (nothing holds or blocks them)."""
    return [view for view in views if view.step.mode == StepMode.SELF_SERVICE and view.shown == Shown.PENDING
            and not view.missing_prerequisites]
