"""The office pages, one blueprint: the queue, a student's record, and the tools for many students.

- queue: the office's queue of students
- records: one student's record, and the office's actions on steps and holds
- tools: hold lists, bulk clearing, the counter

This module holds what they share: who works for which office, and which student they may open.
"""

from __future__ import annotations

from flask import Blueprint, abort, request
from flask_login import current_user
from sqlalchemy import select

import clearance
from clearance.permissions import administers
from database import db
from models import Office, Role, Student
from views.access import role_required

bp = Blueprint("staff", __name__, url_prefix="/staff")
office_workers = role_required(Role.STAFF, Role.DESK, Role.ADMIN)


def current_office() -> Office:
    """The office the account works for; admins choose one with ?office=CODE (default: the first)."""
    code = request.values.get("office", "")
    chosen = db.session.scalar(select(Office).where(Office.code == code)) if code else None
    if administers(current_user) and chosen is None:
        chosen = db.session.scalar(select(Office).order_by(Office.id))
    office = clearance.working_office(current_user, chosen)
    if office is None:
        abort(403)  # a desk account that names no office
    return office


def office_args(office: Office) -> dict:
    """The URL arguments that keep an admin on the office they chose."""
    return {"office": office.code} if administers(current_user) else {}


def scoped_student(student_no: str) -> Student:
    """The student, if the account may see them: 403 outside its school, 404 when there is none."""
    query = select(Student).where(Student.student_id == student_no)
    student = db.session.scalar(clearance.scope_students(query, current_user))
    if student is None:
        abort(403 if db.session.scalar(query) else 404)
    return student


# The topics' routes, on this blueprint.
from views.staff import queue, records, tools  # noqa: E402,F401
