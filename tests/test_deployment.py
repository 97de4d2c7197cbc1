"""Serving in production: proxies and HTTPS, no demo logins or unset PUBLIC_BASE_URL on a public server,
no foreign Host in a printed QR code, files for the app's user only (issue 11, cases 5-8; docs/OPERATIONS.md)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask import request, session

import printing
import serving
from app import create_app
from database import db
from models import Role
from tests.conftest import TEST_KEYS, audit_count, log_in
from tests.test_form import complete, current, staff  # noqa: F401 (fixtures: a student whose form prints)

PROJECT = Path(__file__).resolve().parent.parent
FORWARDED = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "leaving.example.edu"}


@pytest.fixture(autouse=True)
def no_schema_check(monkeypatch):
    """The apps here are configured as in production but never serve from their schema: the start-up check of
    the database (tests/test_faults.py) would refuse them. The gunicorn tests below use a migrated database."""
    monkeypatch.setattr("app.check_ready", lambda _app: None, raising=False)


def production_app(database: Path, **config):
    """An app configured as in production (not TESTING), on this database file."""
    return create_app({**TEST_KEYS, "DATABASE_URL": f"sqlite:///{database}", **config})


def mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


# --- 5. Behind a proxy, over HTTPS ----------------------------------------------------------------------


def probed(app):
    """The app with a page that shows what it knows of the client, and writes the session (so sets its cookie)."""

    @app.get("/probe")
    def probe():
        session["seen"] = True
        return f"{request.remote_addr} {request.scheme} {request.host}"

    return app.test_client()


def test_behind_one_trusted_proxy_the_client_address_scheme_and_host_are_the_clients(tmp_path):
    app = production_app(tmp_path / "db.sqlite3", TRUSTED_PROXIES="1", PUBLIC_BASE_URL="http://leaving.example.edu")
    client = probed(app)
    response = client.get("/probe", headers=FORWARDED)
    assert response.get_data(as_text=True) == "203.0.113.9 https leaving.example.edu"
    assert "Secure" in response.headers["Set-Cookie"]  # though PUBLIC_BASE_URL says http: this request was HTTPS
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    # An address the client wrote itself in front of the proxy's is not believed: one proxy, one hop.
    forged = client.get("/probe", headers={**FORWARDED, "X-Forwarded-For": "10.9.9.9, 203.0.113.9"})
    assert forged.get_data(as_text=True).startswith("203.0.113.9 ")


def test_without_trusted_proxies_forwarded_headers_are_ignored(tmp_path):
    app = production_app(tmp_path / "db.sqlite3", PUBLIC_BASE_URL="http://leaving.example.edu")
    response = probed(app).get("/probe", headers=FORWARDED)
    assert response.get_data(as_text=True) == "127.0.0.1 http localhost"
    assert "Secure" not in response.headers["Set-Cookie"]
    assert "Strict-Transport-Security" not in response.headers


def test_https_public_base_url_marks_the_cookie_secure_and_sends_hsts(tmp_path):
    response = probed(production_app(tmp_path / "db.sqlite3", PUBLIC_BASE_URL="https://leaving.example.edu")).get(
        "/probe"
    )
    assert "Secure" in response.headers["Set-Cookie"] and "Strict-Transport-Security" in response.headers


def test_trusted_proxies_must_be_a_number(tmp_path):
    with pytest.raises(RuntimeError, match="TRUSTED_PROXIES must be a number"):
        production_app(tmp_path / "db.sqlite3", TRUSTED_PROXIES="yes")


# --- 6. Demo data never reaches production --------------------------------------------------------------


@pytest.mark.parametrize(
    ("addresses", "public_base_url", "proxies", "elsewhere"),
    [
        ([("127.0.0.1", 5000)], "http://127.0.0.1:5000", 0, False),  # make run
        ([("::1", 5000), ("localhost", 5001)], "", 0, False),
        ([("127.0.0.1", 8000)], "https://leaving.example.edu", 0, True),  # a proxy on this machine serves it
        ([("127.0.0.1", 8000)], "http://127.0.0.1:8000", 1, True),  # a proxy is configured
        ([("0.0.0.0", 8000)], "http://127.0.0.1:8000", 0, True),  # noqa: S104 (every interface: the case here)
        ([("", 8000)], "", 0, True),  # ":8000" binds every interface too
        ([("192.0.2.5", 8000)], "", 0, True),
        ([("127.0.0.1", 8000), ("::", 8000)], "", 0, True),
        (["/run/leaving-school/gunicorn.sock"], "", 0, True),  # a Unix socket: a proxy serves it
        ([3], "", 0, True),  # a file descriptor from systemd
    ],
)
def test_who_can_reach_the_server(addresses, public_base_url, proxies, elsewhere):
    assert serving.reachable_from_elsewhere(addresses, public_base_url, proxies) is elsewhere


EVERY_INTERFACE = [("0.0.0.0", 8000)]  # noqa: S104
LOOPBACK = [("127.0.0.1", 8000)]


def refusals(app, addresses, public_base_url="https://leaving.example.edu", **config) -> list[str]:
    """Why gunicorn would refuse to start on the test's database, configured as in production."""
    db.session.commit()
    database = Path(app.config["DATABASE_URL"].removeprefix("sqlite:///"))
    production = production_app(database, PUBLIC_BASE_URL=public_base_url, **config)
    found = serving.start_refusals(production, addresses)
    with production.app_context():
        db.engine.dispose()
    return found


