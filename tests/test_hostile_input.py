"""Hostile input (issue 11, cases 9-14): every bad input gets a clear message, never a 500, and loses nothing.

Control characters in a `next=` redirect, dates and numbers out of range in filters, hidden
characters in names and reasons, formula characters in exports, the import preview that kept the
file in the admin's browser, non-canonical form tokens, and another school's names in the bulk-clear
preview.
"""

from __future__ import annotations

import io
import os
import re
import stat
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

import clearance
import exporting
import reading
import uploads
from database import db, write_transaction
from models import Account, AuditEvent, Cohort, Hold, Role, Student
from tests import test_form
from tests.conftest import log_in, office
from tests.test_form import current
from views.access import safe_next

complete, staff, desk = test_form.complete, test_form.staff, test_form.desk

IMPORT_HEADER = "student_id,name,passport_no,cohort,school\n"
IMPORT_ROW = "1111210101,Arjun Raghavan,E 1234-5678,UG2011,School of Clinical Medicine\n"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- 9. A control character in next= ----------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    ["/account\r\nSet-Cookie: x=1", "/account\n", "/\t/evil.example", "/\n/evil.example", "/a\u2028b", "/a\u202eb"],
)
def test_safe_next_refuses_control_and_separator_characters(target):
    assert safe_next(target) is None


def test_safe_next_keeps_an_ordinary_path():
    assert safe_next("/staff/?q=Arjun Raghavan&page=2") == "/staff/?q=Arjun Raghavan&page=2"
    assert safe_next("/staff/?q=阮氏香") == "/staff/?q=阮氏香"


@pytest.mark.parametrize("target", ["/account%0D%0ASet-Cookie:%20x=1", "/%09/evil.example", "/account%0A"])
def test_a_line_break_in_next_still_logs_in_and_lands_at_home(client, make_account, target):
    make_account("library", password="library-password")
    response = client.post(f"/login?next={target}", data={"username": "library", "password": "library-password"})
    assert response.status_code == 302 and response.headers["Location"] == "/staff/"
    assert "\n" not in response.headers["Location"] and client.get("/account").status_code == 200


def test_a_line_break_in_next_still_clears_and_returns_to_the_record(client, make_student, make_account):
    student = make_student(must_change=False)
    library = make_account("library", office_code="LIB")
    with write_transaction():
        clearance.refresh_students([student.id])
    step = office("LIB").steps[0]
    log_in(client, library)
    response = client.post(
        f"/staff/students/{student.student_id}/steps/{step.id}/clear", data={"next": "/staff/\r\nX-Evil: 1"}
    )
    assert response.status_code == 302 and response.headers["Location"] == f"/staff/students/{student.student_id}"
    assert clearance.step_view(db.session.get(Student, student.id), step).shown == "cleared"


# --- 10. Dates and numbers out of range in filters --------------------------------------------------


@pytest.mark.parametrize(
    "query, message",
    [
        ({"to": "9999-12-31"}, "9999-12-31 is out of range: choose a day between 1970-01-01 and 2999-12-31."),
        ({"from": "0001-01-01"}, "0001-01-01 is out of range: choose a day between 1970-01-01 and 2999-12-31."),
        ({"from": "2026-13-01"}, "is not a date"),
    ],
)
def test_a_date_out_of_range_in_the_audit_log_is_a_message(admin_client, query, message):
    response = admin_client.get("/admin/audit", query_string=query)
    assert response.status_code == 200 and message in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "url",
    [
        "/admin/audit?page=999999999",
        "/admin/audit?page=99999999999999999999999",
        "/admin/statistics?cohort=99999999999999999999999",
        "/admin/export.csv?scope=cohort&id=99999999999999999999999",
        "/staff/?office=99999999999999999999&step=99999999999999999999&page=99999999999999999999&cohort=-1",
        "/admin/steps/new?office=99999999999999999999999",
    ],
)
def test_numbers_out_of_range_in_a_query_are_never_a_server_error(admin_client, make_student, url):
    make_student()
    assert admin_client.get(url).status_code in (200, 302, 404)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_day_out_of_range_typed_into_an_admin_form_is_a_field_error(admin_client, make_student, day):
    student = make_student(must_change=False)
    extend = {"student_id": student.student_id, "day": day, "reason": "Late thesis"}
    page = admin_client.post("/admin/cohorts/extend", data=extend, follow_redirects=True).get_data(as_text=True)
    assert f"{day} is out of range" in page and db.session.get(Student, student.id).window_extension_reason == ""
    cohort = {"code": "X1", "name_en": "X", "kind": "degree", "opens_on": "2026-06-01", "closes_on": day}
    page = admin_client.post("/admin/cohorts/new", data=cohort).get_data(as_text=True)
    assert f"{day} is out of range" in page and count(Cohort) == 1


# --- 11. Hidden characters in names and reasons, formula characters in exports ----------------------


