"""Claiming and settling notification rows.

Rows of one chat go out in order: a chat with a row waiting for a retry, or claimed by another
worker, is skipped until that row is settled. Claims are leases (`claimed_until`), so the rows of
a worker that died are taken again when its lease runs out; on PostgreSQL the claim also uses
FOR UPDATE SKIP LOCKED so that several processes never claim the same row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage, utcnow

LEASE = dt.timedelta(seconds=60)
MAX_BACKOFF = dt.timedelta(minutes=30)


def backoff(attempts: int, retry_after: float | None = None) -> dt.timedelta:
    """Exponential backoff (2, 4, 8... seconds, at most 30 minutes) or Telegram's retry_after."""
    if retry_after is not None:
        return dt.timedelta(seconds=max(1.0, retry_after))
    return min(MAX_BACKOFF, dt.timedelta(seconds=2 ** min(attempts, 11)))


async def claim(
    session: AsyncSession,
    *,
    limit: int = 100,
    now: dt.datetime | None = None,
    lease: dt.timedelta = LEASE,
    digest: bool = False,
) -> list[OutboxMessage]:
    """Lease up to `limit` deliverable rows, oldest first, never two workers on one chat."""
    now = now or utcnow()
    busy_chats = select(OutboxMessage.chat_id).where(
        OutboxMessage.sent_at.is_(None),
        or_(
            OutboxMessage.available_at > now,
            and_(OutboxMessage.claimed_until.is_not(None), OutboxMessage.claimed_until > now),
        ),
    )
    query = (
        select(OutboxMessage)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.digest.is_(digest),
            OutboxMessage.available_at <= now,
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until <= now),
            OutboxMessage.chat_id.not_in(busy_chats),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list((await session.scalars(query)).all())
    for row in rows:
        row.claimed_until = now + lease
    await session.flush()
    return rows


async def mark_sent(
    session: AsyncSession, ids: Sequence[int], *, now: dt.datetime | None = None
) -> None:
    if ids:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(sent_at=now or utcnow(), claimed_until=None, last_error=None)
        )


async def mark_failed(
    session: AsyncSession,
    ids: Sequence[int],
    error: str,
    *,
    retry_after: float | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Put rows back for a later try; the wait grows with the attempts (or is Telegram's)."""
    now = now or utcnow()
    rows = (await session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids)))).all()
    for row in rows:
        row.attempts += 1
        row.last_error = error[:1000]
        row.claimed_until = None
        row.available_at = now + backoff(row.attempts, retry_after)
    await session.flush()


async def release(session: AsyncSession, ids: Sequence[int]) -> None:
    """Give rows back untouched (e.g. after an earlier row of their chat failed)."""
    if ids:
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(claimed_until=None)
        )


async def pending_count(session: AsyncSession) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
        )
        or 0
    )


async def purge_sent(session: AsyncSession, older_than: dt.datetime) -> None:
    await session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.sent_at.is_not(None), OutboxMessage.sent_at < older_than
        )
    )
