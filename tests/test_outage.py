"""A database outage, for real: a private PostgreSQL cluster is started on its own port, stopped
while the bot runs (PTB's `Application`, offline transport) and started again.

People get a short translated answer (in Telegram's language: the database cannot be asked),
buttons are answered, the log has one line when the outage starts and one when it ends, and an
update that failed is processed when Telegram delivers it again."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_application
from bot.jobs import _daily_job, _outbox_job
from bot.settings import Settings
from handlers.context import FlowContext
from handlers.outage import is_outage
from storage.db import create_engine, create_sessions, transaction, upgrade
from storage.people import create_invitation
from tests.offline import TOKEN, Chat, OfflineRequest


def _pg_bin() -> Path:
    """PostgreSQL's server programs: `$PG_BIN`, else Debian's newest /usr/lib/postgresql/N/bin."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else Path("/usr/lib/postgresql/15/bin")


PG_BIN = _pg_bin()
OUTAGE_ES = "El servicio no está disponible en este momento; no se perdió nada."
OUTAGE_EN = "The service is not available right now; nothing was lost."


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Cluster:
    """A PostgreSQL cluster of the test's own, in a temporary folder."""

    directory: Path
    port: int

    def _run(self, *args: str) -> None:
        command = [str(PG_BIN / args[0]), *args[1:]]
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> None:
        self._run("initdb", "-D", str(self.directory / "data"), "-U", "postgres", "-A", "trust")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        log = str(self.directory / "server.log")
        self._run(
            "pg_ctl", "-D", str(self.directory / "data"), "-o", options, "-l", log, "-w", "start"
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.directory / "data"), "-m", "fast", "-w", "stop")


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    if not (PG_BIN / "initdb").exists():
        if os.environ.get("CI") or os.environ.get("TEST_POSTGRES_URL"):  # never skipped there
            pytest.fail(f"PostgreSQL's binaries are not in {PG_BIN} (set PG_BIN)")
        pytest.skip(f"PostgreSQL's binaries are not in {PG_BIN}")
    directory = Path(tempfile.mkdtemp(prefix="outage-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    cluster = Cluster(directory, _free_port())
    cluster.init()
    cluster.start()
    try:
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
async def pg_engine(cluster: Cluster) -> AsyncIterator[AsyncEngine]:
    await upgrade(cluster.url)
    engine = create_engine(cluster.url)
    yield engine
    await engine.dispose()


def _lines(caplog: pytest.LogCaptureFixture, words: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if words in r.getMessage()]


async def test_a_stopped_database_gets_answers_and_one_log_line(
    cluster: Cluster, pg_engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    sessions = create_sessions(pg_engine)
    request = OfflineRequest()
    app = build_application(
        Settings(telegram_bot_token=TOKEN), sessions, request=request, with_jobs=False
    )
    await app.initialize()
    async with transaction(sessions) as session:
        code = await create_invitation(session, "admin", [])
    # Registered with Spanish chosen... and Telegram in English on the phone.
    ana = Chat(app, 4101, first_name="Ana", language_code="en")
    await ana.send(f"/start {code}")
    async with transaction(sessions) as session:
        from storage.people import get_person

        person = await get_person(session, 4101)
        assert person is not None
        person.language = "es"
    beto = Chat(app, 4102, first_name="Beto", language_code="es")

    await ana.send("/ayuda")
    assert "/acciones" in request.last(4101).text  # the normal answer
    caplog.set_level(logging.INFO)
    caplog.clear()

    cluster.stop()
    failed = await ana.send("/ayuda")
    assert OUTAGE_EN in request.last(4101).text  # Telegram's language: no database to ask
    await beto.send("hola")
    assert OUTAGE_ES in request.last(4102).text
    before = len(request.calls)
    await ana.press("zz:1")
    (answer,) = [c for c in request.calls[before:] if c.method == "answerCallbackQuery"]
    assert answer.params["show_alert"] and OUTAGE_EN in answer.params["text"]
    context = FlowContext(app)
    for _ in range(3):  # the jobs keep running during the outage
        await _outbox_job(context)
    await _daily_job(context)
    assert len(_lines(caplog, "database outage")) == 1
    assert not [r for r in caplog.records if r.exc_info]  # no traceback at all
    assert not _lines(caplog, "database back")

    cluster.start()
    await ana.send("/ayuda")
    assert "/acciones" in request.last(4101).text
    await _outbox_job(context)
    assert len(_lines(caplog, "database back")) == 1
    assert len(_lines(caplog, "database outage")) == 1
    # The update that failed was not recorded as processed: Telegram's redelivery is answered.
    sent = len(request.sent(4101))
    await ana.feed(failed)
    assert len(request.sent(4101)) == sent + 1 and "/acciones" in request.last(4101).text
    await app.shutdown()


def test_bugs_are_not_outages() -> None:
    import sqlite3

    from sqlalchemy import exc
    from telegram.error import NetworkError

    missing = exc.OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: x"))
    unreachable = exc.OperationalError(
        "SELECT", {}, sqlite3.OperationalError("unable to open database file")
    )
    assert not is_outage(missing)
    assert is_outage(unreachable)
    assert not is_outage(FileNotFoundError(2, "No such file", "report.pdf"))  # ours, not the DB's
    assert not is_outage(NetworkError("httpx.ConnectError"))
    assert not is_outage(ValueError("a bug"))


async def test_the_error_handler_answers_without_the_database(sessions) -> None:  # type: ignore[no-untyped-def]
    """An error outside a flow's transaction (a reply's follow-up work, say) reaches the error
    handler: an outage is answered in Telegram's language, a bug with an apology; buttons are
    answered either way."""
    from telegram import Update
    from telegram.ext import CallbackQueryHandler, MessageHandler, filters

    request = OfflineRequest()
    app = build_application(
        Settings(telegram_bot_token=TOKEN), sessions, request=request, with_jobs=False
    )

    async def unreachable(update: Update, context: FlowContext) -> None:
        nowhere = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{_free_port()}/x")
        try:
            async with nowhere.connect() as connection:  # nobody listens there
                await connection.execute(text("SELECT 1"))
        finally:
            await nowhere.dispose()

    async def bug(update: Update, context: FlowContext) -> None:
        raise ValueError("a bug")

    app.add_handler(MessageHandler(filters.Regex("^down"), unreachable), group=-1)
    app.add_handler(MessageHandler(filters.Regex("^bug"), bug), group=-1)
    app.add_handler(CallbackQueryHandler(unreachable, pattern="^down"), group=-1)
    await app.initialize()
    eve = Chat(app, 4201, language_code="en")  # a stranger: the flows answer too

    def said() -> str:
        return " ".join(call.text for call in request.sent(4201)[-2:])

    await eve.send("down")
    assert OUTAGE_EN in said()
    await eve.send("bug")
    assert "something went wrong" in said()
    before = len(request.calls)
    await eve.press("down:1")
    answers = [c.params for c in request.calls[before:] if c.method == "answerCallbackQuery"]
    assert any(a["show_alert"] and OUTAGE_EN in a["text"] for a in answers)
    await app.shutdown()


async def test_a_sqlite_file_out_of_reach(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """SQLite's folder goes away (a disk unmounted) and comes back."""
    folder = tmp_path / "disk"
    url = f"sqlite+aiosqlite:///{folder / 'bot.db'}"
    await upgrade(url)
    engine = create_engine(url)
    sessions = create_sessions(engine)
    request = OfflineRequest()
    app = build_application(
        Settings(telegram_bot_token=TOKEN), sessions, request=request, with_jobs=False
    )
    await app.initialize()
    async with transaction(sessions) as session:
        code = await create_invitation(session, "admin", [])
    ana = Chat(app, 4301, language_code="es")
    await ana.send(f"/start {code}")
    caplog.set_level(logging.INFO)
    caplog.clear()

    folder.rename(tmp_path / "away")
    await engine.dispose()  # the open connections closed: new ones find no file
    for _ in range(2):
        await ana.send("/ayuda")
        assert OUTAGE_ES in request.last(4301).text
    assert len(_lines(caplog, "database outage")) == 1
    assert not [r for r in caplog.records if r.exc_info]

    (tmp_path / "away").rename(folder)
    await ana.send("/ayuda")
    assert "/acciones" in request.last(4301).text
    assert len(_lines(caplog, "database back")) == 1
    await app.shutdown()
    await engine.dispose()
