"""/exportar: the plan as a spreadsheet in the layout of the original table (the import
contract), with the latest follow-up and review comments and statuses filled in and a sheet with
the whole history; or as CSV (`/exportar csv`, or the button under the spreadsheet); or the
committee's PDF report (`/exportar pdf`, `/exportar pdf al 31/03/2012`: as it stood that day).

The file is written by storage.plan_files (the same exporter as the command line), with labels
and headers in the person's language.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from handlers.as_of import compact, from_compact, take_as_of
from handlers.buttons import ExportFormat, ExportPlan, ExportPlans, parse_any
from handlers.context import Deps, FlowContext, Strangers, flow
from handlers.i18n import N_, Tr
from handlers.replies import ButtonRow, OutgoingFile, Reply, View, stale_button
from handlers.text import shorten
from storage.models import Role
from storage.summary import PlanChoice, plan_choices

EXPORT_ROLES = (Role.COORDINATOR, Role.ADMIN, Role.SECRETARIAT)
PICKER_PAGE = 8
EXPORTERS_ONLY = N_("Only coordinators, administrators and the secretariat can export the plan.")


EXTENSIONS = {ExportFormat.XLSX: "xlsx", ExportFormat.CSV: "csv", ExportFormat.PDF: "pdf"}


def file_name(plans: Sequence[PlanChoice], plan_id: int, today: str, fmt: ExportFormat) -> str:
    """`plan_de_mejora_2026-11-24.xlsx`; with several plans, the plan's id too."""
    middle = f"_{plan_id}" if len(plans) > 1 else ""
    return f"plan_de_mejora{middle}_{today}.{EXTENSIONS[fmt]}"


