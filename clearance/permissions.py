"""Who may act on which office's steps and holds, and see which students."""

from __future__ import annotations

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
