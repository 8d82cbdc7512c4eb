"""Word plans built with python-docx for the tests: the seed plan (the bundled CSV's rows) in
the layout of the original document, and its common variations."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources

from docx import Document
from docx.document import Document as DocumentObject
from docx.table import Table

from storage.plan_files import PlanRow, read_plan_rows

SEED_TITLE = "Plan de Mejora del Programa Conjunto"


def seed_rows() -> list[PlanRow]:
    data = resources.files("storage").joinpath("data", "plan_de_mejora.csv").read_bytes()
    return read_plan_rows(data, "plan_de_mejora.csv")


@dataclass
class Layout:
    """How a test document is written (the defaults are the original document's)."""

    english: bool = False
    shouting: bool = False  # headings in capitals without accents
    one_table: bool = False  # one table for the whole plan
    label_column: bool = False  # (one table) a "Recomendación Nº" column, else heading rows
    header_rows: int = 2
    merged: bool = True  # the group headers merged over their two columns
    numbers: str = "prefix"  # "prefix" ("1. Text"), "tight" ("1.Text") or "column"
    broken: dict[str, str] = field(default_factory=dict)  # cell text -> as written with breaks
    follow_up: dict[tuple[str, int], tuple[str, str, str, str]] = field(default_factory=dict)


def _headings(layout: Layout) -> tuple[str, str]:
    if layout.english:
        rec, resp = "Evaluation Recommendation No. {label}", "Management response"
    else:
        rec, resp = (
            "Recomendación de la Evaluación Nº {label}",
            "Respuesta de la gestión del Programa Conjunto",
        )
    if layout.shouting:
        rec = rec.upper().replace("Ó", "O").replace("Nº", "N°").replace("{LABEL}", "{label}")
        resp = resp.upper().replace("Ó", "O")
    return rec, resp


def _headers(layout: Layout) -> tuple[list[str], list[str]]:
    if layout.english:
        first = ["Key actions", "Time-frame", "Responsible", "Follow-up", "", "Secretariat", ""]
        second = ["", "", "", "Comments", "Status", "Comments", "Status"]
        flat = [
            "Key actions",
            "Time-frame",
            "Responsible unit(s)",
            "Follow-up - Comments",
            "Follow-up - Status",
            "Secretariat - Comments",
            "Secretariat - Status",
        ]
    else:
        first = ["Acciones clave", "Plazo", "Responsable", "Seguimiento", "", "Secretariado", ""]
        second = ["", "", "", "Comentarios", "Estado", "Comentarios", "Estado"]
        flat = [
            "Acciones clave",
            "Plazo",
            "Responsable",
            "Comentarios",
            "Estado",
            "Comentarios",
            "Estado",
        ]
    if layout.header_rows == 1:
        return flat, []
    return first, second


def _write_lines(document: DocumentObject, text: str) -> None:
    for line in text.split("\n"):
        document.add_paragraph(line)


def _set(cell: object, text: str) -> None:
    lines = text.split("\n")
    cell.text = lines[0]  # type: ignore[attr-defined]
    for line in lines[1:]:
        cell.add_paragraph(line)  # type: ignore[attr-defined]


class _TableWriter:
    def __init__(self, document: DocumentObject, layout: Layout) -> None:
        self.layout = layout
        first, second = _headers(layout)
        self.extra = (1 if layout.numbers == "column" else 0) + (1 if layout.label_column else 0)
        self.columns = len(first) + self.extra
        self.table: Table = document.add_table(rows=0, cols=self.columns)
        lead = []
        if layout.label_column:
            lead.append("Recomendación Nº" if not layout.english else "Recommendation no.")
        if layout.numbers == "column":
            lead.append("Nº" if not layout.english else "No.")
        top = self.table.add_row().cells
        for index, text in enumerate([*lead, *first]):
            if text:
                top[index].text = text
        if second:
            sub = self.table.add_row().cells
            for index, text in enumerate([*([""] * len(lead)), *second]):
                if text:
                    sub[index].text = text
            if layout.merged:
                start = len(lead)
                for column in range(start, start + 3):
                    top[column].merge(sub[column])
                top[start + 3].merge(top[start + 4])
                top[start + 5].merge(top[start + 6])
            else:
                for offset, text in ((4, first[3]), (6, first[5])):
                    top[len(lead) + offset].text = text

    def full_row(self, text: str) -> None:
        cells = self.table.add_row().cells
        merged = cells[0].merge(cells[-1])
        _set(merged, text)

    def action(self, row: PlanRow) -> None:
        layout = self.layout
        text = row.action
        if layout.numbers == "prefix":
            text = f"{row.number}. {text}"
        elif layout.numbers == "tight":
            text = f"{row.number}.{text}"
        follow = layout.follow_up.get((row.label, row.number))
        comment, status, review, review_status = follow or (row.follow_up_comment, "", "", "")
        values = []
        if layout.label_column:
            values.append(row.label)
        if layout.numbers == "column":
            values.append(str(row.number))
        values += [text, row.deadline, row.responsible, comment, status, review, review_status]
        cells = self.table.add_row().cells
        for index, value in enumerate(values):
            _set(cells[index], layout.broken.get(value, value))


def word_plan(rows: Sequence[PlanRow] | None = None, layout: Layout | None = None) -> bytes:
    """A Word plan of `rows` (the seed's by default) written as `layout` says."""
    rows = list(rows if rows is not None else seed_rows())
    layout = layout or Layout()
    rec_heading, resp_heading = _headings(layout)
    document = Document()
    document.add_paragraph(SEED_TITLE)
    document.add_paragraph("")
    blocks: dict[str, list[PlanRow]] = {}
    for row in rows:
        blocks.setdefault(row.label, []).append(row)
    whole: _TableWriter | None = None
    if layout.one_table:
        whole = _TableWriter(document, layout)
    for label, block in blocks.items():
        first = block[0]
        if whole is not None:
            if not layout.label_column:
                whole.full_row(rec_heading.format(label=label))
                whole.full_row(first.recommendation)
                whole.full_row(resp_heading)
                if first.management_response:
                    whole.full_row(first.management_response)
            for row in block:
                whole.action(row)
            continue
        document.add_paragraph(rec_heading.format(label=label))
        _write_lines(document, first.recommendation)
        document.add_paragraph("")
        document.add_paragraph(resp_heading)
        _write_lines(document, first.management_response)
        document.add_paragraph("")
        writer = _TableWriter(document, layout)
        for row in block:
            writer.action(row)
        document.add_paragraph("")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
