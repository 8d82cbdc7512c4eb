"""Notification chats in the database: linked groups, unreachable chats parked and retried,
groups moved to a new id (also those of the settings)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from storage import chats, outbox
from storage.followup import post_comment
from storage.models import KeyAction, OutboxMessage
from tests.storage_support import NOW, make_person, make_plan

SETTING_CHAT = -1001
LINKED_CHAT = -2002
NEW_ID = -100_2002


async def _first_action(session) -> int:
    action_id = await session.scalar(
        select(KeyAction.id).order_by(KeyAction.position, KeyAction.number)
    )
    assert action_id is not None
    return int(action_id)


async def _rows(session) -> list[OutboxMessage]:
    return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def test_notices_go_to_the_setting_and_the_linked_reachable_groups(session):
    await make_plan(session)
    admin = await make_person(session, "admin", telegram_id=1)
    focal = await make_person(session, "focal", ["PNUD"], telegram_id=10)
    assert await chats.link_chat(
        session, LINKED_CHAT, kind=chats.SECRETARIAT, title="Secretariado", person=admin, now=NOW
    )
    assert not await chats.link_chat(
        session, LINKED_CHAT, kind=chats.SECRETARIAT, title="Secretariado", person=admin, now=NOW
    )
    action = await _first_action(session)
    await post_comment(session, focal, action, "Avance", notify_chat_ids=[SETTING_CHAT], now=NOW)
    assert sorted(r.chat_id for r in await _rows(session)) == [LINKED_CHAT, SETTING_CHAT]

    await chats.mark_unreachable(session, LINKED_CHAT, "Forbidden: bot was kicked", now=NOW)
    await post_comment(session, focal, action, "Más", notify_chat_ids=[SETTING_CHAT], now=NOW)
    assert [r.chat_id for r in (await _rows(session))[-1:]] == [SETTING_CHAT]

    await chats.retry_chat(session, LINKED_CHAT, now=NOW)
    assert await chats.unlink_chat(session, LINKED_CHAT)
    assert not await chats.unlink_chat(session, LINKED_CHAT)
    before = len(await _rows(session))
    await post_comment(session, focal, action, "Otro", notify_chat_ids=[SETTING_CHAT], now=NOW)
    assert [r.chat_id for r in (await _rows(session))[before:]] == [SETTING_CHAT]


async def test_an_unreachable_chat_is_parked_the_admins_told_once_and_released(session):
    await make_plan(session)
    await make_person(session, "admin", telegram_id=1)
    await make_person(session, "admin", telegram_id=2)
    person = await make_person(session, "secretariat", telegram_id=20)
    focal = await make_person(session, "focal", ["PNUD"], telegram_id=10)
    person.notify_mode = "immediate"
    action = await _first_action(session)
    for text in ("Uno", "Dos"):
        await post_comment(session, focal, action, text, notify_chat_ids=[], now=NOW)

    gone = await chats.mark_unreachable(session, 20, "Forbidden: bot was blocked", now=NOW)
    assert gone is not None and (gone.label, gone.waiting, gone.admins_told) == (
        "secretariat 20",
        2,
        2,
    )
    again = await chats.mark_unreachable(session, 20, "Forbidden: bot was blocked", now=NOW)
    assert again is None  # told once
    rows = await _rows(session)
    parked = [r for r in rows if r.chat_id == 20]
    assert all(r.available_at == chats.PARKED_AT for r in parked) and len(parked) == 2
    notices = [r for r in rows if r.kind == chats.CHAT_UNREACHABLE_KIND]
    assert sorted(r.chat_id for r in notices) == [1, 2]
    assert notices[0].payload["waiting"] == 2 and notices[0].payload["label"] == "secretariat 20"
    assert await outbox.pending_count(session) == 4  # parked rows are kept, not given up

    later = NOW + dt.timedelta(hours=5)
    assert await chats.retry_chat(session, 20, now=later) == 2
    assert await chats.retry_chat(session, 20, now=later) is None
    claimed = await outbox.claim(session, now=later)
    assert sorted(r.chat_id for r in claimed) == [1, 2, 20, 20]


async def test_a_moved_group_takes_its_rows_and_link_and_settings_follow_it(session):
    admin = await make_person(session, "admin", telegram_id=1)
    await chats.link_chat(
        session, LINKED_CHAT, kind=chats.SECRETARIAT, title="Secretariado", person=admin, now=NOW
    )
    for chat_id in (LINKED_CHAT, SETTING_CHAT):
        session.add(OutboxMessage(chat_id=chat_id, kind="comment", payload={}, created_at=NOW))
    await session.flush()
    assert await chats.adopt_move(session, LINKED_CHAT, NEW_ID)
    assert not await chats.adopt_move(session, LINKED_CHAT, NEW_ID)
    assert await chats.adopt_move(session, SETTING_CHAT, -100_1001)
    assert sorted(r.chat_id for r in await _rows(session)) == [-100_2002, -100_1001]
    assert [c.chat_id for c in await chats.linked_chats(session)] == [NEW_ID]
    assert sorted(await chats.notice_chat_ids(session, [SETTING_CHAT])) == [-100_2002, -100_1001]
