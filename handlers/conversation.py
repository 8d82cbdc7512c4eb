"""Follow-up and review conversations: comment, attach evidence, change a status (with its
justification), review. The state lives in the database (`storage.conversations`, states in
`handlers.buttons.State`), so a conversation survives a restart and any bot process can take its
next message. A refused step (too long, wrong file) leaves the state as it was: nothing typed is
lost.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import PurePath
from typing import Any, cast

from telegram import Message, Update
from telegram.ext import JobQueue

from handlers import round_guide
from handlers.action_buttons import (
    FOLLOW_UP_BUTTONS,
    ActionButton,
    AnswerReview,
    EvidenceDone,
    ReviewMenu,
    SetReview,
    SetStatus,
    StartComment,
    StartEvidence,
    StartReviewComment,
    StatusMenu,
)
from handlers.buttons import CancelStep, State, parse_any
from handlers.cards import card_view
from handlers.context import FlowContext, flow
from handlers.i18n import N_, Tr
from handlers.labels import review_label, status_label
from handlers.open_steps import StepKey
from handlers.replies import Reply, View, send_view, stale_button
from handlers.views import prompt, review_menu, status_menu
from storage.actions import ActionRow, follows_up_what_they_see, may_review, visible_action_row
from storage.attachments import SPOKEN, AttachmentKind, describe_attachment, kind_words
from storage.db import transaction
from storage.errors import PermissionDenied
from storage.followup import (
    ATTACHMENTS_MAX,
    COMMENT_MAX_LENGTH,
    JUSTIFICATION_MIN_LENGTH,
    NewAttachment,
    needs_justification,
    post_comment,
    set_review_status,
    set_status,
)
from storage.models import CommentKind, ReviewStatus, Status
from storage.people import get_person

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
    """The file, recording or place a message brings, as it will be stored (None: only text)."""
    if message.photo:
        photo = message.photo[-1]
        return NewAttachment(
            kind=AttachmentKind.PHOTO,
            file_id=photo.file_id,
            file_unique_id=photo.file_unique_id,
            file_name=f"foto_{message.message_id}.jpg",
            mime_type="image/jpeg",
            file_size=photo.file_size,
        )
    if message.location:
        place = message.location
        return NewAttachment(
            kind=AttachmentKind.LOCATION,
            file_id="",
            latitude=place.latitude,
            longitude=place.longitude,
        )
    for kind, media in (
        (AttachmentKind.VOICE, message.voice),
        (AttachmentKind.VIDEO_NOTE, message.video_note),
        (AttachmentKind.AUDIO, message.audio),
        (AttachmentKind.VIDEO, message.video),
    ):
        if media is not None:
            return NewAttachment(
                kind=kind,
                file_id=media.file_id,
                file_unique_id=media.file_unique_id,
                file_name=getattr(media, "file_name", None) or "",
                mime_type=getattr(media, "mime_type", None) or "",
                file_size=media.file_size,
                duration=int(media.duration.total_seconds())
                if isinstance(media.duration, dt.timedelta)
                else media.duration,
            )
    if message.document:
        doc = message.document
        return NewAttachment(
            kind=AttachmentKind.DOCUMENT,
            file_id=doc.file_id,
            file_unique_id=doc.file_unique_id,
            file_name=doc.file_name or "",
            mime_type=doc.mime_type or "",
            file_size=doc.file_size,
        )
    return None


def acceptable_evidence(attachment: NewAttachment) -> bool:
    """Photos, recordings and places always; documents of the kinds offices exchange."""
    if attachment.kind != AttachmentKind.DOCUMENT:
        return True
    suffix = PurePath(attachment.file_name.lower()).suffix
    return suffix in EVIDENCE_EXTENSIONS and (
        not attachment.mime_type
        or attachment.mime_type.startswith(EVIDENCE_TYPES)
        or attachment.mime_type == "application/octet-stream"
    )


def _as_dict(attachment: NewAttachment) -> dict[str, Any]:
    return asdict(attachment)


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
    if isinstance(
        button, StartComment | StartEvidence | StatusMenu | SetStatus | EvidenceDone | AnswerReview
    ):
        if not follows_up_what_they_see(context.person):
            raise PermissionDenied("action_not_yours")
    elif not may_review(context.person):
        raise PermissionDenied("review_not_allowed")
    match button:
        case StartComment() | StartEvidence() | StartReviewComment():
            return await _start_comment(context, action, button)
        case AnswerReview(comment_id=comment_id):
            return await _start_answer(context, action, comment_id)
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
    data: dict[str, Any] = {"action": action.id, "kind": kind.value, "attachments": []}
    evidence = isinstance(button, StartEvidence)
    await context.step.open(State.COMMENT, data | ({"evidence": True} if evidence else {}))
    if evidence:
        text = tr._(
            "Send the evidence for <b>{ref}</b>: a photo, a document (PDF, Word, Excel...), "
            "a recording or your location. You can send several, then press Done.",
            ref=ref,
        )
    elif review:
        text = tr._("Write the secretariat's review comment on <b>{ref}</b>.", ref=ref)
    else:
        text = tr._(
            "Write your comment on <b>{ref}</b>, or send a voice note. You can also send a "
            "photo, a document or your location as evidence (its caption is the comment).",
            ref=ref,
        )
    return Reply([prompt(tr, text, action.id, done=isinstance(button, StartEvidence))])


async def _start_answer(context: FlowContext, action: ActionRow, comment_id: int) -> Reply:
    """Answer the secretariat: a follow-up comment linked to its observation."""
    data = {"action": action.id, "kind": CommentKind.FOLLOW_UP.value, "attachments": []}
    await context.step.open(State.COMMENT, data | {"answers": comment_id})
    text = context.tr._(
        "Write your answer to the secretariat's observations on <b>{ref}</b>. You can also send "
        "a photo or a document as evidence (its caption is the answer).",
        ref=action.ref,
    )
    return Reply([prompt(context.tr, text, action.id)], edit=False)


async def _change_status(context: FlowContext, action: ActionRow, status: Status) -> Reply:
    tr = context.tr
    if status == action.status:
        return Reply(
            [await card_view(context, action.id)], notice=tr._("It already has that status.")
        )
    if needs_justification(status):
        await context.step.open(State.JUSTIFY, {"action": action.id, "status": status.value})
        text = tr._(
            "To mark <b>{ref}</b> as <b>{status}</b>, write a short justification: what "
            "was done, or why it no longer applies ({least} to {most} characters).",
            ref=action.ref,
            status=status_label(tr, status),
            least=tr.number(JUSTIFICATION_MIN_LENGTH),
            most=tr.number(COMMENT_MAX_LENGTH),
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
    await context.step.open(State.OBSERVE, {"action": action.id})
    text = tr._(
        "Write the observations on <b>{ref}</b> for the people responsible.", ref=action.ref
    )
    return Reply([prompt(tr, text, action.id)])


async def _finish_evidence(context: FlowContext, action_id: int) -> Reply:
    tr = context.tr
    state = await context.step.current()
    data = state.data if state is not None and state.state == State.COMMENT else {}
    files = data.get("attachments") or []
    if data.get("action") != action_id or not files:
        return Reply(notice=tr._("There is no evidence to save yet: send a photo or a document."))
    await _save_comment(context, data, "", source_key=None)
    saved = tr.n_("Evidence saved ({n} file).", "Evidence saved ({n} files).", len(files))
    return await _done(context, action_id, saved, data)


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
        answers=data.get("answers"),
        notify_chat_ids=deps.notify_chat_ids,
        now=deps.now(),
    )


# -- the next message of a step (see handlers.steps) -------------------------------------------


def _source_key(message: Message) -> str:
    """What makes a message's effect happen once, whoever handles it."""
    return f"{message.chat_id}:{message.message_id}"


