"""Telegram's flood control, as sliding windows: Telegram's own limits (`bot.telegram_limits`,
without the bot's margins): 30 messages a second overall, 20 a minute into one group, and a
short burst into one private chat."""

from __future__ import annotations

import math
import time
from collections import Counter, deque
from dataclasses import dataclass, field

from bot.telegram_limits import GROUP_PER_MINUTE, OVERALL_PER_SECOND, PRIVATE_BURST_PER_SECOND


@dataclass
class Window:
    limit: int
    seconds: float
    times: deque[float] = field(default_factory=deque)

    def retry_after(self, now: float) -> int:
        """0 when one more fits now; else the whole seconds to wait."""
        while self.times and self.times[0] <= now - self.seconds:
            self.times.popleft()
        if len(self.times) < self.limit:
            return 0
        return max(1, math.ceil(self.times[0] + self.seconds - now))

    def record(self, now: float) -> None:
        self.times.append(now)


@dataclass
class FloodControl:
    overall_per_second: int = OVERALL_PER_SECOND
    group_per_minute: int = GROUP_PER_MINUTE
    private_per_second: int = PRIVATE_BURST_PER_SECOND
    enabled: bool = True
    overall: Window = field(init=False)
    chats: dict[int, Window] = field(default_factory=dict)
    #: Refusals by the window that was full: "overall", "group" or "private".
    refused: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.overall = Window(self.overall_per_second, 1.0)

    def _chat(self, chat_id: int) -> Window:
        if chat_id not in self.chats:
            self.chats[chat_id] = (
                Window(self.group_per_minute, 60.0)
                if chat_id < 0
                else Window(self.private_per_second, 1.0)
            )
        return self.chats[chat_id]

    def check(self, chat_id: int, now: float | None = None) -> int:
        """Record a send and return 0, or return Telegram's retry_after without recording."""
        if not self.enabled:
            return 0
        now = time.monotonic() if now is None else now
        chat = self._chat(chat_id)
        overall, own = self.overall.retry_after(now), chat.retry_after(now)
        if overall or own:
            self.refused["overall" if overall else "group" if chat_id < 0 else "private"] += 1
            return max(overall, own)
        self.overall.record(now)
        chat.record(now)
        return 0
