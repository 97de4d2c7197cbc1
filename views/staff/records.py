"""A student's record at an office: this office's steps (clear, block, reopen) and holds (place, release).

Reopening, blocking or placing a hold may void the student's form, or follow the certificates'
hand-over (clearance.stakes): the first POST then changes nothing and shows the record again with
what is at stake and a button that sends the same input with `confirm`. No script is involved, so
it holds for every client.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

import clearance
from database import db, write_transaction
from localized import localized
from models import AuditEvent, Hold, Office, Step, Student
from views.access import safe_next
from views.forms import EmptyForm, HoldForm, ReasonForm
from views.staff import bp, current_office, office_args, office_workers, scoped_student

STEP_ACTIONS = {"clear", "block", "reopen"}


@dataclass
class Confirmation:
    """A change waiting for the person to confirm its stake: the same input goes back with `confirm`."""

    action: str  # "reopen", "block" or "hold"
    url: str
    stake: clearance.Stake
    fields: dict[str, str]
    step: Step | None = None


@bp.route("/students/<student_no>")
@office_workers
def student(student_no: str):
    return _record_page(scoped_student(student_no), current_office())


def _record_page(found: Student, office: Office, confirmation: Confirmation | None = None):
    """The record; with a confirmation on top, answered 409: nothing was changed yet."""
    holds = db.session.scalars(
        select(Hold).where(Hold.student_id == found.id, Hold.office_id == office.id).order_by(Hold.placed_at.desc())
    ).all()
    history = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.student_id == found.id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(200)
    ).all()
    page = render_template(
        "staff/student.html",
        office=office,
        student=found,
        rows=clearance.checklist(found),
        holds=holds,
        history=history,
        form=clearance.current_form(found),
        handover=clearance.handover_of(found.id),
        office_args=office_args(office),
        reason_form=ReasonForm(),
        hold_form=HoldForm(),
        button=EmptyForm(),
        confirmation=confirmation,
    )
    return (page, 409) if confirmation else page


def _back(student_no: str, office: Office):
    return redirect(
        safe_next(request.form.get("next")) or url_for("staff.student", student_no=student_no, **office_args(office))
    )


def run_change(change, success: str) -> clearance.Stake | None:
    """Run one change in a write transaction; flash its success or the rule's refusal.

    Returns the stake when the change waits for confirmation (nothing was written, nothing flashed).
    """
    try:
        with write_transaction():
            result = change()
    except clearance.Unconfirmed as unconfirmed:
        return unconfirmed.stake
    except clearance.Refused as refused:
        flash(str(refused), "error")
    else:
        flash(
            success if result is not False else _("Nothing to do: it was already done."),
            "success" if result is not False else "info",
        )
    return None


def _confirmed() -> str:
    """What the person confirmed was at stake; empty on a first POST."""
    return request.form.get("confirm", "")[:100]


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
            run_change(
                lambda: clearance.clear_step(found, step, current_user),
                _("%(step)s cleared for %(name)s.", step=localized(step, "title"), name=found.name),
            )
        return _back(student_no, office)
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(_("Give a reason: the student and the audit log will see it."), "error")
        return _back(student_no, office)
    change = clearance.block_step if action == "block" else clearance.reopen_step
    stake = run_change(
        lambda: change(found, step, current_user, form.reason.data, confirmed=_confirmed()),
        _("%(step)s blocked.", step=localized(step, "title"))
        if action == "block"
        else _("%(step)s reopened.", step=localized(step, "title")),
    )
    if stake:
        url = url_for("staff.step_action", student_no=student_no, step_id=step.id, action=action, **office_args(office))
        return _record_page(found, office, Confirmation(action, url, stake, _carried("reason"), step))
    return _back(student_no, office)


def _carried(*names: str) -> dict[str, str]:
    """The input to send again with the confirmation, as typed."""
    return {name: request.form.get(name, "") for name in (*names, "next") if request.form.get(name)}


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
    stake = run_change(
        lambda: clearance.place_hold(
            found, office, current_user, form.reason.data, form.amount.data, confirmed=_confirmed()
        ),
        _("Hold placed on %(name)s.", name=found.name),
    )
    if stake:
        url = url_for("staff.place_hold", student_no=student_no, **office_args(office))
        return _record_page(found, office, Confirmation("hold", url, stake, _carried("reason", "amount")))
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
