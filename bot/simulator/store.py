"""What the Bot API simulator keeps: the people and chats, each chat's messages, the updates
waiting for the bot, the files, the webhook; the messages' JSON as Telegram writes it, and the
waits the tests and the demo make until a chat receives something.

`SimulatorStore` is the base of `BotApiSimulator` (in `server`): the Bot API methods
(`methods`) and the people's side (`people`) read and write what it keeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bot.simulator.html_check import HtmlError, visible_text

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


class SimulatorStore:
    """The simulator's chats, messages, updates and files, and its webhook's state."""

    def __init__(self, token: str, *, username: str) -> None:
        self.token = token
        self.bot_id = int(token.split(":")[0]) if token.split(":")[0].isdigit() else 1
        self.username = username
        self.users: dict[int, dict[str, Any]] = {}
        self.chats: dict[int, dict[str, Any]] = {}
        self.history: dict[int, list[SimMessage]] = {}
        self.updates: list[dict[str, Any]] = []
        self.files: dict[str, tuple[bytes, dict[str, Any]]] = {}
        self.callback_queries: dict[str, bool] = {}
        self.callback_answers: list[dict[str, Any]] = []
        self.command_sets: dict[str, list[dict[str, Any]]] = {}
        self.webhook_url = ""
        self.webhook_secret = ""
        #: Telegram's record of the last failed webhook delivery: (unix time, message).
        self.webhook_last_error: tuple[int, str] | None = None
        #: Chats the bot may not write to (kicked from a group, blocked by a person): the 403.
        self.refusals: dict[int, str] = {}
        #: Groups upgraded to a supergroup: old id -> new id (a 400 with migrate_to_chat_id).
        self.moved: dict[int, int] = {}
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        #: One event per chat that someone waits on, set (and dropped) when the chat's
        #: messages change: a wait on one chat is not woken by the others (`wait_for`).
        self._chat_changes: dict[int, asyncio.Event] = {}
        self._webhook_task: asyncio.Task[None] | None = None

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

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

    def _find(self, params: dict[str, Any]) -> SimMessage:
        chat_id = self._chat_id(params)
        message_id = int(params.get("message_id", 0))
        for message in self.history.get(chat_id, []):
            if message.message_id == message_id and message.from_bot:
                return message
        raise ApiError(400, "Bad Request: message to edit not found")

    def _add(self, message: SimMessage) -> SimMessage:
        self.history.setdefault(message.chat_id, []).append(message)
        self._chat_changed(message.chat_id)
        return message

    def _chat_changed(self, chat_id: int) -> None:
        """A message of the chat was added, edited or deleted: wake who waits on it."""
        event = self._chat_changes.pop(chat_id, None)
        if event is not None:
            event.set()

    async def inject_update(self, update: dict[str, Any]) -> dict[str, Any]:
        update.setdefault("update_id", next(self._update_ids))
        self.updates.append(update)
        await self._notify()
        return update

    # -- inspection ---------------------------------------------------------------------------

    def messages(self, chat_id: int) -> list[SimMessage]:
        """What the bot sent into a chat, in order (edits applied)."""
        return [m for m in self.history.get(chat_id, []) if m.from_bot]

    def file_bytes(self, file_id: str) -> bytes:
        return self.files[file_id][0]

    async def wait_for(
        self,
        condition: Callable[[], T | None],
        timeout: float = 10.0,  # noqa: ASYNC109
        *,
        chat_id: int | None = None,
    ) -> T:
        """Until `condition` holds, re-read whenever the simulator changes; with `chat_id`,
        only when that chat's messages change (`condition` must read nothing else). Hundreds
        of people waiting at once each wake for their own chat, not for every call the bot
        makes: a waiter woken by everything costs the simulator's loop (and the machine it
        shares with the bot) the number of waiters times the calls."""
        deadline = time.monotonic() + timeout
        if chat_id is not None:
            while not (result := condition()):
                changed = self._chat_changes.setdefault(chat_id, asyncio.Event())
                await self._until(changed.wait, deadline)
            return result
        async with self._changed:
            while not (result := condition()):
                await self._until(self._changed.wait, deadline)
        return result

    @staticmethod
    async def _until(change: Callable[[], Awaitable[object]], deadline: float) -> None:
        """Wait for `change`, at most a quarter of a second (the condition is read again
        then), and never past `deadline`."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the simulator waited in vain")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(min(left, 0.25)):
                await change()

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

        return await self.wait_for(found, timeout, chat_id=chat_id)
