"""Follow-up and review: comments, status changes, and their notifications.

Every change writes its outbox rows in the same transaction (the caller commits), so a change is
never stored without its notifications nor notified without being stored.

Comments and status changes are written with plain INSERT statements, and the action they
change with a plain UPDATE, on PostgreSQL in one statement with the read of who is notified
(`storage.followup_writes`, which says why). What they return are records of what was stored
(`PostedComment`, `RecordedChange`), not ORM objects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.actions import follows_up_what_they_see, may_review, require_visible_with_label
from storage.chats import notice_chats_among
from storage.errors import InvalidInput, PermissionDenied
from storage.followup_writes import RECIPIENTS, Written, insert_changes, insert_comment
from storage.models import (
    CLOSED_STATUSES,
    Attachment,
    Comment,
    CommentKind,
    KeyAction,
    NotifyMode,
    OutboxMessage,
    Person,
    ReviewStatus,
    Role,
    Status,
    action_ref,
    action_units,
    person_units,
    table_of,
    utcnow,
)
from storage.round_answers import note_update
from storage.text import is_blank, without_bidi_controls

COMMENT_MAX_LENGTH = 3000
JUSTIFICATION_MIN_LENGTH = 3
NOTIFY_TEXT_LENGTH = 600
ATTACHMENTS_MAX = 10


@dataclass(frozen=True, slots=True)
class NewAttachment:
    kind: str  # an `AttachmentKind`
    file_id: str  # empty for a location
    file_unique_id: str = ""
    file_name: str = ""
    mime_type: str = ""
    file_size: int | None = None
    duration: int | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, slots=True)
class PostedComment:
    """A comment as stored."""

    id: int
    action_id: int
    kind: str
    text: str
    source_key: str | None
    created_at: dt.datetime
    attachments: tuple[NewAttachment, ...] = ()


@dataclass(frozen=True, slots=True)
class RecordedChange:
    """A status change as stored (the first one, when a change resets the review too)."""

    id: int
    action_id: int
    field: str
    old_value: str
    new_value: str
    comment_id: int | None
    created_at: dt.datetime


def clean_text(text: str | None) -> str:
    """Text as stored: without bidirectional controls, trimmed; empty when it shows nothing
    (only invisible or control characters)."""
    cleaned = without_bidi_controls(text or "").strip()
    return "" if is_blank(cleaned) else cleaned


def _check_text(text: str, *, required: bool) -> None:
    if len(text) > COMMENT_MAX_LENGTH:
        raise InvalidInput("comment_too_long", length=len(text), limit=COMMENT_MAX_LENGTH)
    if required and not text:
        raise InvalidInput("comment_empty")


_COMMENT_BY_KEY = select(
    Comment.id,
    Comment.action_id,
    Comment.kind,
    Comment.text,
    Comment.source_key,
    Comment.created_at,
).where(Comment.source_key == bindparam("source_key"))


async def _existing(session: AsyncSession, source_key: str | None) -> PostedComment | None:
    """The comment posted before under this source key, if any (its attachments not read)."""
    if not source_key:
        return None
    row = (await session.execute(_COMMENT_BY_KEY, {"source_key": source_key})).one_or_none()
    return PostedComment(*row) if row is not None else None


async def notification_chats(
    session: AsyncSession, extra_chat_ids: Sequence[int], author: Person | None
) -> list[tuple[int, bool]]:
    """(chat id, digest?) of everyone to notify of a change: the secretariat chats from the
    settings and those linked from inside (storage.chats), plus registered secretariat members
    and coordinators who asked for notices. One statement: the chats and the people are read
    together (UNION ALL), a round trip less on every change."""
    setting_ids = list(extra_chat_ids)
    rows = (await session.execute(RECIPIENTS, {"setting_ids": setting_ids})).all()
    return _chats_to_notify([tuple(row) for row in rows], setting_ids, author)


def _chats_to_notify(
    rows: list[tuple[Any, ...]], setting_ids: list[int], author: Person | None
) -> list[tuple[int, bool]]:
    """`notification_chats` from `RECIPIENTS`' rows, however they were read."""
    chat_rows = [(row[0], row[1], row[2], row[3]) for row in rows if row[4] is None]
    chats = dict.fromkeys(notice_chats_among(chat_rows, setting_ids), False)
    for telegram_id, *_, mode in rows:
        if mode is not None and telegram_id is not None:
            chats.setdefault(telegram_id, mode == NotifyMode.DIGEST)
    if author is not None and author.telegram_id in chats:
        del chats[author.telegram_id]
    return sorted(chats.items())


