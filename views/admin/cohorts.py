"""Admin: cohorts (their window, certificate day and documents) and one student's window extension."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

import clearance
import seeding
from clearance.setup import COHORT_FIELDS, extend_window, save_cohort
from database import db, write_transaction
from models import Cohort, CohortKind, Student
from views.admin import admin_only, bp, save_and_return
from views.admin.forms import CohortForm, ExtendForm


@bp.route("/cohorts")
@admin_only
def cohorts():
    counts = dict(db.session.execute(select(Student.cohort_id, func.count()).group_by(Student.cohort_id)).all())
    extended = db.session.scalars(
        select(Student).where(Student.window_extended_until.is_not(None)).order_by(Student.student_id)
    ).all()
    return render_template(
        "admin/cohorts.html",
        cohorts=db.session.scalars(select(Cohort).order_by(Cohort.opens_on)),
        counts=counts,
        extended=extended,
        extend_form=ExtendForm(),
    )


@bp.route("/cohorts/new", methods=["GET", "POST"])
@bp.route("/cohorts/<int(max=999999999):cohort_id>", methods=["GET", "POST"])
@admin_only
def cohort(cohort_id: int | None = None):
    existing = db.session.get(Cohort, cohort_id) if cohort_id else None
    if cohort_id and existing is None:
        abort(404)
    form = CohortForm(obj=existing)
    if existing:
        form.code.render_kw = {"readonly": True}
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in COHORT_FIELDS}
        values["kind"] = CohortKind(values["kind"])
        values["documents"] = values["documents"] or seeding.documents_for(values["kind"])
        values["code"] = existing.code if existing else form.code.data
        done = save_and_return(
            lambda: save_cohort(existing, values, current_user),
            lambda saved: _("Cohort %(code)s saved.", code=saved.code),
            "admin.cohorts",
        )
        if done:
            return done
    return render_template(
        "admin/edit_form.html",
        form=form,
        back_url=url_for("admin.cohorts"),
        back_label=_("Cohorts"),
        heading=_("Cohort %(code)s", code=existing.code) if existing else _("New cohort"),
        hint=_(
            "Dates are days in the university's time zone; the window includes both days. Students use the "
            "system only inside it; staff work at any time."
        ),
    )


@bp.route("/cohorts/extend", methods=["POST"])
@admin_only
def extend():
    form = ExtendForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            flash("; ".join(errors), "error")
        return redirect(url_for("admin.cohorts"))
    try:
        with write_transaction():
            student = db.session.scalar(select(Student).where(Student.student_id == form.student_id.data.strip()))
            if student is None:
                raise clearance.Refused(_("No student has the ID %(id)s.", id=form.student_id.data))
            extend_window(student, form.until.data, form.reason.data, current_user)
    except clearance.Refused as refused:
        flash(str(refused), "error")
    else:
        flash(_("Window of %(id)s changed.", id=form.student_id.data), "success")
    return redirect(url_for("admin.cohorts"))