def _text_of(message: Message) -> str:
    return (message.text or message.caption or "").strip()


async def comment_step(
    message: Message, context: FlowContext, data: dict[str, Any]
) -> Reply | None:
    """A comment's text, or a file: files without a caption wait for the text or "Done"; the
    files of an album (sent together) are gathered first, then taken as one."""
    tr = context.tr
    text, attachment = _text_of(message), attachment_of(message)
    action_id = int(data.get("action", 0))
    refused = _unacceptable_file(context, message)
    if refused is not None:
        return refused
    if attachment is not None and _speaks_for_itself(attachment, text, data):
        await _save_comment(context, data, "", source_key=_source_key(message), extra=attachment)
        await context.step.open(State.COMMENT, {**data, "attachments": []})
        notice = tr._(
            "{what} saved as your comment; the secretariat has been notified. You can write a "
            "text to add to it.",
            what=describe_attachment(
                attachment.kind, "", duration=attachment.duration, words=kind_words(tr.raw)
            ),
        )
        return Reply([(await card_view(context, action_id)).with_notice(notice)])
    if attachment is not None and (text == "" or message.media_group_id):
        files = list(data.get("attachments") or [])
        if len(files) >= ATTACHMENTS_MAX:
            return Reply([View(tr._("That is as many files as one comment can hold."))])
        data = {**data, "attachments": [*files, _as_dict(attachment)]}
        if message.media_group_id and context.job_queue is not None:
            await _album_item(message, context, data, text)
            return None  # answered once the whole album is in (`finish_album`)
        await context.step.open(State.COMMENT, data)
        if attachment.kind == AttachmentKind.LOCATION:
            place = tr._(
                "📍 Field visit location received. Write a comment to finish, or press Done."
            )
            return Reply([prompt(tr, place, action_id, done=True)])
        return Reply([_files_received(tr, action_id, len(files) + 1)])
    if not text:
        return Reply(
            [View(tr._("Please write the comment as text, or send a photo or a document."))]
        )
    await _save_comment(context, data, text, source_key=_source_key(message), extra=attachment)
    return await _done(context, action_id, _saved_text(tr, data), data)


