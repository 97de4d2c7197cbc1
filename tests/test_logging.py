"""The app's log: every audited event, refusal and crash on one escaped line, in UTC, with the request id,
and never a password or a token."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from werkzeug.exceptions import TooManyRequests

import audit
import clearance
from database import write_transaction
from tests import test_form
from tests.conftest import log_in
from tests.test_form import current

complete, staff, desk = test_form.complete, test_form.staff, test_form.desk

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO|WARNING|ERROR) leaving\.\w+ request_id=\S+ ")


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}  # the login form's token is real, so we can look for it


def log_lines(capsys) -> list[str]:
    return capsys.readouterr().err.splitlines()


def token_from(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_a_line_break_in_a_name_cannot_forge_a_second_line(app, capsys):
    forged = "Arjun\n2026-06-25T04:00:00.000Z INFO leaving.audit request_id=- event=audit action=login"
    capsys.readouterr()
    with write_transaction():
        audit.record("account.changed", None, subject=forged, reason="tab\there, bidi \u202e too")
    lines = log_lines(capsys)
    assert len(lines) == 1 and LINE.match(lines[0])
    assert 'subject="Arjun\\n2026-06-25T04:00:00.000Z INFO' in lines[0]
    assert 'reason="tab\\there, bidi \\u202e too"' in lines[0]


def test_a_denied_request_is_logged_with_the_escaped_user_name_and_the_request_id(client, make_account, capsys):
    log_in(client, make_account("clerk\nERROR forged", office_code="LIB"))
    capsys.readouterr()
    response = client.get("/admin/", headers={"X-Request-ID": "req-403"})
    assert response.status_code == 403
    lines = [line for line in log_lines(capsys) if "event=denied" in line]
    assert len(lines) == 1 and LINE.match(lines[0])
    assert "request_id=req-403" in lines[0] and "status=403" in lines[0] and 'user="clerk\\nERROR forged"' in lines[0]


def test_a_rate_limit_refusal_is_logged(app, client, capsys):
    def refuse():
        raise TooManyRequests()

    app.add_url_rule("/too-many-for-test", "too_many_for_test", refuse)
    assert client.get("/too-many-for-test").status_code == 429
    assert any("event=rate-limited status=429" in line for line in log_lines(capsys))


def test_login_failures_lockout_and_refusals_are_logged_in_utc_without_passwords_or_tokens(
    client, make_account, capsys
):
    make_account("library", password="the-right-password-123")
    token = token_from(client.get("/login").get_data(as_text=True))
    for _ in range(5):
        client.post("/login", data={"username": "library", "password": "a-wrong-guess-987", "csrf_token": token})
    refused = client.post(
        "/login", data={"username": "no-such-user", "password": "another-guess-555", "csrf_token": token}
    )
    lines = log_lines(capsys)
    text = "\n".join(lines)
    assert text.count("action=login.failed") == 5 and "action=account.locked" in text
    if refused.status_code == 429:  # the limit per address (case 2), logged as a refusal
        assert "status=429" in text
    assert "a-wrong-guess-987" not in text and "another-guess-555" not in text and token not in text
    stamp = datetime.strptime(lines[-1][:23], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - stamp).total_seconds()) < 60  # UTC, whatever the server's zone


def test_a_successful_login_is_logged_without_the_password(client, make_account, capsys):
    make_account("library", password="the-right-password-123")
    token = token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"username": "library", "password": "the-right-password-123", "csrf_token": token}
    )
    assert response.status_code == 302
    text = capsys.readouterr().err
    assert "action=login " in text and "actor=library" in text
    assert "the-right-password-123" not in text and token not in text


def test_a_scanned_form_is_logged_by_its_serial_never_its_token(client, complete, desk, capsys):
    form = current(complete)
    token = clearance.token_for(form)
    log_in(client, desk)
    assert client.get(f"/verify/{token}").status_code == 200
    text = capsys.readouterr().err
    assert f"subject={form.serial}" in text
    assert token not in text


def test_an_event_rolled_back_with_its_change_is_not_logged(app, capsys):
    capsys.readouterr()
    with pytest.raises(RuntimeError), write_transaction():
        audit.record("account.changed", None, subject="never happened")
        raise RuntimeError("the change failed")
    with write_transaction():
        audit.record("account.changed", None, subject="happened")
    text = capsys.readouterr().err
    assert "never happened" not in text and "subject=happened" in text


def test_events_written_many_at_once_are_logged_one_line_each(app, capsys):
    capsys.readouterr()
    with write_transaction():
        audit.record_many([audit.entry("student.imported", None, subject=f"3000{n}") for n in range(3)])
    lines = [line for line in log_lines(capsys) if "action=student.imported" in line]
    assert [line.split("subject=")[1].split()[0] for line in lines] == ["30000", "30001", "30002"]
