"""Reading a Word plan (.docx): the layout of the original document, into the same `PlanRow`s a
spreadsheet gives (`read_docx_rows`), and the plan's details (`read_docx_metadata`).

The document is read in order. A heading "Recomendación de la Evaluación Nº 2 y 3" opens a
block; the paragraphs after it are the recommendation, those after "Respuesta de la gestión …"
the management response; a table with the headers "Acciones clave | Plazo | Responsable |
Seguimiento | Secretariado" (over "Comentarios | Estado", or one header row) holds the block's
key actions. One table may also hold the whole plan, with a "Recomendación Nº" column or the
headings as rows of their own. Action numbers are read from a column of their own or from the
start of the action ("1.", "2.Elaboración…"). The rows then go through the spreadsheet's rules
(`table.RowReader`): every problem is reported with its table, row and column, and nothing is
imported from a document with a mistake.

A person's document often breaks a phrase over lines inside a cell ("Coordinación⏎del PC"):
a line that goes on in lower case, or after a comma or a linking word, is joined to the one
before. A document the bot wrote (`EXPORT_MARK`) is read exactly as written.

Blocking (python-docx parses the whole document): callers run this in a worker thread, after
`safety.check_docx` has bounded the file.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from docx import Document
from docx.document import Document as DocumentObject

from storage.plan_files.cells import Row, clean_text
from storage.plan_files.records import (
    HEADER_SEARCH_ROWS,
    MAX_COLUMNS,
    MAX_TITLE_LENGTH,
    PlanFileError,
    PlanFileIssue,
    PlanRow,
)
from storage.plan_files.table import Header, RowReader, header_map
from storage.plan_files.vocabulary import (
    HEADER_LABELS,
    HEADER_LOOKUP,
    REQUIRED_FIELDS,
    Field,
    column_header,
    match_key,
    spellings,
)
from storage.plan_files.word_layout import (
    EXPORT_MARK,
    recommendation_heading,
    response_heading,
)

_FIELDS = list(Field)
_INDEX = {column: index for index, column in enumerate(_FIELDS)}
#: Headers of a group over "Comentarios | Estado", and the columns they make.
_GROUPS = {
    Field.FOLLOW_UP_COMMENT: (Field.FOLLOW_UP_COMMENT, Field.FOLLOW_UP_STATUS),
    Field.REVIEW_COMMENT: (Field.REVIEW_COMMENT, Field.REVIEW_STATUS),
}
_COMMENT_COLUMNS = (Field.FOLLOW_UP_COMMENT, Field.REVIEW_COMMENT)
_STATUS_COLUMNS = (Field.FOLLOW_UP_STATUS, Field.REVIEW_STATUS)
_BARE_NUMBER_HEADERS = frozenset({"", "n", "no", "nro", "num", "numero", "number"})  # "#" is ""
_LONGEST_HEADER = 80
_VAL = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}val"
#: A table is the plan's when its header names at least this many columns.
_MIN_PLAN_COLUMNS = 2
#: "1.", "2.Elaboración", "2 .Fortalecer", "3) Propiciar" at the start of an action.
_NUMBER_PREFIX = re.compile(r"^\s*(\d{1,4})\s*[.)]\s*")
_NUMBER_ONLY = re.compile(r"^\s*\d{1,4}\s*[.)º°]?\s*$")
#: A line ending with one of these words goes on in the next line.
_LINKING_WORDS = frozenset(
    {"a", "al", "con", "de", "del", "e", "el", "en", "la", "las", "los", "o", "para", "por", "u"}
    | {"y", "and", "for", "in", "of", "on", "the", "to", "with"}
)
#: Cells read as one phrase: their lines always joined.
_ONE_LINE = (Field.LABEL, Field.NUMBER, Field.DEADLINE, Field.FOLLOW_UP_STATUS, Field.REVIEW_STATUS)


@dataclass(frozen=True, slots=True)
class _Cell:
    """A cell of a table row, by layout-grid column: its text, and whether it starts its span
    (a merged cell covers several columns; its text counts once)."""

    text: str
    first: bool
    span: int


@dataclass(slots=True)
class _Section:
    """A block as its headings and paragraphs give it."""

    label: str
    text: list[str] = field(default_factory=list)
    response: list[str] = field(default_factory=list)
    in_response: bool = False
    actions: int = 0  # rows read under it: text after them is a note, not the block's


@dataclass(slots=True)
class _TableHeader:
    """Where the columns of a plan table are, and their headers as written."""

    columns: dict[Field, int]
    names: dict[Field, str]
    rows: int  # header rows, from the table's first row


def _tag(element: Any) -> str:
    return str(element.tag).rsplit("}", 1)[-1]


def _value(element: Any, path: str) -> str | None:
    """The `w:val` of the element at `path` (tags without their namespace), None if absent."""
    for name in path.split("/"):
        element = next((child for child in element if _tag(child) == name), None)
        if element is None:
            return None
    value = element.get(_VAL)
    return "" if value is None else str(value)


def _paragraph_text(paragraph: Any) -> str:
    """A paragraph's text as Word shows it: line breaks as "\n", tabs as "\t" (deleted text and
    field codes are other elements, not read)."""
    parts: list[str] = []
    for node in paragraph.iter():
        tag = _tag(node)
        if tag == "t" and node.text:
            parts.append(node.text)
        elif tag in ("br", "cr"):
            parts.append("\n")
        elif tag == "tab" and _tag(node.getparent()) == "r":
            parts.append("\t")
    return "".join(parts)


def _cell_text(cell: Any) -> str:
    """A cell's paragraphs, one a line (nested tables left out)."""
    text = "\n".join(_paragraph_text(p) for p in cell if _tag(p) == "p")
    return clean_text(text.replace("\x0b", "\n"))


