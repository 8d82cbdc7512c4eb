"""Different chats side by side, one chat in order: updates go through PTB's update queue and
the application's update processor (`bot.update_order`), as in production, with the offline
transport, on SQLite and PostgreSQL. Nothing is timed: the tests hold a chat's replies and wait
on what happened."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select
from telegram import Update
from telegram.ext import Application

from bot.app import build_application
from bot.settings import Settings
from bot.update_order import OrderedUpdates, keys_of
from storage.db import IDLE_CONNECTIONS, Sessions, create_engine, transaction
from storage.models import Comment, KeyAction, OutboxMessage, Person, ProcessedUpdate
from storage.people import create_invitation
from storage.plan_files import load_demo_plan
from tests.offline import TOKEN, Call, Chat, OfflineRequest
from tests.test_flows_story import action_id

NOW = dt.datetime(2012, 5, 2, 15, 0, tzinfo=dt.UTC)
SECRETARIAT_CHAT = -100200
App = Application[Any, Any, Any, Any, Any, Any]


@dataclass
class HeldRequest(OfflineRequest):
    """The offline transport, where calls into a held chat wait until it is let go, and
    whoever waits on a condition over the calls is told of each one."""

    held: dict[int, asyncio.Event] = field(default_factory=dict)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    processor: OrderedUpdates | None = None
    most_keys: int = 0  # the largest the processor's table was at any call

    def hold(self, chat_id: int) -> None:
        self.held[chat_id] = asyncio.Event()

    def let_go(self, chat_id: int) -> None:
        self.held.pop(chat_id).set()

    async def do_request(self, url: str, method: str, request_data: Any = None, **kw: Any) -> Any:
        if self.processor is not None:
            self.most_keys = max(self.most_keys, self.processor.keys_in_flight)
        params = request_data.parameters if request_data else {}
        gate = self.held.get(int(params.get("chat_id", 0) or 0))
        result = await super().do_request(url, method, request_data, **kw)
        async with self.changed:
            self.changed.notify_all()
        if gate is not None:
            await gate.wait()  # recorded, but not answered while the chat is held
        return result

    async def until(self, condition: Callable[[], bool]) -> None:
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(condition), timeout=30)


class Queued(Chat):
    """A chat whose updates are put on the application's update queue, as polling does."""

    async def feed(self, update: dict[str, Any]) -> dict[str, Any]:
        await self.app.update_queue.put(Update.de_json(update, self.app.bot))
        return update


@pytest.fixture
async def running(sessions: Sessions) -> AsyncIterator[tuple[App, HeldRequest]]:
    async with transaction(sessions) as session:
        await load_demo_plan(session)
    request = HeldRequest()
    app = build_application(
        Settings(
            telegram_bot_token=TOKEN,
            secretariat_chat_ids=[SECRETARIAT_CHAT],
            max_concurrent_updates=8,
        ),
        sessions,
        request=request,
        with_jobs=False,
        rate_limiter=False,
        clock=lambda: NOW,
    )
    assert isinstance(app.update_processor, OrderedUpdates)
    request.processor = app.update_processor
    await app.initialize()
    await app.start()
    yield app, request
    await app.stop()
    await app.shutdown()


async def processed(app: App) -> None:
    """Every update put on the queue so far has been handled."""
    await asyncio.wait_for(app.update_queue.join(), timeout=60)


async def first_action(sessions: Sessions) -> int:
    async with sessions() as session:
        action_id = await session.scalar(select(func.min(KeyAction.id)))
    assert action_id is not None
    return int(action_id)


async def people(app: App, sessions: Sessions, ids: list[int]) -> list[Queued]:
    """Focal points of the PNUD, registered (all at once)."""
    chats = []
    for user_id in ids:
        async with transaction(sessions) as session:
            code = await create_invitation(session, "focal", ["PNUD"], now=NOW)
        chat = Queued(app, user_id, first_name=f"P{user_id}")
        await chat.send(f"/start {code}")
        chats.append(chat)
    await processed(app)
    return chats


def texts(request: HeldRequest, chat_id: int) -> list[str]:
    return [call.text for call in request.sent(chat_id)]


async def comments(sessions: Sessions, text: str) -> int:
    async with sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(Comment).where(Comment.text == text)
        )
    return int(count or 0)


