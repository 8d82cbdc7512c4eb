"""Follow-up and review conversations: comment, attach evidence, change a status (with its
justification), review. The state lives in the database (`storage.conversations`), so a
conversation survives a restart and any bot process can take its next message.

States: `comment` {action, kind, attachments}, `justify` {action, status}, `observe` {action}.
A refused step (too long, wrong file) leaves the state as it was: nothing typed is lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Message, Update
from telegram.constants import ChatType
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from handlers.browse import card_view
from handlers.common import current_person, get_deps, tr_for, unit_of_work
from handlers.i18n import Tr
from handlers.labels import review_label, status_label
from handlers.onboarding import tell_stranger
from handlers.replies import STALE_BUTTON, answer, error_text, send_view, show
from handlers.views import REVIEW_CODES, STATUS_CODES, View, prompt, review_menu, status_menu
from storage.actions import follows_up_what_they_see, may_review, visible_action_row
from storage.conversations import clear_state, get_state, set_state
from storage.errors import PermissionDenied, PlanError
from storage.followup import (
    ATTACHMENTS_MAX,
    NewAttachment,
    needs_justification,
    post_comment,
    set_review_status,
    set_status,
)
from storage.models import CommentKind, Person, ReviewStatus, Status

CALLBACK = re.compile(r"^(c|e|s|d|v|vc):(\d{1,12})$|^(ss|vs):(\d{1,12}):([a-z])$|^x$")
EVIDENCE_TYPES = (
    "image/",
    "application/pdf",
    "text/plain",
    "text/csv",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.",
    "application/vnd.ms-",
    "application/vnd.oasis.opendocument.",
)
EVIDENCE_EXTENSIONS = {
    ".pdf",
    ".jpg",
    ".jpeg",
    ".png",
    ".gif",
    ".webp",
    ".heic",
    ".txt",
    ".csv",
    ".doc",
    ".docx",
    ".xls",
    ".xlsx",
    ".ppt",
    ".pptx",
    ".odt",
    ".ods",
    ".odp",
}


@dataclass
class Step:
    """What a step decided: texts to send after the transaction, and the state to keep."""

    views: list[View] = field(default_factory=list)
    notice: str | None = None
    alert: bool = False


def attachment_of(message: Message) -> NewAttachment | None:
    if message.photo:
        photo = message.photo[-1]
        return NewAttachment(
            kind="photo",
            file_id=photo.file_id,
            file_unique_id=photo.file_unique_id,
            file_name=f"foto_{message.message_id}.jpg",
            mime_type="image/jpeg",
            file_size=photo.file_size,
        )
    if message.document:
        doc = message.document
        return NewAttachment(
            kind="document",
            file_id=doc.file_id,
            file_unique_id=doc.file_unique_id,
            file_name=doc.file_name or "",
            mime_type=doc.mime_type or "",
            file_size=doc.file_size,
        )
    return None


def acceptable_evidence(attachment: NewAttachment) -> bool:
    if attachment.kind == "photo":
        return True
    suffix = PurePath(attachment.file_name.lower()).suffix
    return suffix in EVIDENCE_EXTENSIONS and (
        not attachment.mime_type
        or attachment.mime_type.startswith(EVIDENCE_TYPES)
        or attachment.mime_type == "application/octet-stream"
    )


def _as_dict(attachment: NewAttachment) -> dict[str, Any]:
    return {
        "kind": attachment.kind,
        "file_id": attachment.file_id,
        "file_unique_id": attachment.file_unique_id,
        "file_name": attachment.file_name,
        "mime_type": attachment.mime_type,
        "file_size": attachment.file_size,
    }


async def _card(session: AsyncSession, context, person: Person, tr: Tr, action_id: int) -> View:  # type: ignore[no-untyped-def]
    return await card_view(session, context, person, tr, action_id)


# -- buttons ------------------------------------------------------------------------------------


async def button_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    chat = update.effective_chat
    assert chat is not None
    match = CALLBACK.match(query.data or "")
    step = Step()
    async with unit_of_work(context) as session:
        person = await current_person(session, update)
        tr = tr_for(context, person, update.effective_user)
        if person is not None:
            if match is None:
                step.notice = tr._(STALE_BUTTON)
            else:
                try:
                    step = await _on_button(session, context, person, tr, chat.id, match)
                except PlanError as error:
                    step = Step(notice=error_text(tr, error), alert=True)
    if person is None:
        await tell_stranger(update, context)
        return
    await answer(query, step.notice, alert=step.alert)
    for index, view in enumerate(step.views):
        if index == 0:
            await show(update, context, view)
        else:
            await send_view(context, chat.id, view)


async def _on_button(
    session: AsyncSession,
    context: ContextTypes.DEFAULT_TYPE,
    person: Person,
    tr: Tr,
    chat_id: int,
    match: re.Match[str],
) -> Step:
    deps = get_deps(context)
    user_id = person.telegram_id or 0
    if match[0] == "x":
        cleared = await clear_state(session, chat_id, user_id)
        text = tr._("Cancelled: nothing was saved.") if cleared else tr._("Nothing to cancel.")
        return Step([View(text)])
    if match[1]:
        kind, action_id = match[1], int(match[2])
    else:
        kind, action_id = match[3], int(match[4])
    action = await visible_action_row(session, person, action_id, today=deps.today())
    ref = action.ref
    if kind in ("c", "e", "s", "d", "ss") and not follows_up_what_they_see(person):
        raise PermissionDenied("action_not_yours")
    if kind in ("v", "vc", "vs") and not may_review(person):
        raise PermissionDenied("review_not_allowed")
    if kind in ("c", "e", "vc"):
        comment_kind = CommentKind.REVIEW if kind == "vc" else CommentKind.FOLLOW_UP
        await set_state(
            session,
            chat_id,
            user_id,
            "comment",
            {"action": action.id, "kind": comment_kind.value, "attachments": []},
            now=deps.now(),
        )
        if kind == "e":
            text = tr._(
                "Send the evidence for <b>{ref}</b>: a photo or a document (PDF, Word, "
                "Excel...). You can send several, then press Done.",
                ref=ref,
            )
        elif kind == "vc":
            text = tr._("Write the secretariat's review comment on <b>{ref}</b>.", ref=ref)
        else:
            text = tr._(
                "Write your comment on <b>{ref}</b>. You can also send a photo or a "
                "document as evidence (its caption is the comment).",
                ref=ref,
            )
        return Step([prompt(tr, text, action.id, done=kind == "e")])
    if kind == "s":
        return Step([status_menu(tr, action)])
    if kind == "v":
        return Step([review_menu(tr, action)])
    if kind == "d":
        return await _finish_evidence(session, context, person, tr, chat_id, action.id)
    if kind == "ss":
        status = STATUS_CODES.get(match[5])
        if status is None:
            return Step(notice=tr._(STALE_BUTTON))
        if status == action.status:
            return Step(
                [await _card(session, context, person, tr, action.id)],
                notice=tr._("It already has that status."),
            )
        if needs_justification(status):
            await set_state(
                session,
                chat_id,
                user_id,
                "justify",
                {"action": action.id, "status": status.value},
                now=deps.now(),
            )
            text = tr._(
                "To mark <b>{ref}</b> as <b>{status}</b>, write a short justification: what "
                "was done, or why it no longer applies.",
                ref=ref,
                status=status_label(tr, status),
            )
            return Step([prompt(tr, text, action.id)])
        await set_status(
            session, person, action.id, status, notify_chat_ids=deps.notify_chat_ids, now=deps.now()
        )
        return Step(
            [await _card(session, context, person, tr, action.id)],
            notice=tr._("Status changed to {status}.", status=status_label(tr, status)),
        )
    review = REVIEW_CODES.get(match[5] or "")
    if review is None:
        return Step(notice=tr._(STALE_BUTTON))
    if review == ReviewStatus.OBSERVED:
        await set_state(session, chat_id, user_id, "observe", {"action": action.id}, now=deps.now())
        text = tr._("Write the observations on <b>{ref}</b> for the people responsible.", ref=ref)
        return Step([prompt(tr, text, action.id)])
    changed = await set_review_status(
        session, person, action.id, review, notify_chat_ids=deps.notify_chat_ids, now=deps.now()
    )
    notice = (
        tr._("Review recorded: {review}.", review=review_label(tr, review))
        if changed
        else tr._("It already has that review status.")
    )
    return Step([await _card(session, context, person, tr, action.id)], notice=notice)


async def _finish_evidence(
    session: AsyncSession,
    context: ContextTypes.DEFAULT_TYPE,
    person: Person,
    tr: Tr,
    chat_id: int,
    action_id: int,
) -> Step:
    state = await get_state(session, chat_id, person.telegram_id or 0, now=get_deps(context).now())
    files = (state.data.get("attachments") or []) if state and state.state == "comment" else []
    if state is None or state.data.get("action") != action_id or not files:
        return Step(notice=tr._("There is no evidence to save yet: send a photo or a document."))
    await _save_comment(session, context, person, state.data, "", source_key=None)
    await clear_state(session, chat_id, person.telegram_id or 0)
    return Step(
        [
            with_notice(
                tr.n_("Evidence saved ({n} file).", "Evidence saved ({n} files).", len(files)),
                await _card(session, context, person, tr, action_id),
            )
        ],
    )


async def _save_comment(
    session: AsyncSession,
    context: ContextTypes.DEFAULT_TYPE,
    person: Person,
    data: dict[str, Any],
    text: str,
    *,
    source_key: str | None,
    extra: NewAttachment | None = None,
) -> None:
    deps = get_deps(context)
    attachments = [NewAttachment(**a) for a in data.get("attachments") or []]
    if extra is not None:
        attachments.append(extra)
    await post_comment(
        session,
        person,
        int(data["action"]),
        text,
        kind=CommentKind(data.get("kind", CommentKind.FOLLOW_UP)),
        attachments=attachments,
        source_key=source_key,
        notify_chat_ids=deps.notify_chat_ids,
        now=deps.now(),
    )


# -- messages -----------------------------------------------------------------------------------


async def message_received(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any text, photo or document that is not a command: the next step of a conversation."""
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    if message is None or chat is None or user is None:
        return
    step: Step | None = None
    async with unit_of_work(context) as session:
        person = await current_person(session, update)
        tr = tr_for(context, person, user)
        if person is not None:
            state = await get_state(session, chat.id, user.id, now=get_deps(context).now())
            if state is not None:
                try:
                    step = await _continue(session, context, person, tr, state, message)
                except PlanError as error:
                    step = Step([View(error_text(tr, error))])
    if person is None:
        if chat.type == ChatType.PRIVATE:
            await tell_stranger(update, context)
        return
    if step is None:
        if chat.type == ChatType.PRIVATE:
            await context.bot.send_message(
                chat.id,
                tr._("I did not understand that. Use /acciones to see your actions, or /ayuda."),
            )
        return
    for view in step.views:
        await send_view(context, chat.id, view)


