"""How late the event loop runs what is ready, measured as it happens.

The rate limiter (`bot.rate_limits`) reads a send's arrival at Telegram off round trips it
times on this loop. When the loop is saturated (a burst of hundreds of people on a small
machine), every timing carries the loop's delays, and the fastest recent round trip can carry
more of them than the next send does: sends then bunch by up to that difference. The limiter
widens its margin by what this module measures, so a busy process stays within Telegram's
window; on an idle loop the lateness is near zero and nothing changes."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque

#: How often the loop is sampled (seconds), and how long a lateness is remembered.
TICK = 0.02
MEMORY = 2.0
#: The share of the remembered samples whose lateness `recent` covers. What bunches sends is
#: a lateness that lasts (every round trip of the last seconds carries it, the fastest one
#: too); a single long step of the loop delays only the trips answered during it, and the
#: fastest trip is then another one. The highest tenth of the samples, where such steps fall,
#: is left out.
SHARE = 0.9


class LoopLag:
    """A task that sleeps `TICK` over and over and notes how much later than asked it woke."""

    def __init__(self) -> None:
        self._late: deque[tuple[float, float]] = deque(maxlen=int(MEMORY / TICK) + 1)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._measure())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def recent(self) -> float:
        """How late the loop has run lately: the lateness that `SHARE` of the samples of the
        last `MEMORY` seconds did not exceed (0 while not measured)."""
        since = time.monotonic() - MEMORY
        lateness = sorted(late for at, late in self._late if at > since)
        if not lateness:
            return 0.0
        return lateness[min(len(lateness) - 1, int(SHARE * len(lateness)))]

    async def _measure(self) -> None:
        while True:
            asked = time.monotonic() + TICK
            await asyncio.sleep(TICK)
            woke = time.monotonic()
            self._late.append((woke, max(0.0, woke - asked)))
