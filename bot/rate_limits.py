"""The bot's rate limiter: PTB's `BaseRateLimiter` interface, counted the way Telegram counts.

Telegram refuses the 31st message in any second and the 21st into one group in any minute
(sliding windows; `bot.telegram_limits`). PTB's `AIORateLimiter` paces with leaky buckets
(aiolimiter), which let a full bucket *and* its refill through in one window: at 25 a second it
can send 50 within a second, at 18 a minute 36 into a group, and Telegram answers 429. This
limiter keeps the time of each send and waits while a window is full, staying at the margins of
`bot.telegram_limits` (30 a second overall, 19 a minute into a group), each send counted from
the latest moment it may have reached Telegram (`SlidingWindow`). Like `AIORateLimiter`:
the overall window applies to calls with a `chat_id`, the group window to negative or
`@username` chat ids, paid broadcasts have their own window, and a `RetryAfter` holds every
request for the time Telegram asks and is retried up to `max_retries` times.

Replies come first. Sends made inside `background_sends()` (the outbox's delivery,
`bot.outbox_delivery`) wait while any reply waits for the same window, and, while people are
being answered, use the overall window only up to `REPLY_RESERVE` below its size: a person's
answer never queues behind a wave of notifications, and has room in the second even while the
outbox drains.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextvars import ContextVar
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.loop_lag import LoopLag
from bot.telegram_limits import (
    GROUP_SENDS_PER_MINUTE,
    PAID_PER_SECOND,
    SENDS_PER_SECOND,
    retry_after_seconds,
)

log = logging.getLogger(__name__)

Answer = bool | dict[str, Any] | list[dict[str, Any]]

#: Group windows kept before the idle ones are forgotten.
MAX_GROUP_WINDOWS = 512
#: Sends a second of the overall window that background sends leave to replies, while people
#: are being answered (a reply in the last `REPLIES_ACTIVE_SECONDS`).
REPLY_RESERVE = 5
REPLIES_ACTIVE_SECONDS = 5.0
#: Recent round trips whose fastest tells how soon a send arrives (`SlidingWindow`), and how
#: many must be known before it is trusted: a whole window of Telegram's. A burst's round trips
#: all carry the delays of an event loop that is busy with the burst; the fastest of a few can
#: be slower than the network is, and a window counted from it would end too soon.
RTT_SAMPLES = 1024
RTT_KNOWN = 30
#: ...and how long a round trip is remembered: a network that got slower is trusted again
#: within this time (until then the faster trips before make the window count longer).
RTT_MEMORY_SECONDS = 2.0
#: A send counts this much after its latest possible arrival: the round trips the bot measures
#: include its own event loop's delays, which under load differ from one send to the next. A
#: loop that keeps running late (`bot.loop_lag`) adds twice its recent lateness.
CLOCK_MARGIN = 0.02
#: Calls whose time is not a round trip (a long poll waits for updates): never timed.
LONG_CALLS = frozenset({"getUpdates"})

_BACKGROUND: ContextVar[bool] = ContextVar("background_send", default=False)


@contextlib.contextmanager
def background_sends() -> Iterator[None]:
    """Sends made in this block (and in the tasks it starts) give way to replies."""
    token = _BACKGROUND.set(True)
    try:
        yield
    finally:
        _BACKGROUND.reset(token)


def in_background() -> bool:
    return _BACKGROUND.get()


class SlidingWindow:
    """At most `max_rate` sends in any `time_period` seconds, as Telegram counts them: when
    they arrive, somewhere between our start and our answer.

    A send counts from the latest moment it may have arrived: its answer less the fastest round
    trip among the last `RTT_SAMPLES` of the last `RTT_MEMORY_SECONDS`, or of any age after a
    quiet spell (`fastest_trip`). The way back takes at least that fastest trip's share, and
    the next send's way there at least the same share, so both are read on one clock. The trips
    are the sends' and, through `observe`, other calls' (a button's answer crosses the same
    network). On a steady network this is the send's start, and a full window goes out every
    period; the slower a send's trip, the longer it counts.
    While fewer than `RTT_KNOWN` round trips are known, and while a send is in flight, it counts
    from its answer (the most cautious reading: arrival at the very end). A network that gets
    faster by more than `CLOCK_MARGIN` in an instant can bunch one window's sends; Telegram's 429
    is then waited out (`TelegramRateLimiter.process_request`)."""

    def __init__(
        self,
        max_rate: int,
        time_period: float,
        reserve: int = 0,
        loop_lag: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self.max_rate = max_rate
        #: How late the event loop has been running lately (`bot.loop_lag`).
        self._loop_lag = loop_lag
        self.time_period = time_period
        #: Places of the window that background sends leave to replies.
        self.reserve = min(reserve, max_rate - 1)
        self._sent: list[float] = []  # when each send counts from; inf while in flight
        #: (when answered, round trip) of the latest sends
        self._round_trips: deque[tuple[float, float]] = deque(maxlen=RTT_SAMPLES)
        self._lock = asyncio.Lock()
        self._background_lock = asyncio.Lock()
        self._replies_waiting = 0
        self._last_reply = -math.inf

    def fastest_trip(self) -> float:
        """The fastest recent round trip, once enough are known. A burst after a quiet spell
        has few recent trips: it is counted from the fastest of the last `RTT_SAMPLES` of any
        age (never slower than the recent ones, so never a shorter count; without it, the
        burst's first window would count from its answers and every later window, chained to
        it, would leave a round trip late). With fewer known, 0: count from answers."""
        since = time.monotonic() - RTT_MEMORY_SECONDS
        trips = [trip for answered, trip in self._round_trips if answered > since]
        if len(trips) < RTT_KNOWN:
            trips = [trip for _answered, trip in self._round_trips]
        return min(trips) if len(trips) >= RTT_KNOWN else 0.0

    def _forget_old(self, now: float) -> None:
        self._sent = [t for t in self._sent if t > now - self.time_period]

    def has_capacity(self, amount: float = 1) -> bool:
        self._forget_old(time.monotonic())
        return len(self._sent) + amount <= self.max_rate

    def _wait(self, now: float) -> float:
        first = min(self._sent)
        wait = first + self.time_period - now if first != math.inf else 0.05
        return max(wait, 0.001)

    @contextlib.asynccontextmanager
    async def place(self) -> AsyncIterator[None]:
        """Room for one send, held around its request."""
        start = await (self._room_for_background() if in_background() else self._room_for_reply())
        try:
            yield
        finally:
            self._answered(start)

    def _take(self, now: float) -> float:
        self._sent.append(math.inf)
        return now

    async def _room_for_reply(self) -> float:
        self._replies_waiting += 1
        self._last_reply = time.monotonic()
        try:
            async with self._lock:
                while True:
                    now = time.monotonic()
                    self._forget_old(now)
                    if len(self._sent) < self.max_rate:
                        return self._take(now)
                    await asyncio.sleep(self._wait(now))
        finally:
            self._replies_waiting -= 1

    async def _room_for_background(self) -> float:
        """A background send's place: none while a reply waits, and the reserve left free."""
        async with self._background_lock:
            while True:
                now = time.monotonic()
                self._forget_old(now)
                if self._replies_waiting:
                    await asyncio.sleep(0.01)
                    continue
                replying = now - self._last_reply < REPLIES_ACTIVE_SECONDS
                if len(self._sent) < self.max_rate - (self.reserve if replying else 0):
                    return self._take(now)
                await asyncio.sleep(self._wait(now))

    def observe(self, start: float) -> None:
        """A call outside the window (no message: a button's answer, say) answered now, having
        started at `start`: its round trip tells how fast the network is, as a send's does."""
        now = time.monotonic()
        self._round_trips.append((now, now - start))

    def _answered(self, start: float) -> None:
        """The answer is back: the send counts from its latest possible arrival (any
        in-flight entry stands for it: they are alike)."""
        now = time.monotonic()
        self._round_trips.append((now, now - start))
        # Both the fastest trip and this one may carry a busy loop's delays, in either leg.
        arrived = now - self.fastest_trip() + CLOCK_MARGIN + 2 * self._loop_lag()
        self._sent[self._sent.index(math.inf)] = min(arrived, now)


