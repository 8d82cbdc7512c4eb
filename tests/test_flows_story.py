"""The chat, end to end through PTB's `Application` with the offline transport: what people
read and what is stored, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from bot.app import build_application
from bot.settings import Settings
from storage.db import transaction
from storage.models import Comment, KeyAction, OutboxMessage, Person, Recommendation
from storage.people import create_invitation
from storage.plan_files import load_demo_plan
from tests.offline import TOKEN, Chat, OfflineRequest

NOW = dt.datetime(2012, 5, 2, 15, 0, tzinfo=dt.UTC)
SECRETARIAT_CHAT = -100200


async def make_app(sessions):  # type: ignore[no-untyped-def]
    request = OfflineRequest()
    app = build_application(
        Settings(telegram_bot_token=TOKEN, secretariat_chat_ids=[SECRETARIAT_CHAT]),
        sessions,
        request=request,
        with_jobs=False,
        rate_limiter=False,
        clock=lambda: NOW,
    )
    await app.initialize()
    return app, request


@pytest.fixture
async def bot(sessions):  # type: ignore[no-untyped-def]
    async with transaction(sessions) as session:
        await load_demo_plan(session)
    app, request = await make_app(sessions)
    yield app, request
    for call in request.calls:
        assert len(call.text) <= 4096 + 2000  # visible length is checked in split_message tests
        for _text, data in call.buttons:
            assert len(data.encode()) <= 64
    await app.shutdown()


async def invite(sessions, role: str, units: list[str] | None = None) -> str:  # type: ignore[no-untyped-def]
    async with transaction(sessions) as session:
        return await create_invitation(session, role, units or [], now=NOW)


async def action_id(sessions, label: str, number: int) -> int:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        return await session.scalar(
            select(KeyAction.id)
            .join(Recommendation, Recommendation.id == KeyAction.recommendation_id)
            .where(Recommendation.label == label, KeyAction.number == number)
        )


async def registered(app, sessions, user_id: int, role: str, units=None, lang="es"):  # type: ignore[no-untyped-def]
    chat = Chat(app, user_id, first_name=f"P{user_id}", language_code=lang)
    await chat.send(f"/start {await invite(sessions, role, units)}")
    return chat


async def test_stranger_gets_only_the_invitation_help(bot, sessions):
    app, request = bot
    stranger = Chat(app, 999)
    await stranger.send("hola")
    await stranger.send("/acciones")
    await stranger.press("a:1")
    texts = [c.text for c in request.sent(999)]
    assert len(texts) == 2 and all("invitación" in t for t in texts)
    assert request.calls[-1].method == "answerCallbackQuery"
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Person)) == 0


async def test_registration_greets_and_sets_the_menu(bot, sessions):
    app, request = bot
    ana = await registered(app, sessions, 501, "focal", ["PNUD"])
    greeting = request.sent(501)[-1].text
    assert "P501" in greeting and "punto focal" in greeting and "PNUD" in greeting
    menus = [c for c in request.calls if c.method == "setMyCommands"]
    assert menus and menus[-1].params["scope"]["chat_id"] == 501
    await ana.send("/start")
    assert "P501" in request.sent(501)[-1].text


async def test_wrong_codes_are_throttled(bot, sessions):
    app, request = bot
    chat = Chat(app, 777)
    for _ in range(5):
        await chat.send("/start not-a-code")
    good = await invite(sessions, "focal", ["PNUD"])
    await chat.send(f"/start {good}")
    assert "Demasiados intentos" in request.sent(777)[-1].text


async def test_focal_point_lists_opens_comments_and_completes(bot, sessions):
    app, request = bot
    ana = await registered(app, sessions, 501, "focal", ["PNUD"])
    await ana.send("/acciones")
    listing = request.sent(501)[-1]
    refs = [text.split(" · ")[0] for text, _ in listing.buttons if text.startswith(("🔴", "⚪"))]
    assert refs == ["🔴 1.1", "🔴 2 y 3.2", "⚪ 6.1"]
    first = await action_id(sessions, "1", 1)
    await ana.press(f"a:{first}")
    card = request.sent(501)[-1].text
    assert "vence el 31 ene 2012 · vencida hace 3 meses" in card
    assert "Por revisar" in card and "PNUD" in card
    await ana.press(f"c:{first}")
    await ana.send("Taller <b>realizado</b> & <script>")
    saved = request.sent(501)[-1].text
    assert "Comentario guardado" in saved
    assert "Taller &lt;b&gt;realizado&lt;/b&gt; &amp; &lt;script&gt;" in saved
    await ana.press(f"ss:{first}:c")
    assert "justificación" in request.sent(501)[-1].text
    await ana.send("POA aprobado en el Comité de Gestión")
    assert "Completada" in request.sent(501)[-1].text
    async with sessions() as session:
        action = await session.get(KeyAction, first)
        assert action.status == "completed"
        texts = await session.scalars(select(Comment.text).where(Comment.author_id.is_not(None)))
        assert sorted(texts.all()) == [
            "POA aprobado en el Comité de Gestión",
            "Taller <b>realizado</b> & <script>",
        ]
        outbox = (await session.scalars(select(OutboxMessage.chat_id))).all()
        assert outbox == [SECRETARIAT_CHAT, SECRETARIAT_CHAT]


async def test_6_1_is_conditional(bot, sessions):
    app, request = bot
    luis = await registered(app, sessions, 502, "focal", ["Unidad de Coordinación"])
    await luis.press(f"a:{await action_id(sessions, '6', 1)}")
    assert "condicional: a la recepción del tercer desembolso" in request.sent(502)[-1].text


async def test_forged_and_malformed_buttons_change_nothing(bot, sessions):
    app, request = bot
    ana = await registered(app, sessions, 501, "focal", ["PNUD"])
    not_hers = await action_id(sessions, "4", 3)  # Unidad de Coordinación only
    for data in (f"c:{not_hers}", f"ss:{not_hers}:i", f"a:{not_hers}", "a:abc", "zz:1", "ss:1:q"):
        await ana.press(data)
        answer = request.calls[-1]
        assert answer.method == "answerCallbackQuery" and answer.params.get("text")
    async with sessions() as session:
        assert (await session.get(KeyAction, not_hers)).status == "not_started"
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


async def test_too_long_comment_keeps_the_conversation(bot, sessions):
    app, request = bot
    ana = await registered(app, sessions, 501, "focal", ["PNUD"])
    first = await action_id(sessions, "1", 1)
    await ana.press(f"c:{first}")
    await ana.send("x" * 3001)
    assert "3001" in request.sent(501)[-1].text.replace(".", "")
    await ana.send("Ahora sí, breve.")
    assert "Comentario guardado" in request.sent(501)[-1].text


async def test_same_update_twice_posts_one_comment(bot, sessions):
    app, _request = bot
    ana = await registered(app, sessions, 501, "focal", ["PNUD"])
    await ana.press(f"c:{await action_id(sessions, '1', 1)}")
    update = await ana.send("Una sola vez")
    await ana.feed(update)
    async with sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(Comment).where(Comment.text == "Una sola vez")
        )
    assert count == 1


async def test_comment_survives_a_restart(bot, sessions):
    app, _request = bot
    ana = await registered(app, sessions, 501, "focal", ["PNUD"])
    first = await action_id(sessions, "1", 1)
    await ana.press(f"c:{first}")
    await app.shutdown()
    second, request = await make_app(sessions)
    try:
        await Chat(second, 501).send("Escrito después del reinicio")
        assert "Comentario guardado" in request.sent(501)[-1].text
    finally:
        await second.shutdown()
        await app.initialize()


async def test_photo_evidence_then_done(bot, sessions):
    app, request = bot
    ana = await registered(app, sessions, 501, "focal", ["PNUD"])
    first = await action_id(sessions, "1", 1)
    await ana.press(f"e:{first}")
    await ana.send_photo()
    assert any(data == f"d:{first}" for _t, data in request.sent(501)[-1].buttons)
    await ana.send_document("virus.exe", mime_type="application/x-msdownload")
    assert "virus.exe" in request.sent(501)[-1].text
    await ana.press(f"d:{first}")
    async with sessions() as session:
        comment = await session.scalar(select(Comment).where(Comment.author_id.is_not(None)))
        assert [a.kind for a in comment.attachments] == ["photo"]


async def test_secretariat_reviews_and_cannot_follow_up(bot, sessions):
    app, request = bot
    sofia = await registered(app, sessions, 504, "secretariat")
    first = await action_id(sessions, "1", 1)
    await sofia.press(f"c:{first}")
    assert request.calls[-1].method == "answerCallbackQuery"
    await sofia.press(f"vs:{first}:v")
    async with sessions() as session:
        assert (await session.get(KeyAction, first)).review_status == "validated"
    await sofia.press(f"vs:{first}:o")
    await sofia.send("Falta el acta firmada")
    async with sessions() as session:
        assert (await session.get(KeyAction, first)).review_status == "observed"


async def test_admin_invites_with_a_deep_link(bot, sessions):
    app, request = bot
    admin = await registered(app, sessions, 505, "admin")
    await admin.send("/invitar focal PNUD, Unidad de Coordinación")
    text = request.sent(505)[-1].text
    assert "https://t.me/plan_de_mejora_bot?start=" in text
    code = text.split("?start=")[1].split()[0]
    newcomer = Chat(app, 506)
    await newcomer.send(f"/start {code}")
    async with sessions() as session:
        person = await session.scalar(select(Person).where(Person.telegram_id == 506))
        assert sorted(u.name for u in person.units) == ["PNUD", "Unidad de Coordinación"]
    focal = Chat(app, 506)
    await focal.send("/invitar admin")
    assert "administración" in request.sent(506)[-1].text


async def test_english_speakers_get_english(bot, sessions):
    app, request = bot
    john = await registered(app, sessions, 507, "coordinator", lang="en")
    assert "Welcome" in request.sent(507)[-1].text
    await john.send("/idioma")
    await john.press("lg:es")
    await john.send("/acciones")
    assert "Sus acciones pendientes" in request.sent(507)[-1].text


async def test_telegram_429_on_a_reply_is_retried_and_nothing_is_lost(sessions):
    async with transaction(sessions) as session:
        await load_demo_plan(session)
    request = OfflineRequest()
    app = build_application(
        Settings(telegram_bot_token=TOKEN),
        sessions,
        request=request,
        with_jobs=False,
        rate_limiter=True,
        clock=lambda: NOW,
    )
    await app.initialize()
    try:
        ana = await registered(app, sessions, 501, "focal", ["PNUD"])
        await ana.press(f"c:{await action_id(sessions, '1', 1)}")
        too_many = {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        }
        request.fail_with.append((429, too_many))
        await ana.send("Comentario durante un 429")
        assert "Comentario guardado" in request.sent(501)[-1].text
        async with sessions() as session:
            assert (
                await session.scalar(
                    select(func.count()).select_from(Comment).where(Comment.author_id.is_not(None))
                )
                == 1
            )
    finally:
        await app.shutdown()


async def test_telegram_going_away_loses_nothing(bot, sessions):
    app, request = bot
    ana = await registered(app, sessions, 501, "focal", ["PNUD"])
    await ana.press(f"c:{await action_id(sessions, '1', 1)}")
    gone = {"ok": False, "error_code": 502, "description": "Bad Gateway"}
    request.fail_with.extend([(502, gone), (502, gone)])
    await ana.send("Enviado mientras Telegram no responde")
    async with sessions() as session:
        stored = await session.scalar(select(Comment.text).where(Comment.author_id.is_not(None)))
        outbox = await session.scalar(select(func.count()).select_from(OutboxMessage))
    assert stored == "Enviado mientras Telegram no responde"
    assert outbox == 1  # the secretariat is still told, by the delivery job


PLAN_CSV = (
    "Recomendación Nº,Recomendación,Acción clave Nº,Acción clave,Plazo,Responsable\n"
    "1,Mejorar el monitoreo,1,Diseñar el tablero de seguimiento,Marzo 2013,OCR\n"
    "1,,2,Capacitar a los puntos focales,Segundo semestre 2013,OCR; PNUD\n"
)


async def test_admin_imports_a_plan_and_a_broken_one_changes_nothing(bot, sessions):
    app, request = bot
    admin = await registered(app, sessions, 505, "admin")
    await admin.send("/plan")
    await admin.send_document("nuevo_plan.csv", "text/csv", content=PLAN_CSV.encode())
    report = request.sent(505)[-1].text
    assert "nuevo plan" in report and "2 nuevas" in report
    async with sessions() as session:
        before = await session.scalar(select(func.count()).select_from(KeyAction))
    broken = b"Columna A,Columna B\n1,2\n"
    await admin.send_document("roto.csv", "text/csv", caption="/plan", content=broken)
    answer = request.sent(505)[-1].text
    assert "No pude importar" in answer and "falta la columna" in answer
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(KeyAction)) == before
