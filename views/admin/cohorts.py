"""Admin: cohorts (their window, certificate day and documents), schools' certificate places, and one student's
window extension."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

import clearance
import seeding
from clearance.setup import (
    COHORT_FIELDS,
    SCHOOL_FIELDS,
    CohortRefused,
    cohort_problems,
    extend_window,
    save_cohort,
    save_school,
)
from database import db, write_transaction
from models import Cohort, CohortKind, School, Student
from views.admin import admin_only, bp, edit_page, save_and_return
from views.admin.forms import CohortForm, ExtendForm, SchoolForm

KIND_LABELS = {CohortKind.DEGREE: _l("degree"), CohortKind.NON_DEGREE: _l("non-degree")}


@bp.route("/cohorts")
@admin_only
def cohorts():
    counts = dict(db.session.execute(select(Student.cohort_id, func.count()).group_by(Student.cohort_id)).all())
    extended = db.session.scalars(
        select(Student)
        .options(joinedload(Student.cohort))
        .where(Student.window_extended_until.is_not(None))
        .order_by(Student.student_id)
    ).all()
    return render_template(
        "admin/cohorts.html",
        cohorts=db.session.scalars(select(Cohort).order_by(Cohort.opens_on)),
        kinds=KIND_LABELS,
        counts=counts,
        schools=db.session.scalars(select(School).order_by(School.name)).all(),
        extended=[(s, clearance.window_opens_on(s), clearance.window_closes_on(s)) for s in extended],
        extend_form=ExtendForm(),
    )


def _cohort_values(form: CohortForm, existing: Cohort | None) -> dict:
    """What the form holds, as save_cohort takes it; a field that did not parse is None."""
    values = {name: getattr(form, name).data for name in COHORT_FIELDS}
    values["code"] = existing.code if existing else form.code.data
    return values


def _show_problems(form: CohortForm, problems: dict) -> None:
    """Each problem beside its field, and one line at the top that says how many fields need a change."""
    for name, message in problems.items():
        getattr(form, name).errors.append(str(message))
    wrong = sum(1 for field in form if field.errors)
    flash(
        ngettext(
            "The cohort was not saved: %(num)d field needs a change, shown below.",
            "The cohort was not saved: %(num)d fields need a change, shown below.",
            wrong,
        ),
        "error",
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
    if request.method == "POST":
        valid = form.validate_on_submit()
        values = _cohort_values(form, existing)
        if not valid:  # the rules' problems too, beside the form's own: every problem at once
            _show_problems(form, cohort_problems(values, existing))
        else:
            done = _save_cohort(form, existing, values)
            if done:
                return done
    return edit_page(
        form,
        "admin.cohorts",
        _("Cohorts"),
        _("Cohort %(code)s", code=existing.code) if existing else _("New cohort"),
        _(
            "Dates are days in the university's time zone; the window includes both days. Students use the "
            "system only inside it; staff work at any time."
        ),
    )


def _save_cohort(form: CohortForm, existing: Cohort | None, values: dict):
    values["kind"] = CohortKind(values["kind"])
    if not values["documents"] and not values["documents_zh"]:  # the default certificates, in both languages
        values["documents_zh"] = seeding.documents_for(values["kind"], chinese=True)
    values["documents"] = values["documents"] or seeding.documents_for(values["kind"])
    try:
        with write_transaction():
            saved = save_cohort(existing, values, current_user)
    except CohortRefused as refused:
        _show_problems(form, refused.problems)
        return None
    flash(_("Cohort %(code)s saved.", code=saved.code), "success")
    return redirect(url_for("admin.cohorts"))


@bp.route("/schools/<int(max=999999999):school_id>", methods=["GET", "POST"])
@admin_only
def school(school_id: int):
    existing = db.get_or_404(School, school_id)
    form = SchoolForm(obj=existing)
    if form.validate_on_submit():
        values = {name: getattr(form, name).data.strip() for name in SCHOOL_FIELDS}
        done = save_and_return(
            lambda: save_school(existing, values, current_user),
            lambda saved: _("School saved: %(name)s.", name=saved.name),
            "admin.cohorts",
        )
        if done:
            return done
    return edit_page(
        form,
        "admin.cohorts",
        _("Cohorts"),
        existing.name,
        _("The school's name is the one in the student list (CSV); importing creates schools by that name."),
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
            extend_window(student, form.day.data, form.reason.data, current_user)
            opens, closes = clearance.window_opens_on(student), clearance.window_closes_on(student)
    except clearance.Refused as refused:
        flash(str(refused), "error")
    else:
        flash(
            _(
                "%(id)s may now use the system from %(opens)s to %(closes)s.",
                id=student.student_id,
                opens=format_date(opens, "long"),
                closes=format_date(closes, "long"),
            ),
            "success",
        )
    return redirect(url_for("admin.cohorts"))
