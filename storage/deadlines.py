"""Deadlines read from the free text of a plan ("Enero 2012", "Primer semestre 2012", "A la
recepción del tercer desembolso"...).

The original text is always kept. What can be read from it: the first and the last day of the
period it names (a month is due on its last day, a range at its end, a semester or quarter on its
last day, a bare year on 31 December); "a partir de" starts without an end; an event ("a la
recepción de...", "al cierre...") has no date and is conditional, never overdue; "permanente" or
"continuo" is ongoing. Spanish first, case and accent insensitive, English month names too, and
text broken across lines by a PDF dump. Text that cannot be read is kept as UNKNOWN: never an
error.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum


class DeadlineKind(StrEnum):
    DATE = "date"
    MONTH = "month"
    RANGE = "range"
    QUARTER = "quarter"
    SEMESTER = "semester"
    FROM_DATE = "from_date"
    EVENT = "event"
    ONGOING = "ongoing"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Deadline:
    text: str
    kind: DeadlineKind
    start: dt.date | None
    due: dt.date | None

    @property
    def is_dated(self) -> bool:
        return self.due is not None

    @property
    def is_conditional(self) -> bool:
        return self.kind == DeadlineKind.EVENT


MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    [
        ("enero", "ene", "january", "jan"),
        ("febrero", "feb", "february"),
        ("marzo", "mar", "march"),
        ("abril", "abr", "april", "apr"),
        ("mayo", "may"),
        ("junio", "jun", "june"),
        ("julio", "jul", "july"),
        ("agosto", "ago", "august", "aug"),
        ("septiembre", "setiembre", "sep", "set", "sept", "september"),
        ("octubre", "oct", "october"),
        ("noviembre", "nov", "november"),
        ("diciembre", "dic", "december", "dec"),
    ],
    start=1,
):
    for _name in _names:
        MONTHS[_name] = _number

ORDINALS = {
    "primer": 1, "primero": 1, "1er": 1, "1ro": 1, "1o": 1, "1": 1, "i": 1, "first": 1,
    "segundo": 2, "2do": 2, "2o": 2, "2": 2, "ii": 2, "second": 2,
    "tercer": 3, "tercero": 3, "3er": 3, "3ro": 3, "3o": 3, "3": 3, "iii": 3, "third": 3,
    "cuarto": 4, "4to": 4, "4o": 4, "4": 4, "iv": 4, "fourth": 4,
}  # fmt: skip

_MONTH = r"(?P<{name}>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_YEAR = r"(?P<{name}>\d{{4}}|\d{{2}})"
_DE = r"(?:\s+de(?:l)?)?\s*"
_ORDINAL = r"(?P<ord>" + "|".join(sorted(map(re.escape, ORDINALS), key=len, reverse=True)) + r")"

EVENT_PREFIXES = (
    "a la ", "al ", "a los ", "a las ", "cuando ", "tras ", "despues de", "despues del",
    "una vez", "upon ", "after ", "once ", "en cuanto", "luego de", "previo a",
)  # fmt: skip
ONGOING_WORDS = (
    "permanente", "continuo", "continua", "en curso", "durante todo", "ongoing", "continuous",
    "todo el programa", "a lo largo",
)  # fmt: skip
FROM_PREFIXES = ("a partir de", "a partir del", "desde", "from", "starting", "since")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    plain = plain.replace("º", "o").replace("°", "o").replace("ª", "a")
    plain = re.sub(r"[–—‐]", "-", plain)
    return re.sub(r"\s+", " ", plain).strip(" .;,")


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 70 else 1900
    return year


def _last_day(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


Period = tuple[dt.date, dt.date, DeadlineKind]

_DAY_MONTH_YEAR = re.compile(
    r"^(?P<d>\d{1,2})" + _DE + _MONTH.format(name="m") + _DE + _YEAR.format(name="y") + "$"
)
_MONTH_DAY_YEAR = re.compile(
    "^" + _MONTH.format(name="m") + r"\s+(?P<d>\d{1,2}),?\s+" + _YEAR.format(name="y") + "$"
)
_MONTH_YEAR = re.compile(
    "^" + _MONTH.format(name="m") + r"(?:\s+de(?:l)?)?[\s/-]*" + _YEAR.format(name="y") + "$"
)
_NUMERIC = re.compile(r"^(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4}|\d{2})$")
_ISO = re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$")
_SEMESTER = re.compile(
    "^" + _ORDINAL + r"\s*(?:semestre|semester|half)" + _DE + _YEAR.format(name="y") + "$"
)
_QUARTER = re.compile(
    "^" + _ORDINAL + r"\s*(?:trimestre|quarter)" + _DE + _YEAR.format(name="y") + "$"
)
_QUARTER_SHORT = re.compile(r"^(?:t|q)(?P<ord>[1-4])\s*(?:de\s+|del\s+)?(?P<y>\d{4}|\d{2})$")
_YEAR_ONLY = re.compile(r"^(?:ano\s+|year\s+)?(?P<y>\d{4})$")


def _period(text: str) -> Period | None:
    """The period a short phrase names: a day, a month, a quarter, a semester or a year."""
    text = text.strip(" .;,")
    if m := _ISO.match(text):
        day = _date(int(m["y"]), int(m["m"]), int(m["d"]))
        return (day, day, DeadlineKind.DATE) if day else None
    if m := _NUMERIC.match(text):
        day = _date(_year(m["y"]), int(m["m"]), int(m["d"]))
        return (day, day, DeadlineKind.DATE) if day else None
    if (m := _DAY_MONTH_YEAR.match(text)) or (m := _MONTH_DAY_YEAR.match(text)):
        day = _date(_year(m["y"]), MONTHS[m["m"]], int(m["d"]))
        return (day, day, DeadlineKind.DATE) if day else None
    if m := _MONTH_YEAR.match(text):
        year, month = _year(m["y"]), MONTHS[m["m"]]
        return dt.date(year, month, 1), _last_day(year, month), DeadlineKind.MONTH
    if m := _SEMESTER.match(text):
        n, year = ORDINALS[m["ord"]], _year(m["y"])
        if n > 2:
            return None
        return dt.date(year, 6 * n - 5, 1), _last_day(year, 6 * n), DeadlineKind.SEMESTER
    if (m := _QUARTER.match(text)) or (m := _QUARTER_SHORT.match(text)):
        n, year = ORDINALS[m["ord"]], _year(m["y"])
        return dt.date(year, 3 * n - 2, 1), _last_day(year, 3 * n), DeadlineKind.QUARTER
    if m := _YEAR_ONLY.match(text):
        year = int(m["y"])
        return dt.date(year, 1, 1), dt.date(year, 12, 31), DeadlineKind.RANGE
    return None


_RANGE_SPLIT = re.compile(
    r"\s*(?:\s-\s|-(?=\s*[a-z])|\s+a\s+|\s+al\s+|\s+hasta\s+|\s+to\s+|\s+y\s+)\s*"
)
_SHARED_YEAR = re.compile(r"(\d{4}|\d{2})$")


def _range(text: str) -> Period | None:
    """ "Diciembre 2011 – enero 2012", "enero a marzo 2012", "entre enero y marzo de 2012"."""
    text = re.sub(r"^(?:entre|de|del|from|between)\s+", "", text)
    parts = _RANGE_SPLIT.split(text, maxsplit=1)
    if len(parts) != 2:
        return None
    first, last = parts
    end = _period(last)
    if end is None:
        return None
    begin = _period(first)
    if begin is None and (year := _SHARED_YEAR.search(last)):
        begin = _period(f"{first} {year.group(1)}")
    if begin is None or begin[0] > end[1]:
        return None
    return begin[0], end[1], DeadlineKind.RANGE


def _variants(text: str) -> list[str]:
    """The folded text, and the same with line breaks removed inside words ("desembols\\no")."""
    joined = re.sub(r"(?<=\w)-?\s*\n\s*(?=\w)", "", text)
    return list(dict.fromkeys([_fold(text), _fold(joined)]))


def _read(folded: str) -> tuple[DeadlineKind, dt.date | None, dt.date | None] | None:
    for prefix in ("antes del ", "antes de ", "hasta el ", "hasta ", "al ", "by ", "before ",
                   "para el ", "para "):  # fmt: skip
        if folded.startswith(prefix) and (found := _period(folded[len(prefix) :])):
            return found[2], found[0], found[1]
    if found := _period(folded):
        return found[2], found[0], found[1]
    for prefix in FROM_PREFIXES:
        if folded.startswith(prefix):
            rest = folded[len(prefix) :].strip()
            rest = re.sub(r"^(?:el|la|del|de)\s+", "", rest)
            if found := _period(rest):
                return DeadlineKind.FROM_DATE, found[0], None
    if found := _range(folded):
        return found[2], found[0], found[1]
    if any(folded.startswith(word) or folded == word.strip() for word in ONGOING_WORDS):
        return DeadlineKind.ONGOING, None, None
    if folded.startswith(EVENT_PREFIXES):
        return DeadlineKind.EVENT, None, None
    return None


def parse_deadline(text: str | None) -> Deadline:
    """Read a deadline; never raises. Unreadable text is kept with kind UNKNOWN."""
    original = (text or "").strip()
    if not original:
        return Deadline("", DeadlineKind.UNKNOWN, None, None)
    for folded in _variants(original):
        found = _read(folded)
        if found is not None:
            kind, start, due = found
            return Deadline(original, kind, start, due)
    return Deadline(original, DeadlineKind.UNKNOWN, None, None)
