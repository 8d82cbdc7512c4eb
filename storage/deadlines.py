"""Deadlines read from the free text of a plan ("Enero 2012", "Primer semestre 2012", "A la
recepción del tercer desembolso"...).

`parse_deadline(text)` never raises. It keeps the original text (outer whitespace stripped) and
reads, when it can, the first day of the period the text names (`start`) and the last day the
action is due (`due`):

- DATE: one day. "28 febrero 2012", "28 de febrero de 2012", "15/03/2012" (day first; "-" or
  "." work too), "2012-03-15", "March 15, 2012". `start == due`. An impossible day
  ("31/02/2012") is UNKNOWN.
- MONTH: "Enero 2012", "ENE 2012", "Marzo de 2012", "ene-12", "03/2012", "2012-03": from the 1st
  to the last day of the month.
- QUARTER: "Segundo trimestre 2012", "2do trimestre", "T2 2012", "Q2 2012" (three months).
- SEMESTER: "Primer semestre 2012", "1er/I/2° semestre", "S1 2012": 1 January-30 June or
  1 July-31 December.
- RANGE: two of the above joined by "-", "–", "—", "a", "al", "hasta", "y" (also "entre X y Y",
  "desde X hasta Y"): from the start of the first to the end of the last. A year written only at
  the end is shared ("enero a marzo 2012"; "diciembre a enero 2012" starts in December 2011), and
  so are the month and year of a bare first day ("del 1 al 15 de marzo de 2012"). A bare year
  ("2012", "Año 2012", "2011-2012") is also a RANGE, 1 January to 31 December: plans use it for
  "some time that year", and there is no YEAR kind.
- FROM_DATE: "A partir de enero 2012", "Desde febrero 2012", "A partir del 15/03/2012": `start`
  is the start of the period, there is no `due`.
- EVENT: a condition rather than a date, so never overdue: the text starts with "a la", "al",
  "cuando", "tras", "después de", "una vez", "antes de", "hasta el", "upon", "after", "when"...
  ("A la recepción del tercer desembolso", "Al cierre del programa"). A date wins over these
  words: "Al 31 de marzo 2012", "Hasta marzo 2012", "Antes del 15/03/2012", "By March 2012" and
  "A fines de 2012" are read as the date, month or year that follows them.
- ONGOING: "Permanente", "Continuo", "Continua", "En curso", "Durante todo el programa",
  "Ongoing", "Continuous", and recurring work ("Anual", "Mensual", "Cada trimestre").
- UNKNOWN: anything else, including an empty text or None (text ""), and a month or semester
  without a year ("Enero", "Primer semestre"): nothing is guessed.

Months are the Spanish names ("setiembre" too), their three-letter abbreviations with or
without a dot (ENE, FEB, MAR, ABR, MAY, JUN, JUL, AGO, SEP/SET, OCT, NOV, DIC), and the English
names and abbreviations. Reading is case and accent insensitive and collapses whitespace; "de",
"del" or "of" between the parts is optional. Two-digit years are 2000-2069 (00-69) or 1970-1999
(70-99); four-digit years outside 1900-2199 are not read as years. PDF dumps break lines inside
words ("desembols\\no"), so the text is also tried with line breaks removed, and without notes
in brackets ("Marzo 2012 (tentativo)").
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import NamedTuple

from storage.text import fold


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
    """A deadline as written in the plan, and what could be read from it."""

    text: str
    kind: DeadlineKind
    start: date | None
    due: date | None

    @property
    def is_dated(self) -> bool:
        """Whether the action is due on a known day (and so can be overdue)."""
        return self.due is not None

    @property
    def is_conditional(self) -> bool:
        """Whether the action waits for an event rather than a date."""
        return self.kind == DeadlineKind.EVENT


# Vocabulary (folded: lower case, no accents).

MONTHS: dict[str, int] = {
    name: number
    for number, names in enumerate(
        [
            ("enero", "ene", "january", "jan"),
            ("febrero", "feb", "february"),
            ("marzo", "mar", "march"),
            ("abril", "abr", "april", "apr"),
            ("mayo", "may"),
            ("junio", "jun", "june"),
            ("julio", "jul", "july"),
            ("agosto", "ago", "august", "aug"),
            ("septiembre", "setiembre", "sep", "set", "sept", "setp", "september"),
            ("octubre", "oct", "october"),
            ("noviembre", "nov", "november"),
            ("diciembre", "dic", "december", "dec"),
        ],
        start=1,
    )
    for name in names
}

ORDINALS: dict[str, int] = {
    "primer": 1, "primero": 1, "primera": 1, "1er": 1, "1ero": 1, "1ro": 1, "1ra": 1, "1o": 1,
    "1a": 1, "1": 1, "i": 1, "first": 1, "1st": 1,
    "segundo": 2, "segunda": 2, "2do": 2, "2da": 2, "2o": 2, "2a": 2, "2": 2, "ii": 2,
    "second": 2, "2nd": 2,
    "tercer": 3, "tercero": 3, "tercera": 3, "3er": 3, "3ero": 3, "3ro": 3, "3ra": 3, "3o": 3,
    "3a": 3, "3": 3, "iii": 3, "third": 3, "3rd": 3,
    "cuarto": 4, "cuarta": 4, "4to": 4, "4ta": 4, "4o": 4, "4a": 4, "4": 4, "iv": 4,
    "fourth": 4, "4th": 4,
}  # fmt: skip

#: Words naming a part of a year, and how many months the part lasts.
PART_WORDS: dict[str, int] = {
    "semestre": 6, "semester": 6, "sem": 6, "half": 6,
    "trimestre": 3, "quarter": 3, "trim": 3, "qtr": 3,
}  # fmt: skip
PART_LETTERS: dict[str, int] = {"s": 6, "h": 6, "t": 3, "q": 3}
PART_KINDS: dict[int, DeadlineKind] = {6: DeadlineKind.SEMESTER, 3: DeadlineKind.QUARTER}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Words that may come before a date without changing it: "al 31 de marzo", "hasta marzo 2012",
#: "a más tardar el 15/03/2012", "by the end of 2012", "fecha límite: ...", "lunes 15 de...".
LEAD_WORDS = _words(
    "a al el la los las hasta antes para en durante por de del hacia fecha limite plazo mas "
    "tardar fin fines final finales cierre aprox aproximadamente "
    "by before in during until till due the of end no later than on at around deadline "
    "lunes martes miercoles jueves viernes sabado domingo "
    "monday tuesday wednesday thursday friday saturday sunday"
)
#: More words that may open a range: "entre enero y marzo", "desde enero hasta marzo".
RANGE_LEAD_WORDS = LEAD_WORDS | {"entre", "desde", "partir", "from", "between", "starting"}
#: What the start of a FROM_DATE looks like, and the words that may follow it.
FROM_START = re.compile(
    r"^(?:a partir|desde|a contar|comenzando|empezando|iniciando|from|starting|beginning|since)\b"
)
FROM_LEAD_WORDS = _words("de del el la los las en in on the from")

ONGOING = re.compile(
    r"^(?:permanente(?:mente)?|permanent(?:ly)?|continu[oa]s?|continuamente|continuous(?:ly)?"
    r"|ongoing|on-going|en curso|constante(?:mente)?|recurrente|periodic[oa]?"
    r"|(?:en|de) (?:forma|manera|modo) (?:permanente|continua|constante|periodica)"
    r"|durante (?:todo|toda|la ejecucion|la implementacion|la vida|el programa|el proyecto)"
    r"|a lo largo|todo el (?:ano|programa|proyecto|periodo)|throughout"
    r"|(?:anual|mensual|semestral|trimestral|bimestral|semanal)(?:mente)?"
    r"|annual(?:ly)?|monthly|quarterly|weekly|cada|every)\b"
)
EVENT = re.compile(
    r"^(?:a la|a las|al|a los|cuando|tras|despues de|despues del|luego de|luego del|una vez"
    r"|en cuanto|apenas|previo a|previo al|antes de|antes del|hasta (?:el|la|los|las|que)"
    r"|con la|con el|sujeto a|condicionado a|supeditado a|dependiendo de|en funcion de"
    r"|upon|after|once|when|following|subject to|prior to|before|until|at the|on completion"
    r"|on receipt|on approval)\b"
)


# Text.


def _normalise(text: str) -> str:
    """Folded (`storage.text.fold`), the degree sign read as the ordinal "o" ("1°" like "1º",
    which folding already makes "1o"), every dash a hyphen, no punctuation at the ends."""
    plain = fold(text).replace("°", "o")
    plain = re.sub(r"[‐‑‒–—―−]", "-", plain)
    return plain.strip(" .,;:\"'“”«»")


def _variants(text: str) -> list[str]:
    """The folded text as written; then with line breaks inside words removed ("desembols\\no"),
    then with every line break removed, then without notes in brackets."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    candidates = (
        text,
        re.sub(r"(?<=\w)-?\n(?=\w)", "", text),
        re.sub(r"(?<=\w)[ \t]*-?\n[ \t]*(?=\w)", "", text),
        re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", text),
    )
    return [v for v in dict.fromkeys(_normalise(c) for c in candidates) if v]


