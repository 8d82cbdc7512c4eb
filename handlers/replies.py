"""Sending views: split to Telegram's limits, edited in place on button navigation, and the
short answers people get when storage refuses something."""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Message, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from handlers.common import split_message
from handlers.i18n import N_, Tr
from handlers.views import View
from storage.errors import PlanError

log = logging.getLogger(__name__)

ERROR_TEXTS = {
    "action_not_yours": N_("This action is not assigned to your units."),
    "action_not_found": N_("That action no longer exists."),
    "review_not_allowed": N_("Only the secretariat records the review."),
    "permission_denied": N_("You are not allowed to do that."),
    "comment_empty": N_("The comment is empty: write a text or send a photo or document."),
    "justification_required": N_("Please write a short justification."),
    "observation_required": N_("Please write the observation."),
    "too_many_attachments": N_("That is as many files as one comment can hold."),
    "unknown_role": N_("Unknown role. Use: focal, coordinador, secretariado or admin."),
    "focal_needs_unit": N_("A focal point needs at least one unit."),
    "person_not_found": N_("That person is no longer registered."),
    "cannot_deactivate_self": N_("You cannot deactivate yourself."),
}
STALE_BUTTON = N_("This button is no longer valid. Open the list again with /acciones.")


def error_text(tr: Tr, error: PlanError) -> str:
    if error.code == "comment_too_long":
        return tr._(
            "Your comment has {length} characters; the limit is {limit}. Please shorten it and "
            "send it again — the conversation is still open.",
            length=tr.number(error.detail.get("length", 0)),
            limit=tr.number(error.detail.get("limit", 0)),
        )
    return tr._(ERROR_TEXTS.get(error.code, "You are not allowed to do that."))


async def send_view(context: ContextTypes.DEFAULT_TYPE, chat_id: int, view: View) -> Message | None:
    """Send a view as one message, or several when the text is over Telegram's limit (the
    buttons go with the last part)."""
    parts = split_message(view.text)
    message = None
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        message = await context.bot.send_message(
            chat_id, part, reply_markup=view.markup if last else None
        )
    return message


async def show(update: Update, context: ContextTypes.DEFAULT_TYPE, view: View) -> None:
    """Edit the message whose button was pressed; otherwise (or if that fails) send anew."""
    query = update.callback_query
    if query is not None and query.message is not None and len(split_message(view.text)) == 1:
        try:
            await query.edit_message_text(view.text, reply_markup=view.markup)
            return
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return
            log.info("could not edit message, sending a new one: %s", exc)
    chat = update.effective_chat
    if chat is not None:
        await send_view(context, chat.id, view)


async def answer(query: CallbackQuery | None, text: str | None = None, alert: bool = False) -> None:
    if query is None:
        return
    try:
        await query.answer(text, show_alert=alert)
    except BadRequest as exc:  # too old to answer: nothing to tell
        log.info("callback answer failed: %s", exc)
