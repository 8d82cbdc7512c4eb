"""Evidence, openable: the card lists the files by name, "Ver evidencia" sends the very files
(the same Telegram file ids) to whoever may see the action, the history names them, and the
files of an album are one comment."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.app import build_application
from bot.settings import Settings
from storage.db import transaction
from storage.models import Comment
from storage.plan_files import load_demo_plan
from tests.offline import TOKEN, OfflineRequest
from tests.test_flows_story import NOW, SECRETARIAT_CHAT, action_id, bot, registered  # noqa: F401


async def test_the_secretariat_gets_the_very_files_a_focal_point_sent(bot, sessions):  # noqa: F811
    app, request = bot
    ana = await registered(app, sessions, 801, "focal", ["PNUD"])
    sofia = await registered(app, sessions, 802, "secretariat")
    first = await action_id(sessions, "1", 1)
    await ana.press(f"c:{first}")
    await ana.send_document("acta.pdf", caption="Acta firmada del CDN")
    await ana.press(f"e:{first}")
    await ana.send_document("lista_asistencia.xlsx", mime_type="application/vnd.ms-excel")
    await ana.press(f"d:{first}")
    sent_ids = [
        c.params["document"]
        for c in request.calls
        if c.method == "sendDocument" and int(c.params.get("chat_id", 0)) == 801
    ]
    assert sent_ids == []  # nothing was sent back to Ana: her files are stored by their ids

    await sofia.press(f"a:{first}")
    card = request.sent(802)[-1]
    assert "📎 Evidencia (2 archivos)" in card.text
    assert "acta.pdf — P801" in card.text and "lista_asistencia.xlsx — P801" in card.text
    see = next(data for label, data in card.buttons if label == "📎 Ver evidencia (2)")
    await sofia.press(see)
    [album] = [c for c in request.sent(802) if c.method == "sendMediaGroup"]
    media = album.params["media"]
    assert [m["media"] for m in media] == sorted(
        [m["media"] for m in media], key=lambda i: int(i.removeprefix("doc"))
    )
    assert all(m["type"] == "document" for m in media) and len(media) == 2
    async with sessions() as session:
        stored = (
            await session.scalars(
                select(Comment)
                .where(Comment.action_id == first, Comment.author_id.is_not(None))
                .options(selectinload(Comment.attachments))
            )
        ).all()
    assert [m["media"] for m in media] == [a.file_id for c in stored for a in c.attachments]

    await sofia.press(f"h:{first}")
    history = request.sent(802)[-1].text
    assert "📎 acta.pdf" in history and "📎 lista_asistencia.xlsx" in history


async def test_evidence_of_an_action_one_cannot_see_is_refused(bot, sessions):  # noqa: F811
    app, request = bot
    luis = await registered(app, sessions, 803, "focal", ["Unidad de Coordinación"])
    not_his = await action_id(sessions, "1", 1)
    before = len(request.calls)
    await luis.press(f"ev:{not_his}")
    [answer] = [c for c in request.calls[before:] if c.method == "answerCallbackQuery"]
    assert answer.params.get("show_alert")
    assert [c for c in request.calls[before:] if c.method == "sendMediaGroup"] == []


async def test_an_album_of_three_photos_is_one_comment_with_three_files(sessions):
    async with transaction(sessions) as session:
        await load_demo_plan(session)
    request = OfflineRequest()
    settings = Settings(
        telegram_bot_token=TOKEN,
        secretariat_chat_ids=[SECRETARIAT_CHAT],
        album_wait_seconds=0.3,
        _env_file=None,  # type: ignore[call-arg]
    )
    app = build_application(
        settings, sessions, request=request, rate_limiter=False, clock=lambda: NOW
    )
    await app.initialize()
    await app.start()
    try:
        ana = await registered(app, sessions, 804, "focal", ["PNUD"])
        first = await action_id(sessions, "1", 1)
        await ana.press(f"c:{first}")
        # The caption comes on the second photo: the order does not matter.
        await ana.send_photo(media_group="album1")
        await ana.send_photo(caption="Fotos del taller", media_group="album1")
        await ana.send_photo(media_group="album1")
        await asyncio.sleep(1.0)
        async with sessions() as session:
            [comment] = (
                await session.scalars(
                    select(Comment)
                    .where(Comment.text == "Fotos del taller")
                    .options(selectinload(Comment.attachments))
                )
            ).all()
        assert len(comment.attachments) == 3
        assert "Comentario guardado" in request.sent(804)[-1].text
        # one answer for the whole album
        assert sum("Comentario guardado" in c.text for c in request.sent(804)) == 1
    finally:
        await app.stop()
        await app.shutdown()
