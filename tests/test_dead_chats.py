"""Dead and moved chats in the outbox delivery: a kicked group or a blocked person is marked
unreachable at once, its rows parked (kept, not attempted), the administrators told in chat once
with the number of notices waiting, and the chat retried when the bot is added back, when the
person writes again or when an administrator presses "Reintentar". A group upgraded to a
supergroup moves, with its rows, to the new id, stored for every later notice."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import select

from bot.outbox_delivery import deliver_all, deliver_outbox
from storage import chats
from storage.db import transaction
from storage.followup import post_comment
from storage.models import KnownChat
from tests.offline import BOT_ID, BOT_USERNAME, Chat
from tests.report_support import (
    NOW,
    SECRETARIAT_CHAT,
    FilesRequest,
    add_person,
    add_plan,
    outbox_rows,
    queue_rows,
    running_app,
    sent_texts,
)

ADMIN, OTHER_ADMIN, SECRETARY, FOCAL = 1, 2, 30, 10
NEW_GROUP_ID = -100_1001

KICKED = (
    403,
    {
        "ok": False,
        "error_code": 403,
        "description": "Forbidden: bot was kicked from the group chat",
    },
)
BLOCKED = (
    403,
    {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
)
MIGRATED = (
    400,
    {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: group chat was upgraded to a supergroup chat",
        "parameters": {"migrate_to_chat_id": NEW_GROUP_ID},
    },
)


async def _admins(sessions) -> None:
    await add_person(sessions, "admin", ADMIN, name="Alicia")
    await add_person(sessions, "admin", OTHER_ADMIN, name="Bruno")


def _bot_status(chat: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """A `my_chat_member` update: the bot's status in `chat` changed."""
    bot = {"id": BOT_ID, "is_bot": True, "first_name": "Plan", "username": BOT_USERNAME}
    return {
        "update_id": next(Chat._update_ids),
        "my_chat_member": {
            "chat": chat,
            "from": {"id": ADMIN, "is_bot": False, "first_name": "Alicia"},
            "date": int(NOW.timestamp()),
            "old_chat_member": {"user": bot, "status": old},
            "new_chat_member": {"user": bot, "status": new}
            | ({"until_date": 0} if new == "kicked" else {}),
        },
    }


def _unreachable_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "unreachable" in r.getMessage()]


async def test_a_kicked_group_is_parked_admins_told_and_retried_when_the_bot_is_back(
    sessions, caplog
):
    await _admins(sessions)
    await queue_rows(sessions, SECRETARIAT_CHAT, 3)
    caplog.set_level(logging.INFO)
    request = FilesRequest(fail_with=[KICKED])
    async with running_app(sessions, request=request) as (app, _):
        first = await deliver_outbox(app.bot, sessions, now=NOW)
        assert first.failed == 1 and first.sent_rows == 0
        # Later passes: the admins get their notice, the group is not attempted again.
        later = await deliver_all(app.bot, sessions, now=NOW + dt.timedelta(hours=6))
        assert later.sent_rows == 2
        assert len(request.sent(SECRETARIAT_CHAT)) == 1  # the one failed try
        rows = [r for r in await outbox_rows(sessions) if r.chat_id == SECRETARIAT_CHAT]
        assert [r.available_at for r in rows] == [chats.PARKED_AT] * 3
        assert all(r.sent_at is None for r in rows)
        for admin in (ADMIN, OTHER_ADMIN):
            [call] = request.sent(admin)
            assert "No puedo entregar avisos a <b>chat -1001</b>" in call.text
            assert "se eliminó al bot del grupo" in call.text
            assert "3 avisos esperan" in call.text
            assert call.buttons == [("🔁 Reintentar", "rc:-1001")]
        assert len(_unreachable_lines(caplog)) == 1  # logged once, not per row

        # The bot is added back to the group: the parked rows go out.
        group = {"id": SECRETARIAT_CHAT, "type": "group", "title": "Secretariado"}
        await Chat(app, ADMIN).feed(_bot_status(group, "left", "member"))
        back = await deliver_all(app.bot, sessions, now=NOW + dt.timedelta(hours=7))
    assert back.sent_rows == 3
    texts = sent_texts(request, SECRETARIAT_CHAT)[1:]
    assert ["<b>1.1</b>" in texts[0], "<b>1.2</b>" in texts[1], "<b>1.3</b>" in texts[2]] == [
        True
    ] * 3
    async with sessions() as session:
        assert await chats.unreachable_chats(session) == []


