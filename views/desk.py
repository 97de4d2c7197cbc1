"""The certificate desk: scan or type a printed form, see the verdict, record the hand-over once."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, HiddenField
from wtforms.validators import DataRequired

import clearance
from database import write_transaction
from models import FormVersion, Role
from reading import without_hidden
from views.access import role_required
from views.forms import Form

bp = Blueprint("desk", __name__)
desk_only = role_required(Role.DESK, Role.ADMIN)


class HandoverForm(Form):
    token = HiddenField(validators=[DataRequired()])
    printout_received = BooleanField(_l("I have received the printed form and keep it"))


@bp.route("/desk")
@desk_only
def scan():
    typed = without_hidden(request.args.get("q", "")).strip()[:300]  # shown again, and audited as typed
    if not typed:
        return render_template("desk/scan.html", typed="")
    found = clearance.find_form(typed, current_user)
    if found.form is not None:
        return redirect(url_for("desk.verify", token=clearance.token_for(found.form)))
    return _verdict(None, typed, found.miss)


@bp.route("/verify/<token>")
@desk_only
def verify(token: str):
    """The URL in the QR code. Visitors who are not desk staff are asked to log in and learn nothing."""
    return _verdict(clearance.form_for_token(token[:300]), token[:300], clearance.Verdict.NOT_GENUINE)


def _verdict(form: FormVersion | None, typed: str, miss: clearance.Verdict):
    """Check what was scanned (audited, whatever the verdict) and show the verdict; `miss` when no form matched."""
    try:
        with write_transaction():
            check = clearance.check_form(form, current_user, typed, miss)
    except clearance.Refused:  # only desk accounts and admins check forms (desk_only says so first)
        abort(403)
    handover_form = HandoverForm(token=clearance.token_for(check.form)) if check.form else None
    # Right after this desk recorded it, say so in green rather than warn about it.
    just = (
        check.handover is not None
        and session.pop("just_handed_over", None) == check.handover.id
        and check.form.id == check.handover.form_version_id
    )
    return render_template(
        "desk/verdict.html",
        check=check,
        typed=typed,
        handover_form=handover_form,
        code=clearance.display_code(check.form) if check.form else "",
        just_handed_over=just,
    )


@bp.route("/desk/handover", methods=["POST"])
@desk_only
def handover():
    form = HandoverForm()
    if not form.validate_on_submit():
        abort(400)
    scanned = clearance.form_for_token(form.token.data)
    if scanned is None:
        abort(400)
    try:
        with write_transaction():
            handover = clearance.record_handover(scanned, current_user, form.printout_received.data)
    except clearance.Refused as refused:
        flash(str(refused), "error")
    else:
        session["just_handed_over"] = handover.id
        flash(_("Hand-over recorded for %(name)s.", name=scanned.student.name), "success")
    return redirect(url_for("desk.verify", token=form.token.data))
