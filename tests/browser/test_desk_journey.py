"""Issue 4's journey: a student completes every step, prints the form; the desk scans it and hands over;
a reopened step voids an earlier print."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, log_in, screenshot
from tests.browser.test_clearance_journeys import first_login

STUDENT, INITIAL, PASSWORD = "1111210107", "748391", "kwame goes home 2026"


def clear_as_admin(page, base: str, office: str) -> None:
    page.goto(f"{base}/staff/students/{STUDENT}?office={office}")
    page.get_by_role("button", name="Clear this step").click()
    expect(page.get_by_text("cleared for Kwame Mensah Asante")).to_be_visible()


def test_print_scan_hand_over_and_a_reopened_step_voids_an_earlier_print(live_server, phone, desktop, browser):
    first_login(phone, live_server, STUDENT, INITIAL, PASSWORD)
    with phone.expect_navigation():
        phone.get_by_role("button", name="Cancel my library card").click()
    log_in(desktop, live_server, "admin", "admin-demo")
    for office in ("DORM", "CARD", "INTL", "SCHOOL"):
        clear_as_admin(desktop, live_server, office)

    phone.reload()
    expect(phone.get_by_text("6 of 6 cleared")).to_be_visible()
    screenshot(phone, "checklist-complete-phone")
    with phone.expect_navigation():
        phone.get_by_role("link", name="Print the Form for Leaving School").click()
    serial = re.search(r"LS\d{4}-\d{6}", phone.content()).group()
    screenshot(phone, "form-html-phone")
    form_page = browser.new_page(viewport={"width": 1000, "height": 1400})
    first_context_cookies = phone.context.cookies()
    form_page.context.add_cookies(first_context_cookies)
    form_page.goto(live_server + "/form")
    screenshot(form_page, "form-html-desktop")
    form_page.emulate_media(media="print")
    form_page.pdf(path=str(ARTIFACTS / "form-printed-by-chromium.pdf"), format="A4")
    pdf = phone.context.request.get(live_server + "/form.pdf")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    (ARTIFACTS / "form.pdf").write_bytes(pdf.body())
    scanned_url = decode_qr(ARTIFACTS / "form.pdf")

    # The desk scans: the scanner types the URL and presses Enter.
    log_in(desktop, live_server, "desk", "desk-demo")
    desktop.get_by_label("Scan or type a form").fill(scanned_url)
    desktop.keyboard.press("Enter")
    expect(desktop.get_by_text("Genuine and current")).to_be_visible()
    expect(desktop.get_by_text(serial).first).to_be_visible()
    screenshot(desktop, "desk-genuine-desktop")

    # Before the hand-over, the school reopens a step: the printout is void.
    admin = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(admin, live_server, "admin", "admin-demo")
    admin.goto(f"{live_server}/staff/students/{STUDENT}?office=CARD")
    admin.get_by_label("Reopen, with a reason").fill("Card balance refund not signed")
    admin.get_by_role("button", name="Reopen").click()
    desktop.reload()
    expect(desktop.get_by_text("No longer valid")).to_be_visible()
    expect(desktop.get_by_text("Card balance refund not signed").first).to_be_visible()
    screenshot(desktop, "desk-void-desktop")

    # Cleared again: a new serial; the old printout stays void, the new one is handed over.
    admin.get_by_role("button", name="Clear this step").click()
    phone.goto(live_server + "/form")
    new_serial = re.search(r"LS\d{4}-\d{6}", phone.content()).group()
    assert new_serial != serial
    code = re.search(r"Code 验证码: <strong>([A-Z0-9]{4}-[A-Z0-9]{4})", phone.content()).group(1)
    desktop.goto(live_server + "/desk")
    desktop.get_by_label("Scan or type a form").fill(code.lower())
    desktop.keyboard.press("Enter")
    expect(desktop.get_by_text("Genuine and current")).to_be_visible()
    desktop.get_by_label("I have received the printed form and keep it").check()
    desktop.get_by_role("button", name=re.compile("Record the hand-over")).click()
    expect(desktop.get_by_text("handed over just now")).to_be_visible()
    screenshot(desktop, "desk-handed-over-desktop")

    desktop.goto(scanned_url)  # the first printout, scanned later
    expect(desktop.get_by_text("Already handed over")).to_be_visible()
    phone.goto(live_server + "/checklist")
    expect(phone.get_by_text("Certificates handed over on")).to_be_visible()
    screenshot(phone, "checklist-handed-over-phone")


def decode_qr(pdf_path) -> str:
    if not (shutil.which("pdftoppm") and shutil.which("zbarimg")):
        pytest.skip("poppler-utils or zbar-tools is not installed")
    subprocess.run(["pdftoppm", "-png", "-r", "110", str(pdf_path), str(ARTIFACTS / "form-pdf")], check=True)
    return subprocess.run(
        ["zbarimg", "-q", "--raw", str(ARTIFACTS / "form-pdf-1.png")], capture_output=True, text=True, check=True
    ).stdout.strip()
