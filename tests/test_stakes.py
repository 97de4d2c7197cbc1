"""What an office's change would void (clearance.stakes), and the changes that wait for it to be confirmed."""

from __future__ import annotations

import html
import io
import re
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select

import audit
import clearance
from clearance.stakes import Stake
from database import db, write_transaction
from models import AuditEvent, FormVersion, Hold, Office, Role, Step, StepMode, StepStatus, Student
from tests.conftest import log_in, office

STANDARD = ("LIB", "DORM", "FIN", "CARD", "INTL", "SCHOOL")


def step(code: str) -> Step:
    return office(code).steps[0]


@pytest.fixture
def staff(make_account):
    return {code: make_account(code.lower(), office_code=code, display_name=f"{code} counter") for code in STANDARD}


@pytest.fixture
def desk(make_account):
    return make_account("desk", role=Role.DESK, office_code=None, display_name="Certificate desk")


def clear_all(student: Student, staff) -> FormVersion:
    with write_transaction():
        clearance.refresh_students([student.id])
        clearance.clear_step(student, step("LIB"), student.account)
        for code in ("DORM", "CARD", "INTL", "SCHOOL"):
            clearance.clear_step(student, step(code), staff[code])
    return clearance.current_form(student)


def printed(student: Student, form: FormVersion, clock, minutes_later: int = 0) -> None:
    """A print of the form, as the student's print page records it."""
    clock.advance(minutes=minutes_later)
    with write_transaction():
        audit.record("form.printed", student.account, student_id=student.id, subject=form.serial, after="pdf")


def rows() -> tuple[int, int, int, int]:
    count = lambda model: db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
    voided = db.session.scalar(select(func.count()).select_from(FormVersion).where(FormVersion.voided_at.is_not(None)))
    return count(StepStatus), count(Hold), count(AuditEvent), voided


# --- What is at stake ------------------------------------------------------------------------------


def test_nothing_is_at_stake_without_a_form_or_a_hand_over(make_student):
    student = make_student(must_change=False)
    assert clearance.form_at_stake(student, office("DORM")) is None


def test_a_form_never_printed_is_at_stake_as_issued(make_student, staff):
    student = make_student(must_change=False)
    form = clear_all(student, staff)
    assert clearance.form_at_stake(student, office("DORM")) == Stake(form, None, None)


def test_the_latest_print_of_that_serial_counts(make_student, staff, clock):
    student = make_student(must_change=False)
    form = clear_all(student, staff)
    printed(student, form, clock, 5)
    printed(student, form, clock, 60)
    stake = clearance.form_at_stake(student, office("CARD"))
    assert stake.form.serial == form.serial
    assert stake.printed_at == clock.now.replace(tzinfo=None)
    assert stake.confirmation == f"{form.serial}+printed-{stake.printed_at:%Y%m%d%H%M%S%f}"


def test_a_print_after_the_warning_asks_again(make_student, staff, clock):
    student = make_student(must_change=False)
    form = clear_all(student, staff)
    shown = clearance.form_at_stake(student, office("DORM")).confirmation  # issued, not printed yet
    printed(student, form, clock, 5)  # the student prints before the clerk confirms
    with pytest.raises(clearance.Unconfirmed), write_transaction():
        clearance.reopen_step(student, step("DORM"), staff["DORM"], "Keys", confirmed=shown)
    assert clearance.current_form(student) is not None


def test_a_hold_of_an_office_with_no_step_for_the_student_voids_nothing(make_student, make_cohort, staff):
    student = make_student(must_change=False)
    elsewhere = make_cohort("PG2014")
    only_others = Office(code="LAB", name_en="Laboratory")
    db.session.add(Step(office=only_others, title_en="Return lab coat", mode=StepMode.STAFF, cohorts=[elsewhere]))
    db.session.commit()
    clear_all(student, staff)
    assert clearance.form_at_stake(student, only_others) is None
    assert clearance.form_at_stake(student, office("LIB")) is not None


def test_after_the_hand_over_the_hand_over_is_at_stake_even_with_no_current_form(make_student, staff, desk):
    student = make_student(must_change=False)
    form = clear_all(student, staff)
    with write_transaction():
        handover = clearance.record_handover(form, desk, printout_received=True)
    stake = clearance.form_at_stake(student, office("CARD"))
    assert (stake.form.serial, stake.handover.id) == (form.serial, handover.id)
    assert stake.confirmation == f"{form.serial}+handover-{handover.id}"
    with write_transaction():
        clearance.reopen_step(student, step("CARD"), staff["CARD"], "Refund not signed", confirmed=stake.confirmation)
    after = clearance.form_at_stake(student, office("CARD"))
    assert after.form is None and after.handover.id == handover.id
    assert after.confirmation == f"handover-{handover.id}"


