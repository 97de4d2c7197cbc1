"""Setting up as an admin (issue 9, items 16, 17, 19-21): every problem of a cohort at once, a window that opens
earlier for one student, checkboxes for several choices, the certificate place of a school, plural words."""

from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import func, select

import clearance
from clearance.setup import CohortRefused, cohort_problems, parse_hours
from database import db, write_transaction
from models import AuditEvent, Cohort, School
from tests.conftest import audit_count, log_in, office


def cohort_data(**changes) -> dict:
    data = {
        "code": "UG2012",
        "name_en": "2012 undergraduates",
        "name_zh": "",
        "kind": "degree",
        "opens_on": "2027-06-20",
        "closes_on": "2027-07-03",
        "certificate_day": "2027-06-30",
        "certificate_hours": "08:30-16:00",
        "certificate_place": "",
        "documents": "",
    }
    return data | changes


def cohorts() -> int:
    return db.session.scalar(select(func.count()).select_from(Cohort))


# --- Item 16: every problem of a cohort at once ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("08:30-16:00", (time(8, 30), time(16, 0))),
        (" 8:30 – 16:00 ", (time(8, 30), time(16, 0))),
        ("16:00-08:30", (time(16, 0), time(8, 30))),  # read; cohort_problems refuses the order
        ("25:00-26:00", None),
        ("08:30-16:60", None),
        ("morning", None),
    ],
)
def test_certificate_hours_are_read_like_the_notice_writes_them(text, hours):
    assert parse_hours(text) == hours


def test_the_cohort_form_lists_every_problem_at_once_and_saves_nothing(admin_client):
    data = cohort_data(closes_on="2027-06-01", certificate_day="2027-06-10", certificate_hours="16:00-08:30")
    page = admin_client.post("/admin/cohorts/new", data=data).get_data(as_text=True)
    assert "The window closes before it opens." in page
    assert "The certificate day (2027-06-10) comes before the window opens (2027-06-20)." in page
    assert "The certificate hours must end after they start (16:00-08:30)." in page
    assert "The cohort was not saved: 3 fields need a change, shown below." in page
    assert cohorts() == 0


def test_equal_hours_and_a_mistyped_date_show_together(admin_client):
    data = cohort_data(opens_on="20/06/2027", certificate_hours="09:00-09:00")
    page = admin_client.post("/admin/cohorts/new", data=data).get_data(as_text=True)
    assert "Not a valid date value" in page and "must end after they start" in page
    assert "2 fields need a change" in page and cohorts() == 0


def test_one_problem_is_counted_in_the_singular(admin_client, make_cohort):
    make_cohort("UG2012")
    page = admin_client.post("/admin/cohorts/new", data=cohort_data()).get_data(as_text=True)
    assert "A cohort with this code already exists." in page
    assert "1 field needs a change, shown below." in page and cohorts() == 1


def test_a_certificate_day_after_the_window_and_no_hours_are_fine(app):
    values = {"opens_on": date(2027, 6, 20), "closes_on": date(2027, 7, 3), "certificate_day": date(2027, 7, 20)}
    assert cohort_problems(values | {"certificate_hours": ""}) == {}


def test_editing_a_cohort_checks_the_same_rules(admin_client, make_cohort):
    cohort = make_cohort()
    data = cohort_data(code="UG2011", opens_on="2026-06-20", closes_on="2026-06-10")
    page = admin_client.post(f"/admin/cohorts/{cohort.id}", data=data).get_data(as_text=True)
    assert "The window closes before it opens." in page
    db.session.refresh(cohort)
    assert cohort.closes_on == date(2026, 7, 3) and audit_count("cohort.changed") == 0


def test_save_cohort_refuses_with_every_problem_by_field(app):
    values = {"code": "X", "opens_on": date(2027, 6, 20), "closes_on": date(2027, 6, 1)}
    values |= {"certificate_day": date(2027, 6, 1), "certificate_hours": "noon"}
    with pytest.raises(CohortRefused) as refused, write_transaction():
        clearance.setup.save_cohort(None, values, None, actor_label="test")
    assert set(refused.value.problems) == {"closes_on", "certificate_day", "certificate_hours"}
    assert str(refused.value).startswith("The window closes before it opens. The certificate day")


# --- Item 16: one student's window opens earlier or closes later ----------------------------


def extend(client, day: str, reason: str = "Flight home on 18 June"):
    return client.post(
        "/admin/cohorts/extend",
        data={"student_id": "1111210101", "day": day, "reason": reason},
        follow_redirects=True,
    ).get_data(as_text=True)


