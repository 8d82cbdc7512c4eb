"""Exporting a plan as a Word document (.docx) in the layout of the original: the title, the
programme, the date the document shows, then per recommendation its heading, its text, the
management response and the table of key actions (two header rows, "Seguimiento" and
"Secretariado" merged over "Comentarios | Estado"), the follow-up columns filled from the latest
comment and status, the secretariat's from its latest review comment and review status.

What is exported imports back unchanged (`word_reader` reads the bot's own documents exactly).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any

from babel.dates import format_date
from docx import Document
from docx.document import Document as DocumentObject
from docx.shared import Pt
from docx.table import Table
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy.ext.asyncio import AsyncSession

from locales import DEFAULT_LOCALE
from storage.models import utcnow
from storage.plan_files.exporter import _labeller, plan_content
from storage.plan_files.vocabulary import METADATA_LABELS, Field, translate
from storage.plan_files.word_layout import (
    AS_OF_LINE,
    EXPORT_MARK,
    RECOMMENDATION_HEADING,
    RESPONSE_HEADING,
    TABLE_FIELDS,
    table_headers,
)

_FONT_SIZE = Pt(9)


def _safe(text: str) -> str:
    """Text a document can hold (no control characters but tab and line break)."""
    cleaned: str = ILLEGAL_CHARACTERS_RE.sub("", text)
    return cleaned


def as_of_date(moment: dt.datetime, tz: dt.tzinfo | None, locale: str) -> str:
    """ "31 de marzo de 2012": the day of `moment` where the plan is followed, in words."""
    day = moment.astimezone(tz or dt.UTC).date()
    return format_date(day, format="long", locale=locale)


def _header(table: Table, locale: str) -> None:
    first, second = table_headers(locale)
    top, sub = table.rows[0].cells, table.rows[1].cells
    for index in range(3):
        top[index].merge(sub[index]).text = first[index]
    for start in (3, 5):
        top[start].merge(top[start + 1]).text = first[start]
        sub[start].text, sub[start + 1].text = second[start], second[start + 1]
    for row in table.rows[:2]:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.bold = True


def _action_cells(values: Mapping[Field, Any]) -> list[str]:
    """The table's cells of an action: "1. Text" in the first, as the original writes it."""
    cells = [f"{values[Field.NUMBER]}. {values[Field.ACTION]}"]
    cells += [str(values[column]) for column in TABLE_FIELDS[1:]]
    return [_safe(text) for text in cells]


def _paragraphs(document: DocumentObject, text: str) -> None:
    for line in _safe(text).split("\n") if text else []:
        document.add_paragraph(line)


def _block(document: DocumentObject, rows: Sequence[Mapping[Field, Any]], locale: str) -> None:
    first = rows[0]
    heading = translate(RECOMMENDATION_HEADING, locale).format(label=first[Field.LABEL])
    document.add_heading(_safe(heading), level=2)
    _paragraphs(document, first[Field.RECOMMENDATION])
    document.add_heading(translate(RESPONSE_HEADING, locale), level=3)
    _paragraphs(document, first[Field.RESPONSE])
    table = document.add_table(rows=2, cols=len(TABLE_FIELDS))
    table.style = "Table Grid"
    _header(table, locale)
    for values in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, _action_cells(values), strict=True):
            cell.text = text
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = _FONT_SIZE
    document.add_paragraph()


def _blocks(rows: Sequence[Mapping[Field, Any]]) -> list[list[Mapping[Field, Any]]]:
    """The rows by recommendation, in order."""
    blocks: dict[str, list[Mapping[Field, Any]]] = {}
    for values in rows:
        blocks.setdefault(str(values[Field.LABEL]), []).append(values)
    return list(blocks.values())


def build_document(
    details: Mapping[str, str],
    rows: Sequence[Mapping[Field, Any]],
    moment: dt.datetime,
    *,
    tz: dt.tzinfo | None,
    locale: str,
) -> DocumentObject:
    """The plan's document from its details (title, programme, evaluation) and rows; blocking:
    python-docx builds it in memory."""
    document = Document()
    properties = document.core_properties
    properties.identifier = EXPORT_MARK
    properties.title = _safe(details["title"])
    properties.subject = _safe(details["programme"])
    properties.category = _safe(details["evaluation"])
    properties.language = locale
    document.add_heading(_safe(details["title"]), level=0)
    for key in ("programme", "evaluation"):
        value = details[key]
        if value:
            document.add_paragraph(_safe(f"{translate(METADATA_LABELS[key], locale)}: {value}"))
    date = as_of_date(moment, tz, locale)
    document.add_paragraph(translate(AS_OF_LINE, locale).format(date=date))
    for block in _blocks(rows):
        _block(document, block, locale)
    return document


def _write(
    details: Mapping[str, str],
    rows: Sequence[Mapping[Field, Any]],
    moment: dt.datetime,
    path_or_buffer: str | os.PathLike[str] | IO[bytes],
    tz: dt.tzinfo | None,
    locale: str,
) -> None:
    document = build_document(details, rows, moment, tz=tz, locale=locale)
    document.save(
        str(path_or_buffer) if isinstance(path_or_buffer, os.PathLike) else path_or_buffer
    )


async def export_plan_docx(
    session: AsyncSession,
    plan_id: int,
    path_or_buffer: str | os.PathLike[str] | IO[bytes],
    *,
    labels: Callable[[str], str] | None = None,
    tz: dt.tzinfo | None = None,
    locale: str = DEFAULT_LOCALE,
    as_of: dt.datetime | None = None,
) -> None:
    """Write the plan as a Word document in the layout of the original table, as it stands
    now or as it stood at `as_of` (the date printed under the title, in `tz`). `labels` and
    `locale` as for `export_plan`. The document is built in a worker thread."""
    label = _labeller(labels, locale)
    content = await plan_content(session, plan_id, label, as_of=as_of)
    plan = content.plan
    details = {"title": plan.title, "programme": plan.programme, "evaluation": plan.evaluation}
    moment = as_of or utcnow()
    await asyncio.to_thread(_write, details, content.rows, moment, path_or_buffer, tz, locale)
