"""/exportar: the plan as a spreadsheet in the layout of the original table (the import
contract), with the latest follow-up and review comments and statuses filled in and a sheet with
the whole history; as CSV (`/exportar csv`); as a Word document in the layout of the original
plan (`/exportar word`); or as the committee's PDF report (`/exportar pdf`). The buttons under
the file offer the other formats. `/exportar word al 31/03/2012` gives the plan as it stood at
the end of that day (rebuilt from its history), in any format.

The file is written by `reports.files` (the same exporters as the command line), with labels
and headers in the person's language, in a worker process (`storage.offloop.in_own_process`):
the libraries that write files are never loaded into the bot's own process. When the worker
gives no file (it died, or ran out of time), the person is told so instead of the file.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import Update

from handlers.as_of import compact, from_compact, take_as_of
from handlers.buttons import Button, parse_any
from handlers.context import Deps, FlowContext, Strangers, flow
from handlers.i18n import N_, Tr
from handlers.replies import ButtonRow, FileNotMade, OutgoingFile, Reply, View, stale_button
from handlers.summary_buttons import ExportFormat, ExportPlan, ExportPlans
from handlers.text import shorten
from reports.files import FILE_SECONDS, plan_file
from storage.models import Role
from storage.offloop import WorkerFailed, in_own_process
from storage.summary import PlanChoice, plan_choices

log = logging.getLogger(__name__)

EXPORT_ROLES = (Role.COORDINATOR, Role.ADMIN, Role.SECRETARIAT)
PICKER_PAGE = 8
EXPORTERS_ONLY = N_("Only coordinators, administrators and the secretariat can export the plan.")
#: Told instead of the file when the worker writing it gave none (`handlers.errors`' text).
NOT_MADE = N_(
    "Sorry, something went wrong on our side. Nothing you sent was lost: "
    "please try again in a moment."
)
EXTENSIONS = {
    ExportFormat.XLSX: "xlsx",
    ExportFormat.CSV: "csv",
    ExportFormat.DOCX: "docx",
    ExportFormat.PDF: "pdf",
}
#: The words of `/exportar` that choose a format.
FORMAT_WORDS = {
    "xlsx": ExportFormat.XLSX,
    "excel": ExportFormat.XLSX,
    "csv": ExportFormat.CSV,
    "word": ExportFormat.DOCX,
    "docx": ExportFormat.DOCX,
    "pdf": ExportFormat.PDF,
    "informe": ExportFormat.PDF,
    "report": ExportFormat.PDF,
}
#: The buttons under a file: the other formats, in this order.
FORMAT_BUTTONS = {
    ExportFormat.DOCX: N_("📝 Word (.docx)"),
    ExportFormat.XLSX: N_("📊 Spreadsheet (.xlsx)"),
    ExportFormat.CSV: N_("📄 CSV"),
    ExportFormat.PDF: N_("📄 PDF report"),
}


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """What `/exportar` was asked for: a format, and the day the plan is shown as of."""

    format: ExportFormat
    day: dt.date | None = None


def parse_request(args: Sequence[str], tr: Tr, today: dt.date) -> ExportRequest | View:
    """`/exportar [word|csv|excel|pdf] [al DD/MM/AAAA]` (the date read as `/resumen al` reads
    it); a view explaining the date when it cannot be read or has not come yet."""
    as_of = take_as_of(list(args), tr, today, "/exportar word al 31/03/2012")
    if as_of.error is not None:
        return View(as_of.error)
    formats = [FORMAT_WORDS[w.casefold()] for w in as_of.words if w.casefold() in FORMAT_WORDS]
    return ExportRequest(formats[0] if formats else ExportFormat.XLSX, as_of.day)


def file_name(plans: Sequence[PlanChoice], plan_id: int, today: str, fmt: ExportFormat) -> str:
    """`plan_de_mejora_2026-11-24.xlsx`; with several plans, the plan's id too."""
    middle = f"_{plan_id}" if len(plans) > 1 else ""
    return f"plan_de_mejora{middle}_{today}.{EXTENSIONS[fmt]}"


def export_button(fmt: ExportFormat, plan_id: int, day: dt.date | None = None) -> Button:
    """A plan's file in a format, now or as it stood at the end of `day`."""
    return ExportPlan(fmt, plan_id, compact(day))


def _page_button(page: int, fmt: ExportFormat, day: dt.date | None) -> Button:
    return ExportPlans(page, fmt, compact(day))