async def test_a_person_who_blocked_the_bot_is_retried_when_they_write_again(sessions, caplog):
    await _admins(sessions)
    await add_person(sessions, "secretariat", SECRETARY, name="Sofía")
    await queue_rows(sessions, SECRETARY, 2)
    caplog.set_level(logging.INFO)
    request = FilesRequest(fail_with=[BLOCKED])
    async with running_app(sessions, request=request) as (app, _):
        await deliver_outbox(app.bot, sessions, now=NOW)
        await deliver_all(app.bot, sessions, now=NOW)
        [notice] = request.sent(ADMIN)
        assert "<b>Sofía</b>" in notice.text and "la persona bloqueó al bot" in notice.text
        assert "2 avisos esperan" in notice.text
        assert len(request.sent(SECRETARY)) == 1
        assert len(_unreachable_lines(caplog)) == 1
        await Chat(app, SECRETARY, first_name="Sofía").send("/ayuda")
        back = await deliver_all(app.bot, sessions, now=NOW + dt.timedelta(minutes=5))
    assert back.sent_rows == 2
    assert sum("<b>1." in t for t in sent_texts(request, SECRETARY)) == 3  # failed try + 2


async def test_an_admin_presses_retry(sessions):
    await _admins(sessions)
    await queue_rows(sessions, SECRETARIAT_CHAT, 2)
    request = FilesRequest(fail_with=[KICKED])
    async with running_app(sessions, request=request) as (app, _):
        await deliver_outbox(app.bot, sessions, now=NOW)
        admin = Chat(app, ADMIN)
        before = len(request.calls)
        await admin.press("rc:-1001")
        [answer] = [c for c in request.calls[before:] if c.method == "answerCallbackQuery"]
        assert answer.params["text"] == "2 avisos se volverán a intentar en un momento."
        again = await deliver_all(app.bot, sessions, now=NOW + dt.timedelta(minutes=1))
        assert again.sent_rows == 4  # the group's two and the two admins' notices
        assert len(request.sent(SECRETARIAT_CHAT)) == 3  # the failed try and the two
        before = len(request.calls)
        await admin.press("rc:-1001")
        [answer] = [c for c in request.calls[before:] if c.method == "answerCallbackQuery"]
        assert "no está en espera" in answer.params["text"]
        # Someone else may not retry.
        await add_person(sessions, "focal", FOCAL, ["PNUD"])
        before = len(request.calls)
        await Chat(app, FOCAL).press("rc:-1001")
        [answer] = [c for c in request.calls[before:] if c.method == "answerCallbackQuery"]
        assert answer.params["text"] == "Solo la administración puede hacer eso."


async def test_a_group_upgraded_to_a_supergroup_moves_for_good(sessions, caplog):
    ids = await add_plan(
        sessions, [("1.1", "Revisar el POA del programa", dt.date(2026, 12, 31), ["PNUD"])]
    )
    focal = await add_person(sessions, "focal", FOCAL, ["PNUD"], name="Ana")
    await queue_rows(sessions, SECRETARIAT_CHAT, 2)
    caplog.set_level(logging.INFO)
    request = FilesRequest(fail_with=[MIGRATED])
    async with running_app(sessions, request=request) as (app, _):
        report = await deliver_all(app.bot, sessions, now=NOW)
        assert report.sent_rows == 2
        assert len(request.sent(NEW_GROUP_ID)) == 2 and len(request.sent(SECRETARIAT_CHAT)) == 1
        moved = [r.getMessage() for r in caplog.records if "moved to" in r.getMessage()]
        assert len(moved) == 1 and "SECRETARIAT_CHAT_IDS" in moved[0]
        # The next notice goes straight to the new id, though the setting still has the old.
        async with transaction(sessions) as session:
            await post_comment(
                session,
                focal,
                ids["1.1"],
                "Avance",
                notify_chat_ids=app.bot_data["deps"].notify_chat_ids,
                now=NOW,
            )
        calls_before = len(request.calls)
        await deliver_all(app.bot, sessions, now=NOW + dt.timedelta(minutes=2))
        new_calls = request.calls[calls_before:]
    assert [int(c.params["chat_id"]) for c in new_calls if c.method == "sendMessage"] == [
        NEW_GROUP_ID
    ]
    async with sessions() as session:
        stored = await session.get(KnownChat, SECRETARIAT_CHAT)
        assert stored is not None and stored.moved_to == NEW_GROUP_ID
        rows = (await session.scalars(select(KnownChat.chat_id))).all()
    assert set(rows) == {SECRETARIAT_CHAT, NEW_GROUP_ID}


