"""An update's first read (`storage.update_start`): its claim and its sender, with their open
step, on each backend (one statement on PostgreSQL, two on SQLite)."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.conversations import set_state
from storage.models import ProcessedUpdate
from storage.update_start import start_update
from tests.storage_support import NOW, make_person

CHAT = 555


async def claims(session) -> int:  # type: ignore[no-untyped-def]
    return int(await session.scalar(select(func.count()).select_from(ProcessedUpdate)) or 0)


async def test_a_registered_persons_update_is_claimed_once_with_their_step(session):
    person = await make_person(session, "focal", ["OCR"], telegram_id=42)
    await set_state(session, CHAT, 42, "comment", {"action": 7}, now=NOW)
    first = await start_update(session, 1001, 42, CHAT)
    assert first.claimed
    assert first.person is person and [unit.name for unit in person.units] == ["OCR"]
    assert first.step is not None and first.step.data == {"action": 7}
    again = await start_update(session, 1001, 42, CHAT)
    assert not again.claimed
    assert await claims(session) == 1


async def test_a_strangers_update_is_claimed_once_too(session):
    first = await start_update(session, 2002, 99, CHAT)
    assert (first.claimed, first.person, first.step) == (True, None, None)
    assert not (await start_update(session, 2002, 99, CHAT)).claimed


async def test_a_deactivated_person_is_read_as_such(session):
    person = await make_person(session, "focal", ["OCR"], telegram_id=43)
    person.active = False
    await session.flush()
    start = await start_update(session, 3003, 43, CHAT)
    assert start.claimed and start.person is person and not start.person.active


async def test_a_button_press_is_read_without_a_claim(session):
    await make_person(session, "focal", ["OCR"], telegram_id=44)
    for _ in range(2):  # a press pressed twice acts twice: its effect is idempotent
        start = await start_update(session, None, 44, CHAT)
        assert start.claimed and start.person is not None and start.step is None
    assert await claims(session) == 0
