"""Credentials: the initial-password rule, password hashing, lockout, password changes.

A student's initial password (the last six digits of the passport number) is weak and
guessable, so the database keeps only an HMAC of it under INITIAL_PASSWORD_KEY, which
lives outside the database: a stolen database file alone does not reveal it, and an
import of 20,000 students stays fast. The first change replaces it with a slow hash.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

import audit
import login_limits
import login_sessions
from clearance.window import window_opens_on
from clock import start_of_day_utc, utcnow
from database import db
from models import Account, Office, Role, School
from wording import say

MIN_PASSWORD_LENGTH = 8
# The 10,000 most common passwords: the top of the ranked breach list that zxcvbn (MIT licence, pinned in
# requirements.txt) ships, from Mark Burnett's and xato.net's 10 million passwords. A well-kept package
# rather than a copied file: its list is maintained and licensed with it, and nothing else is needed.
COMMON_PASSWORD_COUNT = 10_000
# Refused before that list came in and missing from it (some common in China rather than in English).
MORE_COMMON_PASSWORDS = frozenset(
    {"00000000", "0123456789", "12341234", "66666666", "87654321", "88888888", "administrator", "michelle"}
    | {"woaini1314", "5201314520", "woaini520", "aini1314", "1314520520"}
)


@cache
def common_passwords() -> frozenset[str]:
    """The passwords refused outright: the most common ones, in lower case."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"][:COMMON_PASSWORD_COUNT]) | MORE_COMMON_PASSWORDS


USERNAME = re.compile(r"[A-Za-z0-9._-]{2,64}")
# Hashes to compare against when there is no password hash, one per method, so timing does not tell.
_DUMMY_HASHES: dict[str, str] = {}
_ONE_TIME_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def hash_password(password: str) -> str:
    """A salted hash of the password by PASSWORD_HASH_METHOD (scrypt in production)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def _check_dummy_hash(password: str) -> None:
    """Cost what checking a real hash of the configured method costs, and tell nothing."""
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = hash_password("not-a-real-password")
    check_password_hash(_DUMMY_HASHES[method], password)


def initial_password(passport_no: str) -> str | None:
    """The last six digits of the passport number, ignoring everything else; None if fewer."""
    digits = re.sub(r"\D", "", passport_no or "")
    return digits[-6:] if len(digits) >= 6 else None


def initial_password_digest(student_id: str, password: str) -> str:
    """Keyed hash of a student's initial password, salted by the student ID."""
    key = current_app.config["INITIAL_PASSWORD_KEY"].encode()
    message = f"{student_id}\0{password}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def password_matches(account: Account, password: str) -> bool:
    """Whether the password is the account's current one (initial, one-time or chosen).

    Every path costs one slow hash, so the time taken tells nobody which kind of password an
    account has, or whether a one-time password expired.
    """
    if account.password_hash:
        matches = check_password_hash(account.password_hash, password)
        expired = account.password_expires_at is not None and account.password_expires_at < utcnow()
        return matches and not expired
    _check_dummy_hash(password)
    if account.initial_password_digest:
        expected = initial_password_digest(account.username, password)
        matches = hmac.compare_digest(expected, account.initial_password_digest)
        return matches and not initial_password_expired(account)
    return False


def initial_password_expired(account: Account) -> bool:
    """Whether the passport-digit password is too old to use: INITIAL_PASSWORD_DAYS after the student could first
    use it, the day their window opens (lists are imported weeks before), or the import if that came later."""
    if account.created_at is None:
        return False
    start = account.created_at
    if account.student is not None:
        start = max(start, start_of_day_utc(window_opens_on(account.student)))
    return start + timedelta(days=current_app.config["INITIAL_PASSWORD_DAYS"]) < utcnow()


def is_locked(account: Account) -> bool:
    """Whether failed logins from some address still lock that address out of this account (admins see it)."""
    return account.locked_until is not None and account.locked_until > utcnow()


@dataclass
class LoginAttempt:
    """A login checked against the limits and the password hash, before anything is written."""

    name: str
    address: str
    account: Account | None = None
    matches: bool = False
    locked: bool = False
    retry_after: int = 0  # refused by the limits: wait this many seconds (HTTP 429)
    credential: tuple = ()  # the hashes the password was checked against


