"""aiosqlite without the trips to its thread, but when SQLite makes us wait.

aiosqlite runs every call on the connection's own thread: SQLAlchemy's adapter makes four such
trips per statement (open a cursor, execute, fetch, close) and two more per transaction (commit,
and the pool's rollback), each a hand-off between threads that costs more than the indexed
query itself (measured: posting a comment takes twice as long, 10.8 ms instead of 5.6). Here:

* a statement runs right away on the event loop's thread and is fully fetched (SQLAlchemy's
  adapter fetches every row at once anyway). The bot's statements are index lookups and small
  writes of a fraction of a millisecond; a long report query (a whole portfolio's summary, an
  export) holds the loop for its duration instead of a thread (the transactions of a database
  take their turns anyway: `storage.db.transaction`);
* the connection never waits for a lock on the loop's thread (its busy timeout is 0): when
  another connection holds the write lock, SQLite answers SQLITE_BUSY at once, nothing has been
  done, and the statement is tried again after an `asyncio.sleep` (1 ms, doubling up to 50 ms,
  for up to `LOCK_WAIT` seconds), while the loop goes on and the holder can finish;
* a commit goes to the connection's own aiosqlite thread (aiosqlite's `commit`: it may run a
  WAL checkpoint, which writes and syncs the database file), unless the transaction changed no
  row (a read-only step, which `BEGIN IMMEDIATE` opened all the same): then it only lets go of
  the lock, on the loop's thread; committing or rolling back a connection with no open
  transaction is a no-op.

Only public APIs: the connection is an `aiosqlite.Connection` (SQLAlchemy's adapter needs one)
built with aiosqlite's public constructor over a `sqlite3` connection this module opens and
keeps; the subclass replaces the public `cursor`, `commit` and `rollback` and touches nothing
private. The `sqlite3` connection is shared by the loop's thread and aiosqlite's but never used
by both at once: SQLAlchemy runs one statement at a time per connection, and a commit is awaited.
Plugged in through SQLAlchemy's `async_creator_fn` connect argument. `tests/test_sqlite_driver.py`
checks the aiosqlite and SQLAlchemy interfaces this relies on.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import aiosqlite
from aiosqlite.context import contextmanager

Row = tuple[Any, ...]
T = TypeVar("T")


LOCK_WAIT = 30.0
SQLITE_BUSY = 5
SQLITE_BUSY_SNAPSHOT = 517


def _is_busy(error: sqlite3.OperationalError) -> bool:
    """Another connection holds the lock: worth waiting for (a stale snapshot never is)."""
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == SQLITE_BUSY and code != SQLITE_BUSY_SNAPSHOT


async def _patiently(call: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Retry while the database is busy, as SQLite's busy timeout does, but sleeping on the
    loop (each try answers at once: the connection's busy timeout is 0)."""
    deadline = time.monotonic() + LOCK_WAIT
    pause = 0.001
    while True:
        try:
            return await call(*args)
        except sqlite3.OperationalError as error:
            if not _is_busy(error) or time.monotonic() > deadline:
                raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)


def _run(
    connection: sqlite3.Connection, sql: str, parameters: Any, many: bool
) -> tuple[Any, int, int | None, list[Row]]:
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        elif parameters is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class LoopCursor:
    """The part of aiosqlite's cursor that SQLAlchemy uses, over rows fetched at once."""

    arraysize = 1

    def __init__(self, connection: sqlite3.Connection, owner: LoopConnection) -> None:
        self._connection = connection
        self._owner = owner
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Row] = []

    async def _run(self, sql: str, parameters: Any, many: bool) -> LoopCursor:
        if not self._connection.in_transaction:  # this statement may open one: count from here
            self._owner.changes_at_begin = self._connection.total_changes
        result = _run(self._connection, sql, parameters, many)
        self.description, self.rowcount, self.lastrowid, self._rows = result
        return self

    async def _call(self, sql: str, parameters: Any, many: bool) -> LoopCursor:
        return await _patiently(self._run, sql, parameters, many)

    async def execute(self, sql: str, parameters: Any = None) -> LoopCursor:
        return await self._call(sql, parameters, False)

    async def executemany(self, sql: str, parameters: Sequence[Any]) -> LoopCursor:
        return await self._call(sql, parameters, True)

    async def fetchall(self) -> list[Row]:
        rows, self._rows = self._rows, []
        return rows

    async def fetchone(self) -> Row | None:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Row]:
        size = size or self.arraysize
        rows, self._rows = self._rows[:size], self._rows[size:]
        return rows

    async def close(self) -> None:
        self._rows = []

    async def __aenter__(self) -> LoopCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()


class LoopConnection(aiosqlite.Connection):
    """An aiosqlite connection whose statements run on the loop's thread (see above)."""

    def __init__(self, database: str, **kwargs: Any) -> None:
        self.sqlite: sqlite3.Connection | None = None
        self.changes_at_begin = 0  # rows changed on the connection when its transaction began

        def connector() -> sqlite3.Connection:
            connection: sqlite3.Connection = sqlite3.connect(
                database, **{**kwargs, "check_same_thread": False}
            )
            connection.execute("PRAGMA busy_timeout = 0")
            self.sqlite = connection
            return connection

        super().__init__(connector, iter_chunk_size=64)

    def _opened(self) -> sqlite3.Connection:
        if self.sqlite is None:
            raise ValueError("no active connection")
        return self.sqlite

    @contextmanager
    async def cursor(self) -> LoopCursor:  # type: ignore[override]
        return LoopCursor(self._opened(), self)

    async def commit(self) -> None:
        """On aiosqlite's thread (its own commit): a commit may run a WAL checkpoint (writing
        and syncing the database file), which must not hold the loop."""
        connection = self._opened()
        if not connection.in_transaction:
            return
        if connection.total_changes == self.changes_at_begin:
            await _patiently(self._commit_here)  # nothing to write: only the lock to let go
            return
        await _patiently(super().commit)

    async def _commit_here(self) -> None:
        self._opened().commit()

    async def rollback(self) -> None:
        connection = self._opened()
        if connection.in_transaction:
            connection.rollback()

    async def close(self) -> None:
        self.sqlite = None
        await super().close()


def connect(database: str, **kwargs: Any) -> LoopConnection:
    """What `aiosqlite.connect` does, with this connection: usable from the loop's thread, and
    never waiting for a lock there.

    The connection is made in a daemon thread: aiosqlite's worker thread takes its daemon flag
    from the thread that creates it (as every `threading.Thread` does), so an engine left
    undisposed never keeps the process alive at exit (SQLAlchemy sees to the same for the
    aiosqlite connections it makes itself)."""
    made: list[LoopConnection] = []
    maker = threading.Thread(
        target=lambda: made.append(LoopConnection(database, **kwargs)), daemon=True
    )
    maker.start()
    maker.join()
    return made[0]
