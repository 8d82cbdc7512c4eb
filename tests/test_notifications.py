"""Notifications of changes: who gets them, what they say, /avisos and the daily digest."""

from __future__ import annotations

import datetime as dt

from bot.jobs import send_digests
from bot.outbox_delivery import deliver_all, deliver_outbox
from storage.db import transaction
from storage.followup import NewAttachment, post_comment, set_review_status, set_status
from storage.models import CommentKind, NotifyMode, ReviewStatus, Status
from storage.people import get_person
from tests.offline import Chat
from tests.report_support import (
    NOW,
    SECRETARIAT_CHAT,
    add_person,
    add_plan,
    outbox_rows,
    running_app,
    sent_texts,
)

FOCAL, COORDINATOR, QUIET_COORDINATOR, SECRETARY, ENGLISH_SECRETARY = 10, 20, 21, 30, 31


async def _setup(sessions):
    ids = await add_plan(
        sessions,
        [
            ("1.1", "Revisar el POA del programa", dt.date(2026, 12, 31), ["PNUD"]),
            ("2 y 3.1", "Estrategia común de comunicación", dt.date(2027, 3, 31), ["PNUD"]),
        ],
    )
    focal = await add_person(sessions, "focal", FOCAL, ["PNUD"], name="Ana <Pérez>")
    await add_person(sessions, "coordinator", COORDINATOR, name="Carmen")
    await add_person(sessions, "coordinator", QUIET_COORDINATOR, name="Jorge")
    secretary = await add_person(sessions, "secretariat", SECRETARY, name="Sofía")
    return ids, focal, secretary


async def _comment(sessions, person, action_id, text, **kwargs):
    async with transaction(sessions) as session:
        return await post_comment(
            session, person, action_id, text, notify_chat_ids=[SECRETARIAT_CHAT], now=NOW, **kwargs
        )


async def test_a_comment_reaches_the_secretariat_and_coordinators_who_opted_in(sessions):
    ids, focal, _ = await _setup(sessions)
    async with running_app(sessions) as (app, request):
        await Chat(app, COORDINATOR).send("/avisos on")
        await _comment(
            sessions,
            focal,
            ids["1.1"],
            "Avance del 50 % <b>sin</b> problemas",
            attachments=[NewAttachment("photo", "f1", "u1", "foto.jpg", "image/jpeg")],
        )
        report = await deliver_all(app.bot, sessions, now=NOW)
    assert report.sent_rows == 3
    for chat_id in (SECRETARIAT_CHAT, COORDINATOR, SECRETARY):
        [call] = [c for c in request.sent(chat_id) if c.method == "sendMessage"][-1:]
        assert "💬 <b>Ana &lt;Pérez&gt; (punto focal)</b> comentó en <b>1.1</b>" in call.text
        assert "<i>Revisar el POA del programa</i>" in call.text
        assert "«Avance del 50 % &lt;b&gt;sin&lt;/b&gt; problemas»" in call.text
        assert "📎 1 adjunto: foto.jpg" in call.text
        assert call.buttons == [
            ("Abrir la acción 1.1", f"an:{ids['1.1']}"),
            ("📎 Ver evidencia (1)", f"ev:{ids['1.1']}"),
        ]
    assert sent_texts(request, QUIET_COORDINATOR) == []
    assert sent_texts(request, FOCAL) == []  # the author is not told of their own comment


async def test_a_long_comment_is_shortened(sessions):
    ids, focal, _ = await _setup(sessions)
    await _comment(sessions, focal, ids["1.1"], "Informe <detallado> " * 150)
    async with running_app(sessions) as (app, request):
        await deliver_all(app.bot, sessions, now=NOW)
    [text] = sent_texts(request, SECRETARIAT_CHAT)
    assert len(text) < 1200 and "…»" in text and "&lt;detallado&gt;" in text


async def test_status_change_and_review_say_what_changed(sessions):
    ids, focal, secretary = await _setup(sessions)
    async with transaction(sessions) as session:
        await set_status(
            session,
            focal,
            ids["2 y 3.1"],
            Status.COMPLETED,
            justification="Estrategia aprobada",
            notify_chat_ids=[SECRETARIAT_CHAT],
            now=NOW,
        )
    async with transaction(sessions) as session:
        await set_review_status(
            session,
            secretary,
            ids["2 y 3.1"],
            ReviewStatus.OBSERVED,
            comment_text="Falta el acta",
            notify_chat_ids=[SECRETARIAT_CHAT],
            now=NOW + dt.timedelta(minutes=5),
        )
    async with running_app(sessions) as (app, request):
        await deliver_all(app.bot, sessions, now=NOW + dt.timedelta(minutes=5))
    status, review = sent_texts(request, SECRETARIAT_CHAT)
    assert "cambió el estado de <b>2 y 3.1</b>: No iniciada → <b>Completada</b>" in status
    assert "«Estrategia aprobada»" in status
    assert "🔎 <b>Sofía (secretariado)</b> revisó <b>2 y 3.1</b>" in review
    assert "Por revisar → <b>Con observaciones</b>" in review and "«Falta el acta»" in review
    # The secretary is told of the focal point's change, not of her own review.
    assert len(sent_texts(request, SECRETARY)) == 1


