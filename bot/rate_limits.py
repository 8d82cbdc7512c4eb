"""PTB's rate limiter, counted the way Telegram counts: sliding windows.

Telegram refuses the 31st message in any second and the 21st into one group in any minute.
PTB's `AIORateLimiter` paces with leaky buckets (aiolimiter), which let a full bucket *and* its
refill through in one window: at 25 a second it can send 50 within a second, at 18 a minute
36 into a group, and Telegram answers 429. Here the same limiter keeps the time of each send
and waits while the window is full. Overall it stays at 25 a second, not 30: Telegram counts
arrivals, and requests paced on our clock can arrive bunched up.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

from telegram.ext import AIORateLimiter

OVERALL_PER_SECOND = 25
GROUP_PER_MINUTE = 19


class SlidingWindow:
    """At most `max_rate` entries in any `time_period` seconds; an async context manager, as
    aiolimiter's `AsyncLimiter` is."""

    def __init__(self, max_rate: int, time_period: float) -> None:
        self.max_rate = max_rate
        self.time_period = time_period
        self._sent: deque[float] = deque()
        self._lock = asyncio.Lock()

    def _forget_old(self, now: float) -> None:
        while self._sent and self._sent[0] <= now - self.time_period:
            self._sent.popleft()

    def has_capacity(self, amount: float = 1) -> bool:
        self._forget_old(time.monotonic())
        return len(self._sent) + amount <= self.max_rate

    async def __aenter__(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                self._forget_old(now)
                if len(self._sent) < self.max_rate:
                    self._sent.append(now)
                    return
                await asyncio.sleep(self._sent[0] + self.time_period - now)

    async def __aexit__(self, *_exc: object) -> None:
        return None


class TelegramRateLimiter(AIORateLimiter):
    """`AIORateLimiter` (its retries on 429 included) over sliding windows."""

    def __init__(
        self,
        overall_per_second: int = OVERALL_PER_SECOND,
        group_per_minute: int = GROUP_PER_MINUTE,
        max_retries: int = 3,
    ) -> None:
        super().__init__(
            overall_max_rate=overall_per_second,
            overall_time_period=1,
            group_max_rate=group_per_minute,
            group_time_period=60,
            max_retries=max_retries,
        )
        self._base_limiter = SlidingWindow(overall_per_second, 1)  # type: ignore[assignment]

    def _get_group_limiter(self, group_id: str | int | bool) -> SlidingWindow:  # type: ignore[override]
        if len(self._group_limiters) > 512:
            for key, limiter in list(self._group_limiters.items()):
                if key != group_id and limiter.has_capacity(limiter.max_rate):
                    del self._group_limiters[key]
        if group_id not in self._group_limiters:
            self._group_limiters[group_id] = SlidingWindow(  # type: ignore[assignment]
                self._group_max_rate, self._group_time_period
            )
        return self._group_limiters[group_id]  # type: ignore[return-value]
