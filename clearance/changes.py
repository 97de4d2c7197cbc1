"""Changing a student's steps and holds: clear, block, reopen, place and release holds.

Each function checks who may do it, writes the change and its audit event, and re-checks
the student's form version, all in the caller's write transaction. A refusal raises
`Refused` with a message for the person, and changes nothing.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select, update

import audit
from clearance.automatic import refresh_students
from clearance.forms import recheck_forms
from clearance.permissions import acts_for_office, sees_student
from clearance.status import Shown, StepView, step_view
from clock import utcnow
from database import db
from models import (
    Account,
    ActorKind,
    AuditEvent,
    Hold,
    HoldSource,
    Office,
    Role,
    Step,
    StepMode,
    StepState,
    StepStatus,
    Student,
)


class Refused(Exception):
    """A change that the rules do not allow; str() is the message for the person."""


def lock_student(student: Student) -> None:
    """Serialise changes to one student across app servers (a row lock; SQLite already holds the write lock)."""
    db.session.execute(select(Student.id).where(Student.id == student.id).with_for_update())


def _require_office(actor: Account, student: Student, office_id: int) -> None:
    if not (acts_for_office(actor, office_id) and sees_student(actor, student)):
        raise Refused(_l("Your account does not act for this office or this student."))


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise Refused(_l("Give a reason: the student and the audit log will see it."))
    return reason


def _view(student: Student, step: Step) -> StepView:
    view = step_view(student, step)
    if view is None:
        raise Refused(_l("This step does not apply to this student."))
    return view


def _record(student: Student, step: Step, state: StepState, actor: Account | None, reason: str, action: str) -> None:
    """Write the step's new recorded state and its audit event."""
    status = db.session.scalar(select(StepStatus).where(StepStatus.student_id == student.id,
                                                        StepStatus.step_id == step.id))
    before = status.state.value if status else StepState.PENDING.value
    if status is None:
        status = StepStatus(student_id=student.id, step_id=step.id)
        db.session.add(status)
    status.state = state
    status.reason = reason
    status.actor_kind = _actor_kind(actor, student)
    status.actor_id = actor.id if actor else None
    status.changed_at = utcnow()
    audit.record(action, actor, student_id=student.id, office_id=step.office_id,
                 subject=f"step:{step.id} {step.title_en}", before=before, after=state.value, reason=reason)


def _actor_kind(actor: Account | None, student: Student) -> ActorKind:
    if actor is None:
        return ActorKind.SYSTEM
    return ActorKind.STUDENT if actor.id == student.account_id else ActorKind.STAFF


def clear_step(student: Student, step: Step, actor: Account, *, recheck: bool = True) -> bool:
    """Clear a step as the student (self-service) or the office; False when it was already cleared.

    `recheck=False` is for a caller that re-checks the forms of many students once, in the same
    transaction, after clearing them all (bulk clearing).
    """
    lock_student(student)
    view = _view(student, step)
    if actor.role == Role.STUDENT:
        if actor.id != student.account_id or step.mode != StepMode.SELF_SERVICE:
            raise Refused(_l("Only the office can clear this step."))
    else:
        _require_office(actor, student, step.office_id)
        if step.mode == StepMode.AUTOMATIC:
            raise Refused(_l("The system clears this step by itself when the office has no open hold."))
    if view.shown == Shown.CLEARED:
        return False
    refuse_unless_clearable(view)
    _record(student, step, StepState.CLEARED, actor, "", "step.cleared")
    if recheck:
        recheck_forms([student.id], actor, f"step {step.title_en} cleared")
    return True


def refuse_unless_clearable(view: StepView) -> None:
    if view.holds:
        owed = sum((hold.amount or Decimal(0)) for hold in view.holds)
        if owed:
            raise Refused(_l("Not cleared: %(office)s has an open hold (¥%(amount)s owed). Settle it at %(where)s.",
                             office=view.step.office.name_en, amount=owed, where=view.step.office.location))
        raise Refused(_l("Not cleared: %(office)s has an open hold: %(reason)s",
                         office=view.step.office.name_en, reason=view.holds[0].reason))
    if view.staff_block_reason:
        raise Refused(_l("This step is blocked (%(reason)s): reopen it first.", reason=view.staff_block_reason))
    if view.missing_prerequisites:
        names = ", ".join(step.title_en for step in view.missing_prerequisites)
        raise Refused(_l("Not cleared: these steps come first: %(steps)s.", steps=names))


def block_step(student: Student, step: Step, actor: Account, reason: str) -> None:
    """Block a step with a reason the student sees; it stays blocked until the office reopens it."""
    reason = _require_reason(reason)
    lock_student(student)
    _require_office(actor, student, step.office_id)
    view = _view(student, step)
    if view.staff_block_reason:
        raise Refused(_l("This step is already blocked."))
    _record(student, step, StepState.BLOCKED, actor, reason, "step.blocked")
    recheck_forms([student.id], actor, f"step {step.title_en} blocked: {reason}")


