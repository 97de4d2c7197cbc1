"""The administrators' reports: the home page's numbers, statistics, the progress CSV, the audit log.

All read-only, except the audit event that records each export.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import Response, abort, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

import audit
import clearance
import exporting
from clearance import statistics as stats
from clock import start_of_day_utc, today
from database import db, write_transaction
from models import AuditEvent, Cohort, Office, Student
from views.access import int_arg
from views.admin import admin_only, bp
from views.forms import FIRST_DAY, LAST_DAY, out_of_range

AUDIT_PAGE_SIZE = 100


def _int_arg(name: str) -> int | None:
    return int_arg(request.args.get(name))


# --- The chart: completions per day, drawn on the server as SVG ---------------------


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    day: date
    count: int


@dataclass
class Chart:
    """Geometry of a bar chart in a `width` × `height` viewBox; the template only draws it."""

    size: str  # "wide" for screens and print, "narrow" for phones (CSS shows one)
    width: int
    bars: list[Bar] = field(default_factory=list)
    ticks: list[tuple[float, int]] = field(default_factory=list)  # (y, value) of the horizontal grid lines
    labels: list[tuple[float, str]] = field(default_factory=list)  # (x, day) under the axis
    today_x: float | None = None
    total: int = 0
    height: int = 270
    left: int = 52
    top: int = 36  # room above the tallest bar's number for the "today" label
    bottom: int = 214

    @property
    def right(self) -> int:
        return self.width - 10


def _scale_top(highest: int) -> tuple[int, int]:
    """A round top for the axis and the step between grid lines (at most five)."""
    step = 1
    while math.ceil(max(highest, 1) / step) > 5:
        step = next(s * 10**k for k in range(10) for s in (1, 2, 5) if s * 10**k > step)
    return step * math.ceil(max(highest, 1) / step), step


def bar_chart(days: list[tuple[date, int]], size: str = "wide", width: int = 720, labels: int = 8) -> Chart:
    """Lay out one bar per day, with a round scale and at most `labels` day labels."""
    chart = Chart(size, width, total=sum(count for _day, count in days))
    top_value, step = _scale_top(max(count for _day, count in days))
    plot_height = chart.bottom - chart.top
    slot = (chart.right - chart.left) / len(days)
    for index, (day, count) in enumerate(days):
        height = plot_height * count / top_value
        chart.bars.append(
            Bar(
                round(chart.left + slot * (index + 0.15), 2),
                round(chart.bottom - height, 2),
                round(slot * 0.7, 2),
                round(height, 2),
                day,
                count,
            )
        )
    chart.ticks = [
        (round(chart.bottom - plot_height * value / top_value, 2), value) for value in range(0, top_value + 1, step)
    ]
    every = math.ceil(len(days) / labels)
    chart.labels = [
        (round(chart.left + slot * (i + 0.5), 2), format_date(day, "MMM d"))
        for i, (day, _count) in enumerate(days)
        if i % every == 0
    ]
    first = days[0][0]
    if first <= today() <= days[-1][0]:
        chart.today_x = round(chart.left + slot * ((today() - first).days + 0.5), 2)
    return chart


def completion_charts(days: list[tuple[date, int]]) -> list[Chart]:
    """The completions chart drawn twice, for wide screens (and print) and for phones; none without days."""
    if not days:
        return []
    return [bar_chart(days), bar_chart(days, "narrow", width=360, labels=4)]


# --- Pages ----------------------------------------------------------------------------


@bp.route("/")
@admin_only
def home():
    cohorts = clearance.current_cohorts()
    return render_template(
        "admin/home.html",
        cohorts=cohorts,
        numbers=stats.today_numbers(cohorts),
        charts=completion_charts(stats.completions_per_day(cohorts)),
        admin_root=url_for("admin.home"),
    )


@bp.route("/statistics")
@admin_only
def statistics():
    cohorts = db.session.scalars(select(Cohort).order_by(Cohort.opens_on.desc(), Cohort.code)).all()
    chosen = next((c for c in cohorts if c.id == _int_arg("cohort")), None)
    where = [Student.cohort_id == chosen.id] if chosen else []
    grouped = stats.tallies(where)
    return render_template(
        "admin/statistics.html",
        cohorts=cohorts,
        chosen=chosen,
        by_cohort=[(c, t) for c, t in stats.by_cohort(grouped) if chosen is None or c.id == chosen.id],
        overall=stats.total(list(grouped.values())),
        by_school=stats.by_school(grouped),
        by_step=stats.by_step(where),
        charts=completion_charts(stats.completions_per_day([chosen] if chosen else cohorts)),
        idle_count=stats.idle_count(where),
        idle=stats.idle_students(where),
        admin_root=url_for("admin.home"),
    )


@bp.route("/export.csv")
@admin_only
def export_progress():
    scope = exporting.scope_for(request.args.get("scope", "all"), _int_arg("id"))
    if scope is None:
        abort(404)
    filename, label = scope.filename, scope.label
    body, rows = exporting.progress_csv(scope)
    with write_transaction():
        audit.record("export.progress", current_user, subject=label, after=f"{rows} row{'' if rows == 1 else 's'}")
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# --- The audit log ------------------------------------------------------------------


@dataclass
class AuditFilters:
    student: str = ""
    account: str = ""
    office: str = ""
    action: str = ""
    date_from: str = ""
    date_to: str = ""
    page: int = 1
    conditions: list = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _parse_day(text: str, filters: AuditFilters) -> date | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        filters.errors.append(_("“%(text)s” is not a date: write it as YYYY-MM-DD, e.g. 2026-06-25.", text=text))
        return None
    if not FIRST_DAY <= day <= LAST_DAY:  # 9999-12-31 has no next day to end the range at
        filters.errors.append(out_of_range(text))
        return None
    return day


def _who_and_where(filters: AuditFilters) -> None:
    """Student, account and office filters, looked up by what people type."""
    if filters.student:
        found = db.session.scalar(select(Student.id).where(Student.student_id == filters.student))
        if found is None:
            filters.errors.append(_("No student has the ID %(id)s.", id=filters.student))
        filters.conditions.append(AuditEvent.student_id == found)
    if filters.account:
        filters.conditions.append(AuditEvent.actor_label == filters.account)
    if filters.office:
        found = db.session.scalar(select(Office.id).where(Office.code == filters.office.upper()))
        if found is None:
            filters.errors.append(_("No office has the code %(code)s.", code=filters.office))
        filters.conditions.append(AuditEvent.office_id == found)


def audit_filters(args, actions: list[str]) -> AuditFilters:
    """The audit log's filters from the query string, with a message for each value that makes no sense."""
    text = {name: args.get(name, "").strip()[:64] for name in ("student", "account", "office", "action", "from", "to")}
    filters = AuditFilters(
        text["student"],
        text["account"],
        text["office"],
        text["action"],
        text["from"],
        text["to"],
        page=_int_arg("page") or 1,
    )
    _who_and_where(filters)
    if filters.action:
        if filters.action not in actions:
            filters.errors.append(_("There is no action called %(action)s.", action=filters.action))
        filters.conditions.append(AuditEvent.action == filters.action)
    first, last = _parse_day(filters.date_from, filters), _parse_day(filters.date_to, filters)
    if first and last and first > last:
        filters.errors.append(_("The first day comes after the last day."))
    if first:
        filters.conditions.append(AuditEvent.at >= start_of_day_utc(first))
    if last:
        filters.conditions.append(AuditEvent.at < start_of_day_utc(last + timedelta(days=1)))
    return filters


