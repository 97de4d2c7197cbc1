"""Issue 4's journey: a student completes every step, prints the form; the desk scans it and hands over;
a reopened step voids an earlier print. Issue 9: the verdict, the name and the hand-over button are on screen
without scrolling at both widths; a typing mistake or a student ID is not a forgery; another school's desk is told
where to send the student. And the desk's round in English and in Chinese: scan the QR code, the verdict, the hand-over,
the serial typed again later: already handed over."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    ARTIFACTS,
    LANGUAGES,
    PHONE,
    assert_chinese,
    journey_screenshot,
    log_in,
    screenshot,
)
from tests.browser.test_clearance_journeys import first_login

STUDENT, INITIAL, PASSWORD = "1111210107", "748391", "kwame goes home 2026"

FORM_CODE = r'Code <span lang="zh-Hans">验证码</span>: <strong>([A-Z0-9]{4}-[A-Z0-9]{4})'  # as printed on the form


def clear_as_admin(page, base: str, office: str, student: str = STUDENT, name: str = "Kwame Mensah Asante") -> None:
    page.goto(f"{base}/staff/students/{student}?office={office}")
    page.get_by_role("button", name="Clear this step").click()
    expect(page.get_by_text(f"cleared for {name}")).to_be_visible()


def desk_on_a_phone(browser, base: str, username: str = "desk"):
    """A desk clerk working on a phone (375x812)."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    log_in(page, base, username, f"{username}-demo")
    return page


def scan(page, text: str) -> None:
    """What a scanner does: type into the box that has the focus, then Enter; nobody clicks the box first."""
    expect(page.locator("#scan-input")).to_be_focused()  # plain HTML autofocus, applied as the page renders
    with page.expect_navigation():
        page.keyboard.type(text)
        page.keyboard.press("Enter")


def on_screen(page, name: str, *more: str) -> None:
    """The verdict (and the name, the button...) inside the viewport as the page opened: nothing scrolled away.
    Saves what the clerk sees without scrolling, at this page's width."""
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    for locator in (page.locator(".verdict"), *(page.locator(selector) for selector in more)):
        expect(locator).to_be_visible()
        box = locator.bounding_box()
        inside = (
            box["y"] >= 0 and box["y"] + box["height"] <= height and box["x"] >= 0 and box["x"] + box["width"] <= width
        )
        assert inside, f"{name}: {locator} at {box} is outside the {width}x{height} viewport"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-{'phone' if width < 500 else 'desktop'}-viewport.png"))


NAME, BUTTON = ".desk-name", ".handover-form button"


def test_print_scan_hand_over_and_a_reopened_step_voids_an_earlier_print(live_server, phone, desktop, browser):
    first_login(phone, live_server, STUDENT, INITIAL, PASSWORD)
    with phone.expect_navigation():
        phone.get_by_role("button", name="Cancel my library card").click()
    yes = phone.get_by_role("button", name="Yes, cancel my library card")  # asked first (issue 9, item 11)
    if yes.count():
        with phone.expect_navigation():
            yes.click()
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
    on_screen(desktop, "desk-genuine", NAME, BUTTON)
    screenshot(desktop, "desk-genuine-desktop")
    desk_phone = desk_on_a_phone(browser, live_server)
    scan(desk_phone, scanned_url)
    expect(desk_phone.get_by_text("Genuine and current")).to_be_visible()
    on_screen(desk_phone, "desk-genuine", NAME, BUTTON)

    # Before the hand-over, the school reopens a step: the printout is void.
    admin = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(admin, live_server, "admin", "admin-demo")
    admin.goto(f"{live_server}/staff/students/{STUDENT}?office=CARD")
    admin.get_by_label("Reopen, with a reason").fill("Card balance refund not signed")
    with admin.expect_navigation():
        admin.get_by_role("button", name="Reopen").click()
    confirm_if_asked(admin)
    for page in (desktop, desk_phone):
        page.reload()
        expect(page.get_by_text("No longer valid")).to_be_visible()
        expect(page.get_by_text("Card balance refund not signed").first).to_be_visible()
        assert page.locator(BUTTON).count() == 0
        on_screen(page, "desk-void", NAME)
    screenshot(desktop, "desk-void-desktop")

    # Cleared again: a new serial; the old printout stays void, the new one is handed over.
    admin.get_by_role("button", name="Clear this step").click()
    phone.goto(live_server + "/form")
    new_serial = re.search(r"LS\d{4}-\d{6}", phone.content()).group()
    assert new_serial != serial
    code = re.search(FORM_CODE, phone.content()).group(1)
    desktop.goto(live_server + "/desk")
    desktop.get_by_label("Scan or type a form").fill(code.lower())
    desktop.keyboard.press("Enter")
    expect(desktop.get_by_text("Genuine and current")).to_be_visible()
    desktop.get_by_label("I have received the printed form and keep it").check()
    desktop.get_by_role("button", name=re.compile("Record the hand-over")).click()
    expect(desktop.get_by_text("handed over just now")).to_be_visible()
    on_screen(desktop, "desk-handed-over", NAME)
    screenshot(desktop, "desk-handed-over-desktop")

    desktop.goto(scanned_url)  # the first printout, scanned later
    expect(desktop.get_by_text("Already handed over")).to_be_visible()
    scan(desk_phone, scanned_url)
    expect(desk_phone.get_by_text("Already handed over")).to_be_visible()
    on_screen(desk_phone, "desk-already-handed-over", NAME)
    desk_phone.context.close()
    phone.goto(live_server + "/checklist")
    expect(phone.get_by_text("Certificates collected on")).to_be_visible()  # issue 9, item 10
    screenshot(phone, "checklist-handed-over-phone")


