"""Follow-up and review conversations: comment, attach evidence, change a status (with its
justification), review. The state lives in the database (`storage.conversations`, states in
`handlers.buttons.State`), so a conversation survives a restart and any bot process can take its
next message. A refused step (too long, wrong file) leaves the state as it was: nothing typed is
lost.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from telegram import Message, Update

from handlers.buttons import (
    FOLLOW_UP_BUTTONS,
    ActionButton,
    CancelStep,
    EvidenceDone,
    ReviewMenu,
    SetReview,
    SetStatus,
    StartComment,
    StartEvidence,
    StartReviewComment,
    State,
    StatusMenu,
    parse_any,
)
from handlers.cards import card_view
from handlers.context import FlowContext, flow
from handlers.i18n import N_
from handlers.labels import review_label, status_label
from handlers.replies import Reply, View, stale_button
from handlers.views import prompt, review_menu, status_menu
from storage.actions import ActionRow, follows_up_what_they_see, may_review, visible_action_row
from storage.conversations import clear_state, get_state, set_state
from storage.errors import PermissionDenied
from storage.followup import (
    ATTACHMENTS_MAX,
    NewAttachment,
    needs_justification,
    post_comment,
    set_review_status,
    set_status,
)
from storage.models import CommentKind, ReviewStatus, Status

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


async def _open_step(context: FlowContext, state: State, data: dict[str, Any]) -> None:
    chat_id, user_id = _where(context)
    await set_state(context.session, chat_id, user_id, state, data, now=context.deps.now())


async def _close_step(context: FlowContext) -> bool:
    return await clear_state(context.session, *_where(context))


def _where(context: FlowContext) -> tuple[int, int]:
    """The conversation's key: the chat and the person (their Telegram id)."""
    return context.chat_id, context.person.telegram_id or 0


# -- buttons ------------------------------------------------------------------------------------


@flow()
async def button_pressed(update: Update, context: FlowContext) -> Reply:
    """A button of an action's card, menus or prompts: start a step, or set a status."""
    button = parse_any(update, *FOLLOW_UP_BUTTONS)
    tr = context.tr
    if isinstance(button, CancelStep):
        return Reply([await _cancelled(context)])
    if not isinstance(button, ActionButton):
        return stale_button(tr)
    action = await visible_action_row(
        context.session, context.person, button.action_id, today=context.deps.today()
    )
    if isinstance(button, StartComment | StartEvidence | StatusMenu | SetStatus | EvidenceDone):
        if not follows_up_what_they_see(context.person):
            raise PermissionDenied("action_not_yours")
    elif not may_review(context.person):
        raise PermissionDenied("review_not_allowed")
    match button:
        case StartComment() | StartEvidence() | StartReviewComment():
            return await _start_comment(context, action, button)
        case StatusMenu():
            return Reply([status_menu(tr, action)])
        case ReviewMenu():
            return Reply([review_menu(tr, action)])
        case EvidenceDone():
            return await _finish_evidence(context, action.id)
        case SetStatus(status=status):
            return await _change_status(context, action, status)
        case SetReview(review=review):
            return await _change_review(context, action, review)
    return stale_button(tr)


async def _start_comment(
    context: FlowContext,
    action: ActionRow,
    button: StartComment | StartEvidence | StartReviewComment,
) -> Reply:
    tr, ref = context.tr, action.ref
    review = isinstance(button, StartReviewComment)
    kind = CommentKind.REVIEW if review else CommentKind.FOLLOW_UP
    await _open_step(
        context, State.COMMENT, {"action": action.id, "kind": kind.value, "attachments": []}
    )
    if isinstance(button, StartEvidence):
        text = tr._(
            "Send the evidence for <b>{ref}</b>: a photo or a document (PDF, Word, "
            "Excel...). You can send several, then press Done.",
            ref=ref,
        )
    elif review:
        text = tr._("Write the secretariat's review comment on <b>{ref}</b>.", ref=ref)
    else:
        text = tr._(
            "Write your comment on <b>{ref}</b>. You can also send a photo or a "
            "document as evidence (its caption is the comment).",
            ref=ref,
        )
    return Reply([prompt(tr, text, action.id, done=isinstance(button, StartEvidence))])


