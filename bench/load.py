"""Load: N people acting at the same moment against the real `python -m bot` process (long
polling) through the Bot API simulator, which adds a round trip to every call (100 ms, 250 ms:
a server far from Telegram's data centres).

Each person registers with an invitation of their own, lists their actions, opens a card, posts
a comment and asks /resumen; every step is one phase in which all N act at once. Per step: the
wall time until everyone is answered against Telegram's floor (N answers at 30 a second), the
median and p99 reply time. Per run: the simulator's 429 answers, and the comments lost or
stored twice (counted in the database). Then a mixed load: the p99 of a simple step (/acciones)
while a coordinator exports the largest plan and asks the portfolio /resumen, and without them.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.measure import percentile
from bot.collector import freeze_startup_objects
from bot.simulator.server import BotApiSimulator
from bot.simulator.store import SimMessage
from bot.telegram_limits import OVERALL_PER_SECOND
from handlers.summary_buttons import ALL_PLANS, ExportFormat, ExportPlan, Scope, ShowSummary
from storage.db import create_engine, create_sessions, transaction
from storage.models import Comment, KeyAction, Person, Unit
from storage.people import create_invitation
from tests.e2e_support import TOKEN, BotProcess, bot_env

STEP_TIMEOUT = 300.0
#: Telegram ids of the load's people: a block of ids per run, far from the portfolio's.
FIRST_ID = 700_000_000


def _answer(sim: BotApiSimulator, user: int, seen: dict[int, int]) -> SimMessage | None:
    """The bot's first message in the chat that is new or edited since `seen`."""
    for message in sim.messages(user):
        if message.from_bot and (
            message.message_id not in seen or message.edits > seen[message.message_id]
        ):
            return message
    return None


async def _timed(
    sim: BotApiSimulator, user: int, act: Callable[[], Awaitable[object]]
) -> tuple[float, SimMessage]:
    seen = {m.message_id: m.edits for m in sim.messages(user)}
    started = time.perf_counter()
    await act()
    message = await sim.wait_for(lambda: _answer(sim, user, seen), STEP_TIMEOUT, chat_id=user)
    return time.perf_counter() - started, message


def _button(message: SimMessage, prefix: str) -> str | None:
    return next((data for _text, data in message.buttons if data.startswith(prefix)), None)


def _summary(name: str, n: int, samples: list[float], wall: float) -> dict[str, Any]:
    floor = n / OVERALL_PER_SECOND
    return {
        "step": name,
        "people": n,
        "answered": len(samples),
        "wall_s": round(wall, 2),
        "floor_s": round(floor, 2),
        "wall_to_floor": round(wall / floor, 2),
        "median_ms": round(statistics.median(samples) * 1000, 1) if samples else None,
        "p99_ms": round(percentile(samples, 0.99) * 1000, 1) if samples else None,
    }


async def _phase(
    name: str, people: list[int], step: Callable[[int], Awaitable[float | None]]
) -> dict[str, Any]:
    started = time.perf_counter()
    results = await asyncio.gather(*(step(p) for p in people), return_exceptions=True)
    wall = time.perf_counter() - started
    samples = [r for r in results if isinstance(r, float)]
    out = _summary(name, len(people), samples, wall)
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        out["failures"] = len(failures)
        out["first_failure"] = repr(failures[0])[:300]
    return out


class Crowd:
    """N people of one run and the last message each was answered with."""

    def __init__(self, sim: BotApiSimulator, people: list[int]) -> None:
        self.sim = sim
        self.people = people
        self.last: dict[int, SimMessage] = {}

    def send(self, text: Callable[[int], str]) -> Callable[[int], Awaitable[float]]:
        async def step(user: int) -> float:
            elapsed, self.last[user] = await _timed(
                self.sim, user, lambda: self.sim.user_sends_text(user, text(user))
            )
            return elapsed

        return step

    def press(self, prefix: str) -> Callable[[int], Awaitable[float | None]]:
        async def step(user: int) -> float | None:
            message = self.last.get(user)
            data = _button(message, prefix) if message is not None else None
            if message is None or data is None:
                return None
            elapsed, self.last[user] = await _timed(
                self.sim,
                user,
                lambda: self.sim.user_presses_button(user, message.message_id, data),
            )
            return elapsed

        return step


async def _invitations(
    sessions: Any, unit_ids: list[int], count: int, role: str = "focal"
) -> list[str]:
    """One invitation per person, a focal point's for a unit with actions (round robin)."""
    async with transaction(sessions) as session:
        names = list(await session.scalars(select(Unit.name).where(Unit.id.in_(unit_ids[:50]))))
        units = (lambda i: [names[i % len(names)]]) if role == "focal" else (lambda _i: [])
        return [await create_invitation(session, role, units(i)) for i in range(count)]


