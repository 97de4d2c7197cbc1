"""Admin: offices and their steps (mode, cohorts, prerequisites, order); steps are retired, never deleted."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

import clearance
from clearance.setup import OFFICE_FIELDS, STEP_FIELDS, forms_voided_by, save_office, save_step
from database import db, write_transaction
from localized import localized
from models import Cohort, Office, Step, StepMode
from views.admin import admin_only, bp, edit_page, save_and_return
from views.admin.forms import OfficeForm, StepForm


@bp.route("/offices")
@admin_only
def offices():
    offices = db.session.scalars(select(Office).order_by(Office.id)).all()
    return render_template("admin/offices.html", offices=offices)


@bp.route("/offices/new", methods=["GET", "POST"])
@bp.route("/offices/<int(max=999999999):office_id>", methods=["GET", "POST"])
@admin_only
def office(office_id: int | None = None):
    existing = db.session.get(Office, office_id) if office_id else None
    if office_id and existing is None:
        abort(404)
    form = OfficeForm(obj=existing)
    if form.validate_on_submit():
        values = {name: getattr(form, name).data.strip() for name in OFFICE_FIELDS}
        values["code"] = values["code"].upper()
        done = save_and_return(
            lambda: save_office(existing, values, current_user),
            lambda saved: _("Office %(code)s saved.", code=saved.code),
            "admin.offices",
        )
        if done:
            return done
    return edit_page(
        form,
        "admin.offices",
        _("Offices and steps"),
        _("Office %(code)s", code=existing.code) if existing else _("New office"),
        _("Students see where, when and whom to call on every step of this office."),
    )


def _step_form(existing: Step | None) -> StepForm:
    form = StepForm(
        obj=existing,
        data=None if existing or request.method == "POST" else {"office_id": request.args.get("office", type=int)},
    )
    offices = db.session.scalars(select(Office).order_by(Office.id))
    form.office_id.choices = [SelectChoice(o.id, localized(o, "name")) for o in offices]
    cohorts = db.session.scalars(select(Cohort).order_by(Cohort.code))
    form.cohorts.choices = [SelectChoice(c.id, f"{c.code} — {localized(c, 'name')}") for c in cohorts]
    others = select(Step).where(Step.retired.is_(False)).order_by(Step.position)
    candidates = [s for s in db.session.scalars(others) if existing is None or s.id != existing.id]
    form.prerequisites.choices = [SelectChoice(s.id, localized(s, "title")) for s in candidates]
    if existing is not None and request.method == "GET":
        form.cohorts.data = [c.id for c in existing.cohorts]
        form.prerequisites.data = [s.id for s in existing.prerequisites]
        form.mode.data = existing.mode.value
    return form


@bp.route("/steps/new", methods=["GET", "POST"])
@bp.route("/steps/<int(max=999999999):step_id>", methods=["GET", "POST"])
@admin_only
def step(step_id: int | None = None):
    existing = db.session.get(Step, step_id) if step_id else None
    if step_id and existing is None:
        abort(404)
    form = _step_form(existing)
    voids = 0
    if form.validate_on_submit():
        cohorts = list(db.session.scalars(select(Cohort).where(Cohort.id.in_(form.cohorts.data or []))))
        voids = forms_voided_by(existing, cohorts, form.retired.data)
        if voids and not form.confirm_void.data:
            flash(
                ngettext(
                    "Saving this voids %(num)d printed form: tick the box to confirm.",
                    "Saving this voids %(num)d printed forms: tick the box to confirm.",
                    voids,
                ),
                "error",
            )
        else:
            return _save_step(existing, form, cohorts)
    return render_template("admin/step_form.html", form=form, step=existing, voids=voids)


def _save_step(existing: Step | None, form: StepForm, cohorts: list[Cohort]):
    values = {name: getattr(form, name).data for name in STEP_FIELDS}
    values["mode"] = StepMode(values["mode"])
    prerequisites = list(db.session.scalars(select(Step).where(Step.id.in_(form.prerequisites.data or []))))
    try:
        with write_transaction():
            saved = save_step(existing, values, cohorts, prerequisites, form.retired.data, current_user)
    except clearance.Refused as refused:
        flash(str(refused), "error")
        return render_template("admin/step_form.html", form=form, step=existing, voids=0)
    flash(_("Step saved: %(title)s.", title=localized(saved, "title")), "success")
    return redirect(url_for("admin.offices"))