async def _continue(
    session: AsyncSession,
    context: ContextTypes.DEFAULT_TYPE,
    person: Person,
    tr: Tr,
    state,  # type: ignore[no-untyped-def]
    message: Message,
) -> Step:
    deps = get_deps(context)
    chat_id, user_id = message.chat_id, person.telegram_id or 0
    data = dict(state.data)
    action_id = int(data.get("action", 0))
    text = (message.text or message.caption or "").strip()
    attachment = attachment_of(message)
    source_key = f"{chat_id}:{message.message_id}"
    if attachment is not None and not acceptable_evidence(attachment):
        return Step(
            [
                View(
                    tr._(
                        "I cannot keep “{name}” as evidence: send a photo, a PDF, or an Office or "
                        "OpenDocument file. Your conversation is still open.",
                        name=attachment.file_name,
                    )
                )
            ]
        )
    if state.state == "comment":
        if attachment is not None and not text:
            files = list(data.get("attachments") or [])
            if len(files) >= ATTACHMENTS_MAX:
                return Step([View(tr._("That is as many files as one comment can hold."))])
            files.append(_as_dict(attachment))
            data["attachments"] = files
            await set_state(session, chat_id, user_id, "comment", data, now=deps.now())
            text_view = tr.n_(
                "Evidence received ({n} file). Send more, write a comment to finish, or press "
                "Done.",
                "Evidence received ({n} files). Send more, write a comment to finish, or press "
                "Done.",
                len(files),
            )
            return Step([prompt(tr, text_view, action_id, done=True)])
        if not text:
            return Step(
                [View(tr._("Please write the comment as text, or send a photo or a document."))]
            )
        await _save_comment(
            session, context, person, data, text, source_key=source_key, extra=attachment
        )
        await clear_state(session, chat_id, user_id)
        saved = (
            tr._("Review comment saved.")
            if data.get("kind") == CommentKind.REVIEW
            else tr._("Comment saved. The secretariat has been notified.")
        )
        return Step([with_notice(saved, await _card(session, context, person, tr, action_id))])
    if state.state == "justify":
        if not text:
            return Step([View(tr._("Please write the justification as text."))])
        status = Status(data["status"])
        await set_status(
            session,
            person,
            action_id,
            status,
            justification=text,
            source_key=source_key,
            notify_chat_ids=deps.notify_chat_ids,
            now=deps.now(),
        )
        await clear_state(session, chat_id, user_id)
        done = tr._("Status changed to {status}.", status=status_label(tr, status))
        return Step([with_notice(done, await _card(session, context, person, tr, action_id))])
    if state.state == "observe":
        if not text:
            return Step([View(tr._("Please write the observations as text."))])
        await set_review_status(
            session,
            person,
            action_id,
            ReviewStatus.OBSERVED,
            comment_text=text,
            source_key=source_key,
            notify_chat_ids=deps.notify_chat_ids,
            now=deps.now(),
        )
        await clear_state(session, chat_id, user_id)
        done = tr._("Review recorded: {review}.", review=review_label(tr, ReviewStatus.OBSERVED))
        return Step([with_notice(done, await _card(session, context, person, tr, action_id))])
    await clear_state(session, chat_id, user_id)
    return Step([View(tr._("That conversation had expired. Please start again."))])


