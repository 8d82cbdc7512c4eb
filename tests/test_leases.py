"""The outbox lease: one process drains at a time, another takes over when the holder's lease
runs out, and what a dead holder had claimed is given back to the one that takes over."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import cast

import pytest
from sqlalchemy import func, select, update
from telegram import Bot

from bot.outbox_delivery import deliver_outbox
from bot.outbox_lease import (
    OUTBOX_LEASE,
    Drainer,
    FencedBot,
    deliver_outbox_leased,
    release_outbox_lease,
)
from bot.rate_limits import in_background
from storage import leases, outbox
from storage.db import transaction
from storage.models import Lease, OutboxMessage, utcnow
from tests.report_support import (
    NOW,
    SECRETARIAT_CHAT,
    FilesRequest,
    queue_rows,
    running_app,
    sent_texts,
)

PERIOD = dt.timedelta(seconds=15)


async def take(sessions, holder: str, now: dt.datetime) -> leases.Taken | None:  # type: ignore[no-untyped-def]
    async with transaction(sessions) as session:
        return await leases.take_lease(session, "outbox", holder, now=now, period=PERIOD)


async def test_one_holder_at_a_time_and_a_lapsed_lease_is_taken_over(sessions):
    assert await take(sessions, "a", NOW) is leases.Taken.NEW
    assert await take(sessions, "b", NOW + dt.timedelta(seconds=1)) is None
    assert await take(sessions, "a", NOW + dt.timedelta(seconds=10)) is leases.Taken.RENEWED
    # Renewed at +10 s: still a's at +20 s, b's once it lapsed.
    assert await take(sessions, "b", NOW + dt.timedelta(seconds=20)) is None
    assert await take(sessions, "b", NOW + dt.timedelta(seconds=25)) is leases.Taken.NEW
    assert await take(sessions, "a", NOW + dt.timedelta(seconds=26)) is None
    async with transaction(sessions) as session:
        holder = await leases.lease_holder(session, "outbox", now=NOW + dt.timedelta(seconds=26))
    assert holder == "b"


async def test_a_released_lease_is_taken_at_once(sessions):
    await take(sessions, "a", NOW)
    async with transaction(sessions) as session:
        assert not await leases.release_lease(session, "outbox", "b", now=NOW)
        assert await leases.release_lease(session, "outbox", "a", now=NOW)
    assert await take(sessions, "b", NOW) is leases.Taken.NEW


async def test_only_the_holder_drains(sessions):
    await queue_rows(sessions, SECRETARIAT_CHAT, 2)
    first, second = Drainer(PERIOD, "first"), Drainer(PERIOD, "second")
    async with running_app(sessions) as (app, request):
        report = await deliver_outbox_leased(app.bot, sessions, first, now=NOW)
        assert report is not None and report.sent_rows == 2
        await queue_rows(sessions, SECRETARIAT_CHAT, 1, start=3)
        later = NOW + dt.timedelta(minutes=2)
        assert await deliver_outbox_leased(app.bot, sessions, second, now=later) is None
        assert len(sent_texts(request, SECRETARIAT_CHAT)) == 2
        await release_outbox_lease(sessions, first)
        report = await deliver_outbox_leased(app.bot, sessions, second, now=later)
    assert report is not None and report.sent_rows == 1
    assert len(sent_texts(request, SECRETARIAT_CHAT)) == 3


async def test_taking_over_gives_back_what_the_dead_holder_claimed(sessions):
    """The holder claimed rows and died before sending them: the next holder sends them at
    once instead of waiting for the rows' own (longer) claim to run out."""
    await queue_rows(sessions, SECRETARIAT_CHAT, 3)
    async with transaction(sessions) as session:
        assert await leases.take_lease(session, OUTBOX_LEASE, "dead", now=utcnow(), period=PERIOD)
        claimed = await outbox.claim(session, now=NOW)
    assert len(claimed) == 3
    async with transaction(sessions) as session:  # its lease lapses
        await session.execute(update(Lease).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    async with running_app(sessions) as (app, request):
        report = await deliver_outbox_leased(app.bot, sessions, Drainer(PERIOD, "next"), now=NOW)
    assert report is not None and report.sent_rows == 3
    async with transaction(sessions) as session:
        assert await outbox.pending_count(session) == 0
        rows = (await session.scalars(select(OutboxMessage))).all()
    assert all(r.sent_at is not None for r in rows)
    assert len(sent_texts(request, SECRETARIAT_CHAT)) == 3


async def test_a_holder_that_could_not_renew_in_time_stops_sending(sessions):
    """Its rows go back untouched for whoever holds the lease next: nothing is sent by a
    process that may no longer be the drainer."""
    await queue_rows(sessions, SECRETARIAT_CHAT, 2)
    late = Drainer(PERIOD, "late")
    late.sends_until = utcnow()  # as if its renewals had failed for two thirds of a period
    async with running_app(sessions) as (app, request):
        bot = FencedBot(app.bot, late)
        with pytest.raises(asyncio.CancelledError):
            await bot.send_message(SECRETARIAT_CHAT, "no")
        report = await deliver_outbox(cast(Bot, bot), sessions, now=NOW)
        assert report.sent_rows == 0 and report.released == 2
    assert sent_texts(request, SECRETARIAT_CHAT) == []
    async with transaction(sessions) as session:
        assert await outbox.pending_count(session) == 2
        claimed = await session.scalar(
            select(func.count()).where(OutboxMessage.claimed_until.is_not(None))
        )
    assert claimed == 0


class RecordingRequest(FilesRequest):
    """Records, for each call, whether it was made as a background send."""

    background: list[bool]

    async def do_request(self, *args, **kwargs):  # type: ignore[no-untyped-def,override]
        self.background.append(in_background())
        return await super().do_request(*args, **kwargs)


async def test_the_drainers_sends_give_way_to_replies(sessions):
    await queue_rows(sessions, SECRETARIAT_CHAT, 1)
    request = RecordingRequest()
    request.background = []
    async with running_app(sessions, request=request) as (app, _request):
        request.background.clear()
        await deliver_outbox_leased(app.bot, sessions, Drainer(PERIOD, "one"), now=NOW)
    assert request.background == [True]
    assert not in_background()
