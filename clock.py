"""Time: stored as naive UTC, shown and reasoned about in the university's time zone.

Tests control the clock by setting `app.config["NOW"]` to a callable returning an
aware or naive-UTC datetime.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app


def utcnow() -> datetime:
    """The current time as naive UTC, the form every timestamp is stored in."""
    override = current_app.config.get("NOW") if current_app else None
    now = override() if override else datetime.now(UTC)
    if now.tzinfo is not None:
        now = now.astimezone(UTC).replace(tzinfo=None)
    return now


def university_zone() -> ZoneInfo:
    """The university's time zone from configuration."""
    return ZoneInfo(current_app.config["UNIVERSITY_TZ"])


def local(moment: datetime) -> datetime:
    """A stored naive-UTC timestamp in the university's time zone."""
    return moment.replace(tzinfo=UTC).astimezone(university_zone())


def today() -> date:
    """Today's date in the university's time zone (windows are inclusive local dates)."""
    return local(utcnow()).date()


def start_of_day_utc(day: date) -> datetime:
    """Midnight at the start of a university-local day, as stored (naive UTC)."""
    return datetime.combine(day, time(0), tzinfo=university_zone()).astimezone(UTC).replace(tzinfo=None)
