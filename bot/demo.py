"""`python -m bot demo`: try the bot in a console, with no token and no network.

The real bot runs (polling, with its background jobs) against the Bot API simulator on
127.0.0.1, on a temporary database (or `--database-url`, or `DATABASE_URL`) with the demo plan
and five demo people, one of each role and an administrator. You type as one of them; what
every person receives is printed, so the secretariat's notifications show up too. `:doc PATH`
sends a real file from disk (a plan to import with `/plan`), `:nueva NOMBRE` adds someone new
to try an invitation with. The console texts are the demo's own tooling (in Spanish); the bot's
texts are the real ones.

Everything the demo writes (its database, the files the bot sends) lives in one temporary
folder, removed when the demo ends: with `:salir`, at the end of the input, on Ctrl-C or on an
error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mimetypes
import shlex
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from sqlalchemy.engine import make_url

from bot.app import build_application
from bot.settings import Settings
from bot.simulator.server import BotApiSimulator
from bot.simulator.store import SimMessage
from storage.db import (
    Sessions,
    create_engine,
    create_sessions,
    normalise_url,
    transaction,
    upgrade_sync,
)
from storage.people import create_invitation, list_people, redeem_invitation
from storage.plan_files import load_demo_plan

log = logging.getLogger(__name__)

TOKEN = "7000000009:demo-token"
SECRETARIAT_CHAT = 104


@dataclass(frozen=True)
class DemoPerson:
    telegram_id: int
    name: str
    role: str
    units: tuple[str, ...] = ()


PEOPLE = (
    DemoPerson(101, "Ana (PNUD)", "focal", ("PNUD",)),
    DemoPerson(102, "Luis (Unidad de Coordinación)", "focal", ("Unidad de Coordinación",)),
    DemoPerson(103, "Carmen (Coordinación)", "coordinator"),
    DemoPerson(104, "Sofía (Secretariado)", "secretariat"),
    DemoPerson(105, "Marta (Administración)", "admin"),
)
#: Telegram lets a bot download files of up to 20 MB; `:doc` sends no bigger ones.
DOC_LIMIT = 20 * 1024 * 1024
FIRST_NEW_ID = 201

HELP = """Escriba como la persona elegida (texto o comandos del bot, p. ej. /acciones).
Personas: 1 Ana y 2 Luis (puntos focales), 3 Carmen (coordinación), 4 Sofía (secretariado),
5 Marta (administración: /invitar, /invitaciones, /usuarios, /plan).
Órdenes de la demo:
  :yo N          cambiar de persona (:gente las lista)
  :N             pulsar el botón N del último mensaje con botones
  :foto [texto]  enviar una foto (con leyenda opcional)
  :doc RUTA [texto]    enviar un archivo del disco, p. ej. /plan y luego :doc plan.xlsx
                       (si RUTA no existe, un PDF de prueba con ese nombre: :doc acta.pdf)
  :nueva NOMBRE  una persona nueva, sin registrar (luego: /start CÓDIGO de una invitación)
  :ayuda         esta ayuda        :salir   terminar"""


@dataclass
class Console:
    sim: BotApiSimulator
    out: TextIO
    files_dir: Path  # where the files the bot sends are saved (inside the demo's folder)
    me: DemoPerson = PEOPLE[0]
    people: list[DemoPerson] = field(default_factory=lambda: list(PEOPLE))
    seen: dict[int, dict[int, int]] = field(default_factory=dict)
    #: Whether the bot is still handling an update (a plan import or an export takes seconds).
    busy: Callable[[], bool] = lambda: False

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def _snapshot(self) -> int:
        return sum(
            len(self.sim.messages(p.telegram_id))
            + sum(m.edits for m in self.sim.messages(p.telegram_id))
            for p in self.people
        )

    async def settle(self, quiet: float = 0.5, longest: float = 30.0) -> None:
        """Wait until the bot has said everything it is going to say for now: nothing new for
        `quiet` seconds, no update waiting and none being handled."""
        started = last_change = time.monotonic()
        before = self._snapshot()
        while time.monotonic() - started < longest:
            await asyncio.sleep(0.05)
            now = self._snapshot()
            if now != before:
                before, last_change = now, time.monotonic()
            elif time.monotonic() - last_change >= quiet and not (self.sim.updates or self.busy()):
                break

    def show_news(self) -> None:
        for person in self.people:
            seen = self.seen.setdefault(person.telegram_id, {})
            for message in self.sim.messages(person.telegram_id):
                if seen.get(message.message_id) == message.edits:
                    continue
                edited = message.message_id in seen
                seen[message.message_id] = message.edits
                self._print(person, message, edited)

    def _print(self, person: DemoPerson, message: SimMessage, edited: bool) -> None:
        header = f"── {person.name}" + (" (editado)" if edited else "") + " ──"
        self.say(header)
        if message.plain_text:
            self.say(message.plain_text)
        if message.photo:
            self.say("[imagen]")
        if message.document:
            content = self.sim.file_bytes(message.document["file_id"])
            name = Path(message.document.get("file_name") or "archivo").name or "archivo"
            path = self.files_dir / name
            path.write_bytes(content)
            self.say(f"[documento guardado en {path}]")
        if message.buttons:
            labels = [f"[{i}] {text}" for i, (text, _d) in enumerate(message.buttons, 1)]
            joined = "  ".join(labels)
            self.say(joined if len(joined) <= 100 else "\n".join(labels))

    def last_with_buttons(self) -> SimMessage | None:
        for message in reversed(self.sim.messages(self.me.telegram_id)):
            if message.buttons:
                return message
        return None

    async def handle(self, line: str) -> bool:
        """One line typed at the console; False when it is time to leave."""
        line = line.strip()
        if not line:
            return True
        if not line.startswith(":"):
            await self.sim.user_sends_text(self.me.telegram_id, line)
            return True
        words = shlex.split(line[1:]) or [""]
        command, args = words[0].lower(), words[1:]
        if command in ("salir", "quit", "exit", "q"):
            return False
        if command in ("ayuda", "help", "?"):
            self.say(HELP)
        elif command in ("gente", "people", "who"):
            for i, person in enumerate(self.people, 1):
                mark = "*" if person == self.me else " "
                self.say(f"{mark} {i}. {person.name}")
        elif command in ("yo", "soy", "as") and args and args[0].isdigit():
            index = int(args[0]) - 1
            if 0 <= index < len(self.people):
                self.me = self.people[index]
                self.say(f"Ahora usted es {self.me.name}.")
            else:
                self.say("No hay nadie con ese número: :gente los lista.")
        elif command in ("nueva", "nuevo", "new") and args:
            self.add_person(" ".join(args))
        elif command.isdigit() or command in ("press", "pulsar"):
            number = int(command if command.isdigit() else (args or ["0"])[0])
            message = self.last_with_buttons()
            if message is None or not 1 <= number <= len(message.buttons):
                self.say("No hay un botón con ese número.")
            else:
                data = message.buttons[number - 1][1]
                await self.sim.user_presses_button(self.me.telegram_id, message.message_id, data)
        elif command in ("foto", "photo"):
            await self.sim.user_sends_photo(self.me.telegram_id, " ".join(args) or None)
        elif command in ("doc", "documento") and args:
            await self.send_document(args[0], " ".join(args[1:]) or None)
        else:
            self.say("Orden desconocida. :ayuda muestra las órdenes.")
        return True

    def add_person(self, name: str) -> None:
        """Someone new, not registered: they can open an invitation with `/start CODE`."""
        telegram_id = max(FIRST_NEW_ID - 1, *(p.telegram_id for p in self.people)) + 1
        person = DemoPerson(telegram_id, name, "")
        self.sim.add_private_user(telegram_id, name)
        self.people.append(person)
        self.me = person
        self.say(f"Ahora usted es {name}, sin registrar. Abra una invitación: /start CÓDIGO")

    async def send_document(self, where: str, caption: str | None) -> None:
        """A real file from disk (`where`, relative to the current folder), or, when there is
        no such file, a small PDF of that name."""
        found = await asyncio.to_thread(read_document, where)
        if isinstance(found, str):
            self.say(found)
            return
        name, content, mime = found
        await self.sim.user_sends_document(self.me.telegram_id, name, content, mime, caption)


def read_document(where: str) -> tuple[str, bytes, str] | str:
    """The file `:doc` sends: its name, bytes and type; or what is wrong (a message)."""
    path = Path(where).expanduser()
    if not path.is_file():
        if path.parent != Path("."):
            return f"No encuentro el archivo {path}."
        return path.name, b"%PDF-1.4 demo", "application/pdf"
    if path.stat().st_size > DOC_LIMIT:
        return f"{path} pasa de 20 MB, el límite de Telegram para los bots."
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return path.name, path.read_bytes(), mime


#: Demo people have small Telegram ids (the personas, then those of `:nueva`); a database
#: holding anyone else is a real one.
DEMO_IDS_BELOW = 1000


class RealDatabase(Exception):
    """The database given to the demo has real people in it."""


async def _people(sessions: Sessions) -> None:
    """The demo plan and the personas. Refused on a database with real people: the personas
    (an administrator among them) must never be given access to a real deployment."""
    async with transaction(sessions) as session:
        people = await list_people(session)
        if any((p.telegram_id or 0) >= DEMO_IDS_BELOW for p in people):
            raise RealDatabase(
                "esta base de datos tiene personas reales; la demo añadiría sus personas "
                "(una de ellas administradora): use una base vacía o la temporal"
            )
        await load_demo_plan(session)
        for person in PEOPLE:
            code = await create_invitation(session, person.role, list(person.units))
            await redeem_invitation(
                session, code, telegram_id=person.telegram_id, name=person.name.split(" (")[0]
            )


def configured_database_url() -> str | None:
    """The database the demo was pointed at with `DATABASE_URL` (in the environment or
    `.env`), if any; None means a temporary SQLite file."""
    settings = Settings()
    return settings.database_url if "database_url" in settings.model_fields_set else None


async def lines_of(stdin: TextIO) -> AsyncIterator[str]:
    """The lines typed, read in a daemon thread: a pending read never holds the process when
    the demo ends on Ctrl-C (an executor thread would, until Enter is pressed)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str] = asyncio.Queue()

    def read() -> None:
        while True:
            line = stdin.readline()
            loop.call_soon_threadsafe(queue.put_nowait, line)
            if line == "":
                return

    threading.Thread(target=read, name="demo-stdin", daemon=True).start()
    while (line := await queue.get()) != "":
        yield line