def test_the_hidden_characters_rule():
    assert reading.hidden_characters("Arjun\u202eRaghavan\u200b") == ["U+202E", "U+200B"]
    assert reading.hidden_characters("a\tb\nc", multiline=True) == []
    assert reading.hidden_characters("a\tb") == ["U+0009"]
    assert reading.hidden_characters("می\u200cخواهم") == []  # the Persian zero-width non-joiner is spelling
    assert reading.without_hidden("Over\u202edue\tbooks\u2066") == "Overdue books"
    assert reading.without_hidden("one\r\ntwo\u202e", multiline=True) == "one\r\ntwo"


def upload_import(client, text: str):
    data = {"file": (io.BytesIO(text.encode()), "students.csv"), "encoding": "utf-8"}
    return client.post("/admin/import", data=data, content_type="multipart/form-data")


def test_a_name_with_a_bidirectional_override_is_refused_at_import_with_its_line(admin_client, make_cohort):
    make_cohort()
    hostile = "1111210102,\u202eRaghavan Arjun,E 1234-5679,UG2011,School of Clinical Medicine\n"
    page = upload_import(admin_client, IMPORT_HEADER + IMPORT_ROW + hostile).get_data(as_text=True)
    assert "Line 3:" in page and "name holds control characters (U+202E)" in page
    assert "/admin/import/confirm" not in page and count(Student) == 0


def test_a_hold_list_reason_with_a_hidden_character_is_refused_with_its_line(client, make_student, make_account):
    make_student(must_change=False)
    log_in(client, make_account("library", office_code="LIB"))
    text = "student_id,amount,reason\n1111210101,5,Overdue\u2067 books\n"
    data = {"stage": "preview", "encoding": "utf-8", "file": (io.BytesIO(text.encode()), "holds.csv")}
    page = client.post("/staff/holds/upload", data=data, content_type="multipart/form-data").get_data(as_text=True)
    assert "Line 2" in page and "reason holds control characters (U+2067)" in page
    assert 'value="confirm"' not in page and count(Hold) == 0


def test_a_reason_typed_with_a_hidden_character_is_stored_without_it(client, make_student, make_account):
    student = make_student(must_change=False)
    log_in(client, make_account("library", office_code="LIB"))
    step = office("LIB").steps[0]
    url = f"/staff/students/{student.student_id}/steps/{step.id}/block"
    client.post(url, data={"reason": "Books \u202edeuvo\u202c not returned\x07"})
    client.post(f"/staff/students/{student.student_id}/holds", data={"reason": "Key\u200b lost", "amount": ""})
    block = db.session.scalar(select(AuditEvent.reason).where(AuditEvent.action == "step.blocked"))
    assert block == "Books deuvo not returned"
    assert db.session.scalar(select(Hold.reason)) == "Key lost"


def test_an_admin_form_name_loses_hidden_characters(admin_client):
    data = {"username": "lib2", "display_name": "Li\u202eb\u2066", "role": "staff", "school_id": 0}
    admin_client.post("/admin/accounts/new", data={**data, "office_id": office("LIB").id})
    assert db.session.scalar(select(Account.display_name).where(Account.username == "lib2")) == "Lib"


@pytest.mark.parametrize("start", ["＝", "＋", "－", "＠", "﹦"])
def test_fullwidth_formula_characters_are_neutralised_like_their_ascii_twins(start):
    assert exporting.neutralise(f'{start}HYPERLINK("http://evil.example")').startswith("'")


def test_the_export_neutralises_a_fullwidth_formula_in_a_name(admin_client, make_student):
    make_student(name="＝1+1")
    body = admin_client.get("/admin/export.csv").get_data(as_text=True)
    assert "'＝1+1" in body


# --- 12. The import preview keeps the file on the server ------------------------------------------


def kept_fields(page: str) -> dict[str, str]:
    form = re.search(r'<form method="post" action="/admin/import/confirm">.*?</form>', page, re.S).group(0)
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))
    fields.pop("csrf_token", None)
    return fields


def kept_files(app) -> list[Path]:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return sorted(folder.iterdir()) if folder.exists() else []


def test_the_preview_sends_only_a_name_and_a_seal_and_the_file_stays_on_the_server(app, admin_client, make_cohort):
    make_cohort()
    page = upload_import(admin_client, IMPORT_HEADER + IMPORT_ROW).get_data(as_text=True)
    fields = kept_fields(page)
    assert set(fields) == {"upload", "seal", "encoding"} and "E 1234-5678" not in page
    [kept] = kept_files(app)
    assert kept.name == fields["upload"] and kept.read_bytes() == (IMPORT_HEADER + IMPORT_ROW).encode()
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600 and stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
    done = admin_client.post("/admin/import/confirm", data=fields)
    assert "1 student added" in done.get_data(as_text=True) and count(Student) == 1
    assert kept_files(app) == []  # deleted on confirm
    again = admin_client.post("/admin/import/confirm", data=fields)  # the back button, a double click
    assert again.status_code == 400 and "already confirmed: upload the file again" in again.get_data(as_text=True)
    assert count(Student) == 1


