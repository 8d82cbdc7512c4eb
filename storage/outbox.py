"""Claiming and settling notification rows.

Rows of one chat go out in order: a chat with a row waiting for a retry, or claimed by another
worker, is skipped until that row is settled. Claims are leases (`claimed_until`), so the rows of
a worker that died are taken again when its lease runs out; on PostgreSQL the claim also uses
FOR UPDATE SKIP LOCKED so that several processes never claim the same row.

A row that cannot be delivered at all (the person blocked the bot, the chat no longer exists, the
message is refused) is eventually *given up*: it is parked with `available_at = GIVEN_UP_AT` (a
date no clock reaches) and its error, so it neither blocks its chat nor counts as pending, and it
stays in the table for an operator to see (`given_up`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import dialect_of
from storage.models import OutboxMessage, Person, Plan, utcnow

#: Long enough for a pass that waits on the rate limiter (it sleeps through a RetryAfter up to
#: three times), short enough that the rows of a dead worker are not held for long.
LEASE = dt.timedelta(minutes=3)
MAX_BACKOFF = dt.timedelta(minutes=30)
#: `available_at` of a row that was given up: later than any real time, earlier than the
#: largest date both backends store.
GIVEN_UP_AT = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)
#: The kind of the row that carries a chat's daily digest (the folded `digest=True` rows).
DAILY_DIGEST_KIND = "daily_digest"
DAILY_DIGEST_EVENTS = 60
DAILY_DIGEST_TEXT = 200


def backoff(attempts: int, retry_after: float | None = None) -> dt.timedelta:
    """Exponential backoff (2, 4, 8... seconds, at most 30 minutes) or Telegram's retry_after."""
    if retry_after is not None:
        return dt.timedelta(seconds=max(1.0, retry_after))
    return min(MAX_BACKOFF, dt.timedelta(seconds=2 ** min(attempts, 11)))


def _not_given_up() -> ColumnElement[bool]:
    return OutboxMessage.available_at < GIVEN_UP_AT


