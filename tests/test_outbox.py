"""Delivering the outbox: once, in order, within the flood limits, surviving failures and
restarts, and giving up on chats that are gone."""

from __future__ import annotations

import datetime as dt

from bot.outbox_delivery import (
    ERROR_ATTEMPTS,
    Pacer,
    deliver_all,
    deliver_outbox,
)
from bot.telegram_limits import GROUP_SENDS_PER_MINUTE
from storage import chats, outbox
from storage.db import transaction
from storage.models import OutboxMessage
from tests.report_support import (
    NOW,
    SECRETARIAT_CHAT,
    FilesRequest,
    add_person,
    outbox_rows,
    queue_rows,
    running_app,
    sent_texts,
)

PRIVATE = 501

TOO_MANY = (
    429,
    {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    },
)
SERVER_ERROR = (500, {"ok": False, "error_code": 500, "description": "Internal Server Error"})
BLOCKED = (403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked"})
CHAT_NOT_FOUND = (
    400,
    {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
)


async def test_a_row_is_rendered_sent_once_and_marked_sent(sessions):
    await queue_rows(sessions, SECRETARIAT_CHAT, 1)
    async with running_app(sessions) as (app, request):
        report = await deliver_outbox(app.bot, sessions, now=NOW)
        again = await deliver_outbox(app.bot, sessions, now=NOW + dt.timedelta(minutes=5))
    assert (report.claimed, report.sent_rows, report.messages) == (1, 1, 1)
    assert again.claimed == 0
    [call] = request.sent(SECRETARIAT_CHAT)
    assert "Ana &lt;Pérez&gt; (punto focal)" in call.text
    assert "comentó" in call.text and "<b>1.1</b>" in call.text
    assert "&lt;b&gt;sin&lt;/b&gt;" in call.text  # the comment is escaped
    assert call.params["parse_mode"] == "HTML"
    assert call.buttons == [("Abrir la acción 1.1", "an:1")]
    [row] = await outbox_rows(sessions)
    assert row.sent_at == NOW and row.claimed_until is None and row.attempts == 0


async def test_recipient_language_is_used(sessions):
    await add_person(sessions, "secretariat", PRIVATE, language="en")
    await queue_rows(sessions, PRIVATE, 1)
    async with running_app(sessions) as (app, request):
        await deliver_outbox(app.bot, sessions, now=NOW)
    [text] = sent_texts(request, PRIVATE)
    assert "commented on <b>1.1</b>" in text


async def test_server_error_is_retried_with_backoff_and_delivered_once(sessions):
    await queue_rows(sessions, PRIVATE, 1)
    request = FilesRequest(fail_with=[SERVER_ERROR])
    async with running_app(sessions, request=request) as (app, _):
        first = await deliver_outbox(app.bot, sessions, now=NOW)
        [row] = await outbox_rows(sessions)
        assert first.failed == 1 and row.sent_at is None and row.attempts == 1
        assert row.available_at == NOW + outbox.backoff(1)
        too_early = await deliver_outbox(app.bot, sessions, now=NOW + dt.timedelta(seconds=1))
        later = await deliver_outbox(app.bot, sessions, now=NOW + dt.timedelta(seconds=3))
    assert too_early.claimed == 0
    assert later.sent_rows == 1
    assert len(sent_texts(request, PRIVATE)) == 2  # the failed try and the delivery
    [row] = await outbox_rows(sessions)
    assert row.sent_at is not None and row.last_error is None


async def test_retry_after_is_respected(sessions):
    await queue_rows(sessions, SECRETARIAT_CHAT, 2)
    request = FilesRequest(fail_with=[TOO_MANY])
    async with running_app(sessions, request=request) as (app, _):
        first = await deliver_outbox(app.bot, sessions, now=NOW)
        rows = await outbox_rows(sessions)
        assert first.failed == 1 and first.sent_rows == 0
        assert rows[0].available_at == NOW + dt.timedelta(seconds=3)
        assert "RetryAfter" in rows[0].last_error
        # The second row waits behind the first: nothing of this chat goes out meanwhile.
        blocked = await deliver_outbox(app.bot, sessions, now=NOW + dt.timedelta(seconds=2))
        assert blocked.claimed == 0
        done = await deliver_all(app.bot, sessions, now=NOW + dt.timedelta(seconds=3))
    assert done.sent_rows == 2
    texts = sent_texts(request, SECRETARIAT_CHAT)
    assert [t.count("<b>1.1</b>") for t in texts] == [1, 1, 0]
    assert "<b>1.2</b>" in texts[-1]
    assert await _pending(sessions) == 0


async def test_order_per_chat_and_one_message_a_second_in_private(sessions):
    await queue_rows(sessions, PRIVATE, 3)
    async with running_app(sessions) as (app, request):
        pacer = Pacer()
        first = await deliver_outbox(app.bot, sessions, now=NOW, pacer=pacer)
        assert (first.messages, first.released) == (1, 2)
        same_second = await deliver_outbox(app.bot, sessions, now=NOW, pacer=pacer)
        assert same_second.messages == 0
        await deliver_all(app.bot, sessions, now=NOW + dt.timedelta(seconds=1), pacer=pacer)
    texts = sent_texts(request, PRIVATE)
    assert [next(r for r in ("1.1", "1.2", "1.3") if f"<b>{r}</b>" in t) for t in texts] == [
        "1.1",
        "1.2",
        "1.3",
    ]


async def test_many_rows_for_a_private_chat_are_combined(sessions):
    await queue_rows(sessions, PRIVATE, 6)
    async with running_app(sessions) as (app, request):
        report = await deliver_outbox(app.bot, sessions, now=NOW)
    [call] = request.sent(PRIVATE)
    assert report.sent_rows == 6 and report.messages == 1
    assert "6 novedades" in call.text
    assert [b[1] for b in call.buttons] == [f"an:{n}" for n in range(1, 7)]


async def test_group_gets_one_message_per_row_within_its_allowance(sessions):
    await queue_rows(sessions, SECRETARIAT_CHAT, GROUP_SENDS_PER_MINUTE)
    async with running_app(sessions) as (app, request):
        report = await deliver_outbox(app.bot, sessions, now=NOW)
    assert report.messages == report.sent_rows == GROUP_SENDS_PER_MINUTE
    assert len(request.sent(SECRETARIAT_CHAT)) == GROUP_SENDS_PER_MINUTE


async def test_more_than_a_minute_of_group_messages_are_combined_in_order(sessions):
    await queue_rows(sessions, SECRETARIAT_CHAT, 90)
    async with running_app(sessions) as (app, request):
        report = await deliver_outbox(app.bot, sessions, now=NOW)
    calls = request.sent(SECRETARIAT_CHAT)
    assert report.sent_rows == 90
    assert 2 <= len(calls) <= 5
    assert all(len(c.text) <= 4096 for c in calls)
    text = "\n".join(c.text for c in calls)
    positions = [text.index(f"<b>1.{n}</b> ") for n in range(1, 91)]
    assert positions == sorted(positions)
    assert await _pending(sessions) == 0


async def test_group_allowance_is_shared_across_passes(sessions):
    pacer = Pacer()
    await queue_rows(sessions, SECRETARIAT_CHAT, 15)
    async with running_app(sessions) as (app, request):
        await deliver_outbox(app.bot, sessions, now=NOW, pacer=pacer)
        await queue_rows(sessions, SECRETARIAT_CHAT, 10, start=16)
        second = await deliver_outbox(
            app.bot, sessions, now=NOW + dt.timedelta(seconds=10), pacer=pacer
        )
    # 5 messages left in this minute for 10 rows: combined into one.
    assert second.sent_rows == 10 and second.messages == 1
    assert len(request.sent(SECRETARIAT_CHAT)) == 16


async def test_undelivered_rows_survive_a_restart(sessions):
    await queue_rows(sessions, SECRETARIAT_CHAT, 3)
    async with running_app(sessions) as (app, request):
        pass  # the first process stops before delivering anything
    async with running_app(sessions) as (app, request):
        report = await deliver_all(app.bot, sessions, now=NOW)
    assert report.sent_rows == 3
    assert len(request.sent(SECRETARIAT_CHAT)) == 3


async def test_rows_of_a_dead_worker_are_delivered_after_the_lease(sessions):
    await queue_rows(sessions, SECRETARIAT_CHAT, 2)
    async with transaction(sessions) as session:
        claimed = await outbox.claim(session, now=NOW)  # a worker that then dies
    assert len(claimed) == 2
    async with running_app(sessions) as (app, request):
        during = await deliver_outbox(app.bot, sessions, now=NOW + dt.timedelta(seconds=30))
        after = await deliver_all(app.bot, sessions, now=NOW + outbox.LEASE)
    assert during.claimed == 0
    assert after.sent_rows == 2 and len(request.sent(SECRETARIAT_CHAT)) == 2


async def test_blocked_chat_is_parked_at_once_without_holding_others(sessions):
    await queue_rows(sessions, PRIVATE, 2)
    request = FilesRequest(fail_with=[BLOCKED])
    async with running_app(sessions, request=request) as (app, _):
        report = await deliver_outbox(app.bot, sessions, now=NOW)
        assert report.sent_rows == 0 and report.failed == 1
        later = await deliver_outbox(app.bot, sessions, now=NOW + dt.timedelta(days=30))
        assert later.claimed == 0  # parked: not attempted again
        # A new row for another chat is not held back by the parked ones.
        await queue_rows(sessions, SECRETARIAT_CHAT, 1, now=NOW)
        other = await deliver_outbox(app.bot, sessions, now=NOW)
    assert other.sent_rows == 1
    rows = [r for r in await outbox_rows(sessions) if r.chat_id == PRIVATE]
    assert len(rows) == 2 and all(r.available_at == chats.PARKED_AT for r in rows)
    assert all("Forbidden" in (r.last_error or "") for r in rows)
    assert await _pending(sessions) == 2  # kept, not given up


async def test_chat_not_found_is_parked_at_once(sessions):
    await queue_rows(sessions, PRIVATE, 1)
    request = FilesRequest(fail_with=[CHAT_NOT_FOUND])
    async with running_app(sessions, request=request) as (app, _):
        await deliver_outbox(app.bot, sessions, now=NOW)
    [row] = await outbox_rows(sessions)
    assert row.available_at == chats.PARKED_AT and row.sent_at is None


async def test_daily_digest_rows_are_not_sent_one_by_one(sessions):
    await queue_rows(sessions, PRIVATE, 2, digest=True)
    async with running_app(sessions) as (app, request):
        report = await deliver_outbox(app.bot, sessions, now=NOW)
    assert report.claimed == 0 and request.sent(PRIVATE) == []


async def _pending(sessions) -> int:
    async with sessions() as session:
        return await outbox.pending_count(session)


async def test_a_row_that_cannot_be_rendered_is_given_up_without_blocking_others(sessions):
    async with transaction(sessions) as session:
        session.add(
            OutboxMessage(
                chat_id=PRIVATE, kind="digest", payload={}, created_at=NOW, available_at=NOW
            )
        )
    await queue_rows(sessions, SECRETARIAT_CHAT, 1)
    now = NOW
    async with running_app(sessions) as (app, request):
        for _attempt in range(ERROR_ATTEMPTS):
            report = await deliver_outbox(app.bot, sessions, now=now)
            now += outbox.MAX_BACKOFF
    assert report.given_up == 1
    assert request.sent(PRIVATE) == [] and len(request.sent(SECRETARIAT_CHAT)) == 1
    async with sessions() as session:
        [gone] = await outbox.given_up(session)
    assert "KeyError" in gone.last_error and gone.attempts == ERROR_ATTEMPTS


async def test_a_group_upgraded_to_a_supergroup_still_gets_its_message(sessions):
    await queue_rows(sessions, SECRETARIAT_CHAT, 1)
    migrated = (
        400,
        {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: group chat was upgraded to a supergroup chat",
            "parameters": {"migrate_to_chat_id": -100999},
        },
    )
    async with running_app(sessions, request=FilesRequest(fail_with=[migrated])) as (app, request):
        report = await deliver_outbox(app.bot, sessions, now=NOW)
    assert report.sent_rows == 1
    assert len(request.sent(-100999)) == 1
