"""Registration and the admin's invitations, as the trial found them (issue 11): unknown units
refused with the closest ones, `/start` for someone registered, a code of another role asked
about first, deactivated people told so, the command line's errors, and Spanish slips."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import _import, _invite
from bot.settings import Settings
from storage.db import transaction
from storage.models import Invitation, Person, Plan, Unit
from storage.people import create_invitation, get_person, set_person_active
from storage.plan_files import load_demo_plan
from tests.offline import Chat
from tests.test_flows_story import NOW, invite, make_app, registered
from tests.test_plan_files import HEADERS, action_row, write_csv

ADMIN, ANA = 100, 501


@pytest.fixture
async def bot(sessions):  # type: ignore[no-untyped-def]
    async with transaction(sessions) as session:
        await load_demo_plan(session)
    app, request = await make_app(sessions)
    yield app, request
    for call in request.calls:
        for _text, data in call.buttons:
            assert len(data.encode()) <= 64
    await app.shutdown()


async def count(sessions, model) -> int:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def person(sessions, telegram_id: int) -> Person:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        found = await get_person(session, telegram_id)
        assert found is not None
        return found


# -- /invitar with a unit that does not exist ------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("es", ["No existe la unidad «PNDU». Las más parecidas: PNUD", "No se creó ninguna"]),
        ("en", ["There is no unit “PNDU”. Closest: PNUD", "No invitation was created."]),
    ],
)
async def test_unknown_unit_is_refused_with_the_closest(bot, sessions, lang, expected):
    app, request = bot
    admin = await registered(app, sessions, ADMIN, "admin", lang=lang)
    invitations, units = await count(sessions, Invitation), await count(sessions, Unit)
    await admin.send("/invitar focal PNDU")
    text = request.sent(ADMIN)[-1].text
    assert all(part in text for part in expected), text
    assert "<code>/invitar focal PNUD</code>" in text
    assert "start=" not in text
    assert await count(sessions, Invitation) == invitations
    assert await count(sessions, Unit) == units


async def test_unknown_unit_among_known_ones_creates_nothing(bot, sessions):
    app, request = bot
    admin = await registered(app, sessions, ADMIN, "admin")
    invitations = await count(sessions, Invitation)
    await admin.send("/invitar focal pnud, Unidad de Coordinacon, Marte")
    text = request.sent(ADMIN)[-1].text
    assert (
        "No existe la unidad «Unidad de Coordinacon». Las más parecidas: Unidad de Coordinación"
        in text
    )
    assert "No existe la unidad «Marte»." in text
    assert "Unidades de los planes: " in text and "PNUD" in text
    assert await count(sessions, Invitation) == invitations


async def test_known_units_match_without_accents_case_or_by_alias(bot, sessions):
    app, request = bot
    admin = await registered(app, sessions, ADMIN, "admin")
    units = await count(sessions, Unit)
    await admin.send("/invitar focal pnud, UNIDAD DE COORDINACION, Agencia líder")
    assert "start=" in request.sent(ADMIN)[-1].text
    async with sessions() as session:
        newest = await session.scalar(select(Invitation).order_by(Invitation.id.desc()).limit(1))
        assert newest is not None
        names = sorted(unit.name for unit in newest.units)
    assert names == ["PNUD", "Unidad de Coordinación"]
    assert await count(sessions, Unit) == units


def invite_args(*units: str) -> argparse.Namespace:
    return argparse.Namespace(role="focal", unit=list(units), days=14)


async def test_command_line_invite_refuses_an_unknown_unit(sessions, database_url, capsys):
    async with transaction(sessions) as session:
        await load_demo_plan(session)
    settings = Settings(database_url=database_url, telegram_bot_token="", bot_username="")
    assert await _invite(settings, invite_args("PNDU")) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "error: there is no unit 'PNDU' (closest: PNUD)"
    assert err[1].startswith("units: ") and "Unidad de Coordinación" in err[1]
    assert err[2] == "no invitation was created"
    assert await count(sessions, Invitation) == 0
    assert await _invite(settings, invite_args("pnud")) == 0
    assert "start=" in capsys.readouterr().out
    assert await count(sessions, Invitation) == 1


async def test_command_line_invite_without_any_unit_yet(sessions, database_url, capsys):
    settings = Settings(database_url=database_url, telegram_bot_token="", bot_username="")
    assert await _invite(settings, invite_args("PNUD")) == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: there is no unit 'PNUD'",
        "there are no units yet: import a plan",
        "no invitation was created",
    ]
    assert await count(sessions, Unit) == 0


# -- /start for someone registered ----------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("es", "Hola, <b>P501</b>. Su perfil ya está registrado como punto focal de PNUD"),
        ("en", "Hello, <b>P501</b>. You are already registered as focal point for PNUD"),
    ],
)
async def test_start_again_says_already_registered(bot, sessions, lang, expected):
    app, request = bot
    ana = await registered(app, sessions, ANA, "focal", ["PNUD"], lang=lang)
    await ana.send("/start")
    text = request.sent(ANA)[-1].text
    assert text.startswith(expected), text
    assert "/acciones" in text  # and the help
    assert await count(sessions, Person) == 1


async def test_code_of_the_same_role_is_used_up_and_changes_nothing(bot, sessions):
    app, request = bot
    ana = await registered(app, sessions, ANA, "focal", ["PNUD"])
    code = await invite(sessions, "focal", ["PNUD"])
    await ana.send(f"/start {code}")
    assert request.sent(ANA)[-1].text == (
        "Su perfil ya está registrado como punto focal de PNUD: esta invitación no cambió "
        "nada y ya no se puede volver a usar."
    )
    assert [u.name for u in (await person(sessions, ANA)).units] == ["PNUD"]
    await ana.send(f"/start {code}")
    assert "ya fue usada" in request.sent(ANA)[-1].text


async def test_code_of_the_same_role_adds_the_units_lacking(bot, sessions):
    app, request = bot
    ana = await registered(app, sessions, ANA, "focal", ["PNUD"], lang="en")
    await ana.send(f"/start {await invite(sessions, 'focal', ['Unidad de Coordinación'])}")
    assert request.sent(ANA)[-1].text.startswith(
        "You are already registered as focal point. Added to your units: Unidad de Coordinación."
    )
    ana_now = await person(sessions, ANA)
    assert ana_now.role == "focal"
    assert [u.name for u in ana_now.units] == ["PNUD", "Unidad de Coordinación"]


async def invitation_used(sessions, invitation_id: int) -> bool:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        invitation = await session.get(Invitation, invitation_id)
        assert invitation is not None
        return invitation.used_at is not None


async def test_code_of_another_role_asks_first_and_no_keeps_the_role(bot, sessions):
    app, request = bot
    ana = await registered(app, sessions, ANA, "focal", ["PNUD"])
    code = await invite(sessions, "coordinator")
    await ana.send(f"/start {code}")
    question = request.sent(ANA)[-1]
    assert question.text == (
        "Su perfil está registrado como punto focal de PNUD. Esta invitación es para "
        "coordinación. ¿Cambiar su perfil a coordinación?"
    )
    labels = [label for label, _data in question.buttons]
    assert labels == ["Sí, cambiar a coordinación", "No"]
    yes, no = (data for _label, data in question.buttons)
    assert all(code not in data for data in (yes, no))
    invitation_id = int(yes.split(":")[1])
    assert (await person(sessions, ANA)).role == "focal"
    assert not await invitation_used(sessions, invitation_id)
    await ana.press(no)
    assert request.sent(ANA)[-1].text == (
        "No cambió nada: su perfil sigue siendo el de punto focal de PNUD. La invitación no se usó."
    )
    assert (await person(sessions, ANA)).role == "focal"
    assert not await invitation_used(sessions, invitation_id)
    await ana.press(yes)  # the question was answered: a stale button
    assert request.calls[-1].method == "answerCallbackQuery"
    assert request.calls[-1].params["text"] == "Este botón ya no es válido."
    assert (await person(sessions, ANA)).role == "focal"


async def test_code_of_another_role_changes_it_on_yes(bot, sessions):
    app, request = bot
    ana = await registered(app, sessions, ANA, "focal", ["PNUD"], lang="en")
    await ana.send(f"/start {await invite(sessions, 'coordinator')}")
    question = request.sent(ANA)[-1]
    assert [label for label, _ in question.buttons] == ["Yes, change to coordinator", "No"]
    yes = question.buttons[0][1]
    await ana.press(yes)
    done = request.sent(ANA)[-1].text
    assert done.startswith("Done: you are now registered as coordinator for PNUD.")
    assert "/exportar" in done  # the coordinator's help
    assert (await person(sessions, ANA)).role == "coordinator"
    assert await invitation_used(sessions, int(yes.split(":")[1]))
    menus = [c for c in request.calls if c.method == "setMyCommands"]
    assert menus[-1].params["scope"]["chat_id"] == ANA


async def test_a_forged_yes_for_another_invitation_changes_nothing(bot, sessions):
    app, request = bot
    ana = await registered(app, sessions, ANA, "focal", ["PNUD"])
    await ana.send(f"/start {await invite(sessions, 'coordinator')}")
    async with transaction(sessions) as session:
        await create_invitation(session, "admin", now=NOW)
        other = await session.scalar(select(func.max(Invitation.id)))
    await ana.press(f"ry:{other}")
    assert request.calls[-1].params["text"] == "Este botón ya no es válido."
    assert (await person(sessions, ANA)).role == "focal"
    assert not await invitation_used(sessions, other)


# -- deactivated people ---------------------------------------------------------------------


async def deactivate(sessions, telegram_id: int) -> None:  # type: ignore[no-untyped-def]
    async with transaction(sessions) as session:
        admin = await get_person(session, ADMIN)
        target = await get_person(session, telegram_id)
        assert admin is not None and target is not None
        await set_person_active(session, admin, target.id, False)


@pytest.mark.parametrize(
    ("lang", "expected", "alert"),
    [
        (
            "es",
            "Su acceso a este bot fue desactivado. Si lo necesita de nuevo, consulte a la "
            "administración: Carla (@carla).",
            "Su acceso a este bot fue desactivado.",
        ),
        (
            "en",
            "Your access to this bot has been deactivated. If you need it again, ask an "
            "administrator: Carla (@carla).",
            "Your access to this bot has been deactivated.",
        ),
    ],
)
async def test_deactivated_person_is_told_so(bot, sessions, lang, expected, alert):
    app, request = bot
    admin = Chat(app, ADMIN, first_name="Carla", username="carla")
    await admin.send(f"/start {await invite(sessions, 'admin')}")
    ana = await registered(app, sessions, ANA, "focal", ["PNUD"], lang=lang)
    await deactivate(sessions, ANA)
    before = len(request.sent(ANA))
    for text in ("hola", "/acciones", "/start"):
        await ana.send(text)
    texts = [call.text for call in request.sent(ANA)[before:]]
    assert texts == [expected] * 3
    await ana.press("a:1")
    assert request.calls[-1].params == {
        "callback_query_id": request.calls[-1].params["callback_query_id"],
        "text": alert,
        "show_alert": True,
    }
    assert not (await person(sessions, ANA)).active


async def test_a_stranger_still_gets_the_invitation_help(bot, sessions):
    app, request = bot
    await registered(app, sessions, ADMIN, "admin")
    await Chat(app, 999).send("hola")
    assert "invitación" in request.sent(999)[-1].text


# -- the command line's plan import ---------------------------------------------------------


async def test_command_line_plan_import_prints_readable_problems(
    sessions, database_url, tmp_path: Path, capsys
):
    path = write_csv(
        tmp_path / "plan.csv",
        [
            HEADERS,
            action_row("1", 1, "Hacer", status="Terminado"),
            action_row("1", "uno", "Otra"),
            action_row("1", 3, ""),
        ],
    )
    settings = Settings(database_url=database_url)
    args = argparse.Namespace(file=path, title=None, plan=None, demo=False)
    assert await _import(settings, args) == 1
    assert capsys.readouterr().err.splitlines() == [
        "could not import plan.csv; problems found:",
        "• Row 2, column “Seguimiento - Estado”: “Terminado” is not a status",
        "• Row 3, column “Acción clave Nº”: “uno” is not an action number",
        "• Row 4, column “Acción clave”: this cell must not be empty",
        "nothing was imported",
    ]
    assert await count(sessions, Plan) == 0


# -- Spanish slips --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "greeting", "title"),
    [
        ("es", "¡Le damos la bienvenida, <b>P501</b>!", "<b>¿Qué puedo hacer por usted?</b>"),
        ("en", "Welcome, <b>P501</b>!", "<b>What I can do for you</b>"),
    ],
)
async def test_greeting_and_help_title(bot, sessions, lang, greeting, title):
    app, request = bot
    ana = await registered(app, sessions, ANA, "focal", ["PNUD"], lang=lang)
    assert request.sent(ANA)[-1].text.startswith(greeting)
    await ana.send("/ayuda")
    assert request.sent(ANA)[-1].text.startswith(title)


@pytest.mark.parametrize(
    ("lang", "code", "expected"),
    [
        ("es", "es", "Listo: le escribiré en español."),
        ("en", "es", "Listo: le escribiré en español."),
        ("es", "en", "Done: I will write to you in English."),
    ],
)
async def test_language_chosen_names_it_in_lower_case_in_spanish(
    bot, sessions, lang, code, expected
):
    app, request = bot
    ana = await registered(app, sessions, ANA, "focal", ["PNUD"], lang=lang)
    await ana.send("/idioma")
    assert [label for label, _ in request.sent(ANA)[-1].buttons] == ["Español", "English"]
    await ana.press(f"lg:{code}")
    assert request.sent(ANA)[-1].text == expected
    assert (await person(sessions, ANA)).language == code


async def test_text_while_the_role_question_is_open_keeps_it(bot, sessions):
    """Typed text does not end the question: it asks for the buttons, and Yes still works."""
    app, request = bot
    ana = await registered(app, sessions, ANA, "focal", ["PNUD"])
    await ana.send(f"/start {await invite(sessions, 'coordinator')}")
    question = request.sent(ANA)[-1]
    await ana.send("¿qué hago?")
    assert "Responda con los botones de arriba" in request.sent(ANA)[-1].text
    yes = next(data for _label, data in question.buttons if data.startswith("ry:"))
    await ana.press(yes)
    assert (await person(sessions, ANA)).role == "coordinator"


async def test_a_deactivated_person_cannot_come_back_with_a_new_code(bot, sessions):
    app, request = bot
    admin = Chat(app, ADMIN, first_name="Carla", username="carla")
    await admin.send(f"/start {await invite(sessions, 'admin')}")
    ana = await registered(app, sessions, ANA, "focal", ["PNUD"])
    await deactivate(sessions, ANA)
    await ana.send(f"/start {await invite(sessions, 'focal', ['PNUD'])}")
    assert "Su acceso a este bot fue desactivado" in request.sent(ANA)[-1].text
    gone = await person(sessions, ANA)
    assert gone is not None and not gone.active
