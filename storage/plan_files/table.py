"""The plan table of a sheet: finding its header row, and reading the rows under it into
`PlanRow`s. Every problem is collected (with its row and column) rather than raised at the first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from storage.plan_files.cells import NoValue, Row, Sheet, column_letter
from storage.plan_files.records import (
    FIELD_LIMITS,
    HEADER_SEARCH_ROWS,
    MAX_ACTION_NUMBER,
    MAX_CELL_LENGTH,
    MAX_ROWS,
    MAX_UNIT_NAME_LENGTH,
    PlanFileIssue,
    PlanRow,
)
from storage.plan_files.vocabulary import (
    AMBIGUOUS_HEADERS,
    HEADER_LABELS,
    HEADER_LOOKUP,
    REQUIRED_FIELDS,
    REVIEW_LOOKUP,
    SECOND_OCCURRENCE,
    STATUS_LOOKUP,
    Field,
    column_header,
    expected_statuses,
    match_key,
    spellings,
)
from storage.units import split_units


@dataclass(slots=True)
class Header:
    row: int
    columns: dict[Field, int]
    names: dict[Field, str]
    found: list[str]
    issues: list[PlanFileIssue]


def header_map(row: Row) -> tuple[dict[Field, int], list[PlanFileIssue]]:
    """The columns a row names as headers ({field: index}), and its duplicated columns."""
    columns: dict[Field, int] = {}
    issues: list[PlanFileIssue] = []
    for index, cell in enumerate(row.cells):
        if not isinstance(cell, str) or not cell:
            continue
        key = match_key(cell)
        found = HEADER_LOOKUP.get(key)
        if found is None:
            continue
        if found in columns and key in AMBIGUOUS_HEADERS and found in SECOND_OCCURRENCE:
            found = SECOND_OCCURRENCE[found]
        if found in columns:
            issues.append(
                PlanFileIssue(
                    row.number,
                    cell,
                    "duplicate_column",
                    {
                        "field": found.value,
                        "letter": column_letter(index + 1),
                        "first_letter": column_letter(columns[found] + 1),
                    },
                )
            )
            continue
        columns[found] = index
    return columns, issues


def find_header(sheet: Sheet) -> Header | None:
    """The row among the first ones that names the most columns."""
    best: Header | None = None
    for row in sheet.rows[:HEADER_SEARCH_ROWS]:
        columns, issues = header_map(row)
        if columns and (best is None or len(columns) > len(best.columns)):
            names = {f: str(row.cells[i]) for f, i in columns.items()}
            found = [c for c in row.cells if isinstance(c, str) and c]
            best = Header(row.number, columns, names, found, issues)
    return best


def header_issues(header: Header | None, sheet: Sheet) -> list[PlanFileIssue]:
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
        column_header(missing),
        "missing_column",
        {
            "field": missing.value,
            "expected": spellings(HEADER_LABELS[missing]),
            "found": found,
        },
    )


def choose_sheet(sheets: list[Sheet]) -> tuple[Sheet, Header | None]:
    """The first sheet whose header has every required column, else the best-looking one."""
    candidates = [(sheet, find_header(sheet)) for sheet in sheets]
    for sheet, header in candidates:
        if header is not None and all(f in header.columns for f in REQUIRED_FIELDS):
            return sheet, header
    return max(candidates, key=lambda c: len(c[1].columns) if c[1] else -1)


@dataclass(slots=True)
class _Block:
    label: str
    text: str
    response: str
    first_row: int
    numbers: dict[int, int] = field(default_factory=dict)  # action number -> row
    action_rows: int = 0


class RowReader:
    """Turns the data rows under the header into `PlanRow`s, collecting every issue."""

    def __init__(self, header: Header) -> None:
        self.header = header
        self.issues: list[PlanFileIssue] = []
        self.blocks: dict[str, _Block] = {}
        self.current: _Block | None = None
        self.result: list[PlanRow] = []

    def issue(self, row: int, column: Field | None, code: str, **detail: Any) -> None:
        name = self.header.names.get(column) if column is not None else None
        if column is not None and name is None:
            name = column_header(column)
        self.issues.append(PlanFileIssue(row, name, code, detail))

    def cell(self, row: Row, column: Field) -> str | None:
        """The cell's text; None (and an issue) when it cannot be used."""
        value = row.text(self.header.columns.get(column))
        if isinstance(value, NoValue):
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

    def read(self, rows: Sequence[Row]) -> list[PlanRow]:
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

    def read_row(self, row: Row) -> None:
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

    def block_for(self, row: Row, text: dict[Field, str]) -> _Block | None:
        """The row's recommendation: its own label, or the one of the row above."""
        label = _clean_label(text[Field.LABEL])
        if not label:
            if self.current is None:
                self.issue(row.number, Field.LABEL, "missing_value")
                return None
            block = self.current
        else:
            block = self.blocks.setdefault(label, _Block(label, "", "", row.number))
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

    def number(self, row: Row, block: _Block, text: str) -> int | None:
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

    def statuses(self, row: Row, text: dict[Field, str]) -> tuple[str | None, str | None] | None:
        result: list[str | None] = []
        ok = True
        for column, lookup in (
            (Field.FOLLOW_UP_STATUS, STATUS_LOOKUP),
            (Field.REVIEW_STATUS, REVIEW_LOOKUP),
        ):
            value = text[column]
            if not value:
                result.append(None)
                continue
            status = lookup.get(match_key(value))
            if status is None:
                expected = expected_statuses(column)
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
