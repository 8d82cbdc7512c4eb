""" "As of a date" in a command's words: `/resumen al 31/03/2012`, `/exportar pdf al 31-03-2012`,
`as of 2012-03-31`. The date is read day first (31/03/2012, 31-03-2012, 31.03.2012) or ISO
(2012-03-31); a date that cannot be read, or one after today, gets a clear answer with an
example instead of a guess."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from handlers.i18n import Tr
from storage.text import fold

_DAY_FIRST = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DATE_LIKE = re.compile(r"\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}")
#: The words that introduce the date ("al 31/03/2012", "as of 2012-03-31").
_LEADS = (("as", "of"), ("al",))


def read_day(text: str) -> dt.date | None:
    """A day written 31/03/2012, 31-03-2012, 31.03.2012 or 2012-03-31; None otherwise."""
    text = text.strip()
    match = _ISO.match(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = _DAY_FIRST.match(text)
        if not match:
            return None
        day, month, year = (int(g) for g in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def compact(day: dt.date | None) -> str:
    """The day as button data carries it: YYYYMMDD ("" for now)."""
    return f"{day:%Y%m%d}" if day is not None else ""


def from_compact(text: str) -> dt.date | None:
    """The day of `compact`; None for "" or anything else."""
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class AsOf:
    """The words without the date, the day asked for (None: now), or what is wrong with it."""

    words: list[str]
    day: dt.date | None = None
    error: str | None = None


def _lead(folded: list[str], index: int) -> int:
    """How many words before `index` introduce a date ("al": 1, "as of": 2), 0 for none."""
    for lead in _LEADS:
        if index >= len(lead) and tuple(folded[index - len(lead) : index]) == lead:
            return len(lead)
    return 0


def take_as_of(words: list[str], tr: Tr, today: dt.date, example: str) -> AsOf:
    """Take "al DATE" (or a bare DATE) out of the command's words. `example` is the command
    shown in the answer to a wrong date ("/resumen al 31/03/2012"). A day from today on is now
    (None): the plan as it stands. After "al", any word with a digit is taken for a date; alone,
    only one written like a date (so "/resumen 2 y 3" stays a recommendation)."""
    folded = [fold(w) for w in words]
    for index, word in enumerate(words):
        lead = _lead(folded, index)
        if not (_DATE_LIKE.fullmatch(word) or (lead and any(c.isdigit() for c in word))):
            continue
        rest = words[: index - lead] + words[index + 1 :]
        day = read_day(word)
        if day is None:
            return AsOf(rest, error=_wrong(tr, word, example))
        if day > today:
            return AsOf(
                rest,
                error=tr._(
                    "{date} has not come yet: ask for a day up to today, for example {example}",
                    date=tr.short_date(day),
                    example=example,
                ),
            )
        return AsOf(rest, day if day < today else None)
    return AsOf(words)


def _wrong(tr: Tr, text: str, example: str) -> str:
    return tr._(
        "I could not read the date “{text}”. Write it day/month/year, for example {example}",
        text=text,
        example=example,
    )
