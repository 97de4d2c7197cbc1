"""Changing a student's steps and holds: clear, block, reopen, place and release holds.

Each function checks who may do it and writes the change and its audit events in the caller's
write transaction; the unit of work (clearance.settle) then settles automatic steps and form
versions before commit. A refusal raises `Refused` with a message for the person, and changes
nothing. `record_states` and `place_holds` are the set-based writers that every path uses, for one
student or for thousands.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select, update

import audit
from clearance.amounts import check_amount
from clearance.permissions import acts_for_office, sees_student
from clearance.refused import Refused
from clearance.settle import lock_students, touch
from clearance.stakes import refuse_unless_confirmed
from clearance.status import Shown, StepView, chunks, step_view
from clock import utcnow
from database import db
from localized import localized
from models import (
    Account,
    ActorKind,
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
from wording import read, say, twin

MAX_REASON = 500


def lock_student(student: Student) -> None:
    """Serialise changes to one student across app servers (a row lock; SQLite already holds the write lock)."""
    lock_students([student.id])


def _require_office(actor: Account, student: Student, office_id: int) -> None:
    if not (acts_for_office(actor, office_id) and sees_student(actor, student)):
        raise Refused(_l("Your account does not act for this office or this student."))


def require_reason(reason: str | None) -> str:
    """The reason given for a change, stripped; `Refused` when there is none or it is too long."""
    reason = (reason or "").strip()
    if not reason:
        raise Refused(_l("Give a reason: the student and the audit log will see it."))
    if len(reason) > MAX_REASON:
        raise Refused(_l("Keep the reason under %(n)d characters.", n=MAX_REASON))
    return reason


def _view(student: Student, step: Step) -> StepView:
    view = step_view(student, step)
    if view is None:
        raise Refused(_l("This step does not apply to this student."))
    return view


def _actor_kind(actor: Account | None, student: Student) -> ActorKind:
    if actor is None:
        return ActorKind.SYSTEM
    return ActorKind.STUDENT if actor.id == student.account_id else ActorKind.STAFF


# --- The writers --------------------------------------------------------------------------------------


def record_states(
    pairs: Sequence[tuple[int, Step]],
    state: StepState,
    actor: Account | None,
    kind: ActorKind,
    reason: str,
    action: str,
    *,
    settle: bool = True,
) -> None:
    """Record a new state of steps for students, (student id, step) pairs, with one audit event each."""
    pairs = list({(sid, step.id): (sid, step) for sid, step in pairs}.values())  # each once
    if not pairs:
        return
    now = utcnow()
    before: dict[tuple[int, int], tuple[int, StepState]] = {}
    for part in chunks(pairs):
        keys = select(StepStatus.id, StepStatus.student_id, StepStatus.step_id, StepStatus.state).where(
            StepStatus.student_id.in_({sid for sid, _step in part}),
            StepStatus.step_id.in_({step.id for _sid, step in part}),
        )
        before.update({(sid, step_id): (row_id, old) for row_id, sid, step_id, old in db.session.execute(keys)})
    values = {
        "state": state,
        "reason": reason,
        "actor_kind": kind,
        "actor_id": actor.id if actor else None,
        "changed_at": now,
    }
    existing = [before[(sid, step.id)][0] for sid, step in pairs if (sid, step.id) in before]
    for ids in chunks(existing):
        db.session.execute(update(StepStatus).where(StepStatus.id.in_(ids)).values(**values))
    new = [{"student_id": sid, "step_id": step.id, **values} for sid, step in pairs if (sid, step.id) not in before]
    if new:
        db.session.execute(insert(StepStatus), new)
    audit.record_many(
        [
            audit.entry(
                action,
                actor,
                student_id=sid,
                office_id=step.office_id,
                at=now,
                subject=f"step:{step.id} {step.title_en}",
                after=state.value,
                reason=reason,
                before=before.get((sid, step.id), (0, StepState.PENDING))[1].value,
            )
            for sid, step in pairs
        ]
    )
    if settle:
        touch(
            [sid for sid, _step in pairs],
            step_changed(action, pairs[0][1], reason),
            actor,
        )


def step_changed(action: str, step: Step, reason: str = "") -> str:
    """Why a form was voided by a step's change, in the system's words: "step Library card reopened: lost book"."""
    title = twin(step.title_en, step.title_zh)
    what = {
        "step.cleared": say("step %(step)s cleared", step=title),
        "step.blocked": say("step %(step)s blocked", step=title),
    }.get(action) or say("step %(step)s reopened", step=title)
    return say("%(what)s: %(reason)s", what=what, reason=reason) if reason else what


def hold_placed(office_en: str, office_zh: str, reason: str) -> str:
    """Why a form was voided, or a step reopened, by a hold: "hold placed by Library: Library fees owed"."""
    return say("hold placed by %(office)s: %(reason)s", office=twin(office_en, office_zh), reason=reason)


@dataclass
class NewHold:
    """A hold to place: on whom, why, and how much is owed (None: nothing to pay)."""

    student_id: int
    reason: str
    amount: Decimal | None = None


def place_holds(
    holds: Sequence[NewHold], office: Office, actor: Account | None, source: HoldSource, actor_label: str | None = None
) -> list[int]:
    """Place holds of one office, each audited; the office's cleared steps of those students return to pending.

    Every reason and amount is checked by the one rule first: one bad hold and none is placed.
    """
    checked = [NewHold(hold.student_id, require_reason(hold.reason), check_amount(hold.amount)) for hold in holds]
    if not checked:
        return []
    lock_students(hold.student_id for hold in checked)  # first, in one order: two lists never deadlock
    now = utcnow()
    db.session.execute(
        insert(Hold),
        [
            {
                "student_id": hold.student_id,
                "office_id": office.id,
                "reason": hold.reason,
                "amount": hold.amount,
                "source": source,
                "placed_by_id": actor.id if actor else None,
                "placed_at": now,
                "release_reason": "",
            }
            for hold in checked
        ],
    )
    ids = _new_hold_ids(checked, office, now)
    audit.record_many(
        [
            audit.entry(
                "hold.placed",
                actor,
                actor_label=actor_label,
                student_id=hold.student_id,
                office_id=office.id,
                at=now,
                subject=f"hold:{hold_id}",
                after=f"¥{hold.amount}" if hold.amount else "open",
                reason=hold.reason,
            )
            for hold, hold_id in zip(checked, ids, strict=True)
        ]
    )
    for hold in checked:  # the unit of work reopens their cleared steps of this office, then settles the forms
        touch([hold.student_id], hold_placed(office.name_en, office.name_zh, hold.reason), actor)
    return ids


def reopen_held_steps(reasons: dict[int, tuple[Account | None, str]]) -> None:
    """Return to pending every cleared step of these students that an open hold of its office now holds.

    Releasing the hold later must not bring back a clearance given before it (rule 4). The unit of
    work runs this for every touched student, however the hold was placed.
    """
    held = (
        select(StepStatus.student_id, Step, Office.name_en, Office.name_zh, Hold.reason)
        .join(Step, Step.id == StepStatus.step_id)
        .join(Office, Office.id == Step.office_id)
        .join(
            Hold,
            (Hold.student_id == StepStatus.student_id)
            & (Hold.office_id == Step.office_id)
            & Hold.released_at.is_(None),
        )
        .where(StepStatus.state == StepState.CLEARED)
        .order_by(Hold.placed_at)
    )
    found: dict[tuple[int, int], tuple[int, Step, str]] = {}
    for ids in chunks(reasons):
        for student_id, step, name_en, name_zh, reason in db.session.execute(
            held.where(StepStatus.student_id.in_(ids))
        ):
            found[(student_id, step.id)] = (student_id, step, hold_placed(name_en, name_zh, reason))
    groups: dict[tuple[int | None, str], list[tuple[int, Step]]] = {}
    for student_id, step, why in found.values():
        actor = reasons[student_id][0]
        groups.setdefault((actor.id if actor else None, why), []).append((student_id, step))
    for (_actor_id, why), pairs in groups.items():
        actor = reasons[pairs[0][0]][0]
        kind = ActorKind.STAFF if actor else ActorKind.SYSTEM
        record_states(pairs, StepState.PENDING, actor, kind, why, "step.reopened", settle=False)


def _new_hold_ids(holds: list[NewHold], office: Office, placed_at) -> list[int]:
    """The ids of holds just inserted, in the order given (no RETURNING: SQLite would insert row by row)."""
    query = select(Hold.id, Hold.student_id).where(
        Hold.office_id == office.id, Hold.placed_at == placed_at, Hold.released_at.is_(None)
    )
    by_student: dict[int, list[int]] = {}
    for ids in chunks({hold.student_id for hold in holds}):
        for hold_id, student_id in db.session.execute(query.where(Hold.student_id.in_(ids)).order_by(Hold.id)):
            by_student.setdefault(student_id, []).append(hold_id)
    # The newest ones of each student, in insertion order (the same moment may hold an earlier hold too).
    wanted = Counter(hold.student_id for hold in holds)
    newest = {sid: iter(found[-wanted[sid] :]) for sid, found in by_student.items()}
    return [next(newest[hold.student_id]) for hold in holds]


# --- One student's changes ------------------------------------------------------------------------------


def refuse_unless_may_clear(view: StepView, actor: Account, student: Student) -> None:
    """Who may clear the step, then whether anything stands in the way; the same order everywhere."""
    if actor.role == Role.STUDENT:
        if actor.id != student.account_id or view.step.mode != StepMode.SELF_SERVICE:
            raise Refused(_l("Only the office can clear this step."))
    else:
        _require_office(actor, student, view.step.office_id)
        if view.step.mode == StepMode.AUTOMATIC:
            raise Refused(_l("The system clears this step by itself when the office has no open hold."))
    if view.shown != Shown.CLEARED:
        refuse_unless_clearable(view)


def refuse_unless_clearable(view: StepView) -> None:
    """An open hold, a staff block or a missing prerequisite stands in the way: say which."""
    if view.holds:
        owed = sum((hold.amount or Decimal(0)) for hold in view.holds)
        if owed:
            raise Refused(
                _l(
                    "Not cleared: %(office)s has an open hold (¥%(amount)s owed). Settle it at %(where)s.",
                    office=localized(view.step.office, "name"),
                    amount=owed,
                    where=localized(view.step.office, "location"),
                )
            )
        raise Refused(
            _l(
                "Not cleared: %(office)s has an open hold: %(reason)s",
                office=localized(view.step.office, "name"),
                reason=read(view.holds[0].reason),
            )
        )
    if view.staff_block_reason:
        raise Refused(_l("This step is blocked (%(reason)s): reopen it first.", reason=view.staff_block_reason))
    if view.missing_prerequisites:
        names = ", ".join(localized(step, "title") for step in view.missing_prerequisites)
        raise Refused(_l("Not cleared: these steps come first: %(steps)s.", steps=names))


def clear_step(student: Student, step: Step, actor: Account) -> bool:
    """Clear a step as the student (self-service) or the office; False when it was already cleared."""
    lock_student(student)
    view = _view(student, step)
    refuse_unless_may_clear(view, actor, student)
    if view.shown == Shown.CLEARED:
        return False
    record_states([(student.id, step)], StepState.CLEARED, actor, _actor_kind(actor, student), "", "step.cleared")
    return True


def _office_change(student: Student, step: Step, actor: Account, reason: str) -> tuple[str, StepView]:
    """What blocking and reopening check first: a reason, the student locked, the office's right, the step."""
    reason = require_reason(reason)
    lock_student(student)
    _require_office(actor, student, step.office_id)
    return reason, _view(student, step)