class TelegramRateLimiter(BaseRateLimiter[int]):
    """Sliding windows (overall per second, per group per minute) and retries on 429."""

    def __init__(
        self,
        overall_per_second: int = SENDS_PER_SECOND,
        group_per_minute: int = GROUP_SENDS_PER_MINUTE,
        max_retries: int = 3,
    ) -> None:
        self._loop_lag = LoopLag()
        self._overall = SlidingWindow(overall_per_second, 1, REPLY_RESERVE, self._loop_lag.recent)
        self._paid = SlidingWindow(PAID_PER_SECOND, 1, loop_lag=self._loop_lag.recent)
        self._group_per_minute = group_per_minute
        self._groups: dict[int | str, SlidingWindow] = {}
        self._max_retries = max_retries
        self._not_held = asyncio.Event()  # cleared while Telegram asks every request to wait
        self._not_held.set()

    async def initialize(self) -> None:
        """Start measuring the event loop's lateness."""
        self._loop_lag.start()

    async def shutdown(self) -> None:
        await self._loop_lag.stop()

    def group_window(self, group_id: int | str) -> SlidingWindow:
        """The group's window; past `MAX_GROUP_WINDOWS`, those with nothing in them go."""
        if len(self._groups) > MAX_GROUP_WINDOWS:
            for key, window in list(self._groups.items()):
                if key != group_id and window.has_capacity(window.max_rate):
                    del self._groups[key]
        if group_id not in self._groups:
            self._groups[group_id] = SlidingWindow(
                self._group_per_minute, 60, loop_lag=self._loop_lag.recent
            )
        return self._groups[group_id]

    async def _send(
        self,
        callback: Callable[..., Coroutine[Any, Any, Answer]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
    ) -> Answer:
        chat_id = _chat_of(data.get("chat_id"))
        in_group = (isinstance(chat_id, int) and chat_id < 0) or isinstance(chat_id, str)
        async with contextlib.AsyncExitStack() as windows:
            if data.get("allow_paid_broadcast", False):
                await windows.enter_async_context(self._paid.place())
            else:
                if in_group and chat_id is not None:
                    await windows.enter_async_context(self.group_window(chat_id).place())
                if chat_id is not None:
                    await windows.enter_async_context(self._overall.place())
            await self._not_held.wait()
            if chat_id is not None or endpoint in LONG_CALLS:
                return await callback(*args, **kwargs)
            start = time.monotonic()
            answer = await callback(*args, **kwargs)
            self._overall.observe(start)
            return answer

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Answer]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Answer:
        """Send within the windows; on `RetryAfter`, hold every request for the time asked
        and retry (`rate_limit_args`, when given, is the number of retries)."""
        max_retries = rate_limit_args or self._max_retries
        for attempt in range(max_retries + 1):
            try:
                return await self._send(callback, args, kwargs, endpoint, data)
            except RetryAfter as error:
                if attempt == max_retries:
                    log.warning("%s: still refused after %d retries", endpoint, max_retries)
                    raise
                pause = retry_after_seconds(error) + 0.1
                log.info("%s: Telegram asks to wait %.1f s", endpoint, pause)
                self._not_held.clear()
                await asyncio.sleep(pause)
            finally:
                self._not_held.set()
        raise AssertionError("unreachable")


def _chat_of(value: object) -> int | str | None:
    """The chat a request goes to: a chat id, a public username ("@channel"), or none."""
    if value is None:
        return None
    try:
        return int(str(value))
    except ValueError:
        return str(value)
