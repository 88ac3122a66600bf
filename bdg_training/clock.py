"""Time where the app is used — config ``TIMEZONE``, Vietnam by default — in one place.

The database keeps aware UTC datetimes; people type and read dates and times in Vietnam time, and "today"
is Vietnam's today: from 17:00 UTC on, the server's ``date.today()`` is already tomorrow's date or still
yesterday's for them. Every module asks here (outside an app context, e.g. a pure script, Vietnam is used).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

from bdg_training.database import as_utc, utcnow

DEFAULT_TZ = "Asia/Ho_Chi_Minh"


def local_tz() -> ZoneInfo:
    """The zone dates and times are typed and shown in (config ``TIMEZONE``)."""
    return ZoneInfo(current_app.config.get("TIMEZONE", DEFAULT_TZ) if has_app_context() else DEFAULT_TZ)


def local_today(now: datetime | None = None) -> date:
    """Today in Vietnam (or the Vietnam day of ``now``)."""
    return (now or utcnow()).astimezone(local_tz()).date()


def local_date(moment: datetime) -> date:
    """The calendar day in Vietnam of an aware (or UTC-naive) moment, e.g. the date printed on a certificate."""
    return as_utc(moment).astimezone(local_tz()).date()


def local_time(value: datetime | None) -> datetime | None:
    """An aware (or UTC-naive) moment in Vietnam time; ``None`` stays ``None``."""
    return None if value is None else as_utc(value).astimezone(local_tz())


def local_to_utc(day: date, moment: time) -> datetime:
    """A wall-clock date and time in Vietnam, as an aware UTC datetime."""
    return datetime.combine(day, moment, tzinfo=local_tz()).astimezone(UTC)
