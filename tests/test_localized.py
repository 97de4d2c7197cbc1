"""Offices, steps, cohorts and schools in the reader's language, with the other language when one is empty."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from flask_babel import force_locale
from sqlalchemy import select

import clearance
import seeding
from database import db, write_transaction
from localized import in_both, localized
from models import Cohort, Role
from tests.conftest import audit_count, log_in, office


def place(**fields):
    return SimpleNamespace(**{"location": "", "location_zh": "", "title_en": "", "title_zh": ""} | fields)


@pytest.mark.parametrize(
    ("language", "fields", "shown"),
    [
        ("en", {"location": "Library", "location_zh": "图书馆"}, "Library"),
        ("zh_Hans", {"location": "Library", "location_zh": "图书馆"}, "图书馆"),
        ("zh_Hans", {"location": "Library"}, "Library"),  # no Chinese: the English
        ("en", {"location_zh": "图书馆"}, "图书馆"),  # no English: the Chinese
        ("en", {}, ""),
    ],
)
def test_a_field_reads_in_the_readers_language_else_the_other(app, language, fields, shown):
    with app.test_request_context(), force_locale(language):
        assert localized(place(**fields), "location") == shown


def test_titles_put_the_readers_language_first_and_the_other_after_it(app):
    step = place(title_en="Return your campus card", title_zh="退还校园卡")
    with app.test_request_context():
        with force_locale("en"):
            assert in_both(step, "title") == [("Return your campus card", ""), ("退还校园卡", "zh-Hans")]
        with force_locale("zh_Hans"):
            assert in_both(step, "title") == [("退还校园卡", ""), ("Return your campus card", "en")]
            # a fallback says which language it is in
            assert in_both(place(title_en="Exit survey"), "title") == [("Exit survey", "en")]


def test_the_certificate_place_falls_back_from_the_cohort_to_the_school_in_each_language(make_student):
    student = make_student()
    student.cohort.certificate_place, student.cohort.certificate_place_zh = "", ""
    student.school.certificate_place, student.school.certificate_place_zh = "Building 1, room 305", "1号楼305室"
    assert clearance.certificate_place(student) == "Building 1, room 305"
    assert clearance.certificate_place(student, chinese=True) == "1号楼305室"
    student.cohort.certificate_place = "Room 105"  # the cohort's place wins, even without its Chinese
    assert clearance.certificate_place(student, chinese=True) == "Room 105"


# --- Admins edit both side by side ---------------------------------------------------


@pytest.fixture
def admin_client(client, make_account):
    log_in(client, make_account("admin", role=Role.ADMIN, office_code=None))
    return client


def test_an_admin_saves_an_offices_chinese_fields_and_they_are_audited(admin_client):
    library = office("LIB")
    data = {
        "code": "LIB",
        "name_en": "Library",
        "name_zh": "图书馆",
        "location": "Library, ground floor",
        "location_zh": "图书馆一楼",
        "hours": "8:00-21:00",
        "hours_zh": "每天 8:00-21:00",
        "phone": "123",
        "instructions": "Return every book.",
        "instructions_zh": "请归还全部图书。",
    }
    page = admin_client.get(f"/admin/offices/{library.id}").get_data(as_text=True)
    assert "Where (Chinese)" in page and "Opening hours (Chinese)" in page
    admin_client.post(f"/admin/offices/{library.id}", data=data)
    db.session.refresh(library)
    assert (library.location_zh, library.hours_zh, library.instructions_zh) == (
        "图书馆一楼",
        "每天 8:00-21:00",
        "请归还全部图书。",
    )
    assert audit_count("office.changed") == 1


def test_an_admin_saves_a_steps_chinese_fields(admin_client):
    step = office("DORM").steps[0]
    data = {
        "office_id": step.office_id,
        "title_en": step.title_en,
        "title_zh": step.title_zh,
        "instructions": step.instructions,
        "instructions_zh": "请先打扫房间。",
        "what_to_bring": step.what_to_bring,
        "what_to_bring_zh": "房间钥匙",
        "position": str(step.position),
        "mode": step.mode.value,
    }
    admin_client.post(f"/admin/steps/{step.id}", data=data)
    db.session.refresh(step)
    assert (step.instructions_zh, step.what_to_bring_zh) == ("请先打扫房间。", "房间钥匙")
    assert audit_count("step.changed") == 1


def test_an_admin_saves_a_schools_chinese_certificate_place(admin_client, make_student):
    school = make_student().school
    admin_client.post(
        f"/admin/schools/{school.id}",
        data={"name_zh": "临床医学院", "certificate_place": "Room 305", "certificate_place_zh": "305室"},
    )
    db.session.refresh(school)
    assert school.certificate_place_zh == "305室" and audit_count("school.changed") == 1


# --- The checklist in Chinese --------------------------------------------------------


def checklist_in(client, student, language: str) -> str:
    log_in(client, student.account)
    client.post("/language", data={"language": language, "next": "/checklist"})
    return re.sub(r"\s+", " ", client.get("/checklist").get_data(as_text=True))


def test_the_chinese_checklist_shows_the_chinese_place_hours_and_what_to_bring(client, make_student):
    student = make_student(must_change=False)
    with write_transaction():
        clearance.refresh_students([student.id])
    page = checklist_in(client, student, "zh_Hans")
    assert "国际学生公寓5号楼101室" in page and "周一至周五 8:30–16:30" in page and "房间钥匙、钥匙押金收据" in page
    assert "International Student Apartments, Building 5" not in page and "Room keys" not in page
    assert '办理退宿手续 <span lang="en" class="zh">Check out of student housing</span>' in page  # 中文 first


def test_the_chinese_checklist_falls_back_to_english_where_the_chinese_is_empty(client, make_student):
    student = make_student(must_change=False)
    housing = office("DORM")
    housing.location_zh, housing.hours_zh, housing.steps[0].what_to_bring_zh = "", "", ""
    db.session.commit()
    page = checklist_in(client, student, "zh_Hans")
    assert "International Student Apartments, Building 5, room 101" in page and "Room keys, key-deposit receipt" in page
    assert "国际学生公寓5号楼101室" not in page


def test_the_english_checklist_keeps_the_english(client, make_student):
    page = checklist_in(client, make_student(must_change=False), "en")
    assert "International Student Apartments, Building 5, room 101" in page and "国际学生公寓5号楼101室" not in page


def test_the_standard_offices_get_their_chinese_where_the_english_is_still_the_standard(app):
    library, housing = office("LIB"), office("DORM")
    library.location_zh, housing.location_zh, housing.location = "", "", "Building 9"  # housing moved
    seeding.ensure_standard_offices()
    assert library.location_zh == "图书馆一楼流通服务台（茶山校区）"
    assert housing.location_zh == ""  # its Chinese no longer says the same as its English


def test_a_new_cohort_without_documents_gets_the_default_certificates_in_both_languages(admin_client):
    data = {"code": "UG2012", "name_en": "2012 undergraduates", "kind": "degree"}
    data |= {"opens_on": "2026-06-01", "closes_on": "2026-06-30", "certificate_place_zh": "国际教育学院105室"}
    admin_client.post("/admin/cohorts/new", data=data)
    cohort = db.session.scalar(select(Cohort).where(Cohort.code == "UG2012"))
    assert (cohort.documents, cohort.documents_zh) == (
        "Graduation certificate and degree certificate",
        "毕业证书和学位证书",
    )
    assert cohort.certificate_place_zh == "国际教育学院105室"
