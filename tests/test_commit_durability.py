"""How long a commit waits: on PostgreSQL, not for the disk unless the deployment asks
(`DATABASE_DURABLE_COMMITS`), the same choice as SQLite's WAL with synchronous=NORMAL."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bot.settings import Settings
from storage.db import create_engine


async def _setting(url: str, durable: bool | None, statement: str) -> str:
    engine = create_engine(url) if durable is None else create_engine(url, durable_commits=durable)
    try:
        async with engine.connect() as connection:
            return str(await connection.scalar(text(statement)))
    finally:
        await engine.dispose()


async def test_commits_wait_for_the_disk_only_when_asked(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        assert await _setting(database_url, None, "PRAGMA synchronous") == "1"  # NORMAL
        assert await _setting(database_url, None, "PRAGMA journal_mode") == "wal"
        return
    assert await _setting(database_url, None, "SHOW synchronous_commit") == "off"
    assert await _setting(database_url, True, "SHOW synchronous_commit") == "on"


def test_the_deployment_setting_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_DURABLE_COMMITS", "true")
    assert Settings(telegram_bot_token="1:x").database_durable_commits is True
    monkeypatch.delenv("DATABASE_DURABLE_COMMITS")
    assert Settings(telegram_bot_token="1:x").database_durable_commits is False
