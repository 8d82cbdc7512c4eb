"""A Telegram Bot API simulator on 127.0.0.1, for the demo, the end-to-end tests and the
benchmark: the real bot talks to it over HTTP exactly as it talks to Telegram.

It serves the methods the bot uses and enforces Telegram's documented limits (4096 characters a
message and 1024 a caption after parsing, 64 bytes of callback data, valid HTML, flood control
with 429 and retry_after, no getFile of a file over 20 MB), with Telegram's own error
descriptions. Tests and the demo act as the people: they send texts, photos and documents, press
buttons, and read what each chat received.

The simulator is one object, `BotApiSimulator`, in parts: what it keeps (`store`), the Bot API
methods it serves (`methods`), what the people do (`people`) and, here, the HTTP server that
routes each call to its method, with the flood control, latency and outages of the network.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import Counter
from typing import Any

from aiohttp import web

from bot.simulator.limits import FloodControl
from bot.simulator.methods import BotApiMethods
from bot.simulator.people import SimulatedPeople
from bot.simulator.store import ApiError

JSON_FIELDS = {
    "reply_markup",
    "entities",
    "caption_entities",
    "commands",
    "scope",
    "allowed_updates",
    "link_preview_options",
    "reply_parameters",
    "media",
}
SENDING = {
    "sendMessage",
    "sendPhoto",
    "sendDocument",
    "editMessageText",
    "editMessageCaption",
    "editMessageReplyMarkup",
}


class BotApiSimulator(BotApiMethods, SimulatedPeople):
    """The simulator: start it (or `async with` it), point the bot at `base_url`, and act as
    the people."""

    def __init__(
        self,
        token: str,
        *,
        username: str = "plan_de_mejora_bot",
        host: str = "127.0.0.1",
        port: int = 0,
        flood_control: bool = True,
        overall_per_second: int = 30,
        group_per_minute: int = 20,
        private_per_second: int = 10,
    ) -> None:
        super().__init__(token, username=username)
        self.host, self.port = host, port
        self.flood = FloodControl(
            overall_per_second, group_per_minute, private_per_second, enabled=flood_control
        )
        self.requests: list[tuple[str, dict[str, Any]]] = []
        #: When each message was accepted (monotonic seconds) and into which chat.
        self.sent_times: list[tuple[float, int]] = []
        #: Sends held unanswered (`hold_sends`), as requests in flight when their sender dies.
        self.held = 0
        #: Sends past the hold, being handled (`hold_sends` lets them finish).
        self.sends_passing = 0
        self._sends_free = asyncio.Event()
        self._sends_free.set()
        #: Seconds of every call's round trip (a Bot API far away): half of it before the call
        #: arrives, half after it is answered.
        self.latency = 0.0
        #: Up to this many seconds more before a call arrives, drawn at random per call (a
        #: network whose latency varies).
        self.jitter = 0.0
        self._jitter_draws = random.Random(5)
        self.stats: Counter[str] = Counter()
        self.away = False
        self._runner: web.AppRunner | None = None

    # -- server -------------------------------------------------------------------------------

    async def start(self) -> BotApiSimulator:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])  # the port chosen when asked for 0
        return self

    async def stop(self) -> None:
        """Stops delivering and serving. Clearing the webhook ends the delivery loop on its
        own: Python 3.11's `asyncio.wait_for` can swallow a cancellation, so cancelling alone
        could leave it running forever."""
        self.webhook_url = ""
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._webhook_task), 5)
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> BotApiSimulator:
        return await self.start()

    @property
    def open_connections(self) -> int:
        """HTTP connections the bot holds open to the simulator right now."""
        server = self._runner.server if self._runner is not None else None
        return len(server.connections) if server is not None else 0

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self.host}:{self.port}/file/bot"

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            body = await request.read()
            if body:
                params.update(json.loads(body))
        elif request.can_read_body:
            form = await request.post()
            for key, value in form.items():
                params[key] = value
        for key in JSON_FIELDS & params.keys():
            if isinstance(params[key], str):
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(params[key])
        return params

    async def _api(self, request: web.Request) -> web.Response:
        if self.away:
            return web.Response(status=502, text="Bad Gateway")
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params = await self._params(request)
        handler = getattr(self, f"_m_{method.lower()}", None)
        self.stats[method] += 1
        self.requests.append((method, params))
        if handler is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        if self.latency or self.jitter:
            await asyncio.sleep(self.latency / 2 + self._jitter_draws.uniform(0, self.jitter))
        if method in SENDING and not self._sends_free.is_set():
            self.held += 1
            await self._sends_free.wait()
            return web.Response(status=502, text="Bad Gateway")
        self.sends_passing += method in SENDING
        try:
            if method in SENDING:
                self._flood_check(params)
            result = await handler(params)
            if method in SENDING:
                self.sent_times.append((time.monotonic(), self._chat_id(params)))
        except ApiError as error:
            body: dict[str, Any] = {
                "ok": False,
                "error_code": error.code,
                "description": error.description,
            }
            if error.retry_after is not None:
                body["parameters"] = {"retry_after": error.retry_after}
                self.stats["429"] += 1
            if error.migrate_to_chat_id is not None:
                body["parameters"] = {"migrate_to_chat_id": error.migrate_to_chat_id}
            if self.latency:
                await asyncio.sleep(self.latency / 2)
            return web.json_response(body, status=error.code)
        finally:
            self.sends_passing -= method in SENDING
        await self._notify()
        if self.latency:
            await asyncio.sleep(self.latency / 2)
        return web.json_response({"ok": True, "result": result})

    async def _file(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        for content, meta in self.files.values():
            if meta["file_path"] == path:
                return web.Response(body=content)
        return web.Response(status=404, text="Not Found")

    def _flood_check(self, params: dict[str, Any]) -> None:
        chat_id = self._chat_id(params)
        wait = self.flood.check(chat_id)
        if wait:
            self.stats["429 group" if chat_id < 0 else "429 private"] += 1
            raise ApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)

    # -- inspection ---------------------------------------------------------------------------

    def hold_sends(self, hold: bool = True) -> None:
        """Hold every send unanswered until called with False; the held ones are then refused
        (502) without being delivered."""
        if hold:
            self._sends_free.clear()
        else:
            self._sends_free.set()

    def most_sends_in_a_second(self, chats: set[int] | None = None) -> int:
        """The most messages accepted in any one second (sliding), into `chats` or any."""
        times = sorted(t for t, chat in self.sent_times if chats is None or chat in chats)
        most, first = 0, 0
        for last, at in enumerate(times):
            while times[first] <= at - 1.0:
                first += 1
            most = max(most, last - first + 1)
        return most
