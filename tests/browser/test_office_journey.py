"""An office clerk's day in English and in Chinese, at a desk (1280 px) and on a 768-pixel tablet: the queue,
a search, a student's record; clear, block with a reason, reopen, place and release a hold; clear a pasted list.

Issue 9, items 4, 5 and 8, as the offices meet them at 1280 and 375 px.

The school office sees who is ready for its sign-off (every other office cleared) apart from those still
waiting for other offices, ready students first, and a Clear button only where clearing is allowed; on a
phone each row is a card with its status and action, nothing scrolls sideways. Once the student printed
the form, an office about to void it (reopen, hold) is told which form and when it was printed, and asked
to confirm on the server; after the hand-over, it is also told when and by whom, and that the change does
not take the certificates back.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    DESKTOP,
    LANGUAGES,
    TABLET,
    assert_chinese,
    choose_language,
    journey_screenshot,
    log_in,
    screenshot,
)
from tests.browser.test_clearance_journeys import first_login

READY, NAME, INITIAL, PASSWORD = "1111210102", "Muhammad Usman Qureshi", "928374", "usman leaves in july"
WAITING = "1414320203"  # Somchai Wongsakul: only the library card cleared


def clear_as_admin(page, base: str, student: str, office: str) -> None:
    page.goto(f"{base}/staff/students/{student}?office={office}")
    page.get_by_role("button", name="Clear this step").click()
    expect(page.get_by_text("cleared for")).to_be_visible()


def queue_row(page, student: str):
    return page.locator("table.queue tbody tr", has_text=student)


def assert_fits(page, *locators) -> None:
    """Nothing scrolls sideways, and each of these is whole inside the page's width."""
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for locator in locators:
        box = locator.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (locator, box)


def test_the_school_office_sees_who_is_ready_and_clears_only_them(live_server, desktop, phone):
    log_in(desktop, live_server, "admin", "admin-demo")
    for office in ("LIB", "DORM", "CARD", "INTL"):  # finance is automatic: cleared at import
        clear_as_admin(desktop, live_server, READY, office)
    clear_as_admin(desktop, live_server, WAITING, "LIB")

    log_in(desktop, live_server, "clinical", "clinical-demo")
    ready_row, waiting_row = queue_row(desktop, READY), queue_row(desktop, WAITING)
    expect(ready_row.locator(".status")).to_have_text(re.compile("Ready"))
    expect(ready_row.get_by_role("button", name="Clear")).to_be_visible()
    expect(waiting_row.locator(".status")).to_have_text(re.compile(r"Waiting for other offices \(3 left\)"))
    expect(waiting_row.get_by_role("button", name="Clear")).to_have_count(0)
    statuses = desktop.locator("table.queue tbody tr .status").all_inner_texts()
    readiness = ["Ready" in text for text in statuses]
    assert readiness == sorted(readiness, reverse=True), statuses  # ready students first
    screenshot(desktop, "office-queue-ready-desktop")
    desktop.get_by_role("link", name=re.compile(r"\d+ ready")).click()
    expect(queue_row(desktop, READY)).to_be_visible()
    expect(queue_row(desktop, WAITING)).to_have_count(0)
    expect(desktop.get_by_label("Status")).to_have_value("ready")
    screenshot(desktop, "office-queue-ready-filter-desktop")
    desktop.goto(f"{live_server}/staff/students/{WAITING}")
    expect(desktop.get_by_text("Waiting for other offices (3 left)").first).to_be_visible()
    expect(desktop.get_by_role("button", name="Clear this step")).to_have_count(0)

    log_in(phone, live_server, "clinical", "clinical-demo")
    ready_card, waiting_card = queue_row(phone, READY), queue_row(phone, WAITING)
    ready_card.scroll_into_view_if_needed()
    assert_fits(phone, ready_card.locator(".status"), ready_card.get_by_role("button", name="Clear"))
    assert_fits(phone, waiting_card.locator(".status"))
    screenshot(phone, "office-queue-cards-phone")
    with phone.expect_navigation():
        ready_card.get_by_role("button", name="Clear").click()
    expect(phone.get_by_text(f"School sign-off cleared for {NAME}.")).to_be_visible()
    expect(queue_row(phone, READY).locator(".status")).to_have_text(re.compile("Cleared"))


