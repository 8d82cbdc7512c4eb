"""The dashboard from the chat's side: its button under /resumen and as the menu button, for the
roles that have it and only with `WEB_APP_URL`; `/start a<id>` (the page's "open in the chat")
opens the action's card; and the webhook reaching the handlers through the shared web server."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.app import build_application
from bot.settings import Settings
from bot.web.server import web_app
from storage.db import transaction
from storage.models import KeyAction, Recommendation
from storage.plan_files import load_demo_plan
from tests.dashboard_support import dashboard
from tests.offline import TOKEN, Chat, OfflineRequest
from tests.test_flows_story import NOW, invite

URL = "https://bot.example.org/app/"


async def make_app(sessions, web_app_url: str = URL):  # type: ignore[no-untyped-def]
    request = OfflineRequest()
    app = build_application(
        Settings(telegram_bot_token=TOKEN, web_app_url=web_app_url),
        sessions,
        request=request,
        with_jobs=False,
        rate_limiter=False,
        clock=lambda: NOW,
    )
    await app.initialize()
    return app, request


@pytest.fixture
async def demo(sessions):  # type: ignore[no-untyped-def]
    async with transaction(sessions) as session:
        await load_demo_plan(session)


async def registered(app, sessions, user_id: int, role: str, units=None) -> Chat:  # type: ignore[no-untyped-def]
    chat = Chat(app, user_id, first_name=f"P{user_id}")
    await chat.send(f"/start {await invite(sessions, role, units)}")
    return chat


def web_app_buttons(params: dict[str, Any]) -> list[tuple[str, str]]:
    markup = params.get("reply_markup") or {}
    return [
        (b["text"], b["web_app"]["url"])
        for row in markup.get("inline_keyboard", [])
        for b in row
        if "web_app" in b
    ]


def menu_buttons(request: OfflineRequest, chat_id: int) -> list[dict[str, Any]]:
    return [
        c.params["menu_button"]
        if isinstance(c.params["menu_button"], dict)
        else json.loads(c.params["menu_button"])
        for c in request.calls
        if c.method == "setChatMenuButton" and int(c.params["chat_id"]) == chat_id
    ]


@pytest.mark.parametrize(
    ("role", "units", "shown"),
    [
        ("coordinator", None, True),
        ("secretariat", None, True),
        ("admin", None, True),
        ("focal", ["PNUD"], False),
    ],
)
async def test_resumen_offers_the_dashboard_to_its_roles(demo, sessions, role, units, shown):
    app, request = await make_app(sessions)
    chat = await registered(app, sessions, 601, role, units)
    menus = menu_buttons(request, 601)
    if shown:
        assert menus[-1] == {"type": "web_app", "text": "Tablero", "web_app": {"url": URL}}
    else:
        assert menus[-1] == {"type": "default"}
    await chat.send("/resumen")
    buttons = web_app_buttons(request.sent(601)[-1].params)
    assert buttons == ([("📋 Abrir el tablero", URL)] if shown else [])
    await app.shutdown()


async def test_no_dashboard_button_without_its_address(demo, sessions):
    app, request = await make_app(sessions, web_app_url="")
    chat = await registered(app, sessions, 602, "coordinator")
    await chat.send("/resumen")
    assert web_app_buttons(request.sent(602)[-1].params) == []
    assert not [c for c in request.calls if c.method == "setChatMenuButton"]
    await app.shutdown()


async def test_no_dashboard_button_in_a_group(demo, sessions):
    app, request = await make_app(sessions)
    await registered(app, sessions, 603, "coordinator")
    group = Chat(app, 603, first_name="P603", chat_id=-100500)
    await group.send("/resumen")
    answer = request.sent(-100500)[-1]
    assert "Avance" in answer.text and web_app_buttons(answer.params) == []
    await app.shutdown()


async def _action_id(sessions, label: str, number: int) -> int:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        found = await session.scalar(
            select(KeyAction.id)
            .join(Recommendation, Recommendation.id == KeyAction.recommendation_id)
            .where(Recommendation.label == label, KeyAction.number == number)
        )
        assert found is not None
        return found


async def test_the_action_link_opens_its_card(demo, sessions):
    app, request = await make_app(sessions)
    ana = await registered(app, sessions, 604, "focal", ["PNUD"])
    await ana.send(f"/start a{await _action_id(sessions, '1', 1)}")
    assert "Acción clave 1.1" in request.sent(604)[-1].text
    # Another unit's action: refused, as a button of the chat would be.
    await ana.send(f"/start a{await _action_id(sessions, '4', 3)}")  # Unidad de Coordinación
    last = request.sent(604)[-1].text
    assert "no está asignada a sus unidades" in last and "Acción clave" not in last
    # A stranger with the link gets what a stranger gets, and no wrong-code attempt counts.
    stranger = Chat(app, 605)
    await stranger.send(f"/start a{await _action_id(sessions, '1', 1)}")
    assert "invitación" in request.sent(605)[-1].text
    await app.shutdown()


async def test_the_webhook_reaches_the_handlers_through_the_web_server(demo, sessions):
    app, request = await make_app(sessions)
    server = web_app(dashboard(sessions), application=app, webhook_path="hook", webhook_secret="s3")
    transport = httpx.ASGITransport(app=server)
    update = {
        "update_id": 9001,
        "message": {
            "message_id": 1,
            "date": int(NOW.timestamp()),
            "chat": {"id": 606, "type": "private", "first_name": "Eva"},
            "from": {"id": 606, "is_bot": False, "first_name": "Eva", "language_code": "es"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    await app.start()
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
            wrong = await client.post(
                "/hook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"}
            )
            assert wrong.status_code == 403
            missing = await client.post("/hook", json=update)
            assert missing.status_code == 403
            assert app.update_queue.qsize() == 0
            right = await client.post(
                "/hook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3"}
            )
            assert right.status_code == 200
            for _ in range(200):
                if request.sent(606):
                    break
                await asyncio.sleep(0.05)
        assert "invitación" in request.sent(606)[-1].text  # the /start handler answered
    finally:
        await app.stop()
        await app.shutdown()
