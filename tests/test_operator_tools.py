"""The operator's tools: `python -m bot db backup FILE` (SQLite's online backup while another
connection writes; the pg_dump to run for PostgreSQL) and `python -m bot doctor` against the
Bot API simulator (a healthy setup, a bad token, a chat the bot cannot reach, an out-of-date
database)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot.backup import pg_dump_command
from bot.doctor import diagnose
from bot.settings import Settings
from bot.simulator.server import BotApiSimulator
from storage.chats import adopt_move, link_chat, mark_unreachable
from storage.db import create_engine, create_sessions, transaction, upgrade

TOKEN = "7000000009:doctor-test"


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], env=env, capture_output=True, text=True, timeout=120
    )


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "LOAD_"))}
    env["DATABASE_URL"] = url
    return env


def _people(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return int(connection.execute("SELECT count(*) FROM processed_updates").fetchone()[0])


def test_backup_while_another_connection_writes(tmp_path: Path) -> None:
    source = tmp_path / "bot.db"
    url = f"sqlite+aiosqlite:///{source}"
    env = _env(url)
    assert "demo plan loaded" in _cli(env, "plan", "import", "--demo").stdout
    # Rows still in the write-ahead log, not checkpointed into the file: the copy has them.
    writer = sqlite3.connect(source, check_same_thread=False)
    writer.execute("PRAGMA wal_autocheckpoint=0")
    with writer:
        writer.executemany(
            "INSERT INTO processed_updates (update_id, processed_at) VALUES (?, ?)",
            [(n, "2026-01-01 00:00:00") for n in range(1, 501)],
        )
    assert (tmp_path / "bot.db-wal").stat().st_size > 0
    stop = threading.Event()

    def keep_writing() -> None:
        n = 10_000
        while not stop.is_set():
            with writer:
                writer.execute(
                    "INSERT INTO processed_updates (update_id, processed_at) VALUES (?, ?)",
                    (n, "2026-01-01 00:00:00"),
                )
            n += 1

    thread = threading.Thread(target=keep_writing)
    thread.start()
    try:
        copy = tmp_path / "backup" / "copy.db"
        made = _cli(env, "db", "backup", str(copy))
    finally:
        stop.set()
        thread.join()
        writer.close()
    assert made.returncode == 0, made.stderr
    assert f"backup written to {copy}" in made.stdout and "1 plans, 0 people" in made.stdout
    with sqlite3.connect(copy) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert connection.execute("SELECT count(*) FROM key_actions").fetchone()[0] == 13
        ids = [row[0] for row in connection.execute("SELECT update_id FROM processed_updates")]
    assert set(range(1, 501)) <= set(ids)  # what was in the WAL
    assert len(ids) <= _people(source)
    assert not (tmp_path / "backup" / ".copy.db.partial").exists()

    again = _cli(env, "db", "backup", str(copy))
    assert again.returncode == 1 and "exists already" in again.stderr and "--force" in again.stderr
    assert _cli(env, "db", "backup", str(copy), "--force").returncode == 0


def test_backup_of_something_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.db").write_text("not a database " * 100)
    done = _cli(_env(f"sqlite:///{tmp_path / 'notes.db'}"), "db", "backup", str(tmp_path / "b"))
    assert done.returncode == 1 and "could not be copied" in done.stderr
    assert "nothing was written" in done.stderr and "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]


def test_backup_of_postgresql_prints_pg_dump_without_the_password() -> None:
    url = "postgresql+asyncpg://plan:s3cret@db.example.org:5433/plan_de_mejora"
    command = pg_dump_command(url, Path("plan.dump"))
    assert "s3cret" not in command
    assert "postgresql://plan@db.example.org:5433/plan_de_mejora" in command
    assert command.startswith("pg_dump --format=custom")
    printed = _cli(_env(url), "db", "backup", "plan.dump")
    assert printed.returncode == 0 and "pg_dump" in printed.stdout
    assert "s3cret" not in printed.stdout + printed.stderr


@pytest.fixture
async def simulator() -> object:
    async with BotApiSimulator(token=TOKEN) as sim:
        sim.add_group(-100300, "Secretariado")
        yield sim


def _lines(checks: list) -> str:  # type: ignore[type-arg]
    return "\n".join(line for check in checks for line in check.lines())


async def test_doctor_on_a_healthy_setup(simulator: BotApiSimulator, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ok.db'}"
    await upgrade(url)
    settings = Settings(
        _env_file=None,
        telegram_bot_token=TOKEN,
        telegram_api_base_url=simulator.base_url,
        database_url=url,
        secretariat_chat_ids=[-100300],
    )
    checks = await diagnose(settings)
    report = _lines(checks)
    assert all(check.ok for check in checks), report
    assert "✓ token: Telegram knows the bot as @plan_de_mejora_bot" in report
    assert "✓ mode: polling, 0 updates waiting" in report
    assert "✓ chat -100300: Secretariado (group)" in report
    assert "migrations up to date" in report


async def test_doctor_checks_the_chats_the_bot_really_notifies(
    simulator: BotApiSimulator, tmp_path: Path
) -> None:
    """Linked groups and moved groups as the database has them, and chats marked unreachable."""
    simulator.add_group(-100400, "Secretariado (supergrupo)")
    simulator.add_group(-100500, "Equipo de seguimiento")
    url = f"sqlite+aiosqlite:///{tmp_path / 'chats.db'}"
    await upgrade(url)
    engine = create_engine(url)
    async with transaction(create_sessions(engine)) as session:
        await adopt_move(session, -100300, -100400)  # the setting's group became a supergroup
        await link_chat(session, -100500, kind="secretariat", title="Equipo", person=None)
        await mark_unreachable(session, 777, "Forbidden: bot was blocked by the user")
    await engine.dispose()
    settings = Settings(
        _env_file=None,
        telegram_bot_token=TOKEN,
        telegram_api_base_url=simulator.base_url,
        database_url=url,
        secretariat_chat_ids=[-100300],
    )
    report = _lines(await diagnose(settings))
    assert "✓ chat -100400: Secretariado (supergrupo) (group)" in report
    assert "✓ chat -100500: Equipo de seguimiento (group)" in report
    assert "chat -100300" not in report  # followed to where it moved
    assert "✗ chat 777: a person marked unreachable since" in report
    assert "bot was blocked by the user" in report and "0 notice(s) waiting" in report


async def test_doctor_finds_what_is_wrong(simulator: BotApiSimulator, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await upgrade(url, "0003")
    settings = Settings(
        _env_file=None,
        telegram_bot_token=TOKEN,
        telegram_api_base_url=simulator.base_url,
        database_url=url,
        secretariat_chat_ids=[-100300, -100999],
        webhook_url="https://bot.example.org/hook",
    )
    simulator.webhook_url = "https://bot.example.org/hook"
    simulator.webhook_last_error = (1_780_000_000, "Connection refused")
    await simulator.user_sends_text(simulator.add_private_user(11, "Ana")["id"], "hola")
    report = _lines(await diagnose(settings))
    assert "✗ chat -100999: cannot be reached (Chat not found)" in report
    assert "take the id out of SECRETARIAT_CHAT_IDS" in report
    assert "✗ webhook: https://bot.example.org/hook, 1 updates waiting" in report
    assert "Connection refused" in report
    assert "✗ database: reachable" in report and "at migration 0003" in report
    assert "python -m bot db upgrade" in report

    bad = settings.model_copy(update={"telegram_bot_token": "7000000009:wrong"})
    report = _lines(await diagnose(bad))
    assert "✗ token: Telegram refuses TELEGRAM_BOT_TOKEN" in report and "@BotFather" in report


def test_doctor_exits_non_zero_when_something_is_wrong(tmp_path: Path) -> None:
    env = _env(f"sqlite+aiosqlite:///{tmp_path / 'none.db'}")
    done = _cli(env, "doctor")
    assert done.returncode == 1
    assert "✗ token: TELEGRAM_BOT_TOKEN is not set" in done.stdout
    assert "✗ database: there is no SQLite file at" in done.stdout
    assert "problem(s) found" in done.stdout
    assert not (tmp_path / "none.db").exists()  # the doctor changes nothing


async def test_doctor_checks_the_database_of_each_backend(database_url: str) -> None:
    from bot.doctor import check_database

    check = await check_database(database_url)
    assert check.ok and "migrations up to date" in check.what
    down = await check_database("postgresql://plan:s3cret@127.0.0.1:9/nowhere")  # nobody there
    assert not down.ok and "cannot be reached" in down.what and "s3cret" not in down.what
    assert "DATABASE_URL" in down.advice


def test_pending_invitations_listed_and_revoked_on_the_command_line(tmp_path: Path) -> None:
    env = _env(f"sqlite+aiosqlite:///{tmp_path / 'inv.db'}")
    assert _cli(env, "invitations").stdout.strip() == "no pending invitations"
    made = _cli(env, "invite", "--role", "coordinator", "--days", "7")
    assert made.returncode == 0, made.stderr
    listed = _cli(env, "invitations", "list")
    assert listed.returncode == 0 and "1: coordinator, by command line on" in listed.stdout
    revoked = _cli(env, "invitations", "revoke", "1")
    assert revoked.returncode == 0 and "invitation 1 revoked" in revoked.stdout
    assert _cli(env, "invitations").stdout.strip() == "no pending invitations"
    again = _cli(env, "invitations", "revoke", "1")
    assert again.returncode == 1 and "invitation_revoked" in again.stderr
    with sqlite3.connect(tmp_path / "inv.db") as connection:
        [(revoked_at,)] = connection.execute("SELECT revoked_at FROM invitations").fetchall()
    assert revoked_at is not None  # its code now registers nobody (see test_admin_in_chat)
