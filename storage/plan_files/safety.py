"""A plan file checked before it is parsed: what its bytes claim is bounded, so that a small
upload cannot exhaust memory or time (a compression bomb, a sheet of endless rows or columns).

The checks read the zip's directory and stream each worksheet's XML (nothing is extracted to
disk, nothing is held whole); a file over a limit raises `PlanFileError` with a code that names
the limit: ``file_too_large``, ``uncompressed_too_large``, ``too_many_entries``,
``compression_ratio``, ``part_too_large``, ``too_many_rows``, ``too_many_columns``,
``line_too_long``; a Word document that is not one, ``not_a_document``.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import IO, Any
from xml.etree.ElementTree import ParseError, iterparse

from storage.plan_files.records import (
    MAX_COLUMNS,
    MAX_COMPRESSION_RATIO,
    MAX_FILE_BYTES,
    MAX_LINE_BYTES,
    MAX_PART_BYTES,
    MAX_ROWS,
    MAX_SHEET_ROWS,
    MAX_UNCOMPRESSED_BYTES,
    MAX_ZIP_ENTRIES,
    MB,
    PlanFileError,
    PlanFileIssue,
)

_SHEET_PART = re.compile(r"^xl/worksheets/[^/]+\.xml$")
_BOUNDED_PARTS = re.compile(r"^xl/(sharedStrings\.xml|worksheets/[^/]+\.xml)$")
#: The main part of a Word document, and the parts it may be made of.
DOCUMENT_PART = "word/document.xml"
_WORD_PART = re.compile(r"^word/[^/]+\.xml$")
_COLUMN = re.compile(r"^([A-Z]{1,3})")
_RATIO_FLOOR = MB  # small members may compress well without harm


def _refuse(code: str, **detail: Any) -> PlanFileError:
    return PlanFileError([PlanFileIssue(None, None, code, detail)])


def check_size(size: int) -> None:
    """The file as sent is at most `MAX_FILE_BYTES`."""
    if size > MAX_FILE_BYTES:
        raise _refuse("file_too_large", limit_mb=MAX_FILE_BYTES // MB)


def check_csv(data: bytes) -> None:
    """No line of a CSV file is longer than `MAX_LINE_BYTES`."""
    check_size(len(data))
    start = 0
    while start < len(data):
        end = data.find(b"\n", start)
        if end < 0:
            end = len(data)
        if end - start > MAX_LINE_BYTES:
            raise _refuse("line_too_long", limit=MAX_LINE_BYTES)
        start = end + 1


def check_xlsx(data: bytes, *, scan_sheets: bool = True) -> None:
    """The .xlsx's zip directory within bounds (entries, unpacked sizes, compression ratios),
    then, with `scan_sheets`, every worksheet streamed: rows and columns within bounds."""
    check_size(len(data))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise _refuse("not_a_spreadsheet", expected="xlsx") from exc
    with archive:
        members = archive.infolist()
        _check_members(members)
        for member in members:
            if _BOUNDED_PARTS.match(member.filename) and member.file_size > MAX_PART_BYTES:
                raise _refuse("part_too_large", part=member.filename, limit_mb=MAX_PART_BYTES // MB)
        if scan_sheets:
            for member in members:
                if _SHEET_PART.match(member.filename):
                    with archive.open(member) as part:
                        head = part.read(1024)
                    if b"<!DOCTYPE" in head.upper():  # entities: nothing a workbook needs
                        raise _refuse("not_a_spreadsheet", expected="xlsx")
                    with archive.open(member) as part:
                        _scan_sheet(part)


def _check_members(members: list[zipfile.ZipInfo]) -> None:
    """A zip's directory within bounds: entries, unpacked size, compression ratios."""
    if len(members) > MAX_ZIP_ENTRIES:
        raise _refuse("too_many_entries", limit=MAX_ZIP_ENTRIES)
    if sum(member.file_size for member in members) > MAX_UNCOMPRESSED_BYTES:
        raise _refuse("uncompressed_too_large", limit_mb=MAX_UNCOMPRESSED_BYTES // MB)
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > _RATIO_FLOOR and ratio > MAX_COMPRESSION_RATIO:
            raise _refuse("compression_ratio", limit=MAX_COMPRESSION_RATIO)


def check_docx(data: bytes) -> None:
    """A Word document's zip directory within bounds (as `check_xlsx`), its main part present,
    bounded and free of DTDs, and its tables streamed: rows and columns within bounds."""
    check_size(len(data))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise _refuse("not_a_document") from exc
    with archive:
        members = archive.infolist()
        _check_members(members)
        for member in members:
            if _WORD_PART.match(member.filename) and member.file_size > MAX_PART_BYTES:
                raise _refuse("part_too_large", part=member.filename, limit_mb=MAX_PART_BYTES // MB)
        if DOCUMENT_PART not in {member.filename for member in members}:
            raise _refuse("not_a_document")
        with archive.open(DOCUMENT_PART) as part:
            head = part.read(1024)
        if b"<!DOCTYPE" in head.upper():  # entities: nothing a document needs
            raise _refuse("not_a_document")
        with archive.open(DOCUMENT_PART) as part:
            _scan_document(part)


def _scan_document(part: IO[bytes]) -> None:
    """Table rows (all tables together) at most `MAX_SHEET_ROWS`, cells of a row (counting the
    columns a merged cell spans) at most `MAX_COLUMNS`; keeps no element it has passed."""
    rows = 0
    try:
        for _event, element in iterparse(part, events=("end",)):
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "tr":
                rows += 1
                if rows > MAX_SHEET_ROWS:
                    raise _refuse("too_many_rows", limit=MAX_ROWS)
                columns = 0
                for cell in element:
                    if cell.tag.rsplit("}", 1)[-1] == "tc":
                        columns += _grid_span(cell)
                if columns > MAX_COLUMNS:
                    raise _refuse("too_many_columns", limit=MAX_COLUMNS)
                element.clear()
            elif tag in ("p", "tbl"):
                element.clear()
    except ParseError as exc:
        raise _refuse("not_a_document") from exc


def _grid_span(cell: Any) -> int:
    """The columns a `w:tc` spans (its `w:gridSpan`, else 1)."""
    for prop in cell:
        if prop.tag.rsplit("}", 1)[-1] != "tcPr":
            continue
        for child in prop:
            if child.tag.rsplit("}", 1)[-1] == "gridSpan":
                value = next((v for k, v in child.attrib.items() if k.endswith("val")), "1")
                return int(value) if value.isdigit() else 1
    return 1


def _column_number(reference: str | None, position: int) -> int:
    """The 1-based column of a cell reference ("AB12" is 28), or its position in the row."""
    match = _COLUMN.match(reference or "")
    if match is None:
        return position
    number = 0
    for letter in match.group(1):
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def _scan_sheet(part: IO[bytes]) -> None:
    """Rows holding a value at most `MAX_SHEET_ROWS`, and no value past column `MAX_COLUMNS`;
    stops at the first excess, keeps no element it has passed. The refusal is raised once the
    parser is gone: an exception raised inside the loop would keep the parser's tree (the
    offending row: megabytes for a row of 20,000 cells) for as long as anyone holds it."""
    excess = _first_excess(part)
    if excess is not None:
        raise excess


def _first_excess(part: IO[bytes]) -> PlanFileError | None:
    """`_scan_sheet`'s refusal, if any."""
    rows = 0
    parent: Any = None
    try:
        for event, element in iterparse(part, events=("start", "end")):
            tag = element.tag.rsplit("}", 1)[-1]
            if event == "start":
                if tag == "sheetData":
                    parent = element
                continue
            if tag != "row":
                continue
            valued = False
            for position, cell in enumerate(element, start=1):
                if not any(child.tag.rsplit("}", 1)[-1] in ("v", "is") for child in cell):
                    continue
                valued = True
                if _column_number(cell.get("r"), position) > MAX_COLUMNS:
                    return _refuse("too_many_columns", limit=MAX_COLUMNS)
            rows += valued
            if rows > MAX_SHEET_ROWS:
                return _refuse("too_many_rows", limit=MAX_ROWS)
            element.clear()
            if parent is not None:
                parent.clear()
    except ParseError:  # not chained: the parse error's frames hold the tree too
        return _refuse("not_a_spreadsheet", expected="xlsx")
    return None