async def test_review_comment_in_english_for_an_english_speaker(sessions):
    ids, _focal, secretary = await _setup(sessions)
    await add_person(sessions, "secretariat", ENGLISH_SECRETARY, name="Jane", language="en")
    await _comment(
        sessions, secretary, ids["1.1"], "Please attach the minutes", kind=CommentKind.REVIEW
    )
    async with running_app(sessions) as (app, request):
        await deliver_all(app.bot, sessions, now=NOW)
    [text] = sent_texts(request, ENGLISH_SECRETARY)
    assert "🗒 <b>Sofía (secretariat)</b> added a review comment on <b>1.1</b>" in text
    assert request.sent(ENGLISH_SECRETARY)[0].buttons == [("Open action 1.1", f"an:{ids['1.1']}")]


async def test_avisos_changes_the_mode(sessions):
    await _setup(sessions)
    async with running_app(sessions) as (app, request):
        chat = Chat(app, COORDINATOR)
        await chat.send("/avisos")
        call = request.last(COORDINATOR)
        assert "No recibe avisos de cambios, solo el informe semanal del plan." in call.text
        assert [b[1] for b in call.buttons] == [
            "nm:immediate",
            "nm:digest",
            "nm:weekly",
            "nm:off",
        ]
        assert call.buttons[2][0].startswith("✓ ")  # a coordinator's default
        await chat.press("nm:digest")
        edited = request.last(COORDINATOR)
        assert edited.method == "editMessageText"
        assert "en un solo mensaje cada tarde" in edited.text
        assert edited.buttons[1][0] == "✓ 🗞 Resumen diario"
        await Chat(app, FOCAL).send("/avisos")
        assert "recordatorio" in request.last(FOCAL).text and request.last(FOCAL).buttons == []
    async with sessions() as session:
        coordinator = await get_person(session, COORDINATOR)
        focal = await get_person(session, FOCAL)
    assert coordinator.notify_mode == NotifyMode.DIGEST
    assert focal.notify_mode == NotifyMode.OFF


async def test_daily_digest_combines_the_days_changes_once(sessions):
    ids, focal, _ = await _setup(sessions)
    async with running_app(sessions) as (app, request):
        await Chat(app, COORDINATOR).send("/avisos diario")
        await _comment(sessions, focal, ids["1.1"], "Primer avance")
        await _comment(sessions, focal, ids["1.1"], "Segundo avance")
        async with transaction(sessions) as session:
            await set_status(
                session,
                focal,
                ids["2 y 3.1"],
                Status.IN_PROGRESS,
                notify_chat_ids=[SECRETARIAT_CHAT],
                now=NOW,
            )
        immediate = await deliver_all(app.bot, sessions, now=NOW)
        assert immediate.sent_rows == 6  # 3 for the secretariat chat, 3 for the secretary
        assert sent_texts(request, COORDINATOR)[1:] == []  # only the /avisos answer
        evening = NOW + dt.timedelta(hours=8)
        folded = await send_digests(sessions, now=evening)
        assert folded == {COORDINATOR: 3}
        assert await send_digests(sessions, now=evening + dt.timedelta(minutes=30)) == {}
        report = await deliver_outbox(app.bot, sessions, now=evening)
    assert report.sent_rows == 1 and report.messages == 1
    text = sent_texts(request, COORDINATOR)[-1]
    assert "🗞 <b>Resumen del día</b>" in text
    assert "3 novedades: 2 comentarios, 1 cambio de estado" in text
    assert text.index("Primer avance") < text.index("Segundo avance") < text.index("En curso")
    assert request.last(COORDINATOR).buttons == [
        ("1.1 ›", f"an:{ids['1.1']}"),
        ("2 y 3.1 ›", f"an:{ids['2 y 3.1']}"),
    ]
    rows = await outbox_rows(sessions)
    assert all(r.sent_at is not None for r in rows)


async def test_nothing_to_fold_on_a_quiet_day(sessions):
    await _setup(sessions)
    assert await send_digests(sessions, now=NOW) == {}
