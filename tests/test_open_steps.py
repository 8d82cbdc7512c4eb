"""An open step never captures stray text: a command or another button ends it (and says so),
a silent step expires, /cancelar goes back to the card, unknown commands get the closest one,
and a bare /buscar asks for the words."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from bot.app import build_application
from bot.settings import Settings
from storage.db import transaction
from storage.models import Comment, OutboxMessage
from storage.plan_files import load_demo_plan
from tests.offline import TOKEN, OfflineRequest
from tests.test_flows_story import NOW, SECRETARIAT_CHAT, action_id, bot, registered  # noqa: F401


async def _comments(sessions) -> int:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Comment)) or 0)


async def test_a_command_ends_the_open_comment_and_later_text_is_not_stored(bot, sessions):  # noqa: F811
    app, request = bot
    ana = await registered(app, sessions, 701, "focal", ["PNUD"])
    await ana.press(f"c:{await action_id(sessions, '6', 1)}")
    before = await _comments(sessions)
    await ana.send("/resumen")
    assert "Se descartó el comentario pendiente sobre 6.1" in request.sent(701)[-1].text
    await ana.send("Esto es texto después del resumen")
    assert "No entendí" in request.sent(701)[-1].text
    assert await _comments(sessions) == before
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


async def test_another_button_ends_the_open_step(bot, sessions):  # noqa: F811
    app, request = bot
    ana = await registered(app, sessions, 702, "focal", ["PNUD"])
    first = await action_id(sessions, "1", 1)
    await ana.press(f"ss:{first}:c")
    assert "justificación" in request.sent(702)[-1].text
    await ana.press(f"h:{first}")
    assert "Se descartó el cambio de estado pendiente de 1.1" in request.sent(702)[-1].text
    await ana.send("Texto suelto")
    assert "No entendí" in request.sent(702)[-1].text


async def test_cancel_goes_back_to_the_card(bot, sessions):  # noqa: F811
    app, request = bot
    ana = await registered(app, sessions, 703, "focal", ["PNUD"])
    first = await action_id(sessions, "1", 1)
    await ana.press(f"c:{first}")
    await ana.send("/cancelar")
    reply = request.sent(703)[-1]
    assert "Cancelado: no se guardó nada" in reply.text and "Acción clave 1.1" in reply.text
    assert any(data == f"c:{first}" for _label, data in reply.buttons)
    await ana.press(f"c:{first}")
    await ana.press("x")
    assert "Acción clave 1.1" in request.sent(703)[-1].text


async def test_unknown_command_gets_the_closest_one(bot, sessions):  # noqa: F811
    app, request = bot
    ana = await registered(app, sessions, 704, "focal", ["PNUD"])
    await ana.send("/accion")
    assert "¿Quiso decir /acciones?" in request.sent(704)[-1].text
    await ana.send("/zzzz")
    text = request.sent(704)[-1].text
    assert "No conozco /zzzz" in text and "/ayuda" in text


async def test_bare_search_asks_for_the_words(bot, sessions):  # noqa: F811
    app, request = bot
    ana = await registered(app, sessions, 705, "focal", ["PNUD"])
    await ana.send("/buscar")
    assert "¿Qué busco?" in request.sent(705)[-1].text
    await ana.send("asistentes")
    result = request.sent(705)[-1]
    assert "asistentes" in result.text and any("6.1" in label for label, _ in result.buttons)
    await ana.send("asistentes")  # the step is over: plain text again
    assert "No entendí" in request.sent(705)[-1].text


async def test_a_silent_step_expires_after_the_timeout(sessions):
    async with transaction(sessions) as session:
        await load_demo_plan(session)
    now = [NOW]
    request = OfflineRequest()
    settings = Settings(
        telegram_bot_token=TOKEN, secretariat_chat_ids=[SECRETARIAT_CHAT], step_timeout_minutes=60
    )
    app = build_application(
        settings,
        sessions,
        request=request,
        with_jobs=False,
        rate_limiter=False,
        clock=lambda: now[0],
    )
    await app.initialize()
    try:
        ana = await registered(app, sessions, 706, "focal", ["PNUD"])
        await ana.press(f"c:{await action_id(sessions, '1', 1)}")
        before = await _comments(sessions)
        now[0] = NOW + dt.timedelta(minutes=61)
        await ana.send("Llega tarde")
        assert "No entendí" in request.sent(706)[-1].text
        assert await _comments(sessions) == before
    finally:
        await app.shutdown()
