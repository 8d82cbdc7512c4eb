"""Reading plan files (.xlsx, .csv, and Word's .docx through `word_reader`): the file's sheets
as rows of text cells, then its key actions (`read_plan_rows`) or, for an exported workbook or a
Word document, the plan's details (`read_plan_metadata`).

Reading never touches the database and reports *every* problem of a file at once
(`PlanFileError`), so nothing is imported from a file with a mistake.
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
from collections.abc import Iterable, Iterator
from itertools import zip_longest
from pathlib import Path, PurePath
from typing import Any

from storage.plan_files.cells import (
    Cell,
    NoValue,
    Row,
    Sheet,
    cell_text,
    column_letter,
    csv_unescape,
)
from storage.plan_files.records import (
    HEADER_SEARCH_ROWS,
    MAX_BLANK_RUN,
    MAX_COLUMNS,
    MAX_ROWS,
    PlanFileError,
    PlanFileIssue,
    PlanRow,
)
from storage.plan_files.safety import (
    DOCUMENT_PART,
    check_csv,
    check_docx,
    check_size,
    check_xlsx,
)
from storage.plan_files.table import RowReader, choose_sheet, header_issues, header_map
from storage.plan_files.vocabulary import METADATA_LOOKUP, METADATA_SHEET_TITLE, match_key

#: A plan file: its bytes, or its path.
Source = bytes | bytearray | memoryview | str | os.PathLike[str]


def _read_source(source: Source, file_name: str | None) -> tuple[bytes, str]:
    """The file's bytes and the name whose extension tells its format."""
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), file_name or ""
    path = Path(source)
    check_size(path.stat().st_size)
    return path.read_bytes(), file_name or path.name


#: The extensions of the plan files read, as an error message lists them.
EXTENSIONS = [".xlsx", ".csv", ".docx"]


def _file_kind(data: bytes, file_name: str) -> str | None:
    """ "xlsx", "csv", "docx", or None when the extension is of a format not read here."""
    extension = PurePath(file_name).suffix.lower()
    if extension in (".xlsx", ".xlsm"):
        return "xlsx"
    if extension in (".csv", ".txt", ".tsv"):
        return "csv"
    if extension in (".docx", ".docm"):
        return "docx"
    if extension:
        return None
    if not data.startswith(b"PK\x03\x04"):
        return "csv"
    return "docx" if _has_document_part(data) else "xlsx"


def _has_document_part(data: bytes) -> bool:
    """A zip holding a Word document's main part (read from the zip's directory only)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return DOCUMENT_PART in archive.namelist()
    except (zipfile.BadZipFile, ValueError):
        return False


def _trim(rows: Iterable[Row]) -> list[Row]:
    """The rows up to the last non-empty one, giving up after a long run of empty rows."""
    kept: list[Row] = []
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


def _open_workbook(data: bytes, *, data_only: bool) -> Any:
    # Imported here: openpyxl weighs tens of MB, and only a workbook that passed the limits
    # (`safety`) needs it; the bot parses uploads in a worker process.
    from openpyxl import load_workbook

    return load_workbook(io.BytesIO(data), read_only=True, data_only=data_only)


def _load_xlsx(data: bytes) -> list[Sheet]:
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
            Sheet(ws.title, _trim(_xlsx_rows(ws, formulas[ws.title]))) for ws in values.worksheets
        ]
    finally:
        values.close()
        formulas.close()


def _xlsx_rows(values: Any, formulas: Any) -> Iterator[Row]:
    """The rows of a worksheet read twice (values, formulas), as text cells."""
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
                cells.append(NoValue(f"{column_letter(index + 1)}{number}"))
            else:
                cells.append(cell_text(value))
        yield Row(number, cells)


def _decode(data: bytes) -> str:
    """CSV text: UTF-8 (with or without BOM), else what Excel writes on Windows."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _load_csv(data: bytes) -> list[Sheet]:
    """The file parsed with each delimiter (, ; tab); the one that finds the best header wins.

    Row numbers count records, as a spreadsheet program shows them (a quoted cell may span
    several lines of the file).
    """
    if b"\x00" in data:
        raise PlanFileError([PlanFileIssue(None, None, "not_a_spreadsheet", {"expected": "csv"})])
    text = _decode(data)
    best: tuple[int, Sheet] | None = None
    for delimiter in (",", ";", "\t"):
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            rows = _trim(
                Row(number, [csv_unescape(cell_text(v)) for v in record[:MAX_COLUMNS]])
                for number, record in enumerate(reader, start=1)
            )
        except csv.Error:
            continue
        score = max((len(header_map(row)[0]) for row in rows[:HEADER_SEARCH_ROWS]), default=0)
        if best is None or score > best[0]:
            best = (score, Sheet("csv", rows))
    if best is None:
        raise PlanFileError([PlanFileIssue(None, None, "not_a_spreadsheet", {"expected": "csv"})])
    return [best[1]]


def read_plan_rows(source: Source, file_name: str | None = None) -> list[PlanRow]:
    """The key actions of a plan file (.xlsx, .csv or .docx), or `PlanFileError` with every
    problem.

    `source` is the file's bytes or its path; `file_name` (its extension) tells the format.
    The file is checked against the limits before it is parsed (`safety`); it is parsed in
    read-only (streaming) mode, so callers may run this in a worker thread.
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
                    {"extension": PurePath(name).suffix.lower(), "expected": EXTENSIONS},
                )
            ]
        )
    if kind == "docx":
        check_docx(data)
        from storage.plan_files.word_reader import read_docx_rows  # python-docx: only for .docx

        return read_docx_rows(data)
    if kind == "xlsx":
        check_xlsx(data)
        sheets = _load_xlsx(data)
    else:
        check_csv(data)
        sheets = _load_csv(data)
    if all(not sheet.rows for sheet in sheets):
        raise PlanFileError([PlanFileIssue(None, None, "empty_file", {})])
    sheet, header = choose_sheet(sheets)
    issues = header_issues(header, sheet)
    if issues or header is None:
        raise PlanFileError(issues)
    reader = RowReader(header)
    rows = reader.read(sheet.rows)
    if reader.issues:
        raise PlanFileError(reader.issues)
    return rows


def read_plan_metadata(source: Source, file_name: str | None = None) -> dict[str, str]:
    """Title, programme, evaluation and source file from the "Plan" sheet of an exported
    workbook, or from a Word document (`read_docx_metadata`); only the keys found, empty for a
    CSV file or a workbook without that sheet."""
    data, name = _read_source(source, file_name)
    kind = _file_kind(data, name)
    if kind == "docx":
        try:
            check_docx(data)
            from storage.plan_files.word_reader import read_docx_metadata  # only for .docx

            return read_docx_metadata(data)
        except PlanFileError:
            return {}
    if kind != "xlsx" or not data.startswith(b"PK\x03\x04"):
        return {}
    try:
        check_xlsx(data, scan_sheets=False)
        workbook = _open_workbook(data, data_only=True)
    except Exception:
        return {}
    try:
        wanted = match_key(METADATA_SHEET_TITLE)
        sheet = next((ws for ws in workbook.worksheets if match_key(ws.title) == wanted), None)
        if sheet is None:
            return {}
        result: dict[str, str] = {}
        for row in sheet.iter_rows(min_row=1, max_row=50, max_col=2, values_only=True):
            key = METADATA_LOOKUP.get(match_key(cell_text(row[0] if row else None)))
            if key is not None and len(row) > 1 and key not in result:
                result[key] = cell_text(row[1])[:500]
        return result
    finally:
        workbook.close()
