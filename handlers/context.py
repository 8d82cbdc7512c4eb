"""The skeleton every handler shares, written once.

`FlowContext` is PTB's `CallbackContext` with what a flow needs (see python-telegram-bot's
`contexttypesbot.py` example): `deps` (built by the composition root), and for the update being
handled `person`, `tr` (their language) and `session` (the step's transaction).

`@flow(...)` wraps a handler: it opens one transaction, records the update as processed in it
(Telegram may deliver an update twice; the second time nothing happens) and finds the person
(both in one statement on PostgreSQL: `storage.update_start`), and answers strangers, people
of other roles and group chats as asked; the handler then does its one job and returns a
`Reply` (or a `View`), which is sent after the transaction is committed, so no transaction
waits on Telegram. A `PlanError` from storage becomes a short refusal and
nothing of the step is kept; so does a database that cannot be reached (`handlers.outage`).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Awaitable, Callable, Collection, Coroutine, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.constants import ChatType
from telegram.ext import Application, CallbackContext, ExtBot

from handlers.i18n import N_, Tr, pick_locale
from handlers.open_steps import StepKey, discard, moves_on
from handlers.outage import is_outage, outage_of, outage_reply
from handlers.replies import Reply, View, deliver, deliver_privately, refusal
from storage.chats import retry_chat
from storage.clock import today_in
from storage.db import Sessions, transaction
from storage.errors import PlanError
from storage.models import Person, utcnow
from storage.people import administrators
from storage.update_start import start_update

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deps:
    """What the flows and jobs need from the deployment, built once from the settings."""

    sessions: Sessions
    default_locale: str
    timezone: str
    notify_chat_ids: Sequence[int]
    bot_username: str
    reminder_weekday: int  # 0 is Monday
    reminder_due_days: int
    stale_days: int
    step_ttl: dt.timedelta  # how long a step left silent stays open
    album_wait: float  # seconds given to Telegram to deliver every file of an album
    clock: Callable[[], dt.datetime] = utcnow
    web_app_url: str = ""  # the dashboard (Mini App); no button without it
    plan_parse_seconds: float = 20.0  # an uploaded plan file is parsed for this long at most

    def now(self) -> dt.datetime:
        return self.clock()

    def today(self) -> dt.date:
        return today_in(self.timezone, self.now())

    def tr(self, *languages: str | None) -> Tr:
        """Texts in the first supported language of those given, else the default."""
        return Tr(pick_locale(*languages, self.default_locale), self.timezone)


class FlowContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """PTB's context, with the flows' dependencies and the current step's person and session."""

    person: Person  # set for registered people only
    known_person: Person | None  # the same, or None for a stranger (handlers open to them)
    account: Person | None  # whoever sent the update, active or not (None: never registered)
    tr: Tr
    session: AsyncSession
    chat_id: int  # the chat the update came from
    in_private: bool  # ... and whether it is a private chat with the bot
    step: StepKey  # the person's open conversation step in this chat (registered people)

    @property
    def deps(self) -> Deps:
        deps: Deps = self.application.bot_data["deps"]
        return deps


def install(application: Application[Any, Any, Any, Any, Any, Any], deps: Deps) -> None:
    application.bot_data["deps"] = deps


class Strangers(Enum):
    """What an unregistered person gets from a handler."""

    INVITE = "invite"  # how to be invited (private chats); a short answer on a button
    REFUSE = "refuse"  # "this is for registered people", in any chat


REGISTERED_ONLY = N_("This is for registered people: open your invitation link first.")
ADMINS_ONLY = N_("Only administrators can do that.")
PRIVATE_ONLY = N_("Let's do this in a private chat with me, so the group stays quiet.")


def invitation_help(tr: Tr) -> str:
    return tr._(
        "Hello! I help follow up the improvement plan, and I only work for people who have been "
        "invited.\n\nAsk the person who runs this bot for an invitation, then open the link "
        "they send you (or write <code>/start CODE</code>)."
    )


async def deactivated_text(session: AsyncSession, tr: Tr, account: Person | None) -> str | None:
    """For someone registered once and deactivated since (`account`, as read for the update):
    so, and whom to ask (None for a stranger or an active person)."""
    if account is None or account.active:
        return None
    admins = ", ".join(
        f"{admin.name} (@{admin.username})" if admin.username else admin.name
        for admin in await administrators(session)
    )
    if not admins:
        return tr._(
            "Your access to this bot has been deactivated. If you need it again, ask the "
            "person who runs this bot."
        )
    return tr._(
        "Your access to this bot has been deactivated. If you need it again, ask an "
        "administrator: {admins}.",
        admins=admins,
    )


def stranger_reply(
    update: Update, tr: Tr, strangers: Strangers, deactivated: str | None = None
) -> Reply | None:
    """The answer to someone unregistered, or deactivated (`deactivated`: that text)."""
    on_button = update.callback_query is not None
    if on_button and deactivated is not None:
        return Reply(notice=tr._("Your access to this bot has been deactivated."), alert=True)
    if strangers is Strangers.REFUSE:
        text = deactivated or tr._(REGISTERED_ONLY)
        return Reply(notice=text, alert=True) if on_button else Reply([View(text)])
    if on_button:
        return Reply(notice=tr._("Please register first: ask for an invitation."))
    chat = update.effective_chat
    if chat is not None and chat.type == ChatType.PRIVATE:
        return Reply([View(deactivated or invitation_help(tr))])
    return None


@dataclass(frozen=True, slots=True)
class Gate:
    """Who a handler serves (see `flow`)."""

    strangers: Strangers | None
    roles: Collection[str] | None
    refusal_text: str
    refusal_alert: bool
    private: bool


