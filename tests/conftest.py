"""Shared fixtures: every storage test runs on a real SQLite file and, when `TEST_POSTGRES_URL`
is set, on that PostgreSQL too (same tests, parametrised). A PostgreSQL that cannot be reached
makes the tests fail, never skip."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage.db import Sessions, create_engine, create_sessions, normalise_url, upgrade_sync
from storage.models import Base

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_POSTGRES_URL") else [])


def _admin(url: str, statement: str) -> None:
    import asyncio

    async def run() -> None:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(text(statement))
        await engine.dispose()

    asyncio.run(run())


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh database built by the real migrations: a SQLite file, or a PostgreSQL database
    of its own (so that test runs in parallel do not share tables)."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "test.db"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade_sync(url)
        yield url
        return
    server_url = make_url(normalise_url(os.environ["TEST_POSTGRES_URL"]))
    name = f"plan_test_{os.getpid()}_{secrets.token_hex(3)}"
    _admin(server_url.render_as_string(hide_password=False), f'CREATE DATABASE "{name}"')
    url = server_url.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade_sync(url)
        yield url
    finally:
        _admin(
            server_url.render_as_string(hide_password=False),
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        )


async def _clear(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                await conn.execute(table.delete())


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await _clear(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> Sessions:
    return create_sessions(engine)


@pytest.fixture
async def session(sessions: Sessions) -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session
