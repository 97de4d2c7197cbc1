"""An office's queue: the students one step applies to, with that step's status, filtered and counted.

Which students, how each step shows and who is ready come from the SQL twins in clearance.status
(`applies_clause`, `shown_clause`, `ready_clause`), so filters, order and counts work on thousands
of students; the rows of one page are the same views the checklist shows (`checklists`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from clearance.permissions import scope_students
from clearance.status import Shown, StepView, applies_clause, checklists, ready_clause, shown_clause
from clock import local, start_of_day_utc, utcnow
from database import db
from models import Account, Step, StepStatus, Student, search_folds

PAGE_SIZE = 50
READY = "ready"  # a status filter beside the shown ones: pending with every prerequisite cleared
STATUSES = (READY, *(shown.value for shown in Shown))
MAX_WORDS = 8  # a name has a few words; more only slows the query


@dataclass
class QueueFilters:
    search: str = ""
    cohort_id: int | None = None
    school_id: int | None = None
    status: str = ""  # "" or one of STATUSES
    page: int = 1


@dataclass
class QueuePage:
    rows: list[tuple[Student, StepView]]  # each student with the step as the office sees it
    total: int
    page: int
    pages: int
    counts: dict[str, int]
    readiness: bool = False  # the step needs others first: its pending students are ready or waiting for them


def _base(step: Step, account: Account):
    """Students in the account's scope whom the step applies to, joined to their status on it."""
    query = select(Student).outerjoin(
        StepStatus, and_(StepStatus.student_id == Student.id, StepStatus.step_id == step.id)
    )
    return scope_students(query.where(applies_clause(step)), account)


def _search(query, text: str):
    """By the start of the student ID, or every word in either name, in any order, regardless of case and accents."""
    text = text.strip()
    if not text:
        return query
    words = [word for word in re.split(r"[\s,;]+", text) if word][:MAX_WORDS]
    # Each word may be typed with or without accents, or transliterated ("mueller"): any of its folds will do.
    every_word = and_(
        *(
            or_(*(Student.search_key.contains(folded, autoescape=True) for folded in search_folds(word)))
            for word in words
        )
    )
    # lower() on both sides: LIKE ignores case on SQLite but not on PostgreSQL.
    return query.where(or_(func.lower(Student.student_id).startswith(text.lower(), autoescape=True), every_word))


def _status_clause(step: Step, status: str) -> ColumnElement[bool]:
    if status == READY:
        return ready_clause(step)
    return shown_clause(step.office_id) == status


def office_queue(step: Step, account: Account, filters: QueueFilters) -> QueuePage:
    """One page of the queue for a step, ready students first, with counts over the whole scope."""
    query = _search(_base(step, account), filters.search)
    if filters.cohort_id:
        query = query.where(Student.cohort_id == filters.cohort_id)
    if filters.school_id:
        query = query.where(Student.school_id == filters.school_id)
    if filters.status in STATUSES:
        query = query.where(_status_clause(step, filters.status))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, filters.page), pages)
    # Ready students first where others' steps come first (unless the filter leaves one kind); else by ID alone.
    mixed = step.prerequisites and filters.status in ("", Shown.PENDING.value)
    order = (case((ready_clause(step), 0), else_=1),) if mixed else ()
    students = db.session.scalars(
        query.order_by(*order, Student.student_id).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    # The rows are the checklist's own views (with unmet prerequisites), so the page shows what the record shows.
    views = checklists(students, of_steps=[step, *step.prerequisites])
    rows = [(student, next(v for v in views[student.id] if v.step.id == step.id)) for student in students]
    return QueuePage(rows, total, page, pages, queue_counts(step, account), bool(step.prerequisites))


def queue_counts(step: Step, account: Account) -> dict[str, int]:
    """Pending, blocked and cleared in the account's scope; ready (of the pending); cleared today (university time)."""
    shown = shown_clause(step.office_id)
    counts = {"pending": 0, "blocked": 0, "cleared": 0}
    grouped = _base(step, account).with_only_columns(shown, func.count()).group_by(shown)
    counts.update(dict(db.session.execute(grouped).all()))
    counts[READY] = (
        db.session.scalar(_base(step, account).with_only_columns(func.count()).where(ready_clause(step)))
        if step.prerequisites
        else counts["pending"]  # nothing comes first: every pending student is ready
    )
    today_query = (
        _base(step, account)
        .with_only_columns(func.count())
        .where(shown == "cleared", StepStatus.changed_at >= start_of_today_utc())
    )
    counts["cleared_today"] = db.session.scalar(today_query)
    return counts


def start_of_today_utc() -> datetime:
    """Midnight of today in the university's time zone, as stored (naive UTC)."""
    return start_of_day_utc(local(utcnow()).date())
