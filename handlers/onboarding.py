"""Registration by invitation, help, language, and the answer strangers get.

`/start CODE` (or the deep link `https://t.me/<bot>?start=CODE`, which Telegram turns into the
same command) registers the person with the invitation's role and units. Someone registered is
told so: a code of their own role is used up (adding the units they lack, if any), a code of
another role is first asked about (the invitation's id waits in the conversation state, the
code is never kept). Wrong codes are counted per Telegram user: past a few, the bot stops even
checking for a while. `/start a<id>` (the dashboard's "open in the chat" link) opens key action
<id>'s card for someone registered who may see it.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Message, Update

from handlers.buttons import State, parse_any, pressed
from handlers.cards import card_view
from handlers.command_menus import set_role_commands
from handlers.context import FlowContext, deactivated_text, flow, invitation_help
from handlers.dashboard import set_dashboard_menu
from handlers.i18n import N_, Safe, Tr
from handlers.labels import role_label
from handlers.people_buttons import ROLE_BUTTONS, ChangeRole, ChooseLanguage, KeepRole
from handlers.replies import Reply, View
from locales import SUPPORTED
from storage.conversations import hit_throttle
from storage.errors import InvitationError
from storage.models import Invitation, Person, Role, Unit
from storage.people import (
    open_invitation,
    register,
    set_language,
    use_invitation_units,
)
from storage.rounds import ask_newcomers

#: `/start a<id>` (the dashboard's link to an action): never an invitation code, which is
#: 32 characters long.
ACTION_LINK = re.compile(r"a\d{1,12}")
CODE_ATTEMPTS = 5
CODE_WINDOW = dt.timedelta(minutes=15)
LANGUAGE_NAMES = {"es": "Español", "en": "English"}  # on the buttons, each in its own language
#: ... and inside a sentence, in the language of the sentence.
LANGUAGES_IN_TEXT = {"es": N_("Spanish"), "en": N_("English")}


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
        lines.append(
            tr._(
                "/exportar — the plan as Word, Excel or CSV, with follow-up and review "
                "(<code>/exportar word al 31/03/2012</code>: as it stood that day)"
            )
        )
        lines.append(
            tr._(
                "/ronda — reporting rounds: ask every focal point for an update by a date, "
                "see who has answered, close it into a report"
            )
        )
        lines.append(
            tr._(
                "/exportar pdf — the report for the committee, also as it stood on a day: "
                "<code>/exportar pdf al 31/03/2012</code> (and <code>/resumen al 31/03/2012</code>)"
            )
        )
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
        lines.append(
            tr._("/usuarios — people, their roles and units: change them, deactivate someone")
        )
        lines.append(tr._("/invitaciones — the pending invitations; revoke one"))
        lines.append(tr._("/plan — import a plan (.xlsx, .csv or Word .docx)"))
        lines.append(
            tr._(
                "/vincular secretariado — sent inside a group: the group receives the "
                "secretariat's notices (/desvincular undoes it)"
            )
        )
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


def profile(tr: Tr, role: str, units: list[Unit]) -> str:
    """ "punto focal de PNUD", "coordinación"."""
    if not units:
        return html.escape(role_label(tr, role), quote=False)
    return tr._(
        "{role} for {units}", role=role_label(tr, role), units=", ".join(u.name for u in units)
    )


def already_registered_text(tr: Tr, person: Person) -> str:
    text = tr._(
        "Hello, <b>{name}</b>. You are already registered as {profile}: there is nothing more "
        "to do.",
        name=person.name,
        profile=Safe(profile(tr, person.role, person.units)),
    )
    return f"{text}\n\n{help_text(tr, person)}"


def display_name(update: Update) -> str:
    user = update.effective_user
    if user is None:
        return ""
    return user.full_name or user.username or str(user.id)


@flow(strangers=None)
async def start(update: Update, context: FlowContext) -> Reply | None:
    """/start [CODE]: register with an invitation, or tell someone registered (or deactivated)
    where they stand."""
    user, person, tr = update.effective_user, context.known_person, context.tr
    assert user is not None
    code = context.args[0].strip() if context.args else ""
    if ACTION_LINK.fullmatch(code):  # the dashboard's "open in the chat": the action's card
        if person is not None:
            return Reply([await card_view(context, int(code[1:]))])
        code = ""  # a stranger: as /start alone
    if code:
        person, reply = await _redeem(update, context, code)
    elif person is not None:
        text = already_registered_text(tr, person)
        reply = Reply([View(text)], after=_menu_setter(context, person, tr))
    else:
        text = await deactivated_text(context.session, tr, context.account) or invitation_help(tr)
        reply = Reply([View(text)])
    if not context.in_private and person is None:  # groups: strangers get silence
        return None
    return reply


async def _redeem(update: Update, context: FlowContext, code: str) -> tuple[Person | None, Reply]:
    user, deps, person, tr = update.effective_user, context.deps, context.known_person, context.tr
    session = context.session
    assert user is not None
    allowed = await hit_throttle(
        session, f"start:{user.id}", limit=CODE_ATTEMPTS, window=CODE_WINDOW, now=deps.now()
    )
    if not allowed:
        text = tr._(
            "Too many attempts with wrong codes. Please wait a few minutes and "
            "check the link you were sent."
        )
        return person, Reply([View(text)])
    try:
        invitation = await open_invitation(session, code, now=deps.now())
    except InvitationError as error:
        return person, Reply([View(_invitation_error(tr, error.code))])
    if person is None:
        try:
            person = await _register(update, context, invitation)
        except InvitationError as error:  # deactivated: a new code does not bring them back
            gone = await deactivated_text(session, tr, context.account)
            return None, Reply([View(gone or _invitation_error(tr, error.code))])
        tr = deps.tr(person.language, user.language_code)
        return person, Reply(
            [View(welcome_text(tr, person))], after=_menu_setter(context, person, tr)
        )
    if invitation.role == person.role:
        added = await use_invitation_units(session, invitation, person, now=deps.now())
        return person, Reply([View(_same_role_text(tr, person, added))])
    await context.step.open(State.CONFIRM_ROLE, {"invitation": invitation.id})
    return person, Reply([_role_question(tr, person, invitation)])


def _same_role_text(tr: Tr, person: Person, added: list[Unit]) -> str:
    if not added:
        return tr._(
            "You are already registered as {profile}: this invitation changed nothing, and it "
            "cannot be used again.",
            profile=Safe(profile(tr, person.role, person.units)),
        )
    text = tr._(
        "You are already registered as {role}. Added to your units: {units}.",
        role=role_label(tr, person.role),
        units=", ".join(unit.name for unit in added),
    )
    return f"{text}\n\n{help_text(tr, person)}"


def _role_question(tr: Tr, person: Person, invitation: Invitation) -> View:
    new_role = role_label(tr, invitation.role)
    question = tr._(
        "You are registered as {profile}. This invitation is for {new}. Change your role to "
        "{role}?",
        profile=Safe(profile(tr, person.role, person.units)),
        new=Safe(profile(tr, invitation.role, list(invitation.units))),
        role=new_role,
    )
    answers = [
        (tr.raw("Yes, change to {role}", role=new_role), ChangeRole(invitation.id)),
        (tr.raw("No"), KeepRole(invitation.id)),
    ]
    return View(question, [answers])


@flow()
async def role_pressed(update: Update, context: FlowContext) -> Reply:
    """Yes or No to the other role of an invitation: the role changes (and the invitation is
    used) only on Yes, and only for the invitation this person presented."""
    tr, deps, session, person = context.tr, context.deps, context.session, context.person
    user = update.effective_user
    assert user is not None
    button = parse_any(update, *ROLE_BUTTONS)
    state = await context.step.current()
    if (
        not isinstance(button, ChangeRole | KeepRole)
        or state is None
        or state.state != State.CONFIRM_ROLE
        or state.data.get("invitation") != button.invitation_id
    ):
        return Reply(notice=tr._("This button is no longer valid."))
    await context.step.close()
    if isinstance(button, KeepRole):
        text = tr._(
            "Nothing changed: you are still {profile}. The invitation was not used.",
            profile=Safe(profile(tr, person.role, person.units)),
        )
        return Reply([View(text)])
    try:
        invitation = await open_invitation(
            session, invitation_id=button.invitation_id, now=deps.now()
        )
    except InvitationError as error:
        return Reply([View(_invitation_error(tr, error.code))])
    person = await _register(update, context, invitation)
    tr = deps.tr(person.language, user.language_code)
    done = tr._(
        "Done: you are now registered as {profile}.",
        profile=Safe(profile(tr, person.role, person.units)),
    )
    text = f"{done}\n\n{help_text(tr, person)}"
    return Reply([View(text)], after=_menu_setter(context, person, tr))


async def _register(update: Update, context: FlowContext, invitation: Invitation) -> Person:
    """The sender, registered (or registered anew) with the invitation's role and units."""
    user = update.effective_user
    assert user is not None
    rounds_open = invitation.rounds_open  # read with the invitation; writing it forgets it
    person = await register(
        context.session,
        invitation,
        context.account,
        telegram_id=user.id,
        name=display_name(update),
        username=user.username,
        language=user.language_code,
        now=context.deps.now(),
    )
    if rounds_open is not False:
        await ask_newcomers(context.session, now=context.deps.now())
    return person


def _menu_setter(
    context: FlowContext, person: Person, tr: Tr
) -> Callable[[], Awaitable[None]] | None:
    """After the answer, the command menu of the person's role (private chats only)."""
    chat_id, bot, url = context.chat_id, context.bot, context.deps.web_app_url
    if not context.in_private:
        return None

    async def set_menus() -> None:
        await set_role_commands(bot, chat_id, person.role, tr)
        await set_dashboard_menu(bot, chat_id, person.role, tr, url)

    return set_menus


def _invitation_error(tr: Tr, code: str) -> str:
    if code == "invitation_used":
        return tr._("This invitation has already been used. Ask for a new one if you need it.")
    if code == "invitation_revoked":
        return tr._(
            "This invitation was revoked by an administrator: it registers nobody. Ask for a "
            "new one if you need it."
        )
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
    language = tr.raw(LANGUAGES_IN_TEXT[button.code])
    done = tr._("Done: I will write to you in {language}.", language=language)
    return Reply([View(done)], after=_menu_setter(context, person, tr))


async def role_question_step(message: Message, context: FlowContext, data: dict[str, Any]) -> Reply:
    """Text while the role question is open: the question waits for its buttons."""
    return Reply([View(context.tr._("Please answer with the buttons above: Yes or No."))])
