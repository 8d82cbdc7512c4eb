"""The SQLite driver runs statements on the event loop's thread but never waits for a lock
there: a write that finds the database locked by another connection waits (sleeping on
the loop) while the loop goes on, and goes through once the lock is released."""

from __future__ import annotations

import asyncio
import inspect
import sqlite3
import subprocess
import sys
from pathlib import Path
from threading import get_ident

import aiosqlite
import pytest
from sqlalchemy import text

from storage.db import create_engine, create_sessions, transaction
from storage.sqlite_driver import connect


@pytest.fixture
async def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'lock.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
    yield engine
    await engine.dispose()


async def test_a_locked_write_waits_off_the_loop_and_then_succeeds(engine, tmp_path) -> None:
    holder = sqlite3.connect(tmp_path / "lock.db", isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO notes (body) VALUES ('first')")
    ticks = 0

    async def loop_keeps_running() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    async def release_later() -> None:
        await asyncio.sleep(0.3)
        holder.execute("COMMIT")

    ticker = asyncio.create_task(loop_keeps_running())
    releaser = asyncio.create_task(release_later())
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO notes (body) VALUES ('second')"))
    await releaser
    ticker.cancel()
    assert ticks >= 10  # the loop ran while the write waited for the lock
    async with engine.connect() as conn:
        bodies = (await conn.execute(text("SELECT body FROM notes ORDER BY id"))).scalars()
        assert list(bodies) == ["first", "second"]
    holder.close()


async def test_reads_writes_and_returning_in_one_transaction(engine) -> None:
    async with engine.begin() as conn:
        new_id = (
            await conn.execute(text("INSERT INTO notes (body) VALUES ('a') RETURNING id"))
        ).scalar_one()
        await conn.execute(
            text("INSERT INTO notes (body) VALUES (:body)"), [{"body": "b"}, {"body": "c"}]
        )
        count = (await conn.execute(text("SELECT count(*) FROM notes"))).scalar_one()
    assert (new_id, count) == (1, 3)


async def test_an_error_rolls_back_and_leaves_the_connection_usable(engine) -> None:
    with pytest.raises(Exception, match="no such table"):
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO notes (body) VALUES ('lost')"))
            await conn.execute(text("SELECT * FROM missing"))
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM notes"))).scalar_one() == 0


async def test_statements_run_on_the_loops_thread(engine) -> None:
    """Fails when SQLAlchemy's aiosqlite adapter stops using the driver's cursor."""
    threads: list[int] = []
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        raw.driver_connection.sqlite.set_trace_callback(lambda _sql: threads.append(get_ident()))
        await conn.execute(text("SELECT count(*) FROM notes"))
        raw.driver_connection.sqlite.set_trace_callback(None)
    assert threads and set(threads) == {get_ident()}


def test_the_aiosqlite_interface_it_relies_on() -> None:
    """Fails when aiosqlite changes what the driver builds on (its public constructor and the
    coroutine methods the driver replaces)."""
    parameters = list(inspect.signature(aiosqlite.Connection.__init__).parameters)
    assert parameters[:3] == ["self", "connector", "iter_chunk_size"]
    for name in ("cursor", "commit", "rollback", "close"):
        assert callable(getattr(aiosqlite.Connection, name)), name
    assert isinstance(connect(":memory:"), aiosqlite.Connection)


def test_an_undisposed_engine_does_not_keep_the_process_alive(tmp_path: Path) -> None:
    script = (
        "import asyncio\n"
        "from sqlalchemy import text\n"
        "from storage.db import create_engine\n"
        f"engine = create_engine('sqlite+aiosqlite:///{tmp_path / 'exit.db'}')\n"
        "async def main():\n"
        "    async with engine.connect() as conn:\n"
        "        await conn.execute(text('SELECT 1'))\n"
        "asyncio.run(main())\n"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", script], cwd=root, timeout=30, check=False)
    assert done.returncode == 0


async def test_transactions_take_turns_and_lose_no_update(engine, tmp_path) -> None:
    """Thirty transactions at once, each reading a counter and writing it back one higher while
    another connection (another process) holds the write lock at first: they wait their turn,
    none meets `database is locked`, none overwrites another's increment."""
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO notes (id, body) VALUES (1, '0')"))
    sessions = create_sessions(engine)
    holder = sqlite3.connect(tmp_path / "lock.db", isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")

    async def increment() -> None:
        async with transaction(sessions) as session:
            value = int(await session.scalar(text("SELECT body FROM notes WHERE id = 1")) or 0)
            await asyncio.sleep(0)  # another update's turn on the loop, mid-transaction
            await session.execute(text("UPDATE notes SET body = :v WHERE id = 1"), {"v": value + 1})

    steps = [asyncio.create_task(increment()) for _ in range(30)]
    await asyncio.sleep(0.05)
    assert not any(step.done() for step in steps)  # all waiting for the other process
    holder.execute("COMMIT")
    holder.close()
    await asyncio.gather(*steps)
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT body FROM notes WHERE id = 1")) == "30"


async def test_a_read_only_transaction_lets_go_of_the_lock(engine, tmp_path) -> None:
    async with transaction(create_sessions(engine)) as session:
        assert await session.scalar(text("SELECT count(*) FROM notes")) == 0
    other = sqlite3.connect(tmp_path / "lock.db", isolation_level=None, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")  # would be SQLITE_BUSY if the lock were still held
        other.execute("ROLLBACK")
    finally:
        other.close()


async def test_a_transaction_inside_another_is_refused_not_left_waiting(engine) -> None:
    sessions = create_sessions(engine)
    async with transaction(sessions):
        with pytest.raises(RuntimeError, match="inside another"):
            async with transaction(sessions):
                pass
    async with transaction(sessions) as session:  # and the turn was given back
        assert await session.scalar(text("SELECT count(*) FROM notes")) == 0