async def run_demo(database_url: str | None, stdin: TextIO, stdout: TextIO) -> int:
    """The demo, from start to end; its temporary folder is removed however it ends."""
    with tempfile.TemporaryDirectory(prefix="plan-demo-", ignore_cleanup_errors=True) as folder:
        return await _run_in(Path(folder), database_url, stdin, stdout)


async def _run_in(tmp: Path, database_url: str | None, stdin: TextIO, stdout: TextIO) -> int:
    url = normalise_url(database_url) if database_url else f"sqlite+aiosqlite:///{tmp / 'demo.db'}"
    files_dir = tmp / "files"
    files_dir.mkdir()
    await asyncio.to_thread(upgrade_sync, url)
    engine = create_engine(url)
    try:
        sessions = create_sessions(engine)
        await _people(sessions)
        async with BotApiSimulator(token=TOKEN) as sim:
            for person in PEOPLE:
                sim.add_private_user(person.telegram_id, person.name.split(" (")[0])
            settings = Settings(
                telegram_bot_token=TOKEN,
                telegram_api_base_url=sim.base_url,
                database_url=url,
                secretariat_chat_ids=[SECRETARIAT_CHAT],
                bot_username=sim.username,
                outbox_interval=0.3,
            )
            app = build_application(settings, sessions)
            await app.initialize()
            try:
                await app.start()
                assert app.updater is not None
                await app.updater.start_polling(poll_interval=0, timeout=1)
                processor = app.update_processor
                console = Console(
                    sim,
                    stdout,
                    files_dir,
                    busy=lambda: processor.current_concurrent_updates > 0,
                )
                await _converse(console, url, stdin)
            finally:
                with contextlib.suppress(Exception):
                    if app.updater is not None and app.updater.running:
                        await app.updater.stop()
                    if app.running:
                        await app.stop()
                    await app.shutdown()
    finally:
        await engine.dispose()
    print("Hasta pronto.", file=stdout, flush=True)
    return 0


