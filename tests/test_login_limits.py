"""Logins cannot be used against the system (issue 11, cases 1-3): the hash outside the write lock,
limits per client address and per name, the lock that follows the attacker, expiring initial
passwords, the common-password list, and nothing typed into the name box reaching the log."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

import accounts
from database import db
from models import Account, AuditEvent, Role
from tests.conftest import audit_count, log_in

WRONG = "The student ID (or user name) or the password is not right"
TOO_MANY = "Too many failed attempts just now. Wait"
ATTACKER, STUDENT_HOME, CAMPUS = "203.0.113.66", "198.51.100.7", "192.0.2.10"


def post_login(client, username, password, address="127.0.0.1"):
    return client.post(
        "/login", data={"username": username, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


def change_password(client, current, new="a good passphrase", address="127.0.0.1"):
    data = {"current_password": current, "new_password": new, "confirm": new}
    return client.post("/password", data=data, environ_base={"REMOTE_ADDR": address})


# --- 1. The slow hash never holds the write lock --------------------------------------------------


@pytest.fixture
def write_lock_during_hash(app, monkeypatch):
    """Record, at every password hash the login makes, whether another connection could take the write lock."""
    seen: list[bool] = []
    path = app.config["DATABASE_URL"].removeprefix("sqlite:///")

    def probe() -> None:
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            seen.append(False)
        except sqlite3.OperationalError:  # "database is locked": the login holds the write lock
            seen.append(True)
        finally:
            other.close()

    real_check, real_generate = accounts.check_password_hash, accounts.generate_password_hash
    monkeypatch.setattr(accounts, "check_password_hash", lambda *a, **k: probe() or real_check(*a, **k))
    monkeypatch.setattr(accounts, "generate_password_hash", lambda *a, **k: probe() or real_generate(*a, **k))
    return seen


def test_a_login_hashes_outside_the_write_lock(client, make_account, make_student, write_lock_during_hash):
    make_account("library", password="library-password")
    make_student(password="a chosen password", must_change=False)
    post_login(client, "library", "library-password")  # right
    post_login(client, "1111210101", "wrong password")  # wrong
    post_login(client, "nobody-here", "whatever")  # unknown: the dummy hash
    assert len(write_lock_during_hash) >= 3
    assert not any(write_lock_during_hash)


def test_a_password_change_hashes_outside_the_write_lock(client, make_account, write_lock_during_hash):
    log_in(client, make_account("library", password="library-password"))
    assert change_password(client, "library-password").status_code == 302
    assert write_lock_during_hash and not any(write_lock_during_hash)


# --- 2. Guessing: per address, per name, expiring initial passwords ---------------------------------


def test_an_address_is_refused_after_five_failures_across_accounts(client, make_student, make_account, clock):
    for n in range(3):
        make_student(student_id=f"111121010{n}")
    make_account("library", password="library-password")
    for name in ("1111210100", "1111210101", "1111210102", "nobody", "library"):
        assert WRONG in post_login(client, name, "000000", CAMPUS).get_data(as_text=True)
    refused = post_login(client, "library", "library-password", CAMPUS)  # even the right password of another
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
    assert TOO_MANY in refused.get_data(as_text=True)
    assert audit_count("login.limited") == 1 and audit_count("login") == 0
    assert post_login(app_client(client), "library", "library-password", STUDENT_HOME).status_code == 302
    clock.advance(seconds=30)
    assert post_login(client, "nobody", "x", CAMPUS).headers["Retry-After"] == "30"
    clock.advance(seconds=31)
    assert post_login(app_client(client), "library", "library-password", CAMPUS).status_code == 302


def app_client(client):
    return client.application.test_client()


def test_the_limit_is_configurable(app, client, make_account):
    app.config.update(LOGIN_FAILURES_PER_ADDRESS=2, LOGIN_FAILURE_WINDOW=600)
    make_account("library", password="library-password")
    for _ in range(2):
        post_login(client, "library", "nope")
    refused = post_login(client, "library", "library-password")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "600"


def test_many_correct_logins_from_one_campus_address_are_never_held_back(app, make_student):
    for n in range(12):
        make_student(student_id=f"11112102{n:02d}", must_change=False)
    for n in range(12):
        assert post_login(app.test_client(), f"11112102{n:02d}", "345678", CAMPUS).status_code == 302


def test_the_lock_follows_the_attacker_and_only_slows_other_addresses(client, make_student, clock):
    make_student(must_change=False)
    for _ in range(5):
        post_login(client, "1111210101", "000000", ATTACKER)
    # The student, from home, right after: asked to wait a few seconds, not locked out.
    slowed = post_login(app_client(client), "1111210101", "345678", STUDENT_HOME)
    assert slowed.status_code == 429 and int(slowed.headers["Retry-After"]) <= 5
    clock.advance(seconds=61)
    # The attacker's address is locked out of this account even with the right password, like a wrong one...
    locked = post_login(client, "1111210101", "345678", ATTACKER)
    assert locked.status_code == 200 and WRONG in locked.get_data(as_text=True)
    # ...while the student logs in from home.
    assert post_login(app_client(client), "1111210101", "345678", STUDENT_HOME).status_code == 302
    assert audit_count("account.locked") == 1


def test_an_unknown_name_is_slowed_like_a_known_one(client, make_student):
    """The per-name rules count what was typed, so they tell nobody which accounts exist."""
    make_student(must_change=False)
    for name in ("1111210101", "9999999999"):
        for _ in range(5):
            post_login(app_client(client), name, "000000", f"203.0.113.{len(name)}{name[0]}")
    known = post_login(client, "1111210101", "000000", STUDENT_HOME)
    unknown = post_login(client, "9999999999", "000000", STUDENT_HOME)
    assert known.status_code == unknown.status_code == 429
    assert known.headers["Retry-After"] == unknown.headers["Retry-After"]


def test_failures_are_counted_in_the_database_for_every_worker(app, make_student):
    make_student()
    for n in range(5):
        app.test_client().post("/login", data={"username": f"someone{n}", "password": "0"})  # a fresh "worker" each
    assert app.test_client().post("/login", data={"username": "1111210101", "password": "345678"}).status_code == 429


@pytest.fixture
def long_window(make_cohort):
    return make_cohort(closes=date(2026, 12, 31))


def test_the_initial_password_expires_after_thirty_days(client, make_student, long_window, clock):
    make_student(cohort=long_window)
    clock.advance(days=29)
    assert post_login(client, "1111210101", "345678").status_code == 302
    client.post("/logout")
    clock.advance(days=2)
    page = post_login(client, "1111210101", "345678").get_data(as_text=True)
    assert WRONG in page
    assert "after that, and if you have forgotten your password, ask the help desk below for a one-time" in page


def test_the_initial_password_lifetime_is_configurable_and_told_on_the_login_page(app, client, make_student, clock):
    app.config["INITIAL_PASSWORD_DAYS"] = 3
    make_student()
    assert "The first password works for 3 days from the day your window opens" in client.get("/login").get_data(
        as_text=True
    )
    clock.advance(days=4)
    assert WRONG in post_login(client, "1111210101", "345678").get_data(as_text=True)


def test_wrong_current_passwords_are_limited_and_audited(client, make_student, clock):
    student = make_student(must_change=False)
    log_in(client, student.account)
    for _ in range(5):
        assert "The current password is not right" in change_password(client, "000000").get_data(as_text=True)
    assert audit_count("password.change.failed") == 5
    refused = change_password(client, "345678")
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    clock.advance(seconds=61)
    # This address is locked out of the account: the right current password is refused too.
    assert "The current password is not right" in change_password(client, "345678").get_data(as_text=True)
    assert db.session.get(Account, student.account.id).password_hash is None
    clock.advance(seconds=10)
    assert change_password(client, "345678", address=STUDENT_HOME).status_code == 302


# --- 3. Passwords and what reaches the log --------------------------------------------------------


@pytest.mark.parametrize("common", ["qwerty12", "Qwerty12", "password1", "iloveyou2", "woaini1314", "88888888"])
def test_the_most_common_passwords_are_refused(client, make_student, common):
    log_in(client, make_student().account)
    page = change_password(client, "345678", new=common).get_data(as_text=True)
    assert "among the first that anyone would try" in page


def test_the_common_list_holds_ten_thousand_passwords():
    assert len(accounts.common_passwords()) >= 10_000 and "qwerty12" in accounts.common_passwords()


def test_an_uncommon_password_is_accepted(client, make_student):
    log_in(client, make_student().account)
    assert change_password(client, "345678", new="violet kettle 42").status_code == 302


@pytest.mark.parametrize("typed", ["817263", "Student-A-pass-2026"])
def test_a_password_typed_as_the_name_never_reaches_the_log(client, make_student, typed):
    make_student()
    before = db.session.scalar(select(func.max(AuditEvent.id)))
    post_login(client, typed, "whatever")
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.id > before)).all()
    assert [event.action for event in events] == ["login.failed"]
    for event in events:
        stored = " ".join(str(value) for value in vars(event).values())
        assert typed not in stored and typed.lower() not in stored


def test_a_known_name_is_logged_as_itself(client, make_student):
    make_student()
    post_login(client, "1111210101", "000000")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "login.failed"))
    assert event.actor_label == "1111210101"


def test_an_initial_password_counts_its_days_from_the_window_not_from_an_early_import(
    client, make_cohort, make_student, clock
):
    later = make_cohort(opens=date(2026, 9, 1), closes=date(2026, 9, 30), certificate_day=date(2026, 9, 30))
    make_student(cohort=later)  # imported in June, two months before the window opens
    clock.set(datetime(2026, 9, 20, 2, 0))  # 19 days into the window, 90 after the import
    assert post_login(client, "1111210101", "345678").status_code == 302
    client.post("/logout")
    clock.set(datetime(2026, 10, 2, 2, 0))  # 31 days after the window opened
    assert WRONG in post_login(client, "1111210101", "345678").get_data(as_text=True)


def test_an_admins_one_time_password_works_from_the_address_that_was_locked(client, make_student, make_account, clock):
    student = make_student(must_change=False)
    for _ in range(5):
        post_login(client, "1111210101", "wrong guess", address=STUDENT_HOME)
    clock.advance(seconds=61)  # past the address's limit; the lock of the name for this address holds 15 minutes
    assert WRONG in post_login(client, "1111210101", "345678", address=STUDENT_HOME).get_data(as_text=True)
    admin = make_account("admin", role=Role.ADMIN, office_code=None)
    log_in(client, admin)
    assert "locked for one network until" in client.get("/admin/accounts?q=1111210101").get_data(as_text=True)
    one_time = accounts.reset_to_one_time_password(student.account, admin)
    db.session.commit()
    client.post("/logout")
    assert post_login(client, "1111210101", one_time, address=STUDENT_HOME).status_code == 302


def test_the_accounts_page_shows_a_lock_only_while_it_holds(client, make_student, make_account, clock):
    make_student(must_change=False)
    for _ in range(5):
        post_login(client, "1111210101", "wrong guess", address=ATTACKER)
    log_in(client, make_account("admin", role=Role.ADMIN, office_code=None))
    assert "locked for one network until" in client.get("/admin/accounts?q=1111210101").get_data(as_text=True)
    clock.advance(minutes=16)
    page = client.get("/admin/accounts?q=1111210101").get_data(as_text=True)
    assert "locked for one network until" not in page and "active" in page


def test_one_ipv6_subscriber_is_one_client_and_a_mapped_ipv4_address_is_itself(client, make_student):
    make_student()
    for host in range(1, 6):  # five addresses of one /64: one client
        post_login(client, "nobody", "wrong guess", address=f"2001:db8:1:2::{host}")
    assert post_login(client, "1111210101", "345678", address="2001:db8:1:2::99").status_code == 429
    assert post_login(client, "1111210101", "345678", address="2001:db8:1:3::1").status_code == 302  # the next /64
    client.post("/logout")
    for _ in range(5):
        post_login(client, "somebody", "wrong guess", address="::ffff:203.0.113.9")
    assert post_login(client, "1111210101", "345678", address="203.0.113.9").status_code == 429
