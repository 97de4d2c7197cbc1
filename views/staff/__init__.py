"""The office pages: the queue, a student's record, and the office's actions on steps and holds."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

import clearance
from database import db, write_transaction
from models import AuditEvent, Cohort, Hold, Office, Role, School, Step, Student
from views.access import int_arg, role_required, safe_next
from views.forms import EmptyForm, HoldForm, ReasonForm

bp = Blueprint("staff", __name__, url_prefix="/staff")
office_workers = role_required(Role.STAFF, Role.DESK, Role.ADMIN)
STEP_ACTIONS = {"clear", "block", "reopen"}


def current_office() -> Office:
    """The office the account works for; admins choose one with ?office=CODE (default: the first)."""
    code = request.values.get("office", "")
    chosen = db.session.scalar(select(Office).where(Office.code == code)) if code else None
    if current_user.role == Role.ADMIN and chosen is None:
        chosen = db.session.scalar(select(Office).order_by(Office.id))
    office = clearance.working_office(current_user, chosen)
    if office is None:
        abort(403)  # a desk account that names no office
    return office


def office_args(office: Office) -> dict:
    return {"office": office.code} if current_user.role == Role.ADMIN else {}


def scoped_student(student_no: str) -> Student:
    """The student, if the account may see them: 403 outside its school, 404 when there is none."""
    query = select(Student).where(Student.student_id == student_no)
    student = db.session.scalar(clearance.scope_students(query, current_user))
    if student is None:
        abort(403 if db.session.scalar(query) else 404)
    return student


@bp.route("/")
@office_workers
def queue():
    office = current_office()
    steps = [step for step in office.steps if not step.retired]
    args = request.args
    step = next((s for s in steps if s.id == int_arg(args.get("step"))), steps[0] if steps else None)
    status = args.get("status", "")
    filters = clearance.QueueFilters(search=args.get("q", "")[:100], cohort_id=int_arg(args.get("cohort")),
                                     school_id=int_arg(args.get("school")), page=int_arg(args.get("page")) or 1,
                                     status=status if status in ("pending", "blocked", "cleared") else "")
    page = clearance.office_queue(step, current_user, filters) if step else None
    offices = db.session.scalars(select(Office).order_by(Office.id)).all() if current_user.role == Role.ADMIN else []
    schools = [current_user.school] if current_user.school else db.session.scalars(select(School).order_by(School.name))
    return render_template("staff/queue.html", office=office, steps=steps, step=step, page=page, filters=filters,
                           offices=offices, cohorts=db.session.scalars(select(Cohort).order_by(Cohort.code)).all(),
                           schools=list(schools), office_args=office_args(office), page_url=_page_url)


def _page_url(number: int) -> str:
    """This queue, same filters, another page."""
    return url_for("staff.queue", **{**request.args.to_dict(), "page": number})


@bp.route("/students/<student_no>")
@office_workers
def student(student_no: str):
    office = current_office()
    found = scoped_student(student_no)
    rows = clearance.checklist(found)
    holds = db.session.scalars(select(Hold).where(Hold.student_id == found.id, Hold.office_id == office.id)
                               .order_by(Hold.placed_at.desc())).all()
    history = db.session.scalars(select(AuditEvent).where(AuditEvent.student_id == found.id)
                                 .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(200)).all()
    return render_template("staff/student.html", office=office, student=found, rows=rows, holds=holds,
                           history=history, form=clearance.current_form(found), office_args=office_args(office),
                           reason_form=ReasonForm(), hold_form=HoldForm(), button=EmptyForm())


def _back(student_no: str, office: Office):
    return redirect(safe_next(request.form.get("next")) or
                    url_for("staff.student", student_no=student_no, **office_args(office)))


def run_change(change, success: str) -> None:
    """Run one change in a write transaction; flash its success or the rule's refusal."""
    try:
        with write_transaction():
            result = change()
    except clearance.Refused as refused:
        flash(str(refused), "error")
    else:
        flash(success if result is not False else _("Nothing to do: it was already done."),
              "success" if result is not False else "info")


@bp.route("/students/<student_no>/steps/<int(max=999999999):step_id>/<action>", methods=["POST"])
@office_workers
def step_action(student_no: str, step_id: int, action: str):
    office = current_office()
    found = scoped_student(student_no)
    step = db.session.get(Step, step_id)
    if step is None or action not in STEP_ACTIONS:
        abort(404)
    if not clearance.acts_for_office(current_user, step.office_id):
        abort(403)
    if action == "clear":
        if EmptyForm().validate_on_submit():
            run_change(lambda: clearance.clear_step(found, step, current_user),
                 _("%(step)s cleared for %(name)s.", step=step.title_en, name=found.name))
        return _back(student_no, office)
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(_("Give a reason: the student and the audit log will see it."), "error")
        return _back(student_no, office)
    change = clearance.block_step if action == "block" else clearance.reopen_step
    run_change(lambda: change(found, step, current_user, form.reason.data),
         _("%(step)s blocked.", step=step.title_en) if action == "block" else
         _("%(step)s reopened.", step=step.title_en))
    return _back(student_no, office)


@bp.route("/students/<student_no>/holds", methods=["POST"])
@office_workers
def place_hold(student_no: str):
    office = current_office()
    found = scoped_student(student_no)
    form = HoldForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return _back(student_no, office)
    run_change(lambda: clearance.place_hold(found, office, current_user, form.reason.data, form.amount.data),
         _("Hold placed on %(name)s.", name=found.name))
    return _back(student_no, office)


@bp.route("/students/<student_no>/holds/<int(max=999999999):hold_id>/release", methods=["POST"])
@office_workers
def release_hold(student_no: str, hold_id: int):
    office = current_office()
    found = scoped_student(student_no)
    hold = db.session.scalar(select(Hold).where(Hold.id == hold_id, Hold.student_id == found.id))
    if hold is None:
        abort(404)
    if not clearance.acts_for_office(current_user, hold.office_id):
        abort(403)
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(_("Give a reason: the student and the audit log will see it."), "error")
        return _back(student_no, office)
    run_change(lambda: clearance.release_hold(hold, current_user, form.reason.data), _("Hold released."))
    return _back(student_no, office)
from views import staff_tools  # noqa: E402,F401  (its routes are on this blueprint)