def _count(value: str | None, default: int) -> int:
    """A count of grid columns (bounded: `safety` has checked the cells, not these)."""
    return min(int(value), MAX_COLUMNS) if value and value.isdigit() else default


def _grid(table: Any) -> list[list[_Cell]]:
    """The table's rows as layout-grid cells; a vertically merged cell repeats its text in the
    rows it covers, a horizontally merged one in the columns it covers (`first` only once).
    Read from the document's XML: python-docx's cell objects search the table on each call."""
    grid: list[list[_Cell]] = []
    above: list[_Cell] = []
    for row in (child for child in table if _tag(child) == "tr"):
        before = _count(_value(row, "trPr/gridBefore"), 0)
        cells = [_Cell("", True, 1) for _ in range(before)]
        for cell in (child for child in row if _tag(child) == "tc"):
            span = max(1, _count(_value(cell, "tcPr/gridSpan"), 1))
            merge = _value(cell, "tcPr/vMerge")
            column = len(cells)
            continued = merge is not None and merge != "restart" and column < len(above)
            text = above[column].text if continued else _cell_text(cell)
            cells.append(_Cell(text, True, span))
            cells += [_Cell(text, False, span) for _ in range(span - 1)]
        grid.append(cells)
        above = cells
    return grid


def unbroken(text: str) -> str:
    """Lines broken inside a phrase joined again: a line going on in lower case, or after a
    comma or a linking word ("de", "y", "of"...), joins the line before with a space."""
    lines = text.split("\n")
    kept = [lines[0]]
    for line in lines[1:]:
        before, after = kept[-1].rstrip(), line.strip()
        words = before.split()
        joins = bool(
            after
            and words
            and (
                after[0].islower() or before.endswith(",") or words[-1].casefold() in _LINKING_WORDS
            )
        )
        if joins:
            kept[-1] = f"{before} {after}"
        else:
            kept.append(line)
    return "\n".join(kept)


def _paragraphs_text(lines: Sequence[str]) -> str:
    """Paragraphs as one text: blank paragraphs at the ends dropped, runs of them kept as one."""
    kept: list[str] = []
    for line in lines:
        if not line.strip() and (not kept or not kept[-1].strip()):
            continue
        kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    return clean_text("\n".join(kept))


def _header_field(text: str) -> Field | None:
    """The column a header names (None for any longer text: no header is that long)."""
    if not text or len(text) > _LONGEST_HEADER:
        return None
    return HEADER_LOOKUP.get(match_key(text))


