"""With CSRF on, as in production: a POST without the token changes nothing."""

from __future__ import annotations

import re

import pytest

from database import db
from models import Account
from tests.conftest import audit_count, log_in


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


def token_from(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_login_without_a_token_is_refused_and_counts_nothing(client, make_student):
    student = make_student()
    response = client.post("/login", data={"username": "1111210101", "password": "000000"})
    assert response.status_code == 400
    assert "Nothing was changed" in response.get_data(as_text=True)
    assert db.session.get(Account, student.account.id).failed_logins == 0


def test_login_with_the_token_works(client, make_student):
    make_student(must_change=False)
    token = token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "1111210101", "password": "345678", "csrf_token": token})
    assert response.status_code == 302


def test_logout_without_a_token_keeps_the_session(client, make_account):
    log_in(client, make_account())
    client.post("/logout")
    assert client.get("/account").status_code == 200
    assert audit_count("logout") == 0


def test_password_change_without_a_token_changes_nothing(client, make_student):
    student = make_student()
    log_in(client, student.account)
    response = client.post(
        "/password",
        data={"current_password": "345678", "new_password": "a good passphrase", "confirm": "a good passphrase"},
    )
    assert response.status_code == 400
    assert db.session.get(Account, student.account.id).password_hash is None
