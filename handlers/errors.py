"""When something goes wrong: errors are logged and the person answered politely, and a button
no flow knows gets a short answer instead of a spinning wheel."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable

from telegram import Update
from telegram.error import Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import CommandHandler

from handlers.context import FlowContext, flow
from handlers.i18n import Tr
from handlers.outage import is_outage, outage_of, outage_reply
from handlers.replies import Reply, View, deliver, stale_button
from storage.db import transaction
from storage.people import get_person

log = logging.getLogger(__name__)


@flow()
async def unknown_button(update: Update, context: FlowContext) -> Reply:
    """A button no flow knows (forged, or from an old version of the bot)."""
    return stale_button(context.tr)


@flow()
async def unknown_command(update: Update, context: FlowContext) -> View:
    """A command no flow knows (`/accion`): the closest one, and /ayuda."""
    message = update.effective_message
    typed = ((message.text if message else "") or "/").split()[0].split("@")[0][1:].lower()
    known = sorted(
        name
        for handler in context.application.handlers.get(0, [])
        if isinstance(handler, CommandHandler)
        for name in handler.commands
    )
    close = difflib.get_close_matches(typed, known, n=1, cutoff=0.5)
    tr = context.tr
    if close:
        return View(
            tr._(
                "I do not know /{typed}. Did you mean /{close}? /ayuda lists what I can do.",
                typed=typed,
                close=close[0],
            )
        )
    return View(tr._("I do not know /{typed}. /ayuda lists what I can do.", typed=typed))


async def on_error(update: object, context: FlowContext) -> None:
    """Log the failure and tell the person; what they sent stays where it was (the conversation
    state is only changed by a step that succeeded), so they can simply try again.

    A database that cannot be reached is one log line per outage (`handlers.outage`), and the
    answer is chosen without it: the language from Telegram's `language_code`."""
    error = context.error
    if isinstance(error, RetryAfter | TimedOut | NetworkError | Forbidden):
        log.warning("Telegram error while handling an update: %s", error)
        return
    if error is not None and is_outage(error):
        outage_of(context.bot_data).failed(error, "update")
        await _tell(update, context, outage_reply, database=False)
        return
    log.error("error while handling an update", exc_info=error)
    await _tell(update, context, _sorry, database=True)


def _sorry(update: Update, tr: Tr) -> Reply:
    text = tr._(
        "Sorry, something went wrong on our side. Nothing you sent was lost: "
        "please try again in a moment."
    )
    if update.callback_query is not None:
        return Reply(notice=text, alert=True)
    return Reply([View(text)], edit=False)


async def _tell(
    update: object,
    context: FlowContext,
    reply_for: Callable[[Update, Tr], Reply | None],
    *,
    database: bool,
) -> None:
    """Answer the update that failed in the person's language: their choice when the database
    can be asked (`database`), else Telegram's."""
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    user = update.effective_user
    language = None
    if database and user is not None:
        try:
            async with transaction(context.deps.sessions) as session:
                person = await get_person(session, user.id, active_only=True)
            language = person.language if person else None
        except Exception as error:  # the language is a nicety: Telegram's will do
            log.info("could not read the person's language: %s", error)
    tr = context.deps.tr(language, user.language_code if user else None)
    reply = reply_for(update, tr)
    if reply is None:
        return
    try:
        await deliver(update, context.bot, reply)
    except Exception:
        log.exception("could not tell the person about the error")
