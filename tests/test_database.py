"""SQLite settings and write transactions that take the write lock up front."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import select, text

from database import db, write_transaction
from models import Office


def other_writer_can_start(app) -> bool:
    path = app.config["DATABASE_URL"].removeprefix("sqlite:///")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return False
    finally:
        other.close()


def test_sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout(app):
    connection = db.session.connection()
    assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def test_a_read_does_not_take_the_write_lock(app):
    db.session.scalars(select(Office)).all()
    assert other_writer_can_start(app)
    db.session.rollback()


def test_a_write_transaction_holds_the_write_lock_from_its_start(app):
    with write_transaction():
        db.session.execute(text("SELECT 1"))
        assert not other_writer_can_start(app)
    assert other_writer_can_start(app)


def test_a_failed_write_transaction_rolls_back_everything(app):
    with pytest.raises(RuntimeError), write_transaction():
        db.session.add(Office(code="TMP", name_en="Temporary"))
        db.session.flush()
        raise RuntimeError("boom")
    assert db.session.scalar(select(Office).where(Office.code == "TMP")) is None


def test_audit_events_are_append_only(app):
    import audit

    with write_transaction():
        event = audit.record("test.event", None)
    event.reason = "rewritten"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.commit()
    db.session.rollback()


def test_the_database_refuses_a_second_current_form_for_a_student(app, make_student):
    from sqlalchemy.exc import IntegrityError

    from models import FormVersion

    student = make_student()
    db.session.add(FormVersion(student_id=student.id, serial="LS2026-000001", code="AAAAAAAA"))
    db.session.add(FormVersion(student_id=student.id, serial="LS2026-000002", code="BBBBBBBB", voided_at=None))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
