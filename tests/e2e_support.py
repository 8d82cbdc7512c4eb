"""Running the real `python -m bot` process against the Bot API simulator."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bot.simulator.server import BotApiSimulator, SimMessage

TOKEN = "7000000003:e2e-token"
USERNAME = "plan_de_mejora_bot"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bot_env(sim: BotApiSimulator, database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=sim.base_url,
        DATABASE_URL=database_url,
        BOT_USERNAME=USERNAME,
        OUTBOX_INTERVAL="0.2",
        LOAD_DEMO_PLAN="true",
        LOG_LEVEL="INFO",
        **extra,
    )
    return env


def invite(env: dict[str, str], role: str, *units: str) -> str:
    args = [sys.executable, "-m", "bot", "invite", "--role", role]
    for unit in units:
        args += ["--unit", unit]
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60, check=True)
    return re.search(r"start=([A-Za-z0-9_-]+)", out.stdout).group(1)  # type: ignore[union-attr]


@dataclass
class BotProcess:
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    logs: list[Path] = field(default_factory=list)

    def start(self) -> BotProcess:
        handle = self.log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot"], env=self.env, stdout=handle, stderr=subprocess.STDOUT
        )
        return self

    def kill(self) -> None:
        """As a crash would: no clean shutdown."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def texts(sim: BotApiSimulator, chat_id: int) -> list[str]:
    return [m.plain_text for m in sim.messages(chat_id)]


def button(message: SimMessage, startswith: str) -> str:
    for _text, data in message.buttons:
        if data.startswith(startswith):
            return data
    raise AssertionError(f"no button {startswith!r} in {message.buttons}")