async def _review_comment_of(session: AsyncSession, action_id: int, comment_id: int) -> int | None:
    """`comment_id`, if it is a review comment on this action."""
    found: int | None = await session.scalar(
        select(Comment.id).where(
            Comment.id == comment_id,
            Comment.action_id == action_id,
            Comment.kind == CommentKind.REVIEW.value,
        )
    )
    return found


_FOCAL_POINTS_OF_ACTION = (
    select(Person.telegram_id)
    .distinct()
    .join(person_units, person_units.c.person_id == Person.id)
    .join(action_units, action_units.c.unit_id == person_units.c.unit_id)
    .where(
        action_units.c.action_id == bindparam("action_id"),
        Person.role == Role.FOCAL.value,
        Person.active.is_(True),
        Person.telegram_id.is_not(None),
    )
)

#: What the secretariat says that the field hears: its verdicts and its comments.
VERDICTS = (ReviewStatus.VALIDATED.value, ReviewStatus.OBSERVED.value)


def _is_verdict(kind: str, payload: dict[str, Any]) -> bool:
    if kind == "review_comment":
        return True
    return kind == "review_status" and payload.get("new") in VERDICTS


async def _verdict_rows(session: AsyncSession, action_id: int, author: Person | None) -> list[int]:
    """The focal points of the action's units (the author aside), who hear the verdict."""
    ids = await session.scalars(_FOCAL_POINTS_OF_ACTION, {"action_id": action_id})
    return [i for i in ids.all() if i is not None and (author is None or i != author.telegram_id)]


async def _enqueue(
    session: AsyncSession,
    action: KeyAction,
    label: str,
    author: Person | None,
    kind: str,
    payload: dict[str, Any],
    extra_chat_ids: Sequence[int],
    now: dt.datetime,
    recipients: list[tuple[Any, ...]] | None = None,
) -> None:
    """Write the notices of a change. `recipients`: `RECIPIENTS`' rows if they were read with
    the change (PostgreSQL), else they are read here."""
    body = {
        "action_id": action.id,
        "plan_id": action.plan_id,
        "ref": action_ref(label, action.number),
        "action_text": action.text[:NOTIFY_TEXT_LENGTH],
        "author": author.name if author else "",
        "author_role": author.role if author else "",
        **payload,
    }
    chats = (
        await notification_chats(session, extra_chat_ids, author)
        if recipients is None
        else _chats_to_notify(recipients, list(extra_chat_ids), author)
    )
    to_notify = [(chat_id, kind, digest) for chat_id, digest in chats]
    if _is_verdict(kind, payload):
        verdict = "verdict"
        to_notify += [
            (chat_id, verdict, False) for chat_id in await _verdict_rows(session, action.id, author)
        ]
    rows = [
        {
            "chat_id": chat_id,
            "kind": row_kind,
            "payload": body,
            "digest": digest,
            "created_at": now,
            "available_at": now,
            "attempts": 0,
        }
        for chat_id, row_kind, digest in to_notify
    ]
    if rows:  # one INSERT for all of them, no ORM objects: nobody reads them back here
        await session.execute(insert(table_of(OutboxMessage)), rows)


def _comment_payload(comment: PostedComment) -> dict[str, Any]:
    return {
        "comment_id": comment.id,
        "comment": comment.text[:NOTIFY_TEXT_LENGTH],
        "comment_truncated": len(comment.text) > NOTIFY_TEXT_LENGTH,
        "attachments": [_attachment_payload(a) for a in comment.attachments],
    }


def _attachment_payload(attachment: NewAttachment) -> dict[str, Any]:
    """What a notice says of a file: its kind and name, and a recording's length or a place."""
    extra = {
        "duration": attachment.duration,
        "latitude": attachment.latitude,
        "longitude": attachment.longitude,
    }
    return {"kind": attachment.kind, "name": attachment.file_name} | {
        key: value for key, value in extra.items() if value is not None
    }


