"""What the system itself writes into the records, read later in each reader's language (rule 9).

A hold placed by an import, why a form was voided, the reason of an audit event: the system writes
these once, and people read them later in English or in Chinese. So the system stores not a sentence
but the catalogue message and its values, `{"say": "hold released: %(reason)s", "with": {"reason":
"paid"}}` (as Django's admin log keeps its change messages), and each reader gets it translated when
it is shown. A value may itself be such a message, or an [English, Chinese] pair such as a step's
title. What people typed (a block's reason) is stored and shown as typed, and so is older text.

`say` is an extraction keyword (see EXTRACT_OPTIONS in the Makefile): its first argument is a
message of the catalogue.
"""

from __future__ import annotations

import json

from flask_babel import gettext

from languages import reads_chinese

MARK = '{"say":'


def say(message: str, **values: object) -> str:
    """What the system says, stored so that each reader reads it in their own language."""
    said: dict[str, object] = {"say": message}
    if values:
        said["with"] = {name: list(value) if isinstance(value, tuple) else value for name, value in values.items()}
    return json.dumps(said, ensure_ascii=False, separators=(",", ":"))


def twin(english: str, chinese: str) -> tuple[str, str]:
    """A value told in both languages (a step's title, an office's name): each reader gets theirs."""
    return english or "", chinese or ""


def read(stored: str | None) -> str:
    """Stored text in the reader's language: what the system said, translated; anything else as it is."""
    said = _said(stored)
    if said is None:
        return stored or ""
    values = {name: _value(value) for name, value in said.get("with", {}).items()}
    return gettext(said["say"], **values)


def _said(stored: str | None) -> dict | None:
    if not stored or not stored.startswith(MARK):
        return None
    try:
        said = json.loads(stored)
    except ValueError:
        return None
    valid = isinstance(said, dict) and isinstance(said.get("say"), str) and isinstance(said.get("with", {}), dict)
    return said if valid else None


def _value(value: object) -> object:
    if isinstance(value, list) and len(value) == 2:
        english, chinese = value
        return (chinese or english) if reads_chinese() else (english or chinese)
    if isinstance(value, str):
        return read(value)  # a message inside a message, e.g. an import's hold reason in a voided form's reason
    return value


def register(env) -> None:
    """Templates show stored reasons with `|said`: `{{ hold.reason|said }}`."""
    env.filters["said"] = read
