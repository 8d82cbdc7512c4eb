"""`python -m bot db backup FILE`: a copy of the database to keep somewhere safe.

SQLite: SQLite's own online backup API (`sqlite3.Connection.backup`) makes a consistent copy
while the bot keeps running, what is still in the write-ahead log included; it is written to a
temporary file beside FILE and renamed when complete, so FILE is never half a copy. PostgreSQL:
its own tool does it better than we could (`pg_dump`), so the command to run is printed.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from storage.db import normalise_url


class BackupRefused(Exception):
    """The backup was not made (the message says why, for the operator)."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    size: int
    plans: int
    people: int


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, or None for another database (or SQLite in memory)."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _count(connection: sqlite3.Connection, table: str) -> int:
    row = connection.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0


def _copy(source: Path, partial: Path) -> tuple[int, int]:
    """The online backup itself; the number of plans and people in the copy."""
    # A reader: in WAL mode it waits for no writer and no writer waits for it.
    origin = sqlite3.connect(source, timeout=30)
    try:
        copy = sqlite3.connect(partial)
        try:
            origin.backup(copy)  # every page in one step: consistent even if the bot writes
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            return _count(copy, "plans"), _count(copy, "people")
        finally:
            copy.close()
    finally:
        origin.close()


def backup_sqlite(source: Path, target: Path, *, force: bool = False) -> BackupReport:
    """Copy the SQLite database `source` to `target` (blocking: run it in a thread)."""
    if not source.exists():
        raise BackupRefused(f"there is no database at {source}")
    if target.exists() and not force:
        raise BackupRefused(f"{target} exists already: choose another name, or add --force")
    if target.resolve() == source.resolve():
        raise BackupRefused("the backup cannot replace the database itself")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        plans, people = _copy(source, partial)
    except sqlite3.Error as error:  # not a database, a disk error...: no half copy left
        partial.unlink(missing_ok=True)
        raise BackupRefused(f"{source} could not be copied ({error})") from error
    os.replace(partial, target)
    return BackupReport(target, target.stat().st_size, plans, people)


async def backup(url: str, target: Path, *, force: bool = False) -> BackupReport:
    """Back up the SQLite database at `url` into `target`, off the event loop."""
    source = sqlite_path(url)
    if source is None:
        raise BackupRefused("only a SQLite database is copied by the bot: use pg_dump")
    return await asyncio.to_thread(backup_sqlite, source, target, force=force)


def pg_dump_command(url: str, target: Path) -> str:
    """The `pg_dump` to run for a PostgreSQL URL (its password left out: give it through
    PGPASSWORD or ~/.pgpass)."""
    parsed = make_url(normalise_url(url))
    plain = URL.create(
        "postgresql",
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=parsed.query,
    )
    connection = plain.render_as_string(hide_password=False)
    return f"pg_dump --format=custom --no-owner --file '{target}' '{connection}'"
