"""The office's queue: counts, search, filters, one-click clear."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

import clearance
from clearance.permissions import administers
from database import db
from models import Cohort, Office, School
from views.access import int_arg
from views.staff import bp, current_office, office_args, office_workers


@bp.route("/")
@office_workers
def queue():
    office = current_office()
    steps = clearance.active_steps(office)
    args = request.args
    step = next((s for s in steps if s.id == int_arg(args.get("step"))), steps[0] if steps else None)
    status = args.get("status", "")
    filters = clearance.QueueFilters(
        search=args.get("q", "")[:100],
        cohort_id=int_arg(args.get("cohort")),
        school_id=int_arg(args.get("school")),
        page=int_arg(args.get("page")) or 1,
        status=status if status in clearance.queue.STATUSES else "",
    )
    page = clearance.office_queue(step, current_user, filters) if step else None
    offices = db.session.scalars(select(Office).order_by(Office.id)).all() if administers(current_user) else []
    schools = [current_user.school] if current_user.school else db.session.scalars(select(School).order_by(School.name))
    return render_template(
        "staff/queue.html",
        office=office,
        steps=steps,
        step=step,
        page=page,
        filters=filters,
        offices=offices,
        cohorts=db.session.scalars(select(Cohort).order_by(Cohort.code)).all(),
        schools=list(schools),
        office_args=office_args(office),
        page_url=_page_url,
    )


def _page_url(number: int) -> str:
    """This queue, same filters, another page."""
    return url_for("staff.queue", **{**request.args.to_dict(), "page": number})