def _peeled(text: str, words: frozenset[str] | set[str]) -> Iterator[str]:
    """The text, then the text without each of its leading `words` in turn."""
    tokens = text.split(" ")
    for index, token in enumerate(tokens):
        yield " ".join(tokens[index:])
        if token.strip(",:") not in words:
            return


# Periods.


class Period(NamedTuple):
    start: date
    end: date
    kind: DeadlineKind


def _year(text: str) -> int | None:
    """A four-digit year in 1900-2199, or a two-digit one (00-69: 2000s, 70-99: 1900s)."""
    year = int(text)
    if len(text) == 2:
        return year + (2000 if year < 70 else 1900)
    return year if 1900 <= year <= 2199 else None


def _months(year: int | None, first: int, count: int, kind: DeadlineKind) -> Period | None:
    """`count` months from month `first` of `year`."""
    last = first + count - 1
    if year is None or not 1 <= first <= last <= 12:
        return None
    return Period(date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1]), kind)


def _day(year: int | None, month: int, day: int) -> Period | None:
    if year is None:
        return None
    try:
        found = date(year, month, day)
    except ValueError:
        return None
    return Period(found, found, DeadlineKind.DATE)


def _month_number(match: re.Match[str]) -> int:
    name = match.groupdict().get("mon")
    return MONTHS[name] if name else int(match["mn"])


