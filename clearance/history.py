"""The history of changes as people read it: an audit event's subject in words, never an internal id.

The writers (clearance.changes, clearance.setup) name a step as `step:<id> <title>` and a hold as
`hold:<id>`, which is what the audit keeps. Shown to people, a step is "Library: Cancel your library
card" (a school's office by its school) and a hold "Library: Library fees owed (¥12.50)", read with at
most three queries for a page of events. Every other subject (a serial, a student ID, a code) is words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

import wording
from clearance.status import office_title
from database import db
from localized import localized
from models import AuditEvent, Hold, Step, Student

SUBJECT = re.compile(r"(?P<kind>step|hold):(?P<id>\d{1,18})(?: (?P<rest>.*))?", re.DOTALL)


class Entry:
    """An audit event whose `subject` reads in words; every other attribute is the event's own."""

    __slots__ = ("event", "subject")

    def __init__(self, event: AuditEvent, subject: str) -> None:
        self.event = event
        self.subject = subject

    def __getattr__(self, name: str):
        return getattr(self.event, name)


def _referenced(events: Sequence[AuditEvent]) -> tuple[set[int], set[int], set[int]]:
    """The step ids, hold ids and (for steps: a school office is named after the school) student ids named."""
    steps, holds, students = set(), set(), set()
    for event in events:
        found = SUBJECT.fullmatch(event.subject or "")
        if found and found["kind"] == "step":
            steps.add(int(found["id"]))
            if event.student_id is not None:
                students.add(event.student_id)
        elif found:
            holds.add(int(found["id"]))
    return steps, holds, students


def step_words(step: Step, student: Student | None = None) -> str:
    """A step as people name it: "Library: Cancel your library card" (the school office by its school)."""
    return _("%(office)s: %(what)s", office=office_title(step.office, student), what=localized(step, "title"))


def hold_words(hold: Hold) -> str:
    """A hold as people name it: "Library: Library fees owed (¥12.50)"."""
    words = _("%(office)s: %(what)s", office=localized(hold.office, "name"), what=wording.read(hold.reason))
    return f"{words} (¥{hold.amount})" if hold.amount is not None else words


def _load(model, ids: set[int], *related) -> dict[int, object]:
    """Rows of a model by id, with the relationships the words need, in one query (none without ids)."""
    if not ids:
        return {}
    query = select(model).options(*(joinedload(r) for r in related)).where(model.id.in_(ids))
    return {row.id: row for row in db.session.scalars(query)}


def subjects_in_words(events: Sequence[AuditEvent]) -> list[str]:
    """Each event's subject in words, in order; a step or hold no longer found keeps the words it was written with."""
    step_ids, hold_ids, student_ids = _referenced(events)
    steps = _load(Step, step_ids, Step.office)
    holds = _load(Hold, hold_ids, Hold.office)
    students = _load(Student, student_ids, Student.school)
    worded = []
    for event in events:
        found = SUBJECT.fullmatch(event.subject or "")
        known = None
        if found and found["kind"] == "step" and int(found["id"]) in steps:
            known = step_words(steps[int(found["id"])], students.get(event.student_id))
        elif found and found["kind"] == "hold" and int(found["id"]) in holds:
            known = hold_words(holds[int(found["id"])])
        elif found:
            known = found["rest"] or f"a {found['kind']}"
        worded.append(known or event.subject)
    return worded


def in_words(events: Sequence[AuditEvent]) -> list[Entry]:
    """The events with their subjects in words (the history tables' Jinja filter `in_words`)."""
    events = list(events)
    return [Entry(event, words) for event, words in zip(events, subjects_in_words(events), strict=True)]
