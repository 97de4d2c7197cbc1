"""A student logs in with the passport digits, is made to change the password, and sees the checklist."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot


def test_first_login_forces_a_change_then_shows_the_checklist(live_server, phone, desktop):
    page = phone
    page.goto(live_server + "/login")
    screenshot(page, "login-phone")
    # A wrong password first, as people do.
    log_in(page, live_server, "1111210101", "123456")
    assert page.get_by_role("alert").inner_text().startswith("The student ID (or user name) or the password")
    log_in(page, live_server, "1111210101", "817263")
    assert page.url.endswith("/password")
    expect(page.get_by_text("choose your own password")).to_be_visible()
    screenshot(page, "forced-change-phone")
    page.get_by_label("Current password").fill("817263")
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("New password again").fill("short")
    page.get_by_role("button", name="Change password").click()
    assert "at least 8 characters" in page.get_by_role("alert").first.inner_text()
    page.get_by_label("Current password").fill("817263")
    page.get_by_label("New password", exact=True).fill("leaving wenzhou 2026")
    page.get_by_label("New password again").fill("leaving wenzhou 2026")
    page.get_by_role("button", name="Change password").click()
    assert page.url.endswith("/checklist")
    expect(page.get_by_text("Your password has been changed")).to_be_visible()
    expect(page.get_by_role("heading", name="Arjun Raghavan")).to_be_visible()
    expect(page.get_by_role("heading", name="Cancel your library card 注销借书证", exact=True)).to_be_visible()
    screenshot(page, "checklist-phone")
    # No horizontal scrolling on a 375-pixel phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    log_in(desktop, live_server, "1111210101", "leaving wenzhou 2026")
    assert desktop.url.endswith("/checklist")
    screenshot(desktop, "checklist-desktop")
    desktop.goto(live_server + "/login")
    screenshot(desktop, "login-desktop-logged-in-redirect")


def test_login_and_change_pages_at_desktop_width(live_server, desktop):
    desktop.goto(live_server + "/login")
    screenshot(desktop, "login-desktop")
    log_in(desktop, live_server, "1111210103", "293847")
    assert desktop.url.endswith("/password")
    screenshot(desktop, "forced-change-desktop")