def _alternatives(words: Iterable[str]) -> str:
    """A regex alternation of `words`, longest first (so "marzo" is tried before "mar")."""
    return "|".join(sorted(map(re.escape, words), key=len, reverse=True))


_MON = rf"(?P<mon>{_alternatives(MONTHS)})\.?"
_YEAR = r"(?P<y>\d{4}|\d{2})"
_DAY = r"(?P<d>\d{1,2})(?:st|nd|rd|th|ro|er|o)?"
_ORD = rf"(?P<ord>{_alternatives(ORDINALS)})\.?"
_PART = rf"(?P<part>{_alternatives(PART_WORDS)})\.?"
_LETTER = r"(?P<letter>[shtq])"
#: Between the parts of a date: spaces, commas, "/", "-", ".", then maybe "de", "del", "of".
_SEP = r"[\s,/.-]*(?:\b(?:de|del|of)\b[\s,/.-]*)?(?:\b(?:ano|year)\b\s*)?"
#: The same, but something must be there (so "mar 2012" is not "March 20, (20)12").
_GAP = r"(?:[\s,]+|[\s,]*\b(?:de|del|of)\b)[\s,]*(?:\b(?:de|del|of)\b\s*)?"


def _read_day(m: re.Match[str]) -> Period | None:
    return _day(_year(m["y"]), _month_number(m), int(m["d"]))


def _read_month(m: re.Match[str]) -> Period | None:
    return _months(_year(m["y"]), _month_number(m), 1, DeadlineKind.MONTH)


def _read_part(m: re.Match[str]) -> Period | None:
    groups = m.groupdict()
    size = PART_WORDS[groups["part"]] if groups.get("part") else PART_LETTERS[groups["letter"]]
    number = ORDINALS[groups["ord"]]
    return _months(_year(m["y"]), size * (number - 1) + 1, size, PART_KINDS[size])


def _read_year(m: re.Match[str]) -> Period | None:
    return _months(_year(m["y"]), 1, 12, DeadlineKind.RANGE)


Reader = Callable[[re.Match[str]], Period | None]

