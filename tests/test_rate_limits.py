"""The rate limiter against the simulator's flood control, which counts as Telegram does (a
sliding window): a burst as large as the window allows goes straight out, then the limiter
waits, and no message is answered 429. PTB's leaky-bucket limiter at the same nominal rate is
answered 429, which is why the project has its own."""

from __future__ import annotations

import asyncio
import inspect
import random
import time

import pytest
from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter, BaseRateLimiter, ExtBot

from bot.loop_lag import LoopLag
from bot.rate_limits import (
    MAX_GROUP_WINDOWS,
    RTT_KNOWN,
    RTT_MEMORY_SECONDS,
    SlidingWindow,
    TelegramRateLimiter,
    background_sends,
)
from bot.simulator.server import BotApiSimulator

TOKEN = "7000000005:limits"
GROUP = -1005


async def send_burst(sim: BotApiSimulator, limiter: BaseRateLimiter, count: int) -> None:
    bot = ExtBot(TOKEN, base_url=sim.base_url, rate_limiter=limiter)
    async with bot:
        await asyncio.gather(
            *(bot.send_message(GROUP, f"aviso {n}") for n in range(count)),
            return_exceptions=True,
        )


async def test_a_group_gets_its_whole_window_at_once_and_then_waits() -> None:
    async with BotApiSimulator(TOKEN, group_per_minute=4) as sim:
        sim.add_group(GROUP, "Secretariado")
        limiter = TelegramRateLimiter(group_per_minute=4, max_retries=0)
        await send_burst(sim, limiter, 4)
        assert sim.stats["sendMessage"] == 4
        assert sim.stats["429"] == 0
        assert not limiter.group_window(GROUP).has_capacity()


async def test_a_leaky_bucket_at_the_same_rate_is_refused() -> None:
    async with BotApiSimulator(TOKEN, overall_per_second=4) as sim:
        sim.add_group(GROUP, "Secretariado")
        await send_burst(
            sim, AIORateLimiter(overall_max_rate=4, overall_time_period=1, max_retries=0), 10
        )
        assert sim.stats["429"] > 0


async def test_the_overall_window_holds_under_a_burst() -> None:
    """At the server's very limit: a send counts from its answer, so bursts paced on the bot's
    clock never land two windows' worth in one of Telegram's, whatever the latencies."""
    async with BotApiSimulator(TOKEN, overall_per_second=4) as sim:
        sim.add_group(GROUP, "Secretariado")
        await send_burst(sim, TelegramRateLimiter(overall_per_second=4, max_retries=0), 12)
        assert sim.stats["sendMessage"] == 12
        assert sim.stats["429"] == 0


async def test_capacity_is_freed_as_the_window_slides() -> None:
    window = SlidingWindow(2, 0.05)
    async with window.place():
        assert window.has_capacity(1)  # one in flight, one free
    async with window.place():
        pass
    assert not window.has_capacity()
    await asyncio.sleep(0.06)
    assert window.has_capacity(2)


def test_it_implements_ptbs_public_interface_exactly() -> None:
    """Fails when PTB changes `BaseRateLimiter`: the limiter must then follow."""
    assert not TelegramRateLimiter.__abstractmethods__
    for name in ("initialize", "shutdown", "process_request"):
        ours = inspect.signature(getattr(TelegramRateLimiter, name))
        theirs = inspect.signature(getattr(BaseRateLimiter, name))
        assert list(ours.parameters) == list(theirs.parameters), name


async def test_retry_after_is_waited_and_retried_up_to_max_retries() -> None:
    limiter = TelegramRateLimiter(max_retries=2)
    calls = 0

    async def refused_once() -> dict[str, bool]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RetryAfter(0)
        return {"ok": True}

    answer = await limiter.process_request(
        refused_once, (), {}, "sendMessage", {"chat_id": 1}, None
    )
    assert (answer, calls) == ({"ok": True}, 2)

    async def always_refused() -> dict[str, bool]:
        nonlocal calls
        calls += 1
        raise RetryAfter(0)

    calls = 0
    with pytest.raises(RetryAfter):
        await limiter.process_request(always_refused, (), {}, "sendMessage", {"chat_id": 1}, None)
    assert calls == 3


