"""Updates of different chats side by side; the updates of one chat, and of one person, in order.

Plugged into PTB as its update processor (`ApplicationBuilder().concurrent_updates(...)`):
PTB takes updates from its queue in arrival order and gives each a task of its own, which
enters `process_update` (PTB's, final: its FIFO semaphore bounds the updates being processed at
once to `max_concurrent_updates`, the `MAX_CONCURRENT_UPDATES` setting) and then
`do_process_update` below, in that same order.

An update's keys are its chat's id and its sender's id (one key in a private chat, whose id is
the person's; the sender's alone for a button on an inline message; none for updates of neither,
such as a poll's, which run at once). Telegram's chat and user ids share one space, so the keys
are the ids themselves. On entering, before anything is awaited, the update takes its place
after the latest update of each of its keys (`_last` maps a key to that update's completion) and
waits for those to finish; updates of other chats and people do not wait for it. Waiting only
on updates that arrived earlier, in one order for every key, nothing can wait in a circle.

Nothing of an update is kept on shared objects: PTB builds a context per update
(`CallbackContext.from_update` in `Application.process_update`), so what `handlers.context.flow`
sets on it (`context.person`, `context.session`, `context.step`...) is that update's alone, and
each update has its own transaction (`storage.db.transaction`, which on SQLite takes turns).

`_last` holds only keys with an update in flight: the last update of a key removes it when it
finishes, so the table never outgrows the updates being processed. A waiting update holds one
of the semaphore's places while it waits (PTB's semaphore is taken before `do_process_update`):
a single chat sending more updates at once than the bound slows the others until they are done.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Collection
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

CREATED = inspect.CORO_CREATED


def keys_of(update: object) -> frozenset[int]:
    """Whose turn an update waits for: its chat and its sender (see the module's docstring)."""
    if not isinstance(update, Update):
        return frozenset()
    chat, user = update.effective_chat, update.effective_user
    return frozenset(
        [*([chat.id] if chat is not None else []), *([user.id] if user is not None else [])]
    )


class OrderedUpdates(BaseUpdateProcessor):
    """PTB's update processor: concurrent across keys, one at a time and in order per key."""

    __slots__ = ("_last",)

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._last: dict[int, asyncio.Future[None]] = {}

    @property
    def keys_in_flight(self) -> int:
        """How many keys have an update waiting or being processed (the table's size)."""
        return len(self._last)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        keys = keys_of(update)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        earlier = {self._last[key] for key in keys if key in self._last}
        for key in keys:
            self._last[key] = done
        try:
            if earlier:
                # `wait`, not `await`: cancelling this update must not cancel the earlier ones'.
                await asyncio.wait(earlier)
            await coroutine
        finally:
            if inspect.iscoroutine(coroutine) and inspect.getcoroutinestate(coroutine) == CREATED:
                coroutine.close()  # cancelled while waiting: never to run
            self._finish_after(keys, done, [future for future in earlier if not future.done()])

    def _finish_after(
        self, keys: Collection[int], done: asyncio.Future[None], earlier: list[asyncio.Future[None]]
    ) -> None:
        """Let the next updates of these keys go, once the earlier ones are done too (they
        are, unless this update was cancelled while waiting for them)."""
        if earlier:
            earlier[0].add_done_callback(lambda _: self._finish_after(keys, done, earlier[1:]))
            return
        done.set_result(None)
        for key in keys:
            if self._last.get(key) is done:
                del self._last[key]

    async def initialize(self) -> None:
        """Nothing to allocate: the table fills and empties with the updates."""

    async def shutdown(self) -> None:
        """Nothing to free: PTB waits for the updates in flight before shutting down."""