def test_an_office_is_told_before_it_voids_a_printed_form_or_acts_after_the_hand_over(
    live_server, desktop, phone, browser
):
    # The student of the journey above is complete now: they print the form.
    student = browser.new_page(viewport={"width": 1280, "height": 900})
    first_login(student, live_server, READY, INITIAL, PASSWORD)
    student.goto(live_server + "/form")
    serial = re.search(r"LS\d{4}-\d{6}", student.content()).group()
    student.close()

    # The campus card centre reopens its step: the record says which form, printed when, and asks first.
    log_in(desktop, live_server, "card", "card-demo")
    desktop.goto(f"{live_server}/staff/students/{READY}")
    desktop.get_by_label("Reopen, with a reason").fill("Card balance refund not signed")
    desktop.get_by_role("button", name="Reopen").click()
    warning = desktop.locator(".stake-warning")
    expect(warning.get_by_role("heading")).to_have_text(re.compile(f"This voids printed form {serial}"))
    expect(warning).to_contain_text(f"{NAME} printed form {serial} on")
    expect(warning).to_contain_text("Card balance refund not signed")
    assert warning.bounding_box()["y"] < 900  # the question is on screen, not below the record
    screenshot(desktop, "office-confirm-void-desktop")
    desktop.get_by_role("link", name="Cancel: change nothing").click()
    expect(desktop.get_by_role("button", name="Clear this step")).to_have_count(0)  # still cleared

    # The school's desk hands the certificates over against that form.
    log_in(desktop, live_server, "desk-clinical", "desk-clinical-demo")
    desktop.goto(f"{live_server}/desk?q={serial}")
    desktop.get_by_label("I have received the printed form and keep it").check()
    desktop.get_by_role("button", name=re.compile("Record the hand-over")).click()
    expect(desktop.get_by_text("handed over just now")).to_be_visible()

    # On a phone, the card centre places a hold: the form, the hand-over (when, by whom), and that it stays.
    log_in(phone, live_server, "card", "card-demo")
    phone.goto(f"{live_server}/staff/students/{READY}")
    phone.get_by_label("Reason (the student sees it)").fill("Card reported lost: ¥20 replacement fee")
    phone.get_by_label("Amount owed (¥, optional)").fill("20")
    phone.get_by_role("button", name="Place hold").click()
    warning = phone.locator(".stake-warning")
    expect(warning).to_contain_text(f"printed form {serial} on")
    expect(warning).to_contain_text(f"were handed over to {NAME} on")
    expect(warning).to_contain_text("Clinical Medicine certificate desk")
    expect(warning).to_contain_text("A hold does not take them back")
    confirm = warning.get_by_role("button", name=f"Place the hold and void form {serial}")
    assert_fits(phone, warning, confirm)
    screenshot(phone, "office-confirm-after-handover-phone")
    with phone.expect_navigation():
        confirm.click()
    expect(phone.get_by_text(f"Hold placed on {NAME}.")).to_be_visible()
    expect(phone.locator(".stake-warning")).to_have_count(0)
    screenshot(phone, "office-record-after-hold-phone")


INTL = {"en": "International Students Office", "zh_Hans": "留学生管理办公室"}
INTL_STEP = {"en": "Residence permit and departure check", "zh_Hans": "居留许可及离境登记"}
# (language, width): the student whose record the clerk works on, then the two on the pasted list.
CLERK_STUDENTS = {
    ("en", 1280): (("201550102", "José Martínez García", "Martínez"), "201550103", "201550104"),
    ("en", 768): (("201550106", "Giulia Rossi", "Rossi"), "201560201", "201560202"),
    ("zh_Hans", 1280): (("201560203", "Łukasz Wójcik", "Wójcik"), "201560204", "201560205"),
    ("zh_Hans", 768): (("201570301", "Ines Gonçalves", "Gonçalves"), "201570302", "201570303"),
}


def no_sideways_scroll(page, what: str) -> None:
    width = page.evaluate("[document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]")
    assert width[0] <= width[1], f"{what} scrolls sideways at {page.viewport_size['width']} px: {width}"