async def cancel_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    async with unit_of_work(context) as session:
        person = await current_person(session, update)
        cleared = await clear_state(session, chat.id, user.id) if person else False
    if person is None:
        await tell_stranger(update, context)
        return
    tr = tr_for(context, person, user)
    text = tr._("Cancelled: nothing was saved.") if cleared else tr._("Nothing to cancel.")
    await context.bot.send_message(chat.id, text)


async def unknown_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button no flow knows (forged, or from an old version of the bot)."""
    async with unit_of_work(context) as session:
        person = await current_person(session, update)
    if person is None:
        await tell_stranger(update, context)
        return
    await answer(
        update.callback_query, tr_for(context, person, update.effective_user)._(STALE_BUTTON)
    )


def with_notice(notice: str, view: View) -> View:
    """A confirmation on top of the card it concerns, in one message."""
    return View(f"{notice}\n\n{view.text}", view.buttons)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler(["cancelar", "cancel"], cancel_command))
    application.add_handler(
        CallbackQueryHandler(button_pressed, pattern=r"^(?:(?:c|e|s|d|v|vc|ss|vs):|x$)")
    )
    application.add_handler(
        MessageHandler(
            (filters.TEXT & ~filters.COMMAND) | filters.PHOTO | filters.Document.ALL,
            message_received,
        )
    )