async def _change_status(context: FlowContext, action: ActionRow, status: Status) -> Reply:
    tr = context.tr
    if status == action.status:
        return Reply(
            [await card_view(context, action.id)], notice=tr._("It already has that status.")
        )
    if needs_justification(status):
        await _open_step(context, State.JUSTIFY, {"action": action.id, "status": status.value})
        text = tr._(
            "To mark <b>{ref}</b> as <b>{status}</b>, write a short justification: what "
            "was done, or why it no longer applies.",
            ref=action.ref,
            status=status_label(tr, status),
        )
        return Reply([prompt(tr, text, action.id)])
    deps = context.deps
    await set_status(
        context.session,
        context.person,
        action.id,
        status,
        notify_chat_ids=deps.notify_chat_ids,
        now=deps.now(),
    )
    return Reply(
        [await card_view(context, action.id)],
        notice=tr._("Status changed to {status}.", status=status_label(tr, status)),
    )


async def _change_review(context: FlowContext, action: ActionRow, review: ReviewStatus) -> Reply:
    tr = context.tr
    if review == ReviewStatus.OBSERVED:
        return await start_observation(context, action)
    deps = context.deps
    changed = await set_review_status(
        context.session,
        context.person,
        action.id,
        review,
        notify_chat_ids=deps.notify_chat_ids,
        now=deps.now(),
    )
    notice = (
        tr._("Review recorded: {review}.", review=review_label(tr, review))
        if changed
        else tr._("It already has that review status.")
    )
    return Reply([await card_view(context, action.id)], notice=notice)


async def start_observation(context: FlowContext, action: ActionRow) -> Reply:
    """Open the step that takes the secretariat's observations (the review menu and the review
    queue both start it): the next text records the review "with observations"."""
    tr = context.tr
    await _open_step(context, State.OBSERVE, {"action": action.id})
    text = tr._(
        "Write the observations on <b>{ref}</b> for the people responsible.", ref=action.ref
    )
    return Reply([prompt(tr, text, action.id)])


async def _finish_evidence(context: FlowContext, action_id: int) -> Reply:
    tr = context.tr
    state = await get_state(context.session, *_where(context), now=context.deps.now())
    data = state.data if state is not None and state.state == State.COMMENT else {}
    files = data.get("attachments") or []
    if data.get("action") != action_id or not files:
        return Reply(notice=tr._("There is no evidence to save yet: send a photo or a document."))
    await _save_comment(context, data, "", source_key=None)
    saved = tr.n_("Evidence saved ({n} file).", "Evidence saved ({n} files).", len(files))
    return await _done(context, action_id, saved)


async def _save_comment(
    context: FlowContext,
    data: dict[str, Any],
    text: str,
    *,
    source_key: str | None,
    extra: NewAttachment | None = None,
) -> None:
    deps = context.deps
    attachments = [NewAttachment(**a) for a in data.get("attachments") or []]
    if extra is not None:
        attachments.append(extra)
    await post_comment(
        context.session,
        context.person,
        int(data["action"]),
        text,
        kind=CommentKind(data.get("kind", CommentKind.FOLLOW_UP)),
        attachments=attachments,
        source_key=source_key,
        notify_chat_ids=deps.notify_chat_ids,
        now=deps.now(),
    )


# -- the next message of a step (see handlers.steps) -------------------------------------------


def _source_key(message: Message) -> str:
    """What makes a message's effect happen once, whoever handles it."""
    return f"{message.chat_id}:{message.message_id}"


def _text_of(message: Message) -> str:
    return (message.text or message.caption or "").strip()


