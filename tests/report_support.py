"""Shared helpers of the summary, export, notification, reminder and outbox tests: the real
Application on the offline transport with a fixed clock, people, outbox rows, and plans (the seed
and a large synthetic one built directly with Core inserts)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select
from telegram.ext import Application
from telegram.request import RequestData

from bot.app import build_application
from bot.settings import Settings
from storage.db import Sessions, transaction
from storage.models import (
    KeyAction,
    OutboxMessage,
    Person,
    Plan,
    Recommendation,
    Status,
    Unit,
    action_units,
)
from storage.people import create_invitation, redeem_invitation
from storage.units import resolve_units, unit_key
from tests.offline import TOKEN, OfflineRequest

#: Tuesday 24 November 2026, 10:00 in Lima.
NOW = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 24)
SECRETARIAT_CHAT = -1001


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class FilesRequest(OfflineRequest):
    """The offline transport, also keeping the files uploaded (method, part name, file name,
    bytes), which the plain transport does not record."""

    files: list[tuple[str, str, str, bytes]] = field(default_factory=list)

    async def do_request(  # type: ignore[override]
        self, url: str, method: str, request_data: RequestData | None = None, *args: Any, **kw: Any
    ) -> tuple[int, bytes]:
        if request_data is not None and request_data.contains_files:
            for part, value in request_data.multipart_data.items():
                name, content = value[0], value[1]
                data = content if isinstance(content, bytes) else content.read()
                self.files.append((url.rsplit("/", 1)[-1], part, str(name), data))
        return await super().do_request(url, method, request_data, *args, **kw)

    def last_file(self, method: str) -> tuple[str, bytes]:
        _, _, name, data = [f for f in self.files if f[0] == method][-1]
        return name, data


@asynccontextmanager
async def running_app(
    sessions: Sessions,
    *,
    clock: Clock | None = None,
    secretariat: Sequence[int] = (SECRETARIAT_CHAT,),
    request: FilesRequest | None = None,
    **settings: Any,
) -> AsyncIterator[tuple[Application, FilesRequest]]:  # type: ignore[type-arg]
    """The real Application (every flow registered, no jobs, no rate limiter) on the offline
    transport, initialised and shut down around the block."""
    request = request or FilesRequest()
    app = build_application(
        Settings(
            telegram_bot_token=TOKEN,
            secretariat_chat_ids=list(secretariat),
            _env_file=None,  # type: ignore[call-arg]
            **settings,
        ),
        sessions,
        request=request,
        with_jobs=False,
        rate_limiter=False,
        clock=clock or Clock(),
    )
    await app.initialize()
    try:
        yield app, request
    finally:
        await app.shutdown()


async def add_person(
    sessions: Sessions,
    role: str,
    telegram_id: int,
    units: Sequence[str] = (),
    *,
    name: str | None = None,
    language: str | None = None,
) -> Person:
    async with transaction(sessions) as session:
        code = await create_invitation(session, role, list(units), now=NOW)
        person = await redeem_invitation(
            session,
            code,
            telegram_id=telegram_id,
            name=name or f"{role.title()} {telegram_id}",
            language=language,
            now=NOW,
        )
        person.language = language
    return person


def event_payload(action_id: int = 1, ref: str = "1.1", **extra: Any) -> dict[str, Any]:
    return {
        "action_id": action_id,
        "plan_id": 1,
        "ref": ref,
        "action_text": "Revisar el POA del programa",
        "author": "Ana <Pérez>",
        "author_role": "focal",
        "comment_id": action_id,
        "comment": "Avance del 50 % <b>sin</b> problemas",
        "comment_truncated": False,
        "attachments": [],
        **extra,
    }


async def queue_rows(
    sessions: Sessions,
    chat_id: int,
    count: int,
    *,
    kind: str = "comment",
    digest: bool = False,
    now: dt.datetime = NOW,
    start: int = 1,
) -> list[int]:
    """Outbox rows as storage.followup writes them (refs 1.<n>, action ids <n>)."""
    async with transaction(sessions) as session:
        rows = [
            OutboxMessage(
                chat_id=chat_id,
                kind=kind,
                payload=event_payload(n, f"1.{n}"),
                digest=digest,
                created_at=now,
                available_at=now,
            )
            for n in range(start, start + count)
        ]
        session.add_all(rows)
        await session.flush()
        return [r.id for r in rows]


async def outbox_rows(sessions: Sessions) -> list[OutboxMessage]:
    async with sessions() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


def sent_texts(request: OfflineRequest, chat_id: int) -> list[str]:
    return [c.text for c in request.sent(chat_id) if c.method == "sendMessage"]


async def build_large_plan(
    sessions: Sessions,
    *,
    actions: int = 2000,
    units: int = 60,
    blocks: int = 40,
    title: str = "Plan grande " + "con un título muy largo " * 6,
    today: dt.date = TODAY,
) -> int:
    """A plan of `actions` key actions in `blocks` blocks over `units` units (two per action),
    a third of them overdue, with long texts and unit names: the worst case for message length."""
    async with transaction(sessions) as session:
        plan = Plan(title=title.strip())
        session.add(plan)
        await session.flush()
        unit_rows = [
            {
                "name": f"Unidad responsable número {i:03d} de la agencia participante",
                "key": unit_key(f"Unidad responsable número {i:03d} de la agencia participante"),
            }
            for i in range(units)
        ]
        await session.execute(insert(Unit), unit_rows)
        unit_ids = list(
            await session.scalars(select(Unit.id).where(Unit.name.like("Unidad responsable%")))
        )
        await session.execute(
            insert(Recommendation),
            [
                {
                    "plan_id": plan.id,
                    "position": b + 1,
                    "label": str(b + 1) if b % 5 else f"{b + 1} y {b + 2}",
                    "text": "Recomendación " * 20,
                    "management_response": "",
                }
                for b in range(blocks)
            ],
        )
        recs = (
            await session.execute(
                select(Recommendation.id, Recommendation.position).where(
                    Recommendation.plan_id == plan.id
                )
            )
        ).all()
        statuses = [Status.NOT_STARTED, Status.IN_PROGRESS, Status.COMPLETED, Status.NOT_APPLICABLE]
        rows = []
        for i in range(actions):
            rec_id, position = recs[i % blocks]
            due = today + dt.timedelta(days=(i % 9 - 3) * 20)
            rows.append(
                {
                    "plan_id": plan.id,
                    "recommendation_id": rec_id,
                    "position": position,
                    "number": i // blocks + 1,
                    "text": f"Acción clave {i} " + "con una descripción extensa " * 12,
                    "responsible_text": "",
                    "deadline_text": due.isoformat(),
                    "deadline_kind": "date",
                    "deadline_due": due,
                    "status": statuses[i % 4].value,
                    "review_status": "pending",
                    "created_at": NOW - dt.timedelta(days=90),
                }
            )
        await session.execute(insert(KeyAction), rows)
        action_ids = list(
            await session.scalars(select(KeyAction.id).where(KeyAction.plan_id == plan.id))
        )
        links = []
        for index, action_id in enumerate(action_ids):
            first = unit_ids[index % units]
            second = unit_ids[(index * 7 + 3) % units]
            links.append({"action_id": action_id, "unit_id": first})
            if second != first:
                links.append({"action_id": action_id, "unit_id": second})
        await session.execute(insert(action_units), links)
        return plan.id


async def add_plan(
    sessions: Sessions,
    actions: Sequence[tuple[str, str, dt.date | None, Sequence[str]]],
    *,
    title: str = "Plan de prueba",
    kind: str = "month",
    created_at: dt.datetime = NOW - dt.timedelta(days=5),
) -> dict[str, int]:
    """A plan from (ref "label.number", text, due date or None for an event, unit names);
    returns action ids by ref. Actions are created `created_at` (recent: not stale)."""

    ids: dict[str, int] = {}
    async with transaction(sessions) as session:
        plan = Plan(title=title)
        session.add(plan)
        await session.flush()
        recs: dict[str, Recommendation] = {}
        for ref, text, due, units in actions:
            label, _, number = ref.rpartition(".")
            if label not in recs:
                recs[label] = Recommendation(
                    plan_id=plan.id, position=len(recs) + 1, label=label, text=f"Rec {label}"
                )
                session.add(recs[label])
                await session.flush()
            action = KeyAction(
                plan_id=plan.id,
                recommendation_id=recs[label].id,
                position=recs[label].position,
                number=int(number),
                text=text,
                responsible_text="; ".join(units),
                deadline_text=due.isoformat() if due else "A la recepción del desembolso",
                deadline_kind=kind if due else "event",
                deadline_due=due,
                created_at=created_at,
                units=await resolve_units(session, list(units)),
            )
            session.add(action)
            await session.flush()
            ids[ref] = action.id
    return ids
