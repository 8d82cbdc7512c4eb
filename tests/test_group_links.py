"""Groups linked from inside (`/vincular secretariado`, `/desvincular`) and buttons pressed on a
group's notice, answered in the presser's private chat."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.outbox_delivery import deliver_all
from storage import chats
from storage.db import transaction
from storage.followup import post_comment
from storage.models import ConversationState
from tests.offline import Chat
from tests.report_support import (
    NOW,
    FilesRequest,
    add_person,
    add_plan,
    outbox_rows,
    running_app,
)

ADMIN, FOCAL, SECRETARY, STRANGER = 1, 10, 30, 99
GROUP = -5005

CANNOT_INITIATE = (
    403,
    {
        "ok": False,
        "error_code": 403,
        "description": "Forbidden: bot can't initiate conversation with a user",
    },
)


async def _setup(sessions):
    ids = await add_plan(
        sessions, [("1.1", "Revisar el POA del programa", dt.date(2026, 12, 31), ["PNUD"])]
    )
    await add_person(sessions, "admin", ADMIN, name="Alicia")
    focal = await add_person(sessions, "focal", FOCAL, ["PNUD"], name="Ana")
    await add_person(sessions, "secretariat", SECRETARY, name="Sofía")
    return ids, focal


async def _linked(sessions) -> list[int]:
    async with sessions() as session:
        return [c.chat_id for c in await chats.linked_chats(session)]


async def test_an_admin_links_and_unlinks_a_group(sessions):
    ids, focal = await _setup(sessions)
    async with running_app(sessions, secretariat=()) as (app, request):
        group = Chat(app, ADMIN, chat_id=GROUP)
        await group.send("/vincular secretariado")
        reply = request.last(GROUP).text
        assert "Este grupo queda vinculado al plan de mejora como chat del secretariado" in reply
        assert "cada comentario nuevo y de cada cambio de estado" in reply
        assert await _linked(sessions) == [GROUP]
        await group.send("/vincular secretariado")
        assert "ya estaba vinculado" in request.last(GROUP).text

        # A change now reaches the group.
        async with transaction(sessions) as session:
            await post_comment(session, focal, ids["1.1"], "Avance", notify_chat_ids=(), now=NOW)
        await deliver_all(app.bot, sessions, now=NOW)
        assert "comentó en <b>1.1</b>" in request.last(GROUP).text

        await group.send("/desvincular")
        assert "ya no está vinculado" in request.last(GROUP).text
        assert await _linked(sessions) == []
        await group.send("/desvincular")
        assert "no está vinculado" in request.last(GROUP).text
        async with transaction(sessions) as session:
            await post_comment(session, focal, ids["1.1"], "Más", notify_chat_ids=(), now=NOW)
    assert [r.chat_id for r in await outbox_rows(sessions)][-1:] != [GROUP]


async def test_only_an_admin_links_and_only_inside_a_group(sessions):
    await _setup(sessions)
    async with running_app(sessions, secretariat=()) as (app, request):
        await Chat(app, FOCAL, chat_id=GROUP).send("/vincular secretariado")
        assert request.last(GROUP).text == "Solo la administración puede hacer eso."
        await Chat(app, STRANGER, chat_id=GROUP).send("/vincular secretariado")
        assert "personas registradas" in request.last(GROUP).text
        await Chat(app, ADMIN).send("/vincular secretariado")
        assert "Envía este comando dentro del grupo" in request.last(ADMIN).text
        await Chat(app, ADMIN, chat_id=GROUP).send("/vincular")
        assert "Escribe <code>/vincular secretariado</code>" in request.last(GROUP).text
        await Chat(app, FOCAL, chat_id=GROUP).send("/desvincular")
        assert request.last(GROUP).text == "Solo la administración puede hacer eso."
    assert await _linked(sessions) == []


async def test_a_button_on_a_group_notice_is_answered_in_private(sessions):
    ids, _ = await _setup(sessions)
    async with running_app(sessions, secretariat=(GROUP,)) as (app, request):
        before = len(request.calls)
        await Chat(app, SECRETARY, chat_id=GROUP).press(f"an:{ids['1.1']}", message_id=77)
        calls = request.calls[before:]
        # The card goes to Sofía's private chat; the group's message is not touched.
        assert [c.method for c in calls if int(c.params.get("chat_id", 0) or 0) == GROUP] == []
        [card] = [c for c in calls if c.method == "sendMessage"]
        assert int(card.params["chat_id"]) == SECRETARY
        assert "Revisar el POA del programa" in card.text
        [answer] = [c for c in calls if c.method == "answerCallbackQuery"]
        assert answer.params["text"] == "Te respondí en nuestro chat privado."

        # A button that opens a step: the step is the private chat's, never the group's.
        await Chat(app, SECRETARY, chat_id=GROUP).press(f"vc:{ids['1.1']}")
    async with sessions() as session:
        states = (await session.scalars(select(ConversationState))).all()
    assert [(s.chat_id, s.user_id) for s in states] == [(SECRETARY, SECRETARY)]


async def test_a_presser_who_never_started_the_bot_is_told_how(sessions):
    ids, _ = await _setup(sessions)
    request = FilesRequest(fail_with=[CANNOT_INITIATE])
    async with running_app(sessions, secretariat=(GROUP,), request=request) as (app, _):
        before = len(request.calls)
        await Chat(app, SECRETARY, chat_id=GROUP).press(f"an:{ids['1.1']}")
        calls = request.calls[before:]
    [answer] = [c for c in calls if c.method == "answerCallbackQuery"]
    assert "t.me/plan_de_mejora_bot" in answer.params["text"]
    assert answer.params["show_alert"] is True
    assert [c for c in calls if c.method.startswith("edit")] == []
