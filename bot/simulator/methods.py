"""The Bot API methods the simulator serves (`_m_<method>`, found by name by `server`), with
Telegram's limits and error descriptions: sending, editing and deleting messages, files and
albums, callback answers, commands, chats, updates and the webhook (with its delivery loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

import aiohttp

from bot.simulator.html_check import HtmlError, visible_text
from bot.simulator.store import ApiError, SimMessage, SimulatorStore
from bot.telegram_limits import DOWNLOAD_MAX_BYTES

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


class BotApiMethods(SimulatorStore):
    """What the bot can call, each method checked as Telegram checks it."""

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

    def _upload(self, value: Any, default_name: str, default_mime: str) -> dict[str, Any]:
        if isinstance(value, str):
            if value in self.files:
                return self.files[value][1]
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        content = value.file.read()
        return self._store_file(
            content, value.filename or default_name, value.content_type or default_mime
        )

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
        self._chat_changed(message.chat_id)
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
        self._chat_changed(message.chat_id)
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
