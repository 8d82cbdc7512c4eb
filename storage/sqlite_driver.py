"""aiosqlite with fewer trips to its thread.

aiosqlite runs every call on the connection's own thread: SQLAlchemy's adapter makes four such
trips per statement (open a cursor, execute, fetch, close) and two more per transaction (commit,
and the pool's rollback), each a hand-off between threads that costs more than the indexed
query itself. Here:

* a statement that writes is executed, fully fetched and closed in one trip (SQLAlchemy's
  adapter fetches every row at once anyway);
* a statement that only reads runs right away on the event loop's thread: in WAL mode a reader
  never waits for a lock, and the bot's reads are index lookups of a fraction of a millisecond.
  The price is that a long report query (a whole portfolio's summary, an export) holds the loop
  for its duration instead of a thread; updates are handled one at a time anyway;
* committing or rolling back a connection with no open transaction (every read-only step) is a
  no-op, so it is not sent to the thread at all.

The connection is shared by the two threads but never used by both at once: SQLAlchemy runs one
statement at a time per connection. Plugged in through SQLAlchemy's `async_creator_fn` connect
argument; everything else is aiosqlite's.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite
from aiosqlite.context import contextmanager

Row = tuple[Any, ...]


def _only_reads(sql: str) -> bool:
    """A plain SELECT (SQLAlchemy writes no comments before it; a WITH may hide a write)."""
    return sql.lstrip()[:6].upper() == "SELECT" and "RETURNING" not in sql.upper()


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


class OneTripCursor:
    """The part of aiosqlite's cursor that SQLAlchemy uses, over rows fetched in one trip."""

    arraysize = 1

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Row] = []

    async def _call(self, sql: str, parameters: Any, many: bool) -> OneTripCursor:
        connection = self._connection._conn
        if not many and _only_reads(sql):
            result = _run(connection, sql, parameters, many)
        else:
            result = await self._connection._execute(_run, connection, sql, parameters, many)
        self.description, self.rowcount, self.lastrowid, self._rows = result
        return self

    async def execute(self, sql: str, parameters: Any = None) -> OneTripCursor:
        return await self._call(sql, parameters, False)

    async def executemany(self, sql: str, parameters: Sequence[Any]) -> OneTripCursor:
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

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()


class OneTripConnection(aiosqlite.Connection):
    @contextmanager
    async def cursor(self) -> OneTripCursor:  # type: ignore[override]
        return OneTripCursor(self)

    async def commit(self) -> None:
        if self._conn.in_transaction:
            await super().commit()

    async def rollback(self) -> None:
        if self._conn.in_transaction:
            await super().rollback()


def connect(database: str, *, iter_chunk_size: int = 64, **kwargs: Any) -> OneTripConnection:
    """What `aiosqlite.connect` does, with the one-trip connection."""

    def connector() -> sqlite3.Connection:
        return sqlite3.connect(database, **kwargs)

    connection = OneTripConnection(connector, iter_chunk_size)
    connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite's own connections
    return connection
