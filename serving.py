"""How the app is served: behind proxies, over HTTPS, with its files private, and what refuses a public start.

`init_app` runs in every process that builds the app (server workers, the CLI, the tests): ProxyFix for
TRUSTED_PROXIES, a session cookie marked Secure on every HTTPS request, and the instance folder and the SQLite
files readable by the app's user only. `start_refusals` is asked once, by gunicorn's master before it binds
(gunicorn.conf.py `on_starting`): a server that other machines can reach does not start without PUBLIC_BASE_URL,
nor while accounts with the passwords published in this repository still work (docs/OPERATIONS.md).
"""

from __future__ import annotations

import csv
import ipaddress
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, Response, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from sqlalchemy import inspect, select
from sqlalchemy.engine import make_url
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.security import check_password_hash

PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")
# The names this machine answers to itself, always trusted hosts (werkzeug cannot match an IPv6 literal there).
LOOPBACK_NAMES = ("localhost", "127.0.0.1")
SEED_FILE = Path(__file__).resolve().parent / "seed_data.csv"


def init_app(app: Flask) -> None:
    """Proxies, Secure cookies over HTTPS, private files: everything a process needs before it serves."""
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        # The client's address, scheme and host, as the proxies in front of us say; never more hops than we have.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.session_interface = SessionCookieSecureOverHttps()
    # A Host outside TRUSTED_HOSTS (config.py): no URL can be built for it, so the answer is a page without links.
    app.register_error_handler(SecurityError, _unknown_host)
    keep_private(app)


def _unknown_host(_error):
    text = _("This site is not served under that name. Use the address the university gave you.")
    return Response(text, status=400, mimetype="text/plain")


class SessionCookieSecureOverHttps(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over HTTPS, not only when configured so."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return super().get_cookie_secure(app) or (has_request_context() and request.is_secure)


# --- Files readable by the app's user only ----------------------------------------------------------------


def keep_private(app: Flask) -> None:
    """The instance folder 0700; the SQLite file and its companions 0600, created so before SQLite opens it."""
    instance = Path(app.instance_path)
    if instance.is_dir():
        _chmod(instance, PRIVATE_FOLDER)
        for secrets_file in (instance / "config.py", instance / ".config.lock"):
            _chmod(secrets_file, PRIVATE_FILE)
    database = sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])
    if database is None:
        return
    if database.parent.is_dir() and not database.exists():
        # SQLite gives its -wal, -shm and -journal files the mode of the database file: make that one private.
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))
    for suffix in SQLITE_COMPANIONS:
        _chmod(Path(f"{database}{suffix}"), PRIVATE_FILE)


def sqlite_file(database_url: str) -> Path | None:
    """The file of an SQLite database URL; None for other databases and in-memory ones."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def _chmod(path: Path, mode: int) -> None:
    try:
        if path.exists() and path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
    except PermissionError:
        # Owned by another user (a root-owned checkout): say so at start, rather than not starting at all.
        logging.getLogger(__name__).warning("cannot make %s private (mode %o): not its owner", path, mode)


# --- Whether a server may start -----------------------------------------------------------------------


def is_loopback(host: str | None) -> bool:
    """Whether a host name or address is this machine only."""
    if not host:
        return False  # an empty host binds every interface
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def reachable_from_elsewhere(addresses: Iterable, public_base_url: str, trusted_proxies: int) -> bool:
    """Whether machines other than this one can reach the server.

    Yes when it listens on anything but a loopback address (every interface, a public address, a Unix socket or an
    inherited file descriptor, which a proxy serves), when PUBLIC_BASE_URL names another host, or when proxies are
    trusted: a proxy on this machine that forwards to 127.0.0.1 still serves the world.
    """
    if trusted_proxies or (public_base_url and not is_loopback(urlsplit(public_base_url).hostname)):
        return True
    return not _loopback_only(addresses)


def _loopback_only(addresses: Iterable) -> bool:
    return all(isinstance(address, tuple) and is_loopback(address[0]) for address in addresses)


def start_refusals(app: Flask, addresses: Iterable) -> list[str]:
    """Why a server on these addresses must not start; empty when it may (operators read these: English).

    A server only this machine reaches (the demo, the browser tests) needs no PUBLIC_BASE_URL: it answers only
    this machine's names (TRUSTED_HOSTS, config.py), so its QR codes name this machine, port included.
    """
    addresses = list(addresses)
    public, proxies = app.config["PUBLIC_BASE_URL"], app.config["TRUSTED_PROXIES"]
    if app.debug or app.testing or not reachable_from_elsewhere(addresses, public, proxies):
        return []
    refusals = []
    listening = ", ".join(_shown(address) for address in addresses)
    if not public:
        refusals.append(
            f"PUBLIC_BASE_URL is not set, and other machines can reach this server ({listening}). Set it to the "
            "address people use (e.g. https://leaving.example.edu): every printed QR code holds it, and requests "
            "for other hosts are refused."
        )
    if public and not is_loopback(urlsplit(public).hostname) and not proxies and _loopback_only(addresses):
        refusals.append(
            f"PUBLIC_BASE_URL names {urlsplit(public).hostname}, but the server listens only on this machine "
            f"({listening}) and TRUSTED_PROXIES is 0: behind a proxy every client would look like 127.0.0.1, so five "
            "wrong passwords from anyone would refuse everyone and lock students out for all. Set TRUSTED_PROXIES to "
            "the number of proxies in front (docs/OPERATIONS.md)."
        )
    with app.app_context():
        known = published_logins()
    if known:
        refusals.append(
            f"other machines can reach this server ({listening}, PUBLIC_BASE_URL {public or 'unset'}, "
            f"TRUSTED_PROXIES {proxies}), and the demo passwords published in the repository still open "
            f"{len(known)} account(s): {_some(known)}. Serve a database made by `init-db` without --demo, or "
            "disable those accounts or change their passwords on a server bound to 127.0.0.1."
        )
    return refusals


def published_logins() -> list[str]:
    """User names whose password anyone can read in this repository: the demo accounts and demo students."""
    # Imported when asked, by gunicorn's master only: config.py imports this module before any model is needed.
    import accounts
    import seeding
    from database import db
    from models import Account

    if not inspect(db.engine).has_table(Account.__tablename__):
        return []  # no schema yet: nothing to log in with
    demo_names = [name for name, *_ in seeding.DEMO_ACCOUNTS]
    initial = _seed_initial_passwords()
    found = []
    for account in db.session.scalars(
        select(Account).where(Account.username.in_([*demo_names, *initial]), Account.disabled.is_(False))
    ):
        if account.username in demo_names and account.password_hash:
            known = check_password_hash(account.password_hash, seeding.demo_password(account.username))
        else:
            password = initial.get(account.username)
            known = bool(account.initial_password_digest and password) and (
                account.initial_password_digest == accounts.initial_password_digest(account.username, password)
            )
        if known:
            found.append(account.username)
    db.session.rollback()
    return sorted(found)


def _seed_initial_passwords() -> dict[str, str]:
    """The demo students' IDs and initial passwords, as seed_data.csv publishes them."""
    import accounts

    with SEED_FILE.open(encoding="utf-8-sig", newline="") as seed:
        rows = list(csv.DictReader(seed))
    return {row["student_id"]: accounts.initial_password(row["passport_no"]) for row in rows}


def _some(names: list[str], shown: int = 6) -> str:
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")


def _shown(address) -> str:
    if isinstance(address, tuple):
        host, port = address[0], address[1]
        return f"[{host}]:{port}" if ":" in host else f"{host or '*'}:{port}"
    return str(address)