async def comment_step(message: Message, context: FlowContext, data: dict[str, Any]) -> Reply:
    """A comment's text, or a file: files without a caption wait for the text or "Done"."""
    tr = context.tr
    text, attachment = _text_of(message), attachment_of(message)
    action_id = int(data.get("action", 0))
    refused = _unacceptable_file(context, message)
    if refused is not None:
        return refused
    if attachment is not None and not text:
        files = list(data.get("attachments") or [])
        if len(files) >= ATTACHMENTS_MAX:
            return Reply([View(tr._("That is as many files as one comment can hold."))])
        await _open_step(
            context, State.COMMENT, {**data, "attachments": [*files, _as_dict(attachment)]}
        )
        received = tr.n_(
            "Evidence received ({n} file). Send more, write a comment to finish, or press Done.",
            "Evidence received ({n} files). Send more, write a comment to finish, or press Done.",
            len(files) + 1,
        )
        return Reply([prompt(tr, received, action_id, done=True)])
    if not text:
        return Reply(
            [View(tr._("Please write the comment as text, or send a photo or a document."))]
        )
    await _save_comment(context, data, text, source_key=_source_key(message), extra=attachment)
    saved = (
        tr._("Review comment saved.")
        if data.get("kind") == CommentKind.REVIEW
        else tr._("Comment saved. The secretariat has been notified.")
    )
    return await _done(context, action_id, saved)


async def justification_step(message: Message, context: FlowContext, data: dict[str, Any]) -> Reply:
    """The justification of a status that needs one (completed, no longer applicable)."""
    text = _written(context, message, N_("Please write the justification as text."))
    if isinstance(text, Reply):
        return text
    status, action_id = Status(data["status"]), int(data["action"])
    await set_status(
        context.session,
        context.person,
        action_id,
        status,
        justification=text,
        source_key=_source_key(message),
        notify_chat_ids=context.deps.notify_chat_ids,
        now=context.deps.now(),
    )
    tr = context.tr
    return await _done(
        context, action_id, tr._("Status changed to {status}.", status=status_label(tr, status))
    )


async def observation_step(message: Message, context: FlowContext, data: dict[str, Any]) -> Reply:
    """The secretariat's observations, recorded with the review "with observations"."""
    text = _written(context, message, N_("Please write the observations as text."))
    if isinstance(text, Reply):
        return text
    action_id = int(data["action"])
    await set_review_status(
        context.session,
        context.person,
        action_id,
        ReviewStatus.OBSERVED,
        comment_text=text,
        source_key=_source_key(message),
        notify_chat_ids=context.deps.notify_chat_ids,
        now=context.deps.now(),
    )
    tr = context.tr
    observed = review_label(tr, ReviewStatus.OBSERVED)
    return await _done(context, action_id, tr._("Review recorded: {review}.", review=observed))


def _written(context: FlowContext, message: Message, missing: str) -> str | Reply:
    """The text a step waits for, or what to answer when there is none."""
    refused = _unacceptable_file(context, message)
    if refused is not None:
        return refused
    return _text_of(message) or Reply([View(context.tr._(missing))])


async def _done(context: FlowContext, action_id: int, notice: str) -> Reply:
    """The step is over: the action's card, with what was done on top."""
    await _close_step(context)
    return Reply([(await card_view(context, action_id)).with_notice(notice)])


def _unacceptable_file(context: FlowContext, message: Message) -> Reply | None:
    """A file that cannot be evidence, refused with the conversation left open."""
    attachment = attachment_of(message)
    if attachment is None or acceptable_evidence(attachment):
        return None
    text = context.tr._(
        "I cannot keep “{name}” as evidence: send a photo, a PDF, or an Office or "
        "OpenDocument file. Your conversation is still open.",
        name=attachment.file_name,
    )
    return Reply([View(text)])


async def _cancelled(context: FlowContext) -> View:
    tr = context.tr
    cleared = await _close_step(context)
    return View(tr._("Cancelled: nothing was saved.") if cleared else tr._("Nothing to cancel."))


@flow()
async def cancel_command(update: Update, context: FlowContext) -> View:
    """/cancelar: leave the open step; nothing of it is saved."""
    return await _cancelled(context)
