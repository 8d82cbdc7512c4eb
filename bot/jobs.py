"""Background jobs: delivering the outbox, the weekly reminders and digests, the daily digest,
the reporting rounds' sweep.

`deliver_outbox` is the one place that sends what the bot says on its own. It is a plain async
function (tests and the benchmark call it directly; the JobQueue calls it every
`settings.outbox_interval` seconds):

* rows are claimed with a lease (storage.outbox.claim), so a worker that dies leaves nothing
  behind for longer than the lease, and no two workers send into one chat at the same time;
* each chat's rows go out in order, one message after the other; a failure stops that chat's
  pass (its later rows wait behind the failed one);
* a row is marked sent in its own transaction right after Telegram accepted it, so only a crash
  between Telegram's answer and that write can send something twice;
* flood limits (`bot.telegram_limits`, defined once): the rate limiter (`bot.rate_limits`)
  makes every call wait for room in Telegram's windows. This job only plans each pass to fit
  them, so that the limiter never has to hold it for long: a group gets at most its allowance
  a minute (`GROUP_SENDS_PER_MINUTE`; more rows than that are combined into as few messages as
  fit) and a private chat one message a second (more than `PRIVATE_COMBINE_AT` waiting are
  combined); what does not fit is released for a later pass;
* errors: `RetryAfter` waits what Telegram asks (the rate limiter first retries a few times
  itself); network and other Telegram errors back off
  exponentially and are never given up (an outage only delays); a chat that blocked the bot or
  no longer exists is marked unreachable at once and its rows parked (storage.chats) until it
  is retried, the administrators told in chat; a group that moved (`ChatMigrated`) is followed
  to its new id, stored; a message Telegram refuses is given up after `REFUSED_ATTEMPTS`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import re
import secrets
import socket
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.ext import Application

from bot.rate_limits import background_sends
from bot.settings import WEEKDAYS, Settings
from bot.telegram_limits import GROUP_SENDS_PER_MINUTE, PRIVATE_INTERVAL, retry_after_seconds
from handlers.context import FlowContext
from handlers.i18n import Tr, pick_locale
from handlers.notifications import EVENT_KINDS, render_combined, render_row
from handlers.outage import guarded, is_outage
from handlers.replies import View
from locales import DEFAULT_LOCALE
from storage import chats, outbox
from storage.clock import DEFAULT_TIMEZONE, today_in
from storage.conversations import purge_processed_updates
from storage.db import Sessions, transaction
from storage.leases import Taken, release_lease, take_lease
from storage.models import utcnow
from storage.reminders import WEEKLY_JOB, WeeklyRun, claim_run, period_start, run_weekly
from storage.round_closing import Sweep, sweep_rounds

log = logging.getLogger(__name__)

PRIVATE_COMBINE_AT = 4
REFUSED_ATTEMPTS = 3
ERROR_ATTEMPTS = 8
CONCURRENT_CHATS = 8
DAILY_JOB = "daily_digest"
SENT_KEPT = dt.timedelta(days=30)
#: Telegram keeps an undelivered update for 24 hours; its id is kept a while longer.
PROCESSED_KEPT = dt.timedelta(days=2)
#: PTB's run_daily counts days from Sunday (0) to Saturday (6).
PTB_DAYS = {name: (index + 1) % 7 for index, name in enumerate(WEEKDAYS)}
#: Seconds between two sweeps of the reporting rounds (newcomers asked, reminders, closing).
ROUNDS_INTERVAL = 300


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent_rows: int = 0
    messages: int = 0
    failed: int = 0
    given_up: int = 0
    released: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: DeliveryReport) -> None:
        self.claimed += other.claimed
        self.sent_rows += other.sent_rows
        self.messages += other.messages
        self.failed += other.failed
        self.given_up += other.given_up
        self.released += other.released
        self.errors += other.errors


class Pacer:
    """Messages this process sent per chat recently, on the delivery's clock: how many more a
    pass may send into a chat (a group's allowance a minute, one a second in private)."""

    def __init__(self) -> None:
        self._sent: dict[int, deque[dt.datetime]] = {}

    def budget(self, chat_id: int, now: dt.datetime) -> int:
        sent = self._sent.get(chat_id)
        if not sent:
            return GROUP_SENDS_PER_MINUTE if chat_id < 0 else 1
        if chat_id < 0:
            while sent and sent[0] <= now - dt.timedelta(minutes=1):
                sent.popleft()
            return max(0, GROUP_SENDS_PER_MINUTE - len(sent))
        return 1 if sent[-1] <= now - PRIVATE_INTERVAL else 0

    def record(self, chat_id: int, now: dt.datetime) -> None:
        sent = self._sent.setdefault(chat_id, deque(maxlen=GROUP_SENDS_PER_MINUTE))
        sent.append(now)


@dataclass(frozen=True, slots=True)
class _Row:
    id: int
    chat_id: int
    kind: str
    payload: dict[str, Any]
    attempts: int


@dataclass(slots=True)
class _Outgoing:
    """Messages that together deliver some rows (settled when the last one is accepted)."""

    messages: list[View]
    row_ids: list[int]
    attempts: int
    #: Rendering failed (a payload this version cannot read): settled as a failed send.
    error: Exception | None = None


def _plan_ids(row: _Row) -> set[int]:
    """Plans a row mentions: its own, or those of the actions it lists (reminders, digests)."""
    found = {row.payload.get("plan_id")}
    for key in ("events", "items", "changes", "newly_overdue"):
        found |= {item.get("plan_id") for item in row.payload.get(key) or []}
    return {int(p) for p in found if isinstance(p, int)}


def _combine(rows: list[_Row], budget: int, chat_id: int) -> bool:
    if chat_id < 0:
        return len(rows) > budget
    return len(rows) >= PRIVATE_COMBINE_AT


def _outgoing(
    rows: list[_Row],
    tr: Tr,
    ctx: outbox.DeliveryContext,
    today: dt.date,
    combine: bool,
) -> list[_Outgoing]:
    """The chat's rows as messages, in order: combinable changes run together when `combine`."""
    result: list[_Outgoing] = []
    run: list[_Row] = []
    titles = ctx.plan_titles if ctx.plan_count > 1 else {}

    def flush_run() -> None:
        if not run:
            return
        events = [(r.kind, r.payload) for r in run]
        try:
            combined = render_combined(tr, events, plan_titles=titles)
        except Exception:  # a bad payload among them: render them one by one instead
            log.exception("could not combine %s notifications", len(run))
            for row in run:
                single(row)
            run.clear()
            return
        start = 0
        for rendered, count in combined:
            chunk = run[start : start + count]
            start += count
            result.append(
                _Outgoing([rendered], [r.id for r in chunk], max(r.attempts for r in chunk))
            )
        run.clear()

    def single(row: _Row) -> None:
        try:
            messages = render_row(tr, row.kind, row.payload, today=today, plan_titles=titles)
        except Exception as error:
            log.exception("could not render outbox row %s (%s)", row.id, row.kind)
            result.append(_Outgoing([], [row.id], row.attempts, error))
            return
        result.append(_Outgoing(messages, [row.id], row.attempts))

    for row in rows:
        if combine and row.kind in EVENT_KINDS:
            run.append(row)
            continue
        flush_run()
        single(row)
    flush_run()
    return result


async def _send(bot: Bot, chat_id: int, message: View) -> None:
    if message.file is not None:  # a report's file (reporting rounds), made off the event loop
        await bot.send_document(
            chat_id,
            await message.file.content(),
            caption=message.text or None,
            filename=message.file.name,
            parse_mode=ParseMode.HTML,
            reply_markup=message.markup,
        )
        return
    await bot.send_message(
        chat_id,
        message.text,
        parse_mode=ParseMode.HTML,
        reply_markup=message.markup,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )


_CHAT_GONE = re.compile(r"chat not found|user is deactivated|bot was kicked|chat_id is empty", re.I)


async def _settle_failure(
    sessions: Sessions,
    item: _Outgoing,
    chat_id: int,
    error: Exception,
    now: dt.datetime,
    report: DeliveryReport,
) -> None:
    """Record a failed send: retry later, or give up when it can never work."""
    text = f"{type(error).__name__}: {error}"
    attempts = item.attempts + 1
    async with transaction(sessions) as session:
        if isinstance(error, RetryAfter):
            await outbox.mark_failed(
                session, item.row_ids, text, retry_after=retry_after_seconds(error), now=now
            )
        elif isinstance(error, Forbidden) or (
            isinstance(error, BadRequest) and _CHAT_GONE.search(str(error))
        ):
            # Gone (kicked, blocked, deactivated, no such chat): marked at once, its rows
            # parked until the chat is retried, the administrators told; logged once.
            gone = await chats.mark_unreachable(session, chat_id, text, now=now)
            if gone is not None:
                log.warning(
                    "chat %s unreachable: %s notices parked, %s administrators told: %s",
                    chat_id,
                    gone.waiting,
                    gone.admins_told,
                    text,
                )
        elif isinstance(error, BadRequest):
            if attempts >= REFUSED_ATTEMPTS:
                report.given_up += await outbox.give_up(session, item.row_ids, text)
                log.error("message to %s refused by Telegram, given up: %s", chat_id, text)
                return
            await outbox.mark_failed(session, item.row_ids, text, now=now)
        elif isinstance(error, TelegramError):
            # Network errors, timeouts, Telegram down or misconfigured: only ever delayed.
            await outbox.mark_failed(session, item.row_ids, text, now=now)
        else:
            if attempts >= ERROR_ATTEMPTS:
                report.given_up += await outbox.give_up(session, item.row_ids, text)
                log.error("notification to %s failed %s times, given up", chat_id, attempts)
                return
            await outbox.mark_failed(session, item.row_ids, text, now=now)
    report.failed += len(item.row_ids)
    report.errors.append(text)


async def _adopt_move(sessions: Sessions, old_id: int, new_id: int) -> int:
    """A group upgraded to a supergroup: its link, its pending rows and (for an id of the
    settings) the mapping move to the new id in the database, logged once. Returns the new id."""
    async with transaction(sessions) as session:
        first = await chats.adopt_move(session, old_id, new_id)
    if first:
        log.warning(
            "chat %s moved to %s (a supergroup): its notices go there from now on; if %s is in "
            "SECRETARIAT_CHAT_IDS, replace it with %s there",
            old_id,
            new_id,
            old_id,
            new_id,
        )
    return new_id


async def _deliver_chat(
    bot: Bot,
    sessions: Sessions,
    chat_id: int,
    rows: list[_Row],
    tr: Tr,
    ctx: outbox.DeliveryContext,
    now: dt.datetime,
    pacer: Pacer,
    report: DeliveryReport,
) -> None:
    budget = pacer.budget(chat_id, now)
    pending = {r.id for r in rows}
    target = chat_id  # where the chat is now: a group may have moved (ChatMigrated)
    try:
        if budget == 0:
            return
        items = _outgoing(rows, tr, ctx, tr.local_date(now), _combine(rows, budget, chat_id))
        for item in items:
            if budget <= 0:
                break
            try:
                if item.error is not None:
                    raise item.error
                for message in item.messages:
                    try:
                        await _send(bot, target, message)
                    except ChatMigrated as migrated:
                        target = await _adopt_move(sessions, chat_id, int(migrated.new_chat_id))
                        await _send(bot, target, message)
                    pacer.record(chat_id, now)
                    budget -= 1
                    report.messages += 1
            except Exception as error:  # every failure is recorded, none lost
                pending.difference_update(item.row_ids)
                await _settle_failure(sessions, item, target, error, now, report)
                return
            async with transaction(sessions) as session:
                await outbox.mark_sent(session, item.row_ids, now=now)
            pending.difference_update(item.row_ids)
            report.sent_rows += len(item.row_ids)
    finally:
        if pending:
            async with transaction(sessions) as session:
                await outbox.release(session, sorted(pending))
            report.released += len(pending)


async def deliver_outbox(
    bot: Bot,
    sessions: Sessions,
    *,
    now: dt.datetime | None = None,
    limit: int = 300,
    default_locale: str = DEFAULT_LOCALE,
    timezone: str = DEFAULT_TIMEZONE,
    pacer: Pacer | None = None,
) -> DeliveryReport:
    """One delivery pass: claim up to `limit` rows, send them chat by chat, settle each.

    Call it again for the next pass (the job does, every `outbox_interval` seconds); rows held
    back by the per-chat limits or behind a failure are released for a later pass.
    """
    now = now or utcnow()
    pacer = pacer or Pacer()
    report = DeliveryReport()
    async with transaction(sessions) as session:
        claimed = await outbox.claim(session, limit=limit, now=now)
        rows = [_Row(r.id, r.chat_id, r.kind, dict(r.payload or {}), r.attempts) for r in claimed]
        ctx = await outbox.delivery_context(
            session, [r.chat_id for r in rows], sorted({p for r in rows for p in _plan_ids(r)})
        )
    report.claimed = len(rows)
    by_chat: dict[int, list[_Row]] = {}
    for row in rows:
        by_chat.setdefault(row.chat_id, []).append(row)
    limiter = asyncio.Semaphore(CONCURRENT_CHATS)

    async def one_chat(chat_id: int, chat_rows: list[_Row]) -> None:
        tr = Tr(pick_locale(ctx.languages.get(chat_id), default_locale), timezone)
        async with limiter:
            await _deliver_chat(bot, sessions, chat_id, chat_rows, tr, ctx, now, pacer, report)

    results = await asyncio.gather(
        *(one_chat(chat_id, chat_rows) for chat_id, chat_rows in by_chat.items()),
        return_exceptions=True,
    )
    outages = [r for r in results if isinstance(r, BaseException) and is_outage(r)]
    if outages:  # the database went away during the pass: the job notes it once
        raise outages[0]
    for result in results:
        if isinstance(result, BaseException):
            # A database failure while settling: the lease brings the rows back later.
            log.error("outbox delivery failed", exc_info=result)
            report.errors.append(repr(result))
    return report


async def deliver_all(
    bot: Bot,
    sessions: Sessions,
    *,
    now: dt.datetime | None = None,
    max_passes: int = 1000,
    step: dt.timedelta = dt.timedelta(seconds=1),
    **kwargs: Any,
) -> DeliveryReport:
    """Passes until nothing more can be sent now, the clock moving by `step` between passes
    (for tests, the benchmark and the demo: the job does one pass per interval instead)."""
    now = now or utcnow()
    pacer = kwargs.pop("pacer", None) or Pacer()
    total = DeliveryReport()
    for index in range(max_passes):
        report = await deliver_outbox(bot, sessions, now=now + step * index, pacer=pacer, **kwargs)
        total.add(report)
        if report.claimed == 0 or report.messages == 0:
            break
    return total


# --------------------------------------------------------------------------------------------
# One drainer at a time, whatever the number of processes


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
    "DeliveryReport",
    "Drainer",
    "Pacer",
    "deliver_all",
    "deliver_outbox",
    "deliver_outbox_leased",
    "release_outbox_lease",
    "schedule_jobs",
    "send_digests",
    "send_reminders",
    "sweep_rounds_once",
]
