"""What the system writes into the records reads in each reader's language; so do the CLI and the importer."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from flask_babel import force_locale

import clearance
import importing
from database import write_transaction
from languages import terminal_language
from models import HoldSource
from tests import test_form
from tests.conftest import log_in, office, school_named
from tests.test_form import current, step
from wording import read, say, twin

complete, staff, desk = test_form.complete, test_form.staff, test_form.desk


def in_chinese(text: str) -> str:
    with force_locale("zh_Hans"):
        return read(text)


def words(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_what_the_system_said_reads_in_each_language_with_its_values(app):
    stored = say("hold released: %(reason)s", reason="paid at the counter")
    assert read(stored) == "hold released: paid at the counter"
    assert in_chinese(stored) == "未结事项已解除：paid at the counter"  # what a person typed stays as typed


def test_a_value_in_both_languages_and_a_message_inside_a_message_follow_the_reader(app):
    library = twin("Library", "图书馆")
    stored = say("hold placed by %(office)s: %(reason)s", office=library, reason=say("Library fees owed"))
    assert read(stored) == "hold placed by Library: Library fees owed"
    assert in_chinese(stored) == "图书馆登记了未结事项：欠图书馆费用"
    assert in_chinese(say("step %(step)s cleared", step=twin("Exit survey", ""))) == "离校事项“Exit survey”已办结"


@pytest.mark.parametrize("stored", ["Key not returned", "", None, '{"say": 3}', '{"say":"x"', "{not json"])
def test_text_people_typed_and_anything_else_reads_as_it_was_written(app, stored):
    assert read(stored) == (stored or "")
    assert in_chinese(stored) == (stored or "")


@pytest.mark.parametrize(
    "environ, language",
    [
        ({"LANG": "zh_CN.UTF-8"}, "zh_Hans"),
        ({"LANG": "en_US.UTF-8", "LC_ALL": "zh_TW.UTF-8"}, "zh_Hans"),
        ({"LANGUAGE": "en_GB:zh_CN", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "fr_FR.UTF-8"}, "en"),
        ({}, "en"),
    ],
)
def test_the_cli_speaks_the_terminals_language(app, environ, language):
    assert terminal_language(environ) == language


def test_an_import_refused_in_a_chinese_terminal_says_why_in_chinese(runner, tmp_path, make_cohort):
    make_cohort()
    data = tmp_path / "students.csv"
    data.write_text(
        "student_id,name,passport_no,cohort,school\n1111210101,Arjun,J 4817263,UG1999,School of Nursing\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["import-students", str(data)], env={"LANG": "zh_CN.UTF-8"})
    assert result.exit_code != 0
    assert "批次“UG1999”不存在：请先创建" in result.output
    assert "文件被拒绝：1处错误；未导入任何数据" in result.output
    english = runner.invoke(args=["import-students", str(data)], env={"LANG": "C.UTF-8", "LANGUAGE": ""})
    assert "the file was refused: 1 error; nothing was imported" in english.output


def test_a_form_voided_by_a_reopen_tells_a_chinese_desk_why_in_chinese(client, complete, staff, desk):
    form = current(complete)
    token = clearance.token_for(form)
    with write_transaction():
        clearance.reopen_step(complete, step("DORM"), staff["DORM"], "Key not returned")
    log_in(client, desk)
    client.post("/language", data={"language": "zh_Hans", "next": "/desk"})
    page = words(client.get(f"/verify/{token}"))
    assert "离校事项“办理退宿手续”已退回：Key not returned" in page
    assert "step Check out of student housing reopened" not in page


def test_an_imported_library_hold_reads_in_the_students_language(client, make_student):
    student = make_student(must_change=False)
    with write_transaction():
        clearance.refresh_students([student.id])
        hold = clearance.NewHold(student.id, importing.LIBRARY_FEES_REASON, Decimal("12.50"))
        clearance.place_holds([hold], office("LIB"), None, HoldSource.IMPORT)
    log_in(client, student.account)
    assert "Library fees owed: ¥12.50" in words(client.get("/checklist"))
    client.post("/language", data={"language": "zh_Hans", "next": "/checklist"})
    page = words(client.get("/checklist"))
    assert "欠图书馆费用：¥12.50" in page or "欠图书馆费用: ¥12.50" in page
    assert '{"say"' not in page


def test_the_school_office_is_named_after_the_school_in_each_language(app, make_student):
    student = make_student()
    school_named(student.school.name).name_zh = "临床医学院"
    school_office = office("SCHOOL")
    assert clearance.office_twins(school_office, student) == ("School of Clinical Medicine office", "临床医学院办公室")
    with force_locale("zh_Hans"):
        assert clearance.office_title(school_office, student) == "临床医学院办公室"
        assert clearance.office_title(office("LIB")) == "图书馆"
