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
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

import audit
from clock import utcnow
from database import db
from models import Account, Office, Role, School
from wording import say

MIN_PASSWORD_LENGTH = 8
# The most common passwords of eight or more characters, from public breach lists: refused outright.
COMMON_PASSWORDS = frozenset(
    {
        "password",
        "password1",
        "password123",
        "passw0rd",
        "12345678",
        "123456789",
        "1234567890",
        "0123456789",
        "87654321",
        "11111111",
        "00000000",
        "88888888",
        "66666666",
        "12341234",
        "11223344",
        "qwertyui",
        "qwertyuiop",
        "qwerty123",
        "1q2w3e4r",
        "1qaz2wsx",
        "zaq12wsx",
        "abcd1234",
        "abc12345",
        "iloveyou",
        "sunshine",
        "princess",
        "football",
        "baseball",
        "welcome1",
        "welcome123",
        "admin123",
        "administrator",
        "letmein1",
        "trustno1",
        "superman",
        "michelle",
        "aa123456",
        "a1234567",
        "asdfghjk",
        "asdf1234",
        "zxcvbnm1",
        "woaini1314",
        "5201314520",
        "computer",
        "internet",
    }
)
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
        return hmac.compare_digest(expected, account.initial_password_digest)
    return False


def is_locked(account: Account) -> bool:
    """Whether too many failures have locked the account for now."""
    return account.locked_until is not None and account.locked_until > utcnow()


def authenticate(username: str, password: str) -> Account | None:
    """The account if the password is right and the account usable; counts failures in the database.

    A locked, disabled or unknown account fails exactly like a wrong password.
    """
    username = username.strip()
    account = db.session.scalar(select(Account).where(Account.username == username))
    if account is None:
        _check_dummy_hash(password)
        # A password typed into the wrong box must not land in the log.
        typed = username[:64] if USERNAME.fullmatch(username) else "(not a user name)"
        audit.record("login.failed", None, subject=typed, reason=say("unknown user name"))
        return None
    matches = password_matches(account, password)  # always, so locked and disabled take as long
    if is_locked(account) or account.disabled or not matches:
        _count_failure(account)
        return None
    account.failed_logins = 0
    account.locked_until = None
    account.last_login_at = utcnow()
    audit.record("login", account, student_id=_student_id(account))
    return account


def _count_failure(account: Account) -> None:
    """Add one failure atomically (workers may race) and lock at the limit."""
    db.session.execute(update(Account).where(Account.id == account.id).values(failed_logins=Account.failed_logins + 1))
    db.session.refresh(account)
    why = say("disabled") if account.disabled else say("locked") if is_locked(account) else say("wrong password")
    audit.record("login.failed", account, student_id=_student_id(account), reason=why)
    if account.failed_logins >= current_app.config["LOCKOUT_ATTEMPTS"] and not is_locked(account):
        minutes = current_app.config["LOCKOUT_MINUTES"]
        account.locked_until = utcnow() + timedelta(minutes=minutes)
        account.failed_logins = 0
        audit.record(
            "account.locked",
            None,
            student_id=_student_id(account),
            subject=account.username,
            after=say("locked for %(n)d minutes", n=minutes),
            reason=say("%(n)d failed logins", n=current_app.config["LOCKOUT_ATTEMPTS"]),
        )


def _student_id(account: Account) -> int | None:
    return account.student.id if account.student else None


def password_problems(account: Account, new_password: str) -> list:
    """Why a new password is refused (empty when it is acceptable)."""
    problems = []
    if len(new_password) < MIN_PASSWORD_LENGTH:
        problems.append(_l("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    elif new_password.lower() in COMMON_PASSWORDS or len(set(new_password)) < 3:
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


def change_password(account: Account, new_password: str, *, by: Account | None = None) -> None:
    """Set a chosen password, end every other session, and audit it."""
    account.password_hash = hash_password(new_password)
    account.initial_password_digest = None
    account.must_change_password = False
    account.password_expires_at = None
    account.session_generation += 1
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
    account.session_generation += 1
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


def end_sessions(account: Account) -> None:
    """Make every session cookie of this account stop working (logout everywhere)."""
    account.session_generation += 1
    audit.record("logout", account, student_id=_student_id(account))


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
        account.session_generation += 1  # a disabled account's sessions end now
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
