"""The student's own pages: the checklist and the self-service buttons."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

import audit
import clearance
import printing
from database import db, write_transaction
from localized import localized
from models import Role, Step
from views.access import role_required
from views.forms import EmptyForm

bp = Blueprint("student", __name__)


@bp.route("/checklist")
@role_required(Role.STUDENT)
def checklist():
    situation = clearance.student_situation(current_user.student)
    return render_template("student/checklist.html", student=situation.student, situation=situation)


@bp.route("/checklist/steps/<int(max=999999999):step_id>/clear", methods=["POST"])
@role_required(Role.STUDENT)
def clear_own_step(step_id: int):
    """Clear a self-service step; the first POST (without `confirm`) only asks, since the student cannot undo it."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    step = db.session.get(Step, step_id) or abort(404)
    if not request.form.get("confirm"):
        row = clearance.step_view(current_user.student, step)
        if row is not None and row.student_can_clear:
            return render_template("student/confirm_clear.html", row=row)
        # Anything else (already cleared, held, not the student's to clear) is answered by clear_step below.
    try:
        with write_transaction():
            changed = clearance.clear_step(current_user.student, step, current_user)
    except clearance.Refused as refused:
        flash(str(refused), "error")
    else:
        flash(
            _("Done: %(step)s.", step=localized(step, "title")) if changed else _("This step was already cleared."),
            "success",
        )
    return redirect(url_for("student.checklist"))


def _printable_form():
    """The student's current form version, or a page that says what is still missing."""
    student = current_user.student
    form = clearance.current_form(student)
    if form is None:
        missing = [row for row in clearance.checklist(student) if row.shown != clearance.Shown.CLEARED]
        return student, None, (render_template("student/not_ready.html", student=student, missing=missing), 403)
    return student, form, None


def _printed(kind: str):
    """The student and form to print, the print audited; or the page that says what is missing."""
    student, form, refusal = _printable_form()
    if refusal is None:
        with write_transaction():
            audit.record("form.printed", current_user, student_id=student.id, subject=form.serial, after=kind)
    return student, form, refusal


@bp.route("/form")
@role_required(Role.STUDENT)
def form_page():
    student, form, refusal = _printed("html")
    return refusal or printing.render_form_html(printing.form_content(student, form))


@bp.route("/form.pdf")
@role_required(Role.STUDENT)
def form_pdf():
    student, form, refusal = _printed("pdf")
    if refusal:
        return refusal
    html = printing.render_form_html(printing.form_content(student, form, for_pdf=True), for_pdf=True)
    response = make_response(printing.render_pdf(html))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="leaving-school-{form.serial}.pdf"'
    return response
