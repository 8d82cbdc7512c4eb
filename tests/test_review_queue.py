"""/revisar, the secretariat's review queue: what waits (changed since the last validation),
oldest change first, one card at a time with Validate · Observe · Skip; the secretariat's
/acciones defaulting to "Por revisar"; /ayuda and the command menu per role."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from storage.db import Sessions, transaction
from storage.followup import NewAttachment, post_comment, set_review_status, set_status
from storage.models import (
    Comment,
    CommentKind,
    KeyAction,
    Person,
    Recommendation,
    ReviewStatus,
    Status,
)
from storage.people import create_invitation
from storage.plan_files import load_demo_plan
from tests.offline import Chat
from tests.report_support import Clock, add_person, running_app

#: After the demo plan's import (which stamps its comments with the real time).
T0 = dt.datetime(2031, 3, 3, 15, 0, tzinfo=dt.UTC)
SECRETARIAT, FOCAL, COORDINATOR, ADMIN = 30, 11, 20, 40


def at(hours: int) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


async def action_id(sessions: Sessions, label: str, number: int) -> int:
    async with sessions() as session:
        found = await session.scalar(
            select(KeyAction.id)
            .join(Recommendation, Recommendation.id == KeyAction.recommendation_id)
            .where(Recommendation.label == label, KeyAction.number == number)
        )
    assert found is not None
    return found


async def review_of(sessions: Sessions, action: int) -> str:
    async with sessions() as session:
        found = await session.get(KeyAction, action)
        assert found is not None
        return found.review_status


async def _baseline(sessions: Sessions) -> None:
    """The demo plan, every action validated: only what changes afterwards waits for review."""
    async with transaction(sessions) as session:
        await load_demo_plan(session)
        await session.execute(update(KeyAction).values(review_status=ReviewStatus.VALIDATED.value))


async def _changes(sessions: Sessions) -> dict[str, int]:
    """1.1 put in progress (hour 1), 6.1 completed (hour 2), 4.3 observed (hour 0) then
    commented with two files (hour 3), 5.1 observed with nothing after (hour 4)."""
    ids = {
        ref: await action_id(sessions, ref.split(".")[0], int(ref.split(".")[1]))
        for ref in ("1.1", "6.1", "4.3", "5.1")
    }
    focal = await add_person(sessions, "focal", FOCAL, ["PNUD"], name="Ana")
    coordinator = await add_person(sessions, "coordinator", COORDINATOR, name="Carmen")
    secretariat = await add_person(sessions, "secretariat", SECRETARIAT, name="Sofía")
    none: tuple[int, ...] = ()
    async with transaction(sessions) as session:
        await set_review_status(
            session,
            secretariat,
            ids["4.3"],
            ReviewStatus.OBSERVED,
            comment_text="Adjuntar el memo de PNUD",
            notify_chat_ids=none,
            now=at(0),
        )
        await set_status(
            session, focal, ids["1.1"], Status.IN_PROGRESS, notify_chat_ids=none, now=at(1)
        )
        await set_status(
            session,
            coordinator,
            ids["6.1"],
            Status.COMPLETED,
            justification="Desembolso recibido",
            notify_chat_ids=none,
            now=at(2),
        )
        await post_comment(
            session,
            coordinator,
            ids["4.3"],
            "Va el memo y la lista",
            attachments=[
                NewAttachment("document", "doc-memo", file_name="memo.pdf"),
                NewAttachment("document", "doc-lista", file_name="lista.xlsx"),
            ],
            notify_chat_ids=none,
            now=at(3),
        )
        await set_review_status(
            session,
            secretariat,
            ids["5.1"],
            ReviewStatus.OBSERVED,
            comment_text="Falta el informe",
            notify_chat_ids=none,
            now=at(4),
        )
    return ids


@pytest.fixture
async def seeded(sessions: Sessions) -> dict[str, int]:
    await _baseline(sessions)
    return await _changes(sessions)


def labels(buttons: list[tuple[str, str]]) -> list[str]:
    return [text for text, _ in buttons]


async def test_the_queue_oldest_change_first_with_skip(sessions, seeded):
    ids = seeded
    async with running_app(sessions, clock=Clock(at(5))) as (app, request):
        sofia = Chat(app, SECRETARIAT)
        await sofia.send("/revisar")
        card = request.last(SECRETARIAT)
        assert "1 de 3 por revisar" in card.text
        assert "Acción clave 1.1" in card.text
        assert "Último cambio" in card.text and "Ana" in card.text
        assert "No iniciada → <b>En curso</b>" in card.text
        assert labels(card.buttons) == ["☑️ Validar", "⚠️ Observar", "Saltar ›"]
        assert card.buttons[2][1] == "rq:1"

        await sofia.press("rq:1")
        card = request.last(SECRETARIAT)
        assert card.method == "editMessageText"
        assert "2 de 3 por revisar" in card.text and "Acción clave 6.1" in card.text
        assert "No iniciada → <b>Completada</b>" in card.text
        assert "💬 Desembolso recibido" in card.text and "Carmen" in card.text

        await sofia.press("rq:2")
        card = request.last(SECRETARIAT)
        assert "3 de 3 por revisar" in card.text and "Acción clave 4.3" in card.text
        assert "💬 Va el memo y la lista" in card.text
        assert "Con observaciones" in card.text
        assert "📎 Evidencia (2 archivos): memo.pdf, lista.xlsx" in card.text
        assert ("📎 Ver evidencia (2)", f"ev:{ids['4.3']}") in card.buttons

        await sofia.press("rq:3")
        end = request.last(SECRETARIAT)
        assert "Fin de esta ronda: quedan 3 acciones saltadas por revisar." in end.text
        assert "9 acciones validadas hasta ahora." in end.text
        assert end.buttons == [("🔁 Empezar de nuevo", "rq:0")]
        await sofia.press("rq:0")
        assert "Acción clave 1.1" in request.last(SECRETARIAT).text


async def test_validate_shows_the_next_card_until_nothing_waits(sessions, seeded):
    ids = seeded
    async with running_app(sessions, clock=Clock(at(5))) as (app, request):
        sofia = Chat(app, SECRETARIAT)
        await sofia.send("/revisar")
        assert request.last(SECRETARIAT).buttons[0][1] == f"rqv:{ids['1.1']}:0"
        await sofia.press(f"rqv:{ids['1.1']}:0")
        card = request.last(SECRETARIAT)
        assert card.method == "editMessageText"
        assert card.text.startswith("☑️ 1.1 validada.")
        assert "1 de 2 por revisar" in card.text and "Acción clave 6.1" in card.text
        assert await review_of(sessions, ids["1.1"]) == ReviewStatus.VALIDATED
        await sofia.press(f"rqv:{ids['6.1']}:0")
        await sofia.press(f"rqv:{ids['4.3']}:0")
        done = request.last(SECRETARIAT).text
        assert "Nada por revisar 🎉" in done and "12 acciones validadas hasta ahora." in done
        # The same button again: nothing changes twice
        await sofia.press(f"rqv:{ids['4.3']}:0")
        assert "Ya tiene ese estado de revisión." in request.last(SECRETARIAT).text


async def test_observe_opens_the_observation_step(sessions, seeded):
    ids = seeded
    async with running_app(sessions, clock=Clock(at(5))) as (app, request):
        sofia = Chat(app, SECRETARIAT)
        await sofia.send("/revisar")
        await sofia.press("rq:1")
        await sofia.press(f"rqo:{ids['6.1']}")
        prompt = request.last(SECRETARIAT)
        assert "Escriba las observaciones sobre <b>6.1</b>" in prompt.text
        await sofia.send("Falta el acta de recepción")
        assert "Con observaciones" in request.last(SECRETARIAT).text
        await sofia.send("/revisar")
        assert "1 de 2 por revisar" in request.last(SECRETARIAT).text
    assert await review_of(sessions, ids["6.1"]) == ReviewStatus.OBSERVED
    async with sessions() as session:
        texts = await session.scalars(
            select(Comment.text).where(
                Comment.action_id == ids["6.1"], Comment.kind == CommentKind.REVIEW
            )
        )
        assert texts.all() == ["Falta el acta de recepción"]


async def test_empty_queue_in_english(sessions):
    await _baseline(sessions)
    await add_person(sessions, "secretariat", SECRETARIAT, language="en")
    async with running_app(sessions, clock=Clock(at(5))) as (app, request):
        await Chat(app, SECRETARIAT, language_code="en").send("/review")
        text = request.last(SECRETARIAT).text
        assert "Nothing to review 🎉" in text and "13 actions validated so far." in text


async def test_the_card_in_english(sessions, seeded):
    async with running_app(sessions, clock=Clock(at(5))) as (app, request):
        async with transaction(sessions) as session:
            person = await session.scalar(select(Person).where(Person.telegram_id == SECRETARIAT))
            assert person is not None
            person.language = "en"
        sofia = Chat(app, SECRETARIAT, language_code="en")
        await sofia.send("/review")
        card = request.last(SECRETARIAT)
        assert "1 of 3 to review" in card.text and "Latest change" in card.text
        assert labels(card.buttons) == ["☑️ Validate", "⚠️ Observe", "Skip ›"]
        await sofia.press("rq:2")
        card = request.last(SECRETARIAT)
        assert "📎 Evidence (2 files): memo.pdf, lista.xlsx" in card.text
        assert "📎 See evidence (2)" in labels(card.buttons)


async def test_focal_points_are_refused(sessions, seeded):
    ids = seeded
    async with running_app(sessions, clock=Clock(at(5))) as (app, request):
        ana = Chat(app, FOCAL)
        await ana.send("/revisar")
        assert request.last(FOCAL).text == "La cola de revisión es para el secretariado."
        await ana.press(f"rqv:{ids['1.1']}:0")
        answer = request.calls[-1]
        assert answer.method == "answerCallbackQuery" and answer.params.get("show_alert")
    assert await review_of(sessions, ids["1.1"]) == ReviewStatus.PENDING


async def test_acciones_defaults_per_role(sessions, seeded):
    async with running_app(sessions, clock=Clock(at(5))) as (app, request):
        luis = await add_person(sessions, "focal", 12, ["Unidad de Coordinación"], name="Luis")
        await Chat(app, SECRETARIAT).send("/acciones")
        listing = request.last(SECRETARIAT)
        assert "Acciones por revisar" in listing.text
        refs = [text.split(" · ")[0].split(" ")[-1] for text, data in listing.buttons]
        assert "6.1" in refs  # completed, not validated
        assert ("• Por revisar", "l:r:0") in listing.buttons
        await Chat(app, luis.telegram_id or 0).send("/acciones")
        listing = request.last(12)
        assert "Sus acciones pendientes" in listing.text
        refs = [text.split(" · ")[0].split(" ")[-1] for text, data in listing.buttons]
        assert "6.1" not in refs and "4.3" in refs
        assert "Por revisar" not in " ".join(labels(listing.buttons))
        await Chat(app, SECRETARIAT).send("/acciones pendientes")
        assert "Sus acciones pendientes" in request.last(SECRETARIAT).text


@pytest.mark.parametrize(
    ("role", "has_review"),
    [("focal", False), ("coordinator", False), ("secretariat", True), ("admin", True)],
)
async def test_menu_and_help_per_role(sessions, role, has_review):
    await _baseline(sessions)
    async with running_app(sessions, clock=Clock(at(5))) as (app, request):
        async with transaction(sessions) as session:
            units = ["PNUD"] if role == "focal" else []
            code = await create_invitation(session, role, units, now=T0)
        chat = Chat(app, 77)
        await chat.send(f"/start {code}")
        menus = [c for c in request.calls if c.method == "setMyCommands"]
        names = [command["command"] for command in menus[-1].params["commands"]]
        assert ("revisar" in names) is has_review
        await chat.send("/ayuda")
        help_text = request.last(77).text
        assert ("/revisar" in help_text) is has_review
        assert ("adjuntar evidencia" in help_text) is (role != "secretariat")