def _is_subheader(row: Sequence[_Cell], top: Sequence[_Cell]) -> bool:
    """A second header row: only header words ("Comentarios", "Estado"), not all as above."""
    texts = [cell.text for cell in row if cell.first and cell.text]
    if not texts or any(_header_field(text) is None for text in texts):
        return False
    return [c.text for c in row] != [c.text for c in top]


def _column_names(top: Sequence[_Cell], sub: Sequence[_Cell] | None) -> list[str]:
    """One header per grid column from one or two header rows: "Seguimiento" over
    "Comentarios" is the follow-up comments, "Secretariado" over "Estado" the review status; a
    merged "Acciones clave" over two columns is the action number, then the action."""
    names: list[str] = []
    for index, cell in enumerate(top):
        below = sub[index].text if sub is not None and index < len(sub) else ""
        group = _GROUPS.get(_header_field(cell.text) or Field.LABEL)
        if below and below != cell.text:
            found = _header_field(below)
            if group is not None and found in _COMMENT_COLUMNS:
                names.append(column_header(group[0]))
            elif group is not None and found in _STATUS_COLUMNS:
                names.append(column_header(group[1]))
            else:
                names.append(below)
        else:
            names.append(cell.text if cell.first else "")
    for index, cell in enumerate(top):
        if cell.first and cell.span > 1 and _header_field(cell.text) == Field.ACTION:
            last = min(index + cell.span, len(names)) - 1
            if last > index and not any(names[index + 1 : last + 1]):
                names[index] = column_header(Field.NUMBER)
                names[last] = cell.text
    return names


def _find_header(
    grid: Sequence[Sequence[_Cell]],
) -> tuple[_TableHeader | None, list[PlanFileIssue], int]:
    """The header of a plan table among its first rows (None when the table is not one),
    its duplicated columns, and the row it was found in (0-based)."""
    for index, top in enumerate(grid[:HEADER_SEARCH_ROWS]):
        sub = grid[index + 1] if index + 1 < len(grid) else None
        if sub is not None and not _is_subheader(sub, top):
            sub = None
        names = _column_names(top, sub)
        _number_beside_action(names)
        columns, issues = header_map(Row(index + 1, list(names)))
        if len(columns) >= _MIN_PLAN_COLUMNS:
            header = _TableHeader(
                columns,
                {f: names[i] for f, i in columns.items()},
                index + (2 if sub is not None else 1),
            )
            return header, issues, index
    return None, [], 0


def _number_beside_action(names: list[str]) -> None:
    """A bare "Nº" (or "No.", "#") just before the actions is the action's number, not the
    recommendation's, in a Word table."""
    for index, name in enumerate(names[:-1]):
        bare = name.strip() and match_key(name) in _BARE_NUMBER_HEADERS
        if bare and _header_field(names[index + 1]) == Field.ACTION:
            names[index] = column_header(Field.NUMBER)


def _is_header_row(cells: Sequence[_Cell]) -> bool:
    """A header repeated inside the table (on each page, or under each heading row): every
    filled cell a header word, two or more of them, or only "Comentarios"/"Estado"."""
    fields = [_header_field(c.text) for c in cells if c.first and c.text]
    if not fields or None in fields:
        return False
    return len(fields) >= _MIN_PLAN_COLUMNS or fields[0] in (*_COMMENT_COLUMNS, *_STATUS_COLUMNS)


def _only_text(cells: Sequence[_Cell]) -> str | None:
    """The text of a row that is one cell across the table (a heading or a paragraph inside a
    whole-plan table), else None."""
    texts = {c.text for c in cells if c.text}
    if len(texts) != 1:
        return None
    text = texts.pop()
    spans = [c for c in cells if c.first and c.text]
    if len(spans) == 1 and (spans[0].span >= len(cells) or recommendation_heading(text)):
        return text
    return None


