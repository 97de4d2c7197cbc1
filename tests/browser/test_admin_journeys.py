"""The administrators' journeys: set up a cohort (every slip shown at once), import a CSV after fixing its bad line,
give a school its certificate place, open a student's window earlier, add a step by ticking boxes, read the audit
log in words — at 1280 and 375 px; an office clears a pasted list; the counter clears by scanner. And the admin's
round in English and in Chinese: home, a new cohort, an import's preview, the audit log, the statistics."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, LANGUAGES, assert_chinese, journey_screenshot, log_in, screenshot

HEADER = "student_id,name,passport_no,cohort,school,name_zh,library_fees_owed\r\n"
ROWS = (
    "3011000001,Amara Nwosu,A 1122-3344,UG2012,School of Nursing,,\r\n"
    "3011000002,Chen Jia Hui,K7788990,UG2012,School of Nursing,陈佳慧,18.00\r\n"
    "3011000003,Mateus Oliveira,FX 55-66-77,UG2012,School of Nursing,,\r\n"
)
ADMIN_PAGES = [
    "/admin/",
    "/admin/statistics",
    "/admin/audit",
    "/admin/cohorts",
    "/admin/cohorts/new",
    "/admin/offices",
    "/admin/steps/new",
    "/admin/accounts",
    "/admin/accounts/new",
    "/admin/import",
]


def day(offset: int) -> str:
    return (date.today() + timedelta(days=offset)).isoformat()


def create_cohort(page, base: str) -> None:
    """A new cohort whose window includes today, as an admin who has never seen the system would."""
    page.goto(base + "/admin/")
    page.get_by_role("link", name="Cohorts").first.click()
    page.get_by_role("link", name="New cohort").click()
    page.get_by_label("Code (as in the student CSV)").fill("UG2012")
    page.get_by_label("Name in English").fill("2012 undergraduates")
    page.get_by_label("Name in Chinese").fill("2012级本科生")
    # Three slips in one go: the window closes before it opens, the certificate day comes before the window,
    # the hours run backwards. Every one is shown at once, beside its field.
    page.get_by_label("Window opens (first day)").fill(day(-3))
    page.get_by_label("Window closes (last day, inclusive)").fill(day(-5))
    page.get_by_label("Certificate day").fill(day(-10))
    page.get_by_label("Certificate hours").fill("16:00-08:30")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The cohort was not saved: 3 fields need a change, shown below.")).to_be_visible()
    expect(page.get_by_text("The window closes before it opens.")).to_be_visible()
    expect(page.get_by_text(re.compile(r"The certificate day \(.*\) comes before the window opens"))).to_be_visible()
    expect(page.get_by_text("The certificate hours must end after they start (16:00-08:30).")).to_be_visible()
    screenshot(page, "admin-new-cohort-problems-desktop")
    page.get_by_label("Window closes (last day, inclusive)").fill(day(14))
    page.get_by_label("Certificate day").fill(day(10))
    page.get_by_label("Certificate hours").fill("08:30-16:00")
    page.get_by_label("Certificate place", exact=True).fill("School of Nursing office, Building 4, room 204")
    screenshot(page, "admin-new-cohort-desktop")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Cohort UG2012 saved.")).to_be_visible()


def upload(page, base: str, path) -> None:
    page.goto(base + "/admin/import")
    page.get_by_label("Student list (CSV)").set_input_files(str(path))
    page.get_by_role("button", name="Check the file").click()


def test_an_admin_sets_up_a_cohort_fixes_a_bad_line_imports_and_watches_statistics(live_server, desktop):
    bad = ARTIFACTS / "students-from-excel.csv"
    ARTIFACTS.mkdir(exist_ok=True)
    # As Excel saves "CSV UTF-8": a BOM and CRLF; one line has too few passport digits and an unknown cohort.
    bad_rows = ROWS.replace("FX 55-66-77,UG2012", "FX 55-66,UG2021")
    bad.write_bytes(b"\xef\xbb\xbf" + (HEADER + bad_rows).encode())
    log_in(desktop, live_server, "admin", "admin-demo")
    expect(desktop.get_by_role("heading", level=1)).to_be_visible()
    screenshot(desktop, "admin-home-desktop")
    create_cohort(desktop, live_server)
    upload(desktop, live_server, bad)
    line = desktop.locator("ul.errors li", has_text="Line 4:")
    expect(line).to_contain_text("passport_no has fewer than 6 digits")  # every problem of the line, together
    expect(line).to_contain_text(re.compile(r"cohort .UG2021. does not exist"))  # whichever quotes
    assert desktop.get_by_role("button", name=re.compile("^Import")).count() == 0
    screenshot(desktop, "admin-import-error-desktop")

    fixed = ARTIFACTS / "students-fixed.csv"
    fixed.write_bytes(b"\xef\xbb\xbf" + (HEADER + ROWS).encode())
    upload(desktop, live_server, fixed)
    expect(desktop.get_by_text("Preview: nothing has been written yet")).to_be_visible()
    expect(desktop.get_by_text("1 library hold to place")).to_be_visible()
    screenshot(desktop, "admin-import-preview-desktop")
    desktop.get_by_role("button", name="Import: add 3 new students").click()
    expect(desktop.get_by_text("3 students added")).to_be_visible()
    upload(desktop, live_server, fixed)  # the same file again: nothing would change, and the page says so
    expect(desktop.get_by_role("heading", name="Nothing to import")).to_be_visible()
    assert desktop.get_by_role("button", name=re.compile("^Import")).count() == 0
    screenshot(desktop, "admin-import-nothing-desktop")

    # The offices clear the new students; the statistics fill.
    desktop.goto(live_server + "/staff/bulk-clear?office=DORM")
    desktop.get_by_label("Student IDs").fill("3011000001 3011000002 3011000003")
    desktop.get_by_role("button", name="Check the list").click()
    desktop.get_by_role("button", name=re.compile(r"Clear 3 students now")).click()
    desktop.goto(live_server + "/admin/statistics")
    expect(desktop.locator("table", has_text="2012 undergraduates").first).to_be_visible()
    screenshot(desktop, "admin-statistics-desktop")


def test_an_admin_sets_places_windows_and_steps_and_reads_the_audit_log_in_words(live_server, desktop):
    log_in(desktop, live_server, "admin", "admin-demo")
    # A school's certificate place: printed on its students' forms when their cohort names none.
    desktop.goto(live_server + "/admin/cohorts")
    desktop.get_by_role("link", name="School of Nursing").click()
    place = "School of Nursing office, Building 4, room 210 (Chashan campus)"
    desktop.get_by_label("Certificate place (office and room)").fill(place)
    desktop.get_by_role("button", name="Save").click()
    expect(desktop.get_by_text("School saved: School of Nursing.")).to_be_visible()
    expect(desktop.locator("table", has_text=place)).to_be_visible()

    # One student may start before the cohort's window opens.
    desktop.get_by_label("Student ID").fill("3011000001")
    desktop.get_by_label("Stretch the window to include this day").fill(day(-30))
    desktop.get_by_label("Reason").fill("Flies home early for a family reason")
    desktop.get_by_role("button", name="Save extension").click()
    expect(desktop.get_by_text(re.compile(r"3011000001 may now use the system from"))).to_be_visible()
    screenshot(desktop, "admin-cohorts-desktop")

    # A step for one cohort, chosen by ticking a box (no list box that needs Ctrl-click).
    desktop.goto(live_server + "/admin/steps/new")
    assert desktop.locator("select[multiple]").count() == 0
    desktop.get_by_label("Office").select_option(label="International Students Office")
    desktop.get_by_label("Title in English").fill("Exit survey")
    desktop.get_by_role("checkbox", name=re.compile("UG2012")).check()
    screenshot(desktop, "admin-step-checkboxes-desktop")
    desktop.get_by_role("button", name="Save").click()
    expect(desktop.get_by_text("Step saved: Exit survey.")).to_be_visible()

    # The audit log: whole words, the whole window wide; steps and holds named, never step:3 or hold:7.
    desktop.goto(live_server + "/admin/audit")
    table = desktop.locator("table.audit")
    expect(table).to_contain_text("Finance Office: Fees settled")  # cleared by the system, named
    expect(table).to_contain_text("Student Housing: Check out of student housing")
    expect(table).to_contain_text("Library: Library fees owed (¥18.00)")
    assert not re.search(r"\b(step|hold):\d", table.inner_text())
    assert table.bounding_box()["width"] > 1150
    screenshot(desktop, "admin-audit-desktop")


def test_every_admin_page_fits_a_phone(live_server, phone):
    log_in(phone, live_server, "admin", "admin-demo")
    for path in ADMIN_PAGES:
        phone.goto(live_server + path)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 375, path
        nav = phone.locator("nav.account-nav").bounding_box()
        assert nav["x"] + nav["width"] <= 375, path  # the header's links wrap inside the header
        screenshot(phone, "admin-phone-" + (path.strip("/").replace("/", "-") or "admin"))
    phone.goto(live_server + "/admin/audit")
    card = phone.locator("table.audit tbody tr").first
    assert card.bounding_box()["width"] <= 375
    named = phone.evaluate("getComputedStyle(document.querySelector('table.audit td'), '::before').content")
    assert named == '"When: "', named  # each event a card, each cell named by its column


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
    expect(desktop.locator("#counter-id")).to_be_focused()
    desktop.keyboard.type("1111210111")
    desktop.keyboard.press("Enter")
    expect(desktop.get_by_role("heading", name="Mwansa Chileshe")).to_be_visible()
    # The browser focuses the box a moment after the page shows (autofocus): a scanner waits as long.
    expect(desktop.locator("#counter-id")).to_be_focused()
    # The next student's card is scanned before anyone pressed Enter for this one.
    desktop.keyboard.type("1111210112")
    desktop.keyboard.press("Enter")
    expect(desktop.get_by_role("heading", name="Neema Mollel")).to_be_visible()
    screenshot(desktop, "counter-desktop")
    expect(desktop.locator("#counter-id")).to_be_focused()
    desktop.keyboard.press("Enter")  # Enter on the empty box clears the student on screen
    expect(desktop.get_by_text("Neema Mollel").first).to_be_visible()
    desktop.goto(live_server + "/staff/?q=11112101")
    table = desktop.locator("table.queue")
    expect(table.locator("tr", has_text="1111210112")).to_contain_text("Cleared")
    expect(table.locator("tr", has_text="1111210111")).to_contain_text("Waiting")


# the new cohort's code, its names (English, Chinese), and the students of the file previewed into it
ROUND = {
    "en": ("EN2027", "2027 exchange students", "2027级交换生", ("3027100001", "3027100002")),
    "zh_Hans": ("ZH2027", "2027 summer school", "2027年暑期班", ("3027200001", "3027200002")),
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_admins_round_home_a_new_cohort_an_import_preview_the_audit_log_and_statistics(
    live_server, desktop, lang, t
):
    code, name_en, name_zh, (first, second) = ROUND[lang]
    page, chinese = desktop, lang == "zh_Hans"
    log_in(page, live_server, "admin", "admin-demo", lang=lang)  # Chinese: chosen with the switch on the login page
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Administration"))
    expect(page.locator("#today-heading")).to_have_text(t("Today, in the current cohorts"))
    journey_screenshot(page, "admin", lang, "01-home")
    if chinese:
        assert_chinese(
            page, page.locator("h1, h2"), page.locator("header nav"), page.locator(".tile"), allowed=("admin",)
        )

    # A cohort, its names side by side in both languages.
    page.get_by_role("link", name=t("Cohorts")).first.click()
    page.get_by_role("link", name=t("New cohort")).click()
    page.get_by_label(t("Code (as in the student CSV)")).fill(code)
    page.get_by_label(t("Name in English")).fill(name_en)
    page.get_by_label(t("Name in Chinese")).fill(name_zh)
    page.get_by_label(t("Window opens (first day)")).fill(day(-1))
    page.get_by_label(t("Window closes (last day, inclusive)")).fill(day(13))
    page.get_by_label(t("Certificate day")).fill(day(10))
    page.get_by_label(t("Certificate hours")).fill("08:30-16:00")
    page.get_by_label(t("Certificate place"), exact=True).fill("School of International Studies, room 105")
    page.get_by_label(t("Certificate place (Chinese)")).fill("国际教育学院105室")
    journey_screenshot(page, "admin", lang, "02-new-cohort")
    if chinese:
        assert_chinese(page, page.locator("main label"), page.locator("main button"))
    page.get_by_role("button", name=t("Save")).click()
    expect(page.locator(".flash").first).to_have_text(t("Cohort %(code)s saved.", code=code))
    expect(page.locator("main table").first).to_contain_text(name_zh if chinese else name_en)
    journey_screenshot(page, "admin", lang, "03-cohorts")

    # A student list for the new cohort: checked first, nothing written.
    csv = ARTIFACTS / f"admin-{lang}-students.csv"
    csv.write_text(
        "student_id,name,passport_no,cohort,school,library_fees_owed\n"
        f"{first},Sara Lindqvist,SE 1234-5678,{code},School of International Studies,\n"
        f"{second},Mehmet Demir,U 98765432,{code},School of International Studies,12.50\n",
        encoding="utf-8",
    )
    page.goto(live_server + "/admin/import")
    page.get_by_label(t("Student list (CSV)")).set_input_files(str(csv))
    page.get_by_role("button", name=t("Check the file")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Preview: nothing has been written yet"))
    expect(page.locator("ul.counts")).to_contain_text(t("to add"))
    expect(page.locator("ul.counts li").first).to_contain_text("2")
    journey_screenshot(page, "admin", lang, "04-import-preview")
    if chinese:
        assert_chinese(page, page.locator("ul.counts"), page.locator("main h1, main h2"))

    # The audit log names the new cohort; the statistics count every cohort.
    page.goto(live_server + "/admin/audit")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Audit log"))
    expect(page.locator("table.audit")).to_contain_text(code)
    journey_screenshot(page, "admin", lang, "05-audit")
    if chinese:
        assert_chinese(page, page.locator("table.audit thead"), page.locator("main h1, main h2"))
    page.goto(live_server + "/admin/statistics")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Statistics"))
    expect(page.locator("#cohorts-heading")).to_have_text(t("By cohort"))
    journey_screenshot(page, "admin", lang, "06-statistics")
    if chinese:
        assert_chinese(page, page.locator("main h1, main h2"), page.locator("main table thead"))