async def test_the_group_windows_are_bounded() -> None:
    limiter = TelegramRateLimiter()
    busy = limiter.group_window(-5000)
    async with busy.place():
        pass
    for group in range(10 * MAX_GROUP_WINDOWS):
        limiter.group_window(-1 - group)
        assert len(limiter._groups) <= MAX_GROUP_WINDOWS + 2
    # the idle ones went, the one with a recent send stayed
    assert limiter.group_window(-5000) is busy


async def test_a_reply_goes_before_the_waiting_background_sends() -> None:
    """Notifications waiting for a full window give way to a reply that arrives after them."""
    window = SlidingWindow(1, 0.05)
    order: list[str] = []

    async def send(name: str, background: bool) -> None:
        if background:
            with background_sends():
                async with window.place():
                    order.append(name)
        else:
            async with window.place():
                order.append(name)

    async with window.place():  # the window is full
        notifications = [asyncio.create_task(send(f"n{n}", True)) for n in range(3)]
        await asyncio.sleep(0.01)  # they wait for room
        reply = asyncio.create_task(send("reply", False))
        await asyncio.sleep(0)
    await asyncio.gather(reply, *notifications)
    assert order[0] == "reply"
    assert sorted(order[1:]) == ["n0", "n1", "n2"]


async def test_background_sends_leave_room_for_replies_while_people_are_answered() -> None:
    window = SlidingWindow(4, 60, reserve=2)
    with background_sends():
        for _ in range(4):
            async with window.place():
                pass  # nobody answered lately: the whole window
    assert not window.has_capacity()
    window = SlidingWindow(4, 60, reserve=2)
    async with window.place():
        pass  # a reply
    with background_sends():
        async with window.place():
            pass
        blocked = asyncio.create_task(window.place().__aenter__())
        await asyncio.sleep(0.05)
        assert not blocked.done()  # the last place is the replies'
        blocked.cancel()
    async with window.place():
        pass  # a reply still gets it


async def test_a_network_whose_latency_varies_stays_within_the_window() -> None:
    """A send counts from its latest possible arrival, so sends that arrive late and the next
    ones early never land more than a window's worth in one of Telegram's seconds."""
    async with BotApiSimulator(TOKEN, overall_per_second=8, group_per_minute=100) as sim:
        sim.add_group(GROUP, "Secretariado")
        sim.latency, sim.jitter = 0.05, 0.2
        limiter = TelegramRateLimiter(overall_per_second=8, group_per_minute=60, max_retries=0)
        await send_burst(sim, limiter, 40)
        assert sim.stats["sendMessage"] == 40
        assert sim.stats["429"] == 0


async def _still_counting(
    loop_lag: float = 0.0, pause: float = 1.05, earlier: int = RTT_KNOWN, sends: int = 40
) -> int:
    """`sends` sends, each a 200 ms round trip, started at once `pause` seconds after `earlier`
    ones (`RTT_KNOWN` of them: the fastest trip, 200 ms, is trusted), in a window of as many
    places: how many of them still count 1.1 s after their start, with the event loop running
    `loop_lag` seconds late."""
    window = SlidingWindow(sends, 1.0, loop_lag=lambda: loop_lag)

    async def send() -> None:
        async with window.place():
            await asyncio.sleep(0.2)

    await asyncio.gather(*(send() for _ in range(earlier)))
    await asyncio.sleep(pause)  # the window is empty again; the round trips are remembered
    started = time.monotonic()
    await asyncio.gather(*(send() for _ in range(sends)))
    await asyncio.sleep(started + 1.1 - time.monotonic())
    # n places are free once no more than `sends - n` count: the least such n is the count.
    return next(n for n in range(sends + 1) if window.has_capacity(sends - n))


async def test_a_burst_after_a_quiet_spell_counts_from_the_trips_known_before() -> None:
    """Round trips older than `RTT_MEMORY_SECONDS` still tell how fast the network is when no
    recent ones do: the first window of a burst after a pause counts from its sends' starts
    (free again 1.02 s later), not from their answers (a round trip later, and every window
    chained to it with it). With too few trips known at all, sends count from their answers."""
    assert await _still_counting(pause=RTT_MEMORY_SECONDS + 0.2) == 0
    assert await _still_counting(earlier=0, pause=0, sends=RTT_KNOWN - 1) == RTT_KNOWN - 1


