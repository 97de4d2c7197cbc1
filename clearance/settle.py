"""The unit of work: before any commit, the touched students' automatic steps and form versions are settled.

Rule 5 says a form version exists exactly while every applicable step is cleared, however that
came about; rule 4 says an automatic step is cleared whenever nothing is held. Callers do not have
to remember either: whatever a transaction changed — a status, a hold, a student's cohort, a step's
office, mode, cohorts or retirement, through the ORM or through the set-based writers in
clearance.changes — marks the students concerned, and one `before_commit` hook settles them all
once, in the same transaction. Savepoints (`begin_nested`) are not settled on their own: the
outer commit settles everything.

`touch` lets a writer say why (the reason a voided form shows); a change caught only by the flush
hook gets a reason in general words.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from database import db
from models import Account, Hold, Step, StepState, StepStatus, Student
from wording import say, twin

PENDING = "clearance.touched"
WATCHED_STEP_FIELDS = ("office_id", "mode", "retired", "cohorts")


Reason = tuple[Account | None, str]


@dataclass
class Touched:
    """The students to settle, with the first reason (and person) given for each.

    A reason a writer gave (`given`) wins over one the flush hook noticed in general words.
    """

    given: dict[int, Reason] = field(default_factory=dict)
    noticed: dict[int, Reason] = field(default_factory=dict)
    cohorts: list[tuple[set[int] | None, Reason, bool]] = field(default_factory=list)  # None: every cohort

    def add(self, student_ids: Iterable[int], why: str, actor: Account | None, given: bool = True) -> None:
        reasons = self.given if given else self.noticed
        for student_id in student_ids:
            reasons.setdefault(student_id, (actor, why))

    def reasons(self) -> dict[int, Reason]:
        return self.noticed | self.given


def _pending(session: Session) -> Touched:
    return session.info.setdefault(PENDING, Touched())


def touch(student_ids: Iterable[int], why: str, actor: Account | None = None) -> None:
    """Mark students whose automatic steps and form must be settled before this transaction commits."""
    _pending(db.session()).add(student_ids, why, actor)


def touch_cohorts(cohort_ids: set[int] | None, why: str, actor: Account | None = None) -> None:
    """Mark every student of these cohorts (None: of every cohort), e.g. when a step's cohorts change."""
    _pending(db.session()).cohorts.append((cohort_ids, (actor, why), True))


@event.listens_for(db.session, "after_flush")
def _note_flushed_changes(session: Session, _context) -> None:
    """Mark the students whose rules a flushed ORM change may have changed."""
    touched = None
    for obj in [*session.new, *session.dirty, *session.deleted]:
        if isinstance(obj, StepStatus | Hold):
            touched = touched or _pending(session)
            touched.add([obj.student_id], _general_reason(obj), None, given=False)
        elif isinstance(obj, Student) and (obj in session.new or inspect(obj).attrs.cohort_id.history.has_changes()):
            touched = touched or _pending(session)
            touched.add([obj.id], say("the student's cohort changed"), None, given=False)
        elif isinstance(obj, Step):
            _note_step_change(session, obj)


def _general_reason(obj: StepStatus | Hold) -> str:
    if isinstance(obj, Hold) and obj.released_at:
        return say("hold released: %(reason)s", reason=obj.reason)
    if isinstance(obj, Hold):
        return say("hold placed: %(reason)s", reason=obj.reason)
    return {
        StepState.CLEARED: say("a step was cleared"),
        StepState.BLOCKED: say("a step was blocked"),
    }.get(obj.state) or say("a step returned to pending")


def _note_step_change(session: Session, step: Step) -> None:
    """A new step, or one whose office, mode, cohorts or retirement changed: its students before and after."""
    state = inspect(step)
    changed = step in session.new or any(state.attrs[name].history.has_changes() for name in WATCHED_STEP_FIELDS)
    if not changed:
        return
    history = state.attrs.cohorts.history
    before = {c.id for c in [*history.unchanged, *history.deleted]}
    after = {c.id for c in [*history.unchanged, *history.added]}
    if step in session.new:
        before = after
    scope = None if not before or not after else before | after  # naming none means every cohort
    _pending(session).cohorts.append(
        (scope, (None, say("step %(step)s changed", step=twin(step.title_en, step.title_zh))), False)
    )


@event.listens_for(db.session, "before_commit")
def _settle_before_commit(session: Session) -> None:
    """Settle every touched student once, inside the (outermost) transaction being committed."""
    if session.in_nested_transaction():  # releasing a savepoint: the outer commit settles
        return
    if session.new or session.dirty or session.deleted:
        session.flush()  # changes still in the session mark their students too
    touched: Touched | None = session.info.get(PENDING)
    if touched is None:
        return
    for cohort_ids, (actor, why), given in touched.cohorts:
        query = select(Student.id)
        if cohort_ids is not None:
            query = query.where(Student.cohort_id.in_(sorted(cohort_ids)))
        touched.add(session.scalars(query), why, actor, given)
    touched.cohorts.clear()
    settle(touched.reasons())
    # Only once settled: a settle that failed leaves the marks, so no later commit goes unsettled.
    session.info.pop(PENDING, None)


@event.listens_for(db.session, "after_transaction_end")
def _forget_on_end(session: Session, transaction) -> None:
    if transaction.parent is None:  # committed (settled) or rolled back: nothing left to settle
        session.info.pop(PENDING, None)


def lock_students(student_ids: Iterable[int]) -> None:
    """Row-lock students in one order (sorted), so two transactions never wait for each other (PostgreSQL).

    FOR NO KEY UPDATE: inserting a hold or a status (a foreign key to the student) does not wait for it.
    SQLite holds the whole database's write lock already and ignores this.
    """
    from clearance.status import chunks

    for ids in chunks(sorted(set(student_ids))):
        db.session.execute(select(Student.id).where(Student.id.in_(ids)).with_for_update(key_share=True))


def settle(reasons: dict[int, Reason]) -> None:
    """Reopen what a hold now holds, clear the due automatic steps, then issue or void the form versions."""
    # Imported here: these writers mark students themselves, so this module cannot import them first.
    from clearance.automatic import clear_due_automatic_steps
    from clearance.changes import reopen_held_steps
    from clearance.forms import settle_forms

    if reasons:
        lock_students(reasons)  # before any write, in one order
        reopen_held_steps(reasons)
        clear_due_automatic_steps(list(reasons))
        settle_forms(reasons)
