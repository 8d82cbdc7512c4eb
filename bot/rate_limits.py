"""PTB's rate limiter, counted the way Telegram counts: sliding windows.

Telegram refuses the 31st message in any second and the 21st into one group in any minute.
PTB's `AIORateLimiter` paces with leaky buckets (aiolimiter), which let a full bucket *and* its
refill through in one window: at 25 a second it can send 50 within a second, at 18 a minute
36 into a group, and Telegram answers 429. Here the same limiter keeps the time of each send
and waits while the window is full. Overall it stays at 25 a second, not 30, for some room.
"""

from __future__ import annotations

import asyncio
import math
import time

from telegram.ext import AIORateLimiter

OVERALL_PER_SECOND = 25
GROUP_PER_MINUTE = 19


class SlidingWindow:
    """At most `max_rate` sends in any `time_period` seconds; an async context manager around
    the request, as aiolimiter's `AsyncLimiter` is.

    A send counts from when its answer came back (while it is in flight it counts as not yet
    expiring): Telegram counts arrivals, which happen somewhere between our start and our
    answer, so counting from the answer can never make two windows' worth land in one of
    Telegram's, however the requests' latencies differ."""

    def __init__(self, max_rate: int, time_period: float) -> None:
        self.max_rate = max_rate
        self.time_period = time_period
        self._sent: list[float] = []  # when each send's answer came back; inf while in flight
        self._lock = asyncio.Lock()

    def _forget_old(self, now: float) -> None:
        self._sent = [t for t in self._sent if t > now - self.time_period]

    def has_capacity(self, amount: float = 1) -> bool:
        self._forget_old(time.monotonic())
        return len(self._sent) + amount <= self.max_rate

    async def __aenter__(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                self._forget_old(now)
                if len(self._sent) < self.max_rate:
                    self._sent.append(math.inf)
                    return
                first = min(self._sent)
                wait = first + self.time_period - now if first != math.inf else 0.05
                await asyncio.sleep(max(wait, 0.001))

    async def __aexit__(self, *_exc: object) -> None:
        """The answer is back: this send now counts from now (any in-flight entry will do,
        they are alike)."""
        if math.inf in self._sent:
            self._sent[self._sent.index(math.inf)] = time.monotonic()


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