def block_step(student: Student, step: Step, actor: Account, reason: str, confirmed: str | None = None) -> None:
    """Block a step with a reason the student sees; it stays blocked until the office reopens it.

    `confirmed`: what the person confirmed was at stake (clearance.stakes); None when the caller does not ask.
    """
    reason, view = _office_change(student, step, actor, reason)
    if not view.office_can_block:
        raise Refused(_l("This step is already blocked."))
    if confirmed is not None:
        refuse_unless_confirmed(student, step.office, confirmed)
    record_states([(student.id, step)], StepState.BLOCKED, actor, ActorKind.STAFF, reason, "step.blocked")


def reopen_step(student: Student, step: Step, actor: Account, reason: str, confirmed: str | None = None) -> None:
    """Return a cleared or blocked step to pending (an automatic one is cleared again if nothing holds it).

    `confirmed`: what the person confirmed was at stake (clearance.stakes); None when the caller does not ask.
    """
    reason, view = _office_change(student, step, actor, reason)
    if not view.office_can_reopen:
        if view.is_automatic and view.recorded and view.recorded.state == StepState.CLEARED:
            raise Refused(_l("The system clears this step whenever nothing is held: place a hold instead."))
        raise Refused(_l("This step is not cleared or blocked, so there is nothing to reopen."))
    if confirmed is not None:
        refuse_unless_confirmed(student, step.office, confirmed)
    record_states([(student.id, step)], StepState.PENDING, actor, ActorKind.STAFF, reason, "step.reopened")


def place_hold(
    student: Student,
    office: Office,
    actor: Account | None,
    reason: str,
    amount: Decimal | None,
    source: HoldSource = HoldSource.STAFF,
    confirmed: str | None = None,
) -> Hold:
    """Place one hold: it blocks the office's steps, even cleared ones, which return to pending.

    `confirmed`: what the person confirmed was at stake (clearance.stakes); None when the caller does not ask.
    """
    lock_student(student)
    if actor is not None:
        _require_office(actor, student, office.id)
    hold = NewHold(student.id, require_reason(reason), check_amount(amount))  # refused before anything is asked
    if confirmed is not None:
        refuse_unless_confirmed(student, office, confirmed)
    [hold_id] = place_holds([hold], office, actor, source)
    return db.session.get(Hold, hold_id)


def release_hold(hold: Hold, actor: Account | None, reason: str) -> None:
    """Release a hold; with the office's last one gone its automatic steps are cleared again."""
    reason = require_reason(reason)
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
    audit.record(
        "hold.released",
        actor,
        student_id=student.id,
        office_id=hold.office_id,
        subject=f"hold:{hold.id}",
        before="open",
        after="released",
        reason=reason,
    )
    touch([student.id], say("hold released: %(reason)s", reason=reason), actor)
