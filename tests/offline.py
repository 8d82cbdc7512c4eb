"""The offline Bot API transport lives in `bot.offline` (the benchmark uses it too)."""

from bot.offline import BOT_ID, BOT_USERNAME, TOKEN, Call, Chat, OfflineRequest

__all__ = ["BOT_ID", "BOT_USERNAME", "TOKEN", "Call", "Chat", "OfflineRequest"]
