"""When something goes wrong: errors are logged and the person answered politely, and a button
no flow knows gets a short answer instead of a spinning wheel."""

from __future__ import annotations

import difflib
import logging

from telegram import Update
from telegram.error import Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import CommandHandler

from handlers.context import FlowContext, flow
from handlers.replies import Reply, View, stale_button
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
    state is only changed by a step that succeeded), so they can simply try again."""
    error = context.error
    if isinstance(error, RetryAfter | TimedOut | NetworkError | Forbidden):
        log.warning("Telegram error while handling an update: %s", error)
        return
    log.error("error while handling an update", exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    user = update.effective_user
    try:
        async with transaction(context.deps.sessions) as session:
            person = await get_person(session, user.id, active_only=True) if user else None
        tr = context.deps.tr(
            person.language if person else None, user.language_code if user else None
        )
        await context.bot.send_message(
            update.effective_chat.id,
            tr._(
                "Sorry, something went wrong on our side. Nothing you sent was lost: "
                "please try again in a moment."
            ),
        )
    except Exception:
        log.exception("could not tell the person about the error")
