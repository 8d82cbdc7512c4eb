"""`python -m bot demo`: try the bot in a console, with no token and no network.

The real bot runs (polling, with its background jobs) against the Bot API simulator on
127.0.0.1, on a temporary database with the demo plan and four demo people. You type as one of
them; what every person receives is printed, so the secretariat's notifications show up too.
The console texts are the demo's own tooling (in Spanish); the bot's texts are the real ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from bot.app import build_application
from bot.settings import Settings
from bot.simulator.server import BotApiSimulator, SimMessage
from storage.db import Sessions, create_engine, create_sessions, transaction, upgrade_sync
from storage.people import create_invitation, redeem_invitation
from storage.plan_files import load_demo_plan

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
)

HELP = """Escriba como la persona elegida (texto o comandos del bot, p. ej. /acciones).
Órdenes de la demo:
  :yo N          cambiar de persona (:gente las lista)
  :N             pulsar el botón N del último mensaje con botones
  :foto [texto]  enviar una foto (con leyenda opcional)
  :doc NOMBRE [texto]  enviar un documento, p. ej. :doc acta.pdf
  :ayuda         esta ayuda        :salir   terminar"""


@dataclass
class Console:
    sim: BotApiSimulator
    out: TextIO
    me: DemoPerson = PEOPLE[0]
    seen: dict[int, dict[int, int]] = field(default_factory=dict)
    files_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="demo-files-")))

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def _snapshot(self) -> int:
        return sum(
            len(self.sim.messages(p.telegram_id))
            + sum(m.edits for m in self.sim.messages(p.telegram_id))
            for p in PEOPLE
        )

    async def settle(self, quiet: float = 0.5, longest: float = 8.0) -> None:
        """Wait until the bot has said everything it is going to say for now."""
        started = last_change = time.monotonic()
        before = self._snapshot()
        while time.monotonic() - started < longest:
            await asyncio.sleep(0.05)
            now = self._snapshot()
            if now != before:
                before, last_change = now, time.monotonic()
            elif time.monotonic() - last_change >= quiet and not self.sim.updates:
                break

    def show_news(self) -> None:
        for person in PEOPLE:
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
            path = self.files_dir / message.document.get("file_name", "archivo")
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
            for i, person in enumerate(PEOPLE, 1):
                mark = "*" if person == self.me else " "
                self.say(f"{mark} {i}. {person.name}")
        elif command in ("yo", "soy", "as") and args and args[0].isdigit():
            index = int(args[0]) - 1
            if 0 <= index < len(PEOPLE):
                self.me = PEOPLE[index]
                self.say(f"Ahora usted es {self.me.name}.")
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
            name = args[0]
            await self.sim.user_sends_document(
                self.me.telegram_id,
                name,
                b"%PDF-1.4 demo",
                "application/pdf",
                " ".join(args[1:]) or None,
            )
        else:
            self.say("Orden desconocida. :ayuda muestra las órdenes.")
        return True


async def _people(sessions: Sessions) -> None:
    async with transaction(sessions) as session:
        await load_demo_plan(session)
        for person in PEOPLE:
            code = await create_invitation(session, person.role, list(person.units))
            await redeem_invitation(
                session, code, telegram_id=person.telegram_id, name=person.name.split(" (")[0]
            )


async def run_demo(database_url: str | None, stdin: TextIO, stdout: TextIO) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="plan-demo-"))
    url = database_url or f"sqlite+aiosqlite:///{tmp / 'demo.db'}"
    await asyncio.to_thread(upgrade_sync, url)
    engine = create_engine(url)
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
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        console = Console(sim, stdout)
        console.say("Plan de Mejora — demo en consola (bot real, Telegram simulado, sin token).")
        console.say(f"Base de datos: {url}")
        console.say(HELP)
        console.say(f"Usted es {console.me.name}. Pruebe /acciones.")
        loop = asyncio.get_running_loop()
        try:
            while True:
                console.say(f"\n{console.me.name.split(' (')[0]}> ")
                line = await loop.run_in_executor(None, stdin.readline)
                if line == "" or not await console.handle(line):
                    break
                await console.settle()
                console.show_news()
        finally:
            with contextlib.suppress(Exception):
                await app.updater.stop()
                await app.stop()
                await app.shutdown()
            await engine.dispose()
    console.say("Hasta pronto.")
    return 0


def main(database_url: str | None = None) -> int:
    return asyncio.run(run_demo(database_url, sys.stdin, sys.stdout))
