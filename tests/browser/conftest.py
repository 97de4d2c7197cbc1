"""Real-browser journeys: the app served by gunicorn on a demo database, driven by Debian's Chromium.

Screenshots go to test-artifacts/ (git-ignored) so a person can look at what a user saw; a journey that fails
leaves a screenshot and the HTML of each of its pages in test-artifacts/failures/ (CI keeps that folder).
Journeys run in both languages: `t` turns an English text into the page's language through the compiled
catalogue, as the app itself does, and `log_in(..., lang=...)` chooses the language with the page's switch.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from babel.support import NullTranslations, Translations

from languages import HTML_LANG

PROJECT = Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 375, "height": 812}
TABLET = {"width": 768, "height": 1024}
DESKTOP = {"width": 1280, "height": 900}
FAILURES = ARTIFACTS / "failures"
LANGUAGES = ["en", "zh_Hans"]
WORDS_CHINESE_WRITES_TOO = {"PDF", "CSV", "WeChat"}  # as a Chinese office worker writes them

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError("Chromium is missing: `make test` installs it when run as root")
    pytest.skip("Debian's chromium is not installed (make test installs it as root)", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """gunicorn with two workers on a fresh demo database; yields the base URL."""
    folder = tmp_path_factory.mktemp("live")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'live.sqlite3'}",
        "SECRET_KEY": "browser-secret",
        "INITIAL_PASSWORD_KEY": "browser-initial",
        "FORM_SIGNING_KEY": "browser-form",
        # Every journey logs in from 127.0.0.1, a few with a wrong password on purpose: room for them all.
        "LOGIN_FAILURES_PER_ADDRESS": "30",
        "UPLOAD_FOLDER": str(folder / "uploads"),  # previews kept by the journeys stay out of the project's instance/
    }
    bin_dir = Path(sys.executable).parent
    init = subprocess.run(
        [bin_dir / "flask", "--app", "app", "init-db", "--demo"], cwd=PROJECT, env=env, capture_output=True, text=True
    )
    if init.returncode:
        raise RuntimeError(f"flask init-db --demo failed:\n{init.stdout}\n{init.stderr}")
    port = _free_port()
    log = open(folder / "server.log", "w")  # noqa: SIM115 (open for the server's whole life)
    server = subprocess.Popen(
        [bin_dir / "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}", "app:create_app()"],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(base + "/login", timeout=1)  # noqa: S310 (loopback only)
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                log.close()
                raise RuntimeError((folder / "server.log").read_text()) from None
            time.sleep(0.2)
    yield base
    server.terminate()
    server.wait(timeout=10)
    log.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def desktop(browser):
    context = browser.new_context(viewport=DESKTOP)
    yield context.new_page()
    context.close()


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def journey_screenshot(page, role: str, lang: str, step: str) -> Path:
    """A screenshot named role-language-width-step, e.g. student-zh_Hans-375-03-checklist."""
    return screenshot(page, f"{role}-{lang}-{page.viewport_size['width']}-{step}")


class Translator:
    """An English text in the page's language, through the compiled catalogue (tests/conftest.py compiles it)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        directory = PROJECT / "translations"
        self.catalogue = NullTranslations() if lang == "en" else Translations.load(str(directory), [lang])
        if lang != "en" and not isinstance(self.catalogue, Translations):
            raise RuntimeError(f"no compiled catalogue for {lang} in {directory}")

    def __call__(self, msgid: str, **values) -> str:
        text = self.catalogue.gettext(msgid)
        if self.lang != "en" and text == msgid:
            raise AssertionError(f"{msgid!r} has no {self.lang} translation: the journey would look for English")
        return text % values if values else text

    def plural(self, singular: str, plural: str, num: int, **values) -> str:
        return self.catalogue.ngettext(singular, plural, num) % {"num": num, **values}

    def pattern(self, msgid: str, **values) -> re.Pattern:
        """The translated text with each %(name)s left out as `.+`, for texts with dates or names in them."""
        parts = re.split(r"%\((\w+)\)[sd]", self(msgid))
        return re.compile(
            "".join(
                re.escape(values[part]) if part in values else (".+" if i % 2 else re.escape(part))
                for i, part in enumerate(parts)
            )
        )


