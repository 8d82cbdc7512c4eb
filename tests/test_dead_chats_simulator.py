"""Dead and moved chats against the Bot API simulator, over HTTP with PTB's real `Bot`: the
simulator answers 403 for a kicked group or a blocked person, 400 "chat not found" for a chat
that is gone and 400 with `migrate_to_chat_id` for an upgraded group, and the delivery acts on
each at once."""

from __future__ import annotations

import datetime as dt

import pytest
from telegram import Bot, Update
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, ChatMigrated, Forbidden

from bot.outbox_delivery import deliver_all, deliver_outbox
from bot.simulator.server import BotApiSimulator
from storage import chats
from tests.report_support import NOW, add_person, outbox_rows, queue_rows

TOKEN = "7000000003:simulator-chats"
ADMIN, SECRETARY = 1, 30
GROUP, SUPERGROUP, GONE = -40, -100_40, -41


@pytest.fixture
async def sim():
    async with BotApiSimulator(token=TOKEN, flood_control=False) as simulator:
        simulator.add_private_user(ADMIN, "Alicia")
        simulator.add_private_user(SECRETARY, "Sofía")
        simulator.add_group(GROUP, "Secretariado")
        simulator.add_group(GONE, "Grupo borrado")
        yield simulator


@pytest.fixture
async def bot(sim):
    async with Bot(TOKEN, base_url=sim.base_url, base_file_url=sim.base_file_url) as b:
        yield b


async def test_the_simulator_answers_like_telegram(sim, bot):
    await sim.kick_bot(GROUP, ADMIN)
    with pytest.raises(Forbidden, match="kicked"):
        await bot.send_message(GROUP, "hola")
    sim.delete_chat(GONE)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(GONE, "hola")
    update = await sim.readd_bot(GROUP, ADMIN)
    member = Update.de_json(update, bot).my_chat_member
    assert member is not None and member.new_chat_member.status == ChatMemberStatus.MEMBER
    await bot.send_message(GROUP, "de vuelta")
    sim.upgrade_group(GROUP, SUPERGROUP)
    with pytest.raises(ChatMigrated) as migrated:
        await bot.send_message(GROUP, "hola")
    assert migrated.value.new_chat_id == SUPERGROUP


async def test_kicked_blocked_and_gone_chats_are_parked_and_admins_told(sessions, sim, bot):
    await add_person(sessions, "admin", ADMIN, name="Alicia")
    await add_person(sessions, "secretariat", SECRETARY, name="Sofía")
    await queue_rows(sessions, GROUP, 2)
    await queue_rows(sessions, SECRETARY, 3)
    await queue_rows(sessions, GONE, 1)
    await sim.kick_bot(GROUP, ADMIN)
    await sim.block_bot(SECRETARY)
    sim.delete_chat(GONE)
    first = await deliver_outbox(bot, sessions, now=NOW)
    assert first.failed == 3 and first.sent_rows == 0
    await deliver_all(bot, sessions, now=NOW + dt.timedelta(minutes=1))
    notices = [m.plain_text for m in sim.messages(ADMIN)]
    assert len(notices) == 3
    assert any("2 avisos esperan" in n and "se eliminó al bot del grupo" in n for n in notices)
    assert any("Sofía" in n and "3 avisos esperan" in n for n in notices)
    assert any("chat -41" in n and "el chat ya no existe" in n for n in notices)
    rows = await outbox_rows(sessions)
    parked = [r for r in rows if r.chat_id in (GROUP, SECRETARY, GONE)]
    assert len(parked) == 6 and all(r.available_at == chats.PARKED_AT for r in parked)


async def test_an_upgraded_group_gets_its_rows_at_the_new_id(sessions, sim, bot):
    await queue_rows(sessions, GROUP, 2)
    sim.upgrade_group(GROUP, SUPERGROUP)
    report = await deliver_all(bot, sessions, now=NOW)
    assert report.sent_rows == 2
    assert len(sim.messages(SUPERGROUP)) == 2 and sim.messages(GROUP) == []
    await queue_rows(sessions, SUPERGROUP, 1, start=3)
    calls = len(sim.requests)
    await deliver_all(bot, sessions, now=NOW + dt.timedelta(minutes=1))
    sent_to = [int(p["chat_id"]) for m, p in sim.requests[calls:] if m == "sendMessage"]
    assert sent_to == [SUPERGROUP]
