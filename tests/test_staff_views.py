"""The office pages through HTTP: queue, record, actions, and who may do what."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from decimal import Decimal
from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text

import clearance
from app import create_app
from database import db, write_transaction
from models import AuditEvent, Hold, Role, StepStatus, student_search_key
from tests.conftest import TEST_KEYS, log_in, office


def step_of(code):
    return office(code).steps[0]


def snapshot() -> tuple[int, int, int, int]:
    """What the access tests assert did not change."""
    count = lambda model: db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
    released = db.session.scalar(select(func.count()).select_from(Hold).where(Hold.released_at.is_not(None)))
    return count(StepStatus), count(Hold), released, count(AuditEvent)


@pytest.fixture
def people(make_student, make_account, make_cohort):
    """Two students of two schools, a library hold on one, and accounts of every kind."""
    make_cohort()
    a = make_student("1111210101", must_change=False)
    b = make_student("1111210102", name="Wanjiru Kamau", school="School of Nursing", must_change=False)
    accounts = {
        "library": make_account("library", office_code="LIB"),
        "housing": make_account("housing", office_code="DORM"),
        "clinical": make_account("clinical", office_code="SCHOOL", school="School of Clinical Medicine"),
        "desk": make_account("desk", role=Role.DESK, office_code=None),
        "desk-housing": make_account("desk-housing", role=Role.DESK, office_code="DORM"),
        "admin": make_account("admin", role=Role.ADMIN, office_code=None),
    }
    with write_transaction():
        hold = clearance.place_hold(b, office("LIB"), accounts["library"], "Library fees owed", Decimal("9.90"))
    return {"a": a, "b": b, "hold": hold, **accounts}


# --- The queue -------------------------------------------------------------------


def test_staff_see_their_office_queue_with_counts(client, people):
    log_in(client, people["library"])
    page = client.get("/staff/").get_data(as_text=True)
    assert "Library" in page and "1111210101" in page and "Wanjiru Kamau" in page
    assert "<strong>1</strong> pending" in page and "<strong>1</strong> blocked" in page
    assert "Library fees owed" in page and "¥9.90" in page


def test_the_queue_searches_by_id_or_name(client, people):
    log_in(client, people["library"])
    by_name = client.get("/staff/?q=wanjiru").get_data(as_text=True)
    assert "1111210102" in by_name and "1111210101" not in by_name
    by_id = client.get("/staff/?q=1111210101").get_data(as_text=True)
    assert "1111210101" in by_id and "1111210102" not in by_id
    assert "No student matches" in client.get("/staff/?q=%25_").get_data(as_text=True)


def test_the_queue_filters_by_status(client, people):
    log_in(client, people["library"])
    blocked = client.get("/staff/?status=blocked").get_data(as_text=True)
    assert "1111210102" in blocked and "1111210101" not in blocked


def test_a_school_office_sees_only_its_school(client, people):
    log_in(client, people["clinical"])
    page = client.get("/staff/").get_data(as_text=True)
    assert "1111210101" in page and "1111210102" not in page
    assert client.get("/staff/students/1111210102").status_code == 403


def test_one_click_clear_from_the_queue_returns_to_the_queue(client, people):
    log_in(client, people["housing"])
    response = client.post(
        f"/staff/students/1111210101/steps/{step_of('DORM').id}/clear", data={"next": "/staff/?q=1111"}
    )
    assert response.headers["Location"] == "/staff/?q=1111"
    assert clearance.step_view(people["a"], step_of("DORM")).shown == "cleared"
    assert "<strong>1</strong> cleared today" in client.get("/staff/").get_data(as_text=True)


def test_the_queue_pages_through_many_students(client, make_student, make_account, make_cohort):
    make_cohort()
    for number in range(60):
        make_student(f"2000{number:04d}", name=f"Student {number}")
    log_in(client, make_account("housing", office_code="DORM"))
    first = client.get("/staff/").get_data(as_text=True)
    assert "page 1 of 2" in first and "20000000" in first and "20000059" not in first
    assert "20000059" in client.get("/staff/?page=2").get_data(as_text=True)


# --- The record and the actions ---------------------------------------------------------


def test_the_record_shows_identity_office_steps_holds_and_history(client, people):
    log_in(client, people["library"])
    page = client.get("/staff/students/1111210102").get_data(as_text=True)
    assert "Wanjiru Kamau" in page and "School of Nursing" in page
    assert "Library: this office" in page and "Place a hold" in page
    assert "Release" in page and "hold placed" in page


def test_release_then_clear_and_the_student_sees_it(app, client, people):
    log_in(client, people["library"])
    hold = people["hold"]
    client.post(f"/staff/students/1111210102/holds/{hold.id}/release", data={"reason": "Paid at the counter"})
    assert clearance.step_view(people["b"], step_of("LIB")).shown == "pending"
    client.post(f"/staff/students/1111210102/steps/{step_of('LIB').id}/clear")
    student_client = app.test_client()
    log_in(student_client, people["b"].account)
    page = student_client.get("/checklist").get_data(as_text=True)
    assert "Cleared on" in page and "library" in page


def test_clearing_with_an_open_hold_is_refused_with_a_message(client, people):
    log_in(client, people["library"])
    page = client.post(f"/staff/students/1111210102/steps/{step_of('LIB').id}/clear", follow_redirects=True).get_data(
        as_text=True
    )
    assert "open hold" in page and "9.90" in page


def test_clearing_before_prerequisites_is_refused_with_their_names(client, people):
    log_in(client, people["clinical"])
    page = client.post(
        f"/staff/students/1111210101/steps/{step_of('SCHOOL').id}/clear", follow_redirects=True
    ).get_data(as_text=True)
    assert "these steps come first" in page and "Check out of student housing" in page


def test_block_needs_a_reason_and_the_student_sees_it(app, client, people):
    log_in(client, people["housing"])
    url = f"/staff/students/1111210101/steps/{step_of('DORM').id}/block"
    assert "Give a reason" in client.post(url, data={"reason": " "}, follow_redirects=True).get_data(as_text=True)
    client.post(url, data={"reason": "Room 214: broken window"})
    student_client = app.test_client()
    log_in(student_client, people["a"].account)
    assert "Room 214: broken window" in student_client.get("/checklist").get_data(as_text=True)


def test_placing_a_hold_on_a_cleared_step_blocks_it_again(client, people):
    log_in(client, people["library"])
    client.post(f"/staff/students/1111210101/steps/{step_of('LIB').id}/clear")
    client.post("/staff/students/1111210101/holds", data={"reason": "Overdue book", "amount": "20"})
    assert clearance.step_view(people["a"], step_of("LIB")).shown == "blocked"


def test_a_bad_amount_is_refused_with_a_message_and_nothing_placed(client, people):
    log_in(client, people["library"])
    before = snapshot()
    page = client.post(
        "/staff/students/1111210101/holds", data={"reason": "Fees", "amount": "-5"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "at most 2 decimals" in page and snapshot() == before


def test_a_desk_account_that_names_an_office_clears_like_staff(client, people):
    log_in(client, people["desk-housing"])
    client.post(f"/staff/students/1111210101/steps/{step_of('DORM').id}/clear")
    assert clearance.step_view(people["a"], step_of("DORM")).shown == "cleared"


def test_an_admin_acts_for_any_office(client, people):
    log_in(client, people["admin"])
    assert "Campus Card Centre" in client.get("/staff/?office=CARD").get_data(as_text=True)
    client.post(f"/staff/students/1111210101/steps/{step_of('CARD').id}/clear?office=CARD")
    assert clearance.step_view(people["a"], step_of("CARD")).shown == "cleared"


# --- Access matrix: nothing changes --------------------------------------------------------


def requests_(people):
    lib, dorm = step_of("LIB").id, step_of("DORM").id
    hold = people["hold"].id
    return {
        "clear other office's step": ("post", f"/staff/students/1111210101/steps/{dorm}/clear", {}),
        "block other office's step": ("post", f"/staff/students/1111210101/steps/{dorm}/block", {"reason": "x"}),
        "clear library step": ("post", f"/staff/students/1111210101/steps/{lib}/clear", {}),
        "release library hold": ("post", f"/staff/students/1111210102/holds/{hold}/release", {"reason": "x"}),
        "place hold": ("post", "/staff/students/1111210102/holds", {"reason": "x"}),
        "queue": ("get", "/staff/", None),
        "record": ("get", "/staff/students/1111210102", None),
    }


FORBIDDEN = [
    # who, which request, expected status
    ("anonymous", "clear library step", 302),
    ("anonymous", "queue", 302),
    ("student a", "clear library step", 403),
    ("student a", "release library hold", 403),
    ("student a", "queue", 403),
    ("student a", "record", 403),
    ("library", "clear other office's step", 403),
    ("library", "block other office's step", 403),
    ("housing", "release library hold", 403),
    ("clinical", "record", 403),
    ("clinical", "place hold", 403),
    ("desk", "queue", 403),
    ("desk", "clear library step", 403),
]


@pytest.mark.parametrize(("who", "request_name", "expected"), FORBIDDEN)
def test_access_matrix(app, people, who, request_name, expected):
    client = app.test_client()
    if who == "student a":
        log_in(client, people["a"].account)
    elif who != "anonymous":
        log_in(client, people[who])
    method, url, data = requests_(people)[request_name]
    before = snapshot()
    response = client.post(url, data=data) if method == "post" else client.get(url)
    assert response.status_code == expected
    if expected == 302:
        assert "/login" in response.headers["Location"]
    assert snapshot() == before


def test_unknown_student_or_action_is_not_found(client, people):
    log_in(client, people["library"])
    assert client.get("/staff/students/0000").status_code == 404
    assert client.post(f"/staff/students/1111210101/steps/{step_of('LIB').id}/delete").status_code == 404
    assert client.post("/staff/students/1111210101/holds/999/release", data={"reason": "x"}).status_code == 404


@pytest.mark.parametrize("amount", ["12.345", "-1", "abc", "100000000"])
def test_amounts_are_yuan_and_fen_or_refused(client, people, amount):
    log_in(client, people["library"])
    before = snapshot()
    page = client.post(
        "/staff/students/1111210101/holds", data={"reason": "Fees", "amount": amount}, follow_redirects=True
    ).get_data(as_text=True)
    assert ("at most 2 decimals" in page or "Not a valid decimal" in page) and snapshot() == before


def test_the_rule_refuses_a_bad_amount_too(people):
    with pytest.raises(clearance.Refused, match="at most 2 decimals"), write_transaction():
        clearance.place_hold(people["a"], office("LIB"), people["library"], "Fees", Decimal("12.345"))


def test_a_reopened_step_tells_the_student_why(app, client, people):
    log_in(client, people["library"])
    client.post(f"/staff/students/1111210101/steps/{step_of('LIB').id}/clear")
    client.post(
        f"/staff/students/1111210101/steps/{step_of('LIB').id}/reopen", data={"reason": "Card not physically returned"}
    )
    student_client = app.test_client()
    log_in(student_client, people["a"].account)
    assert "Reopened by the office: Card not physically returned" in student_client.get("/checklist").get_data(
        as_text=True
    )


@pytest.mark.parametrize("typed", ["nguyen", "NGUYỄN", "thi huong", "阮氏"])
def test_search_ignores_case_and_accents(client, make_student, make_account, make_cohort, typed):
    make_cohort()
    make_student("1414320202", name="Nguyễn Thị Hương", name_zh="阮氏香", must_change=False)
    make_student("1111210109", name="Łukasz Wójcik", must_change=False)
    log_in(client, make_account("housing", office_code="DORM"))
    page = client.get("/staff/", query_string={"q": typed}).get_data(as_text=True)
    assert "1414320202" in page and "1111210109" not in page
    assert "1111210109" in client.get("/staff/?q=lukasz wojcik").get_data(as_text=True)


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("Raghavan Arjun", {"1111210101"}),
        ("raghavan, ARJUN", {"1111210101"}),
        ("Arjun Müller", set()),  # every word must appear
        ("mueller", {"201550101", "201550102"}),
        ("muller", {"201550101"}),
        ("Müller zoe", {"201550101"}),
        ("MÜLLER", {"201550101", "201550102"}),  # "Mueller" as the passport spells it
        ("groß", {"201550102"}),
        ("gross", {"201550102"}),
    ],
)
def test_search_finds_every_word_in_any_order_and_common_transliterations(
    client, make_student, make_account, make_cohort, typed, found
):
    make_cohort()
    make_student("1111210101", must_change=False)
    make_student("201550101", name="Zoë Müller", must_change=False)
    make_student("201550102", name="Jörg Mueller Groß", must_change=False)
    log_in(client, make_account("housing", office_code="DORM"))
    page = client.get("/staff/", query_string={"q": typed}).get_data(as_text=True)
    assert {number for number in ("1111210101", "201550101", "201550102") if number in page} == found


def test_migration_0004_recomputes_the_keys_of_students_already_stored(tmp_path):
    path = tmp_path / "old.sqlite3"
    app = create_app({**TEST_KEYS, "DATABASE_URL": f"sqlite:///{path}", "TESTING": True})
    migrations = str(Path(__file__).resolve().parent.parent / "migrations")
    with app.app_context():
        upgrade(directory=migrations, revision="0003_one_current_form")
        db.engine.dispose()
    with closing(sqlite3.connect(path)) as connection, connection:  # a student stored before 0004, keyed by 0002
        connection.execute(
            "INSERT INTO accounts (id, username, role, display_name, disabled, must_change_password, failed_logins,"
            " session_generation, created_at) VALUES (1, '201550101', 'student', '', 0, 1, 0, 0, '2026-06-25')"
        )
        connection.execute(
            "INSERT INTO cohorts (id, code, name_en, name_zh, kind, opens_on, closes_on, certificate_hours,"
            " certificate_place, documents) VALUES (1, 'ND', 'Non-degree', '', 'non-degree', '2026-06-20',"
            " '2026-07-03', '', '', 'Certificate of completion')"
        )
        connection.execute("INSERT INTO schools (id, name, name_zh) VALUES (1, 'School of Nursing', '')")
        connection.execute(
            "INSERT INTO students (id, account_id, student_id, name, name_zh, cohort_id, school_id, programme,"
            " nationality, email, window_extension_reason, created_at, updated_at, search_key)"
            " VALUES (1, 1, '201550101', 'Zoë Müller', '', 1, 1, '', '', '', '', '2026-06-25', '2026-06-25',"
            " 'zoe muller')"
        )
    with app.app_context():
        upgrade(directory=migrations, revision="0004_search_transliteration")
        assert db.session.scalar(text("SELECT search_key FROM students")) == student_search_key("Zoë Müller", "")
        db.session.rollback()  # end the read, so the next one sees the downgrade
        downgrade(directory=migrations, revision="0003_one_current_form")
        assert db.session.scalar(text("SELECT search_key FROM students")) == "zoe muller"
        db.session.remove()
        db.engine.dispose()


def test_steps_with_prerequisites_show_who_is_ready_first_and_clear_only_them(client, people, make_student):
    waiting = make_student("1111210100", name="Sushila Thapa", must_change=False)  # first by ID, not ready
    ready = people["a"]
    with write_transaction():
        clearance.refresh_students([ready.id, waiting.id])
        for code in ("LIB", "DORM", "CARD", "INTL"):
            clearance.clear_step(ready, step_of(code), people["admin"])
        clearance.clear_step(waiting, step_of("LIB"), people["admin"])
    log_in(client, people["clinical"])
    page = client.get("/staff/").get_data(as_text=True)
    assert "<strong>1</strong> ready" in page and "<strong>2</strong> pending" in page
    assert page.index("1111210101") < page.index("1111210100")  # ready students first
    ready_row = page[page.index("1111210101") : page.index("1111210100")]
    waiting_row = page[page.index("1111210100") :]
    assert "Ready" in ready_row and ">Clear<" in ready_row
    assert "Waiting for other offices (3 left)" in waiting_row and ">Clear<" not in waiting_row
    only_ready = client.get("/staff/?status=ready").get_data(as_text=True)
    assert "1111210101" in only_ready and "1111210100" not in only_ready
    record = client.get("/staff/students/1111210100").get_data(as_text=True)
    assert "Clear this step" not in record and "Waiting for other offices (3 left)" in record
    assert "Clear this step" in client.get("/staff/students/1111210101").get_data(as_text=True)


@pytest.mark.parametrize(
    "url",
    [
        "/staff/?cohort=²",
        "/staff/?page=²",
        "/staff/?school=99999999999999999999",
        "/staff/?step=-1&page=0",
        "/staff/bulk-clear?step=²",
        "/staff/bulk-clear?step=99999999999999999999",
    ],
)
def test_odd_query_values_never_crash(client, people, url):
    log_in(client, people["library"])
    assert client.get(url).status_code in (200, 403, 404)


@pytest.mark.parametrize(
    "url",
    [
        "/staff/students/1111210101/steps/99999999999999999999/clear",
        "/staff/students/1111210101/holds/99999999999999999999/release",
    ],
)
def test_huge_ids_in_the_path_are_not_found(client, people, url):
    log_in(client, people["library"])
    assert client.post(url, data={"reason": "x"}).status_code == 404


def test_a_nan_amount_is_refused_politely(client, people):
    log_in(client, people["library"])
    before = snapshot()
    page = client.post(
        "/staff/students/1111210101/holds", data={"reason": "Fees", "amount": "NaN"}, follow_redirects=True
    )
    assert page.status_code == 200 and snapshot() == before


@pytest.mark.parametrize("url", ["/staff/?q=a%00b", "/staff/students/%00", "/staff/?office=a%00"])
def test_a_nul_byte_is_refused_before_any_query(client, people, url):
    """PostgreSQL refuses NUL in text; SQLite does not: refused the same way on both."""
    log_in(client, people["library"])
    response = client.get(url)
    assert response.status_code == 400 and "Nothing was changed" in response.get_data(as_text=True)


def test_a_nul_byte_in_a_repeated_field_is_refused_too(client, people):
    log_in(client, people["library"])
    assert client.get("/staff/?q=ok&q=a%00b").status_code == 400
