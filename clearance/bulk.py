"""An office's work on many students at once: clearing a list of IDs, and placing holds from a list.

Both are read first and write nothing (the preview), then read again with the students locked and
written in the caller's one transaction (the confirm). The lists arrive parsed (reading.py reads
the files): these are the rules applied to them. Each ID is judged by the same checks as one
student's Clear (`changes.refuse_unless_may_clear`) on the same views (`status.checklists`), and
written by the same set-based writers (`record_states`, `place_holds`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

import audit
from clearance.amounts import parse_amount
from clearance.changes import NewHold, place_holds, record_states, refuse_unless_may_clear, require_reason
from clearance.permissions import scope_students
from clearance.refused import Refused, RowError
from clearance.settle import lock_students
from clearance.stakes import Stake, stakes_of
from clearance.status import Shown, StepView, active_steps, checklist, checklists, chunks, step_applies
from database import db
from models import Account, ActorKind, Hold, HoldSource, Office, Step, StepState, Student
from wording import say


def _students_by_number(numbers: Iterable[str]) -> dict[str, Student]:
    found: dict[str, Student] = {}
    for part in chunks(numbers):
        found.update({s.student_id: s for s in db.session.scalars(select(Student).where(Student.student_id.in_(part)))})
    return found


def _visible(students: Iterable[Student], account: Account) -> set[int]:
    """Which of these students the account may see (its school, if it names one)."""
    visible: set[int] = set()
    for part in chunks(s.id for s in students):
        visible.update(db.session.scalars(scope_students(select(Student.id).where(Student.id.in_(part)), account)))
    return visible


# --- Clearing many -------------------------------------------------------------------------------


class Outcome(enum.StrEnum):
    CLEARED = "cleared"  # in a preview: would be cleared
    ALREADY_CLEARED = "already-cleared"
    NOT_FOUND = "not-found"
    NOT_IN_SCOPE = "not-in-scope"
    REFUSED = "refused"


class Why(enum.StrEnum):
    """Why an ID is not in scope or is refused."""

    NONE = ""
    OTHER_SCHOOL = "other-school"
    NOT_APPLICABLE = "not-applicable"
    HOLD = "hold"
    PREREQUISITE = "prerequisite"
    STAFF_BLOCK = "staff-block"
    AUTOMATIC = "automatic"
    OTHER = "other"


@dataclass
class Entry:
    """What happens (or would happen) to one ID; `name` is kept as text so a result renders without queries."""

    student_no: str
    outcome: Outcome
    why: Why = Why.NONE
    reason: str = ""
    name: str = ""
    student: Student | None = field(default=None, repr=False)


@dataclass
class BulkClear:
    step: Step
    entries: list[Entry]
    repeated: int = 0

    def grouped(self) -> dict[Outcome, list[Entry]]:
        """The entries by outcome, every outcome present, in the order of `Outcome`."""
        groups: dict[Outcome, list[Entry]] = {outcome: [] for outcome in Outcome}
        for entry in self.entries:
            groups[entry.outcome].append(entry)
        return groups


def diagnose(view: StepView, student: Student, actor: Account) -> Entry:
    """What clearing this view would do: `clear_step`'s own checks, in its order, with its message."""
    entry = Entry(student.student_id, Outcome.CLEARED, name=student.name, student=student)
    try:
        refuse_unless_may_clear(view, actor, student)
    except Refused as refused:
        entry.outcome, entry.reason = Outcome.REFUSED, str(refused)
        entry.why = (
            Why.AUTOMATIC
            if view.is_automatic
            else Why.HOLD
            if view.holds
            else Why.STAFF_BLOCK
            if view.staff_block_reason
            else Why.PREREQUISITE
            if view.missing_prerequisites
            else Why.OTHER
        )
        return entry
    if view.shown == Shown.CLEARED:
        entry.outcome = Outcome.ALREADY_CLEARED
    return entry


def plan_bulk_clear(numbers: list[str], step: Step, account: Account, repeated: int = 0) -> BulkClear:
    """What clearing the step for each of these IDs would do, ID by ID. Writes nothing."""
    found = _students_by_number(numbers)
    visible = _visible(found.values(), account)
    in_scope = [s for s in found.values() if s.id in visible and step_applies(step, s.cohort_id)]
    views = {
        sid: next(v for v in rows if v.step.id == step.id)
        for sid, rows in checklists(in_scope, of_steps=[step, *step.prerequisites]).items()
    }
    entries = []
    for number in numbers:
        student = found.get(number)
        if student is None:
            entries.append(Entry(number, Outcome.NOT_FOUND))
        elif student.id not in visible:
            entries.append(Entry(number, Outcome.NOT_IN_SCOPE, Why.OTHER_SCHOOL, _("not a student of your school")))
        elif student.id not in views:
            entries.append(
                Entry(
                    number,
                    Outcome.NOT_IN_SCOPE,
                    Why.NOT_APPLICABLE,
                    _("this step does not apply to their cohort (%(cohort)s)", cohort=student.cohort.code),
                    student.name,
                )
            )
        else:
            entries.append(diagnose(views[student.id], student, account))
    return BulkClear(step, entries, repeated)


