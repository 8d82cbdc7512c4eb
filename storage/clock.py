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
