"""The student's own pages: the checklist."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

import clearance
from models import Role
from views.access import role_required

bp = Blueprint("student", __name__)


@bp.route("/checklist")
@role_required(Role.STUDENT)
def checklist():
    student = current_user.student
    rows = clearance.checklist(student)
    cleared = sum(1 for row in rows if row.shown == clearance.Shown.CLEARED)
    return render_template("student/checklist.html", student=student, rows=rows, cleared=cleared)
