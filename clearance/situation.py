"""The student's situation: what the top of the checklist says (rules 5 and 7), decided here, not in a template."""

from __future__ import annotations

from dataclasses import dataclass

from clearance.forms import current_form, last_voided_printout
from clearance.status import Shown, StepView, checklist, next_step, self_service_ready
from clearance.verification import handover_of
from models import FormVersion, Handover, Student


@dataclass
class Situation:
    """One coherent story for the top of the student's checklist, decided here; the template only shows it.

    Collected (the certificates were handed over) comes first: the page stops asking for the form, and a
    step an office reopened since is something to settle, never a "Next" beside "complete".
    """

    student: Student
    rows: list[StepView]
    form: FormVersion | None  # the current version: it exists exactly while every step is cleared (rule 5)
    handover: Handover | None
    voided_printout: FormVersion | None  # the latest version the student printed that was voided since

    @property
    def cleared(self) -> int:
        return sum(1 for row in self.rows if row.shown == Shown.CLEARED)

    @property
    def collected(self) -> bool:
        return self.handover is not None

    @property
    def finished(self) -> bool:
        """Certificates collected and nothing reopened since: nothing is left to do."""
        return self.collected and not self.to_settle

    @property
    def printable(self) -> FormVersion | None:
        """The form to print and hand in: the current version, until the certificates are collected."""
        return None if self.collected else self.form

    @property
    def next_row(self) -> StepView | None:
        """The one step to do next, while the certificates are still to be collected."""
        return None if self.collected else next_step(self.rows)

    @property
    def to_settle(self) -> list[StepView]:
        """After the hand-over: the steps an office reopened since, to settle with that office."""
        return [row for row in self.rows if row.shown != Shown.CLEARED] if self.collected else []

    @property
    def self_service(self) -> list[StepView]:
        return self_service_ready(self.rows)

    @property
    def void_notice(self) -> FormVersion | None:
        """A printout no longer valid while nothing newer can be printed: the page says since when and why."""
        return self.voided_printout if not self.collected and self.form is None else None

    @property
    def replaced_printout(self) -> FormVersion | None:
        """An earlier printout no longer valid, now that a newer version is the one to print."""
        return self.voided_printout if self.printable else None

    @property
    def collected_at(self) -> str:
        """Where the certificates were handed over: the school of the desk that did it, else the student's own."""
        desk = self.handover.handed_over_by if self.handover else None
        return desk.school.name if desk and desk.school else self.student.school.name


def student_situation(student: Student) -> Situation:
    """The student's steps, current form, hand-over and any printout voided since, for the checklist."""
    return Situation(
        student, checklist(student), current_form(student), handover_of(student.id), last_voided_printout(student)
    )