_PATTERN_SOURCES: list[tuple[str, Reader]] = [
    (r"(?P<y>\d{4})(?P<s>[/.-])(?P<mn>\d{1,2})(?P=s)(?P<d>\d{1,2})", _read_day),
    (rf"(?P<d>\d{{1,2}})(?P<s>[/.-])(?P<mn>\d{{1,2}})(?P=s){_YEAR}", _read_day),
    (rf"{_DAY}{_SEP}{_MON}{_GAP}{_YEAR}", _read_day),
    (rf"{_MON}{_SEP}{_DAY}{_GAP}{_YEAR}", _read_day),
    (rf"{_MON}{_SEP}{_YEAR}", _read_month),
    (r"(?P<mn>\d{1,2})[/.-](?P<y>\d{4})", _read_month),
    (r"(?P<y>\d{4})[/-](?P<mn>\d{1,2})", _read_month),
    (rf"{_ORD}\s*{_PART}{_SEP}{_YEAR}", _read_part),
    (rf"{_PART}\s*{_ORD}{_SEP}{_YEAR}", _read_part),
    (rf"{_LETTER}\s*(?P<ord>[1-4])\b{_SEP}{_YEAR}", _read_part),
    (rf"(?P<ord>[1-4])\s*{_LETTER}\b{_SEP}{_YEAR}", _read_part),
    (rf"(?P<y>\d{{4}})[\s/-]*{_LETTER}(?P<ord>[1-4])", _read_part),
    (r"(?:(?:ano|year|gestion|ejercicio)\s+)?(?P<y>\d{4})", _read_year),
]
#: Whole-phrase patterns, tried in order.
PATTERNS: list[tuple[re.Pattern[str], Reader]] = [
    (re.compile(rf"^(?:{source})$"), read) for source, read in _PATTERN_SOURCES
]


def _period(text: str) -> Period | None:
    """The single period a whole phrase names: a day, month, quarter, semester or year."""
    text = text.strip(" .,;:")
    for pattern, read in PATTERNS:
        if match := pattern.match(text):
            return read(match)
    return None


# Ranges.

_RANGE_SEPARATOR = re.compile(
    r"\s*-\s*|\s+(?:a|al|hasta|y|e|to|until|till|through|thru|and)\s+(?:el\s+|the\s+)?"
)
_BARE_DAY = re.compile(r"^(?:el\s+)?(?P<d>\d{1,2})(?:st|nd|rd|th|ro|er|o)?$")


def _first_part(first: str, end: Period) -> Period | None:
    """The first part of a range, borrowing what it leaves out from the last part."""
    if found := _period(first):
        return found
    if (bare := _BARE_DAY.match(first)) and end.kind == DeadlineKind.DATE:
        return _day(end.end.year, end.end.month, int(bare["d"]))
    if re.search(r"\d$", first):
        return None
    for year in (end.end.year, end.end.year - 1):  # "diciembre a enero 2012": December 2011
        found = _period(f"{first} {year}")
        if found and found.start <= end.end:
            return found
    return None


def _range(text: str) -> Period | None:
    """Two periods joined by a separator; every separator is tried ("ene-12 - mar-12")."""
    for separator in _RANGE_SEPARATOR.finditer(text):
        first, last = text[: separator.start()], text[separator.end() :]
        if not first or not (end := _period(last)):
            continue
        begin = _first_part(first, end)
        if begin is not None and begin.start <= end.end:
            return Period(begin.start, end.end, DeadlineKind.RANGE)
    return None


# Reading.

Reading = tuple[DeadlineKind, date | None, date | None]


def _read(folded: str) -> Reading | None:
    for text in _peeled(folded, LEAD_WORDS):
        if found := _period(text):
            return found.kind, found.start, found.end
    if FROM_START.match(folded):
        rest = FROM_START.sub("", folded, count=1).strip()
        for text in _peeled(rest, FROM_LEAD_WORDS):
            if found := _period(text):
                return DeadlineKind.FROM_DATE, found.start, None
    for text in _peeled(folded, RANGE_LEAD_WORDS):
        if found := _range(text):
            return found.kind, found.start, found.end
    if ONGOING.match(folded):
        return DeadlineKind.ONGOING, None, None
    if EVENT.match(folded):
        return DeadlineKind.EVENT, None, None
    return None


def parse_deadline(text: str | None) -> Deadline:
    """Read a deadline from the plan's text. Never raises: what cannot be read is UNKNOWN."""
    original = text.strip() if isinstance(text, str) else ""
    if not original:
        return Deadline("", DeadlineKind.UNKNOWN, None, None)
    for folded in _variants(original):
        if found := _read(folded):
            return Deadline(original, *found)
    return Deadline(original, DeadlineKind.UNKNOWN, None, None)
