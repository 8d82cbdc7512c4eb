"""The admin's flows: `/invitar`, `/usuarios` (deactivate, reactivate) and `/plan` (import a
plan spreadsheet sent as a document: the report, or every problem found and nothing imported)."""

from __future__ import annotations

import re
from pathlib import PurePath

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from handlers import conversation
from handlers.common import current_person, get_deps, shorten, tr_for, unit_of_work
from handlers.i18n import N_, Tr
from handlers.labels import role_label
from handlers.onboarding import tell_stranger
from handlers.replies import STALE_BUTTON, answer, error_text, send_view, show
from handlers.views import View, person_line
from storage.conversations import clear_state, get_state, set_state
from storage.errors import PlanError
from storage.models import Person, Role
from storage.people import create_invitation, list_people, parse_role, set_person_active
from storage.plan_files import (
    ImportReport,
    PlanFileError,
    PlanFileIssue,
    import_plan,
    read_plan_metadata,
    read_plan_rows,
)

PEOPLE_PAGE = 15
PEOPLE_DATA = re.compile(r"^(u|ud|udy|ua):(\d{1,12})$")
PLAN_EXTENSIONS = (".xlsx", ".csv")
MAX_PLAN_BYTES = 10 * 1024 * 1024
ISSUES_SHOWN = 15

ISSUE_TEXTS = {
    "empty_file": N_("the file is empty"),
    "not_a_spreadsheet": N_("this is not a readable {expected} file"),
    "unsupported_format": N_("files of type {extension} are not plans: send .xlsx or .csv"),
    "no_rows": N_("no key action rows were found under the headers"),
    "missing_column": N_("the column “{column}” is missing"),
    "duplicate_column": N_("the column “{column}” appears twice"),
    "too_long": N_("the text is too long ({length} characters; at most {limit})"),
    "missing_value": N_("this cell must not be empty"),
    "bad_number": N_("“{value}” is not an action number"),
    "duplicate_action": N_("action {label}.{number} appears twice (first in row {first_row})"),
    "bad_status": N_("“{value}” is not a status"),
    "formula_without_value": N_(
        "cell {cell} holds a formula without a value: save the file in Excel first"
    ),
}


async def _admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> tuple[Person | None, Tr]:
    async with unit_of_work(context) as session:
        person = await current_person(session, update)
    return person, tr_for(context, person, update.effective_user)


async def _refuse(update: Update, context: ContextTypes.DEFAULT_TYPE, person, tr: Tr) -> bool:  # type: ignore[no-untyped-def]
    if person is None:
        await tell_stranger(update, context)
        return True
    if person.role != Role.ADMIN:
        await context.bot.send_message(
            update.effective_chat.id,  # type: ignore[union-attr]
            tr._("Only administrators can do that."),
        )
        return True
    return False


def split_invitation_args(text: str) -> tuple[str, list[str]]:
    """`/invitar focal PNUD, Unidad de Coordinación` -> ("focal", ["PNUD", "Unidad de ..."])."""
    words = text.strip().split(maxsplit=1)
    if not words:
        return "", []
    rest = words[1] if len(words) > 1 else ""
    units = [u.strip() for u in re.split(r"[,;\n]", rest) if u.strip()]
    return words[0], units


async def invite_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    person, tr = await _admin(update, context)
    if await _refuse(update, context, person, tr):
        return
    chat_id = update.effective_chat.id  # type: ignore[union-attr]
    role_text, units = split_invitation_args(" ".join(context.args or []))
    if not role_text:
        await context.bot.send_message(
            chat_id,
            tr._(
                "Usage: <code>/invitar ROLE [UNIT, UNIT...]</code>\nRoles: focal, coordinador, "
                "secretariado, admin. Example: <code>/invitar focal PNUD, Unidad de "
                "Coordinación</code>"
            ),
        )
        return
    deps = get_deps(context)
    try:
        role = parse_role(role_text)
        async with unit_of_work(context) as session:
            admin = await current_person(session, update)
            code = await create_invitation(session, role, units, created_by=admin, now=deps.now())
    except PlanError as error:
        await context.bot.send_message(chat_id, error_text(tr, error))
        return
    username = deps.bot_username or context.bot.username
    link = f"https://t.me/{username}?start={code}"
    who = role_label(tr, role) + (f" · {', '.join(units)}" if units else "")
    await context.bot.send_message(
        chat_id,
        tr._(
            "Invitation for <b>{who}</b> (single use, valid 14 days). Send this link to the "
            "person:\n{link}\n\nOr they can write to me: <code>/start {code}</code>",
            who=who,
            link=link,
            code=code,
        ),
    )


