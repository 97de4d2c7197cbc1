"""Counting progress for the administrators: per cohort, school and step, per day, and today.

Every count is one grouped SQL query over (student, applicable step) pairs from `status.step_pairs`,
whose status is the SQL twin of the checklist's, so the pages stay fast for tens of thousands of
students. "Fully cleared" is `status.complete_clause`, the rule the form versions follow; the chart
counts the same students, by the day their current form was issued.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.elements import ColumnElement

from clearance.queue import start_of_today_utc
from clearance.status import Shown, complete_clause, step_pairs
from clock import local
from database import db
from models import (
    ActorKind,
    Cohort,
    FormVersion,
    Handover,
    School,
    Step,
    StepStatus,
    Student,
)

IDLE_LIMIT = 200  # students listed as "done nothing yet"; the count covers them all
CHART_MAX_DAYS = 120


@dataclass
class Tally:
    """Progress of one group of students (a cohort, a school) or of one step's students."""

    students: int = 0
    cleared: int = 0
    pending: int = 0
    blocked: int = 0
    forms: int = 0
    handed_over: int = 0


@dataclass
class Today:
    """The numbers on the admin home page, over the current cohorts."""

    tally: Tally
    idle: int
    cleared_today: int


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _has_form() -> ColumnElement[bool]:
    return exists().where(FormVersion.student_id == Student.id, FormVersion.voided_at.is_(None))


def _handed_over() -> ColumnElement[bool]:
    return exists().where(Handover.student_id == Student.id)


def tallies(where: Sequence[ColumnElement[bool]] = ()) -> dict[tuple[int, int], Tally]:
    """Students' progress grouped by (cohort id, school id); cleared means complete (`status.complete_clause`)."""
    pairs = step_pairs(where).subquery()
    per_student = (
        select(pairs.c.student_id, _count_if(pairs.c.shown == Shown.BLOCKED.value).label("blocked"))
        .group_by(pairs.c.student_id)
        .subquery()
    )
    query = (
        select(
            Student.cohort_id,
            Student.school_id,
            func.count(),
            _count_if(complete_clause()),
            _count_if(per_student.c.blocked > 0),
            _count_if(_has_form()),
            _count_if(_handed_over()),
        )
        .select_from(Student)
        .outerjoin(per_student, per_student.c.student_id == Student.id)
        .where(*where)
        .group_by(Student.cohort_id, Student.school_id)
    )
    return {
        (cohort, school): Tally(students, cleared, students - cleared - blocked, blocked, forms, handed)
        for cohort, school, students, cleared, blocked, forms, handed in db.session.execute(query)
    }


def _sum_by(grouped: dict[tuple[int, int], Tally], position: int) -> dict[int, Tally]:
    keys = {key[position] for key in grouped}
    return {k: total([t for key, t in grouped.items() if key[position] == k]) for k in keys}


def by_cohort(grouped: dict[tuple[int, int], Tally]) -> list[tuple[Cohort, Tally]]:
    """Every cohort (newest window first) with its students' progress, from `tallies`."""
    per_cohort = _sum_by(grouped, 0)
    cohorts = db.session.scalars(select(Cohort).order_by(Cohort.opens_on.desc(), Cohort.code))
    return [(cohort, per_cohort.get(cohort.id, Tally())) for cohort in cohorts]


def by_school(grouped: dict[tuple[int, int], Tally]) -> list[tuple[School, Tally]]:
    """Every school that has students, with their progress, from `tallies`."""
    per_school = _sum_by(grouped, 1)
    schools = db.session.scalars(select(School).where(School.id.in_(list(per_school))).order_by(School.name))
    return [(school, per_school[school.id]) for school in schools]


def by_step(where: Sequence[ColumnElement[bool]] = ()) -> list[tuple[Step, Tally]]:
    """Every active step with the status of the students it applies to (an office's queue, step by step)."""
    pairs = step_pairs(where).add_columns(_has_form().label("form"), _handed_over().label("handed")).subquery()
    query = select(
        pairs.c.step_id,
        func.count(),
        _count_if(pairs.c.shown == Shown.CLEARED.value),
        _count_if(pairs.c.shown == Shown.PENDING.value),
        _count_if(pairs.c.shown == Shown.BLOCKED.value),
        _count_if(pairs.c.form),
        _count_if(pairs.c.handed),
    ).group_by(pairs.c.step_id)
    tallies = {step_id: Tally(*counts) for step_id, *counts in db.session.execute(query)}
    steps = db.session.scalars(select(Step).where(Step.retired.is_(False)).order_by(Step.position, Step.id))
    return [(step, tallies.get(step.id, Tally())) for step in steps]


def total(tallies: Sequence[Tally]) -> Tally:
    """The sum of several tallies."""
    fields = ("students", "cleared", "pending", "blocked", "forms", "handed_over")
    return Tally(*(sum(getattr(t, name) for t in tallies) for name in fields))


def _acted() -> ColumnElement[bool]:
    """The student or an office has recorded something (the system's automatic clears do not count)."""
    return exists().where(
        StepStatus.student_id == Student.id, StepStatus.actor_kind.in_([ActorKind.STUDENT, ActorKind.STAFF])
    )


def idle_count(where: Sequence[ColumnElement[bool]] = ()) -> int:
    """How many students have done nothing yet."""
    return db.session.scalar(select(func.count()).select_from(Student).where(~_acted(), *where))


def idle_students(where: Sequence[ColumnElement[bool]] = (), limit: int = IDLE_LIMIT) -> list[Student]:
    """The first `limit` students (by student ID) who have done nothing yet."""
    query = (
        select(Student)
        .options(joinedload(Student.cohort), joinedload(Student.school))
        .where(~_acted(), *where)
        .order_by(Student.student_id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def cleared_today(where: Sequence[ColumnElement[bool]] = ()) -> int:
    """Applicable steps cleared since midnight in the university's time zone (and still cleared)."""
    pairs = step_pairs(where).subquery()
    query = select(func.count()).where(pairs.c.shown == Shown.CLEARED.value, pairs.c.changed_at >= start_of_today_utc())
    return db.session.scalar(query)


def today_numbers(cohorts: Sequence[Cohort]) -> Today:
    """The admin home's numbers over the given (current) cohorts."""
    where = [Student.cohort_id.in_([c.id for c in cohorts])]
    tally = total(list(tallies(where).values()))
    return Today(tally, idle_count(where), cleared_today(where))


def completions_per_day(cohorts: Sequence[Cohort]) -> list[tuple[date, int]]:
    """Students of the cohorts fully cleared now, by the local day their current form was issued.

    The bars add up to the "fully cleared" of `today_numbers`: a student whose form was voided
    leaves the chart until they complete again.

    The days span the cohorts' windows, widened to any completion outside them, at most the last
    CHART_MAX_DAYS days. Grouping by local day happens here, not in SQL, because time zones are not
    portable across databases; it is one row per completed student.
    """
    if not cohorts:
        return []
    current = (
        select(FormVersion.issued_at)
        .join(Student, Student.id == FormVersion.student_id)
        .where(Student.cohort_id.in_([c.id for c in cohorts]), FormVersion.voided_at.is_(None))
    )
    per_day = Counter(local(issued).date() for issued in db.session.scalars(current))
    start = min([c.opens_on for c in cohorts] + list(per_day))
    end = max([c.closes_on for c in cohorts] + list(per_day))
    start = max(start, end - timedelta(days=CHART_MAX_DAYS - 1))
    return [
        (start + timedelta(days=n), per_day.get(start + timedelta(days=n), 0)) for n in range((end - start).days + 1)
    ]
