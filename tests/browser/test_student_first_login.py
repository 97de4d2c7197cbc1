"""A student's whole journey on a 375-pixel phone, in English and in Chinese (chosen with the switch on the login
page): the passport digits, a forced change of password, the checklist, the library card cancelled by the student,
the offices' steps cleared, the form printed as HTML and downloaded as a PDF. A screenshot of every step, named
student-<language>-375-<step>."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    ARTIFACTS,
    DESKTOP,
    LANGUAGES,
    assert_chinese,
    journey_screenshot,
    log_in,
    screenshot,
)

# student ID, initial password (the passport's last 6 digits), name, the password they choose
STUDENTS = {
    "en": ("1111210101", "817263", "Arjun Raghavan", "leaving wenzhou 2026"),
    "zh_Hans": ("1111210113", "364821", "Jessica Tanoto", "陈洁 leaves wenzhou"),
}
CHOOSE_YOUR_OWN = (
    "Before you go on, choose your own password. "
    "The password you logged in with is easy to guess or was given to you by someone else."
)
CARD_STEP = {"en": "Cancel your library card", "zh_Hans": "注销借书证"}  # the step, in the reader's language
OFFICES_LEFT = ("DORM", "CARD", "INTL", "SCHOOL")  # the library card is the student's; finance clears itself


def clear_as_admin(browser, base: str, student: str) -> None:
    """The offices do their part (as the admin, in English: not what this journey is about)."""
    context = browser.new_context(viewport=DESKTOP)
    admin = context.new_page()
    log_in(admin, base, "admin", "admin-demo")
    for office in OFFICES_LEFT:
        admin.goto(f"{base}/staff/students/{student}?office={office}")
        with admin.expect_navigation():
            admin.get_by_role("button", name="Clear this step").click()
    context.close()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_student_goes_from_the_passport_digits_to_the_printed_form(live_server, browser, phone, desktop, lang, t):
    student, initial, name, chosen = STUDENTS[lang]
    page, base = phone, live_server

    def shot(step: str) -> None:
        journey_screenshot(page, "student", lang, step)
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 375, f"{step}: wider than the phone"

    # A wrong password first, as people do; the language chosen on the login page stays.
    log_in(page, base, student, "123456", lang=lang)
    expect(page.get_by_role("alert")).to_have_text(
        t("The student ID (or user name) or the password is not right. Check both and try again.")
    )
    shot("01-login-wrong-password")
    log_in(page, base, student, initial, lang=lang)
    assert page.url.endswith("/password")
    expect(page.get_by_text(t(CHOOSE_YOUR_OWN))).to_be_visible()
    shot("02-forced-change")
    page.get_by_label(t("Current password")).fill(initial)
    page.get_by_label(t("New password"), exact=True).fill("short")
    page.get_by_label(t("New password again")).fill("short")
    page.get_by_role("button", name=t("Change password")).click()
    expect(page.get_by_role("alert").first).to_be_visible()
    shot("03-password-too-short")
    page.get_by_label(t("Current password")).fill(initial)
    page.get_by_label(t("New password"), exact=True).fill(chosen)
    page.get_by_label(t("New password again")).fill(chosen)
    page.get_by_role("button", name=t("Change password")).click()
    assert page.url.endswith("/checklist")
    expect(page.get_by_text(t("Your password has been changed."))).to_be_visible()

    # The checklist: who, how far, what next; the library card first, in the reader's language first.
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.locator("#progress-label")).to_have_text(t("%(done)d of %(total)d cleared", done=1, total=6))
    card_title = "注销借书证 Cancel your library card" if lang == "zh_Hans" else "Cancel your library card 注销借书证"
    expect(page.get_by_role("heading", name=card_title, exact=True)).to_be_visible()
    expect(page.locator("#next-heading")).to_contain_text(t("Next: %(step)s", step="").strip())
    shot("04-checklist")
    if lang == "zh_Hans":
        assert_chinese(
            page,
            page.locator("#progress-label"),
            page.locator("#next-heading"),
            page.locator("#steps-heading"),
            page.locator(".self-service"),
            page.locator("li.step .status"),
            page.locator("header nav"),
            allowed=(name,),
        )

    # The library card: asked first, then done by the student.
    page.get_by_role("button", name=t("Cancel my library card")).click()
    expect(page.get_by_role("heading", name=t("Cancel your library card?"))).to_be_visible()
    shot("05-library-card-confirm")
    with page.expect_navigation():
        page.get_by_role("button", name=t("Yes, cancel my library card")).click()
    expect(page.get_by_role("status").first).to_have_text(t("Done: %(step)s.", step=CARD_STEP[lang]))
    expect(page.locator("#progress-label")).to_have_text(t("%(done)d of %(total)d cleared", done=2, total=6))
    assert page.get_by_role("button", name=t("Cancel my library card")).count() == 0
    shot("06-library-card-done")

    clear_as_admin(browser, base, student)
    page.reload()
    expect(page.locator("#progress-label")).to_have_text(t("%(done)d of %(total)d cleared", done=6, total=6))
    expect(page.get_by_role("heading", name=t("Everything is cleared"))).to_be_visible()
    expect(page.get_by_role("link", name=t("Download PDF"))).to_be_visible()
    shot("07-everything-cleared")
    if lang == "zh_Hans":
        assert_chinese(page, page.locator(".next-done"), page.locator("li.step .status"))

    # The form: the print view, then the PDF as the browser downloads it.
    with page.expect_navigation():
        page.get_by_role("link", name=t("Print the Form for Leaving School")).click()
    serial = re.search(r"LS\d{4}-\d{6}", page.content()).group()
    expect(page.get_by_text(name).first).to_be_visible()
    shot("08-form")
    pdf = page.request.get(base + "/form.pdf")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF-")
    (ARTIFACTS / f"student-{lang}-form.pdf").write_bytes(pdf.body())
    page.goto(base + "/checklist")
    expect(page.get_by_text(serial).first).to_be_visible()  # printing again keeps the serial

    # The same student at a desk: the new password, the language remembered, the login page leads back.
    log_in(desktop, base, student, chosen, lang=lang)
    assert desktop.url.endswith("/checklist")
    journey_screenshot(desktop, "student", lang, "09-checklist")
    desktop.goto(base + "/login")
    assert desktop.url.endswith("/checklist")


def test_the_login_and_password_pages_at_desktop_width(live_server, desktop):
    desktop.goto(live_server + "/login")
    screenshot(desktop, "login-desktop")
    log_in(desktop, live_server, "1111210103", "293847")
    assert desktop.url.endswith("/password")
    screenshot(desktop, "forced-change-desktop")
