"""/exportar: the plan as a spreadsheet in the layout of the original table (the import
contract), with the latest follow-up and review comments and statuses filled in and a sheet with
the whole history; or as CSV (`/exportar csv`, or the button under the spreadsheet).

The file is written by storage.plan_files (the same exporter as the command line), with labels
and headers in the person's language. Callback data: `ex:x:<plan>` (xlsx), `ex:c:<plan>` (csv),
`ex:l:<page>:<format>` (plan picker page).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from handlers.common import Deps, current_person, get_deps, shorten, tr_for, unit_of_work
from handlers.i18n import Tr
from handlers.labels import review_label, status_label
from storage.models import CommentKind, Person, ReviewStatus, Role, Status
from storage.summary import PlanChoice, plan_choices

PREFIX = "ex"
XLSX = "x"
CSV = "c"
EXPORT_ROLES = (Role.COORDINATOR, Role.ADMIN, Role.SECRETARIAT)
PICKER_PAGE = 8


def export_labels(tr: Tr) -> Callable[[str], str]:
    """Stored values as the export writes them, in the person's language (the import reads both
    languages back)."""
    values = {status.value: status_label(tr, status) for status in Status}
    values |= {status.value: review_label(tr, status) for status in ReviewStatus}
    values |= {
        CommentKind.FOLLOW_UP.value: tr.raw("Follow-up - Comment"),
        CommentKind.REVIEW.value: tr.raw("Secretariat - Comment"),
        "status": tr.raw("Follow-up - Status"),
        "review_status": tr.raw("Secretariat - Status"),
        "imported": tr.raw("(imported)"),
    }
    return values.__getitem__


def file_name(plans: Sequence[PlanChoice], plan_id: int, today: str, fmt: str) -> str:
    """`plan_de_mejora_2026-11-24.xlsx`; with several plans, the plan's id too."""
    middle = f"_{plan_id}" if len(plans) > 1 else ""
    return f"plan_de_mejora{middle}_{today}.{'csv' if fmt == CSV else 'xlsx'}"


@dataclass(slots=True)
class Export:
    data: bytes
    file_name: str
    caption: str
    markup: InlineKeyboardMarkup | None


@dataclass(slots=True)
class Message:
    text: str
    markup: InlineKeyboardMarkup | None = None


def _picker(tr: Tr, plans: Sequence[PlanChoice], fmt: str, page: int) -> Message:
    pages = max(1, -(-len(plans) // PICKER_PAGE))
    page = max(0, min(page, pages - 1))
    rows = [
        [
            InlineKeyboardButton(
                tr.raw("{title} ({n})", title=shorten(plan.title, 48), n=plan.actions),
                callback_data=f"{PREFIX}:{fmt}:{plan.id}",
            )
        ]
        for plan in plans[page * PICKER_PAGE : (page + 1) * PICKER_PAGE]
    ]
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton("‹", callback_data=f"{PREFIX}:l:{page - 1}:{fmt}"))
    if page < pages - 1:
        nav.append(InlineKeyboardButton("›", callback_data=f"{PREFIX}:l:{page + 1}:{fmt}"))
    if nav:
        rows.append(nav)
    return Message(tr._("Which plan do you want to export?"), InlineKeyboardMarkup(rows))


async def build_export(
    session: AsyncSession, deps: Deps, tr: Tr, plans: Sequence[PlanChoice], plan_id: int, fmt: str
) -> Export | Message:
    # Imported here: openpyxl is only needed when someone exports.
    from storage.plan_files import ENGLISH_HEADERS, export_plan, export_plan_csv

    plan = next((p for p in plans if p.id == plan_id), None)
    if plan is None:
        return Message(tr._("That plan no longer exists."))
    buffer = io.BytesIO()
    headers = ENGLISH_HEADERS if tr.locale == "en" else None
    if fmt == CSV:
        await export_plan_csv(session, plan_id, buffer, labels=export_labels(tr), headers=headers)
    else:
        await export_plan(
            session,
            plan_id,
            buffer,
            labels=export_labels(tr),
            headers=headers,
            history_sheet_title=tr.raw("History"),
            tz=tr.tz,
        )
    today = deps.today()
    lines = [
        tr._("📥 <b>{title}</b>", title=shorten(plan.title, 200)),
        tr.n_("{n} key action", "{n} key actions", plan.actions)
        + " · "
        + tr._("as of {date}", date=tr.short_date(today)),
    ]
    if fmt == CSV:
        lines.append(tr._("The plan sheet only; the spreadsheet also has the full history."))
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        tr.raw("📊 Spreadsheet (.xlsx)"), callback_data=f"{PREFIX}:{XLSX}:{plan_id}"
                    )
                ]
            ]
        )
    else:
        lines.append(
            tr._(
                "Latest comments and statuses in the plan sheet; every comment in “{sheet}”.",
                sheet=tr.raw("History"),
            )
        )
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(tr.raw("📄 CSV"), callback_data=f"{PREFIX}:{CSV}:{plan_id}")]]
        )
    return Export(
        buffer.getvalue(),
        file_name(plans, plan_id, today.isoformat(), fmt),
        "\n".join(lines),
        markup,
    )


async def _prepare(
    update: Update, context: ContextTypes.DEFAULT_TYPE, fmt: str, plan_id: int | None, page: int = 0
) -> Export | Message:
    deps = get_deps(context)
    async with unit_of_work(context) as session:
        person = await current_person(session, update)
        tr = tr_for(context, person, update.effective_user)
        denied = _denied(tr, person)
        if denied is not None:
            return denied
        plans = await plan_choices(session)
        if not plans:
            return Message(tr._("There is no plan to export yet."))
        if plan_id is None:
            if len(plans) > 1:
                return _picker(tr, plans, fmt, page)
            plan_id = plans[0].id
        return await build_export(session, deps, tr, plans, plan_id, fmt)


def _denied(tr: Tr, person: Person | None) -> Message | None:
    if person is None:
        return Message(tr._("This is for registered people: open your invitation link first."))
    if person.role not in EXPORT_ROLES:
        return Message(
            tr._("Only coordinators, administrators and the secretariat can export the plan.")
        )
    return None


async def _deliver(
    update: Update, context: ContextTypes.DEFAULT_TYPE, result: Export | Message
) -> None:
    chat = update.effective_chat
    assert chat is not None
    if isinstance(result, Message):
        await context.bot.send_message(chat.id, result.text, reply_markup=result.markup)
        return
    await context.bot.send_document(
        chat.id,
        document=result.data,
        filename=result.file_name,
        caption=result.caption,
        reply_markup=result.markup,
    )


async def export_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    args = [a.casefold() for a in context.args or []]
    fmt = CSV if "csv" in args else XLSX
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_chat_action(chat.id, ChatAction.UPLOAD_DOCUMENT)
    await _deliver(update, context, await _prepare(update, context, fmt, None))


async def export_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    parts = (query.data or "").split(":")
    await query.answer()
    if len(parts) == 4 and parts[1] == "l" and parts[2].isdigit():
        result = await _prepare(update, context, parts[3], None, int(parts[2]))
        if isinstance(result, Message) and query.message is not None:
            await query.edit_message_text(result.text, reply_markup=result.markup)
            return
    elif len(parts) == 3 and parts[1] in (XLSX, CSV) and parts[2].isdigit():
        result = await _prepare(update, context, parts[1], int(parts[2]))
    else:
        return
    await _deliver(update, context, result)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler(["exportar", "export"], export_command))
    application.add_handler(CallbackQueryHandler(export_callback, pattern=rf"^{PREFIX}:"))