class _DocumentReader:
    """Walks the document's paragraphs and tables, building one row per key action (as a
    spreadsheet row of every column) and remembering where each came from."""

    def __init__(self, exported: bool) -> None:
        self.exported = exported
        self.section: _Section | None = None
        self.collecting = False  # paragraphs belong to the current section
        self.rows: list[Row] = []
        self.where: dict[int, tuple[int, int]] = {}  # row -> (table, row in table)
        self.names: dict[int, dict[Field, str]] = {}  # table -> headers as written
        self.issues: list[PlanFileIssue] = []
        self.plan_tables = 0
        self.unlabelled = False

    def paragraph(self, text: str) -> None:
        heading = recommendation_heading(text)
        if heading is not None:
            self.section = _Section(heading.label)
            self.collecting = True
            if heading.rest:
                self.section.text.append(heading.rest)
            return
        if self.section is None or not self.collecting:
            return
        response = response_heading(text)
        if response is not None:
            self.section.in_response = True
            if response:
                self.section.response.append(response)
            return
        target = self.section.response if self.section.in_response else self.section.text
        target.append(text)

    def table(self, number: int, table: Any) -> None:
        grid = _grid(table)
        header, issues, found_at = _find_header(grid)
        if header is None:
            return
        for index in range(found_at):  # rows above the header: headings of a whole-plan table
            text = _only_text(grid[index])
            if text is not None:
                self.paragraph(text)
        self.plan_tables += 1
        self.names[number] = header.names
        self.collecting = False
        self.issues += [replace(issue, table=number) for issue in issues]
        missing = [f for f in REQUIRED_FIELDS if f not in header.columns and f != Field.LABEL]
        for column in missing:
            self.missing_column(number, found_at + 1, column, header)
        if missing:
            return
        for index in range(header.rows, len(grid)):
            self.table_row(number, index + 1, grid[index], header)
            if self.unlabelled:
                self.unlabelled = False
                self.missing_column(number, found_at + 1, Field.LABEL, header)
                return

    def missing_column(self, table: int, row: int, column: Field, header: _TableHeader) -> None:
        self.issues.append(
            PlanFileIssue(
                row,
                column_header(column),
                "missing_column",
                {
                    "field": column.value,
                    "expected": spellings(HEADER_LABELS[column]),
                    "found": [n for n in header.names.values() if n],
                },
                table=table,
            )
        )

    def table_row(self, table: int, number: int, cells: list[_Cell], header: _TableHeader) -> None:
        if all(not c.text for c in cells) or _is_header_row(cells):
            return
        text = _only_text(cells)
        if text is not None:
            section = self.section
            if section is None or not section.actions or recommendation_heading(text):
                self.collecting = True
                self.paragraph(text)
                self.collecting = False
            return
        if Field.LABEL not in header.columns and self.section is None:
            self.unlabelled = True  # no heading above, no recommendation column
            return
        values = self.values(cells, header)
        if self.section is not None:
            self.section.actions += 1
        row = Row(len(self.rows) + 1, [values.get(f, "") for f in _FIELDS])
        self.rows.append(row)
        self.where[row.number] = (table, number)

    def values(self, cells: Sequence[_Cell], header: _TableHeader) -> dict[Field, str]:
        """The row's cells by column, the block's texts from its headings where the table has
        no column for them, the action number taken from the action's start."""
        values: dict[Field, str] = {}
        for column, index in header.columns.items():
            if index < len(cells) and cells[index].first:
                values[column] = self.clean(column, cells[index].text)
        for column, index in header.columns.items():  # a merged cell's text counts once
            if index >= len(cells) or cells[index].first:
                continue
            start = index
            while start > 0 and not cells[start].first:
                start -= 1
            owner = next((f for f, i in header.columns.items() if i == start), None)
            text = self.clean(column, cells[index].text)
            if owner is None and not values.get(column):
                values[column] = text
            elif owner == Field.NUMBER and column == Field.ACTION and not _NUMBER_ONLY.match(text):
                values[Field.NUMBER], values[Field.ACTION] = "", text
        section = self.section
        if not values.get(Field.LABEL) and section is not None:
            values[Field.LABEL] = section.label
        if section is not None and values.get(Field.LABEL) == section.label:
            for column, lines in (
                (Field.RECOMMENDATION, section.text),
                (Field.RESPONSE, section.response),
            ):
                if not values.get(column):
                    values[column] = self.clean(column, _paragraphs_text(lines))
        action = values.get(Field.ACTION, "")
        match = _NUMBER_PREFIX.match(action)
        if match is not None:
            if not values.get(Field.NUMBER):
                values[Field.NUMBER] = match.group(1)
            if values[Field.NUMBER] == match.group(1):
                values[Field.ACTION] = action[match.end() :]
        return values

    def clean(self, column: Field, text: str) -> str:
        if column in _ONE_LINE:
            return " ".join(text.split())
        return text if self.exported else unbroken(text)

    def plan_rows(self) -> list[PlanRow]:
        """The rows read through the spreadsheet's rules; `PlanFileError` with every problem."""
        if not self.plan_tables and not self.issues:
            self.issues.append(PlanFileIssue(None, None, "no_plan_table", {}))
        if self.issues:
            raise PlanFileError(self.issues)
        columns = dict(_INDEX)
        header = Header(0, columns, {f: f.value for f in _FIELDS}, [], [])
        reader = RowReader(header)
        rows = reader.read(self.rows)
        if reader.issues:
            raise PlanFileError([self.located(issue) for issue in reader.issues])
        return [replace(row, row=self.where[row.row][1]) for row in rows]

    def located(self, issue: PlanFileIssue) -> PlanFileIssue:
        """An issue of the combined rows told by its table, row and column as written."""
        if issue.row is None or issue.row not in self.where:
            return issue
        table, row = self.where[issue.row]
        column = issue.column
        try:
            field_ = Field(column) if column is not None else None
        except ValueError:
            field_ = None
        if field_ is not None:
            column = self.names.get(table, {}).get(field_) or column_header(field_)
        detail = dict(issue.detail)
        first = detail.get("first_row")
        if isinstance(first, int) and first in self.where:
            detail["first_row"] = self.where[first][1]
        return replace(issue, row=row, column=column, detail=detail, table=table)