def test_a_window_can_open_earlier_for_one_student(admin_client, make_student):
    student = make_student(must_change=False)  # the cohort's window: 20 June to 3 July 2026
    page = extend(admin_client, "2026-06-15")
    assert "1111210101 may now use the system from June 15, 2026 to July 3, 2026." in page
    assert clearance.window_state(student, date(2026, 6, 15)) == clearance.Window.OPEN
    assert clearance.window_state(student, date(2026, 6, 14)) == clearance.Window.NOT_YET_OPEN
    assert clearance.window_state(student, date(2026, 7, 4)) == clearance.Window.CLOSED
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "window.extended"))
    assert (event.from_value, event.to_value) == ("2026-06-20 – 2026-07-03", "2026-06-15 – 2026-07-03")
    assert "June 15, 2026 to July 3, 2026 (cohort: June 20, 2026 to July 3, 2026)" in admin_client.get(
        "/admin/cohorts"
    ).get_data(as_text=True)


def test_a_day_inside_the_window_is_refused(admin_client, make_student):
    student = make_student(must_change=False)
    page = extend(admin_client, "2026-06-25")
    assert "is already inside the cohort&#39;s window (2026-06-20 – 2026-07-03)" in page
    db.session.refresh(student)
    assert student.window_extended_until is None and audit_count("window.extended") == 0


def test_an_extension_can_be_removed(admin_client, make_student):
    student = make_student(must_change=False)
    extend(admin_client, "2026-07-20")
    page = extend(admin_client, "", reason="Thesis defence moved")
    assert "from June 20, 2026 to July 3, 2026" in page
    db.session.refresh(student)
    assert student.window_extended_until is None and audit_count("window.extended") == 2


# --- Item 17: several choices are checkboxes ----------------------------------------------------


def test_cohorts_and_prerequisites_are_checkboxes(admin_client, make_cohort):
    make_cohort("UG2011")
    make_cohort("NDCI")
    school = office("SCHOOL").steps[0]
    page = admin_client.get(f"/admin/steps/{school.id}").get_data(as_text=True)
    assert "<select multiple" not in page and "multiple" not in page
    assert page.count('name="cohorts" type="checkbox"') == 2
    assert page.count('name="prerequisites" type="checkbox"') == 5  # every other active step
    assert page.count("<input checked") == 5  # the sign-off needs the five other offices
    assert "<legend>Applies to cohorts</legend>" in page and "<legend>Needs these steps first</legend>" in page


# --- Item 21: the certificate place of a school ------------------------------------------------


def test_an_admin_sets_a_schools_certificate_place(admin_client, make_student):
    make_student(must_change=False)
    school = db.session.scalar(select(School))
    listing = admin_client.get("/admin/cohorts").get_data(as_text=True)
    assert "Not set: the form names no place unless the cohort does." in listing
    place = "School of Clinical Medicine office, Building 1, room 305"
    page = admin_client.post(
        f"/admin/schools/{school.id}", data={"name_zh": "临床医学院", "certificate_place": place}, follow_redirects=True
    ).get_data(as_text=True)
    assert "School saved: School of Clinical Medicine." in page and place in page
    db.session.refresh(school)
    assert (school.name_zh, school.certificate_place) == ("临床医学院", place)
    assert audit_count("school.changed") == 1


def test_the_place_is_the_cohorts_else_the_schools(make_student, make_cohort):
    own = make_student(must_change=False)  # the builder's cohort names "School office"
    assert clearance.certificate_place(own) == "School office"
    cohort = make_cohort("PG2014")
    cohort.certificate_place = ""  # names none
    other = make_student("1111210102", cohort=cohort)
    other.school.certificate_place = "School of Clinical Medicine office, room 305"
    assert clearance.certificate_place(other) == "School of Clinical Medicine office, room 305"


def test_the_form_prints_the_schools_place_when_the_cohort_names_none(client, make_student, admin):
    student = make_student(must_change=False)
    student.cohort.certificate_place = ""
    student.school.certificate_place = "School of Clinical Medicine office, Building 1, room 305"
    db.session.commit()
    with write_transaction():
        clearance.refresh_students([student.id])
        for code in ("LIB", "DORM", "CARD", "INTL", "SCHOOL"):
            clearance.clear_step(student, office(code).steps[0], admin)
    log_in(client, student.account)
    page = client.get("/form").get_data(as_text=True)
    assert "08:30–16:00, School of Clinical Medicine office, Building 1, room 305" in page
