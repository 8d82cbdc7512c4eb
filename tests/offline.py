"""An offline transport for python-telegram-bot: every Bot API call is recorded and answered
locally with a plausible result, so flows run through the real `Application` with no network."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

BOT_ID = 7_000_000_001
BOT_USERNAME = "plan_de_mejora_bot"
TOKEN = f"{BOT_ID}:offline-token"


@dataclass
class Call:
    method: str
    params: dict[str, Any]

    @property
    def text(self) -> str:
        return str(self.params.get("text") or self.params.get("caption") or "")

    @property
    def buttons(self) -> list[tuple[str, str]]:
        markup = self.params.get("reply_markup") or {}
        if isinstance(markup, str):
            markup = json.loads(markup)
        return [
            (b.get("text", ""), b.get("callback_data") or b.get("url") or "")
            for row in markup.get("inline_keyboard", [])
            for b in row
        ]


@dataclass
class OfflineRequest(BaseRequest):
    calls: list[Call] = field(default_factory=list)
    message_ids: itertools.count = field(default_factory=lambda: itertools.count(1000))
    fail_with: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    #: Files people "uploaded", by file id: served by getFile and the file download URL.
    files: dict[str, bytes] = field(default_factory=dict)
    #: Bot API methods left unanswered (recorded, then waiting) until their event is set.
    held: dict[str, asyncio.Event] = field(default_factory=dict)
    #: Events set as soon as a call of their method is made.
    made: dict[str, asyncio.Event] = field(default_factory=dict)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        if "/file/bot" in url:
            return (200, self.files[api_method]) if api_method in self.files else (404, b"")
        params = dict(request_data.parameters) if request_data else {}
        for key, value in list(params.items()):
            if key in ("reply_markup", "commands", "scope") and isinstance(value, str):
                params[key] = json.loads(value)
        if api_method not in ("getUpdates",):
            self.calls.append(Call(api_method, params))
        if api_method in self.made:
            self.made[api_method].set()
        if api_method in self.held:
            await self.held[api_method].wait()
        if self.fail_with and api_method.startswith(("send", "edit")):
            status, body = self.fail_with.pop(0)
            return status, json.dumps(body).encode()
        return 200, json.dumps({"ok": True, "result": self._result(api_method, params)}).encode()

    def _message(self, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
        chat_id = params.get("chat_id", 0)
        chat_id = int(chat_id) if str(chat_id).lstrip("-").isdigit() else 0
        message = {
            "message_id": params.get("message_id") or next(self.message_ids),
            "date": int(dt.datetime.now(dt.UTC).timestamp()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group", "title": "g"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Plan", "username": BOT_USERNAME},
            **extra,
        }
        if "text" in params:
            message["text"] = params["text"]
        if params.get("caption"):
            message["caption"] = params["caption"]
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return message

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Plan de Mejora",
                "username": BOT_USERNAME,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if method == "getUpdates":
            return []
        if method in ("sendMessage", "editMessageText", "editMessageReplyMarkup"):
            return self._message(params)
        if method == "sendDocument":
            document = {"file_id": f"doc{len(self.calls)}", "file_unique_id": f"u{len(self.calls)}"}
            return self._message(params, document=document)
        if method == "sendPhoto":
            size = {
                "file_id": f"ph{len(self.calls)}",
                "file_unique_id": "p",
                "width": 1,
                "height": 1,
            }
            return self._message(params, photo=[size])
        if method == "sendMediaGroup":
            media = params.get("media")
            items = json.loads(media) if isinstance(media, str) else media or []
            return [
                self._message(
                    {"chat_id": params.get("chat_id"), "caption": item.get("caption")},
                    **(
                        {
                            "photo": [
                                {
                                    "file_id": item["media"],
                                    "file_unique_id": "p",
                                    "width": 1,
                                    "height": 1,
                                }
                            ]
                        }
                        if item.get("type") == "photo"
                        else {"document": {"file_id": item["media"], "file_unique_id": "d"}}
                    ),
                )
                for item in items
            ]
        if method in ("sendVoice", "sendAudio", "sendVideo", "sendVideoNote", "sendLocation"):
            return self._message(params)
        if method == "getFile":
            file_id = str(params.get("file_id"))
            size = len(self.files.get(file_id, b""))
            return {
                "file_id": file_id,
                "file_unique_id": "f",
                "file_path": file_id,
                "file_size": size,
            }
        return True

    def sent(self, chat_id: int | None = None) -> list[Call]:
        """Messages the bot sent or edited, optionally only into one chat."""
        kinds = (
            "sendMessage",
            "editMessageText",
            "sendDocument",
            "sendPhoto",
            "sendMediaGroup",
            "editMessageReplyMarkup",
            "sendVoice",
            "sendAudio",
            "sendVideo",
            "sendVideoNote",
            "sendLocation",
        )
        return [
            c
            for c in self.calls
            if c.method in kinds and (chat_id is None or int(c.params.get("chat_id", 0)) == chat_id)
        ]

    def last(self, chat_id: int | None = None) -> Call:
        return self.sent(chat_id)[-1]


class Chat:
    """Builds updates as Telegram would send them, for one user in one chat."""

    _update_ids = itertools.count(1)
    _message_ids = itertools.count(1)

    def __init__(
        self,
        app: Application,  # type: ignore[type-arg]
        user_id: int,
        *,
        first_name: str = "Ana",
        language_code: str = "es",
        chat_id: int | None = None,
        username: str | None = None,
    ) -> None:
        self.app = app
        self.user = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": language_code,
        }
        if username:
            self.user["username"] = username
        self.chat_id = chat_id if chat_id is not None else user_id
        self.chat = (
            {"id": self.chat_id, "type": "private", "first_name": first_name}
            if self.chat_id > 0
            else {"id": self.chat_id, "type": "group", "title": "Grupo"}
        )

    def _message(self, **fields: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "date": int(dt.datetime.now(dt.UTC).timestamp()),
            "chat": self.chat,
            "from": self.user,
            **fields,
        }

    async def feed(self, update: dict[str, Any]) -> dict[str, Any]:
        await self.app.process_update(Update.de_json(update, self.app.bot))
        return update

    async def send(self, text: str) -> dict[str, Any]:
        fields: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            fields["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return await self.feed(
            {"update_id": next(self._update_ids), "message": self._message(**fields)}
        )

    async def send_photo(
        self, caption: str | None = None, media_group: str | None = None
    ) -> dict[str, Any]:
        n = next(self._message_ids)
        photo = [
            {"file_id": f"photo{n}s", "file_unique_id": f"ps{n}", "width": 90, "height": 90},
            {"file_id": f"photo{n}", "file_unique_id": f"p{n}", "width": 1280, "height": 960},
        ]
        fields: dict[str, Any] = {"photo": photo}
        if caption:
            fields["caption"] = caption
        if media_group:
            fields["media_group_id"] = media_group
        return await self.feed(
            {"update_id": next(self._update_ids), "message": self._message(**fields)}
        )

    async def send_document(
        self,
        file_name: str,
        mime_type: str = "application/pdf",
        caption: str | None = None,
        content: bytes | None = None,
    ) -> dict[str, Any]:
        n = next(self._message_ids)
        if content is not None:
            request = self.app.bot.request
            if isinstance(request, OfflineRequest):
                request.files[f"doc{n}"] = content
        document = {
            "file_id": f"doc{n}",
            "file_unique_id": f"d{n}",
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": 1234,
        }
        fields: dict[str, Any] = {"document": document}
        if caption:
            fields["caption"] = caption
        return await self.feed(
            {"update_id": next(self._update_ids), "message": self._message(**fields)}
        )

    async def send_media(self, **fields: Any) -> dict[str, Any]:
        """A message with whatever Telegram fields are given (`voice=`, `location=`...)."""
        return await self.feed(
            {"update_id": next(self._update_ids), "message": self._message(**fields)}
        )

    async def press(self, data: str, message_id: int = 1) -> dict[str, Any]:
        message = {
            "message_id": message_id,
            "date": int(dt.datetime.now(dt.UTC).timestamp()),
            "chat": self.chat,
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Plan"},
            "text": "…",
        }
        query = {
            "id": str(next(self._update_ids)),
            "from": self.user,
            "chat_instance": "ci",
            "message": message,
            "data": data,
        }
        return await self.feed({"update_id": next(self._update_ids), "callback_query": query})
