"""The window of rule 6: when a student may use the system, in the university's time zone; where certificates are."""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import select

from clock import today
from database import db
from models import Account, Cohort, Role, Student


class Window(enum.StrEnum):
    NOT_YET_OPEN = "not-yet-open"
    OPEN = "open"
    CLOSED = "closed"


# One student's extension is one day the window is stretched to include (Student.window_extended_until):
# a day before the cohort's window opens lets the student start earlier, a day after it closes finish later.


def kept_out(account: Account) -> Student | None:
    """The student an account belongs to when their window is not open today (rule 6); None for staff or inside it."""
    student = account.student if account.role == Role.STUDENT else None
    return student if student is not None and window_state(student) != Window.OPEN else None


def window_opens_on(student: Student) -> date:
    """The first day the student may use the system: the cohort's, or an earlier day of an extension."""
    opens = student.cohort.opens_on
    extended = student.window_extended_until
    return min(opens, extended) if extended else opens


def window_closes_on(student: Student) -> date:
    """The last day the student may use the system: the cohort's, or a later day of an extension."""
    closes = student.cohort.closes_on
    extended = student.window_extended_until
    return max(closes, extended) if extended else closes


def window_state(student: Student, on: date | None = None) -> Window:
    """Whether the student's window (inclusive, university time) is open on a day, by default today."""
    on = on or today()
    if on < window_opens_on(student):
        return Window.NOT_YET_OPEN
    if on > window_closes_on(student):
        return Window.CLOSED
    return Window.OPEN


def certificate_place(student: Student, chinese: bool = False) -> str:
    """Where the student collects the certificates: the cohort's place, else their school's office and room.

    `chinese`: the Chinese place where it is written, else the English one (and the other way round).
    """
    for holder in (student.cohort, student.school):
        english, in_chinese = holder.certificate_place, holder.certificate_place_zh
        place = (in_chinese or english) if chinese else (english or in_chinese)
        if place:
            return place
    return ""


def current_cohorts(on: date | None = None) -> list[Cohort]:
    """Cohorts whose window has not yet closed, soonest first (shown on the login page)."""
    on = on or today()
    query = select(Cohort).where(Cohort.closes_on >= on).order_by(Cohort.opens_on, Cohort.code)
    return list(db.session.scalars(query))