def check_login(username: str, password: str, address: str) -> LoginAttempt:
    """Read the limits and check the password: the slow hash, outside any transaction; writes nothing.

    An attempt refused by the limits costs no hash; every other one costs exactly one, whether the
    account exists, is locked for this address or disabled, so the time taken tells nothing.
    """
    attempt = LoginAttempt(name=username.strip(), address=address)
    verdict = login_limits.check(attempt.name, address)
    if verdict.retry_after:
        attempt.retry_after = verdict.retry_after
        return attempt
    attempt.locked = verdict.locked
    attempt.account = db.session.scalar(select(Account).where(Account.username == attempt.name))
    if attempt.account is None:
        _check_dummy_hash(password)
    else:
        attempt.matches = password_matches(attempt.account, password)
        attempt.credential = _credential(attempt.account)
    return attempt


def _credential(account: Account) -> tuple:
    return (account.password_hash, account.initial_password_digest, account.password_expires_at)


def record_login(attempt: LoginAttempt) -> Account | None:
    """Record the outcome of a checked attempt (inside a short write transaction); the account if logged in.

    A locked, disabled or unknown account fails exactly like a wrong password.
    """
    account = db.session.get(Account, attempt.account.id) if attempt.account else None
    if account is None:
        # What was typed may be a password: it never reaches the log (login_failures keeps only a keyed hash).
        subject = "(not a user name)"
        audit.record("login.failed", None, subject=subject, reason=say("unknown user name"))
        login_limits.record_failure(attempt.name, attempt.address)
        return None
    changed = _credential(account) != attempt.credential  # the password changed while it was being checked
    if attempt.locked or account.disabled or changed or not attempt.matches:
        _count_failure(account, attempt)
        return None
    login_limits.forget_failures(attempt.name, attempt.address)
    account.last_login_at = utcnow()
    audit.record("login", account, student_id=_student_id(account))
    return account


def _count_failure(account: Account, attempt: LoginAttempt) -> None:
    """Count one failure from this address; lock the account for this address at the limit."""
    why = say("disabled") if account.disabled else say("locked") if attempt.locked else say("wrong password")
    audit.record("login.failed", account, student_id=_student_id(account), reason=why)
    login_limits.record_failure(attempt.name, attempt.address, while_locked=attempt.locked)
    attempts = current_app.config["LOCKOUT_ATTEMPTS"]
    if not attempt.locked and login_limits.pair_failures(attempt.name, attempt.address) >= attempts:
        minutes = current_app.config["LOCKOUT_MINUTES"]
        # Shown to admins on the accounts page; the lock itself holds only for this address (login_limits).
        account.locked_until = utcnow() + timedelta(minutes=minutes)
        audit.record(
            "account.locked",
            None,
            student_id=_student_id(account),
            subject=account.username,
            after=say("locked for %(n)d minutes", n=minutes),
            reason=say("%(n)d failed logins from %(address)s", n=attempts, address=attempt.address),
        )


def wrong_current_password(account: Account, address: str, *, locked: bool = False) -> None:
    """A wrong current password on the change page (or any, while locked): counted like a failed login, audited."""
    audit.record(
        "password.change.failed",
        account,
        student_id=_student_id(account),
        subject=account.username,
        reason=say("locked") if locked else say("wrong password"),
    )
    login_limits.record_failure(account.username, address, while_locked=locked)


def _student_id(account: Account) -> int | None:
    return account.student.id if account.student else None


