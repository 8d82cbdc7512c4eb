"""Plan spreadsheets (.xlsx, .csv): reading them, importing them into the database, exporting.

The layout is the one of the original Word table, one row per key action (see the "Plan
spreadsheet" contract in DESIGN.md). Reading never touches the database and reports *every*
problem of a file at once (`PlanFileError`), so nothing is imported from a file with a mistake.
Importing updates a plan in place: comments and history are never lost, and a file exported by
the bot imports back into the same plan without changing anything.

Problems carry a stable `code` and the values for the message in `detail`; the sentence a person
reads is chosen by the handlers from the code (through the translation catalogs).
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from itertools import zip_longest
from pathlib import Path, PurePath
from typing import IO, Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.deadlines import DeadlineKind, parse_deadline
from storage.errors import NotFound
from storage.models import (
    CLOSED_STATUSES,
    Comment,
    CommentKind,
    KeyAction,
    Plan,
    Recommendation,
    ReviewStatus,
    Status,
    StatusChange,
    utcnow,
)
from storage.units import resolve_units, split_units

Source = bytes | bytearray | memoryview | str | os.PathLike[str]
Destination = str | os.PathLike[str] | IO[bytes] | IO[str]

MAX_CELL_LENGTH = 10_000
MAX_ROWS = 5_000
HEADER_SEARCH_ROWS = 11  # the header may come after up to 10 title rows
MAX_COLUMNS = 60
MAX_BLANK_RUN = 500  # formatted but empty rows at the end of a sheet are not read forever
MAX_ACTION_NUMBER = 9_999
MAX_TITLE_LENGTH = 500
MAX_UNIT_NAME_LENGTH = 300

DEMO_TITLE = "Plan de Mejora del Programa Conjunto"
DEMO_PROGRAMME = "Programa Conjunto (Perú)"
DEMO_EVALUATION = "Evaluación de medio término"
DEMO_FILE = "plan_de_mejora.csv"

#: The value a status cell "Vencida"/"Overdue" is read as: the action is not completed.
OVERDUE = "overdue"


class Field(StrEnum):
    """The columns of a plan spreadsheet, in the order they are written."""

    LABEL = "label"
    RECOMMENDATION = "recommendation"
    RESPONSE = "management_response"
    NUMBER = "number"
    ACTION = "action"
    DEADLINE = "deadline"
    RESPONSIBLE = "responsible"
    FOLLOW_UP_COMMENT = "follow_up_comment"
    FOLLOW_UP_STATUS = "follow_up_status"
    REVIEW_COMMENT = "review_comment"
    REVIEW_STATUS = "review_status"


REQUIRED_FIELDS = (Field.LABEL, Field.ACTION, Field.DEADLINE, Field.RESPONSIBLE)
#: Cells stored in shorter columns than the general `MAX_CELL_LENGTH`.
FIELD_LIMITS: dict[Field, int] = {Field.LABEL: 100, Field.DEADLINE: 500}

SPANISH_HEADERS: dict[Field, str] = {
    Field.LABEL: "Recomendación Nº",
    Field.RECOMMENDATION: "Recomendación",
    Field.RESPONSE: "Respuesta de la gestión",
    Field.NUMBER: "Acción clave Nº",
    Field.ACTION: "Acción clave",
    Field.DEADLINE: "Plazo",
    Field.RESPONSIBLE: "Responsable",
    Field.FOLLOW_UP_COMMENT: "Seguimiento - Comentarios",
    Field.FOLLOW_UP_STATUS: "Seguimiento - Estado",
    Field.REVIEW_COMMENT: "Secretariado - Comentarios",
    Field.REVIEW_STATUS: "Secretariado - Estado",
}
ENGLISH_HEADERS: dict[Field, str] = {
    Field.LABEL: "Recommendation no.",
    Field.RECOMMENDATION: "Recommendation",
    Field.RESPONSE: "Management response",
    Field.NUMBER: "Key action no.",
    Field.ACTION: "Key action",
    Field.DEADLINE: "Deadline (Time-frame)",
    Field.RESPONSIBLE: "Responsible unit(s)",
    Field.FOLLOW_UP_COMMENT: "Follow-up comments",
    Field.FOLLOW_UP_STATUS: "Follow-up status",
    Field.REVIEW_COMMENT: "Review comments",
    Field.REVIEW_STATUS: "Review status",
}
_MORE_HEADER_ALIASES: dict[Field, tuple[str, ...]] = {
    Field.LABEL: (
        "Recomendación N°",
        "Recomendación no.",
        "Recomendación número",
        "Nº recomendación",
        "Nº",
        "N°",
        "No.",
        "Número",
        "Recommendation number",
        "Recommendation n°",
    ),
    Field.RECOMMENDATION: (
        "Recomendaciones",
        "Recomendación de la evaluación",
        "Recommendations",
        "Evaluation recommendation",
    ),
    Field.RESPONSE: (
        "Respuesta de la gerencia",
        "Respuesta de la gestión del Programa Conjunto",
        "Respuesta",
    ),
    Field.NUMBER: (
        "Acción clave N°",
        "Acción clave no.",
        "Nº acción clave",
        "Nº acción",
        "Acción Nº",
        "Key action number",
        "Action no.",
    ),
    Field.ACTION: ("Acciones clave", "Acción", "Key actions", "Action"),
    Field.DEADLINE: ("Plazos", "Fecha límite", "Deadline", "Time-frame", "Timeframe"),
    Field.RESPONSIBLE: (
        "Responsables",
        "Unidad responsable",
        "Unidades responsables",
        "Responsible",
        "Responsible unit",
        "Responsible units",
    ),
    Field.FOLLOW_UP_COMMENT: (
        "Comentarios",
        "Seguimiento",
        "Comentarios de seguimiento",
        "Comments",
        "Follow-up",
        "Follow-up - Comments",
    ),
    Field.FOLLOW_UP_STATUS: ("Estado", "Estado de seguimiento", "Status", "Follow-up - Status"),
    Field.REVIEW_COMMENT: (
        "Secretariado",
        "Comentarios del secretariado",
        "Secretariat comments",
        "Secretariat - Comments",
    ),
    Field.REVIEW_STATUS: (
        "Estado del secretariado",
        "Estado de revisión",
        "Secretariat status",
        "Secretariat - Status",
    ),
}

#: A second "Comentarios"/"Estado" column (the original table repeats them under "Seguimiento"
#: and "Secretariado") is the secretariat's.
_SECOND_OCCURRENCE = {
    Field.FOLLOW_UP_COMMENT: Field.REVIEW_COMMENT,
    Field.FOLLOW_UP_STATUS: Field.REVIEW_STATUS,
}
_AMBIGUOUS_HEADERS = {"comentarios", "comments", "estado", "status"}

STATUS_LABELS_ES: dict[str, str] = {
    Status.NOT_STARTED: "No iniciada",
    Status.IN_PROGRESS: "En curso",
    Status.COMPLETED: "Completada",
    Status.NOT_APPLICABLE: "Ya no aplica",
    ReviewStatus.PENDING: "Por revisar",
    ReviewStatus.VALIDATED: "Validado",
    ReviewStatus.OBSERVED: "Con observaciones",
}
#: Everything else the export writes through `labels` (history sheet).
EXPORT_LABELS_ES: dict[str, str] = {
    **STATUS_LABELS_ES,
    CommentKind.FOLLOW_UP: "Seguimiento - Comentario",
    CommentKind.REVIEW: "Secretariado - Comentario",
    "status": "Seguimiento - Estado",
    "review_status": "Secretariado - Estado",
    "imported": "(importado)",
}

_STATUS_WORDS: dict[str, tuple[str, ...]] = {
    Status.NOT_STARTED: ("No iniciada", "No iniciado", "Sin iniciar", "Not started"),
    Status.IN_PROGRESS: ("En curso", "En proceso", "In progress", "Ongoing"),
    Status.COMPLETED: ("Completada", "Completado", "Cumplida", "Cumplido", "Completed", "Done"),
    Status.NOT_APPLICABLE: (
        "Ya no aplica",
        "No aplica",
        "No longer applicable",
        "Not applicable",
        "N/A",
    ),
    OVERDUE: ("Vencida", "Vencido", "Overdue"),
}
_REVIEW_WORDS: dict[str, tuple[str, ...]] = {
    ReviewStatus.PENDING: ("Por revisar", "Pendiente", "Pending review", "Pending"),
    ReviewStatus.VALIDATED: ("Validado", "Validada", "Validated"),
    ReviewStatus.OBSERVED: (
        "Con observaciones",
        "Observado",
        "Observada",
        "With observations",
        "Observed",
    ),
}

MAIN_SHEET_TITLE = "Plan de mejora"
METADATA_SHEET_TITLE = "Plan"
_METADATA_KEYS: dict[str, tuple[str, ...]] = {
    "title": ("Título", "Title"),
    "programme": ("Programa", "Programme", "Program"),
    "evaluation": ("Evaluación", "Evaluation"),
    "source_file": ("Archivo de origen", "Source file"),
}
_METADATA_LABELS_ES = {
    "title": "Título",
    "programme": "Programa",
    "evaluation": "Evaluación",
    "source_file": "Archivo de origen",
}
_COLUMN_WIDTHS: dict[Field, int] = {
    Field.LABEL: 11,
    Field.RECOMMENDATION: 50,
    Field.RESPONSE: 40,
    Field.NUMBER: 9,
    Field.ACTION: 50,
    Field.DEADLINE: 16,
    Field.RESPONSIBLE: 26,
    Field.FOLLOW_UP_COMMENT: 40,
    Field.FOLLOW_UP_STATUS: 15,
    Field.REVIEW_COMMENT: 36,
    Field.REVIEW_STATUS: 17,
}
_HISTORY_WIDTHS = (18, 11, 9, 26, 22, 60, 30)

#: Text a spreadsheet program would run as a formula if it came from a CSV file.
_FORMULA_START = re.compile(r"^'*[=+\-@]")
_ESCAPED_FORMULA = re.compile(r"^'+[=+\-@]")


# --------------------------------------------------------------------------------------------
# Results and errors


@dataclass(frozen=True, slots=True)
class PlanFileIssue:
    """One problem of a plan file.

    `row` is the 1-based row a person sees in a spreadsheet program; `column` the column's
    header as written in the file (or the expected header when it is missing); `code` a stable
    machine code; `detail` the values for the message (``expected``, ``found``, ``limit``...).
    """

    row: int | None
    column: str | None
    code: str
    detail: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        where = ", ".join(
            part
            for part in (
                f"row {self.row}" if self.row is not None else "",
                f"column {self.column!r}" if self.column else "",
            )
            if part
        )
        return f"{where + ': ' if where else ''}{self.code} {self.detail}".rstrip()


class PlanFileError(Exception):
    """A plan file that cannot be imported; `issues` lists every problem found."""

    def __init__(self, issues: Sequence[PlanFileIssue]) -> None:
        self.issues = list(issues)
        super().__init__("; ".join(str(issue) for issue in self.issues))

    @property
    def codes(self) -> list[str]:
        return [issue.code for issue in self.issues]


@dataclass(frozen=True, slots=True)
class PlanRow:
    """One key action as read from a file, recommendation cells already inherited.

    Statuses are stored values (``"in_progress"``...), ``OVERDUE`` for "Vencida", or None when
    the cell is empty (no change).
    """

    row: int
    label: str
    recommendation: str
    management_response: str
    number: int
    action: str
    deadline: str
    responsible: str
    follow_up_comment: str = ""
    follow_up_status: str | None = None
    review_comment: str = ""
    review_status: str | None = None


@dataclass(slots=True)
class ImportReport:
    plan_id: int
    created: bool
    recommendations: int = 0
    actions_added: int = 0
    actions_updated: int = 0
    actions_unchanged: int = 0
    actions_removed: int = 0
    actions_kept_missing: int = 0
    comments_added: int = 0
    statuses_changed: int = 0
    unparsed_deadlines: list[tuple[str, int, str]] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    #: (label, number) of the actions missing from the file but kept because of their history.
    kept_missing: list[tuple[str, int]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.created
            or self.actions_added
            or self.actions_updated
            or self.actions_removed
            or self.comments_added
            or self.statuses_changed
        )


# --------------------------------------------------------------------------------------------
# Text helpers


def _normalise(text: str) -> str:
    """Lower case, no accents, punctuation as spaces: "Acción clave Nº" -> "accion clave no"."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", plain).split())