def people_view(tr: Tr, people: list[Person], page: int, me: Person) -> View:
    pages = max(1, -(-len(people) // PEOPLE_PAGE))
    page = max(0, min(page, pages - 1))
    shown = people[page * PEOPLE_PAGE : (page + 1) * PEOPLE_PAGE]
    lines = [tr.n_("<b>{n} person registered</b>", "<b>{n} people registered</b>", len(people))]
    lines += [person_line(tr, p) for p in shown]
    buttons: list[list[tuple[str, str]]] = []
    for p in shown:
        if p.id == me.id:
            continue
        name = shorten(p.name or str(p.telegram_id), 30)
        if p.active:
            buttons.append([(tr.raw("🚫 Deactivate {name}", name=name), f"ud:{p.id}")])
        else:
            buttons.append([(tr.raw("↩ Reactivate {name}", name=name), f"ua:{p.id}")])
    nav = []
    if page > 0:
        nav.append(("‹ " + tr.raw("Previous"), f"u:{page - 1}"))
    if page + 1 < pages:
        nav.append((tr.raw("Next") + " ›", f"u:{page + 1}"))
    if nav:
        buttons.append(nav)
    return View("\n".join(lines), buttons)


async def people_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    person, tr = await _admin(update, context)
    if await _refuse(update, context, person, tr):
        return
    async with unit_of_work(context) as session:
        people = list(await list_people(session))
    await send_view(context, update.effective_chat.id, people_view(tr, people, 0, person))  # type: ignore[arg-type, union-attr]


async def people_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    person, tr = await _admin(update, context)
    if person is None or person.role != Role.ADMIN:
        await (
            tell_stranger(update, context)
            if person is None
            else answer(query, tr._("Only administrators can do that."), alert=True)
        )
        return
    match = PEOPLE_DATA.match(query.data or "")
    if match is None:
        await answer(query, tr._(STALE_BUTTON))
        return
    kind, number = match[1], int(match[2])
    notice = None
    try:
        async with unit_of_work(context) as session:
            admin = await current_person(session, update)
            assert admin is not None
            if kind == "ud":
                people = [p for p in await list_people(session) if p.id == number]
                if not people:
                    raise PlanError("person_not_found")
                target = people[0]
                view = View(
                    tr._(
                        "Deactivate <b>{name}</b>? They will no longer be able to use the bot; "
                        "their comments stay in the history.",
                        name=target.name,
                    ),
                    [[(tr.raw("Yes, deactivate"), f"udy:{target.id}"), (tr.raw("No"), "u:0")]],
                )
            else:
                if kind in ("udy", "ua"):
                    target = await set_person_active(session, admin, number, kind == "ua")
                    notice = (
                        tr._("{name} was deactivated.", name=target.name)
                        if kind == "udy"
                        else tr._("{name} was reactivated.", name=target.name)
                    )
                people = list(await list_people(session))
                view = people_view(tr, people, number if kind == "u" else 0, admin)
    except PlanError as error:
        await answer(query, error_text(tr, error), alert=True)
        return
    await answer(query, notice)
    await show(update, context, view)


async def plan_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    person, tr = await _admin(update, context)
    if await _refuse(update, context, person, tr):
        return
    chat_id = update.effective_chat.id  # type: ignore[union-attr]
    async with unit_of_work(context) as session:
        await set_state(
            session,
            chat_id,
            person.telegram_id or 0,
            "plan_upload",
            {},  # type: ignore[union-attr]
            now=get_deps(context).now(),
        )
    await send_view(
        context,
        chat_id,
        View(
            tr._(
                "Send me the plan spreadsheet (.xlsx or .csv) as a document: one row per key "
                "action, with the columns of the plan table (Recomendación Nº, Acción clave, "
                "Plazo, Responsable...). A plan with the same title is updated in place, keeping "
                "its comments. If anything is wrong, I will tell you where and import nothing."
            ),
            [[(tr.raw("✖ Cancel"), "x")]],
        ),
    )


def issue_line(tr: Tr, issue: PlanFileIssue) -> str:
    values = {
        k: (", ".join(map(str, v)) if isinstance(v, list) else v) for k, v in issue.detail.items()
    }
    values.setdefault("column", issue.column or "")
    template = ISSUE_TEXTS.get(issue.code)
    what = (
        tr._(template, **values)
        if template
        else tr._("unexpected content ({code})", code=issue.code)
    )
    if issue.row and issue.column:
        return tr._(
            "• Row {row}, column “{column}”: {what}", row=issue.row, column=issue.column, what=what
        )
    if issue.row:
        return tr._("• Row {row}: {what}", row=issue.row, what=what)
    return tr._("• {what}", what=what)


def report_text(tr: Tr, report: ImportReport, title: str) -> str:
    head = (
        tr._("Plan <b>{title}</b> imported.", title=title)
        if report.created
        else tr._("Plan <b>{title}</b> updated.", title=title)
    )
    lines = [
        head,
        tr._("Recommendations: {n}", n=report.recommendations),
        tr._(
            "Key actions: {added} new, {updated} updated, {unchanged} unchanged",
            added=report.actions_added,
            updated=report.actions_updated,
            unchanged=report.actions_unchanged,
        ),
        tr._(
            "Comments added: {comments} · statuses changed: {statuses}",
            comments=report.comments_added,
            statuses=report.statuses_changed,
        ),
        tr._("Responsible units: {units}", units=", ".join(report.units) or "—"),
    ]
    if report.actions_removed or report.kept_missing:
        lines.append(
            tr._(
                "Not in the file: {removed} removed, {kept} kept for their history",
                removed=report.actions_removed,
                kept=len(report.kept_missing),
            )
        )
    for label, number, text in report.unparsed_deadlines[:10]:
        lines.append(
            tr._(
                "⚠️ {label}.{number}: deadline “{text}” kept as text (not a date)",
                label=label,
                number=number,
                text=text,
            )
        )
    return "\n".join(lines)


async def document_received(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A plan spreadsheet from an admin after /plan (or with /plan as caption); any other
    document goes on to the follow-up conversation (evidence)."""
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    if message is None or chat is None or user is None or message.document is None:
        return
    async with unit_of_work(context) as session:
        person = await current_person(session, update)
        state = (
            await get_state(session, chat.id, user.id, now=get_deps(context).now())
            if person
            else None
        )
    by_caption = (message.caption or "").strip().lower().startswith("/plan")
    waiting = state is not None and state.state == "plan_upload"
    if person is None or person.role != Role.ADMIN or not (by_caption or waiting):
        await conversation.message_received(update, context)
        return
    tr = tr_for(context, person, user)
    document = message.document
    name = document.file_name or "plan"
    if PurePath(name.lower()).suffix not in PLAN_EXTENSIONS:
        await context.bot.send_message(
            chat.id, tr._("Please send the plan as .xlsx or .csv (this is “{name}”).", name=name)
        )
        return
    if (document.file_size or 0) > MAX_PLAN_BYTES:
        await context.bot.send_message(chat.id, tr._("That file is too large for a plan."))
        return
    data = bytes(await (await document.get_file()).download_as_bytearray())
    try:
        rows = read_plan_rows(data, name)
        meta = read_plan_metadata(data, name) if name.lower().endswith(".xlsx") else {}
        title = meta.get("title") or PurePath(name).stem.replace("_", " ")
        async with unit_of_work(context) as session:
            report = await import_plan(
                session,
                rows,
                title=title,
                source_file=name,
                programme=meta.get("programme", ""),
                evaluation=meta.get("evaluation", ""),
            )
            await clear_state(session, chat.id, user.id)
    except PlanFileError as error:
        lines = [
            tr._("I could not import “{name}”; nothing was changed. Problems found:", name=name)
        ]
        lines += [issue_line(tr, issue) for issue in error.issues[:ISSUES_SHOWN]]
        if len(error.issues) > ISSUES_SHOWN:
            lines.append(tr._("…and {n} more.", n=len(error.issues) - ISSUES_SHOWN))
        lines.append(tr._("Fix the file and send it again."))
        await send_view(context, chat.id, View("\n".join(lines)))
        return
    await send_view(context, chat.id, View(report_text(tr, report, title)))


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler(["invitar", "invite"], invite_command))
    application.add_handler(CommandHandler(["usuarios", "users"], people_command))
    application.add_handler(CommandHandler("plan", plan_command))
    application.add_handler(CallbackQueryHandler(people_pressed, pattern=r"^(?:u|ud|udy|ua):"))
    application.add_handler(MessageHandler(filters.Document.ALL, document_received))
