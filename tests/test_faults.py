"""Faults: a crash shows the app's page with a reference, a bad database stops the start, a full disk
changes nothing and the app recovers, and a backup taken under load is whole."""

from __future__ import annotations

import errno
import io
import os
import re
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import OperationalError

from app import create_app
from backup import copy_database
from database import IMMEDIATE, DatabaseNotReady, check_ready, db, migration_heads
from models import AuditEvent, Office, Student
from tests.conftest import TEST_KEYS, log_in, office

# --- 15. A crash: the app's own page, the reference on it and in the log ---------------------------


@pytest.fixture
def crashing_app(app):
    """The app as served (errors not propagated to the test) with one route that fails."""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def crash():
        raise RuntimeError("the kind of bug nobody expected")

    app.add_url_rule("/crash-for-test", "crash_for_test", crash)
    return app


def test_a_crash_shows_the_apps_page_in_the_readers_language_with_a_reference_that_is_logged(crashing_app, capsys):
    client = crashing_app.test_client()
    response = client.get("/crash-for-test", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    page = response.get_data(as_text=True)
    reference = response.headers["X-Request-ID"]
    assert response.status_code == 500
    assert 'lang="zh-Hans"' in page and "664531" in page and "应老师" in page  # Chinese help contacts
    assert reference in page
    log = capsys.readouterr().err
    line = next(line for line in log.splitlines() if "event=error" in line)
    assert f"request_id={reference}" in line and "status=500" in line and "route=/crash-for-test" in line
    assert "the kind of bug nobody expected" in log  # the traceback, below its line


def test_a_safe_request_id_from_the_proxy_is_kept_and_anything_else_replaced(client):
    assert client.get("/login", headers={"X-Request-ID": "edge-42.a_b"}).headers["X-Request-ID"] == "edge-42.a_b"
    for unsafe in ("two words", "x" * 65, "id;X-Forged=1", "<script>", ""):
        given = client.get("/login", headers={"X-Request-ID": unsafe}).headers["X-Request-ID"]
        assert given != unsafe and re.fullmatch(r"[0-9a-f]{16}", given)
    first, second = (client.get("/login").headers["X-Request-ID"] for _ in range(2))
    assert first != second


# --- 16. The start refuses a database that cannot serve ------------------------------------------


def served_app(url: str):
    """create_app as gunicorn calls it: not under test, not inside a command."""
    return create_app({**TEST_KEYS, "DATABASE_URL": url})


def built_database(path, revision: str | None) -> None:
    """A database with the models' schema at a migration revision (None: no alembic_version table)."""
    app = create_app({**TEST_KEYS, "TESTING": True, "DATABASE_URL": f"sqlite:///{path}"})
    with app.app_context():
        db.create_all()
        if revision is not None:
            db.session.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
            db.session.execute(text("INSERT INTO alembic_version VALUES (:revision)"), {"revision": revision})
        db.session.commit()
        db.engine.dispose()


def head() -> str:
    return next(iter(migration_heads()))


def test_a_database_at_the_newest_migration_starts(tmp_path):
    built_database(tmp_path / "ok.sqlite3", head())
    assert served_app(f"sqlite:///{tmp_path / 'ok.sqlite3'}").name


def test_a_deleted_database_file_stops_the_start(tmp_path):
    missing = tmp_path / "deleted.sqlite3"
    with pytest.raises(DatabaseNotReady, match=r"(does not exist|is empty).* init-db"):
        served_app(f"sqlite:///{missing}")
    assert not missing.exists() or missing.stat().st_size == 0  # never an empty schema that then answers 500s


def test_an_empty_database_stops_the_start(tmp_path):
    empty = sqlite3.connect(tmp_path / "empty.sqlite3")
    empty.execute("PRAGMA user_version = 1")  # a database file, with no table in it
    empty.close()
    with pytest.raises(DatabaseNotReady, match="has no tables: create the schema"):
        served_app(f"sqlite:///{tmp_path / 'empty.sqlite3'}")


def test_a_schema_not_built_by_the_migrations_stops_the_start(tmp_path):
    built_database(tmp_path / "bare.sqlite3", None)
    with pytest.raises(DatabaseNotReady, match="was not built by the migrations"):
        served_app(f"sqlite:///{tmp_path / 'bare.sqlite3'}")


def test_a_schema_behind_the_migrations_stops_the_start_and_says_to_upgrade(tmp_path):
    built_database(tmp_path / "old.sqlite3", "0006_chinese_fields")
    with pytest.raises(DatabaseNotReady, match=r"revision 0006_chinese_fields.*upgrade it with `flask"):
        served_app(f"sqlite:///{tmp_path / 'old.sqlite3'}")


def test_a_schema_from_newer_code_stops_the_start(tmp_path):
    built_database(tmp_path / "new.sqlite3", "ffffffffffff")
    with pytest.raises(DatabaseNotReady, match="from a newer version of the code"):
        served_app(f"sqlite:///{tmp_path / 'new.sqlite3'}")


def test_a_database_that_cannot_be_written_stops_the_start(tmp_path):
    built_database(tmp_path / "ro.sqlite3", head())
    # Opened read-only as a full disk, a read-only mount or a wrong owner would leave it (root ignores chmod).
    with pytest.raises(DatabaseNotReady, match="cannot be written: attempt to write a readonly database"):
        served_app(f"sqlite:///file:{tmp_path / 'ro.sqlite3'}?mode=ro&uri=true")


def test_a_file_that_is_not_a_database_stops_the_start(tmp_path):
    (tmp_path / "junk.sqlite3").write_bytes(b"not a database" * 100)
    with pytest.raises(DatabaseNotReady, match="cannot be opened"):
        served_app(f"sqlite:///{tmp_path / 'junk.sqlite3'}")


def test_init_db_still_builds_an_empty_database_from_the_command_line(tmp_path):
    from flask.cli import FlaskGroup, ScriptInfo

    from tests.test_cli import restored_logging

    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    info = ScriptInfo(create_app=lambda: served_app(url))
    with restored_logging():
        result = FlaskGroup(create_app=lambda: served_app(url)).main(["init-db"], obj=info, standalone_mode=False)
    assert result is None
    check_ready(served_app(url))  # and now it serves


# --- 17. A full disk: nothing half-written, a clear answer, and recovery ---------------------------


@contextmanager
def full_disk(app):
    """SQLite's own "database or disk is full": no page may be added to the file until the block ends."""

    def no_room_left(dbapi_connection, _record):
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    db.session.remove()
    db.engine.dispose()
    event.listen(db.engine, "connect", no_room_left)
    try:
        yield
    finally:
        event.remove(db.engine, "connect", no_room_left)
        db.session.remove()
        db.engine.dispose()


def many_students(count: int) -> str:
    rows = [f"3000{n:05d},Student Number {n},P{n:08d},UG2011,School of Clinical Medicine,,1.00" for n in range(count)]
    return "student_id,name,passport_no,cohort,school,name_zh,library_fees_owed\n" + "\n".join(rows) + "\n"


def preview_then_confirm(client, csv_text: str):
    preview = client.post(
        "/admin/import",
        data={"file": (io.BytesIO(csv_text.encode()), "students.csv"), "encoding": "utf-8"},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', preview))
    return client.post("/admin/import/confirm", data=hidden)


def counts() -> tuple[int, int]:
    return db.session.scalar(select(func.count(Student.id))), db.session.scalar(select(func.count(AuditEvent.id)))


def test_an_import_on_a_full_disk_writes_nothing_says_so_and_works_when_space_returns(
    app, admin_client, make_cohort, capsys
):
    make_cohort()
    before = counts()
    with full_disk(app):
        response = preview_then_confirm(admin_client, many_students(300))
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "The server could not save this; nothing was changed." in page
    assert response.headers["X-Request-ID"] in page
    assert counts() == before  # not one student, not one audit row
    assert "event=disk-full" in capsys.readouterr().err
    done = preview_then_confirm(admin_client, many_students(300))
    assert done.status_code == 200 and counts()[0] == before[0] + 300


def test_a_commit_that_fails_for_a_full_disk_changes_nothing(app, client, make_student, make_account):
    student = make_student(must_change=False)
    log_in(client, make_account("housing", office_code="DORM"))
    step = office("DORM").steps[0]
    before = counts()

    def disk_full_at_commit(connection):
        if not connection.get_execution_options().get(IMMEDIATE):
            return  # only the request's write transaction, not the test's own commits
        full = sqlite3.OperationalError("database or disk is full")
        full.sqlite_errorcode = sqlite3.SQLITE_FULL
        raise OperationalError("COMMIT", None, full)

    event.listen(db.engine, "commit", disk_full_at_commit)
    try:
        response = client.post(f"/staff/students/{student.student_id}/steps/{step.id}/clear")
    finally:
        event.remove(db.engine, "commit", disk_full_at_commit)
    assert response.status_code == 503 and "nothing was changed" in response.get_data(as_text=True)
    assert counts() == before
    assert client.post(f"/staff/students/{student.student_id}/steps/{step.id}/clear").status_code == 302
    assert counts()[1] > before[1]


def test_other_database_errors_are_not_called_a_full_disk(crashing_app):
    def locked():
        raise OperationalError("UPDATE", None, sqlite3.OperationalError("database is locked"))

    crashing_app.add_url_rule("/locked-for-test", "locked_for_test", locked)
    response = crashing_app.test_client().get("/locked-for-test")
    assert response.status_code == 500 and "could not save" not in response.get_data(as_text=True)


# --- 18. Backup under load, restore with checks ----------------------------------------------------


def database_path(app) -> str:
    return app.config["DATABASE_URL"].removeprefix("sqlite:///")


def stamp_head() -> None:
    db.session.execute(text("CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
    db.session.execute(text("DELETE FROM alembic_version"))
    db.session.execute(text("INSERT INTO alembic_version VALUES (:head)"), {"head": head()})
    db.session.commit()


def test_a_backup_taken_while_another_thread_writes_is_whole(app, runner, tmp_path):
    stamp_head()
    live = database_path(app)
    setup = sqlite3.connect(live)
    setup.execute("CREATE TABLE load_test (n INTEGER, filler TEXT)")
    setup.commit()
    setup.close()
    started, stop, written = threading.Event(), threading.Event(), []

    def writer():
        connection = sqlite3.connect(live, timeout=10, isolation_level=None)
        connection.execute("PRAGMA busy_timeout = 10000")
        n = 0
        while not stop.is_set():
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany("INSERT INTO load_test VALUES (?, ?)", [(n + i, "x" * 200) for i in range(20)])
            connection.execute("COMMIT")
            n += 20
            written.append(n)
            started.set()
        connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert started.wait(10)
        result = runner.invoke(args=["backup", str(tmp_path / "copy.sqlite3")])
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.output
    copy = sqlite3.connect(tmp_path / "copy.sqlite3")
    assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    rows = copy.execute("SELECT count(*), max(n) FROM load_test").fetchone()
    assert rows[0] > 0 and rows[0] % 20 == 0 and rows[1] == rows[0] - 1  # whole transactions only
    assert copy.execute("SELECT count(*) FROM offices").fetchone()[0] == 6
    assert oct((tmp_path / "copy.sqlite3").stat().st_mode & 0o777) == "0o600"
    copy.close()


def test_a_backup_holds_what_is_still_only_in_the_wal(app, tmp_path):
    """A copy of the file alone would miss the newest commits: they wait in the WAL until a checkpoint."""
    stamp_head()
    db.session.add(Office(code="NEW", name_en="Committed a moment ago"))
    db.session.commit()
    copy_database(Path(database_path(app)), tmp_path / "copy.sqlite3")
    copy = sqlite3.connect(tmp_path / "copy.sqlite3")
    assert copy.execute("SELECT name_en FROM offices WHERE code = 'NEW'").fetchone() == ("Committed a moment ago",)
    copy.close()


def test_backup_refuses_to_overwrite_a_file(app, runner, tmp_path):
    stamp_head()
    (tmp_path / "there.sqlite3").write_text("keep me")
    result = runner.invoke(args=["backup", str(tmp_path / "there.sqlite3")])
    assert result.exit_code != 0 and "exists already" in result.output
    assert (tmp_path / "there.sqlite3").read_text() == "keep me"


def test_restore_asks_for_yes_then_puts_the_backup_back(app, runner, tmp_path):
    stamp_head()
    assert runner.invoke(args=["backup", str(tmp_path / "before.sqlite3")]).exit_code == 0
    db.session.add(Office(code="LATE", name_en="Added after the backup"))
    db.session.commit()
    db.session.remove()

    refused = runner.invoke(args=["restore", str(tmp_path / "before.sqlite3")])
    assert refused.exit_code != 0 and "--yes" in refused.output
    assert db.session.scalar(select(Office).where(Office.code == "LATE")) is not None
    db.session.remove()

    restored = runner.invoke(args=["restore", "--yes", str(tmp_path / "before.sqlite3")])
    assert restored.exit_code == 0, restored.output
    assert "kept as" in restored.output
    db.engine.dispose()
    assert db.session.scalar(select(Office).where(Office.code == "LATE")) is None
    assert db.session.scalar(select(func.count(Office.id))) == 6
    check = sqlite3.connect(database_path(app))
    assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    check.close()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"SQLite format 3\x00" + b"\x00" * 200, "is not a database"),
        (b"just some text", "is not a database"),
    ],
)
def test_restore_refuses_a_file_that_is_not_a_sound_database(app, runner, tmp_path, content, message):
    stamp_head()
    (tmp_path / "bad.sqlite3").write_bytes(content)
    result = runner.invoke(args=["restore", "--yes", str(tmp_path / "bad.sqlite3")])
    assert result.exit_code != 0 and message in result.output
    assert db.session.scalar(select(func.count(Office.id))) == 6


def test_restore_refuses_a_backup_from_newer_code_or_another_system(app, runner, tmp_path):
    stamp_head()
    newer = sqlite3.connect(tmp_path / "newer.sqlite3")
    newer.execute("CREATE TABLE alembic_version (version_num TEXT)")
    newer.execute("INSERT INTO alembic_version VALUES ('ffffffffffff')")
    newer.commit()
    newer.close()
    result = runner.invoke(args=["restore", "--yes", str(tmp_path / "newer.sqlite3")])
    assert result.exit_code != 0 and "newer version" in result.output
    other = sqlite3.connect(tmp_path / "other.sqlite3")
    other.execute("CREATE TABLE something (x)")
    other.commit()
    other.close()
    result = runner.invoke(args=["restore", "--yes", str(tmp_path / "other.sqlite3")])
    assert result.exit_code != 0 and "not a database of this system" in result.output


def test_on_postgresql_the_commands_point_to_pg_dump(app, runner, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "SQLALCHEMY_DATABASE_URI", "postgresql+psycopg://leaving@db/leaving")
    for command in (["backup", str(tmp_path / "x")], ["restore", "--yes", __file__]):
        result = runner.invoke(args=command)
        assert result.exit_code != 0 and "pg_dump" in result.output and "pg_restore" in result.output


# --- 20. The security linter and the virtual environment's own tools -------------------------------

PROJECT = Path(__file__).resolve().parent.parent


def test_bandit_finds_nothing_of_medium_or_high_severity_without_a_written_reason():
    import json
    import subprocess
    import sys

    bandit = Path(sys.executable).parent / "bandit"
    ran = subprocess.run(
        [bandit, "-c", "pyproject.toml", "-r", ".", "--severity-level", "medium", "--format", "json", "--quiet"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(ran.stdout)
    findings = [f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}" for r in report["results"]]
    assert findings == [] and ran.returncode == 0
    assert report["metrics"]["_totals"]["loc"] > 1000  # it did read the project, not an empty folder


def test_the_virtual_environment_has_the_pinned_pip_and_setuptools():
    from importlib.metadata import version

    makefile = (PROJECT / "Makefile").read_text()
    pinned = dict(re.findall(r"^(PIP|SETUPTOOLS)_VERSION := (\S+)$", makefile, re.MULTILINE))
    assert pinned == {"PIP": version("pip"), "SETUPTOOLS": version("setuptools")}
    assert re.search(r"pip==\$\(PIP_VERSION\) setuptools==\$\(SETUPTOOLS_VERSION\)", makefile)


def test_a_full_disk_while_keeping_an_upload_is_the_same_503_and_leaves_no_file(
    app, admin_client, make_cohort, monkeypatch
):
    make_cohort()
    real_fdopen = os.fdopen

    class FullFile:
        def __init__(self, file):
            self.file = file

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.file.close()

        def write(self, _data):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("uploads.os.fdopen", lambda fd, mode: FullFile(real_fdopen(fd, mode)))
    response = admin_client.post(
        "/admin/import",
        data={"file": (io.BytesIO(many_students(3).encode()), "students.csv"), "encoding": "utf-8"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 503
    assert "The server could not save this; nothing was changed." in response.get_data(as_text=True)
    assert list((Path(app.config["UPLOAD_FOLDER"])).iterdir()) == []