async def post_comment(
    session: AsyncSession,
    person: Person,
    action_id: int,
    text: str | None,
    *,
    kind: CommentKind = CommentKind.FOLLOW_UP,
    attachments: Sequence[NewAttachment] = (),
    source_key: str | None = None,
    answers: int | None = None,
    notify_chat_ids: Sequence[int],
    now: dt.datetime | None = None,
) -> PostedComment:
    """Add a comment (text and/or evidence). The same `source_key` twice posts it once.

    `answers` is the secretariat's comment (an observation) this one answers: it must be a
    review comment on the same action, else the comment stands on its own."""
    now = now or utcnow()
    action, label = await require_visible_with_label(session, person, action_id)
    if kind == CommentKind.FOLLOW_UP and not follows_up_what_they_see(person):
        raise PermissionDenied("action_not_yours", action_id=action_id)
    if kind == CommentKind.REVIEW and not may_review(person):
        raise PermissionDenied("review_not_allowed")
    body = clean_text(text)
    _check_text(body, required=not attachments)
    if len(attachments) > ATTACHMENTS_MAX:
        raise InvalidInput("too_many_attachments", limit=ATTACHMENTS_MAX)
    answered = await _review_comment_of(session, action.id, answers) if answers else None
    touched = {"last_update_at": now} if kind == CommentKind.FOLLOW_UP else {}
    written = await _insert_comment(
        session,
        action,
        person,
        kind,
        body,
        source_key,
        now,
        answered,
        touch=touched,
        notify_chat_ids=notify_chat_ids,
    )
    if not written.rows:  # posted before under the same source key
        existing = await _existing(session, source_key)
        assert existing is not None
        return existing
    comment_id = written.rows[0][0]
    files = [
        {
            "comment_id": comment_id,
            "kind": a.kind,
            "file_id": a.file_id,
            "file_unique_id": a.file_unique_id,
            "file_name": a.file_name,
            "mime_type": a.mime_type,
            "file_size": a.file_size,
            "duration": a.duration,
            "latitude": a.latitude,
            "longitude": a.longitude,
        }
        for a in attachments
    ]
    if files:
        await session.execute(insert(table_of(Attachment)), files)
    if kind == CommentKind.FOLLOW_UP:
        await note_update(session, person, action, now=now)
    comment = PostedComment(
        comment_id, action.id, CommentKind(kind).value, body, source_key, now, tuple(attachments)
    )
    event = "comment" if kind == CommentKind.FOLLOW_UP else "review_comment"
    payload = _comment_payload(comment) | ({"answers": answered} if answered else {})
    await _enqueue(
        session, action, label, person, event, payload, notify_chat_ids, now, written.recipients
    )
    return comment


async def _insert_comment(
    session: AsyncSession,
    action: KeyAction,
    person: Person,
    kind: CommentKind,
    body: str,
    source_key: str | None,
    now: dt.datetime,
    answers: int | None = None,
    *,
    touch: dict[str, Any],
    notify_chat_ids: Sequence[int] | None,
) -> Written:
    """The new comment (its id the row's only column; the action updated with `touch`), or
    no row when a comment with this source key exists already (the action left alone)."""
    values = {
        "action_id": action.id,
        "author_id": person.id,
        "kind": CommentKind(kind).value,
        "text": body,
        "source_key": source_key,
        "created_at": now,
        "answers_id": answers,
    }
    return await insert_comment(
        session, action, values, touch=touch, notify_chat_ids=notify_chat_ids
    )


def needs_justification(status: Status | str) -> bool:
    return Status(status) in CLOSED_STATUSES


@dataclass(frozen=True, slots=True)
class _Change:
    field: str  # "status" or "review_status"
    new: str
    text: str
    comment_kind: CommentKind


