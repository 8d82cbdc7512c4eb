"""The evidence attached to comments, listed for keeping outside Telegram (`bot.evidence`).

Plain records, one per stored file, in the plan's order: plan, block, action, then the comments
and their files in the order they were posted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.actions import require_visible
from storage.models import Attachment, Comment, KeyAction, Person, Recommendation, action_ref


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    """One attachment with what names it: its plan, its action, the comment that carried it."""

    attachment_id: int
    plan_id: int
    label: str
    number: int
    author: str
    created_at: dt.datetime
    comment: str
    kind: str  # an `AttachmentKind`
    file_id: str  # empty for a location
    file_name: str
    mime_type: str
    file_size: int | None
    duration: int | None = None
    latitude: float | None = None
    longitude: float | None = None

    @property
    def ref(self) -> str:
        return action_ref(self.label, self.number)


_EVIDENCE = (
    select(
        Attachment.id,
        KeyAction.plan_id,
        Recommendation.label,
        KeyAction.number,
        Person.name,
        Comment.created_at,
        Comment.text,
        Attachment.kind,
        Attachment.file_id,
        Attachment.file_name,
        Attachment.mime_type,
        Attachment.file_size,
        Attachment.duration,
        Attachment.latitude,
        Attachment.longitude,
    )
    .join(Comment, Comment.id == Attachment.comment_id)
    .join(KeyAction, KeyAction.id == Comment.action_id)
    .join(Recommendation, Recommendation.id == KeyAction.recommendation_id)
    .outerjoin(Person, Person.id == Comment.author_id)
    .order_by(
        KeyAction.plan_id,
        KeyAction.position,
        KeyAction.number,
        Comment.created_at,
        Comment.id,
        Attachment.id,
    )
)


def _evidence_file(row: Sequence[Any]) -> EvidenceFile:
    """A row of `_EVIDENCE`, its columns in order (the author may be gone: no name)."""
    attachment_id, plan_id, label, number, author, *rest = row
    return EvidenceFile(attachment_id, plan_id, label, number, author or "", *rest)


async def list_evidence(session: AsyncSession, plan_id: int | None = None) -> list[EvidenceFile]:
    """Every attachment (of one plan, when given), in the plan's order."""
    query = _EVIDENCE if plan_id is None else _EVIDENCE.where(KeyAction.plan_id == plan_id)
    return [_evidence_file(row) for row in (await session.execute(query)).all()]


async def action_evidence(
    session: AsyncSession, person: Person, action_id: int
) -> list[EvidenceFile]:
    """The files of one action, oldest first, if the person may see the action."""
    await require_visible(session, person, action_id)
    return await evidence_of_seen_action(session, action_id)


async def evidence_of_seen_action(session: AsyncSession, action_id: int) -> list[EvidenceFile]:
    """The files of an action the caller has just found visible (its card): no second check."""
    rows = await session.execute(_EVIDENCE.where(KeyAction.id == action_id))
    return [_evidence_file(row) for row in rows.all()]