def _speaks_for_itself(attachment: NewAttachment, text: str, data: dict[str, Any]) -> bool:
    """A voice or video note sent alone on a comment is the comment: saved at once (nothing to
    lose if the person walks away), with the step left open for a text after it. With files
    waiting, or when evidence was asked for, it waits with them for "Done" like any file."""
    return (
        attachment.kind in SPOKEN
        and not text
        and not data.get("attachments")
        and not data.get("evidence")
    )


def _files_received(tr: Tr, action_id: int, count: int) -> View:
    received = tr.n_(
        "Evidence received ({n} file). Send more, write a comment to finish, or press Done.",
        "Evidence received ({n} files). Send more, write a comment to finish, or press Done.",
        count,
    )
    return prompt(tr, received, action_id, done=True)


@dataclass(frozen=True, slots=True)
class AlbumKey:
    """Whose album: the chat, the person (Telegram id) and Telegram's media group id."""

    chat_id: int
    user_id: int
    group: str


async def _album_item(
    message: Message, context: FlowContext, data: dict[str, Any], caption: str
) -> None:
    """A file of an album: kept with the others; its caption (on any one of them) is the
    comment's text. The album is taken as a whole once Telegram has had time to deliver it."""
    group = str(message.media_group_id)
    first = data.get("album") != group
    data["album"] = group
    if caption:
        data["album_text"] = caption
    await context.step.open(State.COMMENT, data)
    jobs = cast(JobQueue[FlowContext] | None, context.job_queue)
    if first and jobs is not None:
        key = AlbumKey(context.chat_id, context.person.telegram_id or 0, group)
        jobs.run_once(
            finish_album, context.deps.album_wait, data=key, name=f"album {key.chat_id} {group}"
        )


async def finish_album(context: FlowContext) -> None:
    """The album is in: one comment with all its files when one of them had a caption, else
    the prompt for its text (as for files sent one by one)."""
    assert context.job is not None
    key = cast(AlbumKey, context.job.data)
    deps = context.deps
    async with transaction(deps.sessions) as session:
        person = await get_person(session, key.user_id, active_only=True)
        step = StepKey(session, key.chat_id, key.user_id, deps.now(), deps.step_ttl)
        state = await step.current()
        if person is None or state is None or state.data.get("album") != key.group:
            return  # answered already (a text came), cancelled, or moved on
        context.person, context.known_person, context.account = person, person, person
        context.session = session
        context.tr, context.chat_id, context.step = deps.tr(person.language), key.chat_id, step
        data = dict(state.data)
        action_id = int(data.get("action", 0))
        if data.get("album_text"):
            source = f"{key.chat_id}:album:{key.group}"
            await _save_comment(context, data, str(data["album_text"]), source_key=source)
            reply = await _done(context, action_id, _saved_text(context.tr, data), data)
        else:
            await step.open(State.COMMENT, {k: v for k, v in data.items() if k != "album"})
            files = len(data.get("attachments") or [])
            reply = Reply([_files_received(context.tr, action_id, files)])
    for view in reply.views:
        await send_view(context.bot, key.chat_id, view)


def _saved_text(tr: Tr, data: dict[str, Any]) -> str:
    if data.get("kind") == CommentKind.REVIEW:
        return tr._("Review comment saved.")
    return tr._("Comment saved. The secretariat has been notified.")


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
        context,
        action_id,
        tr._("Status changed to {status}.", status=status_label(tr, status)),
        data,
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


async def _done(
    context: FlowContext, action_id: int, notice: str, data: dict[str, Any] | None = None
) -> Reply:
    """The step is over: the action's card, with what was done on top (in a reporting
    round's guided sequence, the next action instead)."""
    await context.step.close()
    if data and data.get("round"):
        return await round_guide.after_step(context, int(data["round"]), action_id, notice)
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
    """Leave the open step; back to its action's card, when it had one."""
    tr = context.tr
    state = await context.step.current()
    if state is None:
        return View(tr._("Nothing to cancel."))
    await context.step.close()
    cancelled = tr._("Cancelled: nothing was saved.")
    action_id = int(state.data.get("action") or 0)
    if not action_id:
        return View(cancelled)
    if state.data.get("round"):
        return await round_guide.back_to(context, int(state.data["round"]), action_id, cancelled)
    return (await card_view(context, action_id)).with_notice(cancelled)


@flow()
async def cancel_command(update: Update, context: FlowContext) -> View:
    """/cancelar: leave the open step; nothing of it is saved."""
    return await _cancelled(context)