def confirm_if_asked(page) -> None:
    """Voiding a printed form may ask for a confirmation first (issue 9, item 4): give it."""
    confirm = page.get_by_role("button", name=re.compile(r"and void form|all the same"))
    if confirm.count():
        with page.expect_navigation():
            confirm.first.click()


def form_of(base: str, student_page) -> tuple[str, str]:
    """The serial and the 8-letter code printed on a student's form."""
    student_page.goto(base + "/form")
    html = student_page.content()
    serial = re.search(r"LS\d{4}-\d{6}", html).group()
    return serial, re.search(FORM_CODE, html).group(1)


OTHER = ("1414320208", "382710", "Ong Mei Ling", "School of Ophthalmology and Optometry")


def test_the_desk_sees_each_verdict_without_scrolling_and_a_typing_mistake_is_no_forgery(
    live_server, browser, desktop, phone
):
    student, initial, name, school = OTHER
    log_in(desktop, live_server, "admin", "admin-demo")
    for office in ("LIB", "DORM", "CARD", "INTL", "SCHOOL"):
        clear_as_admin(desktop, live_server, office, student, name)
    first_login(phone, live_server, student, initial, "ong mei ling leaves")
    serial, code = form_of(live_server, phone)
    desk_phone = desk_on_a_phone(browser, live_server)
    log_in(desktop, live_server, "desk", "desk-demo")

    for page in (desktop, desk_phone):
        # The serial as a clerk types it: lower case, no hyphen.
        scan(page, serial.lower().replace("-", ""))
        expect(page.get_by_text("Genuine and current")).to_be_visible()
        on_screen(page, "desk-typed-serial", NAME, BUTTON)
        # One wrong letter: a typing mistake, said so, with what was typed.
        wrong = code[:-1] + ("X" if code[-1] != "X" else "Y")
        scan(page, wrong)
        expect(page.get_by_text("Nothing matches what you typed — check it and type it again")).to_be_visible()
        expect(page.get_by_text(wrong)).to_be_visible()
        assert page.get_by_text("Not genuine").count() == 0 and page.get_by_text(name).count() == 0
        on_screen(page, "desk-nothing-matches")
        # A student ID instead of the form's code.
        scan(page, student)
        expect(
            page.get_by_text("That is a student ID: scan the QR code or type the code printed beside it")
        ).to_be_visible()
        on_screen(page, "desk-student-id")
        # A QR code whose signature fails: that alone is "not genuine".
        scan(page, f"{live_server}/verify/{serial}.forgedsignature")
        expect(page.get_by_text("Not genuine")).to_be_visible()
        expect(page.get_by_text("may be forged")).to_be_visible()
        on_screen(page, "desk-not-genuine")

    # The code typed in lower case with a space, on the phone; the hand-over recorded there.
    scan(desk_phone, code.lower().replace("-", " "))
    desk_phone.get_by_label("I have received the printed form and keep it").check()
    with desk_phone.expect_navigation():
        desk_phone.locator(BUTTON).click()
    expect(desk_phone.get_by_text("handed over just now")).to_be_visible()
    on_screen(desk_phone, "desk-handed-over", NAME)
    desk_phone.context.close()

    # Another school's desk keeps its scan box and names the student's school, nothing more.
    other_desk_phone = desk_on_a_phone(browser, live_server, "desk-clinical")
    log_in(desktop, live_server, "desk-clinical", "desk-clinical-demo")
    for page in (desktop, other_desk_phone):
        scan(page, code)
        expect(page.get_by_text("Another school's student")).to_be_visible()
        expect(page.get_by_text(f"send the student to the certificate desk of {school}")).to_be_visible()
        expect(page.get_by_text("Certificates for this student are handed over at:")).to_be_visible()
        assert page.get_by_text(name).count() == 0 and page.get_by_text(student).count() == 0
        on_screen(page, "desk-other-school")
        scan(page, "the box is still there")  # and focused: the next student is one scan away
        expect(page.get_by_text("Nothing matches what you typed")).to_be_visible()
    other_desk_phone.context.close()


