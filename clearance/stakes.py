"""What an office's change would put at stake: a form it would void, certificates already handed over.

A current form exists exactly while every applicable step is cleared (rule 5), so reopening or
blocking a step, or placing a hold of an office with a step that applies, voids the student's form
the moment it commits. The office is told first, with the form's serial and when it was printed;
and once the certificates were handed over (rule 7), that they were, and that the change does not
take them back. The person confirms what they saw: `Stake.confirmation` goes back with the change,
and a change sent without it, or after the stake changed, is not made (`refuse_unless_confirmed`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from clearance.status import active_steps, chunks, step_applies
from database import db
from models import AuditEvent, FormVersion, Handover, Office, Student


class Stake(NamedTuple):
    """A change's stake for one student: the form it voids (None: none) and the hand-over (None: not yet)."""

    form: FormVersion | None
    printed_at: datetime | None  # the form's latest print; None: issued, never printed
    handover: Handover | None

    @property
    def confirmation(self) -> str:
        """What the person confirms, sent back with the change: the form, its latest print and the hand-over shown.

        A print or a hand-over after the warning changes it, so the change is asked about again.
        """
        printed = f"printed-{self.printed_at:%Y%m%d%H%M%S%f}" if self.form and self.printed_at else ""
        return "+".join(
            part
            for part in (
                self.form.serial if self.form else "",
                printed,
                f"handover-{self.handover.id}" if self.handover else "",
            )
            if part
        )


class Unconfirmed(Exception):
    """A change that puts something at stake was sent without confirming that stake."""

    def __init__(self, stake: Stake) -> None:
        super().__init__(stake.confirmation)
        self.stake = stake


def stakes_of(students: Iterable[Student], office: Office) -> dict[int, Stake]:
    """For each of these students who has something at stake, by id: what a change to the office's steps risks.

    Their current form counts only if a step of the office applies to them (a hold of an office with no
    step for them voids nothing); a hand-over counts whatever the change.
    """
    students = list(students)
    steps = active_steps(office)
    affected = [s.id for s in students if any(step_applies(step, s.cohort_id) for step in steps)]
    forms: dict[int, FormVersion] = {}
    handovers: dict[int, Handover] = {}
    for ids in chunks(affected):
        current = select(FormVersion).where(FormVersion.student_id.in_(ids), FormVersion.voided_at.is_(None))
        forms.update({form.student_id: form for form in db.session.scalars(current)})
    for ids in chunks(s.id for s in students):
        given = select(Handover).where(Handover.student_id.in_(ids)).options(selectinload(Handover.handed_over_by))
        handovers.update({handover.student_id: handover for handover in db.session.scalars(given)})
    printed = _last_printed(forms.values())
    return {
        sid: Stake(forms.get(sid), printed.get(forms[sid].serial) if sid in forms else None, handovers.get(sid))
        for sid in forms.keys() | handovers.keys()
    }


def form_at_stake(student: Student, office: Office) -> Stake | None:
    """What reopening, blocking or placing a hold of the office on this student would risk; None: nothing."""
    return stakes_of([student], office).get(student.id)


def refuse_unless_confirmed(student: Student, office: Office, confirmed: str) -> None:
    """Raise `Unconfirmed` when the change puts something at stake that `confirmed` does not name exactly."""
    stake = form_at_stake(student, office)
    if stake is not None and confirmed != stake.confirmation:
        raise Unconfirmed(stake)


def _last_printed(forms: Iterable[FormVersion]) -> dict[str, datetime]:
    """When each form was last printed, by serial (the `form.printed` audit events)."""
    by_student = {form.student_id: form.serial for form in forms}
    printed: dict[str, datetime] = {}
    for ids in chunks(by_student):
        query = (
            select(AuditEvent.subject, func.max(AuditEvent.at))
            .where(
                AuditEvent.action == "form.printed",
                AuditEvent.student_id.in_(ids),
                AuditEvent.subject.in_([by_student[sid] for sid in ids]),
            )
            .group_by(AuditEvent.subject)
        )
        printed.update(dict(db.session.execute(query).all()))
    return printed
