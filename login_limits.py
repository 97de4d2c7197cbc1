"""Limits on guessing passwords, counted in the database so that every worker process sees them (rule 11).

Flask-Limiter would be the usual choice, but its storage library (`limits`) keeps counts only in
memory, Redis, Memcached, MongoDB or etcd: nothing SQL. This system runs on one database (SQLite,
or PostgreSQL) and nothing else, and memory is per gunicorn worker, so the honest home for the
count is a small table, `login_failures`: one row per failed attempt, its client address and a
keyed hash of the name typed. Only failures are counted, so a campus address behind which many
students log in correctly is never held back. Three rules:

- **Per address**, across all names: LOGIN_FAILURES_PER_ADDRESS failures within
  LOGIN_FAILURE_WINDOW seconds, and further attempts from that address are refused (HTTP 429,
  Retry-After) without checking any password, until the oldest of them leaves the window.
- **Per name and address**: LOCKOUT_ATTEMPTS failures for one name from one address within
  LOCKOUT_MINUTES lock that pair: even the right password is then answered like a wrong one
  (rule 2). A success from that address clears its count.
- **Per name, from elsewhere**: a name with LOCKOUT_ATTEMPTS failures within LOCKOUT_MINUTES from
  any address is slowed, not locked, for the addresses not locked out of it: one attempt every
  LOGIN_SLOWDOWN_SECONDS after the last failure, the others refused with 429 and Retry-After (and not
  counted). So the lock follows the attacker, and nobody can lock a student out from another address:
  attempts refused by a lock do not restart the wait. The price: several addresses failing in turn
  can keep a name waiting while they keep at it, each of them held to its own per-address limit.

Names are counted by a keyed hash of what was typed, known or unknown alike, so the rules behave
the same for every name and tell nobody which accounts exist.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select

import audit
from clock import utcnow
from database import db
from models import LoginFailure
from wording import say

# Rows older than this are never counted again; they are pruned now and then.
KEEP = timedelta(days=1)
PRUNE_EVERY = 100


@dataclass(frozen=True)
class Verdict:
    """What the limits say about an attempt before any password is checked."""

    retry_after: int = 0  # seconds to wait; 0: the attempt may go ahead
    locked: bool = False  # this address is locked out of this name: answer as for a wrong password


def name_key(name: str) -> str:
    """A keyed hash of a name as typed (trimmed, any case): counts names without storing them."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"login-name\0" + name.strip().lower().encode(), hashlib.sha256).hexdigest()


def client_key(address: str) -> str:
    """What counts as one client: an IPv4 address, or an IPv6 /64 (one subscriber holds a whole /64, and could
    otherwise guess from a new address every time); an IPv4 address written as IPv6 (::ffff:a.b.c.d) is itself."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped:
        return str(parsed.ipv4_mapped)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def address_window() -> timedelta:
    return timedelta(seconds=current_app.config["LOGIN_FAILURE_WINDOW"])


def lockout_window() -> timedelta:
    return timedelta(minutes=current_app.config["LOCKOUT_MINUTES"])


def check(name: str, address: str) -> Verdict:
    """Whether an attempt on `name` from `address` may go ahead now; reads only."""
    address = client_key(address)
    now = utcnow()
    limit = current_app.config["LOGIN_FAILURES_PER_ADDRESS"]
    recent = db.session.scalars(
        select(LoginFailure.at)
        .where(LoginFailure.address == address, LoginFailure.at > now - address_window())
        .order_by(LoginFailure.at.desc())
        .limit(limit)
    ).all()
    if len(recent) >= limit:
        return Verdict(retry_after=_seconds_until(recent[-1] + address_window(), now))
    key, since = name_key(name), now - lockout_window()
    attempts = current_app.config["LOCKOUT_ATTEMPTS"]
    from_here = db.session.scalar(
        select(func.count()).where(
            LoginFailure.name_key == key, LoginFailure.address == address, LoginFailure.at > since
        )
    )
    if from_here >= attempts:
        return Verdict(locked=True)
    count, latest = db.session.execute(
        select(func.count(), func.max(LoginFailure.at)).where(
            LoginFailure.name_key == key, LoginFailure.at > since, LoginFailure.while_locked.is_(False)
        )
    ).one()
    slowdown = timedelta(seconds=current_app.config["LOGIN_SLOWDOWN_SECONDS"])
    if count >= attempts and latest + slowdown > now:
        return Verdict(retry_after=_seconds_until(latest + slowdown, now))
    return Verdict()


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def record_failure(name: str, address: str, *, while_locked: bool = False) -> None:
    """Count one failure (inside the write transaction); audit the address's limit the moment it starts.

    `while_locked`: refused by the lock of this name for this address, so it does not slow the name
    for other addresses (else an attacker locked out could keep the student waiting).
    """
    address = client_key(address)
    now = utcnow()
    failure = LoginFailure(at=now, address=address, name_key=name_key(name), while_locked=while_locked)
    db.session.add(failure)
    db.session.flush()
    if failure.id % PRUNE_EVERY == 0:
        db.session.execute(delete(LoginFailure).where(LoginFailure.at < now - KEEP))
    limit, window = current_app.config["LOGIN_FAILURES_PER_ADDRESS"], current_app.config["LOGIN_FAILURE_WINDOW"]
    from_address = db.session.scalar(
        select(func.count()).where(LoginFailure.address == address, LoginFailure.at > now - address_window())
    )
    if from_address == limit:
        audit.record(
            "login.limited",
            None,
            subject=address,
            after=say("refused for %(n)d seconds", n=window),
            reason=say("%(n)d failed logins in %(seconds)d seconds", n=limit, seconds=window),
        )


def pair_failures(name: str, address: str) -> int:
    """Failures of this name from this address still counted by the lock."""
    address = client_key(address)
    since = utcnow() - lockout_window()
    return db.session.scalar(
        select(func.count()).where(
            LoginFailure.name_key == name_key(name), LoginFailure.address == address, LoginFailure.at > since
        )
    )


def forget_name(name: str) -> None:
    """An admin's one-time password: no earlier failure on this name counts any more, from any address."""
    db.session.execute(delete(LoginFailure).where(LoginFailure.name_key == name_key(name)))


def forget_failures(name: str, address: str) -> None:
    """A success from this address: its failures on this name no longer count (inside the write transaction)."""
    address = client_key(address)
    db.session.execute(
        delete(LoginFailure).where(LoginFailure.name_key == name_key(name), LoginFailure.address == address)
    )
