"""The student import reports every problem of a line, and a file that changes nothing says so (issue 9, item 18)."""

from __future__ import annotations

import io

import pytest

import importing
from models import Role
from tests.conftest import log_in

HEADER = "student_id,name,passport_no,cohort,school,name_zh,library_fees_owed\n"
GOOD = "1111210101,Arjun Raghavan,E 1234-5678,UG2011,School of Clinical Medicine,,\n"


def plan_of(*rows: str) -> importing.ImportPlan:
    return importing.plan_import((HEADER + "".join(rows)).encode())


def messages(plan: importing.ImportPlan, line: int) -> list[str]:
    return [error.message for error in plan.errors if error.line == line]


def test_every_problem_of_a_line_is_reported(make_cohort, make_account):
    make_cohort()
    make_account("library")
    plan = plan_of(GOOD, "library,Lib Rary,AB-12,UG1999,School of Nursing,,1.005\n")
    problems = messages(plan, 3)
    assert problems[1].startswith("library_fees_owed: “1.005” is not an amount owed")
    assert problems[:1] + problems[2:] == [
        "passport_no has fewer than 6 digits, so no initial password can be made",
        "cohort “UG1999” does not exist: create it first",
        "library is already a staff account's user name",
    ]
    assert plan.refused_lines == 1 and not plan.ok


def test_a_cohort_problem_does_not_hide_the_others(make_cohort, make_student):
    make_cohort()
    make_student("1111210101")
    plan = plan_of("1111210101,Arjun Raghavan,E 1234-5678,UG1999,,,\n", "abc1,Case,E 1234-5678,UG2011,S,,\n")
    assert messages(plan, 2) == ["school is empty", "cohort “UG1999” does not exist: create it first"]
    assert plan.refused_lines == 1


def test_an_existing_id_in_another_case_is_reported_beside_the_rest(make_cohort, make_student):
    make_cohort()
    make_student("AB1234")
    plan = plan_of("ab1234,Someone,,UG2011,School of Nursing,,\n")
    assert messages(plan, 2) == [
        "passport_no is empty",
        "student_id ab1234 differs only in case from the existing student AB1234: use the same spelling",
    ]


@pytest.fixture
def admin_client(client, make_account):
    log_in(client, make_account("admin", role=Role.ADMIN, office_code=None))
    return client


def upload(client, text: str) -> str:
    data = {"file": (io.BytesIO(text.encode()), "students.csv"), "encoding": "utf-8"}
    return client.post("/admin/import", data=data, content_type="multipart/form-data").get_data(as_text=True)


def test_the_preview_shows_each_line_once_with_all_its_problems(admin_client, make_cohort):
    make_cohort()
    page = upload(admin_client, HEADER + GOOD + "1111210102,,AB-12,UG1999,School of Nursing,,\n")
    assert "Line 3: name is empty; passport_no has fewer than 6 digits" in page
    assert "cohort “UG1999” does not exist" in page
    assert "<strong>1</strong> line refused" in page and "admin.import_confirm" not in page


def test_a_preview_with_nothing_to_change_says_so_and_offers_no_import(admin_client, make_cohort, make_student):
    make_cohort()
    make_student("1111210101", passport_no="E 1234-5678", name="Arjun Raghavan")
    page = upload(admin_client, HEADER + GOOD)
    assert "Nothing to import" in page and "Nothing would change." in page
    assert "<strong>1</strong> unchanged" in page
    assert "/admin/import/confirm" not in page


def test_the_import_button_says_what_it_will_do_in_good_english(admin_client, make_cohort):
    make_cohort()
    page = upload(admin_client, HEADER + GOOD)
    assert "Import: add 1 new student" in page and "/admin/import/confirm" in page
    assert "<strong>0</strong> library holds to place" in page
