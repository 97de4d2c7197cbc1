"""Login sessions kept on the server, one per logged-in browser (rule 11).

The signed cookie carries only a random token (what Flask-Login calls the user id); the table
`login_sessions` keeps its SHA-256, the account, and when the session started, was last seen and
ended. So logging out ends this browser's session only (clerks sharing an office account no longer
log each other out), "log out everywhere" and a password change end the others, and every request
checks the idle time (SESSION_IDLE_MINUTES_STUDENT, SESSION_IDLE_MINUTES_STAFF for staff, desk and
admin) and the absolute lifetime (SESSION_LIFETIME_HOURS). "Last seen" is written at most once a
minute (TOUCH_EVERY), so a busy clerk costs one small write a minute, not one a request.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

import audit
from clock import utcnow
from database import db
from models import Account, LoginSession, Role
from wording import say

TOUCH_EVERY = timedelta(minutes=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(account: Account, address: str = "", user_agent: str = "") -> str:
    """Open a session for the account and return its token (the caller commits)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        LoginSession(
            token_digest=_digest(token),
            account=account,
            created_at=now,
            last_seen_at=now,
            address=(address or "")[:64],
            user_agent=(user_agent or "")[:200],
        )
    )
    account.session_token = token
    return token


def idle_limit(account: Account) -> timedelta:
    """How long a session of this account may stay unused."""
    key = "SESSION_IDLE_MINUTES_STUDENT" if account.role == Role.STUDENT else "SESSION_IDLE_MINUTES_STAFF"
    return timedelta(minutes=current_app.config[key])


EXPIRED, ENDED = "expired", "ended"  # why a session the cookie names no longer logs in (the page says so)


def load(token: str) -> tuple[Account | None, LoginSession | None, str]:
    """The account and session a token belongs to, if still usable; else why not: EXPIRED, ENDED (elsewhere) or ""."""
    if not token:
        return None, None, ""
    row = db.session.execute(
        select(LoginSession, Account).join(Account).where(LoginSession.token_digest == _digest(token))
    ).first()
    if row is None or row[1].disabled:
        return None, None, ""
    record, account = row
    if record.ended_at is not None:  # "log out everywhere", a password change or an admin's reset elsewhere
        return None, None, ENDED
    now = utcnow()
    lifetime = timedelta(hours=current_app.config["SESSION_LIFETIME_HOURS"])
    if now - record.last_seen_at > idle_limit(account) or now - record.created_at > lifetime:
        return None, None, EXPIRED
    account.session_token = token
    return account, record, ""


def needs_touch(record: LoginSession) -> bool:
    """Whether "last seen" is old enough to be written again."""
    return utcnow() - record.last_seen_at >= TOUCH_EVERY


def touch(record_id: int) -> None:
    """Write "last seen" now (inside a write transaction)."""
    db.session.execute(update(LoginSession).where(LoginSession.id == record_id).values(last_seen_at=utcnow()))


def end(account: Account, token: str) -> None:
    """Log this browser out: its session ends, the account's others go on; audited."""
    db.session.execute(
        update(LoginSession)
        .where(LoginSession.token_digest == _digest(token), LoginSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    audit.record("logout", account, student_id=account.student.id if account.student else None)


def end_all(account: Account, *, keep: str | None = None) -> int:
    """End every open session of the account, but the one with token `keep`; how many ended."""
    query = update(LoginSession).where(LoginSession.account_id == account.id, LoginSession.ended_at.is_(None))
    if keep:
        query = query.where(LoginSession.token_digest != _digest(keep))
    return db.session.execute(query.values(ended_at=utcnow())).rowcount


def log_out_everywhere(account: Account) -> None:
    """End every session of the account, this one too; audited."""
    ended = end_all(account)
    audit.record(
        "logout.everywhere",
        account,
        student_id=account.student.id if account.student else None,
        subject=account.username,
        after=say("sessions ended: %(n)d", n=ended),
    )