def _picker(
    tr: Tr, plans: Sequence[PlanChoice], fmt: ExportFormat, page: int, as_of: dt.date | None
) -> View:
    pages = max(1, -(-len(plans) // PICKER_PAGE))
    page = max(0, min(page, pages - 1))
    rows: list[ButtonRow] = [
        [
            (
                tr.raw("{title} ({n})", title=shorten(plan.title, 48), n=plan.actions),
                ExportPlan(fmt, plan.id, compact(as_of)),
            )
        ]
        for plan in plans[page * PICKER_PAGE : (page + 1) * PICKER_PAGE]
    ]
    nav: ButtonRow = []
    if page > 0:
        nav.append(("‹", ExportPlans(page - 1, fmt, compact(as_of))))
    if page < pages - 1:
        nav.append(("›", ExportPlans(page + 1, fmt, compact(as_of))))
    if nav:
        rows.append(nav)
    return View(tr._("Which plan do you want to export?"), rows)


async def build_export(
    session: AsyncSession,
    deps: Deps,
    tr: Tr,
    plans: Sequence[PlanChoice],
    plan_id: int,
    fmt: ExportFormat,
    as_of: dt.date | None = None,
) -> View:
    # Imported here: openpyxl is only needed when someone exports.
    from storage.plan_files import export_plan, export_plan_csv

    plan = next((p for p in plans if p.id == plan_id), None)
    if plan is None:
        return View(tr._("That plan no longer exists."))
    if fmt == ExportFormat.PDF:
        return await _pdf_report(session, deps, tr, plans, plan, as_of)
    if as_of is not None:
        return View(
            tr._(
                "Only the PDF report can be made as of a date: /exportar pdf al {date}",
                date=as_of.strftime("%d/%m/%Y"),
            )
        )
    buffer = io.BytesIO()
    if fmt == ExportFormat.CSV:
        await export_plan_csv(session, plan_id, buffer, locale=tr.locale)
    else:
        await export_plan(session, plan_id, buffer, locale=tr.locale, tz=tr.tz)
    today = deps.today()
    lines = [
        tr._("📥 <b>{title}</b>", title=shorten(plan.title, 200)),
        tr.n_("{n} key action", "{n} key actions", plan.actions)
        + " · "
        + tr._("as of {date}", date=tr.short_date(today)),
    ]
    if fmt == ExportFormat.CSV:
        lines.append(tr._("The plan sheet only; the spreadsheet also has the full history."))
        other = (tr.raw("📊 Spreadsheet (.xlsx)"), ExportPlan(ExportFormat.XLSX, plan_id))
    else:
        lines.append(
            tr._(
                "Latest comments and statuses in the plan sheet; every comment in “{sheet}”.",
                sheet=tr.raw("History"),
            )
        )
        other = (tr.raw("📄 CSV"), ExportPlan(ExportFormat.CSV, plan_id))
    name = file_name(plans, plan_id, today.isoformat(), fmt)
    document = OutgoingFile("document", name, data=buffer.getvalue())
    pdf = (tr.raw("📄 PDF report"), ExportPlan(ExportFormat.PDF, plan_id))
    return View("\n".join(lines), [[other, pdf]], file=document)


async def _pdf_report(
    session: AsyncSession,
    deps: Deps,
    tr: Tr,
    plans: Sequence[PlanChoice],
    plan: PlanChoice,
    as_of: dt.date | None,
) -> View:
    """The committee's report, as the plan stands or as it stood at the end of `as_of`."""
    from reports.pdf import plan_report_pdf  # fpdf2 only when someone asks for a report

    data = await plan_report_pdf(session, plan.id, locale=tr.locale, tz=tr.tz, as_of=as_of)
    day = as_of or deps.today()
    lines = [
        tr._("📄 <b>{title}</b>", title=shorten(plan.title, 200)),
        tr._("Situation as of {date}", date=tr.date(day, "long")),
        tr._(
            "The report for the committee: summary, overdue actions and the plan, action by action."
        ),
    ]
    name = file_name(plans, plan.id, day.isoformat(), ExportFormat.PDF)
    document = OutgoingFile("document", name, data=data)
    buttons: list[ButtonRow] = [
        [
            (tr.raw("📊 Spreadsheet (.xlsx)"), ExportPlan(ExportFormat.XLSX, plan.id)),
            (tr.raw("📄 CSV"), ExportPlan(ExportFormat.CSV, plan.id)),
        ]
    ]
    return View("\n".join(lines), buttons, file=document)


async def export_view(
    context: FlowContext,
    fmt: ExportFormat,
    plan_id: int | None,
    page: int = 0,
    as_of: dt.date | None = None,
) -> View:
    """The file of the plan asked for, or the plan picker when there are several."""
    tr = context.tr
    plans = await plan_choices(context.session)
    if not plans:
        return View(tr._("There is no plan to export yet."))
    if plan_id is None:
        if len(plans) > 1:
            return _picker(tr, plans, fmt, page, as_of)
        plan_id = plans[0].id
    return await build_export(context.session, context.deps, tr, plans, plan_id, fmt, as_of)


@flow(strangers=Strangers.REFUSE, roles=EXPORT_ROLES, refusal_text=EXPORTERS_ONLY)
async def export_command(update: Update, context: FlowContext) -> View:
    """/exportar [csv|pdf] [al DD/MM/AAAA]: the plan as a spreadsheet (or CSV, or the PDF
    report, as of a date)."""
    as_of = take_as_of(
        list(context.args or []), context.tr, context.deps.today(), "/exportar pdf al 31/03/2012"
    )
    if as_of.error:
        return View(as_of.error)
    args = [a.casefold() for a in as_of.words]
    fmt = ExportFormat.XLSX
    if "csv" in args:
        fmt = ExportFormat.CSV
    elif "pdf" in args or "informe" in args or "report" in args:
        fmt = ExportFormat.PDF
    return await export_view(context, fmt, None, as_of=as_of.day)


@flow(
    strangers=Strangers.REFUSE, roles=EXPORT_ROLES, refusal_text=EXPORTERS_ONLY, refusal_alert=False
)
async def export_pressed(update: Update, context: FlowContext) -> Reply:
    """An export button: a plan's file, or a page of the plan picker (edited in place)."""
    button = parse_any(update, ExportPlan, ExportPlans)
    if not isinstance(button, ExportPlan | ExportPlans):
        return stale_button(context.tr)
    as_of = from_compact(button.as_of)
    if button.as_of and as_of is None:
        return stale_button(context.tr)
    if isinstance(button, ExportPlans):
        view = await export_view(context, button.format, None, button.page, as_of)
        return Reply([view])
    view = await export_view(context, button.format, button.plan_id, as_of=as_of)
    return Reply([view], edit=False)