async def _apply_change(
    session: AsyncSession,
    person: Person,
    action: KeyAction,
    label: str,
    change: _Change,
    *,
    source_key: str | None,
    notify_chat_ids: Sequence[int],
    now: dt.datetime,
) -> RecordedChange:
    """Record a status change (with its comment, if any text), apply it, and notify."""
    comment: PostedComment | None = None
    if change.text:
        text = await _insert_comment(
            session,
            action,
            person,
            change.comment_kind,
            change.text,
            source_key,
            now,
            touch={},
            notify_chat_ids=None,  # the change's statement reads who is notified
        )
        assert text.rows  # the callers checked the source key
        comment_id = text.rows[0][0]
        kind = CommentKind(change.comment_kind).value
        comment = PostedComment(comment_id, action.id, kind, change.text, source_key, now)
    old = getattr(action, change.field)
    changes = [
        {
            "author_id": person.id,
            "field": change.field,
            "old_value": old,
            "new_value": change.new,
            "comment_id": comment.id if comment else None,
            "created_at": now,
        }
    ]
    values: dict[str, Any] = {change.field: change.new}
    if change.field == "status":
        values["last_update_at"] = now
        if action.review_status != ReviewStatus.PENDING:
            changes.append(
                {
                    "author_id": person.id,
                    "field": "review_status",
                    "old_value": action.review_status,
                    "new_value": ReviewStatus.PENDING.value,
                    "comment_id": None,
                    "created_at": now,
                }
            )
            values["review_status"] = ReviewStatus.PENDING.value
    written = await insert_changes(
        session, action, changes, touch=values, notify_chat_ids=notify_chat_ids
    )
    first_id = next(row[0] for row in written.rows if row[1] == change.field)
    if change.field == "status":
        await note_update(session, person, action, now=now)
    payload: dict[str, Any] = {"field": change.field, "old": old, "new": change.new}
    if comment is not None:
        payload |= _comment_payload(comment)
    await _enqueue(
        session,
        action,
        label,
        person,
        change.field,
        payload,
        notify_chat_ids,
        now,
        written.recipients,
    )
    first = changes[0]
    return RecordedChange(
        first_id,
        action.id,
        change.field,
        first["old_value"],
        change.new,
        first["comment_id"],
        now,
    )


async def set_status(
    session: AsyncSession,
    person: Person,
    action_id: int,
    new_status: Status | str,
    *,
    justification: str | None = None,
    source_key: str | None = None,
    notify_chat_ids: Sequence[int],
    now: dt.datetime | None = None,
) -> RecordedChange | None:
    """Change the follow-up status; completing or dropping needs a justification comment.

    The review status goes back to "pending" (recorded too). Returns None when nothing changed.
    """
    new_status = Status(new_status)
    if await _existing(session, source_key) is not None:
        return None
    action, label = await require_visible_with_label(session, person, action_id)
    if not follows_up_what_they_see(person):
        raise PermissionDenied("action_not_yours", action_id=action_id)
    if action.status == new_status:
        return None
    body = clean_text(justification)
    _check_text(body, required=False)
    if needs_justification(new_status) and len(body) < JUSTIFICATION_MIN_LENGTH:
        raise InvalidInput("justification_required", status=new_status.value)
    change = _Change("status", new_status.value, body, CommentKind.FOLLOW_UP)
    return await _apply_change(
        session,
        person,
        action,
        label,
        change,
        source_key=source_key,
        notify_chat_ids=notify_chat_ids,
        now=now or utcnow(),
    )


async def set_review_status(
    session: AsyncSession,
    person: Person,
    action_id: int,
    new_status: ReviewStatus | str,
    *,
    comment_text: str | None = None,
    source_key: str | None = None,
    notify_chat_ids: Sequence[int],
    now: dt.datetime | None = None,
) -> RecordedChange | None:
    """The secretariat's review status; "Con observaciones" needs the observation as comment."""
    new_status = ReviewStatus(new_status)
    if await _existing(session, source_key) is not None:
        return None
    action, label = await require_visible_with_label(session, person, action_id)
    if not may_review(person):
        raise PermissionDenied("review_not_allowed")
    if action.review_status == new_status:
        return None
    body = clean_text(comment_text)
    _check_text(body, required=False)
    if new_status == ReviewStatus.OBSERVED and len(body) < JUSTIFICATION_MIN_LENGTH:
        raise InvalidInput("observation_required")
    change = _Change("review_status", new_status.value, body, CommentKind.REVIEW)
    return await _apply_change(
        session,
        person,
        action,
        label,
        change,
        source_key=source_key,
        notify_chat_ids=notify_chat_ids,
        now=now or utcnow(),
    )
