"""The files people take away: a plan's (.xlsx, .csv, .docx, or the committee's PDF report),
written by the same exporters as the command line, and a reporting round's (the plan as it
stood at the close, as .docx and .xlsx).

The bot runs these functions in a worker process (`storage.offloop`): each format imports its
own library (openpyxl, python-docx, fpdf2 and matplotlib) only here, when called, so that these
libraries are loaded by the worker and leave with it.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.clock import end_of_day

#: The time a worker process may take to write a file (the largest plan's takes seconds).
FILE_SECONDS = 300.0


async def plan_file(
    session: AsyncSession,
    plan_id: int,
    extension: str,
    locale: str,
    tz: dt.tzinfo,
    day: dt.date | None = None,
) -> bytes:
    """The plan as a file in the format of `extension` ("xlsx", "csv", "docx" or "pdf"), in
    `locale`, times in `tz`, as it stands or as it stood at the end of `day`."""
    as_of = end_of_day(day, tz) if day is not None else None
    if extension == "pdf":
        from reports.pdf import plan_report_pdf  # fpdf2 and matplotlib: only for a PDF

        return await plan_report_pdf(session, plan_id, locale=locale, tz=tz, as_of=day)
    buffer = io.BytesIO()
    if extension == "csv":
        from storage.plan_files.exporter import export_plan_csv

        await export_plan_csv(session, plan_id, buffer, locale=locale, as_of=as_of)
    elif extension == "docx":
        from storage.plan_files.word_exporter import export_plan_docx  # python-docx

        await export_plan_docx(session, plan_id, buffer, locale=locale, tz=tz, as_of=as_of)
    elif extension == "xlsx":
        from storage.plan_files.exporter import export_plan  # openpyxl

        await export_plan(session, plan_id, buffer, locale=locale, tz=tz, as_of=as_of)
    else:
        raise ValueError(f"no such format: {extension}")
    return buffer.getvalue()


def round_document(
    snapshot: Sequence[Mapping[str, Any]],
    title: str,
    moment: dt.datetime,
    tz: dt.tzinfo,
    locale: str,
) -> bytes:
    """A round's snapshot (`storage.round_closing`) as the Word document the secretariat
    sends on."""
    from storage.plan_files.exporter import snapshot_rows
    from storage.plan_files.word_exporter import build_document  # python-docx

    rows = snapshot_rows(snapshot, locale=locale)
    details = {"title": title, "programme": "", "evaluation": ""}
    buffer = io.BytesIO()
    build_document(details, rows, moment, tz=tz, locale=locale).save(buffer)
    return buffer.getvalue()


def round_workbook(
    snapshot: Sequence[Mapping[str, Any]], title: str, day: dt.date, locale: str
) -> bytes:
    """A round's snapshot as a spreadsheet, in the layout of the plan's table."""
    from storage.plan_files.exporter import snapshot_workbook  # openpyxl, when it writes

    return snapshot_workbook(snapshot, title=title, as_of=day, locale=locale)
