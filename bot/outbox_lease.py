"""One drainer of the outbox at a time, whatever the number of processes: the process that holds
the outbox lease (`storage.leases`) runs the delivery's passes (`bot.outbox_delivery`), so that
several processes behind one webhook stay within one bot's send budget; another takes over
within a lease period when it dies, and gives back what the dead one had claimed."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import secrets
import socket
from dataclasses import dataclass, field
from typing import Any

from telegram import Bot

from bot.outbox_delivery import DeliveryReport, deliver_outbox
from bot.rate_limits import background_sends
from storage import outbox
from storage.db import Sessions, transaction
from storage.leases import Taken, release_lease, take_lease
from storage.models import utcnow

log = logging.getLogger(__name__)

#: The lease (`storage.leases`) held by the process that drains the outbox.
OUTBOX_LEASE = "outbox"
NOT_YET = dt.datetime.min.replace(tzinfo=dt.UTC)


def process_name() -> str:
    """This process, as a lease holder: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass
class Drainer:
    """This process's part in draining the outbox: its name as a lease holder, the lease's
    period (`OUTBOX_LEASE_SECONDS`) and until when it may still send."""

    period: dt.timedelta = dt.timedelta(seconds=15)
    holder: str = field(default_factory=process_name)
    #: Sends stop a third of a period before the lease would lapse unrenewed, so that what is
    #: in flight is settled before another process may take over.
    sends_until: dt.datetime = NOT_YET

    def may_send(self) -> bool:
        return utcnow() < self.sends_until


class FencedBot:
    """The bot as the outbox's pass sees it: a send is refused (the pass stops, its rows are
    released) once this process may no longer be the drainer (`Drainer.may_send`)."""

    def __init__(self, bot: Bot, drainer: Drainer) -> None:
        self._bot = bot
        self._drainer = drainer

    async def send_message(self, *args: Any, **kwargs: Any) -> Any:
        if not self._drainer.may_send():
            raise asyncio.CancelledError("outbox lease not renewed in time")
        return await self._bot.send_message(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bot, name)


async def _take_lease(sessions: Sessions, drainer: Drainer, now: dt.datetime) -> bool:
    """Take or renew the outbox lease. On taking it over, the rows the last holder claimed
    and did not settle (it died while sending) are given back for this pass."""
    started = utcnow()
    async with transaction(sessions) as session:
        taken = await take_lease(
            session, OUTBOX_LEASE, drainer.holder, now=started, period=drainer.period
        )
        if taken is Taken.NEW:
            released = await outbox.release_claims(session, now=now)
            log.info("outbox lease taken by %s (%s rows given back)", drainer.holder, released)
    if taken is not None:
        drainer.sends_until = started + drainer.period * 2 / 3
    return taken is not None


async def _keep_lease(
    sessions: Sessions, drainer: Drainer, now: dt.datetime, work: asyncio.Future[Any]
) -> None:
    """Renew the lease while a pass runs; a pass whose lease was lost (this process stalled
    or lost the database for a whole period, and another took over) is stopped."""
    while not work.done():
        await asyncio.sleep(drainer.period.total_seconds() / 3)
        try:
            kept = await _take_lease(sessions, drainer, now)
        except Exception:
            log.exception("could not renew the outbox lease")
            continue
        if not kept:
            log.error("outbox lease lost by %s: stopping its pass", drainer.holder)
            work.cancel()
            return


async def deliver_outbox_leased(
    bot: Bot, sessions: Sessions, drainer: Drainer, **kwargs: Any
) -> DeliveryReport | None:
    """One `deliver_outbox` pass if this process holds the outbox lease (or takes it); None,
    after one statement, when another process holds it. So that several processes behind one
    webhook stay within one bot's send budget, one drains at a time; another takes over within
    a lease period when it dies. The pass's sends give way to replies (`background_sends`) and
    stop when the lease was not renewed in time (`FencedBot`)."""
    now = kwargs.get("now") or utcnow()
    if not await _take_lease(sessions, drainer, now):
        return None
    fenced: Any = FencedBot(bot, drainer)  # a Bot to deliver_outbox
    with background_sends():
        work = asyncio.ensure_future(deliver_outbox(fenced, sessions, **kwargs))
    keeper = asyncio.create_task(_keep_lease(sessions, drainer, now, work))
    try:
        return await work
    finally:
        keeper.cancel()


async def release_outbox_lease(sessions: Sessions, drainer: Drainer) -> None:
    """A clean stop: another process may take the outbox over at once."""
    async with transaction(sessions) as session:
        await release_lease(session, OUTBOX_LEASE, drainer.holder, now=utcnow())


__all__ = [
    "Drainer",
    "deliver_outbox_leased",
    "release_outbox_lease",
]
