"""Who may see a page: checked on the server for every request."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

from flask import abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from clearance import permissions
from models import Role
from reading import hidden_characters


def role_required(*roles: Role) -> Callable:
    """Require a logged-in account with one of the roles; anyone else gets 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def landing_endpoint(account) -> str:
    """Where an account lands after login: students on their checklist, office staff on their queue."""
    if account.role == Role.STUDENT:
        return "student.checklist"
    if account.role == Role.STAFF:
        return "staff.queue"
    if account.role == Role.DESK:
        return "desk.scan"
    return "admin.home"


def safe_next(target: str | None) -> str | None:
    """A path on this site to return to, never another host (no open redirect) and nothing a header refuses.

    Browsers drop tabs and line breaks from a URL ("/<tab>/evil.example" becomes "//evil.example"), and a line
    break in a Location header is refused by the server after the change was made: so a hidden character
    (reading.is_hidden, the one rule) or any space but a plain one makes the target unsafe (the caller then
    uses its own default).
    """
    target = target or ""
    if hidden_characters(target) or any(char.isspace() and char != " " for char in target):
        return None
    if target.startswith("/") and "\\" not in target and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return None


def int_arg(value: str | None) -> int | None:
    """A small whole number typed into a URL or form, or None (never "²", never too large for a database)."""
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 9 else None


# The header's links: (endpoint, label, who may follow it), decided by clearance.permissions.
NAVIGATION = (
    ("admin.home", _l("Administration"), permissions.administers),
    ("staff.queue", _l("Office queue"), permissions.works_office_queue),
    ("desk.scan", _l("Certificate desk"), permissions.works_desk),
)


def navigation(account) -> list[tuple[str, str]]:
    """The header's links for this account: (endpoint, label)."""
    if not account.is_authenticated:
        return []
    return [(endpoint, str(label)) for endpoint, label, may in NAVIGATION if may(account)]
