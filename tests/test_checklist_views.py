"""The student's checklist page and the self-service button, through the pages."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

import clearance
from database import db, write_transaction
from models import Role, StepMode
from tests.conftest import audit_count, log_in, make_cohort_step, office

STAFF_OFFICES = ("DORM", "CARD", "INTL", "SCHOOL")


def library_step():
    return office("LIB").steps[0]


def card(page: str, heading_id: str) -> str:
    """The text of one card of the page: from its heading to the end of its section."""
    start = page.index(f'id="{heading_id}"')
    return re.sub(r"\s+", " ", page[start : page.index("</section>", start)])


def confirm(client, step):
    """The second POST: the student confirmed."""
    return client.post(f"/checklist/steps/{step.id}/clear", data={"confirm": "yes"}, follow_redirects=True)


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


# --- Item 11: the library card asks first, on the server -----------------------------------------


def test_cancelling_the_library_card_asks_first_and_changes_nothing(client, make_student):
    student = make_student(must_change=False)
    log_in(client, student.account)
    response = client.post(f"/checklist/steps/{library_step().id}/clear")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Cancel your library card?" in page and "only the library can" in page
    assert "Yes, cancel my library card" in page and 'name="confirm" value="yes"' in page
    assert "No, back to my checklist" in page
    assert clearance.step_view(student, library_step()).shown == "pending"
    assert audit_count("step.cleared", by_people=True) == 0


def test_the_confirmed_library_button_cancels_the_card(client, make_student):
    student = make_student(must_change=False)
    log_in(client, student.account)
    page = confirm(client, library_step()).get_data(as_text=True)
    assert "Done: Cancel your library card" in page
    assert "Cancel my library card" not in page
    view = clearance.step_view(student, library_step())
    assert view.shown == "cleared" and view.cleared_by_kind == "student"


def test_another_self_service_step_asks_in_its_own_words(client, make_student):
    student = make_student(must_change=False)
    step = make_cohort_step(office("INTL"), "Hand in the visa form", [], mode=StepMode.SELF_SERVICE)
    log_in(client, student.account)
    page = client.post(f"/checklist/steps/{step.id}/clear").get_data(as_text=True)
    assert "Mark this step as done?" in page and "Hand in the visa form" in page and "Yes, mark it as done" in page
    assert "library" not in page.split("<main", 1)[1].split("</main>")[0].lower()
    assert clearance.step_view(student, step).shown == "pending"


def test_a_double_click_on_the_confirmation_clears_once(client, make_student):
    student = make_student(must_change=False)
    log_in(client, student.account)
    confirm(client, library_step())
    page = confirm(client, library_step()).get_data(as_text=True)
    assert "already cleared" in page
    assert audit_count("step.cleared", by_people=True) == 1
    # Clicking the checklist's button again, once cleared, does not ask: it says so.
    page = client.post(f"/checklist/steps/{library_step().id}/clear", follow_redirects=True).get_data(as_text=True)
    assert "already cleared" in page and "Cancel your library card?" not in page


def test_fees_owed_hide_the_button_and_say_where_to_pay(client, make_student, make_account):
    student = make_student(must_change=False)
    library = make_account("library")
    with write_transaction():
        clearance.place_hold(student, office("LIB"), library, "Library fees owed", Decimal("35.50"))
    log_in(client, student.account)
    page = client.get("/checklist").get_data(as_text=True)
    assert "Cancel my library card" not in page
    assert "Library fees owed: ¥35.50" in page and "circulation desk" in page


@pytest.mark.parametrize("data", [{}, {"confirm": "yes"}])
def test_a_forged_self_cancel_while_fees_are_owed_is_refused(client, make_student, make_account, data):
    student = make_student(must_change=False)
    with write_transaction():
        clearance.place_hold(student, office("LIB"), make_account("library"), "Library fees owed", Decimal(12))
    log_in(client, student.account)
    response = client.post(f"/checklist/steps/{library_step().id}/clear", data=data, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "open hold" in page and "12" in page and "Cancel your library card?" not in page
    assert clearance.step_view(student, library_step()).shown == "blocked"
    assert audit_count("step.cleared", by_people=True) == 0


def test_a_student_cannot_clear_a_staff_step_by_forging_a_post(client, make_student):
    student = make_student(must_change=False)
    log_in(client, student.account)
    housing = office("DORM").steps[0]
    for data in ({}, {"confirm": "yes"}):
        page = client.post(f"/checklist/steps/{housing.id}/clear", data=data, follow_redirects=True)
        assert "Only the office can clear this step" in page.get_data(as_text=True)
    assert clearance.step_view(student, housing).shown == "pending"


def test_an_unknown_step_is_not_found(client, make_student):
    log_in(client, make_student(must_change=False).account)
    assert client.post("/checklist/steps/9999/clear").status_code == 404


# --- Item 9: the Next card names everything in the way, and where to go -----------------------------


def test_a_blocked_step_shows_the_reason(client, make_student, make_account):
    student = make_student(must_change=False)
    with write_transaction():
        clearance.block_step(
            student, office("DORM").steps[0], make_account("housing", office_code="DORM"), "Broken window in room 214"
        )
    log_in(client, student.account)
    page = client.get("/checklist").get_data(as_text=True)
    assert "Blocked by the office:" in page and "Broken window in room 214" in page


def test_the_next_card_names_every_hold_and_the_block_and_where_to_go(client, make_student, make_account):
    student = make_student(must_change=False)
    housing = make_account("housing", office_code="DORM")
    with write_transaction():
        clearance.clear_step(student, library_step(), student.account)
        clearance.place_hold(student, office("DORM"), housing, "Key not returned", Decimal("50"))
        clearance.place_hold(student, office("DORM"), housing, "Desk damaged, ref. DMG-2026-0042", Decimal("120.50"))
        clearance.block_step(student, office("DORM").steps[0], housing, "Room not yet inspected")
    log_in(client, student.account)
    next_card = card(client.get("/checklist").get_data(as_text=True), "next-heading")
    assert "Next: Check out of student housing" in next_card
    assert "Key not returned: ¥50.00" in next_card and "Desk damaged, ref. DMG-2026-0042: ¥120.50" in next_card
    assert "once they release every hold" in next_card
    assert "Blocked by the office: Room not yet inspected" in next_card
    for detail in ("Building 5, room 101", "Mon–Fri 8:30–11:30", "0577-86689715", "Room keys, key-deposit receipt"):
        assert detail in next_card


def test_a_blocked_self_service_step_says_where_to_go(client, make_student, make_account):
    student = make_student(must_change=False)
    with write_transaction():
        clearance.block_step(student, library_step(), make_account("library"), "Lost book: The Anatomy of Melancholy")
    log_in(client, student.account)
    page = client.get("/checklist").get_data(as_text=True)
    next_card = card(page, "next-heading")
    assert "Lost book: The Anatomy of Melancholy" in next_card and "0577-86689602" in next_card
    assert "Cancel my library card" not in page


# --- Item 10: a voided printout, the hand-over, and a step reopened after it ---------------------


@pytest.fixture
def staff(make_account):
    return {code: make_account(code.lower(), office_code=code) for code in STAFF_OFFICES}


@pytest.fixture
def complete(make_student, staff):
    """A student with every step cleared, so a current form."""
    student = make_student(must_change=False)
    with write_transaction():
        clearance.refresh_students([student.id])
        clearance.clear_step(student, library_step(), student.account)
        for code, account in staff.items():
            clearance.clear_step(student, office(code).steps[0], account)
    return student


def test_a_complete_student_sees_everything_cleared(client, complete):
    log_in(client, complete.account)
    page = client.get("/checklist").get_data(as_text=True)
    assert "6 of 6 cleared" in page and "Everything is cleared" in page and "Next:" not in page
    assert "Print the Form for Leaving School" in page and "Bring your printed Form for Leaving School" in page
    assert "no longer valid" not in page


def test_a_voided_printout_is_named_with_when_and_why(client, complete, staff):
    log_in(client, complete.account)
    serial = clearance.current_form(complete).serial
    assert client.get("/form").status_code == 200  # printed
    with write_transaction():
        clearance.reopen_step(complete, office("CARD").steps[0], staff["CARD"], "Card balance refund not signed")
    page = client.get("/checklist").get_data(as_text=True)
    voided = clearance.last_voided_printout(complete)
    assert voided.serial == serial
    assert f"Your printed form {serial} is no longer valid" in page
    assert f"since {voided.voided_at.strftime('%Y-%m-%d')}" in page and "Card balance refund not signed" in page
    assert "print again once everything is cleared" in page
    assert "Print the Form for Leaving School" not in page and "Next: Return your campus card" in page


def test_a_form_never_printed_is_not_called_a_printout(client, complete, staff):
    with write_transaction():
        clearance.reopen_step(complete, office("CARD").steps[0], staff["CARD"], "Card balance refund not signed")
    log_in(client, complete.account)
    page = client.get("/checklist").get_data(as_text=True)
    assert "no longer valid" not in page and clearance.last_voided_printout(complete) is None


def test_once_cleared_again_the_new_serial_replaces_the_old_printout(client, complete, staff):
    log_in(client, complete.account)
    old = clearance.current_form(complete).serial
    client.get("/form.pdf")
    card_step = office("CARD").steps[0]
    with write_transaction():
        clearance.reopen_step(complete, card_step, staff["CARD"], "Card balance refund not signed")
    with write_transaction():
        clearance.clear_step(complete, card_step, staff["CARD"])
    new = clearance.current_form(complete).serial
    page = client.get("/checklist").get_data(as_text=True)
    assert new != old and "Everything is cleared" in page
    assert f"Your earlier printout {old} is no longer valid: hand in this one, {new}." in page


def hand_over(student, make_account):
    desk = make_account(
        "desk-clinical", role=Role.DESK, office_code=None, school="School of Clinical Medicine", display_name="Ms Wang"
    )
    with write_transaction():
        clearance.record_handover(clearance.current_form(student), desk, printout_received=True)
    return desk


def test_after_the_hand_over_the_checklist_says_where_and_stops_asking_for_the_form(client, complete, make_account):
    hand_over(complete, make_account)
    log_in(client, complete.account)
    page = client.get("/checklist").get_data(as_text=True)
    assert "Certificates collected on 2026-06-25 12:00 at School of Clinical Medicine" in page
    assert "Graduation certificate and degree certificate (handed over by Ms Wang)" in page
    assert "Your leaving-school procedure is complete." in page
    for gone in ("Bring your printed Form", "Print the Form for Leaving School", "Next:", "no longer valid"):
        assert gone not in page


def test_a_step_reopened_after_the_hand_over_is_to_settle_never_next(client, complete, staff, make_account):
    log_in(client, complete.account)
    client.get("/form")
    hand_over(complete, make_account)
    with write_transaction():
        clearance.place_hold(complete, office("DORM"), staff["DORM"], "Key deposit refund signed twice", Decimal(200))
    page = client.get("/checklist").get_data(as_text=True)
    assert "Certificates collected on" in page and "5 of 6 cleared" in page
    settle = card(page, f"settle-{office('DORM').steps[0].id}")
    assert "To settle: Check out of student housing" in settle
    assert "Key deposit refund signed twice: ¥200.00" in settle and "Building 5, room 101" in settle
    assert "asked you to settle one step" in page
    for incoherent in ("Next:", "procedure is complete", "Everything is cleared", "no longer valid", "Bring your"):
        assert incoherent not in page


def test_the_situation_is_decided_in_python(complete, staff, make_account):
    """What the page shows comes from one function: the template only words it."""
    assert clearance.student_situation(complete).printable is not None
    hand_over(complete, make_account)
    with write_transaction():
        clearance.reopen_step(complete, office("CARD").steps[0], staff["CARD"], "Refund form unsigned")
    db.session.expire_all()
    situation = clearance.student_situation(complete)
    assert situation.collected and not situation.finished and situation.next_row is None
    assert [row.step.office.code for row in situation.to_settle] == ["CARD"]
    assert situation.printable is None and situation.void_notice is None