def reopen_step(student: Student, step: Step, actor: Account, reason: str) -> None:
    """Return a cleared or blocked step to pending (an automatic one is cleared again if nothing holds it)."""
    reason = _require_reason(reason)
    lock_student(student)
    _require_office(actor, student, step.office_id)
    view = _view(student, step)
    recorded = view.recorded.state if view.recorded else StepState.PENDING
    if recorded == StepState.PENDING:
        raise Refused(_l("This step is not cleared or blocked, so there is nothing to reopen."))
    if step.mode == StepMode.AUTOMATIC and recorded == StepState.CLEARED:
        raise Refused(_l("The system clears this step whenever nothing is held: place a hold instead."))
    _record(student, step, StepState.PENDING, actor, reason, "step.reopened")
    settle_automatic_steps(student, step.office_id, actor, f"step {step.title_en} reopened: {reason}")


def place_hold(student: Student, office: Office, actor: Account | None, reason: str, amount: Decimal | None,
               source: HoldSource = HoldSource.STAFF) -> Hold:
    """Place a hold: it blocks the office's steps, even cleared ones, which return to pending."""
    reason = _require_reason(reason)
    lock_student(student)
    if actor is not None:
        _require_office(actor, student, office.id)
    _check_amount(amount)
    amount = amount.quantize(Decimal("0.01")) if amount else None  # 1E+3 is stored and shown as 1000.00
    hold = Hold(student_id=student.id, office_id=office.id, reason=reason, amount=amount or None, source=source,
                placed_by_id=actor.id if actor else None, placed_at=utcnow())
    db.session.add(hold)
    db.session.flush()
    audit.record("hold.placed", actor, student_id=student.id, office_id=office.id, subject=f"hold:{hold.id}",
                 after=f"¥{amount}" if amount else "open", reason=reason)
    why = f"hold placed by {office.name_en}: {reason}"
    reopen_held_steps([student.id], office.id, actor, why)
    recheck_forms([student.id], actor, why)
    return hold


def reopen_held_steps(student_ids: list[int], office_id: int, actor: Account | None, why: str) -> int:
    """Return the office's cleared steps of these students to pending, because a hold was placed.

    Releasing the hold later must not bring back a clearance given before it (rule 4). Set-based,
    for the import's fee holds as for one hold; the caller re-checks the forms.
    """
    rows = db.session.execute(select(StepStatus.id, StepStatus.student_id, Step.id, Step.title_en).join(Step).where(
        StepStatus.student_id.in_(student_ids), Step.office_id == office_id,
        StepStatus.state == StepState.CLEARED)).all()
    if not rows:
        return 0
    now = utcnow()
    db.session.execute(update(StepStatus).where(StepStatus.id.in_([row[0] for row in rows])).values(
        state=StepState.PENDING, reason=why, actor_kind=ActorKind.STAFF if actor else ActorKind.SYSTEM,
        actor_id=actor.id if actor else None, changed_at=now))
    db.session.execute(insert(AuditEvent), [
        {"at": now, "actor_id": actor.id if actor else None, "actor_label": actor.username if actor else "system",
         "action": "step.reopened", "student_id": student_id, "office_id": office_id,
         "subject": f"step:{step_id} {title}", "from_value": "cleared", "to_value": "pending", "reason": why}
        for _status_id, student_id, step_id, title in rows])
    return len(rows)


MAX_AMOUNT = Decimal("99999999.99")


def _check_amount(amount: Decimal | None) -> None:
    """An amount owed is 0 or more, in yuan and fen: at most two decimals."""
    if amount is None:
        return
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        raise Refused(_l("An amount is 0 or more, at most ¥99,999,999.99, with at most 2 decimals."))


def release_hold(hold: Hold, actor: Account | None, reason: str) -> None:
    """Release a hold; with the office's last one gone its automatic steps are cleared again."""
    reason = _require_reason(reason)
    student = hold.student
    lock_student(student)
    if actor is not None:
        _require_office(actor, student, hold.office_id)
    db.session.refresh(hold)
    if hold.released_at is not None:
        raise Refused(_l("This hold was already released."))
    hold.released_at = utcnow()
    hold.released_by_id = actor.id if actor else None
    hold.release_reason = reason
    audit.record("hold.released", actor, student_id=student.id, office_id=hold.office_id, subject=f"hold:{hold.id}",
                 before="open", after="released", reason=reason)
    db.session.flush()
    settle_automatic_steps(student, hold.office_id, actor, f"hold released: {reason}")


def settle_automatic_steps(student: Student, office_id: int, actor: Account | None, why: str) -> None:
    """Clear, as the system, the office's pending automatic steps that nothing holds; re-check the form."""
    refresh_students([student.id], office_id, why, actor)
