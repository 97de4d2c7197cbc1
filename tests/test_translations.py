"""The Chinese catalogue is complete, current and well-formed; the language switch works and is remembered."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from database import db
from tests.conftest import audit_count, log_in

PROJECT = Path(__file__).resolve().parent.parent
CATALOGUE = PROJECT / "translations" / "zh_Hans" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]")


def _extract(tmp_path) -> set[str]:
    """What `make catalogue` extracts from the sources today, with the Makefile's own options."""
    line = next(line for line in (PROJECT / "Makefile").read_text().splitlines() if line.startswith("EXTRACT_OPTIONS"))
    options = shlex.split(line.split(":=", 1)[1])
    output = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run(
        [pybabel, "extract", *options, "--output-file", output, "."], cwd=PROJECT, check=True, capture_output=True
    )
    with output.open("rb") as pot:
        return {message.id if isinstance(message.id, str) else message.id[0] for message in read_po(pot) if message.id}


@pytest.fixture(scope="module")
def catalogue():
    with CATALOGUE.open("rb") as po:
        return read_po(po)


def _key(message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def test_every_text_of_the_sources_is_in_the_catalogue_and_nothing_stale(catalogue, tmp_path):
    extracted = _extract(tmp_path)
    translated = {_key(message) for message in catalogue if message.id}
    assert sorted(extracted - translated) == [], "missing from the catalogue: run `make catalogue` and translate"
    assert sorted(translated - extracted) == [], "stale in the catalogue: run `make catalogue`"


def test_every_entry_is_translated_with_the_same_placeholders(catalogue):
    problems = []
    for message in catalogue:
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        if not all(strings) or "fuzzy" in message.flags:
            problems.append(("empty or fuzzy", ids[0]))
        # Chinese has one plural form: it carries the placeholders of the singular and the plural alike.
        elif any(
            set(PLACEHOLDER.findall(text)) != {p for i in ids for p in PLACEHOLDER.findall(i)} for text in strings
        ):
            problems.append(("placeholders differ", ids[0]))
    assert problems == []


def test_a_chinese_browser_gets_chinese_pages(client):
    page = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="zh-Hans">' in page and "学号" in page


def test_an_english_browser_gets_english_pages(client):
    page = client.get("/login", headers={"Accept-Language": "en-GB"}).get_data(as_text=True)
    assert '<html lang="en">' in page and "Student ID" in page


def test_the_switch_changes_the_language_and_returns_to_the_page(client):
    response = client.post("/language", data={"language": "zh_Hans", "next": "/login"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    page = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="zh-Hans">' in page  # the choice wins over the browser's
    client.post("/language", data={"language": "en", "next": "/login"})
    assert '<html lang="en">' in client.get("/login").get_data(as_text=True)


def test_an_unknown_language_or_a_foreign_next_is_refused(client):
    assert client.post("/language", data={"language": "xx", "next": "/login"}).status_code == 400
    response = client.post("/language", data={"language": "zh_Hans", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


def test_the_account_remembers_the_choice_for_later_sessions(app, client, make_account):
    account = make_account("library")
    log_in(client, account)
    client.post("/language", data={"language": "zh_Hans", "next": "/staff/"})
    db.session.refresh(account)
    assert account.language == "zh_Hans"
    assert audit_count("account.language") == 1
    fresh = app.test_client()
    log_in(fresh, account)
    page = fresh.get("/staff/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="zh-Hans">' in page


def test_the_help_contacts_follow_the_notice_in_each_language(client):
    chinese = client.get("/login", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    english = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "网络与信息中心 应老师" in chinese and "664531" in chinese and "13676797531" not in chinese
    assert "Network and Information Center" in english and "13676797531" in english and "应老师" not in english


def test_every_page_starts_with_a_skip_link_to_the_main_content(client):
    page = client.get("/login").get_data(as_text=True)
    assert page.index('class="skip-link" href="#main"') < page.index("<header") and 'id="main"' in page


def test_a_language_chosen_before_login_stays_after_it_and_becomes_the_preference(client, make_account):
    account = make_account("library", password="staff-password")
    client.post("/language", data={"language": "zh_Hans", "next": "/login"})
    response = client.post("/login", data={"username": "library", "password": "staff-password"})
    page = client.get(response.headers["Location"], headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="zh-Hans">' in page
    db.session.refresh(account)
    assert account.language == "zh_Hans"


def test_moments_are_written_for_the_reader(app):
    from datetime import datetime

    from flask_babel import force_locale

    when = app.jinja_env.filters["when"]
    with app.test_request_context():
        with force_locale("zh_Hans"):
            chinese = when(datetime(2026, 6, 30, 0, 30))
        with force_locale("en"):
            english = when(datetime(2026, 6, 30, 0, 30))
    assert (chinese, english) == ("2026年6月30日 08:30", "2026-06-30 08:30")  # stored UTC, shown in Wenzhou
