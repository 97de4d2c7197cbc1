"""The two languages (rule 9): which are available, and which one a request is answered in.

A language is available when its compiled catalogue is in translations/ (`make` builds it; the
tests compile it too). A request gets, in order: the language chosen with the switch (kept in the
signed session cookie), the account's saved preference, the best match of the browser's
Accept-Language (any "zh-…" reads Simplified Chinese), else English.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from flask import current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
DEFAULT = "en"
CHINESE = "zh_Hans"
NAMES = {"en": "English", "zh_Hans": "中文"}  # each in its own language, as a switch shows them
HTML_LANG = {"en": "en", "zh_Hans": "zh-Hans"}


def catalogued() -> list[str]:
    """English, plus every language whose compiled catalogue is in translations/."""
    return [DEFAULT, *sorted(path.parent.parent.name for path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.mo"))]


def _primary(language: str) -> str:
    return language.split("_")[0].split("-")[0].lower()


def select_locale() -> str | None:
    """Flask-Babel's locale selector."""
    if not has_request_context():  # the CLI, and rules run outside a request
        return None
    available = current_app.config["CATALOGUED_LANGUAGES"]
    chosen = session.get("language")
    if chosen in available:
        return chosen
    if current_user and current_user.is_authenticated and current_user.language in available:
        return current_user.language
    by_primary = {_primary(language): language for language in available}
    best = request.accept_languages.best_match(list(by_primary))  # "zh-CN" matches "zh"
    return by_primary.get(best, DEFAULT)


def terminal_language(environ: Mapping[str, str] | None = None) -> str:
    """The CLI's language: from the first of LANGUAGE, LC_ALL, LC_MESSAGES, LANG that is set (zh_CN.UTF-8: Chinese)."""
    environ = os.environ if environ is None else environ
    available = {_primary(language): language for language in catalogued()}
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        setting = environ.get(name, "").split(":")[0].split(".")[0]
        if setting:
            return available.get(_primary(setting), DEFAULT)
    return DEFAULT


def html_lang(locale: object) -> str:
    """The page's `lang` attribute for a Babel locale."""
    name = str(locale)
    return HTML_LANG.get(name) or HTML_LANG.get("zh_Hans" if _primary(name) == "zh" else DEFAULT, "en")


def choices() -> list[tuple[str, str, str]]:
    """The switch: (language, its name in itself, its HTML lang) for every available language."""
    available = current_app.config["CATALOGUED_LANGUAGES"]
    return [(language, NAMES.get(language, language), html_lang(language)) for language in available]


def reads_chinese() -> bool:
    """Whether the current request (or a forced locale) reads Chinese: the one test every page and helper uses."""
    locale = get_locale()
    return locale is not None and locale.language == "zh"


def help_contact(config) -> dict[str, str]:
    """The help contacts as the university's notice gives them in the reader's language (rule 8)."""
    chinese = reads_chinese()
    return {
        "desk": config["HELP_DESK_ZH" if chinese else "HELP_DESK_EN"],
        "person": config["HELP_PERSON_ZH" if chinese else "HELP_PERSON_EN"],
        "phone": config["HELP_PHONE"],
        "mobile": config["HELP_MOBILE_ZH" if chinese else "HELP_MOBILE"],
    }


def moment_pattern() -> str:
    """How a moment is written on the pages: 2026-06-30 08:30, or 2026年6月30日 08:30 for a Chinese reader."""
    return "yyyy年M月d日 HH:mm" if reads_chinese() else "yyyy-MM-dd HH:mm"