async def test_one_chat_in_order_while_others_run_between(
    running: tuple[App, HeldRequest], sessions: Sessions
) -> None:
    app, request = running
    ana, luis = await people(app, sessions, [601, 602])
    action = await first_action(sessions)
    request.hold(ana.chat_id)  # Ana's prompt is not answered yet by Telegram
    await ana.press(f"c:{action}")
    await ana.send("Taller realizado")  # right behind the button, before its answer
    await luis.send("/acciones")
    await luis.press(f"a:{action}")
    await request.until(lambda: len(texts(request, luis.chat_id)) >= 3)
    # Luis was answered while Ana's prompt was held, and her text waited for its prompt.
    assert "Comentario guardado" not in " ".join(texts(request, ana.chat_id))
    assert await comments(sessions, "Taller realizado") == 0
    request.let_go(ana.chat_id)
    await processed(app)
    mine = texts(request, ana.chat_id)
    prompt = next(i for i, text in enumerate(mine) if "comentario" in text.lower())
    saved = next(i for i, text in enumerate(mine) if "Comentario guardado" in text)
    assert prompt < saved and "Taller realizado" in mine[saved]
    assert await comments(sessions, "Taller realizado") == 1


async def test_two_quick_taps_act_in_order(
    running: tuple[App, HeldRequest], sessions: Sessions
) -> None:
    app, request = running
    (ana,) = await people(app, sessions, [611])
    first, second = await action_id(sessions, "1", 1), await action_id(sessions, "6", 1)
    calls, sent = len(request.calls), len(request.sent(ana.chat_id))
    request.hold(ana.chat_id)
    await ana.press(f"c:{first}")  # comment on 1.1...
    await ana.press(f"c:{second}")  # ...no, on 6.1: the second tap wins
    await ana.send("Después de los dos toques")
    await request.until(lambda: len(request.sent(ana.chat_id)) > sent)  # the first's prompt
    taps = [c for c in request.calls[calls:] if c.method == "answerCallbackQuery"]
    assert len(taps) == 1  # the second tap waits for the first to be done
    request.let_go(ana.chat_id)
    await processed(app)
    async with sessions() as session:
        on = await session.scalars(
            select(Comment.action_id).where(Comment.text == "Después de los dos toques")
        )
        assert on.all() == [second]


async def test_two_people_comment_on_one_action_at_once(
    running: tuple[App, HeldRequest], sessions: Sessions
) -> None:
    app, request = running
    ana, luis = await people(app, sessions, [621, 622])
    action = await first_action(sessions)
    for chat in (ana, luis):
        await chat.press(f"c:{action}")
    await processed(app)
    outbox_before = await _outbox(sessions)
    await ana.send("Comentario de Ana")
    await luis.send("Comentario de Luis")
    await processed(app)
    assert await comments(sessions, "Comentario de Ana") == 1
    assert await comments(sessions, "Comentario de Luis") == 1
    assert "Comentario guardado" in texts(request, ana.chat_id)[-1]
    assert "Comentario guardado" in texts(request, luis.chat_id)[-1]
    notices = (await _outbox(sessions))[len(outbox_before) :]
    assert [chat_id for chat_id, _ in notices] == [SECRETARIAT_CHAT, SECRETARIAT_CHAT]
    bodies = [str(payload) for _, payload in notices]
    assert any("Comentario de Ana" in body for body in bodies)
    assert any("Comentario de Luis" in body for body in bodies)


async def _outbox(sessions: Sessions) -> list[tuple[int, dict[str, Any]]]:
    async with sessions() as session:
        rows = await session.execute(
            select(OutboxMessage.chat_id, OutboxMessage.payload).order_by(OutboxMessage.id)
        )
    return [(int(chat_id), payload) for chat_id, payload in rows]