@bp.route("/audit")
@admin_only
def audit_log():
    actions = list(db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
    filters = audit_filters(request.args, actions)
    rows, total, pages = [], 0, 1
    if not filters.errors:
        total = db.session.scalar(select(func.count()).select_from(AuditEvent).where(*filters.conditions))
        pages = max(1, math.ceil(total / AUDIT_PAGE_SIZE))
        filters.page = min(filters.page, pages)
        query = (
            select(AuditEvent, Student.student_id, Student.name, Office.code)
            .outerjoin(Student, Student.id == AuditEvent.student_id)
            .outerjoin(Office, Office.id == AuditEvent.office_id)
            .where(*filters.conditions)
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(AUDIT_PAGE_SIZE)
            .offset((filters.page - 1) * AUDIT_PAGE_SIZE)
        )
        rows = _worded(db.session.execute(query).all())
    return render_template(
        "admin/audit.html",
        filters=filters,
        actions=actions,
        rows=rows,
        total=total,
        pages=pages,
        page_url=_audit_page_url,
        admin_root=url_for("admin.home"),
    )


@dataclass
class AuditRow:
    """One line of the audit log: the event, whom it concerns, and its subject in words."""

    event: AuditEvent
    student_no: str | None
    student_name: str | None
    office_code: str | None
    subject: str


def _worded(rows) -> list[AuditRow]:
    """The page's events with their subjects in words ("Library: Cancel your library card", never step:1)."""
    subjects = clearance.subjects_in_words([event for event, *_rest in rows])
    return [AuditRow(*row, subject) for row, subject in zip(rows, subjects, strict=True)]


def _audit_page_url(number: int) -> str:
    """The audit log, same filters, another page."""
    return url_for("admin.audit_log", **{**request.args.to_dict(), "page": number})
