"""The admin reports: home numbers, statistics, the progress CSV, the audit log viewer, and who may see them."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

import audit
import clearance
import exporting
from clearance import statistics as stats
from database import db, write_transaction
from models import AuditEvent, CohortKind, Office, Role, Step, StepMode
from tests.conftest import NOW, audit_count, log_in, make_cohort_step, office
from views.admin.reports import bar_chart, completion_charts

PAGES = ["/admin/", "/admin/statistics", "/admin/export.csv", "/admin/audit"]


def clear_everything(student, actor) -> None:
    """Clear every applicable step the office clears, in order (automatic ones are the system's)."""
    for view in clearance.checklist(student):
        if view.step.mode != StepMode.AUTOMATIC:
            clearance.clear_step(student, view.step, actor)


@pytest.fixture
def setup(make_cohort, make_student, make_account, clock):
    """Two cohorts, four students, one step for one cohort only, one retired step.

    a (UG, Clinical): everything cleared, completed at 01:30 local on 25 June, certificates handed over
    b (UG, Nursing): a library hold, nothing else
    c (ND, Clinical): nothing but the system's automatic step
    d (ND, Clinical): housing cleared by staff yesterday
    """
    ug = make_cohort("UG2011")
    nd = make_cohort("NDSHORT", kind=CohortKind.NON_DEGREE)
    a = make_student("1111210101", cohort=ug, name="Arjun Raghavan", must_change=False)
    b = make_student("1111210102", cohort=ug, name="Wanjiru Kamau", school="School of Nursing")
    c = make_student("1111210103", cohort=nd, name="Lucía Pérez", name_zh="露西亚")
    d = make_student("1111210104", cohort=nd, name="Tran Van An")
    admin = make_account("admin", role=Role.ADMIN, office_code=None)
    staff = {code: make_account(code.lower(), office_code=code) for code in ("LIB", "DORM")}
    only_nd = make_cohort_step(office("INTL"), "Language certificate", [nd])
    retired = make_cohort_step(office("CARD"), "Old card step", [])
    retired.retired = True
    db.session.commit()
    with write_transaction():
        clearance.refresh_students([a.id, b.id, c.id, d.id], why="import")
        clearance.place_hold(b, office("LIB"), staff["LIB"], "Library fees owed", Decimal("9.90"))
    clock.set(NOW - timedelta(days=1))
    with write_transaction():
        clearance.clear_step(d, office("DORM").steps[0], staff["DORM"])
    clock.set(datetime(2026, 6, 24, 17, 30))  # 01:30 on 25 June in Wenzhou
    with write_transaction():
        clear_everything(a, admin)
    clock.set(NOW)
    with write_transaction():
        clearance.record_handover(clearance.current_form(a), admin, True)
    return {
        "ug": ug,
        "nd": nd,
        "a": a,
        "b": b,
        "c": c,
        "d": d,
        "admin": admin,
        "only_nd": only_nd,
        "retired": retired,
        **staff,
    }


# --- Who may see the reports -------------------------------------------------------


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_visitors_are_sent_to_the_login_page(client, setup, url):
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("who", ["student", "staff", "desk"])
def test_only_admins_see_the_reports(client, setup, make_account, url, who):
    account = {
        "student": lambda: setup["a"].account,
        "staff": lambda: setup["LIB"],
        "desk": lambda: make_account("desk", role=Role.DESK, office_code=None),
    }[who]()
    before = audit_count()
    log_in(client, account)
    assert client.get(url).status_code == 403
    assert audit_count() == before


# --- The counting rules --------------------------------------------------------------


def tally_of(rows, name):
    return next(
        t
        for item, t in rows
        if getattr(item, "code", None) == name
        or getattr(item, "name", None) == name
        or getattr(item, "title_en", None) == name
    )


def test_statistics_per_cohort_and_school(setup):
    by_cohort = stats.by_cohort(stats.tallies())
    assert tally_of(by_cohort, "UG2011") == stats.Tally(
        students=2, cleared=1, pending=0, blocked=1, forms=1, handed_over=1
    )
    assert tally_of(by_cohort, "NDSHORT") == stats.Tally(
        students=2, cleared=0, pending=2, blocked=0, forms=0, handed_over=0
    )
    by_school = stats.by_school(stats.tallies())
    assert tally_of(by_school, "School of Clinical Medicine") == stats.Tally(3, 1, 2, 0, 1, 1)
    assert tally_of(by_school, "School of Nursing") == stats.Tally(1, 0, 0, 1, 0, 0)


def test_statistics_per_office_step(setup):
    by_step = stats.by_step()
    assert tally_of(by_step, "Cancel your library card") == stats.Tally(4, 1, 2, 1, 1, 1)
    assert tally_of(by_step, "Check out of student housing") == stats.Tally(4, 2, 2, 0, 1, 1)
    assert tally_of(by_step, "Fees settled") == stats.Tally(4, 4, 0, 0, 1, 1)
    assert tally_of(by_step, "Language certificate") == stats.Tally(2, 0, 2, 0, 0, 0)
    assert all(step.title_en != "Old card step" for step, _tally in by_step)


def test_the_home_numbers_count_the_current_cohorts(setup, make_cohort, make_student):
    old = make_cohort("UG2001", opens=date(2025, 6, 20), closes=date(2025, 7, 3))
    make_student("0000000001", cohort=old, name="Long Gone")
    numbers = stats.today_numbers(clearance.current_cohorts())
    assert numbers.tally == stats.Tally(students=4, cleared=1, pending=2, blocked=1, forms=1, handed_over=1)
    assert numbers.idle == 2  # b (a hold is not something b did) and c
    # Today (25 June, local) a's six steps and the system's fees step of b and c; d's housing was yesterday.
    assert numbers.cleared_today == 6 + 1 + 1 + 1


def test_students_who_have_done_nothing_yet(setup):
    assert stats.idle_count() == 2
    assert [s.student_id for s in stats.idle_students()] == ["1111210102", "1111210103"]
    assert [s.student_id for s in stats.idle_students(limit=1)] == ["1111210102"]


def test_completions_are_counted_on_the_local_day_of_the_current_form(setup):
    days = dict(stats.completions_per_day([setup["ug"], setup["nd"]]))
    assert min(days) == date(2026, 6, 20) and max(days) == date(2026, 7, 3) and len(days) == 14
    assert days[date(2026, 6, 25)] == 1 and sum(days.values()) == 1
    assert sum(days.values()) == stats.today_numbers([setup["ug"], setup["nd"]]).tally.cleared
    with write_transaction():  # voided: no longer fully cleared, so off the chart as off the numbers
        clearance.place_hold(setup["a"], office("LIB"), setup["admin"], "Lost book", None)
    assert sum(dict(stats.completions_per_day([setup["ug"]])).values()) == 0
    assert stats.today_numbers([setup["ug"]]).tally.cleared == 0


# --- The pages ------------------------------------------------------------------------


def test_the_admin_home_shows_todays_numbers_chart_and_links(client, setup):
    log_in(client, setup["admin"])
    page = client.get("/admin/").get_data(as_text=True)
    for number, label in [
        (4, "students"),
        (1, "fully cleared"),
        (1, "form issued (current)"),
        (1, "certificates handed over"),
        (1, "blocked"),
        (2, "have done nothing yet"),
        (9, "steps cleared today"),
    ]:
        assert f"<strong>{number}</strong> {label}" in page
    for link in (
        "/admin/statistics",
        "/admin/audit",
        "/admin/export.csv",
        "/admin/cohorts",
        "/admin/offices",
        "/admin/accounts",
        "/admin/import",
    ):
        assert f'href="{link}' in page
    assert page.count('<rect class="chart-bar"') == 2 * 14  # drawn wide and narrow
    assert page.count('data-day="2026-06-25" data-count="1"') == 2
    assert '<title id="chart-title-wide">' in page and '<desc id="chart-desc-narrow">' in page
    assert "style=" not in page and "<style" not in page  # the CSP forbids both


def test_the_statistics_page(client, setup):
    log_in(client, setup["admin"])
    page = client.get("/admin/statistics").get_data(as_text=True)
    assert "By cohort" in page and "By school" in page and "By office" in page
    assert "School of Nursing" in page and "Language certificate" in page and "Old card step" not in page
    assert "2 students: no step cleared" in page and "1111210103" in page and "Lucía Pérez" in page
    assert "<svg" in page and page.count('<rect class="chart-bar"') == 2 * 14
    one = client.get(f"/admin/statistics?cohort={setup['nd'].id}").get_data(as_text=True)
    assert "1111210102" not in one and "1111210103" in one


def test_the_chart_draws_one_bar_per_day_scaled_to_a_round_top(app):
    days = [(date(2026, 6, 20) + timedelta(days=n), n * 3) for n in range(10)]
    chart = bar_chart(days)
    assert len(chart.bars) == 10 and chart.total == sum(range(0, 30, 3))
    assert [value for _y, value in chart.ticks] == [0, 10, 20, 30]
    assert chart.bars[0].height == 0 and chart.bars[-1].y > chart.top
    assert [label for _x, label in chart.labels] == ["Jun 20", "Jun 22", "Jun 24", "Jun 26", "Jun 28"]
    assert [c.size for c in completion_charts(days)] == ["wide", "narrow"] and completion_charts([]) == []


# --- The progress CSV ---------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def test_the_export_has_a_row_per_student_with_every_applicable_step(client, setup):
    log_in(client, setup["admin"])
    response = client.get("/admin/export.csv")
    assert response.mimetype == "text/csv"
    assert re.match(r'attachment; filename="progress-all-\d{8}-\d{4}\.csv"', response.headers["Content-Disposition"])
    assert b"\r\n" in response.get_data() and response.get_data().count(b"\r\n") == 5
    header, *rows = read_csv(response)
    assert header[:6] == ["student_id", "name", "name_zh", "cohort", "school", "nationality"]
    assert header[-2:] == ["form_serial", "handed_over"]
    assert "LIB Cancel your library card status" in header and "INTL Language certificate date" in header
    assert not any("Old card step" in column for column in header)
    assert [row[0] for row in rows] == ["1111210101", "1111210102", "1111210103", "1111210104"]
    a, b, c, _d = (dict(zip(header, row, strict=True)) for row in rows)
    assert a["DORM Check out of student housing status"] == "cleared"
    assert a["DORM Check out of student housing date"] == "2026-06-25 01:30"
    assert a["form_serial"].startswith("LS2026-") and a["handed_over"] == "2026-06-25 12:00"
    assert a["INTL Language certificate status"] == "n/a"
    assert b["LIB Cancel your library card status"] == "blocked" and b["form_serial"] == ""
    assert c["name_zh"] == "露西亚" and c["INTL Language certificate status"] == "pending"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export.progress"))
    assert (event.actor_label, event.subject, event.to_value) == ("admin", "all", "4 rows")


def test_the_export_neutralises_spreadsheet_formulas(client, setup, make_student):
    for number, name in [
        ("2", '=HYPERLINK("http://evil.example","x")'),
        ("3", "+1"),
        ("4", "-2"),
        ("5", "@SUM(A1)"),
        ("6", "\tTabbed"),
    ]:
        make_student(f"999000000{number}", cohort=setup["ug"], name=name, nationality="=1+1")
    log_in(client, setup["admin"])
    rows = read_csv(client.get(f"/admin/export.csv?scope=cohort&id={setup['ug'].id}"))
    names = {row[0]: row[1] for row in rows[1:]}
    assert names["9990000002"] == '\'=HYPERLINK("http://evil.example","x")'
    assert (names["9990000003"], names["9990000004"], names["9990000005"]) == ("'+1", "'-2", "'@SUM(A1)")
    assert names["9990000006"] == "'\tTabbed" and names["1111210101"] == "Arjun Raghavan"
    assert all(row[5] == "'=1+1" for row in rows[1:] if row[0].startswith("999"))


def test_neutralise_leaves_ordinary_cells_alone():
    assert exporting.neutralise("2026-06-25 12:00") == "2026-06-25 12:00"
    assert exporting.neutralise(None) == "" and exporting.neutralise("\rx") == "'\rx"


@pytest.fixture
def visa_office(setup):
    """An office whose only step applies to the non-degree cohort."""
    visa = Office(code="VISA", name_en="Visa office")
    db.session.add(visa)
    db.session.add(Step(office=visa, title_en="Exit visa", mode=StepMode.STAFF, position=200, cohorts=[setup["nd"]]))
    db.session.commit()
    return visa


def test_the_export_scopes(client, setup, visa_office):
    log_in(client, setup["admin"])
    ids = lambda query: [row[0] for row in read_csv(client.get(f"/admin/export.csv?{query}"))[1:]]  # noqa: E731
    assert ids(f"scope=cohort&id={setup['nd'].id}") == ["1111210103", "1111210104"]
    nursing = setup["b"].school_id
    assert ids(f"scope=school&id={nursing}") == ["1111210102"]
    assert ids(f"scope=office&id={visa_office.id}") == ["1111210103", "1111210104"]
    assert len(ids(f"scope=office&id={office('LIB').id}")) == 4
    response = client.get(f"/admin/export.csv?scope=office&id={visa_office.id}")
    assert 'filename="progress-office-VISA-' in response.headers["Content-Disposition"]
    subjects = db.session.scalars(select(AuditEvent.subject).where(AuditEvent.action == "export.progress")).all()
    assert f"school:{setup['b'].school.name}" in subjects and "office:VISA" in subjects


@pytest.mark.parametrize("query", ["scope=cohort&id=999", "scope=school", "scope=everything", "scope=office&id=x"])
def test_the_export_refuses_unknown_scopes(client, setup, query):
    log_in(client, setup["admin"])
    assert client.get(f"/admin/export.csv?{query}").status_code == 404
    assert audit_count("export.progress") == 0


# --- The audit log viewer ------------------------------------------------------------------


def audit_rows(page: str) -> int:
    return page.count("<tr>") - 1  # less the header


def test_the_audit_log_filters(client, setup):
    log_in(client, setup["admin"])
    everything = client.get("/admin/audit").get_data(as_text=True)
    assert "hold.placed" in everything and "Library fees owed" in everything and "1111210102" in everything
    by_student = client.get("/admin/audit?student=1111210104").get_data(as_text=True)
    assert "Tran Van An" in by_student and "Wanjiru Kamau" not in by_student and audit_rows(by_student) == 2
    by_account = client.get("/admin/audit?account=dorm").get_data(as_text=True)
    assert audit_rows(by_account) == 1 and "step.cleared" in by_account
    by_office = client.get("/admin/audit?office=lib&action=hold.placed").get_data(as_text=True)
    assert audit_rows(by_office) == 1 and "Library fees owed" in by_office
    yesterday = client.get("/admin/audit?from=2026-06-24&to=2026-06-24").get_data(as_text=True)
    assert audit_rows(yesterday) == 1 and "Tran Van An" in yesterday  # 01:30 on the 25th is not the 24th
    assert "No event matches" in client.get("/admin/audit?from=2026-06-26").get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-13-45", "is not a date"),
        ("to=yesterday", "is not a date"),
        ("from=2026-06-25&to=2026-06-20", "comes after"),
        ("student=0000", "No student has the ID 0000"),
        ("office=NOPE", "No office has the code NOPE"),
        ("action=drop.tables", "no action called"),
    ],
)
def test_bad_audit_filters_say_what_is_wrong(client, setup, query, message):
    log_in(client, setup["admin"])
    response = client.get(f"/admin/audit?{query}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page and '<table class="audit">' not in page


def test_the_audit_log_pages_by_a_hundred_newest_first(client, setup, clock):
    for n in range(120):
        clock.advance(minutes=1)
        audit.record("test.event", None, subject=f"event {n:03d}")
    db.session.commit()
    log_in(client, setup["admin"])
    first = client.get("/admin/audit?action=test.event").get_data(as_text=True)
    assert audit_rows(first) == 100 and "page 1 of 2" in first
    assert first.index("event 119") < first.index("event 118") and "event 019" not in first
    second = client.get("/admin/audit?action=test.event&page=2").get_data(as_text=True)
    assert audit_rows(second) == 20 and "event 000" in second