def test_stakes_of_many_students_in_a_few_queries(make_student, staff, clock, app):
    students = [make_student(f"11112101{n:02d}", name=f"Student {n}", must_change=False) for n in range(4)]
    forms = {s.id: clear_all(s, staff) for s in students[:2]}
    printed(students[0], forms[students[0].id], clock, 1)
    dorm = office("DORM")
    assert [s.cohort_id for s in students] and dorm.steps  # loaded, as a hold list has them
    statements = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        stakes = clearance.stakes_of(students, dorm)
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    assert set(stakes) == {students[0].id, students[1].id}
    assert stakes[students[0].id].printed_at is not None and stakes[students[1].id].printed_at is None
    assert len(statements) <= 4, statements  # forms, hand-overs, prints


# --- Changes wait for the confirmation -------------------------------------------------------------


CHANGES = {
    "reopen": lambda student, staff, confirmed: clearance.reopen_step(
        student, step("DORM"), staff["DORM"], "Keys not returned after all", confirmed=confirmed
    ),
    "block": lambda student, staff, confirmed: clearance.block_step(
        student, step("DORM"), staff["DORM"], "Room damage", confirmed=confirmed
    ),
    "hold": lambda student, staff, confirmed: clearance.place_hold(
        student, office("DORM"), staff["DORM"], "Room damage", Decimal("80"), confirmed=confirmed
    ),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_change_that_voids_a_form_waits_for_its_serial_and_changes_nothing_before(make_student, staff, change):
    student = make_student(must_change=False)
    form = clear_all(student, staff)
    before = rows()
    for confirmed in ("", "LS2026-999999"):  # nothing confirmed, or another form than the one at stake
        with pytest.raises(clearance.Unconfirmed) as waiting, write_transaction():
            CHANGES[change](student, staff, confirmed)
        assert waiting.value.stake.form.serial == form.serial
        assert rows() == before
        assert clearance.current_form(student).serial == form.serial
    with write_transaction():
        CHANGES[change](student, staff, form.serial)
    assert clearance.current_form(student) is None
    assert db.session.get(FormVersion, form.id).voided_at is not None


def test_a_change_without_a_form_at_stake_needs_no_confirmation(make_student, staff):
    student = make_student(must_change=False)
    with write_transaction():
        clearance.refresh_students([student.id])
        clearance.clear_step(student, step("DORM"), staff["DORM"])
        clearance.reopen_step(student, step("DORM"), staff["DORM"], "Wrong student", confirmed="")
    assert clearance.step_view(student, step("DORM")).shown == "pending"


def test_a_refusal_comes_before_the_question(make_student, staff):
    student = make_student(must_change=False)
    clear_all(student, staff)
    with pytest.raises(clearance.Refused), write_transaction():
        clearance.place_hold(student, office("DORM"), staff["DORM"], "   ", None, confirmed="")
    with pytest.raises(clearance.Refused), write_transaction():
        clearance.reopen_step(student, step("DORM"), staff["LIB"], "Not my office", confirmed="")


def test_the_system_and_imports_do_not_ask(make_student, staff, clock):
    student = make_student(must_change=False)
    clear_all(student, staff)
    clock.advance(minutes=1)
    with write_transaction():
        clearance.place_hold(student, office("LIB"), None, "Imported fine", Decimal("5"))
    assert clearance.current_form(student) is None
    assert clearance.form_at_stake(student, office("LIB")) is None


# --- Through HTTP: the record asks first, without any script --------------------------------------


def hidden_fields(page: str) -> dict[str, str]:
    """The confirmation form's hidden fields, as a browser sends them back."""
    form = re.search(r'<form method="post" action="[^"]*" class="stake-actions">(.*?)</form>', page, re.S).group(1)
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))
    fields.pop("csrf_token", None)
    return {name: html.unescape(value) for name, value in fields.items()}


