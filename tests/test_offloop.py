"""The long-lived reader thread (`storage.offloop.in_reader_thread`): its reads run off the
caller's thread, see what was committed since the last one, and it can be closed and started
again."""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import transaction
from storage.models import Unit
from storage.offloop import close_reader, in_reader_thread


async def _units(session: AsyncSession) -> tuple[int, str]:
    found = await session.scalar(select(func.count()).select_from(Unit))
    return int(found or 0), threading.current_thread().name


async def test_the_reader_sees_what_was_committed_since_its_last_read(sessions):
    before, thread = await in_reader_thread(sessions, _units)
    assert thread != threading.current_thread().name
    async with transaction(sessions) as session:
        session.add(Unit(name="Unidad nueva", key="unidad nueva"))
    after, same_thread = await in_reader_thread(sessions, _units)
    assert after == before + 1
    assert same_thread == thread


async def test_the_reader_is_closed_and_starts_again(sessions):
    await in_reader_thread(sessions, _units)
    await close_reader()
    await close_reader()  # a second close does nothing
    async with transaction(sessions) as session:
        session.add(Unit(name="Otra unidad", key="otra unidad"))
    count, _ = await in_reader_thread(sessions, _units)
    assert count >= 1