def clear_many(numbers: list[str], step: Step, actor: Account, repeated: int = 0) -> BulkClear:
    """Clear the step for every ID that may be cleared, in the caller's write transaction; the result, ID by ID.

    The students are locked first (row locks on PostgreSQL; SQLite holds the write lock), then
    judged again, so the result says what was done, not what the preview predicted.
    """
    found = _students_by_number(numbers)
    lock_students(s.id for s in found.values())
    plan = plan_bulk_clear(numbers, step, actor, repeated)
    due = [(entry.student.id, step) for entry in plan.entries if entry.outcome == Outcome.CLEARED]
    record_states(due, StepState.CLEARED, actor, ActorKind.STAFF, "", "step.cleared")
    return plan


def office_step_views(student: Student, office: Office, actor: Account) -> list[tuple[StepView, Entry]]:
    """The office's steps that apply to one student, each with what clearing it would do (the counter)."""
    return [(view, diagnose(view, student, actor)) for view in checklist(student) if view.step.office_id == office.id]


# --- Hold lists --------------------------------------------------------------------------------------


@dataclass
class HoldRow:
    line: int
    student: Student
    amount: Decimal | None
    reason: str
    applies: bool  # whether a step of the office applies to the student; the hold is placed either way
    stake: Stake | None = None  # the form it would void, the hand-over it follows (clearance.stakes)


@dataclass
class HoldList:
    """What a hold list would place; `errors` non-empty means nothing may be placed."""

    rows: list[HoldRow] = field(default_factory=list)
    already_held: list[HoldRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def total(self) -> Decimal:
        return sum((row.amount or Decimal(0) for row in self.rows), Decimal(0))

    @property
    def voiding(self) -> list[HoldRow]:
        """The rows whose hold would void the student's current form."""
        return [row for row in self.rows if row.stake and row.stake.form]


def _hold_row_problems(
    values: dict[str, str], student: Student | None, visible: set[int], seen: dict[str, int]
) -> tuple[list[str], Decimal | None]:
    number = values.get("student_id", "")
    problems = []
    if not number:
        problems.append(_("student_id is empty"))
    elif number.lower() in seen:
        who = f"{number} ({student.name})" if student is not None and student.id in visible else number
        problems.append(_("student %(id)s is already on line %(line)d", id=who, line=seen[number.lower()]))
    elif student is None:
        problems.append(_("no student has the ID %(id)s", id=number))
    elif student.id not in visible:
        problems.append(_("%(id)s is not a student of your school", id=number))
    try:
        require_reason(values.get("reason"))
    except Refused as refused:
        problems.append(str(refused))
    try:
        amount = parse_amount(values.get("amount", ""))
    except Refused as refused:
        problems.append(str(refused))
        amount = None
    return problems, amount


def plan_hold_list(
    rows: list[tuple[int, dict[str, str]]],
    office: Office,
    account: Account,
    errors: Iterable[RowError] = (),
    ignored_columns: Iterable[str] = (),
) -> HoldList:
    """Check a hold list's rows (student_id, amount, reason), every problem with its line. Writes nothing."""
    plan = HoldList(errors=list(errors), ignored_columns=list(ignored_columns))
    found = _students_by_number(values.get("student_id", "") for _line, values in rows)
    visible = _visible(found.values(), account)
    held = set(
        db.session.execute(
            select(Hold.student_id, Hold.reason, Hold.amount).where(
                Hold.office_id == office.id, Hold.released_at.is_(None)
            )
        ).all()
    )
    steps = active_steps(office)
    seen: dict[str, int] = {}
    for line, values in rows:
        student = found.get(values.get("student_id", ""))
        problems, amount = _hold_row_problems(values, student, visible, seen)
        seen.setdefault(values.get("student_id", "").lower(), line)
        plan.errors.extend(RowError(line, problem) for problem in problems)
        if problems or student is None:
            continue
        row = HoldRow(line, student, amount, values["reason"], any(step_applies(s, student.cohort_id) for s in steps))
        (plan.already_held if (student.id, row.reason, amount) in held else plan.rows).append(row)
    plan.errors.sort(key=lambda error: error.line)
    stakes = stakes_of((row.student for row in plan.rows), office)
    for row in plan.rows:
        row.stake = stakes.get(row.student.id)
    return plan


def place_hold_list(plan: HoldList, office: Office, actor: Account, filename: str) -> int:
    """Place every hold of a checked list in the caller's transaction: all or nothing. Returns how many."""
    if not plan.ok:
        raise ValueError("a hold list with errors cannot be placed")
    placed = place_holds(
        [NewHold(row.student.id, row.reason, row.amount) for row in plan.rows], office, actor, HoldSource.LIST
    )
    audit.record(
        "hold.list-placed",
        actor,
        office_id=office.id,
        subject=filename,
        after=f"{len(placed)} holds, ¥{plan.total}",
        reason=say("%(n)d already held, not placed again", n=len(plan.already_held)),
    )
    return len(placed)
