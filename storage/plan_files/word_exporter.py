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
from xml.sax.saxutils import escape

from babel.dates import format_date
from docx import Document
from docx.document import Document as DocumentObject
from docx.oxml import parse_xml
from sqlalchemy.ext.asyncio import AsyncSession

from locales import DEFAULT_LOCALE
from storage.models import utcnow
from storage.plan_files.cells import ILLEGAL_CHARACTERS_RE
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


def _safe(text: str) -> str:
    """Text a document can hold (no control characters but tab and line break)."""
    cleaned: str = ILLEGAL_CHARACTERS_RE.sub("", text)
    return cleaned


def as_of_date(moment: dt.datetime, tz: dt.tzinfo | None, locale: str) -> str:
    """ "31 de marzo de 2012": the day of `moment` where the plan is followed, in words."""
    day = moment.astimezone(tz or dt.UTC).date()
    return format_date(day, format="long", locale=locale)


# The document is written as WordprocessingML and parsed once: python-docx's one-cell-at-a-time
# API searches the growing document on every call, which a plan of a thousand actions makes
# minutes long. Styles are referred to by the ids of python-docx's default template.
_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_FONT = '<w:sz w:val="18"/>'  # 9 pt, in half points
_COLUMN_WIDTHS = (3400, 1100, 1500, 1700, 900, 1500, 900)  # twentieths of a point


def _runs(text: str, properties: str = "") -> str:
    """Text as runs: line breaks and tabs as Word's own."""
    rpr = f"<w:rPr>{properties}</w:rPr>" if properties else ""
    parts: list[str] = []
    for number, line in enumerate(_safe(text).split("\n")):
        if number:
            parts.append("<w:br/>")
        for index, piece in enumerate(line.split("\t")):
            if index:
                parts.append("<w:tab/>")
            if piece:
                parts.append(f'<w:t xml:space="preserve">{escape(piece)}</w:t>')
    return f"<w:r>{rpr}{''.join(parts)}</w:r>" if parts else ""


def _paragraph(text: str, style: str = "", properties: str = "") -> str:
    ppr = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    return f"<w:p>{ppr}{_runs(text, properties)}</w:p>"


def _cell(text: str, width: int, *, span: int = 1, merge: str = "", header: bool = False) -> str:
    spans = f'<w:gridSpan w:val="{span}"/>' if span > 1 else ""
    vmerge = (
        f'<w:vMerge w:val="{merge}"/>' if merge == "restart" else "<w:vMerge/>" if merge else ""
    )
    properties = ("<w:b/>" if header else "") + _FONT
    content = _paragraph(text, properties=properties)
    return (
        f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/>{spans}{vmerge}</w:tcPr>{content}</w:tc>'
    )


def _table(rows: Sequence[Mapping[Field, Any]], locale: str) -> str:
    """The actions table: "Acciones clave", "Plazo" and "Responsable" merged over the two header
    rows, "Seguimiento" and "Secretariado" each over its "Comentarios | Estado"."""
    first, second = table_headers(locale)
    widths = _COLUMN_WIDTHS
    top = [_cell(first[i], widths[i], merge="restart", header=True) for i in range(3)]
    top += [_cell(first[i], widths[i] + widths[i + 1], span=2, header=True) for i in (3, 5)]
    sub = [_cell("", widths[i], merge="continue", header=True) for i in range(3)]
    sub += [_cell(second[i], widths[i], header=True) for i in range(3, 7)]
    body = [
        "<w:tr>"
        + "".join(_cell(text, width) for text, width in zip(_action_cells(v), widths, strict=True))
        + "</w:tr>"
        for v in rows
    ]
    grid = "".join(f'<w:gridCol w:w="{width}"/>' for width in widths)
    return (
        '<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="0" w:type="auto"/>'
        f"</w:tblPr><w:tblGrid>{grid}</w:tblGrid>"
        f"<w:tr>{''.join(top)}</w:tr><w:tr>{''.join(sub)}</w:tr>{''.join(body)}</w:tbl>"
    )


def _action_cells(values: Mapping[Field, Any]) -> list[str]:
    """The table's cells of an action: "1. Text" in the first, as the original writes it."""
    cells = [f"{values[Field.NUMBER]}. {values[Field.ACTION]}"]
    cells += [str(values[column]) for column in TABLE_FIELDS[1:]]
    return cells


def _lines(text: str) -> list[str]:
    return [_paragraph(line) for line in text.split("\n")] if text else []


def _block(rows: Sequence[Mapping[Field, Any]], locale: str) -> list[str]:
    first = rows[0]
    heading = translate(RECOMMENDATION_HEADING, locale).format(label=first[Field.LABEL])
    return [
        _paragraph(heading, "Heading2"),
        *_lines(first[Field.RECOMMENDATION]),
        _paragraph(translate(RESPONSE_HEADING, locale), "Heading3"),
        *_lines(first[Field.RESPONSE]),
        _table(rows, locale),
        _paragraph(""),
    ]


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
    parts = [_paragraph(details["title"], "Title")]
    for key in ("programme", "evaluation"):
        value = details[key]
        if value:
            parts.append(_paragraph(f"{translate(METADATA_LABELS[key], locale)}: {value}"))
    date = as_of_date(moment, tz, locale)
    parts.append(_paragraph(translate(AS_OF_LINE, locale).format(date=date)))
    for block in _blocks(rows):
        parts += _block(block, locale)
    body = document.element.body
    end = body[-1]  # the section's properties stay last
    for element in list(parse_xml(f"<w:body {_W}>{''.join(parts)}</w:body>")):
        end.addprevious(element)
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
