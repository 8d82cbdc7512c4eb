"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL, and
step down and up again."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import alembic_config, upgrade
from storage.models import Base


def _differences(connection) -> list[object]:  # type: ignore[no-untyped-def]
    context = MigrationContext.configure(connection)
    return compare_metadata(context, Base.metadata)


async def test_migrations_match_the_models(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        assert await conn.run_sync(_differences) == []


async def test_the_latest_migration_steps_down_and_up(engine: AsyncEngine, database_url) -> None:
    await asyncio.to_thread(command.downgrade, alembic_config(database_url), "0001")
    await upgrade(database_url, "head")
    async with engine.connect() as conn:
        assert await conn.run_sync(_differences) == []
