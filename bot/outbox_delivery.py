"""The outbox's delivery and its pacing: `deliver_outbox` is the one place that sends what the
bot says on its own. It is a plain async function (tests and the benchmark call it directly;
the JobQueue (`bot.jobs`) calls it every `settings.outbox_interval` seconds, in the process that
holds the outbox lease, `bot.outbox_lease`):

* rows are claimed with a lease (storage.outbox.claim), so a worker that dies leaves nothing
  behind for longer than the lease, and no two workers send into one chat at the same time;
* each chat's rows go out in order, one message after the other; a failure stops that chat's
  pass (its later rows wait behind the failed one);
* a row is marked sent in its own transaction right after Telegram accepted it, so only a crash
  between Telegram's answer and that write can send something twice;
* flood limits (`bot.telegram_limits`, defined once): the rate limiter (`bot.rate_limits`)
  makes every call wait for room in Telegram's windows. The delivery only plans each pass to fit
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
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from bot.telegram_limits import GROUP_SENDS_PER_MINUTE, PRIVATE_INTERVAL, retry_after_seconds
from handlers.i18n import Tr, pick_locale
from handlers.notifications import EVENT_KINDS, render_combined, render_row
from handlers.outage import is_outage
from handlers.replies import View
from locales import DEFAULT_LOCALE
from storage import chats, outbox
from storage.clock import DEFAULT_TIMEZONE
from storage.db import Sessions, transaction
from storage.models import utcnow

log = logging.getLogger(__name__)

PRIVATE_COMBINE_AT = 4
REFUSED_ATTEMPTS = 3
ERROR_ATTEMPTS = 8
CONCURRENT_CHATS = 8


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


__all__ = [
    "DeliveryReport",
    "Pacer",
    "deliver_all",
    "deliver_outbox",
]
