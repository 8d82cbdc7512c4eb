"""An admin in chat (issue 13): the pending invitations listed and revoked, a person's role and
units changed, a deactivated person reactivated; each person told in their own chat; old,
forged and foreign presses answered and changing nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.outbox_delivery import deliver_all
from handlers.account_notices import render_account_notice
from handlers.i18n import Tr
from storage.db import transaction
from storage.models import Invitation, OutboxMessage, Person, Unit
from storage.people import create_invitation, get_person
from storage.plan_files import load_demo_plan
from tests.offline import Call, Chat, OfflineRequest
from tests.test_flows_story import NOW, invite, make_app, registered

ADMIN, ANA, LUIS, OTHER_ADMIN = 100, 501, 502, 101


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


async def person(sessions: Any, telegram_id: int) -> Person:
    async with sessions() as session:
        found = await get_person(session, telegram_id)
        assert found is not None
        return found


async def outbox_rows(sessions: Any, chat_id: int) -> list[OutboxMessage]:
    async with sessions() as session:
        query = select(OutboxMessage).where(
            OutboxMessage.chat_id == chat_id, OutboxMessage.kind == "account"
        )
        return list((await session.scalars(query)).all())


async def unit_id(sessions: Any, name: str) -> int:
    async with sessions() as session:
        found = await session.scalar(select(Unit.id).where(Unit.name == name))
        assert found is not None
        return found


def answers(request: OfflineRequest, since: int) -> list[Call]:
    return [c for c in request.calls[since:] if c.method == "answerCallbackQuery"]


async def press(chat: Chat, request: OfflineRequest, data: str) -> Call:
    """Press a button; the answer of that very press (every press is answered)."""
    before = len(request.calls)
    await chat.press(data)
    (answer,) = answers(request, before)
    return answer


def button_data(call: Call, label_part: str) -> str:
    (data,) = [data for label, data in call.buttons if label_part in label]
    return data


# -- pending invitations ---------------------------------------------------------------------


async def test_pending_invitations_listed_revoked_and_the_code_refused(bot, sessions):
    app, request = bot
    admin = await registered(app, sessions, ADMIN, "admin")
    await admin.send("/invitar focal PNUD")
    code = request.last(ADMIN).text.split("start=")[1].split()[0]
    await admin.send("/invitar coordinador")
    used = await invite(sessions, "secretariat")
    await Chat(app, 777).send(f"/start {used}")  # used: not pending any more
    async with transaction(sessions) as session:  # expired: not pending either
        await create_invitation(
            session, "focal", ["PNUD"], now=NOW - dt.timedelta(days=30), ttl=dt.timedelta(days=1)
        )

    await admin.send("/invitaciones")
    listing = request.last(ADMIN)
    assert "2 invitaciones pendientes" in listing.text
    assert "punto focal · PNUD" in listing.text and "coordinación" in listing.text
    assert "creada por P100" in listing.text and "vence el" in listing.text
    revoke = button_data(listing, "PNUD")
    assert revoke.startswith("ivr:")

    question = await press(admin, request, revoke)
    assert question.params.get("text") is None
    assert "¿Revocar la invitación de <b>punto focal · PNUD</b>?" in request.last(ADMIN).text
    yes = button_data(request.last(ADMIN), "Sí")
    answer = await press(admin, request, yes)
    assert answer.params["text"] == "Invitación revocada."
    assert "1 invitación pendiente" in request.last(ADMIN).text
    assert "PNUD" not in request.last(ADMIN).text

    # the revoked code registers nobody, and says why
    people_before = await count(sessions, Person)
    stranger = Chat(app, 888)
    await stranger.send(f"/start {code}")
    assert "revocada" in request.last(888).text
    assert await count(sessions, Person) == people_before

    # the same "Yes" again: answered, nothing changes
    async with sessions() as session:
        revoked_at = await session.scalar(
            select(Invitation.revoked_at).where(Invitation.id == int(yes.split(":")[1]))
        )
    again = await press(admin, request, yes)
    assert "ya no está pendiente" in again.params["text"]
    async with sessions() as session:
        assert revoked_at == await session.scalar(
            select(Invitation.revoked_at).where(Invitation.id == int(yes.split(":")[1]))
        )


async def count(sessions: Any, model: Any) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def test_invitation_buttons_forged_or_from_a_non_admin_change_nothing(bot, sessions):
    app, request = bot
    await registered(app, sessions, ADMIN, "admin")
    ana = await registered(app, sessions, ANA, "focal", ["PNUD"])
    pending = await invite(sessions, "coordinator")
    async with sessions() as session:
        target = await session.scalar(select(func.max(Invitation.id)))
    for data in ("ivy:abc", "ivr:", "iv:x"):
        answer = await press(Chat(app, ADMIN), request, data)
        assert "ya no es válido" in answer.params["text"]
    answer = await press(ana, request, f"ivy:{target}")
    assert answer.params.get("show_alert") and "Solo la administración" in answer.params["text"]
    await ana.send("/invitaciones")
    assert "Solo la administración" in request.last(ANA).text
    async with sessions() as session:
        assert (
            await session.scalar(select(func.count()).where(Invitation.revoked_at.is_not(None)))
            == 0
        )
    await Chat(app, 889).send(f"/start {pending}")
    assert (await person(sessions, 889)).role == "coordinator"


# -- role and units ----------------------------------------------------------------------------


async def open_entry(admin: Chat, request: OfflineRequest, sessions: Any, who: int) -> Call:
    await admin.send("/usuarios")
    name = f"P{who}"
    data = button_data(request.last(ADMIN), name)
    assert data == f"up:{(await person(sessions, who)).id}"
    await press(admin, request, data)
    return request.last(ADMIN)


async def test_role_changed_with_confirmation_and_the_person_told(bot, sessions):
    app, request = bot
    admin = await registered(app, sessions, ADMIN, "admin")
    await registered(app, sessions, ANA, "focal", ["PNUD"])
    entry = await open_entry(admin, request, sessions, ANA)
    assert "P501" in entry.text and "punto focal" in entry.text
    await press(admin, request, button_data(entry, "rol"))
    menu = request.last(ADMIN)
    assert [label for label, _ in menu.buttons][:3] == [
        "coordinación",
        "secretariado",
        "administración",
    ]
    await press(admin, request, button_data(menu, "coordinación"))
    question = request.last(ADMIN)
    assert "de punto focal a <b>coordinación</b>" in question.text
    assert (await person(sessions, ANA)).role == "focal"  # asked, not done
    yes = button_data(question, "Sí")
    answer = await press(admin, request, yes)
    assert "ahora es coordinación" in answer.params["text"]
    assert (await person(sessions, ANA)).role == "coordinator"
    # a focal point never chose in /avisos: a coordinator's default (the weekly report)
    assert (await person(sessions, ANA)).notify_mode == "weekly"
    menus = [c for c in request.calls if c.method == "setMyCommands"]
    assert menus[-1].params["scope"]["chat_id"] == ANA
    assert len(await outbox_rows(sessions, ANA)) == 1

    # the old "Yes" again: answered, nothing changes, nobody told twice
    stale = await press(admin, request, yes)
    assert stale.params.get("show_alert") and "cambió mientras tanto" in stale.params["text"]
    assert (await person(sessions, ANA)).role == "coordinator"
    assert len(await outbox_rows(sessions, ANA)) == 1

    await deliver_all(app.bot, sessions, now=NOW)
    told = request.last(ANA).text
    assert "P100 cambió su rol: ahora es <b>coordinación</b>." in told


async def test_units_added_and_removed_with_confirmation(bot, sessions):
    app, request = bot
    admin = await registered(app, sessions, ADMIN, "admin")
    await registered(app, sessions, ANA, "focal", ["PNUD"])
    entry = await open_entry(admin, request, sessions, ANA)
    await press(admin, request, button_data(entry, "Unidades"))
    menu = request.last(ADMIN)
    assert "☑ PNUD" in [label for label, _ in menu.buttons]
    add = button_data(menu, "☐ Unidad de Coordinación")
    await press(admin, request, add)
    assert "¿Añadir <b>Unidad de Coordinación</b>" in request.last(ADMIN).text
    yes = button_data(request.last(ADMIN), "Sí")
    answer = await press(admin, request, yes)
    assert "Unidad de Coordinación añadida" in answer.params["text"]
    assert [u.name for u in (await person(sessions, ANA)).units] == [
        "PNUD",
        "Unidad de Coordinación",
    ]
    stale = await press(admin, request, yes)  # the same again: nothing more
    assert "cambió mientras tanto" in stale.params["text"]

    pnud = await unit_id(sessions, "PNUD")
    ana_id = (await person(sessions, ANA)).id
    await press(admin, request, f"uuc:{ana_id}:{pnud}:r")
    await press(admin, request, button_data(request.last(ADMIN), "Sí"))
    assert [u.name for u in (await person(sessions, ANA)).units] == ["Unidad de Coordinación"]
    # a focal point keeps one unit at least
    last = await unit_id(sessions, "Unidad de Coordinación")
    refused = await press(admin, request, f"uuy:{ana_id}:{last}:r")
    assert refused.params.get("show_alert") and "al menos una unidad" in refused.params["text"]
    assert [u.name for u in (await person(sessions, ANA)).units] == ["Unidad de Coordinación"]

    assert len(await outbox_rows(sessions, ANA)) == 2
    await deliver_all(app.bot, sessions, now=NOW)
    texts = [c.text for c in request.sent(ANA)[-2:]]
    assert "Sus unidades ahora: <b>PNUD, Unidad de Coordinación</b>" in texts[0]
    assert "Sus unidades ahora: <b>Unidad de Coordinación</b>" in texts[1]


async def test_the_last_admin_cannot_demote_themselves(bot, sessions):
    app, request = bot
    admin = await registered(app, sessions, ADMIN, "admin")
    me = (await person(sessions, ADMIN)).id
    refused = await press(admin, request, f"ury:{me}:admin:focal")
    assert refused.params.get("show_alert") and "último administrador" in refused.params["text"]
    assert (await person(sessions, ADMIN)).role == "admin"
    # with another admin, they can
    await registered(app, sessions, OTHER_ADMIN, "admin")
    await admin.send("/invitar focal PNUD")  # gives the admin no unit: coordinator then
    answer = await press(admin, request, f"ury:{me}:admin:coordinator")
    assert "ahora es coordinación" in answer.params["text"]
    assert (await person(sessions, ADMIN)).role == "coordinator"
    # and they are no admin any more
    later = await press(admin, request, f"up:{me}")
    assert "Solo la administración" in later.params["text"]


async def test_person_buttons_forged_or_from_a_non_admin_change_nothing(bot, sessions):
    app, request = bot
    admin = await registered(app, sessions, ADMIN, "admin")
    ana = await registered(app, sessions, ANA, "focal", ["PNUD"])
    luis = await registered(app, sessions, LUIS, "focal", ["PNUD"])
    ana_id = (await person(sessions, ANA)).id
    pnud = await unit_id(sessions, "PNUD")
    for data in (
        "ury:abc:focal:admin",
        f"ury:{ana_id}:boss:admin",
        f"uuy:{ana_id}:{pnud}:z",
        "up:",
    ):
        answer = await press(admin, request, data)
        assert "ya no es válido" in answer.params["text"]
    for data in (f"ury:{ana_id}:focal:admin", f"uuy:{ana_id}:{pnud}:r", f"up:{ana_id}"):
        answer = await press(luis, request, data)
        assert answer.params.get("show_alert") and "Solo la administración" in answer.params["text"]
    gone = await press(admin, request, "up:999999")
    assert "ya no está registrada" in gone.params["text"]
    found = await person(sessions, ANA)
    assert found.role == "focal" and [u.name for u in found.units] == ["PNUD"]
    assert await outbox_rows(sessions, ANA) == []
    del ana


# -- reactivation ------------------------------------------------------------------------------


async def test_reactivation_from_the_entry_and_the_person_told(bot, sessions):
    app, request = bot
    admin = await registered(app, sessions, ADMIN, "admin")
    ana = await registered(app, sessions, ANA, "focal", ["PNUD"])
    entry = await open_entry(admin, request, sessions, ANA)
    await press(admin, request, button_data(entry, "Desactivar"))
    await press(admin, request, button_data(request.last(ADMIN), "Sí, desactivar"))
    assert not (await person(sessions, ANA)).active
    # a new code does not bring her back
    await ana.send(f"/start {await invite(sessions, 'focal', ['PNUD'])}")
    assert "desactivado" in request.last(ANA).text
    assert not (await person(sessions, ANA)).active

    entry = await open_entry(admin, request, sessions, ANA)
    assert "(desactivado)" in entry.text
    reactivate = button_data(entry, "Reactivar")
    answer = await press(admin, request, reactivate)
    assert answer.params["text"] == "Se reactivó a P501; se le avisó."
    assert (await person(sessions, ANA)).active
    again = await press(admin, request, reactivate)  # an old button: nothing more
    assert "ya está activa" in again.params["text"]
    assert len(await outbox_rows(sessions, ANA)) == 1
    await deliver_all(app.bot, sessions, now=NOW)
    assert "reactivó su acceso" in request.last(ANA).text
    await ana.send("/acciones")
    assert "desactivado" not in request.last(ANA).text


def test_account_notices_in_the_reader_language_and_escaped():
    en, es = Tr("en"), Tr("es")
    role = {"change": "role", "role": "secretariat", "units": [], "by": "Ana <Admin>"}
    assert render_account_notice(en, role).text.startswith(
        "🎭 Ana &lt;Admin&gt; changed your role: you are now <b>secretariat</b>."
    )
    units = {"change": "units", "role": "focal", "units": ["PNUD", "R&D"], "by": "Ana"}
    assert "Sus unidades ahora: <b>PNUD, R&amp;D</b>" in render_account_notice(es, units).text
    back = {"change": "reactivated", "role": "focal", "units": ["PNUD"], "by": "Ana"}
    assert "reactivated your access" in render_account_notice(en, back).text


async def test_an_invitation_revoked_while_its_role_question_is_open_changes_nothing(bot, sessions):
    app, request = bot
    admin = await registered(app, sessions, ADMIN, "admin")
    carmen = await registered(app, sessions, ANA, "coordinator")
    await carmen.send(f"/start {await invite(sessions, 'secretariat')}")
    yes = button_data(request.last(ANA), "Sí")
    await admin.send("/invitaciones")
    await press(admin, request, button_data(request.last(ADMIN), "Revocar"))
    await press(admin, request, button_data(request.last(ADMIN), "Sí, revocar"))
    await press(carmen, request, yes)
    assert "revocada" in request.last(ANA).text
    assert (await person(sessions, ANA)).role == "coordinator"
