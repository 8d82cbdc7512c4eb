"""Follow-up and review: comments, status changes, and their notifications.

Every change writes its outbox rows in the same transaction (the caller commits), so a change is
never stored without its notifications nor notified without being stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.actions import follows_up_what_they_see, may_review, require_visible_with_label
from storage.errors import InvalidInput, PermissionDenied
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
    StatusChange,
    utcnow,
)

COMMENT_MAX_LENGTH = 3000
JUSTIFICATION_MIN_LENGTH = 3
NOTIFY_TEXT_LENGTH = 600
ATTACHMENTS_MAX = 10


@dataclass(frozen=True, slots=True)
class NewAttachment:
    kind: str  # "photo" or "document"
    file_id: str
    file_unique_id: str = ""
    file_name: str = ""
    mime_type: str = ""
    file_size: int | None = None


def clean_text(text: str | None) -> str:
    return (text or "").strip()


def _check_text(text: str, *, required: bool) -> None:
    if len(text) > COMMENT_MAX_LENGTH:
        raise InvalidInput("comment_too_long", length=len(text), limit=COMMENT_MAX_LENGTH)
    if required and not text:
        raise InvalidInput("comment_empty")


async def _existing(session: AsyncSession, source_key: str | None) -> Comment | None:
    if not source_key:
        return None
    return await session.scalar(select(Comment).where(Comment.source_key == source_key))


_NOTIFIED_PEOPLE = select(Person.telegram_id, Person.notify_mode).where(
    Person.active.is_(True),
    Person.role.in_([Role.SECRETARIAT, Role.COORDINATOR, Role.ADMIN]),
    Person.notify_mode != NotifyMode.OFF,
    Person.telegram_id.is_not(None),
)


async def notification_chats(
    session: AsyncSession, extra_chat_ids: Sequence[int], author: Person | None
) -> list[tuple[int, bool]]:
    """(chat id, digest?) of everyone to notify of a change: the secretariat chats from the
    settings, plus registered secretariat members and coordinators who asked for notices."""
    chats: dict[int, bool] = {chat_id: False for chat_id in extra_chat_ids}
    people = await session.execute(_NOTIFIED_PEOPLE)
    for telegram_id, mode in people.all():
        chats.setdefault(telegram_id, mode == NotifyMode.DIGEST)
    if author is not None and author.telegram_id in chats:
        del chats[author.telegram_id]
    return sorted(chats.items())


async def _enqueue(
    session: AsyncSession,
    action: KeyAction,
    label: str,
    author: Person | None,
    kind: str,
    payload: dict[str, Any],
    extra_chat_ids: Sequence[int],
    now: dt.datetime,
) -> None:
    body = {
        "action_id": action.id,
        "plan_id": action.plan_id,
        "ref": f"{label}.{action.number}",
        "action_text": action.text[:NOTIFY_TEXT_LENGTH],
        "author": author.name if author else "",
        "author_role": author.role if author else "",
        **payload,
    }
    rows = [
        {
            "chat_id": chat_id,
            "kind": kind,
            "payload": body,
            "digest": digest,
            "created_at": now,
            "available_at": now,
            "attempts": 0,
        }
        for chat_id, digest in await notification_chats(session, extra_chat_ids, author)
    ]
    if rows:  # one INSERT for all of them, no ORM objects: nobody reads them back here
        await session.execute(insert(OutboxMessage.__table__), rows)


def _comment_payload(comment: Comment) -> dict[str, Any]:
    return {
        "comment_id": comment.id,
        "comment": comment.text[:NOTIFY_TEXT_LENGTH],
        "comment_truncated": len(comment.text) > NOTIFY_TEXT_LENGTH,
        "attachments": [{"kind": a.kind, "name": a.file_name} for a in comment.attachments],
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
    notify_chat_ids: Sequence[int] = (),
    now: dt.datetime | None = None,
) -> Comment:
    """Add a comment (text and/or evidence). The same `source_key` twice posts it once."""
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
    existing = await _existing(session, source_key)
    if existing is not None:  # posted before under the same source key
        return existing
    comment = _new_comment(action, person, kind, body, source_key, now)
    comment.attachments = [
        Attachment(
            kind=a.kind,
            file_id=a.file_id,
            file_unique_id=a.file_unique_id,
            file_name=a.file_name,
            mime_type=a.mime_type,
            file_size=a.file_size,
        )
        for a in attachments
    ]
    session.add(comment)
    if kind == CommentKind.FOLLOW_UP:
        action.last_update_at = now
    await session.flush()
    event = "comment" if kind == CommentKind.FOLLOW_UP else "review_comment"
    payload = _comment_payload(comment)
    await _enqueue(session, action, label, person, event, payload, notify_chat_ids, now)
    return comment


def _new_comment(
    action: KeyAction,
    person: Person,
    kind: CommentKind,
    body: str,
    source_key: str | None,
    now: dt.datetime,
) -> Comment:
    return Comment(
        action_id=action.id,
        author_id=person.id,
        kind=CommentKind(kind).value,
        text=body,
        source_key=source_key,
        created_at=now,
        attachments=[],
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
) -> StatusChange:
    """Record a status change (with its comment, if any text), apply it, and notify."""
    comment: Comment | None = None
    if change.text:
        comment = _new_comment(action, person, change.comment_kind, change.text, source_key, now)
        session.add(comment)
        await session.flush()  # the change refers to the comment's id
    old = getattr(action, change.field)
    record = StatusChange(
        action_id=action.id,
        author_id=person.id,
        field=change.field,
        old_value=old,
        new_value=change.new,
        comment_id=comment.id if comment else None,
        created_at=now,
    )
    session.add(record)
    if change.field == "status":
        action.last_update_at = now
        if action.review_status != ReviewStatus.PENDING:
            session.add(
                StatusChange(
                    action_id=action.id,
                    author_id=person.id,
                    field="review_status",
                    old_value=action.review_status,
                    new_value=ReviewStatus.PENDING.value,
                    comment_id=None,
                    created_at=now,
                )
            )
            action.review_status = ReviewStatus.PENDING.value
    setattr(action, change.field, change.new)
    await session.flush()
    payload: dict[str, Any] = {"field": change.field, "old": old, "new": change.new}
    if comment is not None:
        payload |= _comment_payload(comment)
    await _enqueue(session, action, label, person, change.field, payload, notify_chat_ids, now)
    return record


async def set_status(
    session: AsyncSession,
    person: Person,
    action_id: int,
    new_status: Status | str,
    *,
    justification: str | None = None,
    source_key: str | None = None,
    notify_chat_ids: Sequence[int] = (),
    now: dt.datetime | None = None,
) -> StatusChange | None:
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
    notify_chat_ids: Sequence[int] = (),
    now: dt.datetime | None = None,
) -> StatusChange | None:
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
