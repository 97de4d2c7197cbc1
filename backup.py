"""Backing up and restoring the SQLite database while the app serves: flask --app app backup | restore FILE.

A copy of the live file can catch a transaction half-way and misses what is still in the WAL, so both
go through SQLite's online backup API, which copies one consistent snapshot while writers go on.
On PostgreSQL the commands say to use pg_dump and pg_restore instead.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.engine import make_url

from database import known_revisions, migration_heads
from languages import terminal_language


def _database_file() -> Path:
    """The live SQLite file, or a ClickException saying what to use instead."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite":
        raise click.ClickException(
            _(
                "the database is not SQLite: back it up with pg_dump (pg_dump --format=custom) "
                "and restore it with pg_restore"
            )
        )
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise click.ClickException(_("the database is not a file"))
    return Path(url.database)


def copy_database(source: Path, target: Path) -> None:
    """Copy one consistent snapshot of `source` into a new file `target` (0600), checked, written whole or not."""
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    partial.touch(mode=0o600)
    try:
        with _open(source, read_only=False) as live, _open(partial, read_only=False) as copy:
            live.backup(copy)  # one step: one read snapshot, writers go on meanwhile (WAL)
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
        _check(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _open(path: Path, read_only: bool = True) -> closing[sqlite3.Connection]:
    """A connection to the file, closed at the end of `with`; read-only unless asked."""
    uri = f"{path.resolve().as_uri()}?mode={'ro' if read_only else 'rw'}"
    return closing(sqlite3.connect(uri, uri=True, isolation_level=None, timeout=5))


def _check(path: Path) -> str:
    """The schema revision of a database file that passes integrity_check; a ClickException otherwise."""
    try:
        with _open(path) as database:
            problems = [row[0] for row in database.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                raise click.ClickException(
                    _("%(file)s is damaged: %(problems)s", file=path, problems="; ".join(problems))
                )
            tables = {row[0] for row in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "alembic_version" not in tables:
                raise click.ClickException(_("%(file)s is not a database of this system", file=path))
            return database.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise click.ClickException(_("%(file)s is not a database: %(error)s", file=path, error=error)) from None


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def backup(file: Path) -> None:
    """Copy the live database into FILE (new) while the app serves; keep instance/config.py with it."""
    with force_locale(terminal_language()):
        _backup(file)


def _backup(file: Path) -> None:
    if file.exists():
        raise click.ClickException(_("%(file)s exists already: choose a new name", file=file))
    copy_database(_database_file(), file)
    click.echo(_("Backed up to %(file)s. Keep instance/config.py (the keys) with it.", file=file))


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace the current database (a copy of it is kept beside it).")
def restore(file: Path, yes: bool) -> None:
    """Put a backup back in place of the database, after checking it. Stop the app first."""
    with force_locale(terminal_language()):
        _restore(file, yes)


def _restore(file: Path, yes: bool) -> None:
    live = _database_file()
    revision = _check(file)
    if revision not in known_revisions():
        raise click.ClickException(
            _("%(file)s is from a newer version of this system (revision %(revision)s)", file=file, revision=revision)
        )
    if live.exists() and not yes:
        raise click.ClickException(
            _("this replaces the database %(live)s: stop the app, then run again with --yes", live=live)
        )
    if live.exists():
        kept = live.with_name(f"{live.name}.before-restore-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
        copy_database(live, kept)
        click.echo(_("The current database was kept as %(file)s.", file=kept))
    live.touch(mode=0o600)  # readable by the app's user only, also when there was no database yet
    with _open(file) as source, _open(live, read_only=False) as target:
        source.backup(target)  # through SQLite's locks, so a connection still open sees all or nothing
    _check(live)
    click.echo(_("Restored from %(file)s.", file=file))
    if revision not in migration_heads():
        click.echo(_("The backup is from an older version: run flask --app app init-db to upgrade it."))
