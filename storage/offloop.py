"""Long reads and the work around them off the bot's event loop.

A long read (a whole plan for an export, the portfolio for a report) on the update's own
connection holds the event loop while it runs (SQLite's statements run on the loop's thread:
`storage.sqlite_driver`) and, inside the update's transaction, SQLite's write turn
(`storage.db.transaction`). `in_own_thread` runs such work in a worker thread, with an event
loop, an engine and a connection of its own (opened for it and closed after it), outside any
transaction of the bot's: the updates of other people go on meanwhile. The work is a coroutine
function given a session; what it returns must not be ORM objects (they belong to that
session), only plain values (bytes, dataclasses).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.pool import NullPool

from storage.db import Sessions, create_engine, create_sessions

T = TypeVar("T")


def _own_url(sessions: Sessions) -> str | None:
    """The database's URL for a connection of its own; None for an in-memory SQLite database,
    which another connection would not see."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, AsyncEngine):
        return None
    url = bind.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return None
    return url.render_as_string(hide_password=False)


async def in_own_thread(sessions: Sessions, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """`work(session)` in a worker thread on a connection of its own (see the module's
    docstring); on the caller's loop, in a session of its own, when the database cannot be
    reached from another connection (in-memory SQLite)."""
    url = _own_url(sessions)
    if url is None:
        async with sessions() as session:
            return await work(session)

    async def run() -> T:
        engine = create_engine(url, poolclass=NullPool)
        try:
            async with create_sessions(engine)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return await asyncio.to_thread(asyncio.run, run())
