"""The rate limiter against the simulator's flood control, which counts as Telegram does (a
sliding window): a burst as large as the window allows goes straight out, then the limiter
waits, and no message is answered 429. PTB's leaky-bucket limiter at the same nominal rate is
answered 429, which is why the project has its own."""

from __future__ import annotations

import asyncio

from telegram.ext import AIORateLimiter, ExtBot

from bot.rate_limits import SlidingWindow, TelegramRateLimiter
from bot.simulator.server import BotApiSimulator

TOKEN = "7000000005:limits"
GROUP = -1005


async def send_burst(sim: BotApiSimulator, limiter: AIORateLimiter, count: int) -> None:
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
        assert not limiter._get_group_limiter(GROUP).has_capacity()


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
    async with window:
        assert window.has_capacity(1)  # one in flight, one free
    async with window:
        pass
    assert not window.has_capacity()
    await asyncio.sleep(0.06)
    assert window.has_capacity(2)