Handler = Callable[[Update, FlowContext], Awaitable[Reply | View | None]]
Callback = Callable[[Update, FlowContext], Coroutine[Any, Any, None]]


def flow(
    *,
    strangers: Strangers | None = Strangers.INVITE,
    roles: Collection[str] | None = None,
    refusal_text: str = ADMINS_ONLY,
    refusal_alert: bool = True,
    private: bool = False,
) -> Callable[[Handler], Callback]:
    """The skeleton around a handler (see the module's docstring).

    `strangers=None` lets unregistered people through (`context.person` is then None);
    `roles` limits the handler to those roles (others get `refusal_text`, as an alert on a
    button unless `refusal_alert` is off); `private` asks group chats to move to a private one."""

    def wrap(handler: Handler) -> Callback:
        @functools.wraps(handler)
        async def run(update: Update, context: FlowContext) -> None:
            reply = await _step(
                update,
                context,
                handler,
                Gate(strangers, roles, refusal_text, refusal_alert, private),
            )
            if reply is None:
                return
            if pressed_in_group(update):
                # Answered in the presser's private chat: the group's message stays as it was.
                await deliver_privately(
                    update,
                    context.bot,
                    reply,
                    answered=context.tr._("I have answered you in our private chat."),
                    cannot_write=open_private_text(context),
                )
            else:
                await deliver(update, context.bot, reply)

        return run

    return wrap


async def _step(
    update: Update,
    context: FlowContext,
    handler: Handler,
    gate: Gate,
) -> Reply | None:
    deps = context.deps
    user = update.effective_user
    tr = deps.tr(user.language_code if user else None)
    try:
        async with transaction(deps.sessions) as session:
            chat = update.effective_chat
            context.chat_id = chat.id if chat is not None else 0
            context.in_private = chat is not None and chat.type == ChatType.PRIVATE
            if user is not None and pressed_in_group(update):
                # A button of a group's message (a notice) is answered in private, and any
                # step it opens is the private chat's: none is ever opened in a group.
                context.chat_id, context.in_private = user.id, True
            # Button presses are not claimed: every button's effect is idempotent.
            claim = None if update.callback_query is not None else update.update_id
            start = await start_update(session, claim, user.id if user else None, context.chat_id)
            if not start.claimed:
                log.info("update %s already processed, ignored", update.update_id)
                return None
            account, step = start.person, start.step
            person = account if account is not None and account.active else None
            context.account = account
            tr = deps.tr(person.language if person else None, user.language_code if user else None)
            context.known_person, context.tr, context.session = person, tr, session
            if person is not None:
                context.person = person
            if person is None and gate.strangers is not None:
                deactivated = await deactivated_text(session, tr, account)
                return stranger_reply(update, tr, gate.strangers, deactivated)
            if person is not None and gate.roles is not None and person.role not in gate.roles:
                text = tr._(gate.refusal_text)
                if update.callback_query and gate.refusal_alert:
                    return Reply(notice=text, alert=True)
                return Reply([View(text)], edit=False)
            if gate.private and not context.in_private:
                return Reply([View(tr._(PRIVATE_ONLY))])
            if person is not None and context.in_private and update.message is not None:
                await _reachable_again(session, person, deps.now())
            discarded = None
            if person is not None:
                context.step = StepKey(
                    session,
                    context.chat_id,
                    person.telegram_id or 0,
                    deps.now(),
                    deps.step_ttl,
                    step=step,
                    read=True,
                )
                discarded = await discard(context.step, tr) if moves_on(update) else None
            result = await handler(update, context)
    except PlanError as error:
        return refusal(tr, error, on_button=update.callback_query is not None)
    except Exception as error:
        if not is_outage(error):
            raise
        # Nothing of the step was kept, not even the update's id: a redelivery processes it.
        outage_of(context.bot_data).failed(error, f"update {update.update_id}")
        return outage_reply(update, tr)
    outage_of(context.bot_data).answered()
    reply = Reply([result]) if isinstance(result, View) else result
    return _telling(reply, discarded, on_button=update.callback_query is not None)


async def _reachable_again(session: AsyncSession, person: Person, now: dt.datetime) -> None:
    """A person writing to the bot can be written to: release what waits for them if their
    chat was marked unreachable (known from the query that read them; asked when not)."""
    if person.telegram_id is None or person.chat_unreachable is False:
        return
    released = await retry_chat(session, person.telegram_id, now=now)
    if released is not None:
        log.info("chat %s reachable again: %s notices released", person.telegram_id, released)


def pressed_in_group(update: Update) -> bool:
    """A button pressed on a message of a group (not of a private chat with the bot)."""
    chat = update.effective_chat
    return update.callback_query is not None and chat is not None and chat.type != ChatType.PRIVATE


def open_private_text(context: FlowContext) -> str:
    """What a person pressing a group's button is told when the bot cannot write to them."""
    username = context.deps.bot_username or context.bot.username
    return context.tr._(
        "I answer buttons in a private chat, and you have not opened one with me yet. Open "
        "t.me/{username}, press Start, then press the button again.",
        username=username,
    )


def _telling(reply: Reply | None, discarded: str | None, *, on_button: bool) -> Reply | None:
    """The reply, with the line saying which open step the update ended (if it ended one)."""
    if discarded is None:
        return reply
    reply = reply or Reply()
    if reply.views:
        reply.views[0] = reply.views[0].with_notice(discarded)
    elif on_button and reply.notice is None:
        reply.notice = discarded
    else:
        reply.views.append(View(discarded))
    return reply
