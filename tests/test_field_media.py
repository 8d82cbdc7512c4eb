"""Field media: a voice or video note is a comment of its own, audio files and videos are
evidence like documents, a shared location is a field visit with its place; each is stored with
the right evidence, notified, sent again by "Ver evidencia" with the same file id, listed in the
history and in the exports. And the coordinators' weekly digest obeys their /avisos choice."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.evidence import PLACE, export_evidence
from bot.jobs import send_reminders
from bot.outbox_delivery import deliver_all
from storage.db import transaction
from storage.models import Comment, KeyAction, OutboxMessage, Person
from storage.plan_files import export_plan, load_demo_plan
from tests.offline import Call, OfflineRequest
from tests.test_flows_story import (  # noqa: F401
    NOW,
    SECRETARIAT_CHAT,
    action_id,
    bot,
    make_app,
    registered,
)

LIMA = (-12.046374, -77.042793)


def _voice(n: int, seconds: int = 42) -> dict[str, Any]:
    return {
        "file_id": f"voice{n}",
        "file_unique_id": f"v{n}",
        "duration": seconds,
        "mime_type": "audio/ogg",
        "file_size": 9_000,
    }


async def _comments(sessions: Any, action: int) -> list[Comment]:
    async with sessions() as session:
        found = await session.scalars(
            select(Comment)
            .where(Comment.action_id == action, Comment.author_id.is_not(None))
            .order_by(Comment.id)
            .options(selectinload(Comment.attachments))
        )
        return list(found.all())


def _since(request: OfflineRequest, before: int, chat_id: int) -> list[Call]:
    return [c for c in request.sent(chat_id)[before:]]


async def test_a_voice_note_alone_is_a_comment_and_a_text_after_it_another(bot, sessions):  # noqa: F811
    app, request = bot
    ana = await registered(app, sessions, 901, "focal", ["PNUD"])
    sofia = await registered(app, sessions, 902, "secretariat")
    first = await action_id(sessions, "1", 1)
    await ana.press(f"c:{first}")
    await ana.send_media(voice=_voice(1))

    [voice_comment] = await _comments(sessions, first)
    assert voice_comment.text == ""
    [audio] = voice_comment.attachments
    assert (audio.kind, audio.file_id, audio.duration) == ("voice", "voice1", 42)
    answer = request.last(901).text
    assert "Se guardó 🎤 nota de voz, 0:42 como su comentario" in answer

    before = len(request.sent(901))
    await ana.send("Y el acta se firma el viernes.")
    comments = await _comments(sessions, first)
    assert [c.text for c in comments] == ["", "Y el acta se firma el viernes."]
    assert "Comentario guardado" in _since(request, before, 901)[-1].text

    await deliver_all(app.bot, sessions, now=NOW)
    notices = [c.text for c in request.sent(SECRETARIAT_CHAT)]
    assert any("🎤 nota de voz, 0:42" in t for t in notices)

    await sofia.press(f"h:{first}")
    assert "🎤 nota de voz, 0:42" in request.last(902).text
    await sofia.press(f"ev:{first}")
    [played] = [c for c in request.calls if c.method == "sendVoice"]
    assert played.params["voice"] == "voice1" and int(played.params["chat_id"]) == 902


async def test_a_voice_note_with_a_caption_is_one_comment(bot, sessions):  # noqa: F811
    app, _request = bot
    ana = await registered(app, sessions, 903, "focal", ["PNUD"])
    first = await action_id(sessions, "1", 1)
    await ana.press(f"c:{first}")
    await ana.send_media(voice=_voice(2, 75), caption="Avance del taller")
    [comment] = await _comments(sessions, first)
    assert comment.text == "Avance del taller"
    assert [(a.kind, a.duration) for a in comment.attachments] == [("voice", 75)]


async def test_an_audio_file_waits_for_its_text_and_is_played_back(bot, sessions):  # noqa: F811
    app, request = bot
    ana = await registered(app, sessions, 904, "focal", ["PNUD"])
    sofia = await registered(app, sessions, 905, "secretariat")
    first = await action_id(sessions, "1", 1)
    await ana.press(f"c:{first}")
    audio = {
        "file_id": "audio7",
        "file_unique_id": "a7",
        "duration": 190,
        "file_name": "entrevista.mp3",
        "mime_type": "audio/mpeg",
        "file_size": 2_000_000,
    }
    await ana.send_media(audio=audio)
    assert await _comments(sessions, first) == []
    assert "Evidencia recibida (1 archivo)" in request.last(904).text
    await ana.send("Entrevista con la contraparte")
    [comment] = await _comments(sessions, first)
    assert comment.text == "Entrevista con la contraparte"
    assert [(a.kind, a.file_name, a.duration) for a in comment.attachments] == [
        ("audio", "entrevista.mp3", 190)
    ]
    await sofia.press(f"a:{first}")
    assert "entrevista.mp3, 3:10" in request.last(905).text
    await sofia.press(f"ev:{first}")
    [played] = [c for c in request.calls if c.method == "sendAudio"]
    assert played.params["audio"] == "audio7"


async def test_a_video_note_alone_is_a_comment_sent_again_as_a_video_note(bot, sessions):  # noqa: F811
    app, request = bot
    ana = await registered(app, sessions, 906, "focal", ["PNUD"])
    sofia = await registered(app, sessions, 907, "secretariat")
    first = await action_id(sessions, "1", 1)
    await ana.press(f"c:{first}")
    note = {"file_id": "round1", "file_unique_id": "r1", "length": 240, "duration": 15}
    await ana.send_media(video_note=note)
    [comment] = await _comments(sessions, first)
    assert [(a.kind, a.duration) for a in comment.attachments] == [("video_note", 15)]
    assert "📹 videomensaje, 0:15" in request.last(906).text
    await sofia.press(f"ev:{first}")
    [played] = [c for c in request.calls if c.method == "sendVideoNote"]
    assert played.params["video_note"] == "round1"
    caption = [c for c in request.sent(907) if c.method == "sendMessage"][-1]
    assert "📹 videomensaje, 0:15 — P906" in caption.text


async def test_a_location_is_a_field_visit_with_its_place(bot, sessions, tmp_path: Path):  # noqa: F811
    app, request = bot
    ana = await registered(app, sessions, 908, "focal", ["PNUD"])
    sofia = await registered(app, sessions, 909, "secretariat")
    first = await action_id(sessions, "1", 1)
    await ana.press(f"c:{first}")
    await ana.send_media(location={"latitude": LIMA[0], "longitude": LIMA[1]})
    assert "📍 Ubicación de la visita de campo recibida" in request.last(908).text
    await ana.press(f"d:{first}")
    [comment] = await _comments(sessions, first)
    [place] = comment.attachments
    assert (place.kind, place.file_id) == ("location", "")
    assert (round(place.latitude, 5), round(place.longitude, 5)) == (-12.04637, -77.04279)

    await sofia.press(f"a:{first}")
    card = request.last(909).text
    assert "📍 visita de campo: -12.04637, -77.04279" in card
    assert 'href="https://www.openstreetmap.org/?mlat=-12.04637&amp;mlon=-77.04279' in card
    await sofia.press(f"ev:{first}")
    [sent] = [c for c in request.calls if c.method == "sendLocation"]
    assert (float(sent.params["latitude"]), float(sent.params["longitude"])) == LIMA

    async with sessions() as session:
        buffer = io.BytesIO()
        plan_id = await session.scalar(select(KeyAction.plan_id).where(KeyAction.id == first))
        await export_plan(session, plan_id, buffer)
    history = load_workbook(io.BytesIO(buffer.getvalue())).worksheets[1]
    cells = [str(c.value) for row in history.iter_rows() for c in row if c.value]
    assert "📍 visita de campo: -12.04637, -77.04279" in cells

    report = await export_evidence(sessions, lambda: app.bot, tmp_path)
    [outcome] = [o for o in report.outcomes if o.evidence.kind == "location"]
    assert outcome.status == PLACE and "openstreetmap.org" in outcome.detail
    assert "openstreetmap.org" in report.manifest.read_text(encoding="utf-8-sig")


async def test_exports_list_recordings_in_the_readers_language(bot, sessions):  # noqa: F811
    app, _request = bot
    ana = await registered(app, sessions, 910, "focal", ["PNUD"])
    first = await action_id(sessions, "1", 1)
    await ana.press(f"c:{first}")
    await ana.send_media(voice=_voice(3, 65))
    async with sessions() as session:
        spanish, english = io.BytesIO(), io.BytesIO()
        plan_id = await session.scalar(select(KeyAction.plan_id).where(KeyAction.id == first))
        await export_plan(session, plan_id, spanish)
        await export_plan(session, plan_id, english, locale="en")
    es_sheets = load_workbook(io.BytesIO(spanish.getvalue())).worksheets
    en_sheets = load_workbook(io.BytesIO(english.getvalue())).worksheets
    es_cells = [str(c.value) for row in es_sheets[1].iter_rows() for c in row if c.value]
    en_cells = [str(c.value) for row in en_sheets[1].iter_rows() for c in row if c.value]
    assert "🎤 nota de voz, 1:05" in es_cells and "🎤 voice note, 1:05" in en_cells
    # Every header of every sheet is in English (the main sheet keeps its fixed name only).
    main, history, metadata = en_sheets
    assert [c.value for c in main[1]][:3] == [
        "Recommendation no.",
        "Recommendation",
        "Management response",
    ]
    assert [c.value for c in history[1]] == [
        "Date (UTC)",
        "Recommendation no.",
        "Key action no.",
        "Type",
        "Author",
        "Text",
        "Attachments",
    ]
    assert history.title == "History"
    assert [r[0].value for r in metadata.iter_rows()][:2] == ["Title", "Programme"]
    assert "Follow-up - Comment" in en_cells


async def test_the_weekly_digest_follows_each_coordinators_choice(sessions):
    async with transaction(sessions) as session:
        await load_demo_plan(session)
    app, request = await make_app(sessions)
    try:
        users = {"immediate": 921, "digest": 922, "weekly": 923, "off": 924}
        chats = {
            mode: await registered(app, sessions, user, "coordinator")
            for mode, user in users.items()
        }
        await chats["immediate"].send("/avisos on")
        await chats["digest"].send("/avisos diario")
        await chats["off"].send("/avisos off")  # "weekly" is a new coordinator's choice
        async with sessions() as session:
            modes = dict(
                (await session.execute(select(Person.telegram_id, Person.notify_mode))).all()
            )
        assert {mode: modes[user] for mode, user in users.items()} == {m: m for m in users}
        run = await send_reminders(sessions, now=NOW, weekday=NOW.weekday())
        assert run.digests == 3
        before = {user: len(request.sent(user)) for user in users.values()}
        await deliver_all(app.bot, sessions, now=NOW)
        got = {mode: len(request.sent(user)) - before[user] for mode, user in users.items()}
        assert got == {"immediate": 1, "digest": 1, "weekly": 1, "off": 0}
        # Only those who asked for notices of changes get them.
        ana = await registered(app, sessions, 925, "focal", ["PNUD"])
        first = await action_id(sessions, "1", 1)
        await ana.press(f"c:{first}")
        await ana.send("Avance de la semana")
        async with sessions() as session:
            told = set(
                (
                    await session.scalars(
                        select(OutboxMessage.chat_id).where(OutboxMessage.kind != "digest")
                    )
                ).all()
            )
        assert told & set(users.values()) == {921, 922}
    finally:
        await app.shutdown()


async def test_only_coordinators_are_offered_the_weekly_report(bot, sessions):  # noqa: F811
    app, request = bot
    sofia = await registered(app, sessions, 926, "secretariat")
    carla = await registered(app, sessions, 927, "coordinator")
    await sofia.send("/avisos semanal")
    secretariat_view = request.last(926)
    assert [data for _label, data in secretariat_view.buttons] == [
        "nm:immediate",
        "nm:digest",
        "nm:off",
    ]
    await sofia.press("nm:weekly")
    async with sessions() as session:
        assert (
            await session.scalar(select(Person.notify_mode).where(Person.telegram_id == 926))
            == "immediate"
        )
    await carla.send("/avisos")
    coordinator_view = request.last(927)
    assert "✓ 📅 Solo el informe semanal" in [label for label, _data in coordinator_view.buttons]
    assert "solo el informe semanal del plan" in coordinator_view.text
