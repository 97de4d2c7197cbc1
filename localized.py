"""What an office, step, cohort or school says, in the reader's language (rule 9).

Each text a student reads has an English field and a Chinese twin: `name_en`/`name_zh`, `title_en`/`title_zh`, or
`location`/`location_zh` where the English field has no suffix. The reader's language is shown when it is filled in,
else the other one, so an office without Chinese still tells a Chinese reader where to go.
"""

from __future__ import annotations

from languages import reads_chinese

ENGLISH, CHINESE = "en", "zh-Hans"  # the HTML lang of each


def twins(thing: object, field: str) -> tuple[str, str]:
    """(English, Chinese) of one field of `thing`."""
    english = getattr(thing, f"{field}_en", None)
    if english is None:
        english = getattr(thing, field)
    return english or "", getattr(thing, f"{field}_zh") or ""


def localized(thing: object, field: str) -> str:
    """The field in the reader's language, else in the other one."""
    english, chinese = twins(thing, field)
    return (chinese or english) if reads_chinese() else (english or chinese)


def in_both(thing: object, field: str, english: str | None = None, chinese: str | None = None) -> list[tuple[str, str]]:
    """(text, HTML lang) of the field: the reader's language first, then the other when it is there and differs.

    The lang is "" for a text in the reader's own language (it needs none); the other one, or a fallback, has its own.

    `english` and `chinese` stand in for the fields (the school office named after the student's school).
    """
    own_english, own_chinese = twins(thing, field)
    english = own_english if english is None else english
    chinese = own_chinese if chinese is None else chinese
    both = [(chinese, CHINESE), (english, ENGLISH)] if reads_chinese() else [(english, ENGLISH), (chinese, CHINESE)]
    shown = [(text, lang) for text, lang in both if text]
    if shown and shown[0][1] == both[0][1]:
        shown[0] = (shown[0][0], "")  # in the page's own language: no `lang` of its own
    return shown[:1] if len(shown) == 2 and shown[0][0] == shown[1][0] else shown


def register(env) -> None:
    """Templates call `localized(step, "title")` and `in_both(...)`, and map lists with `|map("localized", "title")`."""
    env.globals.update(localized=localized, in_both=in_both, reads_chinese=reads_chinese)
    env.filters["localized"] = localized
