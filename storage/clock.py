"""Dates as the plan sees them: "today" is a date in the plan's timezone, not UTC."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from storage.models import utcnow

#: The deployment's timezone unless BOT_TIMEZONE says otherwise (the seed plan is Peru's).
DEFAULT_TIMEZONE = "America/Lima"


def today_in(tz: str | dt.tzinfo, now: dt.datetime | None = None) -> dt.date:
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    return (now or utcnow()).astimezone(zone).date()


def end_of_day(day: dt.date, tz: str | dt.tzinfo) -> dt.datetime:
    """The last moment of `day` in the timezone (as UTC): what "the plan as of that day"
    includes."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return midnight.astimezone(dt.UTC) - dt.timedelta(microseconds=1)
