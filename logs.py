"""The app's log: one line per event on stderr (gunicorn keeps it), in UTC, with the request's id.

Each request carries an id: the `X-Request-ID` a proxy sent when it is a short safe token, else a
new one; it goes back in the response header, onto every log line of the request and onto the
error page, so a person's "it failed at 10:02" finds its line. Whatever a user typed is escaped
before it is written (`key=value` pairs, values quoted), so a line break in a name cannot forge a
second line. Passwords and form tokens are never logged: events name the route, not the path.
"""

from __future__ import annotations

import logging
import re
import secrets
import sys
import time

from flask import Flask, g, has_request_context, request

LOGGER = "leaving"
REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
REFUSALS = {403: "denied", 429: "rate-limited"}  # logged for every response; 500 and 503 where they happen
_BARE_VALUE = re.compile(r"[^\s\"'=\\]+")


def request_id() -> str:
    """This request's id (the proxy's when it is a short safe token), made once per request; "-" outside one."""
    if not has_request_context():
        return "-"
    if "request_id" not in g:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = given if _SAFE_REQUEST_ID.fullmatch(given) else secrets.token_hex(8)
    return g.request_id


def escape(text: str) -> str:
    """The text with every unprintable character (line breaks, controls, bidi overrides) written as an escape."""
    return "".join(char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in text)


def quoted(value: object) -> str:
    """A value as it stands after `key=`: bare when it is one plain word, else in double quotes, escaped."""
    text = "" if value is None else str(value)
    if _BARE_VALUE.fullmatch(text) and text.isprintable():
        return text
    return '"' + escape(text.replace("\\", "\\\\").replace('"', '\\"')) + '"'


def pairs(**fields: object) -> str:
    """`key=value key="two words"`: one event on one line, whatever the values hold."""
    return " ".join(f"{key}={quoted(value)}" for key, value in fields.items())


def route() -> str:
    """The route of this request (`/verify/<token>`), never its path, which may carry a token."""
    return request.url_rule.rule if request.url_rule else "(no route)"


class _RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id()
        return True


class _OneLineFormatter(logging.Formatter):
    """UTC time; the message escaped; a traceback's lines indented, so none of them reads as a new event."""

    converter = time.gmtime

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s request_id=%(request_id)s %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%S", self.converter(record.created)) + f".{int(record.msecs):03d}Z"

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape(record.message)
        return super().formatMessage(record)

    def formatException(self, ei) -> str:
        return "\n".join("    | " + escape(line) for line in super().formatException(ei).splitlines())

    def formatStack(self, stack_info: str) -> str:
        return "\n".join("    | " + escape(line) for line in stack_info.splitlines())


class _Stderr(logging.StreamHandler):
    """Whatever sys.stderr is when a line is written (gunicorn's, or a test's capture), not at start-up."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


HANDLER = _Stderr()
HANDLER.setFormatter(_OneLineFormatter())
HANDLER.addFilter(_RequestId())


def configure(app: Flask) -> None:
    """Send the app's log and Flask's own to stderr in one format; the request id travels in the response."""
    from flask.logging import default_handler

    for logger in (logging.getLogger(LOGGER), app.logger):
        logger.removeHandler(default_handler)
        if HANDLER not in logger.handlers:
            logger.addHandler(HANDLER)
    logging.getLogger(LOGGER).setLevel(logging.INFO)

    @app.after_request
    def send_request_id(response):
        if response.status_code in REFUSALS:  # however the view refused: abort(), an error page or its own page
            refused(REFUSALS[response.status_code], response.status_code)
        response.headers[REQUEST_ID_HEADER] = request_id()
        return response


def refused(name: str, status: int, level: int = logging.WARNING, exc_info=None, **fields: object) -> None:
    """Log a request the app refused or failed (403, 429, 500, 503): who, which route, and why, on one line."""
    account = g.get("_login_user")  # the account Flask-Login loaded, if any: no query while handling a failure
    user = getattr(account, "username", None) or "-"
    details = pairs(event=name, status=status, method=request.method, route=route(), user=user, **fields)
    logging.getLogger(f"{LOGGER}.http").log(level, details, exc_info=exc_info)
