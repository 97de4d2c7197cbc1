"""The student's own pages: the checklist and the self-service buttons."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

import clearance
from database import db, write_transaction
from models import Role, Step
from views.access import role_required
from views.forms import EmptyForm

bp = Blueprint("student", __name__)


@bp.route("/checklist")
@role_required(Role.STUDENT)
def checklist():
    student = current_user.student
    rows = clearance.checklist(student)
    cleared = sum(1 for row in rows if row.shown == clearance.Shown.CLEARED)
    self_service = [row for row in rows if row.step.mode == "self-service" and row.shown != clearance.Shown.CLEARED]
    return render_template(
        "student/checklist.html",
        student=student,
        rows=rows,
        cleared=cleared,
        next_row=clearance.next_step(rows),
        self_service=self_service,
        form=clearance.current_form(student),
        button=EmptyForm(),
    )


@bp.route("/checklist/steps/<int:step_id>/clear", methods=["POST"])
@role_required(Role.STUDENT)
def clear_own_step(step_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    step = db.session.get(Step, step_id) or abort(404)
    try:
        with write_transaction():
            changed = clearance.clear_step(current_user.student, step, current_user)
    except clearance.Refused as refused:
        flash(str(refused), "error")
    else:
        flash(_("Done: %(step)s.", step=step.title_en) if changed else _("This step was already cleared."), "success")
    return redirect(url_for("student.checklist"))
