"""Engine, sessions and schema migrations.

SQLite gets WAL and foreign keys on every connection, so that several readers and one writer (the
bot and its background jobs) do not trip over each other; waiting for the write lock is done by
`storage.sqlite_driver`, without blocking the event loop.

Updates are handled side by side (`bot.update_order`), each in its own `transaction`. On SQLite
a transaction is a writer from its first statement: within the process the transactions of one
database take turns on an `asyncio.Lock` (first come, first served, no polling), and each begins
with `BEGIN IMMEDIATE`, which takes SQLite's write lock before anything is read — so what a step
reads cannot change under it before it writes, and no transaction ever has to upgrade a read
snapshot to a write (which SQLite refuses, `SQLITE_BUSY_SNAPSHOT`, once another has committed).
Another process holding the lock (the command line) is waited for by the driver. Readers on
other connections are not blocked (WAL). The statements run on the loop's thread anyway, so
taking turns costs nothing the loop could have done meanwhile. On PostgreSQL transactions run
side by side, on a pool sized for the updates processed at once (`create_engine`'s
`concurrency`).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

from storage.idle_ping import ping_idle_connections
from storage.sqlite_driver import connect as sqlite_connect

if TYPE_CHECKING:
    from alembic.config import Config

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


#: Connections beyond the updates' for the background jobs (outbox, reminders, albums).
JOB_CONNECTIONS = 4
#: Connections kept open when idle, at most (more are opened for a burst, then closed).
IDLE_CONNECTIONS = 10


#: Seconds to wait for PostgreSQL to accept a connection (see handlers.outage).
CONNECT_TIMEOUT = 10


def create_engine(
    url: str = DEFAULT_DATABASE_URL,
    *,
    concurrency: int | None = None,
    durable_commits: bool = False,
    **kwargs: Any,
) -> AsyncEngine:
    """The engine for `url`. `concurrency`: how many updates are processed at once; on
    PostgreSQL the pool then opens up to that many connections and `JOB_CONNECTIONS` more, so
    no update waits for a connection (SQLite's transactions take turns: see above).

    `durable_commits`: on PostgreSQL, whether a commit waits until it is on the server's disk
    (`synchronous_commit`). Not by default, the same choice as SQLite's WAL with
    `synchronous=NORMAL`: a crash of the bot loses nothing committed, a crash of the database's
    machine may lose the last fraction of a second of commits (never corrupts), and a chat
    step does not wait for a disk flush (about 4 ms on the benchmark's machine, more than the
    rest of the step)."""
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
    # asyncpg waits 60 s for a host that does not answer: an outage is told after 10.
    connect_args = {"timeout": CONNECT_TIMEOUT, **kwargs.pop("connect_args", {})}
    connect_args["server_settings"] = {
        "synchronous_commit": "on" if durable_commits else "off",
        **connect_args.get("server_settings", {}),
    }
    if concurrency is not None:
        kwargs.setdefault("pool_size", min(concurrency, IDLE_CONNECTIONS))
        kwargs.setdefault("max_overflow", concurrency + JOB_CONNECTIONS - kwargs["pool_size"])
    engine = _create_async_engine(url, connect_args=connect_args, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        ping_idle_connections(engine)  # a dead connection is still replaced: see there
    return engine


def create_sessions(engine: AsyncEngine) -> Sessions:
    return async_sessionmaker(engine, expire_on_commit=False)


@dataclass
class _Turn:
    """Whose turn it is to write to one SQLite database, in this process."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    holder: asyncio.Task[Any] | None = None


_SQLITE_TURNS: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, weakref.WeakKeyDictionary[Engine, _Turn]
] = weakref.WeakKeyDictionary()


@asynccontextmanager
async def _sqlite_turn(engine: Engine) -> AsyncIterator[None]:
    """Wait for the turn of the transactions on this SQLite engine (an asyncio lock belongs to
    one event loop, hence one per loop; both forgotten with the loop or the engine). A
    transaction opened inside another by the same task would wait for itself: refused."""
    per_engine = _SQLITE_TURNS.setdefault(asyncio.get_running_loop(), weakref.WeakKeyDictionary())
    turn = per_engine.setdefault(engine, _Turn())
    task = asyncio.current_task()
    if turn.holder is not None and turn.holder is task:
        raise RuntimeError("a transaction inside another on one SQLite database waits forever")
    async with turn.lock:
        turn.holder = task
        try:
            yield
        finally:
            turn.holder = None


@asynccontextmanager
async def transaction(sessions: Sessions) -> AsyncIterator[AsyncSession]:
    """A session in one transaction: committed when the block ends, rolled back on error.

    On SQLite it waits for its turn and holds the write lock from its start (see above): never
    open a transaction inside another on the same database."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, AsyncEngine) or bind.dialect.name != "sqlite":
        async with sessions() as session, session.begin():
            yield session
        return
    async with _sqlite_turn(bind.sync_engine), sessions() as session, session.begin():
        await (await session.connection()).exec_driver_sql("BEGIN IMMEDIATE")
        yield session


def dialect_of(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def insert_for(dialect: str) -> Any:
    """The dialect's INSERT, which has ON CONFLICT (SQLite and PostgreSQL both do)."""
    return pg_insert if dialect == "postgresql" else sqlite_insert


#: The dialects the bot runs on.
DIALECTS = ("sqlite", "postgresql")
T = TypeVar("T")


def per_dialect(build: Callable[[str], T]) -> dict[str, T]:
    """`build(dialect)` for each dialect, by name: a statement with ON CONFLICT that runs on
    every update is built once per dialect and picked with `dialect_of(session)`."""
    return {dialect: build(dialect) for dialect in DIALECTS}


def hold_lock_sync(connection: Connection, key: int) -> None:
    """Several bot processes starting at once on one PostgreSQL take turns here until their
    transaction ends (SQLite has one writer at a time anyway)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def hold_lock(session: AsyncSession, key: int) -> None:
    await session.run_sync(lambda sync: hold_lock_sync(sync.connection(), key))


def alembic_config(url: str) -> Config:
    # Imported here: the schema is brought up to date once, at start; a worker process that
    # writes a file (`storage.offloop`) opens an engine through this module and needs no Alembic.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade_sync(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


async def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema up to date (Alembic runs its own event loop, so in a thread)."""
    await asyncio.to_thread(upgrade_sync, url, revision)
