"""The benchmark's scratch databases."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from storage.db import create_engine, normalise_url, upgrade_sync


async def scratch_database(kind: str, name: str, postgres: str | None, tmp: Path) -> str:
    """A fresh, migrated database for one part of the run: a SQLite file, or a PostgreSQL
    database of its own on the server given."""
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / name}.db"
    else:
        assert postgres is not None
        from sqlalchemy import text
        from sqlalchemy.engine import make_url

        server = make_url(normalise_url(postgres))
        engine = create_engine(server.render_as_string(False), isolation_level="AUTOCOMMIT")
        db = f"bench_{name}_{os.getpid()}"
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{db}"'))
        await engine.dispose()
        url = server.set(database=db).render_as_string(False)
    await asyncio.to_thread(upgrade_sync, url)
    return url