def test_a_public_server_refuses_to_start_while_demo_accounts_keep_their_published_passwords(app, make_account):
    make_account("admin", role=Role.ADMIN, office_code=None, password="admin-demo")
    make_account("library", password="library-demo")
    [refusal] = refusals(app, EVERY_INTERFACE)
    assert "open 2 account(s): admin, library." in refusal and "0.0.0.0:8000" in refusal and "init-db" in refusal
    assert refusals(app, LOOPBACK, "http://127.0.0.1:8000") == []  # the demo, on this machine only
    assert refusals(app, LOOPBACK, "") == []  # as `make run` serves it: QR codes name this machine and its port
    assert refusals(app, LOOPBACK, "http://127.0.0.1:8000", TRUSTED_PROXIES=1) != []


def test_a_proxy_in_front_without_trusted_proxies_refuses_to_start(app):
    """Behind nginx on 127.0.0.1 with TRUSTED_PROXIES 0, every client is 127.0.0.1: one guesser would lock all."""
    [refusal] = refusals(app, LOOPBACK, "https://leaving.example.edu")
    assert "TRUSTED_PROXIES is 0" in refusal and "leaving.example.edu" in refusal
    assert refusals(app, LOOPBACK, "https://leaving.example.edu", TRUSTED_PROXIES=1) == []
    assert refusals(app, EVERY_INTERFACE, "https://leaving.example.edu") == []  # served directly: addresses are real


def test_demo_names_with_other_passwords_or_disabled_do_not_stop_a_public_server(app, make_account):
    make_account("admin", role=Role.ADMIN, office_code=None, password="chosen by the university")
    make_account("library", password="library-demo", disabled=True)
    assert refusals(app, EVERY_INTERFACE) == []


def test_demo_students_with_their_published_initial_passwords_stop_a_public_server(app, make_student):
    # seed_data.csv publishes this student's passport number, so their initial password.
    student = make_student(student_id="1111210101", passport_no="J 4817263")
    assert "1111210101" in refusals(app, EVERY_INTERFACE)[0]
    student.account.initial_password_digest = None
    student.account.password_hash = "pbkdf2:sha256:1$salt$chosen"  # changed at first login
    assert refusals(app, EVERY_INTERFACE) == []


def environment_for(database: Path, **environment) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GUNICORN", "FORWARDED"))}
    return {**env, **TEST_KEYS, "DATABASE_URL": f"sqlite:///{database}", **environment}


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory) -> Path:
    """A database made by `init-db --demo`, as `make run` makes it (a cheap hash: this is about who may start)."""
    database = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    env = environment_for(database, PASSWORD_HASH_METHOD="pbkdf2:sha256:1")
    flask = Path(sys.executable).parent / "flask"
    subprocess.run([flask, "--app", "app", "init-db", "--demo"], cwd=PROJECT, env=env, capture_output=True, check=True)
    return database


