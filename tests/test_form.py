"""The Form for Leaving School: gating, content, PDF, QR code, voiding (the desk itself: test_desk.py)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

import clearance
from database import db, write_transaction
from models import FormVersion, Role
from tests.conftest import audit_count, log_in, make_cohort_step, office

STANDARD = ("LIB", "DORM", "FIN", "CARD", "INTL", "SCHOOL")


def step(code):
    return office(code).steps[0]


@pytest.fixture
def staff(make_account):
    return {code: make_account(code.lower(), office_code=code, display_name=f"{code} counter") for code in STANDARD}


@pytest.fixture
def complete(make_student, staff):
    """A student with every step cleared: the library card by the student, the rest by the offices."""
    student = make_student(
        must_change=False,
        name="Nguyễn Thị Hương",
        name_zh="阮氏香",
        nationality="Vietnam",
        programme="MSc Pharmacology",
    )
    with write_transaction():
        clearance.refresh_students([student.id])
        clearance.clear_step(student, step("LIB"), student.account)
        for code in ("DORM", "CARD", "INTL", "SCHOOL"):
            clearance.clear_step(student, step(code), staff[code])
    return student


@pytest.fixture
def desk(make_account):
    return make_account("desk", role=Role.DESK, office_code=None, display_name="Certificate desk")


def current(student) -> FormVersion:
    return clearance.current_form(student)


def pdf_of(client) -> bytes:
    response = client.get("/form.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return response.data


# --- Gating ------------------------------------------------------------------------------


def test_an_incomplete_student_cannot_print_and_learns_what_is_missing(client, make_student):
    student = make_student(must_change=False)
    log_in(client, student.account)
    for path in ("/form", "/form.pdf"):
        response = client.get(path)
        page = response.get_data(as_text=True)
        assert response.status_code == 403 and "not ready" in page and "Check out of student housing" in page
    assert "Print the Form" not in client.get("/checklist").get_data(as_text=True)
    assert audit_count("form.printed") == 0


def test_a_complete_student_is_offered_the_form(client, complete):
    log_in(client, complete.account)
    page = client.get("/checklist").get_data(as_text=True)
    assert "Print the Form for Leaving School" in page and current(complete).serial in page


def test_staff_and_desk_cannot_open_a_students_form_url(client, complete, staff, desk):
    for account in (staff["LIB"], desk):
        log_in(client, account)
        assert client.get("/form").status_code == 403


# --- Content ------------------------------------------------------------------------------


def test_the_html_form_holds_everything_the_desk_needs(client, complete):
    log_in(client, complete.account)
    html = client.get("/form").get_data(as_text=True)
    assert '<span lang="zh-Hans">离校单</span>' in html  # the Chinese parts say they are Chinese
    page = re.sub(r"<[^>]+>", "", html)  # the text a reader sees
    form = current(complete)
    for text in (
        "Wenzhou Medical University",
        "温州医科大学",
        "离校单",
        "1111210101",
        "Nguyễn Thị Hương",
        "阮氏香",
        "MSc Pharmacology",
        "Vietnam",
        form.serial,
        clearance.display_code(form),
        "student 本人",
        "system 系统",
        "DORM counter",
        "Graduation certificate and degree certificate",
        "2026-06-30",
        "School stamp",
    ):
        assert text in page, text
    assert "data:image/svg+xml" in html
    assert audit_count("form.printed") == 1


def test_the_pdf_text_holds_name_id_every_step_and_the_serial(client, complete):
    log_in(client, complete.account)
    reader = PdfReader(io.BytesIO(pdf_of(client)))
    assert len(reader.pages) == 1
    text = " ".join(reader.pages[0].extract_text().split())  # table cells wrap long titles
    for expected in (
        "Nguyễn Thị Hương",
        "阮氏香",
        "1111210101",
        current(complete).serial,
        "离校单",
        *(view.step.title_en for view in clearance.checklist(complete)),
    ):
        assert expected in text, expected
    assert reader.pages[0].mediabox.width == pytest.approx(595.27, abs=1)  # A4


def test_the_pdf_embeds_every_font(client, complete, tmp_path):
    if not shutil.which("pdffonts"):
        pytest.skip("poppler-utils is not installed")
    log_in(client, complete.account)
    path = tmp_path / "form.pdf"
    path.write_bytes(pdf_of(client))
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows and all(" yes " in row for row in rows), fonts


def test_the_qr_code_in_the_pdf_decodes_to_the_verify_url(client, complete, tmp_path):
    if not (shutil.which("pdftoppm") and shutil.which("zbarimg")):
        pytest.skip("poppler-utils or zbar-tools is not installed")
    log_in(client, complete.account)
    (tmp_path / "form.pdf").write_bytes(pdf_of(client))
    subprocess.run(["pdftoppm", "-png", "-r", "150", str(tmp_path / "form.pdf"), str(tmp_path / "page")], check=True)
    decoded = subprocess.run(
        ["zbarimg", "-q", "--raw", str(tmp_path / "page-1.png")], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert decoded == "https://leaving.example.edu/verify/" + clearance.token_for(current(complete))


@pytest.mark.parametrize(
    "name",
    ["Zoë Müller", "Łukasz Wójcik", "Δημήτρης Παπαδόπουλος", "Дмитрий Волков", "김민준", "たなか ゆき", "王美玲"],
)
def test_names_in_every_supported_script_survive_into_the_pdf(client, complete, name):
    complete.name = name
    db.session.commit()
    log_in(client, complete.account)
    assert name in PdfReader(io.BytesIO(pdf_of(client))).pages[0].extract_text()


def test_a_second_name_in_a_script_the_font_lacks_is_left_out(client, complete):
    complete.name_zh = "محمد"
    db.session.commit()
    log_in(client, complete.account)
    text = PdfReader(io.BytesIO(pdf_of(client))).pages[0].extract_text()
    assert "Nguyễn Thị Hương" in text and "محمد" not in text


# --- Versions --------------------------------------------------------------------------


def test_printing_again_without_a_change_keeps_the_serial(client, complete):
    log_in(client, complete.account)
    first = re.search(r"LS2026-\d+", client.get("/form").get_data(as_text=True)).group()
    pdf_of(client)
    assert re.search(r"LS2026-\d+", client.get("/form").get_data(as_text=True)).group() == first
    assert db.session.scalar(select(func.count()).select_from(FormVersion)) == 1


@pytest.mark.parametrize("change", ["reopen", "hold", "new step"])
def test_a_change_voids_the_printed_form(client, complete, staff, desk, change):
    printed = current(complete)
    token = clearance.token_for(printed)
    with write_transaction():
        if change == "reopen":
            clearance.reopen_step(complete, step("CARD"), staff["CARD"], "Card found unreturned")
        elif change == "hold":
            clearance.place_hold(complete, office("LIB"), staff["LIB"], "Overdue book", Decimal(15))
        else:
            make_cohort_step(office("INTL"), "Exit survey", [], commit=False)
            clearance.recheck_forms([complete.id], None, "step Exit survey added")
    log_in(client, desk)
    page = client.get(f"/verify/{token}").get_data(as_text=True)
    assert "No longer valid" in page and "Genuine and current" not in page