def decode_qr(pdf_path) -> str:
    if not (shutil.which("pdftoppm") and shutil.which("zbarimg")):
        pytest.skip("poppler-utils or zbar-tools is not installed")
    subprocess.run(["pdftoppm", "-png", "-r", "110", str(pdf_path), str(ARTIFACTS / "form-pdf")], check=True)
    return subprocess.run(
        ["zbarimg", "-q", "--raw", str(ARTIFACTS / "form-pdf-1.png")], capture_output=True, text=True, check=True
    ).stdout.strip()


# student ID, initial password, name, Chinese name
DESK_STUDENTS = {
    "en": ("1414320201", "837465", "Rajesh Kumar Iyer", ""),
    "zh_Hans": ("1414320204", "273916", "Kim Min-jun", "金敏俊"),
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_desk_scans_a_printed_form_hands_over_and_a_later_scan_says_so(live_server, browser, desktop, lang, t):
    student, initial, name, name_zh = DESK_STUDENTS[lang]
    admin = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(admin, live_server, "admin", "admin-demo")
    for office in ("LIB", "DORM", "CARD", "INTL", "SCHOOL"):
        clear_as_admin(admin, live_server, office, student, name)
    admin.close()
    student_page = browser.new_page(viewport=PHONE)
    first_login(student_page, live_server, student, initial, f"{student} goes home")
    serial, _code = form_of(live_server, student_page)
    pdf = student_page.request.get(live_server + "/form.pdf")
    (ARTIFACTS / f"desk-{lang}-form.pdf").write_bytes(pdf.body())
    scanned_url = decode_qr(ARTIFACTS / f"desk-{lang}-form.pdf")
    student_page.close()

    # The desk, in its language (the switch on the login page): the scanner types the QR code's URL.
    page = desktop
    log_in(page, live_server, "desk", "desk-demo", lang=lang)
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Certificate desk"))
    journey_screenshot(page, "desk", lang, "01-scan")
    scan(page, scanned_url)
    expect(page.locator(".verdict-word")).to_contain_text(t("Genuine and current"))
    expect(page.locator(NAME)).to_contain_text(name)
    journey_screenshot(page, "desk", lang, "02-genuine")
    if lang == "zh_Hans":
        expect(page.locator(NAME)).to_contain_text(name_zh)
        assert_chinese(
            page,
            page.locator(".verdict"),
            page.locator(".handover-form"),
            page.locator(".desk-identity dt"),
            page.locator(".desk-facts dt"),
            page.locator(".desk-checklist h2"),
            page.locator(".desk-checklist .status"),
        )

    # The hand-over, recorded once against this printout.
    page.get_by_label(t("I have received the printed form and keep it")).check()
    with page.expect_navigation():
        page.get_by_role("button", name=t.pattern("Record the hand-over of: %(documents)s")).click()
    expect(page.locator(".verdict-word")).to_contain_text(t("Handed over"))
    expect(page.locator(".verdict")).to_contain_text(
        t.pattern("%(documents)s handed over just now, against form %(serial)s. Keep the printout.", serial=serial)
    )
    journey_screenshot(page, "desk", lang, "03-handed-over")

    # The same form, its serial typed by hand the next day: already handed over, when and by whom.
    scan(page, serial)
    expect(page.locator(".verdict-word")).to_contain_text(t("Already handed over"))
    expect(page.locator(".verdict")).to_contain_text(
        t.pattern("%(documents)s handed over on %(when)s by %(who)s, against form %(serial)s.", serial=serial)
    )
    assert page.locator(BUTTON).count() == 0
    journey_screenshot(page, "desk", lang, "04-already-handed-over")
    if lang == "zh_Hans":
        assert_chinese(page, page.locator(".verdict-word"), page.locator("label[for=scan-input]"))
