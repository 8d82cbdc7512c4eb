"""Registration by invitation, help, language, and the answer strangers get.

`/start CODE` (or the deep link `https://t.me/<bot>?start=CODE`, which Telegram turns into the
same command) registers the person with the invitation's role and units. Wrong codes are
counted per Telegram user: past a few, the bot stops even checking for a while.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from telegram import Update

from handlers.buttons import ChooseLanguage, pressed
from handlers.command_menus import set_role_commands
from handlers.context import FlowContext, flow, invitation_help
from handlers.i18n import Tr
from handlers.labels import role_label
from handlers.replies import Reply, View
from locales import SUPPORTED
from storage.conversations import hit_throttle
from storage.errors import InvitationError
from storage.models import Person, Role
from storage.people import redeem_invitation, set_language

CODE_ATTEMPTS = 5
CODE_WINDOW = dt.timedelta(minutes=15)
LANGUAGE_NAMES = {"es": "Español", "en": "English"}


def help_text(tr: Tr, person: Person) -> str:
    if person.role == Role.SECRETARIAT:
        actions = tr._(
            "/acciones — the key actions, first those waiting for your review: open one to "
            "read it, its history and its review"
        )
    else:
        actions = tr._(
            "/acciones — your key actions: open one to comment, attach evidence or change "
            "its status"
        )
    lines = [
        tr._("<b>What I can do for you</b> ({role})", role=role_label(tr, person.role)),
        actions,
        tr._("/buscar TEXT — find actions by words in their text or units"),
        tr._("/resumen — the state of the plan (try <code>/resumen vencidas</code>)"),
    ]
    if person.role in (Role.COORDINATOR, Role.SECRETARIAT, Role.ADMIN):
        lines.append(tr._("/exportar — the plan as a spreadsheet, with follow-up and review"))
        lines.append(tr._("/avisos — how you receive notifications"))
    if person.role in (Role.SECRETARIAT, Role.ADMIN):
        lines.append(
            tr._(
                "/revisar — the review queue: the actions changed since their validation, "
                "one at a time, to validate or observe"
            )
        )
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


@flow(strangers=None)
async def start(update: Update, context: FlowContext) -> Reply | None:
    """/start [CODE]: register with an invitation, or greet someone already registered."""
    user, person = update.effective_user, context.known_person
    assert user is not None
    code = context.args[0].strip() if context.args else ""
    if not code:
        tr = context.tr
        text = welcome_text(tr, person) if person else invitation_help(tr)
    else:
        person, tr, text = await _redeem(update, context, code)
    if not context.in_private and person is None:  # groups: strangers get silence
        return None
    after = _menu_setter(context, person, tr) if text and person else None
    return Reply([View(text)], after=after)


async def _redeem(update: Update, context: FlowContext, code: str) -> tuple[Person | None, Tr, str]:
    user, deps, person, tr = update.effective_user, context.deps, context.known_person, context.tr
    assert user is not None
    allowed = await hit_throttle(
        context.session, f"start:{user.id}", limit=CODE_ATTEMPTS, window=CODE_WINDOW, now=deps.now()
    )
    if not allowed:
        text = tr._(
            "Too many attempts with wrong codes. Please wait a few minutes and "
            "check the link you were sent."
        )
        return person, tr, text
    try:
        person = await redeem_invitation(
            context.session,
            code,
            telegram_id=user.id,
            name=display_name(update),
            username=user.username,
            language=user.language_code,
            now=deps.now(),
        )
    except InvitationError as error:
        return person, tr, _invitation_error(tr, error.code)
    tr = deps.tr(person.language, user.language_code)
    return person, tr, welcome_text(tr, person)


def _menu_setter(
    context: FlowContext, person: Person, tr: Tr
) -> Callable[[], Awaitable[None]] | None:
    """After the answer, the command menu of the person's role (private chats only)."""
    chat_id = context.chat_id
    if not context.in_private:
        return None
    return lambda: set_role_commands(context.bot, chat_id, person.role, tr)


def _invitation_error(tr: Tr, code: str) -> str:
    if code == "invitation_used":
        return tr._("This invitation has already been used. Ask for a new one if you need it.")
    if code == "invitation_expired":
        return tr._("This invitation has expired. Please ask for a new one.")
    return tr._("This invitation code is not valid. Check that you opened the whole link.")


@flow()
async def help_command(update: Update, context: FlowContext) -> View:
    """/ayuda: what the person can do, by role."""
    return View(help_text(context.tr, context.person))


def language_view(tr: Tr) -> View:
    buttons = [[(LANGUAGE_NAMES[code], ChooseLanguage(code)) for code in SUPPORTED]]
    return View(tr._("Choose your language:"), buttons)


@flow()
async def language_command(update: Update, context: FlowContext) -> View:
    """/idioma: the languages to choose from."""
    return language_view(context.tr)


@flow()
async def language_chosen(update: Update, context: FlowContext) -> Reply:
    """A language button: kept for the person, and the command menu in that language."""
    button = pressed(update, ChooseLanguage)
    if button is None or button.code not in SUPPORTED:
        return Reply(notice=context.tr._("This button is no longer valid."))
    person = context.person
    await set_language(context.session, person, button.code)
    tr = context.deps.tr(button.code)
    done = tr._("Done: I will write to you in {language}.", language=LANGUAGE_NAMES[button.code])
    return Reply([View(done)], after=_menu_setter(context, person, tr))