@pytest.mark.parametrize("viewport", [DESKTOP, TABLET], ids=["desktop", "tablet"])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_office_clerk_works_through_the_queue(live_server, browser, lang, t, viewport):
    """The international students office, as its clerk: every action of a record, then a pasted list."""
    (student, name, surname), *pasted = CLERK_STUDENTS[(lang, viewport["width"])]
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    chinese = lang == "zh_Hans"
    names = (name,)

    def shot(step: str) -> None:
        journey_screenshot(page, "office", lang, step)

    def said(text) -> None:
        expect(page.locator(".flash").first).to_contain_text(text)

    # The queue: counts, filters, a table of students; the language chosen with the switch on the queue itself.
    log_in(page, live_server, "intl", "intl-demo", lang="en")
    choose_language(page, lang)
    expect(page.get_by_role("heading", level=1)).to_contain_text(INTL[lang])
    expect(page.locator("ul.counts")).to_contain_text(t("cleared today"))
    no_sideways_scroll(page, "the queue")
    shot("01-queue")
    if chinese:
        assert_chinese(page, page.locator("h1"), page.locator("ul.counts"), page.locator("form.filters label"))
        assert_chinese(page, page.locator("table.queue thead"), page.locator("table.queue .status"))

    # A search by surname, then the student's record.
    page.get_by_label(t("Student ID or name")).fill(surname)
    page.get_by_role("button", name=t("Search")).click()
    row = page.locator("table.queue tbody tr", has_text=student)
    expect(row.locator(".status")).to_have_text(re.compile(t("Waiting")))
    expect(page.locator("table.queue tbody tr")).to_have_count(1)
    shot("02-search")
    with page.expect_navigation():
        row.get_by_role("link", name=student).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    no_sideways_scroll(page, "the student's record")
    shot("03-record")
    if chinese:
        assert_chinese(page, page.locator("#office-steps"), page.locator(".office-step label"), allowed=names)
        assert_chinese(page, page.locator(".office-step button"), page.locator(".hold-form"), allowed=names)

    # Clear, reopen with a reason, block with the reason the student will see, reopen again.
    page.get_by_role("button", name=t("Clear this step")).click()
    said(t("%(step)s cleared for %(name)s.", step=INTL_STEP[lang], name=name))
    expect(page.locator(".office-step .status")).to_contain_text(t("Cleared"))
    page.get_by_label(t("Reopen, with a reason")).fill("Departure card missing a stamp")
    page.get_by_role("button", name=t("Reopen"), exact=True).click()
    said(t("%(step)s reopened.", step=INTL_STEP[lang]))
    expect(page.locator(".office-step .reason")).to_contain_text("Departure card missing a stamp")
    page.get_by_label(t("Block, with the reason the student will see")).fill("Residence permit expired: renew it")
    page.get_by_role("button", name=t("Block"), exact=True).click()
    said(t("%(step)s blocked.", step=INTL_STEP[lang]))
    expect(page.locator(".office-step .status")).to_contain_text(t("Blocked"))
    shot("04-blocked")
    page.get_by_label(t("Reopen, with a reason")).fill("Permit renewed, seen the new one")
    page.get_by_role("button", name=t("Reopen"), exact=True).click()
    expect(page.locator(".office-step .status")).to_contain_text(t("Waiting"))

    # A hold, with an amount, then released with the receipt's number.
    page.get_by_label(t("Reason (the student sees it)")).fill("Visa extension fee not paid")
    page.get_by_label(t("Amount owed (¥, optional)")).fill("160")
    page.get_by_role("button", name=t("Place hold"), exact=True).click()
    said(t("Hold placed on %(name)s.", name=name))
    expect(page.locator(".office-step")).to_contain_text(t("Held:"))
    no_sideways_scroll(page, "the student's record with a hold")
    shot("05-hold-placed")
    page.get_by_label(t("Release, with a reason")).fill("Paid, receipt 2026-0415")
    page.get_by_role("button", name=t("Release"), exact=True).click()
    said(t("Hold released."))
    page.get_by_role("button", name=t("Clear this step")).click()
    said(t("%(step)s cleared for %(name)s.", step=INTL_STEP[lang], name=name))
    shot("06-history")
    if chinese:
        assert_chinese(page, page.locator(".flash"), page.locator("#history-heading"), allowed=names)

    # A list pasted from a spreadsheet, checked first, then cleared at once.
    page.goto(live_server + "/staff/")
    page.get_by_role("link", name=t("Clear many")).first.click()
    page.get_by_label(t("Student IDs"), exact=True).fill("\n".join(pasted) + "\n")
    page.get_by_role("button", name=t("Check the list")).click()
    shot("07-pasted-list")
    page.get_by_role("button", name=t.plural("Clear %(num)d student now", "Clear %(num)d students now", 2)).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Done"))
    shot("08-list-cleared")
    if chinese:
        assert_chinese(page, page.locator("main h1"), page.locator("main .lead"), page.locator("main .meta"))
    page.goto(f"{live_server}/staff/?q=2015")  # the non-degree students, all on one page
    for cleared in (student, *pasted):
        expect(page.locator("table.queue tbody tr", has_text=cleared).locator(".status")).to_contain_text(t("Cleared"))
    no_sideways_scroll(page, "the queue")
    context.close()
