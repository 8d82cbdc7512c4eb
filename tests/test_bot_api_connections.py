"""The bot's connections to the Bot API: a burst opens as many as it needs, and only
`KEPT_BOT_API_CONNECTIONS` stay open once it is over (httpcore looks at every kept connection
on each request: `bot.app`)."""

from __future__ import annotations

import asyncio

from telegram import Bot

from bot.app import KEPT_BOT_API_CONNECTIONS, telegram_request
from bot.simulator.server import BotApiSimulator

TOKEN = "7000000003:connections-test"
BURST = KEPT_BOT_API_CONNECTIONS * 2


async def test_a_burst_of_calls_leaves_only_the_kept_connections_open() -> None:
    async with BotApiSimulator(token=TOKEN) as sim:
        sim.latency = 0.2  # every call of the burst is in flight at once
        request = telegram_request()
        async with Bot(TOKEN, base_url=sim.base_url, request=request) as bot:
            most_open = 0

            async def watch() -> None:
                nonlocal most_open
                while True:
                    most_open = max(most_open, sim.open_connections)
                    await asyncio.sleep(0.01)

            watcher = asyncio.create_task(watch())
            answers = await asyncio.gather(*(bot.get_my_commands() for _ in range(BURST)))
            watcher.cancel()
            assert len(answers) == BURST
            assert most_open > KEPT_BOT_API_CONNECTIONS  # a connection per call in flight
            await sim.wait_for(lambda: sim.open_connections <= KEPT_BOT_API_CONNECTIONS, 5)
            assert sim.open_connections == KEPT_BOT_API_CONNECTIONS
            # The kept ones serve the next calls: no new connection for them.
            await asyncio.gather(*(bot.get_my_commands() for _ in range(4)))
            assert sim.open_connections == KEPT_BOT_API_CONNECTIONS
