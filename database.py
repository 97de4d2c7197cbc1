"""The database handle, SQLite's settings, and the one way to open a write transaction.

SQLite: WAL, a busy timeout and foreign keys, set by one engine hook that applies
only to SQLite. Write transactions start with BEGIN IMMEDIATE so they queue for the
write lock up front instead of failing half-way with "database is locked"; reads
stay deferred so they never wait behind a writer. On PostgreSQL none of this
applies and the same code runs unchanged.
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Engine, MetaData, event, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

IMMEDIATE = "sqlite_begin_immediate"


def configure_sqlite(engine: Engine) -> None:
    """Install the SQLite connection settings; does nothing for other databases."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 5000")
        cursor.execute("PRAGMA journal_mode = WAL")
        # NORMAL in WAL stays consistent; a power cut may lose the last commits.
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        immediate = connection.get_execution_options().get(IMMEDIATE)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def write_transaction() -> Iterator[None]:
    """Run the block in one transaction that holds the write lock from its start; commit or roll back."""
    db.session.rollback()  # end the request's read transaction; loaded objects reload under the lock
    db.session.connection(execution_options={IMMEDIATE: True})
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def is_disk_full(error: BaseException) -> bool:
    """Whether a database error says the disk (or the database's size limit) is full: SQLite's SQLITE_FULL,
    PostgreSQL's disk_full (53100)."""
    if isinstance(error, OSError):
        return error.errno == errno.ENOSPC  # a file the app writes itself (an upload kept for its confirm)
    if not isinstance(error, DBAPIError):
        return False
    original = error.orig
    return getattr(original, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or (
        getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    ) in ("53100", "53000")


class DatabaseNotReady(RuntimeError):
    """The database cannot serve: missing, unreadable, read-only, or its schema is not the code's."""


def check_ready(app: Flask) -> None:
    """Refuse to serve (raise DatabaseNotReady, saying what to do) unless the database opens, takes a write
    and holds the schema of the newest migration. For the server's start, not for the commands that build it."""
    with app.app_context():
        engine = db.engine
        url = engine.url
        if _sqlite_file(url) and not Path(url.database).is_file():  # connecting would make an empty one
            raise DatabaseNotReady(
                f"the database file {url.database} does not exist: "
                "create it with `flask --app app init-db` (or restore a backup)"
            )
        if _sqlite_file(url) and Path(url.database).stat().st_size == 0:
            raise DatabaseNotReady(
                f"the database file {url.database} is empty (new, or deleted and made again): "
                "create the schema with `flask --app app init-db` (or restore a backup)"
            )
        try:
            with engine.connect() as connection:
                revision = _revision(connection, url)
                _probe_write(connection, url)
        except DBAPIError as error:
            raise DatabaseNotReady(f"the database {url!r} cannot be opened: {error.orig}") from error
    heads = migration_heads()
    if revision not in heads:
        behind = revision in known_revisions()
        raise DatabaseNotReady(
            f"the database schema is at revision {revision}, the code needs {', '.join(sorted(heads))}: "
            + (
                "upgrade it with `flask --app app init-db`"
                if behind
                else "the database is from a newer version of the code; run that version or restore a backup"
            )
        )


def _sqlite_file(url) -> bool:
    return (
        url.get_backend_name() == "sqlite"
        and url.database not in (None, "", ":memory:")
        and not (url.database.startswith("file:"))
    )


def _revision(connection, url) -> str:
    if not inspect(connection).has_table("alembic_version"):
        what = "has no tables" if not inspect(connection).get_table_names() else "was not built by the migrations"
        raise DatabaseNotReady(f"the database {url!r} {what}: create the schema with `flask --app app init-db`")
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar() or ""


def _probe_write(connection, url) -> None:
    """Write one row as it is, then roll back: a read-only file, folder or standby server fails here."""
    connection.rollback()  # end the read that found the revision
    try:
        connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
    except DBAPIError as error:
        raise DatabaseNotReady(f"the database {url!r} cannot be written: {error.orig}") from error
    finally:
        connection.rollback()


def migration_heads() -> set[str]:
    """The revisions the code's newest migrations leave a database at."""
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory(str(MIGRATIONS)).get_heads())


def known_revisions() -> set[str]:
    """Every revision the code's migrations know (older ones can be upgraded)."""
    from alembic.script import ScriptDirectory

    return {script.revision for script in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}
