"""The verdict reaches the field: the secretariat's observations, validations and review
comments go to the focal points of the action's units (and no one else), who can answer; the
answer is a comment linked to the observation, and the secretariat hears of it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.outbox_delivery import deliver_all
from handlers.i18n import Tr
from handlers.notifications import render_reminder
from storage.db import transaction
from storage.followup import set_review_status
from storage.models import Comment, CommentKind, ReviewStatus
from storage.people import get_person, set_person_active
from storage.reminders import select_reminders
from tests.offline import Chat
from tests.report_support import NOW, SECRETARIAT_CHAT, add_person, add_plan, running_app

LUIS, OTHER_FOCAL, ANA, COORDINATOR, SOFIA, ADMIN, GONE = 40, 41, 42, 43, 44, 45, 46


async def _setup(sessions):  # type: ignore[no-untyped-def]
    ids = await add_plan(
        sessions,
        [
            ("4.3", "Ajustar el marco de resultados", dt.date(2026, 12, 31), ["Coordinación"]),
            ("1.1", "Revisar el POA del programa", dt.date(2026, 12, 31), ["PNUD"]),
        ],
    )
    await add_person(sessions, "focal", LUIS, ["Coordinación"], name="Luis")
    await add_person(sessions, "focal", OTHER_FOCAL, ["Coordinación", "PNUD"], name="Rosa")
    await add_person(sessions, "focal", ANA, ["PNUD"], name="Ana")
    await add_person(sessions, "coordinator", COORDINATOR, name="Carmen")
    sofia = await add_person(sessions, "secretariat", SOFIA, name="Sofía")
    admin = await add_person(sessions, "admin", ADMIN, name="Admin")
    await add_person(sessions, "focal", GONE, ["Coordinación"], name="Ex")
    async with transaction(sessions) as session:
        gone = await get_person(session, GONE)
        assert gone is not None
        await set_person_active(session, admin, gone.id, False)
    return ids, sofia


async def test_an_observation_reaches_every_focal_point_of_the_units_and_no_one_else(sessions):
    ids, sofia = await _setup(sessions)
    async with transaction(sessions) as session:
        await set_review_status(
            session,
            sofia,
            ids["4.3"],
            ReviewStatus.OBSERVED,
            comment_text="Adjuntar el memo de PNUD que justifica el cambio.",
            notify_chat_ids=[SECRETARIAT_CHAT],
            now=NOW,
        )
    async with running_app(sessions) as (app, request):
        await deliver_all(app.bot, sessions, now=NOW)
        for focal in (LUIS, OTHER_FOCAL):
            [notice] = request.sent(focal)
            assert "⚠️ Observaciones del secretariado sobre <b>4.3</b>" in notice.text
            assert "«Adjuntar el memo de PNUD que justifica el cambio.»" in notice.text
            assert [data.split(":")[0] for _label, data in notice.buttons] == ["an", "ra"]
        assert request.sent(ANA) == [] and request.sent(GONE) == []
        assert all(
            "Observaciones del secretariado" not in c.text for c in request.sent(COORDINATOR)
        )

        # Luis answers from the notice: a comment linked to the observation, and Sofía hears it.
        [notice] = request.sent(LUIS)
        answer = next(data for _label, data in notice.buttons if data.startswith("ra:"))
        luis = Chat(app, LUIS)
        await luis.press(answer)
        assert "Escriba su respuesta a las observaciones" in request.sent(LUIS)[-1].text
        await luis.send("Adjunto el memo firmado por PNUD.")
        assert "Comentario guardado" in request.sent(LUIS)[-1].text
        async with sessions() as session:
            observation = await session.scalar(
                select(Comment).where(Comment.kind == CommentKind.REVIEW.value)
            )
            reply = await session.scalar(
                select(Comment).where(Comment.text == "Adjunto el memo firmado por PNUD.")
            )
        assert observation is not None and reply is not None
        assert reply.answers_id == observation.id
        before = len(request.sent(SOFIA))
        await deliver_all(app.bot, sessions, now=NOW + dt.timedelta(minutes=1))
        told = [c.text for c in request.sent(SOFIA)[before:]]
        assert any(
            "respondió a las observaciones del secretariado sobre <b>4.3</b>" in t for t in told
        )


async def test_a_validation_reaches_the_field_in_their_language_without_an_answer_button(sessions):
    ids, sofia = await _setup(sessions)
    await add_person(sessions, "focal", 47, ["Coordinación"], name="Jane", language="en")
    async with transaction(sessions) as session:
        await set_review_status(
            session,
            sofia,
            ids["4.3"],
            ReviewStatus.VALIDATED,
            notify_chat_ids=[SECRETARIAT_CHAT],
            now=NOW,
        )
    async with running_app(sessions) as (app, request):
        await deliver_all(app.bot, sessions, now=NOW)
    [spanish] = request.sent(LUIS)
    assert "☑️ El secretariado validó <b>4.3</b>" in spanish.text
    assert [data.split(":")[0] for _label, data in spanish.buttons] == ["an"]
    [english] = request.sent(47)
    assert "☑️ The secretariat validated <b>4.3</b>" in english.text
    assert request.sent(ANA) == []


async def test_open_observations_come_first_in_the_weekly_reminder(sessions):
    ids, sofia = await _setup(sessions)
    async with transaction(sessions) as session:
        await set_review_status(
            session,
            sofia,
            ids["4.3"],
            ReviewStatus.OBSERVED,
            comment_text="Falta el acta firmada.",
            notify_chat_ids=[SECRETARIAT_CHAT],
            now=NOW,
        )
    async with sessions() as session:
        reminders = await select_reminders(session, today=NOW.date(), now=NOW)
    luis = next(r for r in reminders if r.telegram_id == LUIS)
    assert (luis.items[0].ref, luis.items[0].reason) == ("4.3", "observed")
    [view] = render_reminder(Tr("es"), {**luis_payload(luis), "today": NOW.date().isoformat()})
    assert "⚠️ Observaciones del secretariado por responder (1)" in view.text


def luis_payload(reminder):  # type: ignore[no-untyped-def]
    return {
        "items": [item.as_payload() for item in reminder.items],
        "counts": reminder.counts(),
        "total": reminder.total,
    }
