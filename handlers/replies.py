"""A message to send (`View`), what a step answers (`Reply`), and sending them: split to
Telegram's limits, edited in place on button navigation, files drawn off the event loop.

Flows build views inside a database transaction and the skeleton sends them after it, so no
transaction waits on Telegram. The outbox jobs send the same `View`s.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaAudio,
    InputMediaDocument,
    InputMediaPhoto,
    Update,
    WebAppInfo,
)
from telegram.constants import ChatAction
from telegram.error import BadRequest, Forbidden

from handlers.buttons import Button
from handlers.i18n import N_, Tr
from handlers.summary_buttons import OpenDashboard
from handlers.text import CAPTION_LIMIT, split_message
from storage.errors import PlanError

log = logging.getLogger(__name__)

#: A row of buttons: (label, what the button carries).
ButtonRow = list[tuple[str, Button]]


class FileNotMade(Exception):
    """A file that could not be made at sending time (`OutgoingFile.produce`): its text is
    sent instead of the file."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@dataclass(slots=True)
class OutgoingFile:
    """A file sent with a view: the bytes, a function that makes them (a chart, called in a
    worker thread at sending time), a coroutine function that makes them at sending time, after
    the step's transaction (an export: `storage.offloop`), or the id of a file Telegram already
    keeps (evidence)."""

    kind: Literal["document", "photo", "audio", "voice", "video", "video_note", "location"]
    name: str
    data: bytes | None = None
    render: Callable[[], bytes] | None = None
    produce: Callable[[], Awaitable[bytes]] | None = None
    file_id: str | None = None
    caption: str = ""
    #: A shared location (kind "location"): latitude and longitude, no file.
    place: tuple[float, float] | None = None

    async def content(self) -> bytes | str:
        if self.file_id is not None:
            return self.file_id
        if self.data is not None:
            return self.data
        if self.produce is not None:
            return await self.produce()
        assert self.render is not None
        return await asyncio.to_thread(self.render)

    @property
    def short_caption(self) -> str | None:
        return split_message(self.caption, CAPTION_LIMIT)[0] if self.caption else None

    def as_media(self) -> InputMediaPhoto | InputMediaDocument | InputMediaAudio:
        """The file as an item of an album (files Telegram keeps only)."""
        assert self.file_id is not None
        if self.kind == "photo":
            return InputMediaPhoto(self.file_id, caption=self.short_caption)
        if self.kind == "audio":
            return InputMediaAudio(self.file_id, caption=self.short_caption)
        return InputMediaDocument(self.file_id, caption=self.short_caption)


@dataclass(slots=True)
class View:
    """One message: HTML text (everything people typed escaped), rows of buttons, maybe a file."""

    text: str
    buttons: Sequence[Sequence[tuple[str, Button]]] = field(default_factory=list)
    file: OutgoingFile | None = None
    #: Files Telegram keeps, sent after the text: albums of up to 10 photos or documents.
    album: Sequence[OutgoingFile] = ()

    @property
    def markup(self) -> InlineKeyboardMarkup | None:
        if not self.buttons:
            return None
        return InlineKeyboardMarkup(
            [[_inline_button(label, button) for label, button in row] for row in self.buttons]
        )

    def with_notice(self, notice: str) -> View:
        """A confirmation on top of the view it concerns, in one message."""
        return View(f"{notice}\n\n{self.text}", self.buttons, self.file, self.album)


def _inline_button(label: str, button: Button) -> InlineKeyboardButton:
    if isinstance(button, OpenDashboard):
        return InlineKeyboardButton(label, web_app=WebAppInfo(button.url))
    return InlineKeyboardButton(label, callback_data=button.data())