async def test_notices_to_a_parked_chat_wait_behind_it(sessions):
    await _admins(sessions)
    await add_person(sessions, "secretariat", SECRETARY, name="Sofía")
    await queue_rows(sessions, SECRETARY, 1)
    async with running_app(sessions, request=FilesRequest(fail_with=[BLOCKED])) as (app, req):
        await deliver_outbox(app.bot, sessions, now=NOW)
        await queue_rows(sessions, SECRETARY, 1, start=2, now=NOW + dt.timedelta(minutes=1))
        await deliver_all(app.bot, sessions, now=NOW + dt.timedelta(minutes=2))
    assert len(req.sent(SECRETARY)) == 1  # the failed try only
    assert len(req.sent(ADMIN)) == 1
    async with sessions() as session:
        assert await chats.waiting_count(session, SECRETARY) == 2


async def test_the_service_message_of_an_upgraded_group_moves_it_before_any_failure(
    sessions, caplog
):
    await queue_rows(sessions, SECRETARIAT_CHAT, 1)
    caplog.set_level(logging.INFO)
    async with running_app(sessions) as (app, request):
        service = {
            "update_id": next(Chat._update_ids),
            "message": {
                "message_id": next(Chat._message_ids),
                "date": int(NOW.timestamp()),
                "chat": {"id": SECRETARIAT_CHAT, "type": "group", "title": "Secretariado"},
                "from": {"id": ADMIN, "is_bot": False, "first_name": "Alicia"},
                "migrate_to_chat_id": NEW_GROUP_ID,
            },
        }
        await Chat(app, ADMIN).feed(service)
        await Chat(app, ADMIN).feed({**service, "update_id": next(Chat._update_ids)})
        await deliver_all(app.bot, sessions, now=NOW)
    assert len(request.sent(NEW_GROUP_ID)) == 1 and request.sent(SECRETARIAT_CHAT) == []
    assert len([r for r in caplog.records if "moved to" in r.getMessage()]) == 1


async def test_a_group_that_removes_the_bot_is_marked_at_once(sessions, caplog):
    """Removed from a notification group (or blocked by a registered person): marked before
    any notice fails, the admins told; a group the bot does not deliver to is none of ours."""
    await _admins(sessions)
    await add_person(sessions, "focal", FOCAL, ["PNUD"], name="Ana")
    caplog.set_level(logging.INFO)
    async with running_app(sessions) as (app, request):
        group = {"id": SECRETARIAT_CHAT, "type": "group", "title": "Secretariado"}
        await Chat(app, ADMIN).feed(_bot_status(group, "member", "kicked"))
        other = {"id": -100_777, "type": "group", "title": "Otro grupo"}
        await Chat(app, ADMIN).feed(_bot_status(other, "member", "left"))
        person = {"id": FOCAL, "type": "private", "first_name": "Ana"}
        await Chat(app, FOCAL).feed(_bot_status(person, "member", "kicked"))
        await deliver_all(app.bot, sessions, now=NOW)
        [notice, blocked] = request.sent(ADMIN)
        assert "No puedo entregar avisos a" in notice.text
        assert "se eliminó al bot del grupo" in notice.text
        assert "bloqueó al bot" in blocked.text and "Ana" in blocked.text
    async with sessions() as session:
        gone = {chat.chat_id for chat in await chats.unreachable_chats(session)}
    assert gone == {SECRETARIAT_CHAT, FOCAL}
    assert len(_unreachable_lines(caplog)) == 2
