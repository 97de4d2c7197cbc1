"""A student whose phone reads Chinese: the pages come in Chinese; the switch turns them to English, remembered."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import PHONE, screenshot

STUDENT, INITIAL, CHOSEN = "1414320206", "920147", "shi yu leaves 2026"


def _log_in(page, base: str, password: str) -> None:
    page.context.clear_cookies()
    page.goto(base + "/login")
    page.locator("input[name=username]").fill(STUDENT)
    page.locator("input[name=password]").fill(password)
    page.locator("main button[type=submit]").click()


def test_a_chinese_phone_gets_chinese_pages_and_the_switch_is_remembered(live_server, browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server + "/login")
    assert page.evaluate("document.documentElement.lang") == "zh-Hans"
    expect(page.get_by_role("heading", name="离校系统登录")).to_be_visible()
    screenshot(page, "language-login-zh-phone")

    _log_in(page, live_server, INITIAL)  # the first login asks for a new password, in Chinese too
    page.locator("input[name=current_password]").fill(INITIAL)
    page.locator("input[name=new_password]").fill(CHOSEN)
    page.locator("input[name=confirm]").fill(CHOSEN)
    page.locator("main button[type=submit]").click()
    expect(page.get_by_text("全部事项")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert "周一至周五" in page.content()  # the offices' hours in Chinese, not only the page's own words
    screenshot(page, "language-checklist-zh-phone")
    page.locator("details summary").first.click()  # where, when, what to bring: the office's own Chinese
    expect(page.get_by_text("图书馆一楼流通服务台（茶山校区）")).to_be_visible()
    screenshot(page, "language-checklist-zh-where-phone")

    with page.expect_navigation():
        page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="All steps")).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "en"

    _log_in(page, live_server, CHOSEN)  # a new session, the phone still asking for Chinese
    expect(page.get_by_role("heading", name="All steps")).to_be_visible()  # the account remembers English
    screenshot(page, "language-checklist-en-remembered-phone")
    context.close()