async def claim(
    session: AsyncSession,
    *,
    limit: int = 100,
    now: dt.datetime | None = None,
    lease: dt.timedelta = LEASE,
    digest: bool = False,
) -> list[OutboxMessage]:
    """Lease up to `limit` deliverable rows, oldest first, never two workers on one chat.

    Digest rows (folded once a day, never sent one by one) and immediate rows are claimed
    separately, and only rows of the same kind hold a chat back.
    """
    now = now or utcnow()
    busy_chats = select(OutboxMessage.chat_id).where(
        OutboxMessage.sent_at.is_(None),
        OutboxMessage.digest.is_(digest),
        or_(
            and_(OutboxMessage.available_at > now, _not_given_up()),
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
    if dialect_of(session) == "postgresql":
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
    delay: dt.timedelta | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Put rows back for a later try; the wait grows with the attempts (or is Telegram's
    `retry_after`, or the given `delay`)."""
    now = now or utcnow()
    rows = (await session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids)))).all()
    for row in rows:
        row.attempts += 1
        row.last_error = error[:1000]
        row.claimed_until = None
        row.available_at = now + (delay or backoff(row.attempts, retry_after))
    await session.flush()


async def give_up(
    session: AsyncSession,
    ids: Sequence[int] = (),
    error: str = "",
    *,
    chat_id: int | None = None,
) -> int:
    """Stop trying the given rows (and, with `chat_id`, every unsent row of that chat: when the
    chat itself is gone, its other rows would fail the same way). Returns how many."""
    conditions: list[ColumnElement[bool]] = [OutboxMessage.sent_at.is_(None)]
    if chat_id is not None:
        conditions.append(or_(OutboxMessage.chat_id == chat_id, OutboxMessage.id.in_(ids)))
    else:
        conditions.append(OutboxMessage.id.in_(ids))
    result = await session.execute(
        update(OutboxMessage)
        .where(*conditions)
        .values(
            available_at=GIVEN_UP_AT,
            claimed_until=None,
            attempts=OutboxMessage.attempts + 1,
            last_error=("gave up: " + error)[:1000],
        )
        .returning(OutboxMessage.id)
    )
    return len(result.all())


async def release(session: AsyncSession, ids: Sequence[int]) -> None:
    """Give rows back untouched (e.g. after an earlier row of their chat failed)."""
    if ids:
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(claimed_until=None)
        )


async def release_claims(session: AsyncSession, *, now: dt.datetime | None = None) -> int:
    """Give back every row claimed and not settled (immediate rows only): what a drainer that
    died had claimed, when another takes its lease over (`bot.outbox_lease`; only the holder of the
    outbox lease claims immediate rows). Returns how many."""
    now = now or utcnow()
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.digest.is_(False),
            OutboxMessage.claimed_until.is_not(None),
            OutboxMessage.claimed_until > now,
        )
        .values(claimed_until=None)
        .returning(OutboxMessage.id)
    )
    return len(result.all())


async def pending_count(session: AsyncSession) -> int:
    """Rows still to deliver (given-up rows excluded)."""
    return int(
        await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.sent_at.is_(None), _not_given_up())
        )
        or 0
    )


async def given_up(session: AsyncSession, *, limit: int = 100) -> list[OutboxMessage]:
    return list(
        (
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.sent_at.is_(None), OutboxMessage.available_at >= GIVEN_UP_AT)
                .order_by(OutboxMessage.id)
                .limit(limit)
            )
        ).all()
    )


async def purge_sent(session: AsyncSession, older_than: dt.datetime) -> None:
    await session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.sent_at.is_not(None), OutboxMessage.sent_at < older_than
        )
    )


# --------------------------------------------------------------------------------------------
# What delivery needs to render rows: the recipients' languages and the plans' titles.


@dataclass(frozen=True, slots=True)
class DeliveryContext:
    languages: dict[int, str | None]
    plan_titles: dict[int, str]
    plan_count: int


async def delivery_context(
    session: AsyncSession, chat_ids: Sequence[int], plan_ids: Sequence[int]
) -> DeliveryContext:
    """Language of each recipient chat that is a registered person, and the titles of the plans
    the rows mention (three queries whatever the number of rows)."""
    languages: dict[int, str | None] = {}
    if chat_ids:
        people = await session.execute(
            select(Person.telegram_id, Person.language).where(Person.telegram_id.in_(set(chat_ids)))
        )
        languages = {tid: lang for tid, lang in people.all() if tid is not None}
    titles: dict[int, str] = {}
    if plan_ids:
        plans = await session.execute(select(Plan.id, Plan.title).where(Plan.id.in_(set(plan_ids))))
        titles = {pid: title for pid, title in plans.all()}
    count = int(await session.scalar(select(func.count()).select_from(Plan)) or 0)
    return DeliveryContext(languages, titles, count)


# --------------------------------------------------------------------------------------------
# Daily digest: the `digest=True` rows of each chat folded into one row that delivery sends.


def _digest_event(row: OutboxMessage) -> dict[str, Any]:
    payload = dict(row.payload or {})
    comment = str(payload.get("comment") or "")
    event = {
        "kind": row.kind,
        "at": row.created_at.isoformat(),
        "action_id": payload.get("action_id"),
        "plan_id": payload.get("plan_id"),
        "ref": payload.get("ref", ""),
        "action_text": str(payload.get("action_text") or "")[:DAILY_DIGEST_TEXT],
        "author": payload.get("author", ""),
        "field": payload.get("field"),
        "old": payload.get("old"),
        "new": payload.get("new"),
        "comment": comment[:DAILY_DIGEST_TEXT],
        "comment_truncated": len(comment) > DAILY_DIGEST_TEXT
        or bool(payload.get("comment_truncated")),
        "attachments": len(payload.get("attachments") or []),
    }
    return event


async def fold_digests(
    session: AsyncSession, *, now: dt.datetime | None = None, limit: int = 5000
) -> dict[int, int]:
    """Turn the waiting `digest=True` rows of each chat into one `daily_digest` row (delivered,
    retried and ordered like any other) and settle the originals, in the caller's transaction.

    Returns the number of events folded per chat. The digest keeps the first
    `DAILY_DIGEST_EVENTS` events in full and counts the others by kind.
    """
    now = now or utcnow()
    rows = await claim(session, limit=limit, now=now, digest=True)
    by_chat: dict[int, list[OutboxMessage]] = {}
    for row in rows:
        by_chat.setdefault(row.chat_id, []).append(row)
    for chat_id, chat_rows in by_chat.items():
        counts: dict[str, int] = {}
        for row in chat_rows:
            counts[row.kind] = counts.get(row.kind, 0) + 1
        session.add(
            OutboxMessage(
                chat_id=chat_id,
                kind=DAILY_DIGEST_KIND,
                payload={
                    "events": [_digest_event(r) for r in chat_rows[:DAILY_DIGEST_EVENTS]],
                    "total": len(chat_rows),
                    "counts": counts,
                    "since": min(r.created_at for r in chat_rows).isoformat(),
                },
                digest=False,
                created_at=now,
                available_at=now,
            )
        )
    await mark_sent(session, [r.id for r in rows], now=now)
    await session.flush()
    return {chat_id: len(chat_rows) for chat_id, chat_rows in by_chat.items()}
