"""Which steps apply to a student, and each step's status as people see it (docs/RULES.md, rule 4).

Each rule is here once in Python and once in SQL, side by side (tests/test_rule_twins.py proves
they agree):

- a step applies to a cohort: `step_applies` / `applies_clause` (naming no cohort means every cohort)
- an open hold of the step's office blocks it: `shown_state` / `shown_clause` (`held_clause`)
- a student is complete when every applicable step is cleared: `is_complete` / `complete_clause`
- a step's prerequisites not yet cleared (one that does not apply counts as met):
  `missing_prerequisites` / `missing_prerequisites_clause`; ready (pending, none missing): `StepView.is_ready` /
  `ready_clause`
- an office's steps in force: `active_steps` (in SQL, part of `applies_clause`)

`checklists` builds the views of many students in a few queries; the checklist, the office pages,
the bulk tools and the desk all read them from here.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, case, exists, false, func, literal, or_, select, true
from sqlalchemy.orm import aliased, selectinload
from sqlalchemy.sql.elements import ColumnElement

from database import db
from languages import CHINESE as CHINESE_LANGUAGE
from languages import DEFAULT as DEFAULT_LANGUAGE
from localized import localized
from models import (
    ActorKind,
    Hold,
    Office,
    Step,
    StepMode,
    StepState,
    StepStatus,
    Student,
    step_cohorts,
    step_prerequisites,
)

SCHOOL_OFFICE = "SCHOOL"  # the standard office that stands for each student's own school
LIBRARY_OFFICE = "LIB"  # its self-service step is the library card the student cancels (rule 3)
CHUNK = 5000  # stays under every database's limit on bound parameters


def chunks(ids: Iterable) -> Iterable[list]:
    """The items in lists of at most CHUNK, for `IN (...)` clauses."""
    ids = list(ids)
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


# --- What applies ---------------------------------------------------------------------------------


def step_applies(step: Step, cohort_id: int) -> bool:
    """Whether a step is in force for a cohort: not retired, and naming that cohort or none."""
    return not step.retired and (not step.cohorts or any(c.id == cohort_id for c in step.cohorts))


def applies_clause(step: Step | type[Step] = Step, cohort_id=Student.cohort_id) -> ColumnElement[bool]:
    """`step_applies` in SQL: for the Step column (or an alias) in a query with Step and Student, or for one step."""
    if isinstance(step, Step):
        if step.retired:
            return false()
        step_id, in_force = step.id, true()
    else:
        step_id, in_force = step.id, step.retired.is_(False)
    # correlate_except: the step and the student come from the enclosing query, at whatever depth.
    names_any = exists().where(step_cohorts.c.step_id == step_id).correlate_except(step_cohorts)
    names_cohort = (
        exists()
        .where(step_cohorts.c.step_id == step_id, step_cohorts.c.cohort_id == cohort_id)
        .correlate_except(step_cohorts)
    )
    return and_(in_force, or_(~names_any, names_cohort))


def cohorts_clause(cohort_ids: Sequence[int]) -> ColumnElement[bool]:
    """Students of these cohorts, or of every cohort when none is named (a step's cohorts before it is saved)."""
    return Student.cohort_id.in_(list(cohort_ids)) if cohort_ids else Student.id.is_not(None)


def active_steps(office: Office) -> list[Step]:
    """The office's steps in force, in order (in SQL: `Step.retired.is_(False)`)."""
    return [step for step in office.steps if not step.retired]


def every_active_step() -> list[Step]:
    """Every step in force, in order, with what the rules read of it loaded up front."""
    query = (
        select(Step)
        .where(Step.retired.is_(False))
        .order_by(Step.position, Step.id)
        .options(selectinload(Step.cohorts), selectinload(Step.prerequisites), selectinload(Step.office))
    )
    return list(db.session.scalars(query))


# --- How a step shows -----------------------------------------------------------------------------


class Shown(enum.StrEnum):
    """A step's status as people see it: holds block whatever is recorded."""

    CLEARED = "cleared"
    PENDING = "pending"
    BLOCKED = "blocked"


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


def held_clause(office_id=Step.office_id, student_id=Student.id) -> ColumnElement[bool]:
    """The student has an open hold of the office (the step's office by default)."""
    return (
        exists()
        .where(Hold.student_id == student_id, Hold.office_id == office_id, Hold.released_at.is_(None))
        .correlate_except(Hold)
    )


def shown_clause(office_id=Step.office_id, status=StepStatus) -> ColumnElement[str]:
    """`shown_state` in SQL, over a query joined to Student and (outer) to StepStatus (or `status`, an alias)."""
    return case(
        (held_clause(office_id), Shown.BLOCKED.value),
        (status.state == StepState.CLEARED, Shown.CLEARED.value),
        (status.state == StepState.BLOCKED, Shown.BLOCKED.value),
        else_=Shown.PENDING.value,
    )


def step_pairs(where: Sequence[ColumnElement[bool]] = ()) -> Select:
    """One row per student and applicable step: ids, the shown status, and when it was last changed."""
    return (
        select(
            Student.id.label("student_id"),
            Step.id.label("step_id"),
            shown_clause().label("shown"),
            StepStatus.changed_at.label("changed_at"),
        )
        .select_from(Student)
        .join(Step, applies_clause())
        .outerjoin(StepStatus, and_(StepStatus.student_id == Student.id, StepStatus.step_id == Step.id))
        .where(*where)
    )


# --- Complete: every applicable step cleared --------------------------------------------------------


def is_complete(views: list[StepView]) -> bool:
    """Every applicable step is cleared (a student to whom nothing applies is complete)."""
    return all(view.shown == Shown.CLEARED for view in views)


def complete_clause() -> ColumnElement[bool]:
    """`is_complete` in SQL, in a query over Student: no applicable step of the student is not cleared."""
    uncleared = (
        select(Step.id)
        .outerjoin(StepStatus, and_(StepStatus.step_id == Step.id, StepStatus.student_id == Student.id))
        .where(applies_clause(), shown_clause() != Shown.CLEARED.value)
        .correlate(Student)
    )
    return ~uncleared.exists()


def completeness(student_ids: Iterable[int]) -> dict[int, bool]:
    """Whether each of these students is complete, in one query a chunk."""
    result: dict[int, bool] = {}
    for ids in chunks(student_ids):
        query = select(Student.id, complete_clause()).where(Student.id.in_(ids))
        result.update({sid: bool(done) for sid, done in db.session.execute(query)})
    return result


# --- Prerequisites: which of a step's prerequisites are not yet cleared --------------------------------


def missing_prerequisites(step: Step, views: dict[int, StepView]) -> list[Step]:
    """The step's prerequisites not cleared, given the student's views by step id (all that apply to them).

    A prerequisite that does not apply to the student (other cohort, retired) has no view: it counts as met.
    """
    uncleared = {step_id for step_id, view in views.items() if view.shown != Shown.CLEARED}
    return [required for required in step.prerequisites if required.id in uncleared]


def missing_prerequisites_clause(step: Step | type[Step] = Step) -> ColumnElement[int]:
    """`missing_prerequisites` in SQL, counted: for the Step column (a query that has Step and Student), or one step."""
    if isinstance(step, Step) and not step.prerequisites:
        return literal(0)  # most steps: no subquery at all
    return _uncleared_prerequisites(step, counted=True).scalar_subquery()


def _uncleared_prerequisites(step: Step | type[Step], counted: bool) -> Select:
    """The step's prerequisites that apply to the student and are not cleared: their count, or their ids."""
    required, status = aliased(Step), aliased(StepStatus)
    if isinstance(step, Step):
        named = required.id.in_([prerequisite.id for prerequisite in step.prerequisites])
    else:
        named = (
            exists()
            .where(step_prerequisites.c.step_id == step.id, step_prerequisites.c.required_step_id == required.id)
            .correlate_except(step_prerequisites)  # the step from the enclosing query, two levels up
        )
    return (
        select(func.count() if counted else required.id)
        .select_from(required)
        .outerjoin(status, and_(status.step_id == required.id, status.student_id == Student.id))
        .where(named, applies_clause(required), shown_clause(required.office_id, status) != Shown.CLEARED.value)
        .correlate_except(required, status)
    )


def ready_clause(step: Step) -> ColumnElement[bool]:
    """`StepView.is_ready` in SQL for one step (no missing prerequisite: the count above is 0, asked as NOT EXISTS,
    which stops at the first), over a query joined to Student and (outer) to the step's StepStatus."""
    pending = shown_clause(step.office_id) == Shown.PENDING.value
    if not step.prerequisites:
        return pending
    return and_(pending, ~_uncleared_prerequisites(step, counted=False).exists())


# --- The views the pages show ---------------------------------------------------------------------


@dataclass
class StepView:
    """Everything the checklist and the office pages show about one step for one student.

    The `can_*` and `is_*` properties are the decisions templates show; they never decide themselves.
    """

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

    @property
    def is_self_service(self) -> bool:
        return self.step.mode == StepMode.SELF_SERVICE

    @property
    def is_automatic(self) -> bool:
        return self.step.mode == StepMode.AUTOMATIC

    @property
    def is_library_card(self) -> bool:
        """The library card that the student cancels with one button (rule 3)."""
        return self.is_self_service and self.step.office.code == LIBRARY_OFFICE

    @property
    def student_can_clear(self) -> bool:
        """The student may clear it with a button now: self-service, nothing holds or blocks it, nothing first."""
        return self.is_self_service and self.shown == Shown.PENDING and not self.missing_prerequisites

    @property
    def office_can_clear(self) -> bool:
        """The office's Clear button shows: ready (every prerequisite cleared), and not a step the system clears."""
        return self.is_ready and not self.is_automatic

    @property
    def is_ready(self) -> bool:
        """Pending, and every prerequisite cleared: the office can act now (in SQL: `ready_clause`)."""
        return self.shown == Shown.PENDING and not self.missing_prerequisites

    @property
    def office_status(self) -> str:
        """The status an office sees: a pending step that has prerequisites is "ready" or "waiting-for-others"."""
        if self.shown == Shown.PENDING and self.step.prerequisites:
            return "ready" if self.is_ready else "waiting-for-others"
        return self.shown.value

    @property
    def office_can_block(self) -> bool:
        return not self.staff_block_reason

    @property
    def office_can_reopen(self) -> bool:
        """Cleared or blocked as recorded; a cleared automatic step is not reopened (a hold is placed instead)."""
        state = self.recorded.state if self.recorded else StepState.PENDING
        return state != StepState.PENDING and not (self.is_automatic and state == StepState.CLEARED)

    @property
    def how_cleared(self) -> str:
        """Who clears this step, in words for the office."""
        return str(
            {
                StepMode.SELF_SERVICE: _l("The student or the office clears it"),
                StepMode.STAFF: _l("The office clears it"),
                StepMode.AUTOMATIC: _l("The system clears it when nothing is held"),
            }[self.step.mode]
        )


MODE_LABELS = {
    StepMode.SELF_SERVICE: _l("self-service"),
    StepMode.STAFF: _l("staff"),
    StepMode.AUTOMATIC: _l("automatic"),
}


def mode_label(mode: StepMode) -> str:
    """A step's mode in a word, for the admin's list of steps."""
    return str(MODE_LABELS[mode])


def checklists(students: Sequence[Student], of_steps: Sequence[Step] | None = None) -> dict[int, list[StepView]]:
    """Every applicable step of each student, with status, holds and unmet prerequisites, in a few queries.

    `of_steps` limits the views to some steps (give a step's prerequisites with it, to see them met).
    """
    steps = every_active_step() if of_steps is None else [step for step in of_steps if not step.retired]
    recorded: dict[tuple[int, int], StepStatus] = {}
    holds: dict[tuple[int, int], list[Hold]] = {}
    for ids in chunks(s.id for s in students):
        statuses = select(StepStatus).where(StepStatus.student_id.in_(ids)).options(selectinload(StepStatus.actor))
        if of_steps is not None:
            statuses = statuses.where(StepStatus.step_id.in_([step.id for step in steps]))
        recorded.update({(r.student_id, r.step_id): r for r in db.session.scalars(statuses)})
        open_ = select(Hold).where(Hold.student_id.in_(ids), Hold.released_at.is_(None)).order_by(Hold.placed_at)
        for hold in db.session.scalars(open_):
            holds.setdefault((hold.student_id, hold.office_id), []).append(hold)
    return {student.id: _views_of(student, steps, recorded, holds) for student in students}


def _views_of(student: Student, steps: list[Step], recorded: dict, holds: dict) -> list[StepView]:
    views: dict[int, StepView] = {}
    for step in steps:
        if step_applies(step, student.cohort_id):
            held = holds.get((student.id, step.office_id), [])
            status = recorded.get((student.id, step.id))
            views[step.id] = StepView(step, shown_state(status, held), status, held)
    for view in views.values():
        view.missing_prerequisites = missing_prerequisites(view.step, views)
    return list(views.values())


def checklist(student: Student) -> list[StepView]:
    """Every step that applies to the student, with its status, holds and unmet prerequisites."""
    return checklists([student])[student.id]


def step_view(student: Student, step: Step) -> StepView | None:
    """One applicable step's view for a student; None when the step does not apply to them."""
    return next((view for view in checklist(student) if view.step.id == step.id), None)


def next_step(views: list[StepView]) -> StepView | None:
    """The step to do next: the first one not cleared whose prerequisites are met (else the first not cleared)."""
    open_steps = [view for view in views if view.shown != Shown.CLEARED]
    ready = [view for view in open_steps if not view.missing_prerequisites]
    return (ready or open_steps or [None])[0]


def office_title(office, student: Student | None = None) -> str:
    """The office's name in the reader's language; the student's own school office is named after their school."""
    if office.code == SCHOOL_OFFICE and student is not None:
        return _("%(school)s office", school=localized(student.school, "name"))
    return localized(office, "name")


def office_twins(office, student: Student | None = None) -> tuple[str, str]:
    """The office's (English, Chinese) names, as `office_title` gives them: for the form's both languages."""
    with force_locale(DEFAULT_LANGUAGE):
        english = office_title(office, student)
    with force_locale(CHINESE_LANGUAGE):
        chinese = office_title(office, student) if office.name_zh or office.code == SCHOOL_OFFICE else ""
    return english, chinese


def self_service_ready(views: list[StepView]) -> list[StepView]:
    """The self-service steps the student can clear with a button right now (nothing holds or blocks them)."""
    return [view for view in views if view.student_can_clear]