def run_gunicorn(database: Path, bind: str, **environment) -> subprocess.Popen:
    env = environment_for(database, **environment)
    return subprocess.Popen(
        [Path(sys.executable).parent / "gunicorn", "--config", "gunicorn.conf.py", "--workers", "1", "--bind", bind],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(
    ("environment", "why"),
    [
        ({"PUBLIC_BASE_URL": "https://leaving.example.edu"}, "published in the repository still open 50 account(s)"),
        ({"PUBLIC_BASE_URL": ""}, "PUBLIC_BASE_URL is not set"),
    ],
)
def test_gunicorn_on_every_interface_with_a_demo_database_refuses_to_start(demo_database, environment, why):
    server = run_gunicorn(demo_database, "0.0.0.0:0", **environment)  # refused before it binds
    try:
        _, errors = server.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        server.terminate()
        _, errors = server.communicate(timeout=30)
        pytest.fail(f"gunicorn served every interface:\n{errors}")
    assert server.returncode == 1, errors
    assert "refusing to start" in errors and why in errors


def test_gunicorn_on_loopback_with_the_demo_database_starts(demo_database):
    """The same database on 127.0.0.1, as `make run` serves it: the refusals above are the bind's doing."""
    server = run_gunicorn(demo_database, "127.0.0.1:0", PUBLIC_BASE_URL="")
    try:
        deadline = time.monotonic() + 30
        log = ""
        while "Booting worker" not in log and server.poll() is None and time.monotonic() < deadline:
            log += server.stderr.readline()
        assert "Booting worker" in log, log
    finally:
        server.terminate()
        server.communicate(timeout=30)


# --- 7. No foreign Host in a printed QR code -------------------------------------------------------------


def test_a_request_for_a_host_not_served_is_refused_and_prints_nothing(client, complete):  # noqa: F811
    log_in(client, complete.account)
    for path in ("/form", "/form.pdf"):
        refused = client.get(path, headers={"Host": "evil.example"})
        assert refused.status_code == 400 and "not served under that name" in refused.get_data(as_text=True)
    assert audit_count("form.printed") == 0
    assert client.get("/form").status_code == 200 and audit_count("form.printed") == 1  # from a name served


def test_the_qr_code_holds_public_base_url_whatever_host_was_asked(app, complete):  # noqa: F811
    form = current(complete)
    with app.test_request_context("/form", base_url="http://localhost:5000"):
        assert printing.verify_url(form).startswith("https://leaving.example.edu/verify/")


def test_trusted_hosts_are_public_base_urls_another_listed_and_this_machines(tmp_path):
    app = production_app(
        tmp_path / "db.sqlite3", PUBLIC_BASE_URL="https://leaving.example.edu/", TRUSTED_HOSTS="lixiao.example.edu, "
    )
    assert app.config["PUBLIC_BASE_URL"] == "https://leaving.example.edu"
    assert app.config["TRUSTED_HOSTS"] == ["leaving.example.edu", "lixiao.example.edu", *serving.LOOPBACK_NAMES]


def test_without_public_base_url_a_production_app_answers_only_this_machines_names(tmp_path):
    app = production_app(tmp_path / "db.sqlite3")
    with app.app_context():
        db.create_all()
    client = app.test_client()
    assert client.get("/login", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/login", headers={"Host": "127.0.0.1:8000"}).status_code == 200


def test_public_base_url_must_be_a_url(tmp_path):
    with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL must look like"):
        production_app(tmp_path / "db.sqlite3", PUBLIC_BASE_URL="leaving.example.edu")


# --- 8. Files for the app's user only --------------------------------------------------------------------


@pytest.fixture
def lax_umask():
    """A umask that would leave new files world-readable, as many servers' is."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def test_a_new_instance_folder_database_and_its_wal_are_private(tmp_path, monkeypatch, lax_umask):
    for name in TEST_KEYS:
        monkeypatch.delenv(name, raising=False)
    database = tmp_path / "instance" / "leaving.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    app = create_app(instance_path=str(tmp_path / "instance"))
    with app.app_context():
        db.create_all()
        db.session.commit()
        files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
        assert {path.name: mode(path) for path in files} == {path.name: "0o600" for path in files}
        db.engine.dispose()
    assert mode(tmp_path / "instance") == "0o700"
    assert mode(tmp_path / "instance" / "config.py") == "0o600"  # the generated secrets


def test_world_readable_files_from_before_are_made_private_at_start(tmp_path, monkeypatch, lax_umask):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    (instance / "config.py").write_text("")
    database = instance / "leaving.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").write_bytes(b"")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    create_app(instance_path=str(instance))
    assert mode(instance) == "0o700"
    assert {path.name: mode(path) for path in instance.iterdir()} == {path.name: "0o600" for path in instance.iterdir()}
