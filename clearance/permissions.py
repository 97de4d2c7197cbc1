"""Who may act on which office's steps and holds, and see which students."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select

from models import Account, Office, Role, Student


def acts_for_office(account: Account, office_id: int) -> bool:
    """Admins act for every office; staff, and desk accounts that name an office, for their own."""
    if account.role == Role.ADMIN:
        return True
    return account.role in (Role.STAFF, Role.DESK) and account.office_id == office_id


def sees_student(account: Account, student: Student) -> bool:
    """Students see only themselves; staff and desk only their school's students when they name one."""
    if account.role == Role.STUDENT:
        return student.account_id == account.id
    if account.role == Role.ADMIN:
        return True
    return account.school_id is None or account.school_id == student.school_id


def scope_students(query: Select, account: Account) -> Select:
    """Limit a query over students to those the account may see."""
    if account.role == Role.STUDENT:
        return query.where(Student.account_id == account.id)
    if account.role != Role.ADMIN and account.school_id is not None:
        return query.where(Student.school_id == account.school_id)
    return query


def working_office(account: Account, chosen: Office | None) -> Office | None:
    """The office whose queue the account works: its own, or for an admin the one chosen."""
    if account.role == Role.ADMIN:
        return chosen
    if account.role in (Role.STAFF, Role.DESK):
        return account.office
    return None


def works_office_queue(account: Account) -> bool:
    """Staff and admins work office queues; a desk account too when it names an office."""
    return account.role in (Role.STAFF, Role.ADMIN) or (account.role == Role.DESK and account.office_id is not None)


def works_desk(account: Account) -> bool:
    """The certificate desk is for desk accounts and admins."""
    return account.role in (Role.DESK, Role.ADMIN)


def administers(account: Account) -> bool:
    return account.role == Role.ADMIN


def is_student(account: Account) -> bool:
    return account.role == Role.STUDENT


def shown_name(account: Account) -> str:
    """How the header names the logged-in person: a student by name, anyone else by user name."""
    return account.display_name if is_student(account) else account.username


ROLE_LABELS = {
    Role.STUDENT: _l("Student"),
    Role.STAFF: _l("Office staff"),
    Role.DESK: _l("Certificate desk"),
    Role.ADMIN: _l("Administrator"),
}


def role_label(account: Account) -> str:
    return str(ROLE_LABELS[account.role])
