"""A Telegram Bot API simulator on 127.0.0.1, for the demo, the end-to-end tests and the
benchmark: the real bot talks to it over HTTP exactly as it talks to Telegram.

It serves the methods the bot uses and enforces Telegram's documented limits (4096 characters a
message and 1024 a caption after parsing, 64 bytes of callback data, valid HTML, flood control
with 429 and retry_after, no getFile of a file over 20 MB), with Telegram's own error
descriptions. Tests and the demo act as the people: they send texts, photos and documents, press
buttons, and read what each chat received.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

from bot.simulator.html_check import HtmlError, visible_text
from bot.simulator.limits import FloodControl
from bot.telegram_limits import DOWNLOAD_MAX_BYTES

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
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


T = TypeVar("T")


class ApiError(Exception):
    def __init__(
        self,
        code: int,
        description: str,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id


@dataclass
class SimMessage:
    """A message in a chat, as the simulator keeps it (the bot's and the people's)."""

    message_id: int
    chat_id: int
    from_bot: bool
    text: str = ""
    caption: str = ""
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None
    photo: list[dict[str, Any]] | None = None
    document: dict[str, Any] | None = None
    edits: int = 0
    date: int = field(default_factory=lambda: int(time.time()))

    @property
    def plain_text(self) -> str:
        try:
            return visible_text(self.text or self.caption, self.parse_mode)
        except HtmlError:
            return self.text or self.caption

    @property
    def buttons(self) -> list[tuple[str, str]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [
            (b.get("text", ""), b.get("callback_data") or b.get("url", "")) for r in rows for b in r
        ]


class BotApiSimulator:
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
        self.token = token
        self.bot_id = int(token.split(":")[0]) if token.split(":")[0].isdigit() else 1
        self.username = username
        self.host, self.port = host, port
        self.flood = FloodControl(
            overall_per_second, group_per_minute, private_per_second, enabled=flood_control
        )
        self.users: dict[int, dict[str, Any]] = {}
        self.chats: dict[int, dict[str, Any]] = {}
        self.history: dict[int, list[SimMessage]] = {}
        self.updates: list[dict[str, Any]] = []
        self.files: dict[str, tuple[bytes, dict[str, Any]]] = {}
        self.callback_queries: dict[str, bool] = {}
        self.callback_answers: list[dict[str, Any]] = []
        self.command_sets: dict[str, list[dict[str, Any]]] = {}
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
        self.webhook_url = ""
        self.webhook_secret = ""
        #: Telegram's record of the last failed webhook delivery: (unix time, message).
        self.webhook_last_error: tuple[int, str] | None = None
        self.away = False
        #: Chats the bot may not write to (kicked from a group, blocked by a person): the 403.
        self.refusals: dict[int, str] = {}
        #: Groups upgraded to a supergroup: old id -> new id (a 400 with migrate_to_chat_id).
        self.moved: dict[int, int] = {}
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._webhook_task: asyncio.Task[None] | None = None

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

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self.host}:{self.port}/file/bot"

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

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

    # -- helpers ------------------------------------------------------------------------------

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Plan de Mejora",
            "username": self.username,
        }

    def _chat_id(self, params: dict[str, Any]) -> int:
        raw = params.get("chat_id")
        try:
            chat_id = int(str(raw))
        except ValueError as exc:
            raise ApiError(400, "Bad Request: chat not found") from exc
        if chat_id in self.moved:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=self.moved[chat_id],
            )
        if chat_id in self.refusals:
            raise ApiError(403, self.refusals[chat_id])
        if chat_id not in self.chats:
            raise ApiError(400, "Bad Request: chat not found")
        return chat_id

    def _markup(self, params: dict[str, Any]) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        if not markup:
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if not button.get("text"):
                    raise ApiError(
                        400, "Bad Request: text buttons are unallowed in the inline keyboard"
                    )
        return markup

    def _checked_text(self, text: str, parse_mode: str | None, limit: int, kind: str) -> None:
        try:
            visible = visible_text(text, parse_mode)
        except HtmlError as error:
            raise ApiError(400, f"Bad Request: can't parse entities: {error}") from error
        if kind == "text" and not visible.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(visible) > limit:
            raise ApiError(
                400,
                "Bad Request: message is too long"
                if kind == "text"
                else "Bad Request: message caption is too long",
            )

    def _message_json(self, message: SimMessage) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": self.chats[message.chat_id],
            "from": self._bot_user(),
        }
        if message.text:
            data["text"] = visible_text(message.text, message.parse_mode)
        if message.caption:
            data["caption"] = visible_text(message.caption, message.parse_mode)
        if message.reply_markup:
            data["reply_markup"] = message.reply_markup
        if message.photo:
            data["photo"] = message.photo
        if message.document:
            data["document"] = message.document
        if message.edits:
            data["edit_date"] = int(time.time())
        return data

    def _store_file(self, content: bytes, name: str, mime: str) -> dict[str, Any]:
        n = next(self._file_ids)
        meta = {
            "file_id": f"F{n:06d}",
            "file_unique_id": f"U{n:06d}",
            "file_size": len(content),
            # As Telegram's: a path of its own, never the sender's name (which may hold "?").
            "file_path": f"documents/file_{n}",
            "file_name": name,
            "mime_type": mime,
        }
        self.files[str(meta["file_id"])] = (content, meta)
        return meta

    def _upload(self, value: Any, default_name: str, default_mime: str) -> dict[str, Any]:
        if isinstance(value, str):
            if value in self.files:
                return self.files[value][1]
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        content = value.file.read()
        return self._store_file(
            content, value.filename or default_name, value.content_type or default_mime
        )

    def _find(self, params: dict[str, Any]) -> SimMessage:
        chat_id = self._chat_id(params)
        message_id = int(params.get("message_id", 0))
        for message in self.history.get(chat_id, []):
            if message.message_id == message_id and message.from_bot:
                return message
        raise ApiError(400, "Bad Request: message to edit not found")

    def _add(self, message: SimMessage) -> SimMessage:
        self.history.setdefault(message.chat_id, []).append(message)
        return message

    # -- methods ------------------------------------------------------------------------------

    async def _m_getme(self, _p: dict[str, Any]) -> dict[str, Any]:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _m_getupdates(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(p.get("offset") or 0)
        if offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        limit = int(p.get("limit") or 100)
        deadline = time.monotonic() + float(p.get("timeout") or 0)
        async with self._changed:
            while not self.updates and time.monotonic() < deadline:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), deadline - time.monotonic())
        return self.updates[:limit]

    async def _m_setwebhook(self, p: dict[str, Any]) -> bool:
        self.webhook_url = str(p.get("url") or "")
        self.webhook_secret = str(p.get("secret_token") or "")
        if str(p.get("drop_pending_updates", "")).lower() in ("true", "1"):
            self.updates.clear()
        if self.webhook_url and (self._webhook_task is None or self._webhook_task.done()):
            self._webhook_task = asyncio.create_task(self._deliver_webhook())
        return True

    async def _m_deletewebhook(self, p: dict[str, Any]) -> bool:
        self.webhook_url = ""
        if str(p.get("drop_pending_updates", "")).lower() in ("true", "1"):
            self.updates.clear()
        return True

    async def _m_getwebhookinfo(self, _p: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
            **(
                {
                    "last_error_date": self.webhook_last_error[0],
                    "last_error_message": self.webhook_last_error[1],
                }
                if self.webhook_last_error
                else {}
            ),
        }

    async def _m_sendmessage(self, p: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(p)
        text, mode = str(p.get("text", "")), p.get("parse_mode")
        self._checked_text(text, mode, 4096, "text")
        message = SimMessage(
            next(self._message_ids),
            chat_id,
            True,
            text=text,
            parse_mode=mode,
            reply_markup=self._markup(p),
        )
        return self._message_json(self._add(message))

    async def _m_edit(self, p: dict[str, Any], *, text: str | None, caption: str | None) -> Any:
        message = self._find(p)
        markup = self._markup(p)
        mode = p.get("parse_mode", message.parse_mode)
        if text is not None:
            self._checked_text(text, mode, 4096, "text")
        if caption is not None:
            self._checked_text(caption, mode, 1024, "caption")
        new = (
            text if text is not None else message.text,
            caption if caption is not None else message.caption,
            markup,
        )
        if new == (message.text, message.caption, message.reply_markup):
            raise ApiError(400, NOT_MODIFIED)
        message.text, message.caption, message.reply_markup = new
        message.parse_mode = mode
        message.edits += 1
        return self._message_json(message)

    async def _m_editmessagetext(self, p: dict[str, Any]) -> Any:
        return await self._m_edit(p, text=str(p.get("text", "")), caption=None)

    async def _m_editmessagecaption(self, p: dict[str, Any]) -> Any:
        return await self._m_edit(p, text=None, caption=str(p.get("caption", "")))

    async def _m_editmessagereplymarkup(self, p: dict[str, Any]) -> Any:
        return await self._m_edit(p, text=None, caption=None)

    async def _m_deletemessage(self, p: dict[str, Any]) -> bool:
        message = self._find(p)
        self.history[message.chat_id].remove(message)
        return True

    async def _send_file(self, p: dict[str, Any], kind: str) -> dict[str, Any]:
        chat_id = self._chat_id(p)
        caption, mode = str(p.get("caption") or ""), p.get("parse_mode")
        if caption:
            self._checked_text(caption, mode, 1024, "caption")
        meta = self._upload(
            p.get(kind),
            "photo.png" if kind == "photo" else "file",
            "image/png" if kind == "photo" else "application/octet-stream",
        )
        message = SimMessage(
            next(self._message_ids),
            chat_id,
            True,
            caption=caption,
            parse_mode=mode,
            reply_markup=self._markup(p),
        )
        if kind == "photo":
            message.photo = [
                {
                    "file_id": meta["file_id"],
                    "file_unique_id": meta["file_unique_id"],
                    "width": 1080,
                    "height": 720,
                    "file_size": meta["file_size"],
                }
            ]
        else:
            message.document = {
                k: meta[k]
                for k in ("file_id", "file_unique_id", "file_name", "mime_type", "file_size")
            }
        return self._message_json(self._add(message))

    async def _m_sendphoto(self, p: dict[str, Any]) -> dict[str, Any]:
        return await self._send_file(p, "photo")

    async def _m_senddocument(self, p: dict[str, Any]) -> dict[str, Any]:
        return await self._send_file(p, "document")

    async def _m_sendmediagroup(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        """An album: 2 to 10 photos, or documents, each a message of its own (as Telegram)."""
        media = p.get("media")
        if isinstance(media, str):
            media = json.loads(media)
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise ApiError(400, "Bad Request: wrong number of media in the album")
        kinds = {item.get("type") for item in media}
        if len(kinds) > 1 and kinds != {"photo", "video"}:
            raise ApiError(400, "Bad Request: documents can't be mixed with other media types")
        sent = []
        for item in media:
            kind = str(item.get("type"))
            sent.append(
                await self._send_file(
                    {
                        "chat_id": p.get("chat_id"),
                        kind: item.get("media"),
                        "caption": item.get("caption"),
                        "parse_mode": item.get("parse_mode"),
                    },
                    kind,
                )
            )
        return sent

    async def _m_getfile(self, p: dict[str, Any]) -> dict[str, Any]:
        file_id = str(p.get("file_id", ""))
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        meta = self.files[file_id][1]
        if int(meta["file_size"]) > DOWNLOAD_MAX_BYTES:
            raise ApiError(400, "Bad Request: file is too big")
        return {k: meta[k] for k in ("file_id", "file_unique_id", "file_size", "file_path")}

    async def _m_answercallbackquery(self, p: dict[str, Any]) -> bool:
        query_id = str(p.get("callback_query_id", ""))
        if query_id not in self.callback_queries or self.callback_queries[query_id]:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self.callback_queries[query_id] = True
        self.callback_answers.append(p)
        return True

    def _scope_key(self, p: dict[str, Any]) -> str:
        scope = p.get("scope") or {"type": "default"}
        return json.dumps([scope, p.get("language_code") or ""], sort_keys=True)

    async def _m_setmycommands(self, p: dict[str, Any]) -> bool:
        self.command_sets[self._scope_key(p)] = list(p.get("commands") or [])
        return True

    async def _m_getmycommands(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        return self.command_sets.get(self._scope_key(p), [])

    async def _m_deletemycommands(self, p: dict[str, Any]) -> bool:
        self.command_sets.pop(self._scope_key(p), None)
        return True

    async def _m_sendchataction(self, p: dict[str, Any]) -> bool:
        self._chat_id(p)
        return True

    async def _m_getchat(self, p: dict[str, Any]) -> dict[str, Any]:
        # ChatFullInfo: the fields Telegram always sends beside the chat's own.
        return {"accent_color_id": 0, "max_reaction_count": 11, **self.chats[self._chat_id(p)]}

    async def _m_setchatmenubutton(self, _p: dict[str, Any]) -> bool:
        return True

    async def _m_close(self, _p: dict[str, Any]) -> bool:
        return True

    async def _m_logout(self, _p: dict[str, Any]) -> bool:
        return True

    # -- webhook ------------------------------------------------------------------------------

    async def _deliver_webhook(self) -> None:
        """POST updates to the webhook in order; an update is dropped only once the bot
        answered 2xx (Telegram retries otherwise)."""
        async with aiohttp.ClientSession() as client:
            while self.webhook_url:
                if not self.updates:
                    async with self._changed:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._changed.wait(), 0.5)
                    continue
                update = self.updates[0]
                headers = (
                    {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret}
                    if (self.webhook_secret)
                    else {}
                )
                try:
                    async with client.post(
                        self.webhook_url,
                        json=update,
                        headers=headers,
                        timeout=aiohttp.ClientTimeout(total=10),
                    ) as response:
                        delivered = 200 <= response.status < 300
                except (aiohttp.ClientError, TimeoutError) as error:
                    delivered = False
                    self.webhook_last_error = (int(time.time()), str(error) or "Connection failed")
                if delivered:
                    if self.updates and self.updates[0] is update:
                        self.updates.pop(0)
                else:
                    await asyncio.sleep(0.2)

    # -- the people ---------------------------------------------------------------------------

    def add_private_user(
        self,
        user_id: int,
        first_name: str,
        *,
        language_code: str = "es",
        username: str | None = None,
        last_name: str | None = None,
    ) -> dict[str, Any]:
        user = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": language_code,
        }
        if username:
            user["username"] = username
        if last_name:
            user["last_name"] = last_name
        self.users[user_id] = user
        self.chats[user_id] = {"id": user_id, "type": "private", "first_name": first_name}
        return user

    def add_group(self, chat_id: int, title: str) -> dict[str, Any]:
        self.chats[chat_id] = {"id": chat_id, "type": "group", "title": title}
        return self.chats[chat_id]

    async def inject_update(self, update: dict[str, Any]) -> dict[str, Any]:
        update.setdefault("update_id", next(self._update_ids))
        self.updates.append(update)
        await self._notify()
        return update

    async def _user_message(
        self, user_id: int, chat_id: int | None, **fields: Any
    ) -> dict[str, Any]:
        chat_id = user_id if chat_id is None else chat_id
        message = SimMessage(
            next(self._message_ids),
            chat_id,
            False,
            text=fields.get("text", ""),
            caption=fields.get("caption", ""),
        )
        self._add(message)
        data = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": self.chats[chat_id],
            "from": self.users[user_id],
            **fields,
        }
        return await self.inject_update({"message": data})

    async def user_sends_text(
        self, user_id: int, text: str, chat_id: int | None = None
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            fields["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return await self._user_message(user_id, chat_id, **fields)

    async def user_sends_photo(
        self,
        user_id: int,
        caption: str | None = None,
        chat_id: int | None = None,
        content: bytes = b"\x89PNG\r\n\x1a\nfake photo",
    ) -> dict[str, Any]:
        meta = self._store_file(content, "photo.jpg", "image/jpeg")
        fields: dict[str, Any] = {
            "photo": [
                {
                    "file_id": meta["file_id"],
                    "file_unique_id": meta["file_unique_id"],
                    "width": 1280,
                    "height": 960,
                    "file_size": len(content),
                }
            ]
        }
        if caption:
            fields["caption"] = caption
        return await self._user_message(user_id, chat_id, **fields)

    async def user_sends_document(
        self,
        user_id: int,
        file_name: str,
        content: bytes,
        mime_type: str,
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        meta = self._store_file(content, file_name, mime_type)
        fields: dict[str, Any] = {
            "document": {
                k: meta[k]
                for k in ("file_id", "file_unique_id", "file_name", "mime_type", "file_size")
            }
        }
        if caption:
            fields["caption"] = caption
        return await self._user_message(user_id, chat_id, **fields)

    async def user_presses_button(
        self,
        user_id: int,
        message_id: int,
        callback_data: str,
        chat_id: int | None = None,
        *,
        forge: bool = False,
    ) -> dict[str, Any]:
        chat_id = user_id if chat_id is None else chat_id
        message = next(
            (m for m in self.history.get(chat_id, []) if m.message_id == message_id), None
        )
        if not forge and (message is None or callback_data not in [d for _t, d in message.buttons]):
            raise ValueError(f"no button {callback_data!r} on message {message_id}")
        query_id = str(next(self._update_ids) * 7919)
        self.callback_queries[query_id] = False
        message_json = (
            self._message_json(message)
            if message is not None
            else {"message_id": message_id, "date": 0, "chat": self.chats[chat_id]}
        )
        return await self.inject_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self.users[user_id],
                    "chat_instance": str(chat_id),
                    "message": message_json,
                    "data": callback_data,
                }
            }
        )

    # -- chats that go away, come back or move --------------------------------------------------

    def _bot_member(self, status: str) -> dict[str, Any]:
        return {"user": self._bot_user(), "status": status}

    async def _bot_status_changed(
        self, chat_id: int, by_user: int, old: str, new: str
    ) -> dict[str, Any]:
        return await self.inject_update(
            {
                "my_chat_member": {
                    "chat": self.chats[chat_id],
                    "from": self.users.get(by_user)
                    or {"id": by_user, "is_bot": False, "first_name": "?"},
                    "date": int(time.time()),
                    "old_chat_member": self._bot_member(old),
                    "new_chat_member": self._bot_member(new),
                }
            }
        )

    async def kick_bot(self, chat_id: int, by_user: int) -> dict[str, Any]:
        """A group removes the bot: sending there answers 403 from now on."""
        self.refusals[chat_id] = "Forbidden: bot was kicked from the group chat"
        return await self._bot_status_changed(chat_id, by_user, "member", "kicked")

    async def block_bot(self, user_id: int) -> dict[str, Any]:
        """A person blocks the bot: sending to them answers 403 from now on."""
        self.refusals[user_id] = "Forbidden: bot was blocked by the user"
        return await self._bot_status_changed(user_id, user_id, "member", "kicked")

    async def readd_bot(self, chat_id: int, by_user: int) -> dict[str, Any]:
        """The bot is added to the group again (or unblocked): a `my_chat_member` update."""
        self.refusals.pop(chat_id, None)
        return await self._bot_status_changed(chat_id, by_user, "left", "member")

    def delete_chat(self, chat_id: int) -> None:
        """The chat no longer exists: 400 chat not found."""
        self.chats.pop(chat_id, None)

    def upgrade_group(self, chat_id: int, new_chat_id: int) -> dict[str, Any]:
        """A group becomes a supergroup with a new id: the old id answers 400 with
        migrate_to_chat_id."""
        title = self.chats[chat_id].get("title", "")
        self.moved[chat_id] = new_chat_id
        self.chats[new_chat_id] = {"id": new_chat_id, "type": "supergroup", "title": title}
        return self.chats[new_chat_id]

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

    def messages(self, chat_id: int) -> list[SimMessage]:
        """What the bot sent into a chat, in order (edits applied)."""
        return [m for m in self.history.get(chat_id, []) if m.from_bot]

    def file_bytes(self, file_id: str) -> bytes:
        return self.files[file_id][0]

    async def wait_for(self, condition: Callable[[], T | None], timeout: float = 10.0) -> T:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        async with self._changed:
            while not (result := condition()):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("the simulator waited in vain")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), min(left, 0.25))
        return result

    async def wait_for_message(
        self,
        chat_id: int,
        predicate: Callable[[SimMessage], bool] | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109
        after: int = 0,
    ) -> SimMessage:
        def found() -> SimMessage | None:
            for message in self.messages(chat_id)[after:]:
                if predicate is None or predicate(message):
                    return message
            return None

        return await self.wait_for(found, timeout)
