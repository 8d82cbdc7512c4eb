"""Per-update plumbing that runs before any flow: redelivered updates are dropped, and errors
are logged and answered politely."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import ContextTypes

from handlers.common import claim_with_first_step, current_person, tr_for, unit_of_work

log = logging.getLogger(__name__)


async def drop_redelivered(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Telegram may deliver an update twice (a webhook retry, a restart before the offset was
    confirmed); the second time it is ignored, so a comment is never posted twice. The update
    id is recorded by the update's first transaction (`unit_of_work`), together with what the
    update changed: no transaction of its own, and no update recorded but left undone.

    Button presses are not recorded: every button's effect is idempotent (set a status, open a
    card, start a conversation), so a second delivery changes nothing and costs no write."""
    if update.callback_query is None:
        claim_with_first_step(context, update.update_id)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure and tell the person; what they sent stays where it was (the conversation
    state is only changed by a step that succeeded), so they can simply try again."""
    error = context.error
    if isinstance(error, RetryAfter | TimedOut | NetworkError | Forbidden):
        log.warning("Telegram error while handling an update: %s", error)
        return
    log.error("error while handling an update", exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    try:
        async with unit_of_work(context) as session:
            person = await current_person(session, update)
        tr = tr_for(context, person, update.effective_user)
        await context.bot.send_message(
            update.effective_chat.id,
            tr._(
                "Sorry, something went wrong on our side. Nothing you sent was lost: "
                "please try again in a moment."
            ),
        )
    except Exception:
        log.exception("could not tell the person about the error")
