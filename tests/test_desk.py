"""The certificate desk: what a scan or a typed code shows, the hand-over, another school's students."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

import clearance
from database import db, write_transaction
from models import AuditEvent, Handover, Role
from tests import test_form
from tests.conftest import audit_count, log_in
from tests.test_form import current, step

# The form's fixtures: a student with every step cleared, the offices' staff, a desk account.
complete, staff, desk = test_form.complete, test_form.staff, test_form.desk

NOTHING_MATCHES = "Nothing matches what you typed — check it and type it again"
STUDENT_ID = "That is a student ID: scan the QR code or type the code printed beside it"


def verdicts() -> list[str]:
    """The verdict each desk check was audited with, in order."""
    query = select(AuditEvent.to_value).where(AuditEvent.action == "form.verified").order_by(AuditEvent.id)
    return list(db.session.scalars(query))


def typed(client, text: str) -> str:
    return client.get("/desk", query_string={"q": text}, follow_redirects=True).get_data(as_text=True)


def test_the_desk_sees_genuine_and_current_with_identity_and_records_the_hand_over_once(client, complete, desk):
    token = clearance.token_for(current(complete))
    log_in(client, desk)
    page = client.get(f"/verify/{token}").get_data(as_text=True)
    assert "Genuine and current" in page and "Nguyễn Thị Hương" in page and "1111210101" in page
    assert "Vietnam" in page and "Record the hand-over" in page
    response = client.post("/desk/handover", data={"token": token, "printout_received": "y"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Hand-over recorded" in page and "handed over just now" in page and "Already handed over" not in page
    assert "Already handed over" in client.get(f"/verify/{token}").get_data(as_text=True)  # any later scan
    again = client.post("/desk/handover", data={"token": token, "printout_received": "y"}, follow_redirects=True)
    assert "already handed over" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Handover)) == 1
    assert audit_count("certificates.handed-over") == 1
    assert verdicts() == ["current"] + ["handed-over"] * 3  # the page after the hand-over is a check too


def test_the_scan_box_comes_first_then_the_verdict_the_name_and_the_button(client, complete, desk):
    """The box at the bottom, focused, made the browser scroll the verdict away (the browser journey measures it)."""
    log_in(client, desk)
    page = client.get(f"/verify/{clearance.token_for(current(complete))}").get_data(as_text=True)
    order = ['id="scan-input"', "Genuine and current", "Nguyễn Thị Hương", "Record the hand-over", "Live checklist"]
    positions = [page.index(text) for text in order]
    assert positions == sorted(positions)
    assert page.count('id="scan-input"') == 1 and "autofocus" in page


def test_the_hand_over_needs_the_printout(client, complete, desk):
    token = clearance.token_for(current(complete))
    log_in(client, desk)
    page = client.post("/desk/handover", data={"token": token}, follow_redirects=True).get_data(as_text=True)
    assert "tick that you received it" in page
    assert db.session.scalar(select(func.count()).select_from(Handover)) == 0


def test_a_later_scan_of_an_older_form_shows_the_hand_over(client, complete, desk, staff):
    old_token = clearance.token_for(current(complete))
    with write_transaction():
        clearance.reopen_step(complete, step("CARD"), staff["CARD"], "Recheck")
    with write_transaction():
        clearance.clear_step(complete, step("CARD"), staff["CARD"])
    new_token = clearance.token_for(current(complete))
    log_in(client, desk)
    client.post("/desk/handover", data={"token": new_token, "printout_received": "y"})
    page = client.get(f"/verify/{old_token}").get_data(as_text=True)
    assert "Already handed over" in page and "Certificate desk" in page


def test_a_void_form_cannot_be_handed_over(client, complete, desk, staff):
    token = clearance.token_for(current(complete))
    with write_transaction():
        clearance.reopen_step(complete, step("CARD"), staff["CARD"], "Recheck")
    log_in(client, desk)
    page = client.get(f"/verify/{token}").get_data(as_text=True)
    assert "No longer valid" in page and "Recheck" in page and "Record the hand-over" not in page
    page = client.post(
        "/desk/handover", data={"token": token, "printout_received": "y"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "no longer valid" in page
    assert db.session.scalar(select(func.count()).select_from(Handover)) == 0


# --- What was scanned or typed ----------------------------------------------------------------


@pytest.mark.parametrize("tamper", ["serial", "signature", "foreign key"])
def test_an_altered_or_foreign_token_is_not_genuine(client, app, complete, desk, tamper):
    token = clearance.token_for(current(complete))
    if tamper == "serial":
        token = token.replace(current(complete).serial, "LS2026-000999")
    elif tamper == "signature":
        token = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    else:
        app.config["FORM_SIGNING_KEY"] = "another university's key"
        token = clearance.token_for(current(complete))
        app.config["FORM_SIGNING_KEY"] = "test-form-signing-key"
    log_in(client, desk)
    for page in (
        client.get(f"/verify/{token}").get_data(as_text=True),
        typed(client, "https://leaving.example.edu/verify/" + token),  # the scanner types the QR code's URL
        typed(client, token),
    ):
        assert "Not genuine" in page and "may be forged" in page and "Nguyễn" not in page
        assert NOTHING_MATCHES not in page
    assert verdicts() == ["not-genuine"] * 3


def test_the_typed_code_or_serial_finds_the_same_form_in_any_case_with_or_without_separators(client, complete, desk):
    form = current(complete)
    code, serial, number = clearance.display_code(form), form.serial, form.serial.split("-")[1]
    log_in(client, desk)
    for text in (
        code,
        code.lower().replace("-", " "),  # abcd efgh
        code.replace("-", ""),
        f" {code[:2]} {code[2:6]} {code[6:]} ",
        code.replace("-", "–"),  # an en dash from an input method
        code.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)}),  # full-width, from a Chinese input method
        serial,
        serial.lower(),
        serial.replace("-", ""),  # LS2026000003
        serial.lower().replace("-", ""),  # ls2026000003
        serial.replace("-", " "),
        f"LS2026-{int(number)}",  # without the leading zeros
        "https://leaving.example.edu/verify/" + clearance.token_for(form),
    ):
        assert "Genuine and current" in typed(client, text), text
    assert set(verdicts()) == {"current"}


@pytest.mark.parametrize("wrong", ["one letter", "too short", "too long", "serial", "words"])
def test_a_typing_mistake_is_not_a_forgery(client, complete, desk, wrong):
    form = current(complete)
    code = clearance.display_code(form)
    text = {
        "one letter": code[:-1] + ("X" if code[-1] != "X" else "Y"),
        "too short": code[:-1],
        "too long": code + "A",
        "serial": "LS2026-999999",
        "words": "hello desk",
    }[wrong]
    log_in(client, desk)
    page = typed(client, text)
    assert NOTHING_MATCHES in page and text in page  # what was typed, to compare with the printout
    assert "Not genuine" not in page and "forged" not in page and "Nguyễn" not in page
    assert 'id="scan-input"' in page
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "form.verified"))
    assert (event.to_value, event.subject) == ("no-match", text)


@pytest.mark.parametrize("text", ["1111210101", " 1111 2101 01 ", "2026123456", "ab-12345"])
def test_a_student_id_says_so(client, complete, make_student, desk, text):
    make_student(student_id="AB-12345", name="Other Student")  # IDs with letters exist too
    log_in(client, desk)
    page = typed(client, text)
    assert STUDENT_ID in page and "Not genuine" not in page and NOTHING_MATCHES not in page
    assert "Nguyễn" not in page and "Other Student" not in page  # a student ID shows nobody's form
    assert verdicts() == ["student-id"]


# --- Who may see what ------------------------------------------------------------------------------


def test_visitors_who_are_not_desk_staff_get_no_personal_data(app, complete, staff):
    token = clearance.token_for(current(complete))
    anonymous = app.test_client()
    response = anonymous.get(f"/verify/{token}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    for account in (complete.account, staff["LIB"]):
        client = app.test_client()
        log_in(client, account)
        response = client.get(f"/verify/{token}")
        assert response.status_code == 403 and "Vietnam" not in response.get_data(as_text=True)
        assert client.get("/desk", query_string={"q": clearance.display_code(current(complete))}).status_code == 403
    assert verdicts() == []


def test_a_desk_of_another_school_sends_the_student_to_their_schools_desk(client, complete, make_account):
    other_school_desk = make_account("desk-nursing", role=Role.DESK, office_code=None, school="School of Nursing")
    form = current(complete)
    token = clearance.token_for(form)
    log_in(client, other_school_desk)
    for page in (client.get(f"/verify/{token}").get_data(as_text=True), typed(client, clearance.display_code(form))):
        assert "Another school's student" in page
        assert "send the student to the certificate desk of School of Clinical Medicine" in page
        assert "Certificates for this student are handed over at: School office" in page  # their cohort's place
        assert 'id="scan-input"' in page  # the next student is one scan away
        # Their school, nothing more: no name, ID, nationality, checklist or hand-over.
        for private in ("Nguyễn", "1111210101", "Vietnam", "Live checklist", "Record the hand-over", "Genuine"):
            assert private not in page
    assert verdicts() == ["other-school", "other-school"]
    client.post("/desk/handover", data={"token": token, "printout_received": "y"})
    assert db.session.scalar(select(func.count()).select_from(Handover)) == 0


def test_the_student_sees_the_hand_over(app, client, complete, desk):
    token = clearance.token_for(current(complete))
    log_in(client, desk)
    client.post("/desk/handover", data={"token": token, "printout_received": "y"})
    student_client = app.test_client()
    log_in(student_client, complete.account)
    assert "Certificates collected on" in student_client.get("/checklist").get_data(as_text=True)