def _picker(tr: Tr, plans: Sequence[PlanChoice], request: ExportRequest, page: int) -> View:
    pages = max(1, -(-len(plans) // PICKER_PAGE))
    page = max(0, min(page, pages - 1))
    rows: list[ButtonRow] = [
        [
            (
                tr.raw("{title} ({n})", title=shorten(plan.title, 48), n=plan.actions),
                export_button(request.format, plan.id, request.day),
            )
        ]
        for plan in plans[page * PICKER_PAGE : (page + 1) * PICKER_PAGE]
    ]
    nav: ButtonRow = []
    if page > 0:
        nav.append(("‹", _page_button(page - 1, request.format, request.day)))
    if page < pages - 1:
        nav.append(("›", _page_button(page + 1, request.format, request.day)))
    if nav:
        rows.append(nav)
    return View(tr._("Which plan do you want to export?"), rows)


def _about(tr: Tr, fmt: ExportFormat) -> str:
    if fmt == ExportFormat.CSV:
        return tr._("The plan sheet only; the spreadsheet also has the full history.")
    if fmt == ExportFormat.PDF:
        return tr._(
            "The report for the committee: summary, overdue actions and the plan, action by action."
        )
    if fmt == ExportFormat.DOCX:
        return tr._(
            "The plan in the layout of the original document, with the latest comments and "
            "statuses."
        )
    return tr._(
        "Latest comments and statuses in the plan sheet; every comment in “{sheet}”.",
        sheet=tr.raw("History"),
    )


async def build_export(
    deps: Deps,
    tr: Tr,
    plans: Sequence[PlanChoice],
    plan_id: int,
    request: ExportRequest,
) -> View:
    plan = next((p for p in plans if p.id == plan_id), None)
    if plan is None:
        return View(tr._("That plan no longer exists."))

    async def produce() -> bytes:
        """At sending time, after the step's transaction: read and written in a worker
        process."""
        try:
            return await in_own_process(
                deps.sessions,
                plan_file,
                plan_id,
                EXTENSIONS[request.format],
                tr.locale,
                tr.tz,
                request.day,
                seconds=FILE_SECONDS,
            )
        except WorkerFailed as error:
            log.error("the export of plan %s gave no file: %s", plan_id, error)
            raise FileNotMade(tr._(NOT_MADE)) from error

    shown = request.day or deps.today()
    lines = [
        tr._("📥 <b>{title}</b>", title=shorten(plan.title, 200)),
        tr.n_("{n} key action", "{n} key actions", plan.actions)
        + " · "
        + tr._("as of {date}", date=tr.short_date(shown)),
        _about(tr, request.format),
    ]
    others: ButtonRow = [
        (tr.raw(label), export_button(fmt, plan_id, request.day))
        for fmt, label in FORMAT_BUTTONS.items()
        if fmt != request.format
    ]
    name = file_name(plans, plan_id, shown.isoformat(), request.format)
    document = OutgoingFile("document", name, produce=produce)
    return View("\n".join(lines), [others], file=document)


async def export_view(
    context: FlowContext, request: ExportRequest, plan_id: int | None, page: int = 0
) -> View:
    """The file of the plan asked for, or the plan picker when there are several."""
    tr = context.tr
    plans = await plan_choices(context.session)
    if not plans:
        return View(tr._("There is no plan to export yet."))
    if plan_id is None:
        if len(plans) > 1:
            return _picker(tr, plans, request, page)
        plan_id = plans[0].id
    return await build_export(context.deps, tr, plans, plan_id, request)


@flow(strangers=Strangers.REFUSE, roles=EXPORT_ROLES, refusal_text=EXPORTERS_ONLY)
async def export_command(update: Update, context: FlowContext) -> View:
    """/exportar [word|csv|pdf] [al DD/MM/AAAA]: the plan as a spreadsheet (or CSV, Word, or
    the committee's PDF report), now or as it stood on that day."""
    request = parse_request(context.args or [], context.tr, context.deps.today())
    if isinstance(request, View):
        return request
    return await export_view(context, request, None)


@flow(
    strangers=Strangers.REFUSE, roles=EXPORT_ROLES, refusal_text=EXPORTERS_ONLY, refusal_alert=False
)
async def export_pressed(update: Update, context: FlowContext) -> Reply:
    """An export button: a plan's file, or a page of the plan picker (edited in place)."""
    button = parse_any(update, ExportPlan, ExportPlans)
    if not isinstance(button, ExportPlan | ExportPlans):
        return stale_button(context.tr)
    day = from_compact(button.as_of)
    if button.as_of and day is None:
        return stale_button(context.tr)
    request = ExportRequest(button.format, day)
    if isinstance(button, ExportPlans):
        return Reply([await export_view(context, request, None, button.page)])
    return Reply([await export_view(context, request, button.plan_id)], edit=False)
