"""Conversation state and per-update bookkeeping, kept in the database.

Keeping them here (not in the process's memory) lets a conversation survive a restart and lets
any of several bot processes take the next update of a conversation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import bindparam, case, delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import dialect_of, insert_for, per_dialect
from storage.models import (
    ConversationState,
    ProcessedUpdate,
    Throttle,
    UTCDateTime,
    table_of,
    utcnow,
)

#: How long a step left silent stays open, unless the caller says otherwise (the bot passes
#: its STEP_TIMEOUT_MINUTES setting).
CONVERSATION_TTL = dt.timedelta(hours=1)


async def get_state(
    session: AsyncSession,
    chat_id: int,
    user_id: int,
    *,
    now: dt.datetime,
    ttl: dt.timedelta = CONVERSATION_TTL,
) -> ConversationState | None:
    """The conversation in progress, unless it was left longer than `ttl` before `now` (the
    flows' clock, required so that tests with a fixed clock see their state)."""
    row = await session.get(ConversationState, (chat_id, user_id))
    return await live_state(session, row, now=now, ttl=ttl)


async def live_state(
    session: AsyncSession,
    row: ConversationState | None,
    *,
    now: dt.datetime,
    ttl: dt.timedelta = CONVERSATION_TTL,
) -> ConversationState | None:
    """`row`, unless it was left longer than `ttl` before `now` (then it is deleted)."""
    if row is not None and row.updated_at < now - ttl:
        await session.delete(row)
        await session.flush()
        return None
    return row


def _state_upsert(dialect: str) -> Any:
    stmt = insert_for(dialect)(table_of(ConversationState)).values(
        {name: bindparam(name) for name in ("chat_id", "user_id", "state", "data", "updated_at")}
    )
    return stmt.on_conflict_do_update(
        index_elements=["chat_id", "user_id"],
        set_={name: stmt.excluded[name] for name in ("state", "data", "updated_at")},
    )


def _claim(dialect: str) -> Any:
    table = table_of(ProcessedUpdate)
    return (
        insert_for(dialect)(table)
        .values(update_id=bindparam("update_id"), processed_at=bindparam("processed_at"))
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(table.c.update_id)
    )


#: The step's upsert and the update's claim, built once per dialect: they run on most updates.
_SET_STATE = per_dialect(_state_upsert)
CLAIM = per_dialect(_claim)


async def set_state(
    session: AsyncSession,
    chat_id: int,
    user_id: int,
    state: str,
    data: dict[str, Any] | None = None,
    *,
    now: dt.datetime | None = None,
) -> None:
    values = {
        "chat_id": chat_id,
        "user_id": user_id,
        "state": state,
        "data": data or {},
        "updated_at": now or utcnow(),
    }
    await session.execute(_SET_STATE[dialect_of(session)], values)


_CLEAR = (
    delete(table_of(ConversationState))
    .where(
        ConversationState.chat_id == bindparam("chat_id"),
        ConversationState.user_id == bindparam("user_id"),
    )
    .returning(ConversationState.chat_id)
)


async def clear_state(session: AsyncSession, chat_id: int, user_id: int) -> bool:
    """End the conversation (a plain DELETE; the session forgets the row it may hold)."""
    held = session.identity_map.get(session.identity_key(ConversationState, (chat_id, user_id)))
    if held is not None:
        session.expunge(held)
    result = await session.execute(_CLEAR, {"chat_id": chat_id, "user_id": user_id})
    return result.first() is not None


async def claim_update(
    session: AsyncSession, update_id: int, *, now: dt.datetime | None = None
) -> bool:
    """Record an update id; False when it was already processed (a redelivery)."""
    params = {"update_id": update_id, "processed_at": now or utcnow()}
    result = await session.execute(CLAIM[dialect_of(session)], params)
    return result.first() is not None


async def purge_processed_updates(session: AsyncSession, older_than: dt.datetime) -> None:
    await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < older_than))


def _throttle_hit(dialect: str) -> Any:
    """The attempt counter's upsert: a new window when the last one began before `cutoff`."""
    table = table_of(Throttle)
    at = bindparam("now", type_=UTCDateTime())
    over = table.c.window_start <= bindparam("cutoff", type_=UTCDateTime())
    return (
        insert_for(dialect)(table)
        .values(key=bindparam("key"), window_start=at, count=1)
        .on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "window_start": case((over, at), else_=table.c.window_start),
                "count": case((over, 1), else_=table.c.count + 1),
            },
        )
        .returning(table.c.count)
    )


_THROTTLE_HIT = per_dialect(_throttle_hit)


async def hit_throttle(
    session: AsyncSession,
    key: str,
    *,
    limit: int,
    window: dt.timedelta,
    now: dt.datetime | None = None,
) -> bool:
    """Count one attempt for `key`; False when more than `limit` fell within the window.

    One statement (an upsert that starts a new window when the last one is over), which also
    serialises concurrent attempts on the key's row."""
    now = now or utcnow()
    params = {"key": key, "now": now, "cutoff": now - window}
    counted = await session.scalar(_THROTTLE_HIT[dialect_of(session)], params)
    return int(counted or 0) <= limit