def in_rows(buttons: Sequence[tuple[str, Button]], per_row: int) -> list[ButtonRow]:
    return [list(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]


@dataclass(slots=True)
class Reply:
    """What a step answers: messages (on a button, the first one replaces the pressed message
    unless `edit` is off), the short notice on the button, and what to do once sent."""

    views: list[View] = field(default_factory=list)
    notice: str | None = None
    alert: bool = False
    edit: bool = True
    after: Callable[[], Awaitable[None]] | None = None


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


def refusal(tr: Tr, error: PlanError, *, on_button: bool) -> Reply:
    """Storage said no: an alert on a button, a message otherwise."""
    text = error_text(tr, error)
    return Reply(notice=text, alert=True) if on_button else Reply([View(text)])


def stale_button(tr: Tr) -> Reply:
    return Reply(notice=tr._(STALE_BUTTON))


ALBUM_MAX = 10  # items in one media group (Telegram's limit)


#: Kinds Telegram sends as albums (each kind on its own: it does not mix them).
ALBUM_KINDS = ("photo", "document", "audio")


async def send_album(bot: Bot, chat_id: int, files: Sequence[OutgoingFile]) -> None:
    """Files Telegram keeps, as albums: photos together, documents together and audio files
    together, ten at most each; a lone file, a voice or video note, a video or a place as a
    message of its own."""
    for kind in ALBUM_KINDS:
        group = [f for f in files if f.kind == kind]
        for start in range(0, len(group), ALBUM_MAX):
            chunk = group[start : start + ALBUM_MAX]
            if len(chunk) > 1:
                await bot.send_media_group(chat_id, [f.as_media() for f in chunk])
            else:
                await send_kept(bot, chat_id, chunk[0])
    for item in files:
        if item.kind not in ALBUM_KINDS:
            await send_kept(bot, chat_id, item)


async def send_kept(bot: Bot, chat_id: int, item: OutgoingFile) -> None:
    """One file Telegram keeps (by its id), or a place, with its caption. Video notes and
    places take no caption: it goes as a line of text just before them."""
    caption = item.short_caption
    match item.kind:
        case "photo":
            await bot.send_photo(chat_id, str(item.file_id), caption=caption)
        case "audio":
            await bot.send_audio(chat_id, str(item.file_id), caption=caption)
        case "voice":
            await bot.send_voice(chat_id, str(item.file_id), caption=caption)
        case "video":
            await bot.send_video(chat_id, str(item.file_id), caption=caption)
        case "video_note" | "location":
            if caption:
                await bot.send_message(chat_id, caption)
            if item.place is not None:
                await bot.send_location(chat_id, *item.place)
            elif item.file_id:
                await bot.send_video_note(chat_id, item.file_id)
        case _:
            await bot.send_document(chat_id, str(item.file_id), caption=caption)


async def send_view(bot: Bot, chat_id: int, view: View) -> None:
    """Send a view: its file with the text as caption, or the text as one message or several
    when over Telegram's limit (the buttons go with the last part), then its album."""
    if view.album:
        if view.text:
            await send_view(bot, chat_id, View(view.text, view.buttons))
        await send_album(bot, chat_id, view.album)
        return
    if view.file is not None:
        action = (
            ChatAction.UPLOAD_PHOTO if view.file.kind == "photo" else ChatAction.UPLOAD_DOCUMENT
        )
        await bot.send_chat_action(chat_id, action)
        try:
            data = await view.file.content()
        except FileNotMade as error:
            await bot.send_message(chat_id, error.text)
            return
        caption = split_message(view.text, CAPTION_LIMIT)[0] if view.text else None
        if view.file.kind == "photo":
            await bot.send_photo(
                chat_id, data, caption=caption, filename=view.file.name, reply_markup=view.markup
            )
        else:
            await bot.send_document(
                chat_id, data, caption=caption, filename=view.file.name, reply_markup=view.markup
            )
        return
    parts = split_message(view.text)
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        await bot.send_message(chat_id, part, reply_markup=view.markup if last else None)


async def show(update: Update, bot: Bot, view: View) -> None:
    """Edit the message whose button was pressed; otherwise (or if that fails) send anew."""
    query = update.callback_query
    if (
        query is not None
        and query.message is not None
        and view.file is None
        and not view.album
        and len(split_message(view.text)) == 1
    ):
        try:
            await query.edit_message_text(view.text, reply_markup=view.markup)
            return
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return
            log.info("could not edit message, sending a new one: %s", exc)
    chat = update.effective_chat
    if chat is not None:
        await send_view(bot, chat.id, view)


async def answer(query: CallbackQuery | None, text: str | None = None, alert: bool = False) -> None:
    if query is None:
        return
    try:
        await query.answer(text, show_alert=alert)
    except BadRequest as exc:  # too old to answer: nothing to tell
        log.info("callback answer failed: %s", exc)


async def deliver(update: Update, bot: Bot, reply: Reply) -> None:
    """Send a step's reply: the button's answer and the messages at once. Answering first
    would put a whole round trip to Telegram (hundreds of milliseconds far from its data
    centres) before the message the person waits for; the spinner stops either way."""
    query = update.callback_query
    if query is None:
        await _send_views(update, bot, reply)
        return
    answered = asyncio.ensure_future(answer(query, reply.notice, reply.alert))
    try:
        await _send_views(update, bot, reply)
    finally:
        await answered


async def _send_views(update: Update, bot: Bot, reply: Reply) -> None:
    query = update.callback_query
    chat = update.effective_chat
    for index, view in enumerate(reply.views):
        if index == 0 and query is not None and reply.edit:
            await show(update, bot, view)
        elif chat is not None:
            await send_view(bot, chat.id, view)
    if reply.after is not None:
        await reply.after()


async def deliver_privately(
    update: Update, bot: Bot, reply: Reply, *, answered: str, cannot_write: str
) -> None:
    """A button pressed in a group: the reply's messages go to the presser's private chat (the
    group's message is never edited), then the button is answered (`answered` when the reply
    has no notice of its own); when the bot cannot write to them (they never started it, or
    blocked it) the button's answer says `cannot_write`."""
    query, user = update.callback_query, update.effective_user
    if user is None:
        return
    try:
        for view in reply.views:
            await send_view(bot, user.id, view)
    except (Forbidden, BadRequest) as exc:
        if isinstance(exc, BadRequest) and "chat not found" not in str(exc).lower():
            raise
        log.info("cannot write to %s privately: %s", user.id, exc)
        await answer(query, cannot_write, alert=True)
        return
    notice = reply.notice
    if notice is None and reply.views:
        notice = answered
    await answer(query, notice, reply.alert)
    if reply.after is not None:
        await reply.after()
