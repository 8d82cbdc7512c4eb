"""Registration by invitation, help, language, and the answer strangers get.

`/start CODE` (or the deep link `https://t.me/<bot>?start=CODE`, which Telegram turns into the
same command) registers the person with the invitation's role and units. Wrong codes are
counted per Telegram user: past a few, the bot stops even checking for a while.
"""

from __future__ import annotations

import datetime as dt

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from handlers.command_menus import set_role_commands
from handlers.common import current_person, get_deps, tr_for, unit_of_work
from handlers.i18n import SUPPORTED, Tr
from handlers.labels import role_label
from handlers.replies import answer, send_view, show
from handlers.views import View
from storage.conversations import hit_throttle
from storage.errors import InvitationError
from storage.models import Person, Role
from storage.people import redeem_invitation, set_language

CODE_ATTEMPTS = 5
CODE_WINDOW = dt.timedelta(minutes=15)
LANGUAGE_NAMES = {"es": "Español", "en": "English"}


def invitation_help(tr: Tr) -> str:
    return tr._(
        "Hello! I help follow up the improvement plan, and I only work for people who have been "
        "invited.\n\nAsk the person who runs this bot for an invitation, then open the link "
        "they send you (or write <code>/start CODE</code>)."
    )


async def tell_stranger(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The only thing an unregistered person gets: how to get an invitation (private chats), or
    a short answer on a button; in groups, silence."""
    tr = tr_for(context, None, update.effective_user)
    if update.callback_query is not None:
        await answer(update.callback_query, tr._("Please register first: ask for an invitation."))
        return
    chat = update.effective_chat
    if chat is not None and chat.type == ChatType.PRIVATE:
        await context.bot.send_message(chat.id, invitation_help(tr))


def help_text(tr: Tr, person: Person) -> str:
    lines = [
        tr._("<b>What I can do for you</b> ({role})", role=role_label(tr, person.role)),
        tr._(
            "/acciones — your key actions: open one to comment, attach evidence or change "
            "its status"
        ),
        tr._("/buscar TEXT — find actions by words in their text or units"),
        tr._("/resumen — the state of the plan (try <code>/resumen vencidas</code>)"),
    ]
    if person.role in (Role.COORDINATOR, Role.SECRETARIAT, Role.ADMIN):
        lines.append(tr._("/exportar — the plan as a spreadsheet, with follow-up and review"))
        lines.append(tr._("/avisos — how you receive notifications"))
    if person.role in (Role.SECRETARIAT, Role.ADMIN):
        lines.append(tr._("On an action's card: your review comment and review status"))
    if person.role == Role.ADMIN:
        lines.append(
            tr._(
                "/invitar ROLE [UNIT, UNIT] — invite a person (roles: focal, "
                "coordinador, secretariado, admin)"
            )
        )
        lines.append(tr._("/usuarios — people, their roles and units; deactivate someone"))
        lines.append(tr._("/plan — import a plan spreadsheet (.xlsx or .csv)"))
    lines.append(tr._("/idioma — change language · /cancelar — leave what you are doing"))
    return "\n".join(lines)


def welcome_text(tr: Tr, person: Person) -> str:
    units = ", ".join(u.name for u in person.units)
    greeting = tr._("Welcome, <b>{name}</b>!", name=person.name)
    if units:
        who = tr._(
            "You are registered as {role} for {units}.",
            role=role_label(tr, person.role),
            units=units,
        )
    else:
        who = tr._("You are registered as {role}.", role=role_label(tr, person.role))
    return f"{greeting} {who}\n\n{help_text(tr, person)}"


def display_name(update: Update) -> str:
    user = update.effective_user
    if user is None:
        return ""
    return user.full_name or user.username or str(user.id)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    code = context.args[0].strip() if context.args else ""
    deps = get_deps(context)
    async with unit_of_work(context) as session:
        person = await current_person(session, update)
        if not code:
            tr = tr_for(context, person, user)
            text = welcome_text(tr, person) if person else invitation_help(tr)
            role = person.role if person else None
        else:
            allowed = await hit_throttle(
                session,
                f"start:{user.id}",
                limit=CODE_ATTEMPTS,
                window=CODE_WINDOW,
                now=deps.now(),
            )
            tr = tr_for(context, person, user)
            role = None
            if not allowed:
                text = tr._(
                    "Too many attempts with wrong codes. Please wait a few minutes and "
                    "check the link you were sent."
                )
            else:
                try:
                    person = await redeem_invitation(
                        session,
                        code,
                        telegram_id=user.id,
                        name=display_name(update),
                        username=user.username,
                        language=user.language_code,
                        now=deps.now(),
                    )
                    tr = tr_for(context, person, user)
                    text = welcome_text(tr, person)
                    role = person.role
                except InvitationError as error:
                    text = _invitation_error(tr, error.code)
    if chat.type != ChatType.PRIVATE and person is None:
        return
    await context.bot.send_message(chat.id, text)
    if role is not None and chat.type == ChatType.PRIVATE:
        await set_role_commands(context.bot, chat.id, role, tr)


def _invitation_error(tr: Tr, code: str) -> str:
    if code == "invitation_used":
        return tr._("This invitation has already been used. Ask for a new one if you need it.")
    if code == "invitation_expired":
        return tr._("This invitation has expired. Please ask for a new one.")
    return tr._("This invitation code is not valid. Check that you opened the whole link.")


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    async with unit_of_work(context) as session:
        person = await current_person(session, update)
    if person is None:
        await tell_stranger(update, context)
        return
    tr = tr_for(context, person, update.effective_user)
    await context.bot.send_message(update.effective_chat.id, help_text(tr, person))  # type: ignore[union-attr]


def language_view(tr: Tr) -> View:
    buttons = [[(LANGUAGE_NAMES[code], f"lg:{code}") for code in SUPPORTED]]
    return View(tr._("Choose your language:"), buttons)


async def language_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    async with unit_of_work(context) as session:
        person = await current_person(session, update)
    if person is None:
        await tell_stranger(update, context)
        return
    tr = tr_for(context, person, update.effective_user)
    await send_view(context, update.effective_chat.id, language_view(tr))  # type: ignore[union-attr]


async def language_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    code = (query.data or "").removeprefix("lg:") if query else ""
    async with unit_of_work(context) as session:
        person = await current_person(session, update)
        if person is not None and code in SUPPORTED:
            await set_language(session, person, code)
    if person is None:
        await tell_stranger(update, context)
        return
    tr = tr_for(context, person, update.effective_user)
    if code not in SUPPORTED:
        await answer(query, tr._("This button is no longer valid."))
        return
    await answer(query)
    await show(
        update,
        context,
        View(tr._("Done: I will write to you in {language}.", language=LANGUAGE_NAMES[code])),
    )
    chat = update.effective_chat
    if chat is not None and chat.type == ChatType.PRIVATE:
        await set_role_commands(context.bot, chat.id, person.role, tr)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler(["ayuda", "help"], help_command))
    application.add_handler(CommandHandler(["idioma", "language"], language_command))
    application.add_handler(CallbackQueryHandler(language_chosen, pattern=r"^lg:"))