@pytest.mark.parametrize(
    "tamper",
    [
        {"seal": "0" * 64},
        {"upload": "../../config.py"},
        {"upload": "0" * 32},
        {"encoding": "gb18030"},  # the seal binds the encoding the preview read it with
    ],
)
def test_a_tampered_name_or_seal_is_refused_and_imports_nothing(app, admin_client, make_cohort, tamper):
    make_cohort()
    fields = kept_fields(upload_import(admin_client, IMPORT_HEADER + IMPORT_ROW).get_data(as_text=True))
    done = admin_client.post("/admin/import/confirm", data={**fields, **tamper})
    assert done.status_code == 400 and "Nothing was imported" in done.get_data(as_text=True)
    assert count(Student) == 0


def test_another_admins_preview_cannot_be_confirmed(app, client, make_account, make_cohort):
    make_cohort()
    first, second = (make_account(name, role=Role.ADMIN, office_code=None) for name in ("admin", "admin2"))
    log_in(client, first)
    fields = kept_fields(upload_import(client, IMPORT_HEADER + IMPORT_ROW).get_data(as_text=True))
    log_in(client, second)
    assert client.post("/admin/import/confirm", data=fields).status_code == 400 and count(Student) == 0


def test_an_upload_nobody_confirmed_is_deleted_an_hour_later_when_the_next_is_stored(app, admin_client, make_cohort):
    make_cohort()
    upload_import(admin_client, IMPORT_HEADER + IMPORT_ROW)
    [old] = kept_files(app)
    an_hour_ago = time.time() - uploads.LIFETIME_SECONDS - 1
    os.utime(old, (an_hour_ago, an_hour_ago))
    upload_import(admin_client, IMPORT_HEADER + IMPORT_ROW)
    assert old not in kept_files(app) and len(kept_files(app)) == 1


def test_the_hold_list_stays_on_the_server_too(app, client, make_student, make_account):
    make_student(must_change=False)
    log_in(client, make_account("library", office_code="LIB"))
    text = "student_id,amount,reason\n1111210101,5,Overdue books\n"
    data = {"stage": "preview", "encoding": "utf-8", "file": (io.BytesIO(text.encode()), "holds.csv")}
    page = client.post("/staff/holds/upload", data=data, content_type="multipart/form-data").get_data(as_text=True)
    form = re.search(r'<form [^>]*class="confirm-form">.*?</form>', page, re.S).group(0)
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))
    assert set(fields) == {"csrf_token", "stage", "upload", "seal", "encoding", "filename"}
    assert client.post("/staff/holds/upload", data={**fields, "seal": "0" * 64}).status_code == 200
    assert count(Hold) == 0  # a tampered seal: "the file was refused, nothing was placed"
    assert client.post("/staff/holds/upload", data=fields).status_code == 302 and count(Hold) == 1
    assert kept_files(app) == []


# --- 13. Form tokens are decoded strictly ------------------------------------------------------------


def test_a_token_with_padding_or_other_non_canonical_base64_is_not_genuine(client, complete, desk):
    token = clearance.token_for(current(complete))
    assert clearance.form_for_token(token) == current(complete)
    serial, signature = token.rsplit(".", 1)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    low_bits = alphabet[alphabet.index(signature[-1]) ^ 1]  # the last character's unused low bits
    for forged in (token + "=", token + "==", f"{serial}.{signature[:-1]}{low_bits}"):
        assert clearance.form_for_token(forged) is None
    log_in(client, desk)
    page = client.get(f"/verify/{token}=").get_data(as_text=True)
    assert "Not genuine" in page and "Nguyễn Thị Hương" not in page


# --- 14. Another school's names never reach a school-limited office --------------------------------


def test_the_bulk_clear_preview_shows_another_schools_student_by_id_only(client, make_student, make_account):
    make_student(must_change=False)
    make_student("1111210104", name="Wanjiru Kamau", school="School of Nursing", must_change=False)
    log_in(client, make_account("clinical", office_code="SCHOOL", school="School of Clinical Medicine"))
    for stage in ("preview", "confirm"):
        page = client.post("/staff/bulk-clear", data={"ids": "1111210101 1111210104", "stage": stage})
        text = page.get_data(as_text=True)
        assert "1111210104" in text and "not a student of your school" in text
        assert "Wanjiru" not in text and "Kamau" not in text
    page = client.get("/staff/counter?id=1111210104").get_data(as_text=True)
    assert "1111210104 is not a student of your school" in page and "Wanjiru" not in page
    text = "student_id,amount,reason\n1111210104,5,Overdue books\n1111210104,5,Overdue books\n"
    data = {"stage": "preview", "encoding": "utf-8", "file": (io.BytesIO(text.encode()), "holds.csv")}
    page = client.post("/staff/holds/upload", data=data, content_type="multipart/form-data").get_data(as_text=True)
    assert "1111210104 is not a student of your school" in page and "Wanjiru" not in page
