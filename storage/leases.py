"""Leases: a job that one process at a time may run (the outbox's drainer), held in the database.

A lease is a row (`leases`: name, holder, expires_at, taken_at). A process takes or renews it
with one conditional UPDATE — it succeeds when the lease has lapsed or the process already
holds it — so whatever the number of processes sharing the database (PostgreSQL, or one SQLite
file), at most one holds it at a time, and when the holder dies another takes it over once
`expires_at` has passed (within one lease period). The row is created by the first taker.

Times are the processes' own clocks (UTC), which must agree to well within a lease period
(any clock synchronised by NTP does).
"""

from __future__ import annotations

import datetime as dt
from enum import Enum

from sqlalchemy import case, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import dialect_of, insert_for
from storage.models import Lease


class Taken(Enum):
    #: The lease was free, lapsed or someone else's: what the last holder left is to be
    #: cleaned up (it may have died in the middle of its work).
    NEW = "new"
    #: This holder already had it: renewed.
    RENEWED = "renewed"


async def take_lease(
    session: AsyncSession, name: str, holder: str, *, now: dt.datetime, period: dt.timedelta
) -> Taken | None:
    """Take or renew the lease `name` for `holder` until `now + period`; None when another
    holder's lease is still running. One statement when the row exists (every time but the
    first)."""
    result = await session.execute(
        update(Lease)
        .where(Lease.name == name, (Lease.expires_at <= now) | (Lease.holder == holder))
        .values(
            holder=holder,
            expires_at=now + period,
            taken_at=case((Lease.holder == holder, Lease.taken_at), else_=now),
        )
        .returning(Lease.taken_at)
    )
    taken_at = result.scalar_one_or_none()
    if taken_at is not None:
        return Taken.NEW if taken_at == now else Taken.RENEWED
    inserted = await session.execute(
        insert_for(dialect_of(session))(Lease)
        .values(name=name, holder=holder, expires_at=now + period, taken_at=now)
        .on_conflict_do_nothing(index_elements=[Lease.name])
        .returning(Lease.name)
    )
    return Taken.NEW if inserted.scalar_one_or_none() is not None else None


async def release_lease(session: AsyncSession, name: str, holder: str, *, now: dt.datetime) -> bool:
    """Let the lease go now (a clean shutdown), so that another process takes it at once.
    False when `holder` did not hold it."""
    result = await session.execute(
        update(Lease)
        .where(Lease.name == name, Lease.holder == holder)
        .values(expires_at=now)
        .returning(Lease.name)
    )
    return result.scalar_one_or_none() is not None


async def lease_holder(session: AsyncSession, name: str, *, now: dt.datetime) -> str | None:
    """Who holds the lease now (None when nobody does)."""
    lease = await session.get(Lease, name)
    if lease is None or lease.expires_at <= now:
        return None
    return lease.holder
