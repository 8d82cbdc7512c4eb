"""Engine, sessions and schema migrations.

SQLite gets WAL and foreign keys on every connection, so that several readers and one writer (the
bot and its background jobs) do not trip over each other; waiting for the write lock is done by
`storage.sqlite_driver`, without blocking the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

from storage.sqlite_driver import connect as sqlite_connect

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/plan_de_mejora.db"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")

Sessions = async_sessionmaker[AsyncSession]

#: Keys of the PostgreSQL advisory locks that serialise what every process does once at start.
MIGRATION_LOCK = 7_300_001
DEMO_PLAN_LOCK = 7_300_002


def normalise_url(url: str) -> str:
    """Accept the URLs hosting platforms hand out and pick the async drivers."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite:///"):
        url = "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
    return url


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(url: str = DEFAULT_DATABASE_URL, **kwargs: Any) -> AsyncEngine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = _create_async_engine(
            url,
            connect_args={"async_creator_fn": sqlite_connect},
            **kwargs,
        )
        event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return _create_async_engine(url, **kwargs)


def create_sessions(engine: AsyncEngine) -> Sessions:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(sessions: Sessions) -> AsyncIterator[AsyncSession]:
    """A session in one transaction: committed when the block ends, rolled back on error."""
    async with sessions() as session, session.begin():
        yield session


def dialect_of(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def insert_for(dialect: str) -> Any:
    """The dialect's INSERT, which has ON CONFLICT (SQLite and PostgreSQL both do)."""
    return pg_insert if dialect == "postgresql" else sqlite_insert


def hold_lock_sync(connection: Connection, key: int) -> None:
    """Several bot processes starting at once on one PostgreSQL take turns here until their
    transaction ends (SQLite has one writer at a time anyway)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def hold_lock(session: AsyncSession, key: int) -> None:
    await session.run_sync(lambda sync: hold_lock_sync(sync.connection(), key))


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade_sync(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


async def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema up to date (Alembic runs its own event loop, so in a thread)."""
    await asyncio.to_thread(upgrade_sync, url, revision)
