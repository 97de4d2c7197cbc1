"""The student's checklist page and the self-service button, through the pages."""

from __future__ import annotations

from decimal import Decimal

import clearance
from database import write_transaction
from tests.conftest import audit_count, log_in, office


def library_step():
    return office("LIB").steps[0]


def test_the_checklist_shows_progress_next_step_and_where_to_go(client, make_student):
    student = make_student(must_change=False)
    with write_transaction():
        clearance.refresh_students([student.id])
    log_in(client, student.account)
    page = client.get("/checklist").get_data(as_text=True)
    assert "1 of 6 cleared" in page
    assert "Next:" in page and "Cancel your library card" in page
    assert "Cancel my library card" in page  # the button, at the top
    assert "Student Housing" in page and "Room keys, key-deposit receipt" in page
    assert "Cleared on" in page and "the system" in page


def test_the_library_button_cancels_the_card(client, make_student):
    student = make_student(must_change=False)
    log_in(client, student.account)
    response = client.post(f"/checklist/steps/{library_step().id}/clear", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Done: Cancel your library card" in page
    assert "Cancel my library card" not in page
    view = clearance.step_view(student, library_step())
    assert view.shown == "cleared" and view.cleared_by_kind == "student"


def test_a_double_click_clears_once(client, make_student):
    student = make_student(must_change=False)
    log_in(client, student.account)
    client.post(f"/checklist/steps/{library_step().id}/clear")
    page = client.post(f"/checklist/steps/{library_step().id}/clear", follow_redirects=True).get_data(as_text=True)
    assert "already cleared" in page
    assert audit_count("step.cleared", by_people=True) == 1


def test_fees_owed_hide_the_button_and_say_where_to_pay(client, make_student, make_account):
    student = make_student(must_change=False)
    library = make_account("library")
    with write_transaction():
        clearance.place_hold(student, office("LIB"), library, "Library fees owed", Decimal("35.50"))
    log_in(client, student.account)
    page = client.get("/checklist").get_data(as_text=True)
    assert "Cancel my library card" not in page
    assert "Library fees owed: ¥35.50" in page and "circulation desk" in page


def test_a_forged_self_cancel_while_fees_are_owed_is_refused(client, make_student, make_account):
    student = make_student(must_change=False)
    with write_transaction():
        clearance.place_hold(student, office("LIB"), make_account("library"), "Library fees owed", Decimal(12))
    log_in(client, student.account)
    page = client.post(f"/checklist/steps/{library_step().id}/clear", follow_redirects=True).get_data(as_text=True)
    assert "open hold" in page and "12" in page
    assert clearance.step_view(student, library_step()).shown == "blocked"
    assert audit_count("step.cleared", by_people=True) == 0


def test_a_student_cannot_clear_a_staff_step_by_forging_a_post(client, make_student):
    student = make_student(must_change=False)
    log_in(client, student.account)
    housing = office("DORM").steps[0]
    page = client.post(f"/checklist/steps/{housing.id}/clear", follow_redirects=True).get_data(as_text=True)
    assert "Only the office can clear this step" in page
    assert clearance.step_view(student, housing).shown == "pending"


def test_an_unknown_step_is_not_found(client, make_student):
    log_in(client, make_student(must_change=False).account)
    assert client.post("/checklist/steps/9999/clear").status_code == 404


def test_a_blocked_step_shows_the_reason(client, make_student, make_account):
    student = make_student(must_change=False)
    with write_transaction():
        clearance.block_step(
            student, office("DORM").steps[0], make_account("housing", office_code="DORM"), "Broken window in room 214"
        )
    log_in(client, student.account)
    page = client.get("/checklist").get_data(as_text=True)
    assert "Blocked by the office:" in page and "Broken window in room 214" in page


def test_a_complete_student_sees_everything_cleared(client, make_student, make_account):
    student = make_student(must_change=False)
    staff = {code: make_account(code.lower(), office_code=code) for code in ("DORM", "CARD", "INTL", "SCHOOL")}
    with write_transaction():
        clearance.refresh_students([student.id])
        clearance.clear_step(student, library_step(), student.account)
        for code, account in staff.items():
            clearance.clear_step(student, office(code).steps[0], account)
    log_in(client, student.account)
    page = client.get("/checklist").get_data(as_text=True)
    assert "6 of 6 cleared" in page and "Everything is cleared" in page and "Next:" not in page