def _lookup(table: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """{normalised word: value} from {value: words}; the value itself is accepted too."""
    result: dict[str, str] = {}
    for value, words in table.items():
        for word in (value, *words):
            result.setdefault(_normalise(word), value)
    return result


_HEADER_LOOKUP: dict[str, Field] = {}
for _field in Field:
    for _alias in (
        SPANISH_HEADERS[_field],
        ENGLISH_HEADERS[_field],
        *_MORE_HEADER_ALIASES.get(_field, ()),
    ):
        _HEADER_LOOKUP.setdefault(_normalise(_alias), _field)
_STATUS_LOOKUP = _lookup(_STATUS_WORDS)
_REVIEW_LOOKUP = _lookup(_REVIEW_WORDS)
_METADATA_LOOKUP = _lookup(_METADATA_KEYS)


def _clean_text(text: str) -> str:
    """Cell text as stored: Unix line breaks, no characters a workbook cannot hold, trimmed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return ILLEGAL_CHARACTERS_RE.sub("", text).strip()


def _cell_text(value: object) -> str:
    """The text of a cell value; dates as dd/mm/yyyy, whole numbers without ".0"."""
    if value is None:
        return ""
    if isinstance(value, str):
        return _clean_text(value)
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
    return _clean_text(str(value))


def _csv_safe(text: str) -> str:
    """Prefix an apostrophe to text a spreadsheet program would run as a formula."""
    return "'" + text if _FORMULA_START.match(text) else text


def _csv_unescape(text: str) -> str:
    return text[1:] if _ESCAPED_FORMULA.match(text) else text


# --------------------------------------------------------------------------------------------
# Reading a file into rows of cells


@dataclass(frozen=True, slots=True)
class _NoValue:
    """A formula cell saved without its computed value (the file was never opened in Excel)."""

    cell: str


Cell = str | _NoValue


@dataclass(frozen=True, slots=True)
class _Row:
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
class _Sheet:
    title: str
    rows: list[_Row]


def _read_source(source: Source, file_name: str | None) -> tuple[bytes, str]:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), file_name or ""
    path = Path(source)
    return path.read_bytes(), file_name or path.name


def _file_kind(data: bytes, file_name: str) -> str | None:
    """ "xlsx", "csv", or None when the extension is of a format this module does not read."""
    extension = PurePath(file_name).suffix.lower()
    if extension in (".xlsx", ".xlsm"):
        return "xlsx"
    if extension in (".csv", ".txt", ".tsv"):
        return "csv"
    if extension:
        return None
    return "xlsx" if data.startswith(b"PK\x03\x04") else "csv"


def _trim(rows: Iterable[_Row]) -> list[_Row]:
    """The rows up to the last non-empty one, giving up after a long run of empty rows."""
    kept: list[_Row] = []
    blank_run = 0
    for row in rows:
        if row.empty:
            blank_run += 1
            if blank_run > MAX_BLANK_RUN:
                break
        else:
            blank_run = 0
        kept.append(row)
        if len(kept) > MAX_ROWS + HEADER_SEARCH_ROWS + MAX_BLANK_RUN:
            break
    while kept and kept[-1].empty:
        kept.pop()
    return kept


def _open_workbook(data: bytes, *, data_only: bool) -> Workbook:
    return load_workbook(io.BytesIO(data), read_only=True, data_only=data_only)


def _load_xlsx(data: bytes) -> list[_Sheet]:
    """Every worksheet as text cells. The workbook is read twice: once for the cached values,
    once for the formulas, so that a formula without a cached value is told from an empty cell."""
    if not data.startswith(b"PK\x03\x04"):
        raise PlanFileError([PlanFileIssue(None, None, "not_a_spreadsheet", {"expected": "xlsx"})])
    try:
        values = _open_workbook(data, data_only=True)
        formulas = _open_workbook(data, data_only=False)
    except Exception as exc:  # a zip that is not a workbook: KeyError, InvalidFileException...
        raise PlanFileError(
            [PlanFileIssue(None, None, "not_a_spreadsheet", {"expected": "xlsx"})]
        ) from exc
    try:
        return [
            _Sheet(ws.title, _trim(_xlsx_rows(ws, formulas[ws.title]))) for ws in values.worksheets
        ]
    finally:
        values.close()
        formulas.close()


def _xlsx_rows(values: Any, formulas: Any) -> Iterator[_Row]:
    value_rows = values.iter_rows(min_row=1, max_col=MAX_COLUMNS)
    formula_rows = formulas.iter_rows(min_row=1, max_col=MAX_COLUMNS)
    for number, (value_row, formula_row) in enumerate(
        zip_longest(value_rows, formula_rows, fillvalue=()), start=1
    ):
        cells: list[Cell] = []
        for index, (value_cell, formula_cell) in enumerate(
            zip_longest(value_row, formula_row, fillvalue=None)
        ):
            value = getattr(value_cell, "value", None)
            if value is None and getattr(formula_cell, "data_type", None) == "f":
                cells.append(_NoValue(f"{get_column_letter(index + 1)}{number}"))
            else:
                cells.append(_cell_text(value))
        yield _Row(number, cells)


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _load_csv(data: bytes) -> list[_Sheet]:
    """The file parsed with each delimiter (, ; tab); the one that finds the best header wins.

    Row numbers count records, as a spreadsheet program shows them (a quoted cell may span
    several lines of the file).
    """
    if b"\x00" in data:
        raise PlanFileError([PlanFileIssue(None, None, "not_a_spreadsheet", {"expected": "csv"})])
    text = _decode(data)
    best: tuple[int, _Sheet] | None = None
    for delimiter in (",", ";", "\t"):
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            rows = _trim(
                _Row(number, [_csv_unescape(_cell_text(v)) for v in record[:MAX_COLUMNS]])
                for number, record in enumerate(reader, start=1)
            )
        except csv.Error:
            continue
        score = max((len(_header_map(row)[0]) for row in rows[:HEADER_SEARCH_ROWS]), default=0)
        if best is None or score > best[0]:
            best = (score, _Sheet("csv", rows))
    if best is None:
        raise PlanFileError([PlanFileIssue(None, None, "not_a_spreadsheet", {"expected": "csv"})])
    return [best[1]]


# --------------------------------------------------------------------------------------------
# Header


@dataclass(slots=True)
class _Header:
    row: int
    columns: dict[Field, int]
    names: dict[Field, str]
    found: list[str]
    issues: list[PlanFileIssue]


def _header_map(row: _Row) -> tuple[dict[Field, int], list[PlanFileIssue]]:
    columns: dict[Field, int] = {}
    issues: list[PlanFileIssue] = []
    for index, cell in enumerate(row.cells):
        if not isinstance(cell, str) or not cell:
            continue
        key = _normalise(cell)
        found = _HEADER_LOOKUP.get(key)
        if found is None:
            continue
        if found in columns and key in _AMBIGUOUS_HEADERS and found in _SECOND_OCCURRENCE:
            found = _SECOND_OCCURRENCE[found]
        if found in columns:
            issues.append(
                PlanFileIssue(
                    row.number,
                    cell,
                    "duplicate_column",
                    {
                        "field": found.value,
                        "letter": get_column_letter(index + 1),
                        "first_letter": get_column_letter(columns[found] + 1),
                    },
                )
            )
            continue
        columns[found] = index
    return columns, issues


def _find_header(sheet: _Sheet) -> _Header | None:
    best: _Header | None = None
    for row in sheet.rows[:HEADER_SEARCH_ROWS]:
        columns, issues = _header_map(row)
        if columns and (best is None or len(columns) > len(best.columns)):
            names = {f: str(row.cells[i]) for f, i in columns.items()}
            found = [c for c in row.cells if isinstance(c, str) and c]
            best = _Header(row.number, columns, names, found, issues)
    return best


def _header_issues(header: _Header | None, sheet: _Sheet) -> list[PlanFileIssue]:
    """Missing required columns (and duplicated ones) of the chosen header row."""
    if header is None:
        first = next((row for row in sheet.rows if not row.empty), None)
        found = [c for c in first.cells if isinstance(c, str) and c] if first else []
        return [_missing_column(None, f, found) for f in REQUIRED_FIELDS]
    missing = [
        _missing_column(header.row, f, header.found)
        for f in REQUIRED_FIELDS
        if f not in header.columns
    ]
    return missing + header.issues


def _missing_column(row: int | None, missing: Field, found: list[str]) -> PlanFileIssue:
    return PlanFileIssue(
        row,
        SPANISH_HEADERS[missing],
        "missing_column",
        {
            "field": missing.value,
            "expected": [SPANISH_HEADERS[missing], ENGLISH_HEADERS[missing]],
            "found": found,
        },
    )


def _choose_sheet(sheets: list[_Sheet]) -> tuple[_Sheet, _Header | None]:
    """The first sheet whose header has every required column, else the best-looking one."""
    candidates = [(sheet, _find_header(sheet)) for sheet in sheets]
    for sheet, header in candidates:
        if header is not None and all(f in header.columns for f in REQUIRED_FIELDS):
            return sheet, header
    return max(candidates, key=lambda c: len(c[1].columns) if c[1] else -1)


# --------------------------------------------------------------------------------------------
# Data rows


@dataclass(slots=True)
class _Block:
    label: str
    text: str
    response: str
    first_row: int
    numbers: dict[int, int] = field(default_factory=dict)  # action number -> row
    action_rows: int = 0


class _RowReader:
    """Turns the data rows under the header into `PlanRow`s, collecting every issue."""

    def __init__(self, header: _Header) -> None:
        self.header = header
        self.issues: list[PlanFileIssue] = []
        self.blocks: dict[str, _Block] = {}
        self.current: _Block | None = None
        self.result: list[PlanRow] = []

    def issue(self, row: int, column: Field | None, code: str, **detail: Any) -> None:
        name = self.header.names.get(column) if column is not None else None
        if column is not None and name is None:
            name = SPANISH_HEADERS[column]
        self.issues.append(PlanFileIssue(row, name, code, detail))

    def cell(self, row: _Row, column: Field) -> str | None:
        """The cell's text; None (and an issue) when it cannot be used."""
        value = row.text(self.header.columns.get(column))
        if isinstance(value, _NoValue):
            self.issue(row.number, column, "formula_without_value", cell=value.cell)
            return None
        limit = FIELD_LIMITS.get(column, MAX_CELL_LENGTH)
        if len(value) > limit:
            self.issue(row.number, column, "too_long", length=len(value), limit=limit)
            return None
        if column == Field.RESPONSIBLE:
            longest = max((len(name) for name in split_units(value)), default=0)
            if longest > MAX_UNIT_NAME_LENGTH:
                self.issue(
                    row.number, column, "too_long", length=longest, limit=MAX_UNIT_NAME_LENGTH
                )
                return None
        return value

    def read(self, rows: Sequence[_Row]) -> list[PlanRow]:
        data_rows = [row for row in rows if row.number > self.header.row and not row.empty]
        if len(data_rows) > MAX_ROWS:
            self.issue(data_rows[MAX_ROWS].number, None, "too_many_rows", limit=MAX_ROWS)
            data_rows = data_rows[:MAX_ROWS]
        for row in data_rows:
            self.read_row(row)
        for block in self.blocks.values():
            if not block.action_rows:
                self.issue(
                    block.first_row, Field.ACTION, "block_without_actions", label=block.label
                )
        if not self.result and not self.issues:
            self.issues.append(PlanFileIssue(self.header.row, None, "no_rows", {}))
        return self.result

    def read_row(self, row: _Row) -> None:
        cells = {f: self.cell(row, f) for f in Field}
        if any(value is None for value in cells.values()):
            return
        text: dict[Field, str] = {f: v or "" for f, v in cells.items()}
        block = self.block_for(row, text)
        if block is None:
            return
        action_fields = [f for f in Field if f not in _BLOCK_FIELDS and text[f]]
        if not text[Field.ACTION]:
            if action_fields:
                self.issue(row.number, Field.ACTION, "missing_value")
            return  # a row with only the recommendation's cells: context for the rows below
        block.action_rows += 1
        number = self.number(row, block, text[Field.NUMBER])
        statuses = self.statuses(row, text)
        if number is None or statuses is None:
            return
        block.numbers[number] = row.number
        self.result.append(
            PlanRow(
                row=row.number,
                label=block.label,
                recommendation=block.text,
                management_response=block.response,
                number=number,
                action=text[Field.ACTION],
                deadline=text[Field.DEADLINE],
                responsible=text[Field.RESPONSIBLE],
                follow_up_comment=text[Field.FOLLOW_UP_COMMENT],
                follow_up_status=statuses[0],
                review_comment=text[Field.REVIEW_COMMENT],
                review_status=statuses[1],
            )
        )

    def block_for(self, row: _Row, text: dict[Field, str]) -> _Block | None:
        """The row's recommendation: its own label, or the one of the row above."""
        label = _clean_label(text[Field.LABEL])
        if not label:
            if self.current is None:
                self.issue(row.number, Field.LABEL, "missing_value")
                return None
            block = self.current
        else:
            block = self.blocks.get(label)
            if block is None:
                block = _Block(label, "", "", row.number)
                self.blocks[label] = block
        self.current = block
        for column, attribute in ((Field.RECOMMENDATION, "text"), (Field.RESPONSE, "response")):
            value = text[column]
            old = getattr(block, attribute)
            if not value or value == old:
                continue
            if old:
                self.issue(row.number, column, "conflicting_text", label=block.label)
                return None
            setattr(block, attribute, value)
        return block

    def number(self, row: _Row, block: _Block, text: str) -> int | None:
        if not text:
            return max(block.numbers, default=0) + 1
        number = _parse_number(text, block.label)
        if number is None:
            self.issue(row.number, Field.NUMBER, "bad_number", value=text)
            return None
        if number in block.numbers:
            self.issue(
                row.number,
                Field.NUMBER,
                "duplicate_action",
                label=block.label,
                number=number,
                first_row=block.numbers[number],
            )
            return None
        return number

    def statuses(self, row: _Row, text: dict[Field, str]) -> tuple[str | None, str | None] | None:
        result: list[str | None] = []
        ok = True
        for column, lookup, words in (
            (Field.FOLLOW_UP_STATUS, _STATUS_LOOKUP, _STATUS_WORDS),
            (Field.REVIEW_STATUS, _REVIEW_LOOKUP, _REVIEW_WORDS),
        ):
            value = text[column]
            if not value:
                result.append(None)
                continue
            status = lookup.get(_normalise(value))
            if status is None:
                expected = [words[k][0] for k in words if k != OVERDUE]
                self.issue(row.number, column, "bad_status", value=value, expected=expected)
                ok = False
            result.append(status)
        return (result[0], result[1]) if ok else None


_BLOCK_FIELDS = (Field.LABEL, Field.RECOMMENDATION, Field.RESPONSE)


def _clean_label(text: str) -> str:
    return " ".join(text.split()).rstrip(".").strip()


def _parse_number(text: str, label: str) -> int | None:
    """ "2", "2.", "2)", "2.0" -> 2; "1.2" -> 2 when the block is "1" (or "1 y 2")."""
    text = text.strip()
    number: int | None = None
    match = re.fullmatch(r"(\d+)\s*[.)º°]?", text)
    if match:
        number = int(match.group(1))
    else:
        try:
            value = float(text.replace(",", "."))
        except ValueError:
            value = None
        if value is not None and value.is_integer():
            number = int(value)
        else:
            prefixed = re.fullmatch(r"(\d+)\s*[.\-]\s*(\d+)", text)
            if prefixed and prefixed.group(1) in re.findall(r"\d+", label):
                number = int(prefixed.group(2))
    if number is None or not 1 <= number <= MAX_ACTION_NUMBER:
        return None
    return number


def read_plan_rows(source: Source, file_name: str | None = None) -> list[PlanRow]:
    """The key actions of a plan file (.xlsx or .csv), or `PlanFileError` with every problem.

    `source` is the file's bytes or its path; `file_name` (its extension) tells the format.
    """
    data, name = _read_source(source, file_name)
    if not data.strip():
        raise PlanFileError([PlanFileIssue(None, None, "empty_file", {})])
    kind = _file_kind(data, name)
    if kind is None:
        raise PlanFileError(
            [
                PlanFileIssue(
                    None,
                    None,
                    "unsupported_format",
                    {"extension": PurePath(name).suffix.lower(), "expected": [".xlsx", ".csv"]},
                )
            ]
        )
    sheets = _load_xlsx(data) if kind == "xlsx" else _load_csv(data)
    if all(not sheet.rows for sheet in sheets):
        raise PlanFileError([PlanFileIssue(None, None, "empty_file", {})])
    sheet, header = _choose_sheet(sheets)
    issues = _header_issues(header, sheet)
    if issues or header is None:
        raise PlanFileError(issues)
    reader = _RowReader(header)
    rows = reader.read(sheet.rows)
    if reader.issues:
        raise PlanFileError(reader.issues)
    return rows


def read_plan_metadata(source: Source, file_name: str | None = None) -> dict[str, str]:
    """Title, programme, evaluation and source file from the "Plan" sheet of an exported
    workbook (only the keys found; empty for a CSV file or a workbook without that sheet)."""
    data, name = _read_source(source, file_name)
    if _file_kind(data, name) != "xlsx" or not data.startswith(b"PK\x03\x04"):
        return {}
    try:
        workbook = _open_workbook(data, data_only=True)
    except Exception:
        return {}
    try:
        sheet = next(
            (ws for ws in workbook.worksheets if _normalise(ws.title) == "plan"),
            None,
        )
        if sheet is None:
            return {}
        result: dict[str, str] = {}
        for row in sheet.iter_rows(min_row=1, max_row=50, max_col=2, values_only=True):
            key = _METADATA_LOOKUP.get(_normalise(_cell_text(row[0] if row else None)))
            if key is not None and len(row) > 1 and key not in result:
                result[key] = _cell_text(row[1])[:500]
        return result
    finally:
        workbook.close()


# --------------------------------------------------------------------------------------------
# Import


@dataclass(slots=True)
class _FileBlock:
    label: str
    text: str
    response: str
    rows: list[PlanRow]


def _group_blocks(rows: Sequence[PlanRow]) -> list[_FileBlock]:
    """Rows by block, in order; checked again, since rows may not come from `read_plan_rows`."""
    blocks: dict[str, _FileBlock] = {}
    seen: dict[tuple[str, int], int] = {}
    issues: list[PlanFileIssue] = []
    for row in rows:
        for column, value in ((Field.LABEL, row.label), (Field.DEADLINE, row.deadline)):
            if len(value) > FIELD_LIMITS[column]:
                issues.append(
                    PlanFileIssue(
                        row.row,
                        SPANISH_HEADERS[column],
                        "too_long",
                        {"length": len(value), "limit": FIELD_LIMITS[column]},
                    )
                )
        block = blocks.setdefault(row.label, _FileBlock(row.label, "", "", []))
        block.text = block.text or row.recommendation
        block.response = block.response or row.management_response
        key = (row.label, row.number)
        if key in seen:
            issues.append(
                PlanFileIssue(
                    row.row,
                    SPANISH_HEADERS[Field.NUMBER],
                    "duplicate_action",
                    {"label": row.label, "number": row.number, "first_row": seen[key]},
                )
            )
        seen[key] = row.row
        block.rows.append(row)
    if issues:
        raise PlanFileError(issues)
    return list(blocks.values())


async def _plan_for_import(
    session: AsyncSession, title: str, plan_id: int | None
) -> tuple[Plan, bool]:
    if plan_id is not None:
        plan = await session.get(Plan, plan_id)
        if plan is None:
            raise NotFound("plan_not_found", plan_id=plan_id)
        return plan, False
    plan = await session.scalar(select(Plan).where(Plan.title == title).order_by(Plan.id).limit(1))
    if plan is not None:
        return plan, False
    plan = Plan(title=title)
    session.add(plan)
    await session.flush()
    return plan, True


def _update_plan_fields(plan: Plan, values: Mapping[str, str]) -> bool:
    changed = False
    for attribute, value in values.items():
        value = value.strip()[:MAX_TITLE_LENGTH]
        if value and getattr(plan, attribute) != value:
            setattr(plan, attribute, value)
            changed = True
    return changed


class _Importer:
    """The state of one import: what the plan holds, and the report being written."""

    def __init__(self, session: AsyncSession, plan: Plan, report: ImportReport) -> None:
        self.session = session
        self.plan = plan
        self.report = report
        self.now = utcnow()
        self.recommendations: dict[str, Recommendation] = {}
        self.actions: dict[tuple[str, int], KeyAction] = {}
        self.known: set[tuple[int, str, str]] = set()  # (action id, kind, text) of comments
        self.positions: dict[int, int] = {}  # recommendation id -> position

    async def load(self) -> None:
        recs = await self.session.scalars(
            select(Recommendation).where(Recommendation.plan_id == self.plan.id)
        )
        self.recommendations = {rec.label: rec for rec in recs}
        labels = {rec.id: rec.label for rec in self.recommendations.values()}
        actions = await self.session.scalars(
            select(KeyAction).where(KeyAction.plan_id == self.plan.id)
        )
        self.actions = {(labels[a.recommendation_id], a.number): a for a in actions}
        comments = await self.session.execute(
            select(Comment.action_id, Comment.kind, Comment.text)
            .join(KeyAction, KeyAction.id == Comment.action_id)
            .where(KeyAction.plan_id == self.plan.id)
        )
        self.known = {(action_id, kind, text.strip()) for action_id, kind, text in comments.all()}

    async def block(self, position: int, block: _FileBlock) -> None:
        rec = self.recommendations.pop(block.label, None)
        if rec is None:
            rec = Recommendation(plan_id=self.plan.id, label=block.label)
            self.session.add(rec)
        rec.position = position
        if rec.text != block.text:
            rec.text = block.text
        if rec.management_response != block.response:
            rec.management_response = block.response
        await self.session.flush()
        self.positions[rec.id] = position
        for row in block.rows:
            await self.action(rec, row)

    async def action(self, rec: Recommendation, row: PlanRow) -> None:
        deadline = parse_deadline(row.deadline)
        kind = getattr(deadline.kind, "value", deadline.kind)
        if row.deadline and deadline.kind == DeadlineKind.UNKNOWN:
            self.report.unparsed_deadlines.append((row.label, row.number, row.deadline))
        units = await resolve_units(self.session, split_units(row.responsible))
        for unit in units:
            if unit.name not in self.report.units:
                self.report.units.append(unit.name)
        values: dict[str, Any] = {
            "position": rec.position,
            "text": row.action,
            "responsible_text": row.responsible,
            "deadline_text": row.deadline,
            "deadline_kind": kind,
            "deadline_start": deadline.start,
            "deadline_due": deadline.due,
        }
        action = self.actions.pop((row.label, row.number), None)
        if action is None:
            action = KeyAction(
                plan_id=self.plan.id,
                recommendation_id=rec.id,
                number=row.number,
                status=Status.NOT_STARTED.value,
                review_status=ReviewStatus.PENDING.value,
                created_at=self.now,
                units=units,
                **values,
            )
            self.session.add(action)
            await self.session.flush()
            self.report.actions_added += 1
        elif self.update_action(action, values, units):
            self.report.actions_updated += 1
        else:
            self.report.actions_unchanged += 1
        await self.follow_up(action, row)

    @staticmethod
    def update_action(action: KeyAction, values: Mapping[str, Any], units: list[Any]) -> bool:
        """Apply the file's values; True when the action's content changed (not its position,
        which follows the recommendation's)."""
        changed = False
        for attribute, value in values.items():
            if getattr(action, attribute) != value:
                setattr(action, attribute, value)
                changed = changed or attribute != "position"
        if {u.id for u in action.units} != {u.id for u in units}:
            action.units = units
            changed = True
        return changed

    async def follow_up(self, action: KeyAction, row: PlanRow) -> None:
        """The comment and status cells: added/applied when they differ from the action's."""
        follow_up = self.comment(action, CommentKind.FOLLOW_UP, row.follow_up_comment)
        review = self.comment(action, CommentKind.REVIEW, row.review_comment)
        if follow_up is not None or review is not None:
            await self.session.flush()
        status = row.follow_up_status
        if status == OVERDUE:
            status = Status.IN_PROGRESS.value if action.status in CLOSED_STATUSES else None
        if status is not None and status != action.status:
            self.change(action, "status", status, follow_up)
            action.status = status
            action.last_update_at = self.now
            if action.review_status != ReviewStatus.PENDING:
                self.change(action, "review_status", ReviewStatus.PENDING.value, None)
                action.review_status = ReviewStatus.PENDING.value
            self.report.statuses_changed += 1
        if row.review_status is not None and row.review_status != action.review_status:
            self.change(action, "review_status", row.review_status, review)
            action.review_status = row.review_status
            self.report.statuses_changed += 1

    def comment(self, action: KeyAction, kind: CommentKind, text: str) -> Comment | None:
        """A comment cell becomes a new comment unless the action already has that text: an
        older copy of the file (whose cell is an earlier comment) must not repeat it as new."""
        text = text.strip()
        key = (action.id, kind.value, text)
        if not text or key in self.known:
            return None
        comment = Comment(
            action_id=action.id,
            author_id=None,
            kind=kind.value,
            text=text,
            created_at=self.now,
            attachments=[],
        )
        self.session.add(comment)
        self.known.add(key)
        if kind == CommentKind.FOLLOW_UP:
            action.last_update_at = self.now
        self.report.comments_added += 1
        return comment

    def change(self, action: KeyAction, name: str, new: str, comment: Comment | None) -> None:
        self.session.add(
            StatusChange(
                action_id=action.id,
                author_id=None,
                field=name,
                old_value=getattr(action, name),
                new_value=new,
                comment_id=comment.id if comment is not None else None,
                created_at=self.now,
            )
        )

    async def missing(self, next_position: int) -> None:
        """Actions (and blocks) of the plan that the file no longer has: deleted when they have
        no history, kept (and reported) when they have comments or status changes."""
        if self.actions:
            ids = [action.id for action in self.actions.values()]
            with_comments = await self.session.scalars(
                select(Comment.action_id).where(Comment.action_id.in_(ids))
            )
            with_changes = await self.session.scalars(
                select(StatusChange.action_id).where(StatusChange.action_id.in_(ids))
            )
            with_history = set(with_comments.all()) | set(with_changes.all())
        else:
            with_history = set()
        kept_blocks: set[int] = set()
        for (label, number), action in sorted(self.actions.items(), key=_action_order):
            if action.id in with_history:
                self.report.actions_kept_missing += 1
                self.report.kept_missing.append((label, number))
                kept_blocks.add(action.recommendation_id)
            else:
                await self.session.delete(action)
                self.report.actions_removed += 1
        await self.session.flush()
        kept = {a.id for a in self.actions.values() if a.id in with_history}
        await self.leftover_blocks(kept_blocks, kept, next_position)

    async def leftover_blocks(
        self, kept_blocks: set[int], kept: set[int], next_position: int
    ) -> None:
        """Blocks not in the file: kept after the file's blocks while they hold kept actions."""
        leftovers = sorted(self.recommendations.values(), key=lambda rec: rec.position)
        for rec in leftovers:
            if rec.id not in kept_blocks:
                await self.session.delete(rec)
                continue
            rec.position = next_position
            self.positions[rec.id] = next_position
            next_position += 1
        for action in self.actions.values():
            if action.id in kept:
                action.position = self.positions[action.recommendation_id]
        await self.session.flush()


def _action_order(item: tuple[tuple[str, int], KeyAction]) -> tuple[int, int]:
    return item[1].position, item[1].number


async def import_plan(
    session: AsyncSession,
    rows: Sequence[PlanRow],
    *,
    title: str,
    source_file: str = "",
    programme: str = "",
    evaluation: str = "",
    plan_id: int | None = None,
) -> ImportReport:
    """Create the plan, or update in place the plan `plan_id` (else the one with this title).

    Runs in the caller's transaction (only flushes). Recommendations are matched by label,
    actions by (label, number). A comment cell with a text the action does not have yet becomes
    a comment with no author; a status cell that differs from the current status is applied and
    recorded with no author. Nothing that has history is ever deleted.
    """
    if not rows:
        raise PlanFileError([PlanFileIssue(None, None, "no_rows", {})])
    blocks = _group_blocks(rows)
    title = title.strip()[:MAX_TITLE_LENGTH]
    plan, created = await _plan_for_import(session, title, plan_id)
    report = ImportReport(plan_id=plan.id, created=created, recommendations=len(blocks))
    details_changed = _update_plan_fields(
        plan,
        {
            "title": title,
            "programme": programme,
            "evaluation": evaluation,
            "source_file": source_file,
        },
    )
    importer = _Importer(session, plan, report)
    await importer.load()
    for position, block in enumerate(blocks, start=1):
        await importer.block(position, block)
    await importer.missing(len(blocks) + 1)
    if details_changed or report.changed:
        plan.updated_at = importer.now
    await session.flush()
    return report


async def load_demo_plan(session: AsyncSession) -> ImportReport:
    """Import the bundled seed plan; loading it again changes nothing."""
    data = resources.files("storage").joinpath("data", DEMO_FILE).read_bytes()
    rows = read_plan_rows(data, DEMO_FILE)
    return await import_plan(
        session,
        rows,
        title=DEMO_TITLE,
        source_file=DEMO_FILE,
        programme=DEMO_PROGRAMME,
        evaluation=DEMO_EVALUATION,
    )


# --------------------------------------------------------------------------------------------
# Export


@dataclass(frozen=True, slots=True)
class _HistoryEntry:
    at: dt.datetime
    order: int
    label: str
    number: int
    kind: str
    author: str
    text: str
    attachments: str


@dataclass(slots=True)
class _PlanContent:
    plan: Plan
    rows: list[dict[Field, Any]]
    history: list[_HistoryEntry]


def _labeller(labels: Callable[[str], str] | None) -> Callable[[str], str]:
    """The given label function, falling back to Spanish for values it does not know."""

    def label(value: str) -> str:
        if labels is not None:
            try:
                text = labels(value)
            except (KeyError, ValueError):
                text = ""
            if text:
                return text
        return EXPORT_LABELS_ES.get(value, value)

    return label


async def _plan_content(
    session: AsyncSession, plan_id: int, label: Callable[[str], str]
) -> _PlanContent:
    plan = await session.get(Plan, plan_id)
    if plan is None:
        raise NotFound("plan_not_found", plan_id=plan_id)
    recs = (
        await session.scalars(
            select(Recommendation)
            .where(Recommendation.plan_id == plan_id)
            .order_by(Recommendation.position, Recommendation.id)
        )
    ).all()
    actions = (
        await session.scalars(
            select(KeyAction)
            .where(KeyAction.plan_id == plan_id)
            .order_by(KeyAction.position, KeyAction.number)
        )
    ).all()
    comments = (
        await session.scalars(
            select(Comment)
            .join(KeyAction, KeyAction.id == Comment.action_id)
            .where(KeyAction.plan_id == plan_id)
            .order_by(Comment.created_at, Comment.id)
        )
    ).all()
    changes = (
        await session.scalars(
            select(StatusChange)
            .join(KeyAction, KeyAction.id == StatusChange.action_id)
            .where(KeyAction.plan_id == plan_id)
            .options(selectinload(StatusChange.author))
            .order_by(StatusChange.created_at, StatusChange.id)
        )
    ).all()
    latest = {(c.action_id, c.kind): c.text for c in comments}
    rec_by_id = {rec.id: rec for rec in recs}
    rows: list[dict[Field, Any]] = []
    written: set[int] = set()
    for action in actions:
        rec = rec_by_id[action.recommendation_id]
        first = rec.id not in written
        written.add(rec.id)
        rows.append(
            {
                Field.LABEL: rec.label,
                Field.RECOMMENDATION: rec.text if first else "",
                Field.RESPONSE: rec.management_response if first else "",
                Field.NUMBER: action.number,
                Field.ACTION: action.text,
                Field.DEADLINE: action.deadline_text,
                Field.RESPONSIBLE: action.responsible_text,
                Field.FOLLOW_UP_COMMENT: latest.get((action.id, CommentKind.FOLLOW_UP.value), ""),
                Field.FOLLOW_UP_STATUS: label(action.status),
                Field.REVIEW_COMMENT: latest.get((action.id, CommentKind.REVIEW.value), ""),
                Field.REVIEW_STATUS: label(action.review_status),
            }
        )
    refs = {a.id: (rec_by_id[a.recommendation_id].label, a.number) for a in actions}
    history = _history(comments, changes, refs, label)
    return _PlanContent(plan, rows, history)


def _history(
    comments: Sequence[Comment],
    changes: Sequence[StatusChange],
    refs: Mapping[int, tuple[str, int]],
    label: Callable[[str], str],
) -> list[_HistoryEntry]:
    entries: list[_HistoryEntry] = []
    for comment in comments:
        ref = refs[comment.action_id]
        entries.append(
            _HistoryEntry(
                at=comment.created_at,
                order=0,
                label=ref[0],
                number=ref[1],
                kind=label(comment.kind),
                author=comment.author.name if comment.author else label("imported"),
                text=comment.text,
                attachments="\n".join(a.file_name or a.kind for a in comment.attachments),
            )
        )
    for change in changes:
        ref = refs[change.action_id]
        entries.append(
            _HistoryEntry(
                at=change.created_at,
                order=1,
                label=ref[0],
                number=ref[1],
                kind=label(change.field),
                author=change.author.name if change.author else label("imported"),
                text=f"{label(change.old_value)} → {label(change.new_value)}",
                attachments="",
            )
        )
    entries.sort(key=lambda e: (e.at, e.order))
    return entries


def _write_cell(ws: Worksheet, row: int, column: int, value: Any) -> None:
    """Write a value; text that looks like a formula is stored as text, never as a formula."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value) or None
    cell = ws.cell(row=row, column=column, value=value)
    if isinstance(value, str) and cell.data_type == "f":
        cell.data_type = "s"


_WRAP = Alignment(wrap_text=True, vertical="top")
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", start_color="DDE5F0", end_color="DDE5F0")


def _header_row(ws: Worksheet, titles: Sequence[str], widths: Sequence[int]) -> None:
    for column, (title, width) in enumerate(zip(titles, widths, strict=True), start=1):
        _write_cell(ws, 1, column, title)
        cell = ws.cell(row=1, column=column)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = _WRAP
        ws.column_dimensions[get_column_letter(column)].width = width
    ws.freeze_panes = "A2"


def _label_value(label: str) -> str | int:
    """A block label as a number when it is one, so a spreadsheet does not flag it as text."""
    if label.isascii() and label.isdigit() and str(int(label)) == label and len(label) < 10:
        return int(label)
    return label


def _main_sheet(ws: Worksheet, content: _PlanContent, headers: Mapping[Field, str]) -> None:
    fields = list(Field)
    _header_row(ws, [headers[f] for f in fields], [_COLUMN_WIDTHS[f] for f in fields])
    for index, values in enumerate(content.rows, start=2):
        for column, name in enumerate(fields, start=1):
            value = values[name]
            if name == Field.LABEL:
                value = _label_value(value)
            _write_cell(ws, index, column, value)
            ws.cell(row=index, column=column).alignment = _WRAP
    if content.rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(fields))}{len(content.rows) + 1}"


def _history_sheet(ws: Worksheet, content: _PlanContent, tz: dt.tzinfo | None) -> None:
    zone_name = str(tz) if tz is not None else "UTC"
    titles = [
        f"Fecha ({zone_name})",
        SPANISH_HEADERS[Field.LABEL],
        SPANISH_HEADERS[Field.NUMBER],
        "Tipo",
        "Autor",
        "Texto",
        "Adjuntos",
    ]
    _header_row(ws, titles, _HISTORY_WIDTHS)
    for index, entry in enumerate(content.history, start=2):
        at = entry.at.astimezone(tz or dt.UTC).replace(tzinfo=None)
        values = [
            at,
            _label_value(entry.label),
            entry.number,
            entry.kind,
            entry.author,
            entry.text,
            entry.attachments,
        ]
        for column, value in enumerate(values, start=1):
            _write_cell(ws, index, column, value)
            ws.cell(row=index, column=column).alignment = _WRAP
        ws.cell(row=index, column=1).number_format = "yyyy-mm-dd hh:mm"


def _metadata_sheet(ws: Worksheet, plan: Plan) -> None:
    ws.column_dimensions["A"].width = 20
    ws.column_dimensions["B"].width = 60
    values = [
        (_METADATA_LABELS_ES["title"], plan.title),
        (_METADATA_LABELS_ES["programme"], plan.programme),
        (_METADATA_LABELS_ES["evaluation"], plan.evaluation),
        (_METADATA_LABELS_ES["source_file"], plan.source_file),
        ("Exportado (UTC)", utcnow().replace(tzinfo=None, microsecond=0)),
    ]
    for index, (key, value) in enumerate(values, start=1):
        _write_cell(ws, index, 1, key)
        ws.cell(row=index, column=1).font = _HEADER_FONT
        _write_cell(ws, index, 2, value)
        ws.cell(row=index, column=2).alignment = _WRAP
    ws.cell(row=len(values), column=2).number_format = "yyyy-mm-dd hh:mm"


def _sheet_title(title: str) -> str:
    """A valid sheet title that is not the title of the other two sheets."""
    cleaned = re.sub(r"[\[\]:*?/\\]", " ", title).strip()[:31]
    taken = {_normalise(MAIN_SHEET_TITLE), _normalise(METADATA_SHEET_TITLE)}
    return cleaned if cleaned and _normalise(cleaned) not in taken else "Historial"


async def export_plan(
    session: AsyncSession,
    plan_id: int,
    path_or_buffer: str | os.PathLike[str] | IO[bytes],
    *,
    labels: Callable[[str], str] | None = None,
    headers: Mapping[Field, str] | None = None,
    history_sheet_title: str = "Historial",
    tz: dt.tzinfo | None = None,
) -> None:
    """Write the plan as .xlsx in the layout of the original table.

    Sheets: the plan (one row per key action, the latest comment of each kind and the current
    statuses), the full history (comments and status changes; times in `tz`, UTC by default),
    and "Plan" (title, programme, evaluation; read back by `read_plan_metadata`). `labels` maps
    stored values (statuses, comment kinds, "status"/"review_status") to the words written;
    Spanish by default. `headers` replaces the column headers (default `SPANISH_HEADERS`).
    """
    label = _labeller(labels)
    content = await _plan_content(session, plan_id, label)
    workbook = Workbook()
    main = workbook.active
    assert main is not None
    main.title = MAIN_SHEET_TITLE
    _main_sheet(main, content, {**SPANISH_HEADERS, **(headers or {})})
    _history_sheet(workbook.create_sheet(_sheet_title(history_sheet_title)), content, tz)
    _metadata_sheet(workbook.create_sheet(METADATA_SHEET_TITLE), content.plan)
    await asyncio.to_thread(workbook.save, path_or_buffer)


async def export_plan_csv(
    session: AsyncSession,
    plan_id: int,
    path_or_buffer: Destination,
    *,
    labels: Callable[[str], str] | None = None,
    headers: Mapping[Field, str] | None = None,
) -> None:
    """Write the plan's main sheet as CSV (UTF-8 with BOM, for Excel). Text that a spreadsheet
    program would run as a formula gets an apostrophe in front, which reading removes again."""
    label = _labeller(labels)
    content = await _plan_content(session, plan_id, label)
    names = {**SPANISH_HEADERS, **(headers or {})}
    out = io.StringIO(newline="")
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([_csv_safe(names[f]) for f in Field])
    for values in content.rows:
        writer.writerow([_csv_safe(str(values[f])) for f in Field])
    text = "\ufeff" + out.getvalue()
    if isinstance(path_or_buffer, str | os.PathLike):
        await asyncio.to_thread(Path(path_or_buffer).write_bytes, text.encode("utf-8"))
    elif isinstance(path_or_buffer, io.TextIOBase):
        path_or_buffer.write(text)
    else:
        path_or_buffer.write(text.encode("utf-8"))  # type: ignore[arg-type]
