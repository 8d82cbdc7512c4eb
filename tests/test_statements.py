"""Round trips to the database per chat step: the statements of "open a card" and "post a
comment" are counted (SQLAlchemy's `before_cursor_execute`) and held under a bound, so that a
step's cost on PostgreSQL, where each statement is a network round trip, does not creep up."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import transaction
from storage.models import Comment, Unit, action_units
from storage.people import create_invitation
from storage.plan_files import load_demo_plan
from tests.offline import Chat
from tests.report_support import add_person, running_app

FOCAL = 10
#: Bounds on SQLite, counting its BEGIN IMMEDIATE. Opening a card: the person (read with
#: their open step, if any, and whether their chat is marked unreachable), the card (with
#: whether its plan ever had a reporting round) and its latest comments (the evidence only when
#: some comment has files). Posting a comment: 10 (the update's id, the person, the action, the
#: comment, the action's time, the recipients — linked chats and people in one statement —, the
#: outbox, the step closed, the card's comments: the action checked at the start is the card's,
#: read once). Changing a status: 8. Registering: 8 (the wrong-code counter is one upsert, the
#: invitation is read with its units and whether a reporting round is open — when none is,
#: none is read —, and the person read for the update is the one registered: not read again).
OPEN_CARD_MOST = 4
POST_COMMENT_MOST = 10
CHANGE_STATUS_MOST = 8
REGISTER_MOST = 8
#: PostgreSQL has no BEGIN statement, claims the update in the person's read, and writes the
#: comment or the status change, updates the action and reads who is notified in one statement
#: (the INSERT and the UPDATE as CTEs).
FEWER_ON_POSTGRES = {"card": 1, "comment": 4, "status": 3, "register": 2}


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split())[:160])

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_opening_a_card_and_posting_a_comment_take_a_handful_of_statements(engine, sessions):
    async with transaction(sessions) as session:
        await load_demo_plan(session)
        action_id = await session.scalar(
            select(action_units.c.action_id)
            .join(Unit, Unit.id == action_units.c.unit_id)
            .where(Unit.name == "OCR")
            .limit(1)
        )
        code = await create_invitation(session, "focal", ["OCR"])
    await add_person(sessions, "focal", FOCAL, ["OCR"], name="Luis")
    async with running_app(sessions) as (app, _request):
        chat = Chat(app, FOCAL)
        await chat.press(f"a:{action_id}")  # warm: the first step of a process reads more
        with statements(engine) as card:
            await chat.press(f"a:{action_id}")
        await chat.press(f"c:{action_id}")
        with statements(engine) as comment:
            await chat.send("Avance: se realizaron los talleres previstos.")
        with statements(engine) as status:
            await chat.press(f"ss:{action_id}:i")
        with statements(engine) as register:
            await Chat(app, FOCAL + 1).send(f"/start {code}")
    async with sessions() as session:
        assert await session.scalar(select(Comment.id).where(Comment.text.like("Avance:%")))
    print("open card:", *card, sep="\n  ")
    print("post comment:", *comment, sep="\n  ")
    print("change status:", *status, sep="\n  ")
    print("register:", *register, sep="\n  ")
    fewer = (
        FEWER_ON_POSTGRES
        if engine.dialect.name == "postgresql"
        else dict.fromkeys(FEWER_ON_POSTGRES, 0)
    )
    assert len(card) <= OPEN_CARD_MOST - fewer["card"], card
    assert len(comment) <= POST_COMMENT_MOST - fewer["comment"], comment
    assert len(status) <= CHANGE_STATUS_MOST - fewer["status"], status
    change = next(i for i, s in enumerate(status) if "INSERT INTO status_changes" in s)
    reads = [s for s in status[:change] if "key_actions.id, key_actions.plan_id" in s]
    assert len(reads) == 1, status
    assert len(register) <= REGISTER_MOST - fewer["register"], register
    assert not any(s.startswith("SELECT throttles") for s in register), register
    assert not any(s.startswith("SELECT rounds.") for s in register), register