async def _converse(console: Console, url: str, stdin: TextIO) -> None:
    console.say("Plan de Mejora — demo en consola (bot real, Telegram simulado, sin token).")
    console.say(f"Base de datos: {make_url(url).render_as_string(hide_password=True)}")
    console.say(HELP)
    console.say(f"Usted es {console.me.name}. Pruebe /acciones.")
    console.say(f"\n{console.me.name.split(' (')[0]}> ")
    async for line in lines_of(stdin):
        if not await console.handle(line):
            break
        await console.settle()
        console.show_news()
        console.say(f"\n{console.me.name.split(' (')[0]}> ")


def main(database_url: str | None = None) -> int:
    """`python -m bot demo [--database-url URL]`: the URL given, else `DATABASE_URL`, else a
    temporary SQLite file."""
    url = database_url or configured_database_url()
    try:
        return asyncio.run(run_demo(url, sys.stdin, sys.stdout))
    except KeyboardInterrupt:  # the demo's folder is gone already (see `run_demo`)
        print("\nHasta pronto.", file=sys.stdout, flush=True)
        return 130
    except Exception as error:  # e.g. a database that cannot be reached
        log.debug("the demo stopped", exc_info=error)
        print(f"error: la demo se detuvo: {error}", file=sys.stderr, flush=True)
        return 1