@pytest.mark.parametrize(
    ("endpoint", "timed"), [("answerCallbackQuery", True), ("getUpdates", False)]
)
async def test_a_call_outside_the_window_tells_the_round_trip_too(
    endpoint: str, timed: bool
) -> None:
    """A button's answer (no chat: outside the window) is timed as a send is, so that a burst
    of sends right after a burst of presses counts from its start (the 32nd send goes 1.02 s
    after the first, not 1.2 s: after their answers); a long poll's time is no round trip."""
    limiter = TelegramRateLimiter(overall_per_second=30)

    async def trip() -> bool:
        await asyncio.sleep(0.2)
        return True

    async def call(name: str, data: dict[str, object]) -> object:
        return await limiter.process_request(trip, (), {}, name, data, None)

    await asyncio.gather(*(call(endpoint, {"callback_query_id": str(n)}) for n in range(RTT_KNOWN)))
    started = time.monotonic()
    await asyncio.gather(*(call("sendMessage", {"chat_id": n + 1}) for n in range(30)))
    # Two more: they wait for two of the first sends to leave the window (the latest of the
    # burst's answers makes the round trip known, and that one send counts from its start).
    await asyncio.gather(*(call("sendMessage", {"chat_id": 100 + n}) for n in range(2)))
    assert (time.monotonic() - started < 1.3) is timed


async def test_a_late_event_loop_makes_a_send_count_longer() -> None:
    """On a punctual loop a send counts from its start (its answer less the fastest trip, plus
    20 ms), so the window is free again 1.02 s later; on a loop running 100 ms late, both trips
    may carry that much, and the send counts from its answer (200 ms later)."""
    assert await _still_counting(loop_lag=0.0) == 0
    assert await _still_counting(loop_lag=0.1) == 40


async def test_a_loop_that_keeps_running_late_is_measured() -> None:
    lag = LoopLag()
    lag.start()
    try:
        for _ in range(20):  # every tick of the loop finds it 30 ms into other work
            await asyncio.sleep(0)
            time.sleep(0.03)  # noqa: ASYNC251 (the point: the loop blocked)
        assert lag.recent() >= 0.02
    finally:
        await lag.stop()
    assert lag.recent() >= 0.02  # remembered for a while


async def test_a_single_long_step_of_the_loop_is_not_taken_for_lateness() -> None:
    """One long step delays only the round trips answered during it; the fastest recent trip,
    the one a send is counted from, is another (`bot.loop_lag.SHARE`)."""
    lag = LoopLag()
    lag.start()
    try:
        await asyncio.sleep(0.5)
        time.sleep(0.15)  # noqa: ASYNC251 (the point: the loop blocked once)
        await asyncio.sleep(0.3)
        assert lag.recent() < 0.05
    finally:
        await lag.stop()


async def _busy_loop(stop: asyncio.Event, seed: int) -> None:
    """Other people's updates keeping the event loop busy for up to 80 ms at a time."""
    rng = random.Random(seed)
    while not stop.is_set():
        time.sleep(rng.uniform(0.0, 0.08))  # noqa: ASYNC251 (the point: a blocked loop)
        await asyncio.sleep(rng.uniform(0.0, 0.03))


async def test_sends_from_a_busy_process_stay_within_the_window() -> None:
    """Through the simulator, while the loop is blocked up to 80 ms at a time (without the
    loop's lateness in the margin, about one send in 300 was answered 429 here)."""
    async with BotApiSimulator(TOKEN, overall_per_second=30, group_per_minute=10_000) as sim:
        sim.add_group(GROUP, "Secretariado")
        sim.latency = 0.1
        limiter = TelegramRateLimiter(overall_per_second=30, group_per_minute=10_000, max_retries=0)
        stop = asyncio.Event()
        busy = asyncio.create_task(_busy_loop(stop, seed=1))
        try:
            await send_burst(sim, limiter, 300)
        finally:
            stop.set()
            await busy
        assert sim.stats["429"] == 0