async def _run(
    sim: BotApiSimulator, sessions: Any, units: list[int], n: int, latency: float, first_id: int
) -> dict[str, Any]:
    people = list(range(first_id, first_id + n))
    for user in people:
        sim.add_private_user(user, f"Persona {user}")
    codes = dict(zip(people, await _invitations(sessions, units, n), strict=True))
    before_429 = sim.stats["429"]
    crowd = Crowd(sim, people)
    steps = [
        await _phase("register (/start code)", people, crowd.send(lambda u: f"/start {codes[u]}")),
        await _phase("/acciones", people, crowd.send(lambda _u: "/acciones")),
        await _phase("open card", people, crowd.press("a:")),
        await _phase("comment prompt", people, crowd.press("c:")),
        await _phase("post comment", people, crowd.send(lambda u: f"Avance de carga {u}.")),
        await _phase("/resumen", people, crowd.send(lambda _u: "/resumen")),
    ]
    async with sessions() as session:
        registered = int(
            await session.scalar(
                select(func.count()).select_from(Person).where(Person.telegram_id.in_(people))
            )
            or 0
        )
        texts = [f"Avance de carga {u}." for u in people]
        stored = list(
            (
                await session.execute(
                    select(Comment.text, func.count())
                    .where(Comment.text.in_(texts))
                    .group_by(Comment.text)
                )
            ).all()
        )
    answered = sum(1 for u in people if crowd.last.get(u) is not None)
    return {
        "latency_ms": round(latency * 1000),
        "people": n,
        "registered": registered,
        "steps": steps,
        "http_429": sim.stats["429"] - before_429,
        "comments_stored": sum(c for _t, c in stored),
        "comments_lost": n - len(stored),
        "comments_duplicated": sum(c - 1 for _t, c in stored),
        "people_answered": answered,
    }


async def _mixed(
    sim: BotApiSimulator, sessions: Any, units: list[int], n: int, latency: float, first_id: int
) -> dict[str, Any]:
    """/acciones by N registered people at once, alone and while a coordinator exports the
    largest plan and asks the portfolio's /resumen over and over."""
    people = list(range(first_id, first_id + n))
    for user in people:
        sim.add_private_user(user, f"Persona {user}")
    coordinator = first_id + n
    sim.add_private_user(coordinator, "Coordinación")
    codes = dict(zip(people, await _invitations(sessions, units, n), strict=True))
    [coordinator_code] = await _invitations(sessions, units, 1, "coordinator")
    crowd = Crowd(sim, people)
    await _phase("register", people, crowd.send(lambda u: f"/start {codes[u]}"))
    await _timed(
        sim, coordinator, lambda: sim.user_sends_text(coordinator, f"/start {coordinator_code}")
    )
    async with sessions() as session:
        largest = (
            await session.execute(
                select(KeyAction.plan_id, func.count())
                .group_by(KeyAction.plan_id)
                .order_by(func.count().desc())
                .limit(1)
            )
        ).one()
    alone = await _phase("/acciones alone", people, crowd.send(lambda _u: "/acciones"))
    busy = True
    heavy: list[float] = []

    async def coordinate() -> None:
        _t, anchor = await _timed(
            sim, coordinator, lambda: sim.user_sends_text(coordinator, "/resumen")
        )
        presses = [
            ExportPlan(ExportFormat.XLSX, int(largest[0])).data(),
            ShowSummary(Scope(plan=ALL_PLANS)).data(),
        ]
        while busy:
            for data in presses:
                elapsed, _m = await _timed(
                    sim,
                    coordinator,
                    lambda data=data: sim.user_presses_button(
                        coordinator, anchor.message_id, data, forge=True
                    ),
                )
                heavy.append(elapsed)

    worker = asyncio.create_task(coordinate())
    await asyncio.sleep(0.2)  # the heavy work under way first
    mixed = await _phase(
        "/acciones with export and portfolio /resumen", people, crowd.send(lambda _u: "/acciones")
    )
    busy = False
    await worker
    return {
        "latency_ms": round(latency * 1000),
        "people": n,
        "largest_plan_actions": int(largest[1]),
        "alone": alone,
        "mixed": mixed,
        "heavy_steps": len(heavy),
        "heavy_median_ms": round(statistics.median(heavy) * 1000, 1) if heavy else None,
        "p99_ratio_mixed_to_alone": round(mixed["p99_ms"] / alone["p99_ms"], 2)
        if alone.get("p99_ms") and mixed.get("p99_ms")
        else None,
    }


async def run_load(
    url: str,
    tmp: Path,
    units: list[int],
    *,
    sizes: list[int],
    latencies: list[float],
    mixed_n: int,
) -> dict[str, Any]:
    """The load scenario on the database at `url` (a portfolio already built; `units`: units
    with actions, for the focal points' invitations)."""
    engine = create_engine(url)
    sessions = create_sessions(engine)
    out: dict[str, Any] = {"runs": []}
    # The simulator stands for Telegram's servers, which do not stop for this process's full
    # collections (the portfolio just built made them 100-180 ms long).
    freeze_startup_objects()
    async with BotApiSimulator(token=TOKEN) as sim:
        env = bot_env(sim, url, LOAD_DEMO_PLAN="false", LOG_LEVEL="WARNING")
        bot = BotProcess(env, tmp / "load-bot.log").start()
        try:
            await sim.wait_for(lambda: sim.stats["getUpdates"] >= 1, 60)
            first = FIRST_ID
            # The latency only ever grows during the run, and is set while the bot is idle: a
            # network does not get 100 ms faster in an instant (which would let sends paced
            # at the old latency arrive bunched up: `bot.rate_limits.SlidingWindow`).
            for latency in sorted(latencies):
                sim.latency = latency
                for n in sizes:
                    out["runs"].append(await _run(sim, sessions, units, n, latency, first))
                    first += n + 10
                if latency == min(latencies):
                    out["mixed"] = await _mixed(sim, sessions, units, mixed_n, latency, first)
                    first += mixed_n + 10
        finally:
            bot.stop()
            await engine.dispose()
    return out
