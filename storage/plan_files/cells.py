"""Cells as read from a file (text, or a formula without its value), and cell text both ways:
what a workbook value reads as, and the CSV escaping of text that looks like a formula."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

#: The control characters a workbook cannot hold (openpyxl's ILLEGAL_CHARACTERS_RE, written
#: here so that reading a CSV file or checking a file's limits does not import openpyxl).
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
#: Text a spreadsheet program would run as a formula if it came from a CSV file.
_FORMULA_START = re.compile(r"^'*[=+\-@]")
_ESCAPED_FORMULA = re.compile(r"^'+[=+\-@]")


@dataclass(frozen=True, slots=True)
class NoValue:
    """A formula cell saved without its computed value (the file was never opened in Excel)."""

    cell: str


Cell = str | NoValue


@dataclass(frozen=True, slots=True)
class Row:
    number: int
    cells: list[Cell]

    def text(self, index: int | None) -> Cell:
        if index is None or index >= len(self.cells):
            return ""
        return self.cells[index]

    @property
    def empty(self) -> bool:
        return all(cell == "" for cell in self.cells)


@dataclass(frozen=True, slots=True)
class Sheet:
    title: str
    rows: list[Row]


def clean_text(text: str) -> str:
    """Cell text as stored: Unix line breaks, no characters a workbook cannot hold, trimmed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return ILLEGAL_CHARACTERS_RE.sub("", text).strip()


def column_letter(number: int) -> str:
    """A spreadsheet's column letters: 1 is "A", 27 is "AA" (openpyxl's get_column_letter)."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def cell_text(value: object) -> str:
    """The text of a cell value; dates as dd/mm/yyyy, whole numbers without ".0"."""
    if value is None:
        return ""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.strftime("%d/%m/%Y")
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return clean_text(str(value))


def csv_safe(text: str) -> str:
    """Prefix an apostrophe to text a spreadsheet program would run as a formula."""
    return "'" + text if _FORMULA_START.match(text) else text


def csv_unescape(text: str) -> str:
    """The text `csv_safe` escaped, as it was."""
    return text[1:] if _ESCAPED_FORMULA.match(text) else text
