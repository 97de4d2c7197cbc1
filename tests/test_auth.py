"""The login form itself, forced password change, lockout, sessions, the window, disabled accounts."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

import accounts
from app import create_app
from config import DEFAULTS
from database import db
from models import Account, AuditEvent, Role
from tests.conftest import audit_count, log_in

WRONG = "The student ID (or user name) or the password is not right"


def post_login(client, username, password, **kwargs):
    return client.post("/login", data={"username": username, "password": password}, **kwargs)


def test_student_logs_in_with_the_passport_digits_and_must_change_first(client, make_student):
    make_student(passport_no="E 1234-5678")
    response = post_login(client, "1111210101", "345678")
    assert response.status_code == 302 and response.headers["Location"] == "/checklist"
    # Every page leads to the change form until the password is changed.
    for path in ("/checklist", "/account", "/"):
        assert client.get(path, follow_redirects=True).request.path == "/password"
    assert "choose your own password" in client.get("/password").get_data(as_text=True)


@pytest.mark.parametrize(
    ("new", "problem"),
    [
        ("short1", "at least 8 characters"),
        ("1111210101", "user name"),
        ("345678", "at least 8 characters"),
        ("password", "first that anyone would try"),
        ("Qwertyuiop", "first that anyone would try"),
        ("aaaaaaaaaa", "first that anyone would try"),
    ],
)
def test_a_weak_new_password_is_refused_with_a_reason(client, make_student, new, problem):
    student = make_student()
    log_in(client, student.account)
    page = client.post("/password", data={"current_password": "345678", "new_password": new, "confirm": new})
    assert problem in page.get_data(as_text=True)
    db.session.refresh(student.account)
    assert student.account.must_change_password and student.account.password_hash is None


def test_reusing_the_initial_password_is_refused_even_when_padded(client, make_student, app):
    # A passport with more digits: its initial password is still the last six.
    student = make_student(passport_no="P12345678")
    log_in(client, student.account)
    page = client.post(
        "/password", data={"current_password": "345678", "new_password": "345678", "confirm": "345678"}
    ).get_data(as_text=True)
    assert "at least 8 characters" in page
    assert "initial password" in page


def test_changing_the_password_replaces_the_keyed_hash_and_keeps_the_session(app, client, make_student):
    # The one test on the production hash: the others use a cheap one to keep the suite fast.
    app.config["PASSWORD_HASH_METHOD"] = DEFAULTS["PASSWORD_HASH_METHOD"]
    student = make_student()
    post_login(client, "1111210101", "345678")
    response = client.post(
        "/password",
        data={"current_password": "345678", "new_password": "a good passphrase", "confirm": "a good passphrase"},
    )
    assert response.headers["Location"] == "/checklist"
    assert client.get("/checklist").status_code == 200  # this session was re-issued
    account = db.session.get(Account, student.account.id)
    assert account.initial_password_digest is None and account.password_hash.startswith("scrypt:")
    assert not account.must_change_password
    client.post("/logout")
    assert post_login(client, "1111210101", "345678").status_code == 200  # initial password gone
    assert post_login(client, "1111210101", "a good passphrase").status_code == 302
    assert audit_count("password.changed") == 1


def test_production_hashes_passwords_with_scrypt(tmp_path, monkeypatch):
    """Only the tests pick a cheap hash: an app configured as in production uses scrypt."""
    monkeypatch.delenv("PASSWORD_HASH_METHOD", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    monkeypatch.setattr("app.check_ready", lambda _app: None)  # never serves: no schema needed
    production = create_app(instance_path=str(tmp_path / "instance"))
    assert DEFAULTS["PASSWORD_HASH_METHOD"] == production.config["PASSWORD_HASH_METHOD"] == "scrypt"
    with production.app_context():
        assert accounts.hash_password("a good passphrase").startswith("scrypt:")


def test_wrong_current_password_changes_nothing(client, make_student):
    student = make_student()
    log_in(client, student.account)
    page = client.post(
        "/password",
        data={"current_password": "000000", "new_password": "a good passphrase", "confirm": "a good passphrase"},
    ).get_data(as_text=True)
    assert "The current password is not right" in page
    assert db.session.get(Account, student.account.id).password_hash is None


def test_mismatched_confirmation_is_reported(client, make_student):
    log_in(client, make_student().account)
    page = client.post(
        "/password",
        data={"current_password": "345678", "new_password": "a good passphrase", "confirm": "another phrase"},
    ).get_data(as_text=True)
    assert "The two new passwords differ" in page


def test_wrong_password_and_unknown_user_get_the_same_message(client, make_student):
    make_student()
    wrong = post_login(client, "1111210101", "000000").get_data(as_text=True)
    unknown = post_login(client, "9999999999", "000000").get_data(as_text=True)
    assert WRONG in wrong and WRONG in unknown
    assert audit_count("login.failed") == 2


def test_five_failures_lock_the_account_for_fifteen_minutes_with_the_same_message(client, make_student, clock):
    student = make_student()
    for _ in range(5):
        assert WRONG in post_login(client, "1111210101", "000000").get_data(as_text=True)
    clock.advance(seconds=61)  # past the per-address limit (test_login_limits): the lock is what refuses now
    # The right password is now refused with the same words.
    locked = post_login(client, "1111210101", "345678")
    assert locked.status_code == 200 and WRONG in locked.get_data(as_text=True)
    account = db.session.get(Account, student.account.id)
    assert account.locked_until is not None  # shown to admins
    assert audit_count("account.locked") == 1
    clock.advance(minutes=16)
    assert post_login(client, "1111210101", "345678").status_code == 302


def test_the_failure_count_lives_in_the_database(app, client, make_student, clock):
    """A second worker process sees the same count: here, a second client and a fresh session."""
    make_student()
    other = app.test_client()
    for attempt in range(5):
        (client if attempt % 2 else other).post("/login", data={"username": "1111210101", "password": "0"})
    assert post_login(client, "1111210101", "345678").status_code == 429
    clock.advance(seconds=61)
    assert WRONG in post_login(other, "1111210101", "345678").get_data(as_text=True)


def test_a_success_resets_the_failure_count(client, make_student, clock):
    make_student()
    for _ in range(4):
        post_login(client, "1111210101", "000000")
    assert post_login(client, "1111210101", "345678").status_code == 302
    client.post("/logout")
    clock.advance(seconds=61)
    post_login(client, "1111210101", "000000")  # one more: not the fifth in a row
    assert post_login(client, "1111210101", "345678").status_code == 302


def test_staff_log_in_and_land_on_their_queue(client, make_account):
    make_account("library", password="library-password")
    response = post_login(client, "library", "library-password")
    assert response.headers["Location"] == "/staff/"
    page = client.get("/account").get_data(as_text=True)
    assert "library" in page and "Library" in page and "Office staff" in page


def test_a_disabled_account_cannot_log_in_and_loses_its_session(client, make_account):
    account = make_account("library", password="library-password")
    log_in(client, account)
    assert client.get("/account").status_code == 200
    account.disabled = True
    db.session.commit()
    assert client.get("/account").status_code == 302  # back to the login page
    assert WRONG in post_login(client, "library", "library-password").get_data(as_text=True)


def test_logout_makes_a_copied_session_cookie_stop_working(app, client, make_account):
    make_account("library", password="library-password")
    post_login(client, "library", "library-password")
    stolen = client.get_cookie("session").value
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/account").status_code == 302


def test_a_password_change_ends_other_sessions(app, client, make_student):
    make_student(must_change=False)
    post_login(client, "1111210101", "345678")
    other_device = app.test_client()
    post_login(other_device, "1111210101", "345678")
    client.post(
        "/password",
        data={"current_password": "345678", "new_password": "a good passphrase", "confirm": "a good passphrase"},
    )
    assert client.get("/checklist").status_code == 200
    assert other_device.get("/checklist").status_code == 302


def test_login_starts_a_fresh_session(client, make_student):
    make_student(must_change=False)
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    post_login(client, "1111210101", "345678")
    with client.session_transaction() as session:
        assert "planted" not in session


def test_logout_is_a_post_and_audited(client, make_account):
    account = make_account()
    log_in(client, account)
    assert client.get("/logout").status_code == 405
    client.post("/logout")
    assert audit_count("logout") == 1
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_login_never_redirects_off_site(client, make_account, target):
    make_account("library", password="library-password")
    response = client.post(f"/login?next={target}", data={"username": "library", "password": "library-password"})
    assert response.headers["Location"] == "/staff/"


def test_login_follows_a_local_next(client, make_account):
    make_account("library", password="library-password")
    response = client.post("/login?next=/account", data={"username": "library", "password": "library-password"})
    assert response.headers["Location"] == "/account"


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/checklist")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_staff_cannot_open_the_student_checklist(client, make_account):
    log_in(client, make_account())
    assert client.get("/checklist").status_code == 403


# --- The window (rule 6) ---------------------------------------------------------


def test_before_the_window_a_correct_password_learns_when_it_opens(client, make_student, clock):
    make_student(must_change=False)
    clock.set(datetime(2026, 6, 19, 15, 59, tzinfo=UTC))  # 23:59 on 19 June in Wenzhou
    response = post_login(client, "1111210101", "345678")
    page = response.get_data(as_text=True)
    assert response.status_code == 403 and "opens on June 20, 2026" in page
    assert client.get("/checklist").status_code == 302  # not logged in


def test_the_window_opens_at_local_midnight(client, make_student, clock):
    make_student(must_change=False)
    clock.set(datetime(2026, 6, 19, 16, 0, tzinfo=UTC))  # 00:00 on 20 June in Wenzhou
    assert post_login(client, "1111210101", "345678").status_code == 302


def test_after_the_window_a_correct_password_is_told_it_closed_and_whom_to_contact(client, make_student, clock):
    make_student(must_change=False)
    clock.set(datetime(2026, 7, 3, 16, 0, tzinfo=UTC))  # 00:00 on 4 July in Wenzhou
    page = post_login(client, "1111210101", "345678").get_data(as_text=True)
    assert "closed on July 3, 2026" in page and "86699251" in page


def test_a_wrong_password_outside_the_window_reveals_nothing_about_it(client, make_student, clock):
    make_student(must_change=False)
    clock.set(datetime(2026, 7, 10, tzinfo=UTC))
    page = post_login(client, "1111210101", "000000").get_data(as_text=True)
    assert WRONG in page and "closed" not in page


def test_the_window_is_checked_on_every_request(app, client, make_student, clock):
    app.config.update(SESSION_IDLE_MINUTES_STUDENT=60 * 24 * 30, SESSION_LIFETIME_HOURS=24 * 30)  # sessions: elsewhere
    student = make_student(must_change=False)
    log_in(client, student.account)
    assert client.get("/checklist").status_code == 200
    clock.set(datetime(2026, 7, 4, 2, tzinfo=UTC))
    response = client.get("/checklist")
    assert response.status_code == 403 and "closed on" in response.get_data(as_text=True)
    clock.set(datetime(2026, 6, 25, tzinfo=UTC))
    assert client.get("/checklist").status_code == 302  # logged out, not just hidden


def test_an_extended_window_lets_one_student_in(client, make_student, clock):
    from datetime import date

    student = make_student(
        must_change=False, window_extended_until=date(2026, 7, 10), window_extension_reason="thesis defence late"
    )
    clock.set(datetime(2026, 7, 8, tzinfo=UTC))
    assert post_login(client, student.student_id, "345678").status_code == 302


def test_staff_work_outside_every_window(client, make_student, make_account, clock):
    make_student()
    make_account("library", password="library-password")
    clock.set(datetime(2027, 1, 5, tzinfo=UTC))
    assert post_login(client, "library", "library-password").status_code == 302


def test_the_login_page_shows_the_current_cohorts_windows(client, make_cohort):
    make_cohort(name_en="2011 undergraduates", name_zh="2011级本科生")
    page = client.get("/login").get_data(as_text=True)
    assert "2011 undergraduates" in page and "June 20, 2026" in page and "July 3, 2026" in page


def test_successful_logins_are_audited(client, make_account):
    make_account("library", password="library-password")
    post_login(client, "library", "library-password")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "login"))
    assert event.actor_label == "library"


def test_one_time_password_expires(client, make_account, clock, app):
    import accounts

    admin = make_account("admin", role=Role.ADMIN, office_code=None)
    account = make_account("library", password="library-password")
    password = accounts.reset_to_one_time_password(account, admin)
    db.session.commit()
    clock.advance(days=8)
    assert WRONG in post_login(client, "library", password).get_data(as_text=True)


# --- The lockout rule, told to everyone (issue 9, item 13) ----------------------------------------

LOCKOUT = "After 5 failed attempts from one network, the account is locked on that network for 15 minutes"


def test_the_login_page_always_tells_the_lockout_rule_and_reveals_no_account(client, make_student, clock):
    make_student()
    assert LOCKOUT in client.get("/login").get_data(as_text=True)
    wrong = post_login(client, "1111210101", "000000").get_data(as_text=True)
    unknown = post_login(client, "9999999999", "000000").get_data(as_text=True)
    for _ in range(3):
        post_login(client, "1111210101", "000000")
    clock.advance(seconds=61)  # past the per-address limit
    post_login(client, "1111210101", "000000")  # the fifth failure of this account from this address
    clock.advance(seconds=61)
    locked = post_login(client, "1111210101", "345678").get_data(as_text=True)  # the right password, locked
    assert db.session.scalar(select(Account.locked_until).where(Account.username == "1111210101"))
    for page in (wrong, unknown, locked):
        assert LOCKOUT in page and WRONG in page
    # Word for word the same page, but for the student ID typed back into the box (and the CSRF token,
    # which carries a timestamp).
    wrong, locked, unknown = (re.sub(r'name="csrf_token" value="[^"]*"', "", page) for page in (wrong, locked, unknown))
    assert wrong == locked == unknown.replace("9999999999", "1111210101")


def test_the_lockout_rule_comes_from_the_configuration_with_plurals_right(client, app):
    app.config.update(LOCKOUT_ATTEMPTS=3, LOCKOUT_MINUTES=1)
    page = client.get("/login").get_data(as_text=True)
    assert (
        "After 3 failed attempts from one network, the account is locked on that network for 1 minute: then wait"
        in page
    )


# --- The account page (issue 9, item 12) ------------------------------------------------------------


def test_a_student_sees_their_own_details_and_window_not_staff_fields(client, make_student):
    from datetime import date

    student = make_student(
        must_change=False,
        name_zh="阿俊",
        programme="MBBS (Clinical Medicine)",
        window_extended_until=date(2026, 7, 10),
        window_extension_reason="Thesis defence on 8 July",
    )
    log_in(client, student.account)
    page = client.get("/account").get_data(as_text=True)
    for shown in (
        "Student ID",
        "1111210101",
        "Arjun Raghavan",
        "阿俊",
        "Cohort UG2011",
        "School of Clinical Medicine",
        "MBBS (Clinical Medicine)",
        "June 20, 2026 to July 10, 2026",
        "s window: June 20, 2026 to July 3, 2026",
        "Thesis defence on 8 July",
    ):
        assert shown in page, shown
    for staff_field in ("Office", "All schools", "None", "Role"):
        assert f"<dt>{staff_field}</dt>" not in page and f"<dd>{staff_field}</dd>" not in page


def test_an_extension_that_opens_earlier_shows_the_earlier_day(client, make_student, clock):
    from datetime import date

    clock.set(datetime(2026, 6, 18, 4, 0, tzinfo=UTC))  # before the cohort's window opens
    student = make_student(must_change=False, window_extended_until=date(2026, 6, 15), window_extension_reason="Early")
    log_in(client, student.account)
    assert "June 15, 2026 to July 3, 2026" in client.get("/account").get_data(as_text=True)


def test_a_student_without_an_extension_sees_the_cohorts_window(client, make_student):
    log_in(client, make_student(must_change=False).account)
    page = client.get("/account").get_data(as_text=True)
    assert "June 20, 2026 to July 3, 2026" in page and "Extended" not in page


def test_staff_keep_their_office_and_school_on_the_account_page(client, make_account):
    log_in(client, make_account("clinical", office_code="SCHOOL", school="School of Clinical Medicine"))
    page = client.get("/account").get_data(as_text=True)
    assert "<dt>Office</dt>" in page and "School office" in page
    assert "<dt>School</dt><dd>School of Clinical Medicine</dd>" in page and "Student ID" not in page
