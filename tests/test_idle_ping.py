"""PostgreSQL connections are pinged before reuse only after sitting idle (`storage.idle_ping`):
a connection the server dropped while it waited is replaced without the caller noticing, and a
connection reused at once costs no ping."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import idle_ping
from storage.db import create_engine


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(text("SELECT pg_backend_pid()")))


async def _terminate(url: str, pid: int) -> None:
    killer = create_engine(url)
    try:
        async with killer.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await killer.dispose()


@pytest.fixture
async def one_connection(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine of one pooled connection, on PostgreSQL (SQLite has no server, no ping)."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite connections have no server to lose and are not pinged")
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    yield engine
    await engine.dispose()


async def test_a_connection_dropped_while_idle_is_replaced_unnoticed(
    database_url: str, one_connection: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await _backend_pid(one_connection)
    await _terminate(database_url, first)
    monkeypatch.setattr(idle_ping, "PING_AFTER_IDLE", 0.0)  # it has waited long enough
    second = await _backend_pid(one_connection)  # no error: pinged, then replaced
    assert second != first


async def test_a_connection_reused_at_once_is_not_pinged(
    one_connection: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _backend_pid(one_connection)
    monkeypatch.setattr(idle_ping, "PING_AFTER_IDLE", 3600.0)
    pings: list[object] = []
    monkeypatch.setattr(one_connection.dialect, "do_ping", pings.append)
    await _backend_pid(one_connection)
    assert not pings
    monkeypatch.setattr(idle_ping, "PING_AFTER_IDLE", 0.0)
    await _backend_pid(one_connection)
    assert len(pings) == 1