def _open(data: bytes) -> DocumentObject:
    try:
        return Document(io.BytesIO(data))
    except Exception as exc:  # a zip that is not a document: KeyError, ValueError, lxml's...
        raise PlanFileError([PlanFileIssue(None, None, "not_a_document", {})]) from exc


def _is_export(document: DocumentObject) -> bool:
    return bool(document.core_properties.identifier == EXPORT_MARK)


def _body(document: DocumentObject) -> Iterator[tuple[str, Any]]:
    """The body's paragraphs ("p", text) and tables ("tbl", element) in order, content
    controls opened."""
    pending = list(document.element.body)
    pending.reverse()
    while pending:
        element = pending.pop()
        tag = _tag(element)
        if tag == "p":
            yield "p", clean_text(_paragraph_text(element).replace("\x0b", "\n"))
        elif tag == "tbl":
            yield "tbl", element
        elif tag in ("sdt", "sdtContent", "customXml"):
            pending.extend(reversed(list(element)))


def read_docx_rows(data: bytes) -> list[PlanRow]:
    """The key actions of a Word plan, or `PlanFileError` with every problem (each with its
    table, row and column). The caller has checked the file (`safety.check_docx`)."""
    document = _open(data)
    reader = _DocumentReader(_is_export(document))
    tables = 0
    for kind, item in _body(document):
        if kind == "tbl":
            tables += 1
            reader.table(tables, item)
        else:
            reader.paragraph(item)
    return reader.plan_rows()


def read_docx_metadata(data: bytes) -> dict[str, str]:
    """Title (and, in a document the bot wrote, programme and evaluation): the document's
    first paragraph before any heading or table, else its title property."""
    document = _open(data)
    properties = document.core_properties
    result: dict[str, str] = {}
    if _is_export(document):
        for key, value in (
            ("title", properties.title),
            ("programme", properties.subject),
            ("evaluation", properties.category),
        ):
            if value and value.strip():
                result[key] = value.strip()[:MAX_TITLE_LENGTH]
        return result
    for kind, item in _body(document):
        if kind == "tbl":
            break
        text = " ".join(item.split())
        if recommendation_heading(text) is not None:
            break
        if text:
            result["title"] = text[:MAX_TITLE_LENGTH]
            break
    if "title" not in result and properties.title and properties.title.strip():
        result["title"] = properties.title.strip()[:MAX_TITLE_LENGTH]
    return result
