"""What the Chinese journeys found still in English where a Chinese reader reads it (issue 10, "two languages").

Each test is what a Chinese reader should see, and once saw in English.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, Translator, journey_screenshot, log_in
from tests.browser.test_clearance_journeys import first_login

t = Translator("zh_Hans")


def test_the_desk_names_the_documents_handed_over_in_chinese(live_server, browser):
    admin = browser.new_page(viewport=DESKTOP)
    log_in(admin, live_server, "admin", "admin-demo")
    for office in ("LIB", "DORM", "CARD", "INTL", "SCHOOL"):
        admin.goto(f"{live_server}/staff/students/201570305?office={office}")
        with admin.expect_navigation():
            admin.get_by_role("button", name="Clear this step").click()
    admin.close()
    student = browser.new_page(viewport=PHONE)
    first_login(student, live_server, "201570305", "291736", "kevin wijaya leaves")
    student.goto(live_server + "/form")
    serial = re.search(r"LS\d{4}-\d{6}", student.content()).group()
    student.close()

    desk = browser.new_page(viewport=DESKTOP)
    log_in(desk, live_server, "desk", "desk-demo", lang="zh_Hans")
    desk.goto(f"{live_server}/desk?q={serial}")
    button = desk.get_by_role("button", name=t.pattern("Record the hand-over of: %(documents)s"))
    expect(button).to_contain_text("结业证书")  # the button says it in Chinese...
    desk.get_by_label(t("I have received the printed form and keep it")).check()
    with desk.expect_navigation():
        button.click()
    handed_over = desk.locator(".verdict").inner_text()
    desk.goto(f"{live_server}/desk?q={serial}")
    already = desk.locator(".verdict").inner_text()
    journey_screenshot(desk, "gaps", "zh_Hans", "desk-already-handed-over")
    desk.close()
    # ...and so do the verdicts after it, from what the hand-over recorded in both languages.
    assert "Certificate of completion" not in handed_over and "结业证书" in handed_over, handed_over
    assert "Certificate of completion" not in already and "结业证书" in already, already
