"""Login sessions on the server (issue 11, cases 4 and 5): logging out ends this browser's session only,
"log out everywhere" ends them all, a password change ends the others; idle and absolute lifetimes."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from database import db
from models import LoginSession
from tests.conftest import audit_count

EXPIRED = "Your session has expired: log in again."


def post_login(client, username, password):
    return client.post("/login", data={"username": username, "password": password})


@pytest.fixture
def clerks(app, make_account):
    """Two clerks on two computers, logged in to the one account their office shares."""
    make_account("library", password="library-password")
    first, second = app.test_client(), app.test_client()
    for client in (first, second):
        assert post_login(client, "library", "library-password").status_code == 302
    return first, second


def test_logging_out_ends_this_session_only(app, clerks):
    first, second = clerks
    copied = first.get_cookie("session").value
    first.post("/logout")
    assert first.get("/staff/").status_code == 302
    assert second.get("/staff/").status_code == 200  # the other clerk works on
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/staff/").status_code == 302  # the cookie of the ended session is dead
    assert audit_count("logout") == 1


def test_log_out_everywhere_ends_every_session_and_is_a_button_on_the_account_page(clerks):
    first, second = clerks
    page = first.get("/account").get_data(as_text=True)
    assert 'action="/logout/everywhere"' in page and "Log out everywhere" in page
    assert first.get("/logout/everywhere").status_code == 405
    response = first.post("/logout/everywhere", follow_redirects=True)
    assert "You have logged out on every device." in response.get_data(as_text=True)
    assert first.get("/staff/").status_code == 302 and second.get("/staff/").status_code == 302
    assert audit_count("logout.everywhere") == 1
    assert db.session.scalar(select(func.count()).where(LoginSession.ended_at.is_(None))) == 0


def test_a_browser_logged_out_from_elsewhere_is_told_why(clerks):
    first, second = clerks
    first.post("/logout/everywhere")
    page = second.get("/staff/", follow_redirects=True).get_data(as_text=True)
    assert "You were logged out here: your account logged out everywhere, or its password changed." in page
    assert "Your session has expired" not in page


def test_a_password_change_ends_every_other_session_and_keeps_this_one(app, clerks):
    first, second = clerks
    response = first.post(
        "/password",
        data={
            "current_password": "library-password",
            "new_password": "violet kettle 42",
            "confirm": "violet kettle 42",
        },
    )
    assert response.status_code == 302
    assert first.get("/staff/").status_code == 200
    assert second.get("/staff/").status_code == 302


def test_the_cookie_holds_a_random_token_and_the_database_only_its_hash(app, clerks):
    first, _ = clerks
    with first.session_transaction() as session:
        token = session["_user_id"]
    assert len(token) >= 40 and ":" not in token
    digests = db.session.scalars(select(LoginSession.token_digest)).all()
    assert len(digests) == 2 and token not in digests


def test_last_seen_is_written_at_most_once_a_minute(app, clerks, clock):
    first, _ = clerks
    writes = []

    def count(_conn, _cursor, statement, *_args):
        if statement.startswith("UPDATE login_sessions"):
            writes.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        for _ in range(5):
            clock.advance(seconds=10)
            assert first.get("/staff/").status_code == 200
        assert writes == []  # 50 seconds of work: nothing written
        clock.advance(seconds=15)
        first.get("/staff/")
        first.get("/staff/")
        assert len(writes) == 1
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


# --- 5. Idle and absolute lifetimes -----------------------------------------------------------------


def test_staff_sessions_end_after_thirty_idle_minutes_with_a_message(clerks, clock):
    first, _ = clerks
    clock.advance(minutes=29)
    assert first.get("/staff/").status_code == 200  # used: the idle time starts again
    clock.advance(minutes=29)
    assert first.get("/staff/").status_code == 200
    clock.advance(minutes=31)
    response = first.get("/staff/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert EXPIRED in first.get(response.headers["Location"]).get_data(as_text=True)
    clock.advance(minutes=-30)  # even back within the idle time, that cookie stays logged out
    assert first.get("/staff/").status_code == 302


def test_students_keep_two_idle_hours(client, make_student, clock):
    make_student(must_change=False)
    post_login(client, "1111210101", "345678")
    clock.advance(minutes=119)
    assert client.get("/checklist").status_code == 200
    clock.advance(minutes=121)
    assert client.get("/checklist").status_code == 302


def test_a_session_ends_after_its_longest_lifetime_however_busy(clerks, clock):
    first, _ = clerks
    for _ in range(11 * 3 + 2):  # every 20 minutes for 11 h 40 min
        clock.advance(minutes=20)
        assert first.get("/staff/").status_code == 200
    clock.advance(minutes=21)
    assert first.get("/staff/").status_code == 302


def test_the_lifetimes_are_configurable(app, clerks, clock):
    app.config.update(SESSION_IDLE_MINUTES_STAFF=5)
    first, _ = clerks
    clock.advance(minutes=6)
    assert first.get("/staff/").status_code == 302