def password_problems(account: Account, new_password: str) -> list:
    """Why a new password is refused (empty when it is acceptable)."""
    problems = []
    if len(new_password) < MIN_PASSWORD_LENGTH:
        problems.append(_l("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    elif new_password.lower() in common_passwords() or len(set(new_password)) < 3:
        problems.append(_l("This password is among the first that anyone would try: choose another."))
    if new_password.strip().lower() == account.username.lower():
        problems.append(_l("Do not use your user name as your password."))
    if account.initial_password_digest and password_matches_initial(account, new_password):
        problems.append(_l("Do not reuse the initial password from your passport number."))
    elif account.password_hash and check_password_hash(account.password_hash, new_password):
        problems.append(_l("Choose a password different from the current one."))
    return problems


def password_matches_initial(account: Account, password: str) -> bool:
    """Whether the password equals the student's initial password."""
    digest = initial_password_digest(account.username, password)
    return hmac.compare_digest(digest, account.initial_password_digest or "")


def change_password(
    account: Account,
    new_password: str,
    *,
    by: Account | None = None,
    keep_session: str | None = None,
    hashed: str | None = None,
) -> None:
    """Set a chosen password, end every session but `keep_session` (the token of this one), and audit it.

    `hashed`: the password already hashed, so the slow hash need not run under the write lock.
    """
    account.password_hash = hashed or hash_password(new_password)
    account.initial_password_digest = None
    account.must_change_password = False
    account.password_expires_at = None
    login_sessions.end_all(account, keep=keep_session)
    audit.record(
        "password.changed",
        by or account,
        student_id=_student_id(account),
        subject=account.username,
    )


def reset_to_one_time_password(account: Account, admin: Account) -> str:
    """Give the account a random one-time password that must be changed at next login."""
    password = "".join(secrets.choice(_ONE_TIME_ALPHABET) for _ in range(10))
    days = current_app.config["ONE_TIME_PASSWORD_DAYS"]
    account.password_hash = hash_password(password)
    account.initial_password_digest = None
    account.must_change_password = True
    account.password_expires_at = utcnow() + timedelta(days=days)
    account.failed_logins = 0
    account.locked_until = None
    login_limits.forget_name(account.username)  # the one-time password works from the address that was locked
    login_sessions.end_all(account)
    audit.record(
        "password.reset",
        admin,
        student_id=_student_id(account),
        subject=account.username,
        after=say("one-time password, expires in %(n)d days", n=days),
    )
    return password


def set_language(account: Account, language: str) -> None:
    """Remember the language the person chose, for every later session; audited like any change."""
    audit.record(
        "account.language",
        account,
        student_id=_student_id(account),
        subject=account.username,
        before=account.language or "",
        after=language,
    )
    account.language = language


def username_taken(username: str) -> bool:
    """Whether any account, of any role, already uses the name (case-insensitively)."""
    lowered = func.lower(Account.username)
    return db.session.scalar(select(Account.id).where(lowered == username.lower())) is not None


class AccountError(ValueError):
    """An account that cannot be created as asked; the message says why."""


def create_account(
    username: str,
    role: Role,
    office: Office | None,
    school: School | None,
    password: str,
    display_name: str = "",
    *,
    actor: Account | None = None,
    must_change: bool = False,
) -> Account:
    """Create a staff, desk or admin account (students come only from the import)."""
    username = username.strip()
    if not USERNAME.fullmatch(username):
        raise AccountError(_l("A user name is 2 to 64 letters, digits, dots, hyphens or underscores."))
    if role == Role.STUDENT:
        raise AccountError(_l("Student accounts come from the student import."))
    if role == Role.STAFF and office is None:
        raise AccountError(_l("A staff account needs an office."))
    if role == Role.ADMIN and (office or school):
        raise AccountError(_l("An admin works for every office and school: give neither."))
    if username_taken(username):
        raise AccountError(_l("The user name “%(name)s” is already taken.", name=username))
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(_l("The password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    account = Account(
        username=username,
        role=role,
        office=office,
        school=school,
        display_name=display_name,
        password_hash=hash_password(password),
        must_change_password=must_change,
    )
    db.session.add(account)
    db.session.flush()
    scope = ", ".join(filter(None, [office.code if office else "", school.name if school else ""]))
    audit.record("account.created", actor, subject=username, after=f"{role.value} {scope}".strip())
    return account


def update_account(account: Account, changes: dict, actor: Account) -> None:
    """Change a staff, desk or admin account's role, office, school, name or disabled state, audited."""
    role, office, school = changes["role"], changes["office"], changes["school"]
    if account.role == Role.STUDENT:
        raise AccountError(_l("A student's account changes only through the student import."))
    if role == Role.STAFF and office is None:
        raise AccountError(_l("A staff account needs an office."))
    if role == Role.ADMIN and (office or school):
        raise AccountError(_l("An admin works for every office and school: give neither."))
    if account.id == actor.id and (changes["disabled"] or role != Role.ADMIN):
        raise AccountError(_l("You cannot disable your own account or take away your own admin role."))
    before = _account_summary(account)
    account.role, account.office, account.school = role, office, school
    account.display_name = changes["display_name"]
    if changes["disabled"] and not account.disabled:
        login_sessions.end_all(account)  # a disabled account's sessions end now
    account.disabled = changes["disabled"]
    after = _account_summary(account)
    if before != after:
        audit.record("account.changed", actor, subject=account.username, before=before, after=after)


def _account_summary(account: Account) -> str:
    scope = ", ".join(
        filter(None, [account.office.code if account.office else "", account.school.name if account.school else ""])
    )
    state = "disabled" if account.disabled else "active"
    return f"{account.role.value} {scope} {state} {account.display_name}".strip()