async def test_thirty_people_register_and_open_cards_at_once(
    running: tuple[App, HeldRequest], sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    app, request = running
    caplog.set_level(logging.WARNING)
    ids = list(range(700, 730))
    chats = await people(app, sessions, ids)  # thirty /start, all queued at once
    action = await first_action(sessions)
    for chat in chats:
        await chat.send("/acciones")
        await chat.press(f"a:{action}")
    await processed(app)
    for chat in chats:
        said: list[Call] = request.sent(chat.chat_id)
        greeting = next(c.text for c in said if "punto focal" in c.text)
        assert f"P{chat.chat_id}" in greeting  # each one's own context, not another's
        assert len(said) == 3  # the greeting, the list, the card: each once
        assert "PNUD" in said[-1].text
    async with sessions() as session:
        registered = await session.scalars(select(Person.telegram_id))
        assert sorted(registered.all()) == ids
        claimed = await session.scalar(select(func.count()).select_from(ProcessedUpdate))
        assert claimed == 60  # thirty /start and thirty /acciones, each claimed once
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert app.update_processor.current_concurrent_updates == 0


async def test_the_table_of_keys_stays_bounded(
    running: tuple[App, HeldRequest], sessions: Sessions
) -> None:
    app, request = running
    chats = await people(app, sessions, list(range(800, 840)))
    for chat in chats:
        await chat.send("/acciones")
    await processed(app)
    processor = app.update_processor
    assert isinstance(processor, OrderedUpdates)
    # at most two keys (chat, person) per update being processed, and none once all are done
    assert 0 < request.most_keys <= 2 * processor.max_concurrent_updates
    assert processor.keys_in_flight == 0


async def test_the_same_update_twice_at_once_acts_once(
    running: tuple[App, HeldRequest], sessions: Sessions
) -> None:
    app, _request = running
    (ana,) = await people(app, sessions, [631])
    await ana.press(f"c:{await first_action(sessions)}")
    await processed(app)
    update = await ana.send("Una sola vez")
    await ana.feed(update)  # Telegram delivers it again, right away
    await processed(app)
    assert await comments(sessions, "Una sola vez") == 1


def test_the_postgresql_pool_is_sized_for_the_concurrency() -> None:
    """Connections kept open (more, up to the concurrency and the jobs', open for a burst)."""
    url = "postgresql+asyncpg://bot@localhost/plan"
    assert create_engine(url, concurrency=64).pool.size() == IDLE_CONNECTIONS
    assert create_engine(url, concurrency=3).pool.size() == 3


# The processor alone, with updates it only sorts by key.


def message(update_id: int, chat_id: int, user_id: int) -> Update:
    chat_type = "private" if chat_id > 0 else "group"
    return Update.de_json(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 0,
                "chat": {"id": chat_id, "type": chat_type, "title": "g"},
                "from": {"id": user_id, "is_bot": False, "first_name": "A"},
                "text": "x",
            },
        },
        None,
    )


def test_keys_are_the_chat_and_the_person() -> None:
    assert keys_of(message(1, 5, 5)) == {5}
    assert keys_of(message(2, -100, 5)) == {-100, 5}
    assert keys_of(object()) == set()


async def test_a_person_in_order_across_a_group_and_a_private_chat() -> None:
    processor = OrderedUpdates(10)
    log: list[str] = []
    gate = asyncio.Event()

    async def step(name: str, wait: bool = False) -> None:
        log.append(f"{name} starts")
        if wait:
            await gate.wait()
        log.append(f"{name} ends")

    async with processor:
        first = asyncio.create_task(
            processor.process_update(message(1, -100, 5), step("group", wait=True))
        )
        await asyncio.sleep(0)
        second = asyncio.create_task(processor.process_update(message(2, 5, 5), step("private")))
        other = asyncio.create_task(processor.process_update(message(3, 9, 9), step("other")))
        await other
        assert log == ["group starts", "other starts", "other ends"]
        gate.set()
        await asyncio.gather(first, second)
    assert log[3:] == ["group ends", "private starts", "private ends"]
    assert processor.keys_in_flight == 0


async def test_a_cancelled_update_keeps_the_order_of_the_others() -> None:
    processor = OrderedUpdates(10)
    log: list[str] = []
    gate = asyncio.Event()

    async def step(name: str, wait: bool = False) -> None:
        if wait:
            await gate.wait()
        log.append(name)

    first = asyncio.create_task(processor.process_update(message(1, 5, 5), step("1", wait=True)))
    await asyncio.sleep(0)
    second = asyncio.create_task(processor.process_update(message(2, 5, 5), step("2")))
    third = asyncio.create_task(processor.process_update(message(3, 5, 5), step("3")))
    await asyncio.sleep(0)
    second.cancel()
    await asyncio.gather(second, return_exceptions=True)
    assert log == []  # the third still waits for the first
    gate.set()
    await asyncio.gather(first, third)
    assert log == ["1", "3"]
    assert processor.keys_in_flight == 0
