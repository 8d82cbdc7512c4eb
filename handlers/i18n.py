"""Translations and locale-aware formatting, through Babel.

The catalogs and their loading live in `locales` (storage reads labels from them too); the names
are re-exported here for the handlers. Placeholders use `str.format` names and their values are
HTML-escaped unless wrapped in `Safe`, because every message is sent with parse mode HTML.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time, format_timedelta
from babel.numbers import format_decimal, format_percent

from locales import DEFAULT_LOCALE, SUPPORTED, translations
from locales import LOCALES_DIR as LOCALES_DIR  # re-exported for the handlers
from locales import N_ as N_  # re-exported for the handlers
from storage.clock import DEFAULT_TIMEZONE

Granularity = Literal["year", "month", "week", "day", "hour", "minute", "second"]


class Safe(str):
    """A value already escaped (or markup we wrote): not escaped again when formatted in."""


@lru_cache(maxsize=8)
def babel_locale(code: str) -> Locale:
    """Parsed once per process: Babel parses a locale string on every call otherwise."""
    return Locale.parse(code)


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def pick_locale(*candidates: str | None) -> str:
    """The first supported language among the person's choice, Telegram's and the default."""
    for candidate in candidates:
        if candidate:
            code = candidate.replace("_", "-").split("-")[0].lower()
            if code in SUPPORTED:
                return code
    return DEFAULT_LOCALE


def _escape(value: Any) -> Any:
    if isinstance(value, Safe | int | float):
        return value
    return html.escape(str(value), quote=False)


@dataclass(frozen=True)
class Tr:
    """Text and formats for one person: their language and the deployment's timezone."""

    locale: str = DEFAULT_LOCALE
    timezone: str = DEFAULT_TIMEZONE

    @property
    def tz(self) -> ZoneInfo:
        return _zone(self.timezone)

    @property
    def babel_locale(self) -> Locale:
        return babel_locale(self.locale)

    def _(self, message: str, /, **values: Any) -> str:
        text = translations(self.locale).gettext(message)
        return text.format(**{k: _escape(v) for k, v in values.items()}) if values else text

    def n_(self, singular: str, plural: str, n: int, /, **values: Any) -> str:
        text = translations(self.locale).ngettext(singular, plural, n)
        return text.format(n=self.number(n), **{k: _escape(v) for k, v in values.items()})

    def raw(self, message: str, /, **values: Any) -> str:
        """Translated text for plain-text places (button labels, file cells): no escaping."""
        text = translations(self.locale).gettext(message)
        return text.format(**values) if values else text

    def date(self, value: dt.date, format: str = "medium") -> str:
        return format_date(value, format=format, locale=self.babel_locale)

    def short_date(self, value: dt.date) -> str:
        """ "31 ene 2012" in Spanish, "Jan 31, 2012" in English."""
        return format_date(value, format="medium", locale=self.babel_locale).replace(".", "")

    def datetime(self, value: dt.datetime) -> str:
        """A moment in the deployment's timezone: the date as `short_date` writes it, then the
        time ("31 ene 2012, 10:00"; "Jan 31, 2012, 10:00 AM"), so dates read alike everywhere."""
        local = value.astimezone(self.tz)
        time = format_time(local, format="short", locale=self.babel_locale)
        return f"{self.short_date(local.date())}, {time}"

    def day(self, value: dt.datetime) -> str:
        """The local date of a moment, as `short_date` writes dates."""
        return self.short_date(self.local_date(value))

    def local_date(self, value: dt.datetime) -> dt.date:
        return value.astimezone(self.tz).date()

    def number(self, value: float) -> str:
        return format_decimal(value, locale=self.babel_locale)

    def percent(self, share: float) -> str:
        return format_percent(share, locale=self.babel_locale)

    def timedelta(self, delta: dt.timedelta, granularity: Granularity = "day") -> str:
        """A duration in words ("3 meses"); months and years are approximate, as Babel rounds."""
        return format_timedelta(
            delta, granularity=granularity, threshold=1.0, format="long", locale=self.babel_locale
        )