@pytest.fixture
def t(lang) -> Translator:
    """The translator of the test's `lang` (parametrize the test over LANGUAGES)."""
    return Translator(lang)


def page_language(page) -> str:
    return page.evaluate("document.documentElement.lang")


def choose_language(page, lang: str) -> None:
    """Press the page's language switch, as a user does; nothing when the page is in that language already."""
    if page_language(page) == HTML_LANG[lang]:
        return
    with page.expect_navigation():
        page.locator(f"form.language-switch button[value='{lang}']").click()
    assert page_language(page) == HTML_LANG[lang]


def log_in(page, base: str, username: str, password: str, lang: str = "en") -> None:
    """Log in as someone, after whoever was logged in on this page's browser (its cookies go), in a language.

    The language is chosen with the switch on the login page, as a user does; the shared demo accounts remember
    the last language chosen, so when the page after logging in is in another one, the switch is pressed there
    too (an English journey after a Chinese one, with the same account, still reads English).
    """
    t = Translator(lang)
    page.context.clear_cookies()
    page.goto(base + "/login")
    choose_language(page, lang)
    page.get_by_label(t("Student ID or user name")).fill(username)
    page.get_by_label(t("Password"), exact=True).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name=t("Log in")).click()
    if page.locator("form.language-switch").count():
        choose_language(page, lang)


def no_english(text: str, *allowed: str) -> list[str]:
    """The English words (three letters or more) left in a Chinese text, apart from names and codes allowed."""
    for keep in allowed:
        text = text.replace(keep, " ")
    return [word for word in re.findall(r"[A-Za-z]{3,}", text) if word not in WORDS_CHINESE_WRITES_TOO]


def assert_chinese(page, *locators, allowed: tuple[str, ...] = ()) -> None:
    """The page says it is Chinese, and these elements read Chinese: no English word left in them, apart from the
    parts marked as another language (a step's English title beside its Chinese one) and the names allowed."""
    assert page_language(page) == HTML_LANG["zh_Hans"]
    for locator in locators:
        for element in locator.all():
            text = element.evaluate(_TEXT_IN_PAGE_LANGUAGE)
            left = no_english(text, *allowed)
            assert not left, f"English left in {locator}: {left} in {text!r}"


_TEXT_IN_PAGE_LANGUAGE = """element => {
    const copy = element.cloneNode(true);
    copy.querySelectorAll('[lang]:not([lang^="zh"])').forEach(part => part.remove());
    return copy.textContent.replace(/\\s+/g, ' ').trim();
}"""


@pytest.fixture(scope="session", autouse=True)
def _no_failures_from_an_earlier_run():
    """test-artifacts/failures/ holds this run's failures only."""
    shutil.rmtree(FAILURES, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A journey that fails leaves, for each of its pages, a full-page screenshot and the HTML, named in the log."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    saved = []
    for name, page in _open_pages(item):
        stem = FAILURES / re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{item.nodeid.split('/')[-1]}-{name}").strip("_")
        try:
            FAILURES.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{stem}.png", full_page=True, timeout=10_000)
            Path(f"{stem}.html").write_text(page.content(), encoding="utf-8")
            saved.append(f"{name} ({page.url}): {stem.relative_to(PROJECT)}.png, .html")
        except Exception as error:  # a page already closed or crashed: say so, keep the report
            saved.append(f"{name}: not saved ({type(error).__name__}: {error})")
    if saved:
        report.sections.append(("browser pages at the failure", "\n".join(saved)))


def _open_pages(item):
    """(name, page) for every Playwright page of the test: its page fixtures, then any other page of the browser."""
    from playwright.sync_api import Browser, Page

    seen = set()
    fixtures = getattr(item, "funcargs", {})
    for name, value in fixtures.items():
        if isinstance(value, Page) and not value.is_closed() and value.url != "about:blank":
            seen.add(id(value))
            yield name, value
    for name, value in fixtures.items():
        if isinstance(value, Browser):
            for c, context in enumerate(value.contexts):
                for p, page in enumerate(context.pages):
                    if id(page) not in seen and not page.is_closed() and page.url != "about:blank":
                        seen.add(id(page))
                        yield f"{name}-context{c}-page{p}", page
