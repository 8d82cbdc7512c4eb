"""The people's side of the Bot API simulator: tests and the demo add people and groups, send
texts, photos and documents, press buttons, and make chats go away, come back or move (each as
the update Telegram would send the bot).
"""

from __future__ import annotations

import time
from typing import Any

from bot.simulator.store import SimMessage, SimulatorStore


class SimulatedPeople(SimulatorStore):
    """What the people do, as updates for the bot."""

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
