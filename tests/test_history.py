"""History and audit entries in words (issue 9, item 15): "Library: Cancel your library card", never `step:3`."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import event, select

import clearance
from database import db, write_transaction
from models import AuditEvent, Role
from tests.conftest import log_in, office

INTERNAL_ID = re.compile(r"\b(step|hold):\d")


@pytest.fixture
def admin(make_account):
    return make_account("admin", role=Role.ADMIN, office_code=None)


@pytest.fixture
def history(make_student, make_account, admin):
    """A student whose library card was blocked by a fee hold, then released and cleared; FIN cleared by the system."""
    student = make_student(must_change=False)
    library = make_account("library")
    with write_transaction():
        clearance.refresh_students([student.id])  # the system clears the automatic finance step
        hold = clearance.place_hold(student, office("LIB"), library, "Library fees owed", Decimal("12.50"))
    with write_transaction():
        clearance.release_hold(hold, library, "Paid at the desk")
        clearance.clear_step(student, office("LIB").steps[0], library)
        for code in ("DORM", "CARD", "INTL", "SCHOOL"):  # the school signs off last
            clearance.clear_step(student, office(code).steps[0], admin)
    return student


def events_of(student) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.student_id == student.id).order_by(AuditEvent.id)
    return list(db.session.scalars(query))


def test_steps_and_holds_are_named_in_words(history):
    words = clearance.subjects_in_words(events_of(history))
    assert "Finance Office: Fees settled" in words  # by the system: it names the step
    assert "School of Clinical Medicine office: School sign-off" in words  # the school office by its school
    assert words.count("Library: Library fees owed (¥12.50)") == 2  # placed, then released
    assert not any(INTERNAL_ID.search(text) for text in words), words


def test_other_subjects_stay_as_they_were(history):
    imported = AuditEvent(action="student.imported", actor_label="cli", subject="1111210101")
    unknown = AuditEvent(action="step.cleared", actor_label="system", subject="step:999999 Old title")
    gone = AuditEvent(action="hold.placed", actor_label="system", subject="hold:999999")
    assert clearance.subjects_in_words([imported, unknown, gone]) == ["1111210101", "Old title", "a hold"]


def test_a_page_of_events_is_worded_with_a_few_queries(app, history):
    events = events_of(history)
    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        db.session.expunge_all()  # nothing cached: each step, hold and student is read again
        clearance.subjects_in_words(events_of(history))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(events) > 5 and len(statements) <= 4  # the events themselves, then steps, holds, students


def test_the_in_words_filter_keeps_every_other_attribute(history):
    entries = clearance.in_words(events_of(history))
    assert [entry.action for entry in entries] == [e.action for e in events_of(history)]
    assert all(not INTERNAL_ID.search(entry.subject) for entry in entries)


def test_the_audit_log_shows_subjects_and_actions_in_words(client, admin, history):
    log_in(client, admin)
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "Library: Cancel your library card" in page
    assert "Finance Office: Fees settled" in page and "Library: Library fees owed (¥12.50)" in page
    assert "hold placed" in page and "step cleared" in page  # the actions in words, their codes beside
    assert not INTERNAL_ID.search(page)


def test_the_staff_record_history_can_use_the_filter(app, history):
    """The filter registered for the staff record's history table (templates/staff/student.html)."""
    rendered = app.jinja_env.from_string(
        "{% for event in history|in_words %}{{ event.action }}={{ event.subject }};{% endfor %}"
    ).render(history=events_of(history))
    assert "hold.placed=Library: Library fees owed (¥12.50);" in rendered
    assert not INTERNAL_ID.search(rendered)
