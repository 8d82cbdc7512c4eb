"""Background jobs: the periodic runs (the weekly reminders and digests, the daily digest, the
reporting rounds' sweep) and the JobQueue's wiring, which also runs the outbox's delivery
(`bot.outbox_delivery`) every `settings.outbox_interval` seconds in the one process that holds
the outbox lease (`bot.outbox_lease`)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from telegram.ext import Application

from bot.outbox_delivery import Pacer
from bot.outbox_lease import Drainer, deliver_outbox_leased
from bot.settings import WEEKDAYS, Settings
from handlers.context import FlowContext
from handlers.outage import guarded
from storage import outbox
from storage.clock import DEFAULT_TIMEZONE, today_in
from storage.conversations import purge_processed_updates
from storage.db import Sessions, transaction
from storage.models import utcnow
from storage.reminders import WEEKLY_JOB, WeeklyRun, claim_run, period_start, run_weekly
from storage.round_closing import Sweep, sweep_rounds

log = logging.getLogger(__name__)

DAILY_JOB = "daily_digest"
SENT_KEPT = dt.timedelta(days=30)
#: Telegram keeps an undelivered update for 24 hours; its id is kept a while longer.
PROCESSED_KEPT = dt.timedelta(days=2)
#: PTB's run_daily counts days from Sunday (0) to Saturday (6).
PTB_DAYS = {name: (index + 1) % 7 for index, name in enumerate(WEEKDAYS)}
#: Seconds between two sweeps of the reporting rounds (newcomers asked, reminders, closing).
ROUNDS_INTERVAL = 300


# --------------------------------------------------------------------------------------------
# Periodic runs


async def send_reminders(
    sessions: Sessions,
    *,
    now: dt.datetime | None = None,
    timezone: str = DEFAULT_TIMEZONE,
    weekday: int = 0,
    due_days: int = 14,
    stale_days: int = 30,
) -> WeeklyRun:
    """This week's reminders and coordinators' digests, written to the outbox once per week
    (`weekday`: 0 = Monday) whatever the number of processes or calls."""
    now = now or utcnow()
    start = period_start(now, timezone, weekday=weekday)
    async with transaction(sessions) as session:
        run = await run_weekly(
            session,
            now=now,
            today=today_in(timezone, now),
            start=start,
            due_days=due_days,
            stale_days=stale_days,
        )
    if run.ran:
        log.info("weekly run: %s reminders, %s digests queued", run.reminders, run.digests)
    return run


async def send_digests(
    sessions: Sessions, *, now: dt.datetime | None = None, timezone: str = DEFAULT_TIMEZONE
) -> dict[int, int]:
    """Once a day: fold each chat's waiting digest rows into one message row for delivery.
    Returns the number of changes folded per chat (empty when the day's run already happened).
    Old sent rows are purged at the same time."""
    now = now or utcnow()
    async with transaction(sessions) as session:
        if not await claim_run(session, DAILY_JOB, period_start(now, timezone), now=now):
            return {}
        folded = await outbox.fold_digests(session, now=now)
        await outbox.purge_sent(session, now - SENT_KEPT)
    return folded


async def sweep_rounds_once(
    sessions: Sessions,
    *,
    now: dt.datetime | None = None,
    timezone: str = DEFAULT_TIMEZONE,
    notify_chat_ids: Sequence[int] = (),
    reminder_hour: int = 9,
) -> Sweep:
    """Reporting rounds: close those whose date has passed (their report queued), ask the focal
    points who joined since, and queue the reminders due (from `reminder_hour`, local time)."""
    now = now or utcnow()
    local = now.astimezone(ZoneInfo(timezone))
    async with transaction(sessions) as session:
        sweep = await sweep_rounds(
            session,
            now=now,
            today=local.date(),
            notify_chat_ids=notify_chat_ids,
            remind=local.hour >= reminder_hour,
        )
    if sweep.closed or sweep.reminded or sweep.asked:
        log.info(
            "rounds: %s closed, %s reminded, %s newly asked",
            len(sweep.closed),
            sweep.reminded,
            sweep.asked,
        )
    return sweep


# --------------------------------------------------------------------------------------------
# JobQueue wiring


@guarded
async def _outbox_job(context: FlowContext) -> None:
    lock: asyncio.Lock = context.bot_data.setdefault("outbox_lock", asyncio.Lock())
    if lock.locked():
        return  # the previous pass is still sending
    async with lock:
        deps = context.deps
        pacer: Pacer = context.bot_data.setdefault("outbox_pacer", Pacer())
        drainer: Drainer = context.bot_data.setdefault("outbox_drainer", Drainer())
        report = await deliver_outbox_leased(
            context.bot,
            deps.sessions,
            drainer,
            now=deps.now(),
            default_locale=deps.default_locale,
            timezone=deps.timezone,
            pacer=pacer,
        )
        if report is not None and (report.failed or report.given_up):
            log.warning(
                "outbox: %s sent, %s failed, %s given up",
                report.sent_rows,
                report.failed,
                report.given_up,
            )


@guarded
async def _weekly_job(context: FlowContext) -> None:
    deps = context.deps
    await send_reminders(
        deps.sessions,
        now=deps.now(),
        timezone=deps.timezone,
        weekday=deps.reminder_weekday,
        due_days=deps.reminder_due_days,
        stale_days=deps.stale_days,
    )


@guarded
async def _daily_job(context: FlowContext) -> None:
    """The daily digests, and forgetting update ids too old for Telegram to deliver again."""
    deps = context.deps
    folded = await send_digests(deps.sessions, now=deps.now(), timezone=deps.timezone)
    if folded:
        log.info("daily digest for %s chats", len(folded))
    async with transaction(deps.sessions) as session:
        await purge_processed_updates(session, deps.now() - PROCESSED_KEPT)


async def _rounds_job(context: FlowContext) -> None:
    deps = context.deps
    hour = context.job.data if context.job is not None else None
    await sweep_rounds_once(
        deps.sessions,
        now=deps.now(),
        timezone=deps.timezone,
        notify_chat_ids=deps.notify_chat_ids,
        reminder_hour=hour if isinstance(hour, int) else 9,
    )


def _catch_up_jobs(settings: Settings, now: dt.datetime) -> list[str]:
    """Runs missed while the bot was down earlier today (each still happens only once)."""
    local = now.astimezone(settings.tz)
    missed = []
    if (
        WEEKDAYS[local.weekday()] == settings.reminder_weekday
        and local.hour >= settings.reminder_hour
    ):
        missed.append(WEEKLY_JOB)
    if local.hour >= settings.digest_hour:
        missed.append(DAILY_JOB)
    return missed


def schedule_jobs(
    application: Application[Any, Any, Any, Any, Any, Any], settings: Settings
) -> None:
    """The outbox every `outbox_interval` seconds, the weekly reminders, the daily digest."""
    queue = application.job_queue
    if queue is None:
        log.warning("no JobQueue: notifications will not be delivered by this process")
        return
    application.bot_data["outbox_drainer"] = Drainer(
        dt.timedelta(seconds=settings.outbox_lease_seconds)
    )
    queue.run_repeating(
        _outbox_job,
        interval=settings.outbox_interval,
        first=settings.outbox_interval,
        name="outbox",
    )
    tz = settings.tz
    queue.run_daily(
        _weekly_job,
        time=dt.time(settings.reminder_hour, tzinfo=tz),
        days=(PTB_DAYS[settings.reminder_weekday],),
        name=WEEKLY_JOB,
    )
    queue.run_daily(_daily_job, time=dt.time(settings.digest_hour, tzinfo=tz), name=DAILY_JOB)
    queue.run_repeating(
        _rounds_job,
        interval=ROUNDS_INTERVAL,
        first=min(ROUNDS_INTERVAL, 30),
        name="reporting_rounds",
        data=settings.reminder_hour,
    )
    callbacks = {WEEKLY_JOB: _weekly_job, DAILY_JOB: _daily_job}
    for name in _catch_up_jobs(settings, utcnow()):
        queue.run_once(callbacks[name], when=5, name=f"{name}_catch_up")


__all__ = [
    "schedule_jobs",
    "send_digests",
    "send_reminders",
    "sweep_rounds_once",
]
