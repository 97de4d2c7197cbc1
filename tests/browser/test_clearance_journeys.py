"""Journeys of issue 3: a student cancels the library card; the library releases a fee hold and clears."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot


def first_login(page, base: str, student_id: str, initial: str, new_password: str) -> None:
    log_in(page, base, student_id, initial)
    page.get_by_label("Current password").fill(initial)
    page.get_by_label("New password", exact=True).fill(new_password)
    page.get_by_label("New password again").fill(new_password)
    page.get_by_role("button", name="Change password").click()


def test_a_student_who_owes_nothing_cancels_the_library_card(live_server, phone):
    first_login(phone, live_server, "1414320202", "827364", "hương leaves 2026")
    expect(phone.get_by_role("heading", name="Next: Cancel your library card")).to_be_visible()
    screenshot(phone, "checklist-before-cancel-phone")
    phone.get_by_role("button", name="Cancel my library card").click()
    expect(phone.get_by_role("heading", name="Cancel your library card?")).to_be_visible()  # asked first
    screenshot(phone, "checklist-cancel-confirm-phone")
    button = phone.get_by_role("button", name="Yes, cancel my library card")
    with phone.expect_navigation():
        button.dblclick()  # people double-click; the change happens once
    expect(phone.get_by_text("Done: Cancel your library card")).to_be_visible()
    assert phone.get_by_role("button", name="Cancel my library card").count() == 0
    expect(phone.get_by_text("2 of 6 cleared")).to_be_visible()
    expect(phone.get_by_role("heading", name="Next: Check out of student housing")).to_be_visible()
    screenshot(phone, "checklist-after-cancel-phone")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375


def test_the_library_releases_a_fee_hold_clears_the_step_and_the_student_sees_it(live_server, desktop, phone):
    # The student first: fees owed, no button, the amount and where to pay.
    first_login(phone, live_server, "1111210106", "372615", "okafor says goodbye")
    assert phone.get_by_role("button", name="Cancel my library card").count() == 0
    expect(phone.get_by_text("Library fees owed: ¥35.50").first).to_be_visible()
    screenshot(phone, "checklist-fees-owed-phone")

    log_in(desktop, live_server, "library", "library-demo")
    assert desktop.url.endswith("/staff/")
    screenshot(desktop, "office-queue-desktop")
    desktop.get_by_label("Student ID or name").fill("Okafor")
    desktop.get_by_role("button", name="Search").click()
    desktop.get_by_role("link", name="1111210106").click()
    screenshot(desktop, "student-record-desktop")
    desktop.get_by_label("Release, with a reason").fill("Paid ¥35.50 at the circulation desk, receipt 0042")
    desktop.get_by_role("button", name="Release").click()
    expect(desktop.get_by_text("Hold released.")).to_be_visible()
    desktop.get_by_role("button", name="Clear this step").click()
    expect(desktop.get_by_text("Cancel your library card cleared for Chukwuemeka Okafor.")).to_be_visible()
    screenshot(desktop, "student-record-after-clear-desktop")

    phone.reload()
    row = phone.locator("li.step", has_text="Cancel your library card")
    assert "Cleared" in row.inner_text() and "library" in row.inner_text().lower()
    screenshot(phone, "checklist-after-library-cleared-phone")