@pytest.mark.parametrize(
    ("action", "data", "button"),
    [
        ("reopen", {"reason": "Keys <not> returned"}, "Reopen and void form"),
        ("block", {"reason": "Room damage"}, "Block and void form"),
        ("hold", {"reason": "Room damage", "amount": "80.50"}, "Place the hold and void form"),
    ],
)
def test_the_record_names_the_printed_form_and_asks_before_voiding_it(
    client, make_student, staff, clock, action, data, button
):
    student = make_student(must_change=False)
    form = clear_all(student, staff)
    printed(student, form, clock, 30)
    log_in(client, staff["DORM"])
    url = (
        "/staff/students/1111210101/holds"
        if action == "hold"
        else f"/staff/students/1111210101/steps/{step('DORM').id}/{action}"
    )
    before = rows()
    response = client.post(url, data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and rows() == before
    assert f"This voids printed form {form.serial}" in page
    assert "printed form " + form.serial + " on 2026-06-25 12:30" in page
    assert f"{button} {form.serial}" in page and "Cancel: change nothing" in page
    carried = hidden_fields(page)
    assert carried == {**data, "confirm": clearance.form_at_stake(student, office("DORM")).confirmation}
    assert client.post(url, data=carried).status_code == 302
    assert clearance.current_form(student) is None
    assert db.session.get(FormVersion, form.id).void_reason
    assert rows() != before


def test_a_form_never_printed_is_named_as_issued(client, make_student, staff):
    student = make_student(must_change=False)
    form = clear_all(student, staff)
    log_in(client, staff["CARD"])
    page = client.post(
        f"/staff/students/1111210101/steps/{step('CARD').id}/reopen", data={"reason": "Card not returned"}
    ).get_data(as_text=True)
    assert f"This voids form {form.serial}" in page and "has not been printed yet" in page
    assert "issued to Arjun Raghavan on 2026-06-25 12:00" in page


def test_after_the_hand_over_the_warning_says_when_by_whom_and_that_it_is_not_undone(client, make_student, staff, desk):
    student = make_student(must_change=False)
    form = clear_all(student, staff)
    with write_transaction():
        clearance.record_handover(form, desk, printout_received=True)
    log_in(client, staff["CARD"])
    url = f"/staff/students/1111210101/steps/{step('CARD').id}/reopen"
    page = client.post(url, data={"reason": "Refund not signed"}).get_data(as_text=True)
    assert "were handed over to Arjun Raghavan on 2026-06-25 12:00 by Certificate desk" in page
    assert "Reopening does not take them back" in page
    client.post(url, data=hidden_fields(page))
    record = client.get("/staff/students/1111210101").get_data(as_text=True)
    assert "handed over on 2026-06-25 12:00 by Certificate desk" in record
    # The form is void now, the hand-over stays: blocking it asks again, about the hand-over alone.
    page = client.post(
        f"/staff/students/1111210101/steps/{step('CARD').id}/block", data={"reason": "Refund not signed"}
    ).get_data(as_text=True)
    assert "The certificates were already handed over" in page and "Blocking does not take them back" in page
    assert "Block all the same" in page


def test_a_stale_confirmation_asks_again(client, make_student, staff):
    student = make_student(must_change=False)
    form = clear_all(student, staff)
    log_in(client, staff["DORM"])
    url = f"/staff/students/1111210101/steps/{step('DORM').id}/reopen"
    response = client.post(url, data={"reason": "Keys", "confirm": "LS2026-000999"})
    assert response.status_code == 409 and clearance.current_form(student).serial == form.serial


def test_nothing_to_void_changes_at_once(client, make_student, staff):
    student = make_student(must_change=False)
    log_in(client, staff["DORM"])
    client.post(f"/staff/students/1111210101/steps/{step('DORM').id}/clear")
    response = client.post(f"/staff/students/1111210101/steps/{step('DORM').id}/reopen", data={"reason": "Oops"})
    assert response.status_code == 302
    assert clearance.step_view(student, step("DORM")).shown == "pending"


def test_the_hold_list_preview_flags_printed_forms_and_hand_overs(client, make_student, staff, clock, desk):
    printed_one = make_student("1111210101", must_change=False)
    handed = make_student("1111210102", name="Wanjiru Kamau", must_change=False)
    make_student("1111210103", name="Sushila Thapa", must_change=False)  # nothing at stake
    form = clear_all(printed_one, staff)
    printed(printed_one, form, clock, 10)
    with write_transaction():
        clearance.record_handover(clear_all(handed, staff), desk, printout_received=True)
    log_in(client, staff["LIB"])
    text = "student_id,amount,reason\n1111210101,5,Late book\n1111210102,5,Late book\n1111210103,5,Late book\n"
    data = {"stage": "preview", "encoding": "utf-8", "file": (io.BytesIO(text.encode()), "fines.csv")}
    page = client.post("/staff/holds/upload", data=data, content_type="multipart/form-data").get_data(as_text=True)
    assert "2 of these holds void students' forms for leaving school" in page
    row = r'<tr><td class="line"[^>]*>\d+</td><td class="id">(\d+)</td>.*?</tr>'
    rows_ = {m.group(1): m.group(0) for m in re.finditer(row, page, re.S)}
    assert f"Voids form {form.serial}, printed on 2026-06-25 12:10." in rows_["1111210101"]
    assert "Arjun Raghavan" in rows_["1111210101"]
    assert "Certificates handed over on 2026-06-25 12:10 by Certificate desk" in rows_["1111210102"]
    assert "Voids" not in rows_["1111210103"] and "Sushila Thapa" in rows_["1111210103"]
