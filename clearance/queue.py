"""An office's queue: the students one step applies to, with that step's status, filtered and counted.

Which students and how each step shows come from the SQL twins in clearance.status
(`applies_clause`, `shown_clause`), so filters and counts work on thousands of students.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from clearance.permissions import scope_students
from clearance.status import Shown, StepView, applies_clause, shown_clause
from clock import local, start_of_day_utc, utcnow
from database import db
from models import Account, Hold, Step, StepStatus, Student, fold

PAGE_SIZE = 50


@dataclass
class QueueFilters:
    search: str = ""
    cohort_id: int | None = None
    school_id: int | None = None
    status: str = ""  # "", "pending", "blocked" or "cleared"
    page: int = 1


@dataclass
class QueuePage:
    rows: list[tuple[Student, StepView]]  # each student with the step as the office sees it
    total: int
    page: int
    pages: int
    counts: dict[str, int]


def _shown(step: Step) -> ColumnElement[str]:
    return shown_clause(step.office_id)


def _base(step: Step, account: Account):
    """Students in the account's scope whom the step applies to, joined to their status on it."""
    query = select(Student).outerjoin(
        StepStatus, and_(StepStatus.student_id == Student.id, StepStatus.step_id == step.id)
    )
    return scope_students(query.where(applies_clause(step)), account)


def _search(query, text: str):
    """By the start of the student ID, or any part of either name, regardless of case and accents."""
    text = text.strip()
    if not text:
        return query
    # lower() on both sides: LIKE ignores case on SQLite but not on PostgreSQL.
    return query.where(
        or_(
            func.lower(Student.student_id).startswith(text.lower(), autoescape=True),
            Student.search_key.contains(fold(text), autoescape=True),
        )
    )


def office_queue(step: Step, account: Account, filters: QueueFilters) -> QueuePage:
    """One page of the queue for a step, with counts over the whole scope."""
    shown = _shown(step)
    query = _search(_base(step, account), filters.search)
    if filters.cohort_id:
        query = query.where(Student.cohort_id == filters.cohort_id)
    if filters.school_id:
        query = query.where(Student.school_id == filters.school_id)
    if filters.status:
        query = query.where(shown == filters.status)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, filters.page), pages)
    found = db.session.execute(
        query.add_columns(shown, StepStatus)
        .order_by(Student.student_id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    holds: dict[int, list[Hold]] = {}
    for hold in db.session.scalars(
        select(Hold).where(
            Hold.student_id.in_([r[0].id for r in found]), Hold.office_id == step.office_id, Hold.released_at.is_(None)
        )
    ):
        holds.setdefault(hold.student_id, []).append(hold)
    rows = [
        (student, StepView(step, Shown(state), status, holds.get(student.id, []))) for student, state, status in found
    ]
    return QueuePage(rows, total, page, pages, queue_counts(step, account))


def queue_counts(step: Step, account: Account) -> dict[str, int]:
    """Pending, blocked and cleared in the account's scope, and cleared today (university time)."""
    shown = _shown(step)
    counts = {"pending": 0, "blocked": 0, "cleared": 0}
    grouped = _base(step, account).with_only_columns(shown, func.count()).group_by(shown)
    counts.update(dict(db.session.execute(grouped).all()))
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
