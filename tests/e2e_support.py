"""Running the real `python -m bot` process against the Bot API simulator."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.simulator.server import BotApiSimulator
from bot.simulator.store import SimMessage

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
    )
    env.update(extra)
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


async def register(sim: BotApiSimulator, user: int, code: str) -> None:
    before = len(sim.messages(user))
    await sim.user_sends_text(user, f"/start {code}")
    await sim.wait_for_message(user, after=before, timeout=20)


async def invite_in_chat(sim: BotApiSimulator, admin: int, command: str) -> str:
    before = len(sim.messages(admin))
    await sim.user_sends_text(admin, command)
    message = await sim.wait_for_message(admin, lambda m: "start=" in m.plain_text, after=before)
    return re.search(r"start=([A-Za-z0-9_-]+)", message.plain_text).group(1)  # type: ignore[union-attr]


async def ask(sim: BotApiSimulator, user: int, text: str, expect: str, wait: float = 20):  # type: ignore[no-untyped-def]
    before = len(sim.messages(user))
    await sim.user_sends_text(user, text)
    return await sim.wait_for_message(user, lambda m: expect in m.plain_text, wait, before)


async def press(
    sim: BotApiSimulator, user: int, message: SimMessage, data: str, expect: str
) -> SimMessage:
    """Press a button and wait for its answer: a new message, or one edited since, that says
    `expect` (an older message saying the same does not count)."""
    seen = {m.message_id: m.edits for m in sim.messages(user)}

    def answer() -> SimMessage | None:
        for m in sim.messages(user):
            fresh = m.message_id not in seen or m.edits > seen[m.message_id]
            if fresh and expect in m.plain_text:
                return m
        return None

    await sim.user_presses_button(user, message.message_id, data)
    return await sim.wait_for(answer, 20)


class WebhookProxy:
    """One public webhook address in front of several bot processes, as a load balancer would
    be: the n-th update goes to process n mod N (a retry of it goes to the same process). An
    update for which `duplicate` says yes is handed to the next process too, as Telegram does
    when it redelivers an update whose answer it did not see."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.port = free_port()
        self.updates: dict[int, dict[str, Any]] = {}
        self.handled_by: dict[int, list[int]] = {}
        self._assigned: dict[int, int] = {}
        self.duplicate: Callable[[dict[str, Any]], bool] = lambda _update: False
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def __aenter__(self) -> WebhookProxy:
        app = web.Application()
        app.router.add_post("/hook", self._forward)
        self._client = aiohttp.ClientSession()
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _post(self, index: int, request: web.Request, body: bytes) -> int:
        assert self._client is not None
        headers = {
            k: v for k, v in request.headers.items() if k.lower().startswith(("content-", "x-"))
        }
        async with self._client.post(
            f"http://127.0.0.1:{self.ports[index]}/hook",
            data=body,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=10),
        ) as response:
            return response.status

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        update = json.loads(body)
        update_id = int(update["update_id"])
        index = self._assigned.setdefault(update_id, len(self._assigned) % len(self.ports))
        try:
            status = await self._post(index, request, body)
        except (aiohttp.ClientError, TimeoutError):
            return web.Response(status=502)
        if 200 <= status < 300:
            self.updates[update_id] = update
            self.handled_by.setdefault(update_id, []).append(index)
            if self.duplicate(update):
                again = (index + 1) % len(self.ports)
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    if 200 <= await self._post(again, request, body) < 300:
                        self.handled_by[update_id].append(again)
        return web.Response(status=status)
