"""Issue 5's journeys: an admin imports a CSV after fixing its one bad line; an office clears a pasted list;
the counter clears by scanner."""

from __future__ import annotations

import re
from datetime import date, timedelta

from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, log_in, screenshot

HEADER = "student_id,name,passport_no,cohort,school,name_zh,library_fees_owed\r\n"
ROWS = (
    "3011000001,Amara Nwosu,A 1122-3344,UG2012,School of Nursing,,\r\n"
    "3011000002,Chen Jia Hui,K7788990,UG2012,School of Nursing,陈佳慧,18.00\r\n"
    "3011000003,Mateus Oliveira,FX 55-66-77,UG2012,School of Nursing,,\r\n"
)


def create_cohort(page, base: str) -> None:
    """A new cohort whose window includes today, as an admin who has never seen the system would."""
    today = date.today()
    page.goto(base + "/admin/")
    page.get_by_role("link", name="Cohorts").first.click()
    page.get_by_role("link", name="New cohort").click()
    page.get_by_label("Code (as in the student CSV)").fill("UG2012")
    page.get_by_label("Name in English").fill("2012 undergraduates")
    page.get_by_label("Name in Chinese").fill("2012级本科生")
    page.get_by_label("Window opens (first day)").fill((today - timedelta(days=3)).isoformat())
    page.get_by_label("Window closes (last day, inclusive)").fill((today - timedelta(days=5)).isoformat())
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The window closes before it opens.")).to_be_visible()  # a slip, explained
    page.get_by_label("Window closes (last day, inclusive)").fill((today + timedelta(days=14)).isoformat())
    page.get_by_label("Certificate day").fill((today + timedelta(days=10)).isoformat())
    page.get_by_label("Certificate hours").fill("08:30-16:00")
    page.get_by_label("Certificate place").fill("School of Nursing office, room 204")
    screenshot(page, "admin-new-cohort-desktop")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Cohort UG2012 saved.")).to_be_visible()


def test_an_admin_sets_up_a_cohort_fixes_a_bad_line_imports_and_watches_statistics(live_server, desktop):
    bad = ARTIFACTS / "students-from-excel.csv"
    ARTIFACTS.mkdir(exist_ok=True)
    # As Excel saves "CSV UTF-8": a BOM and CRLF; one passport has too few digits.
    bad.write_bytes(b"\xef\xbb\xbf" + (HEADER + ROWS.replace("FX 55-66-77", "FX 55-66")).encode())
    log_in(desktop, live_server, "admin", "admin-demo")
    expect(desktop.get_by_role("heading", level=1)).to_be_visible()
    screenshot(desktop, "admin-home-desktop")
    create_cohort(desktop, live_server)
    desktop.goto(live_server + "/admin/import")
    desktop.get_by_label("Student list (CSV)").set_input_files(str(bad))
    desktop.get_by_role("button", name="Check the file").click()
    expect(desktop.get_by_text("Line 4:")).to_be_visible()
    expect(desktop.get_by_text("passport_no has fewer than 6 digits")).to_be_visible()
    assert desktop.get_by_role("button", name=re.compile("^Import")).count() == 0
    screenshot(desktop, "admin-import-error-desktop")

    fixed = ARTIFACTS / "students-fixed.csv"
    fixed.write_bytes(b"\xef\xbb\xbf" + (HEADER + ROWS).encode())
    desktop.goto(live_server + "/admin/import")
    desktop.get_by_label("Student list (CSV)").set_input_files(str(fixed))
    desktop.get_by_role("button", name="Check the file").click()
    expect(desktop.get_by_text("Preview: nothing has been written yet")).to_be_visible()
    screenshot(desktop, "admin-import-preview-desktop")
    desktop.get_by_role("button", name="Import 3 new and update 0 students").click()
    expect(desktop.get_by_text("3 students added")).to_be_visible()

    # The offices clear the new students; the statistics fill.
    desktop.goto(live_server + "/staff/bulk-clear?office=DORM")
    desktop.get_by_label("Student IDs").fill("3011000001 3011000002 3011000003")
    desktop.get_by_role("button", name="Check the list").click()
    desktop.get_by_role("button", name=re.compile(r"Clear 3 students now")).click()
    desktop.goto(live_server + "/admin/statistics")
    expect(desktop.locator("table", has_text="2012 undergraduates").first).to_be_visible()
    screenshot(desktop, "admin-statistics-desktop")


def test_an_office_clears_a_pasted_list(live_server, desktop):
    log_in(desktop, live_server, "housing", "housing-demo")
    desktop.goto(live_server + "/staff/bulk-clear")
    # A column pasted from Excel, with one unknown ID.
    desktop.get_by_label("Student IDs").fill("1111210108\n1111210109\n1111210110\n9999999999\n")
    desktop.get_by_role("button", name="Check the list").click()
    screenshot(desktop, "bulk-clear-preview-desktop")
    desktop.get_by_role("button", name=re.compile(r"Clear 3 students now")).click()
    expect(desktop.get_by_text("9999999999").first).to_be_visible()
    screenshot(desktop, "bulk-clear-result-desktop")
    desktop.goto(live_server + "/staff/?q=1111210108")
    expect(desktop.locator("table.queue")).to_contain_text("Cleared")


def test_the_counter_clears_with_a_scanner_and_never_clears_the_wrong_student(live_server, desktop):
    log_in(desktop, live_server, "card", "card-demo")
    desktop.goto(live_server + "/staff/counter")
    desktop.keyboard.type("1111210111")
    desktop.keyboard.press("Enter")
    expect(desktop.get_by_role("heading", name="Mwansa Chileshe")).to_be_visible()
    # The next student's card is scanned before anyone pressed Enter for this one.
    desktop.keyboard.type("1111210112")
    desktop.keyboard.press("Enter")
    expect(desktop.get_by_role("heading", name="Neema Mollel")).to_be_visible()
    screenshot(desktop, "counter-desktop")
    desktop.keyboard.press("Enter")  # Enter on the empty box clears the student on screen
    expect(desktop.get_by_text("Neema Mollel").first).to_be_visible()
    desktop.goto(live_server + "/staff/?q=11112101")
    table = desktop.locator("table.queue")
    expect(table.locator("tr", has_text="1111210112")).to_contain_text("Cleared")
    expect(table.locator("tr", has_text="1111210111")).to_contain_text("Waiting")
