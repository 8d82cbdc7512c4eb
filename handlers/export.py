"""/exportar: the plan as a spreadsheet in the layout of the original table (the import
contract), with the latest follow-up and review comments and statuses filled in and a sheet with
the whole history; or as CSV (`/exportar csv`, or the button under the spreadsheet).

The file is written by storage.plan_files (the same exporter as the command line), with labels
and headers in the person's language.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from handlers.buttons import ExportFormat, ExportPlan, ExportPlans, parse_any
from handlers.context import Deps, FlowContext, Strangers, flow
from handlers.i18n import N_, Tr
from handlers.replies import ButtonRow, OutgoingFile, Reply, View, stale_button
from handlers.text import shorten
from storage.models import Role
from storage.offloop import in_own_thread
from storage.summary import PlanChoice, plan_choices

EXPORT_ROLES = (Role.COORDINATOR, Role.ADMIN, Role.SECRETARIAT)
PICKER_PAGE = 8
EXPORTERS_ONLY = N_("Only coordinators, administrators and the secretariat can export the plan.")


def file_name(plans: Sequence[PlanChoice], plan_id: int, today: str, fmt: ExportFormat) -> str:
    """`plan_de_mejora_2026-11-24.xlsx`; with several plans, the plan's id too."""
    middle = f"_{plan_id}" if len(plans) > 1 else ""
    return f"plan_de_mejora{middle}_{today}.{'csv' if fmt == ExportFormat.CSV else 'xlsx'}"


def _picker(tr: Tr, plans: Sequence[PlanChoice], fmt: ExportFormat, page: int) -> View:
    pages = max(1, -(-len(plans) // PICKER_PAGE))
    page = max(0, min(page, pages - 1))
    rows: list[ButtonRow] = [
        [
            (
                tr.raw("{title} ({n})", title=shorten(plan.title, 48), n=plan.actions),
                ExportPlan(fmt, plan.id),
            )
        ]
        for plan in plans[page * PICKER_PAGE : (page + 1) * PICKER_PAGE]
    ]
    nav: ButtonRow = []
    if page > 0:
        nav.append(("‹", ExportPlans(page - 1, fmt)))
    if page < pages - 1:
        nav.append(("›", ExportPlans(page + 1, fmt)))
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
) -> View:
    # Imported here: openpyxl is only needed when someone exports.
    from storage.plan_files import export_plan, export_plan_csv

    plan = next((p for p in plans if p.id == plan_id), None)
    if plan is None:
        return View(tr._("That plan no longer exists."))

    async def write(own: AsyncSession) -> bytes:
        buffer = io.BytesIO()
        if fmt == ExportFormat.CSV:
            await export_plan_csv(own, plan_id, buffer, locale=tr.locale)
        else:
            await export_plan(own, plan_id, buffer, locale=tr.locale, tz=tr.tz)
        return buffer.getvalue()

    async def produce() -> bytes:
        """At sending time, after the step's transaction: read and written off the loop."""
        return await in_own_thread(deps.sessions, write)

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
    document = OutgoingFile("document", name, produce=produce)
    return View("\n".join(lines), [[other]], file=document)


async def export_view(
    context: FlowContext, fmt: ExportFormat, plan_id: int | None, page: int = 0
) -> View:
    """The file of the plan asked for, or the plan picker when there are several."""
    tr = context.tr
    plans = await plan_choices(context.session)
    if not plans:
        return View(tr._("There is no plan to export yet."))
    if plan_id is None:
        if len(plans) > 1:
            return _picker(tr, plans, fmt, page)
        plan_id = plans[0].id
    return await build_export(context.session, context.deps, tr, plans, plan_id, fmt)


@flow(strangers=Strangers.REFUSE, roles=EXPORT_ROLES, refusal_text=EXPORTERS_ONLY)
async def export_command(update: Update, context: FlowContext) -> View:
    """/exportar [csv]: the plan as a spreadsheet (or CSV)."""
    args = [a.casefold() for a in context.args or []]
    return await export_view(
        context, ExportFormat.CSV if "csv" in args else ExportFormat.XLSX, None
    )


@flow(
    strangers=Strangers.REFUSE, roles=EXPORT_ROLES, refusal_text=EXPORTERS_ONLY, refusal_alert=False
)
async def export_pressed(update: Update, context: FlowContext) -> Reply:
    """An export button: a plan's file, or a page of the plan picker (edited in place)."""
    button = parse_any(update, ExportPlan, ExportPlans)
    if isinstance(button, ExportPlans):
        return Reply([await export_view(context, button.format, None, button.page)])
    if isinstance(button, ExportPlan):
        return Reply([await export_view(context, button.format, button.plan_id)], edit=False)
    return stale_button(context.tr)
