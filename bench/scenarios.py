"""The benchmark's scenarios: real updates through the full `Application` (offline transport),
each timed per update, and a baseline that only echoes, measured in the same run."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from bench.measure import Stats, samples_of, stats, timed
from bench.portfolio import Portfolio
from bot.app import build_application
from bot.settings import Settings
from storage.db import Sessions, transaction
from storage.people import create_invitation
from tests.offline import TOKEN, Chat, OfflineRequest

RUNS = 200


@dataclass
class Context:
    app: Application  # type: ignore[type-arg]
    request: OfflineRequest
    sessions: Sessions
    portfolio: Portfolio
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    new_users: itertools.count = field(default_factory=lambda: itertools.count(50_000_000))


async def echo_app() -> Application:  # type: ignore[type-arg]
    async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_message.reply_text(update.effective_message.text)  # type: ignore[union-attr]

    app = ApplicationBuilder().token(TOKEN).request(OfflineRequest()).job_queue(None).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    await app.initialize()
    return app


async def bot_app(sessions: Sessions, database_url: str) -> tuple[Application, OfflineRequest]:  # type: ignore[type-arg]
    request = OfflineRequest()
    settings = Settings(
        telegram_bot_token=TOKEN, database_url=database_url, secretariat_chat_ids=[-100123]
    )
    app = build_application(
        settings, sessions, request=request, with_jobs=False, rate_limiter=False
    )
    await app.initialize()
    return app, request


def _focal_with_actions(ctx: Context, index: int) -> tuple[int, int]:
    """A focal point (telegram id) and one action of their units."""
    focal = ctx.portfolio.focal_telegram_ids[index % len(ctx.portfolio.focal_telegram_ids)]
    for unit in ctx.portfolio.focal_units[focal]:
        actions = ctx.portfolio.actions_by_unit.get(unit)
        if actions:
            return focal, actions[index % len(actions)]
    return _focal_with_actions(ctx, index + 1)


async def baseline(runs: int = RUNS) -> Stats:
    app = await echo_app()
    chat = Chat(app, 1)
    try:
        return await timed("baseline echo", lambda i: chat.send(f"hola {i}"), runs)
    finally:
        await app.shutdown()


async def chat_flows(ctx: Context, runs: int = RUNS) -> list[Stats]:
    app, results = ctx.app, []

    async def register_prepare(i: int) -> None:
        async with transaction(ctx.sessions) as session:
            register_prepare.code = await create_invitation(session, "focal", ["Unidad 001"])  # type: ignore[attr-defined]

    async def register(i: int) -> None:
        await Chat(app, next(ctx.new_users)).send(f"/start {register_prepare.code}")  # type: ignore[attr-defined]

    results.append(await timed("register (/start code)", register, runs, prepare=register_prepare))

    def focal_chat(i: int) -> tuple[Chat, int]:
        focal, action = _focal_with_actions(ctx, i)
        return Chat(app, focal), action

    results.append(await timed("/acciones", lambda i: focal_chat(i)[0].send("/acciones"), runs))
    results.append(
        await timed("list page (all, page 2)", lambda i: focal_chat(i)[0].press("l:a:1"), runs)
    )
    results.append(
        await timed("list filter (overdue)", lambda i: focal_chat(i)[0].press("l:o:0"), runs)
    )

    async def open_card(i: int) -> None:
        chat, action = focal_chat(i)
        await chat.press(f"a:{action}")

    results.append(await timed("open card", open_card, runs))

    async def start_comment(i: int) -> None:
        chat, action = focal_chat(i)
        await chat.press(f"c:{action}")

    async def comment(i: int) -> None:
        chat, _ = focal_chat(i)
        await chat.send(f"Avance de la actividad número {i}: talleres realizados.")

    results.append(await timed("post comment", comment, runs, prepare=start_comment))

    async def change_status(i: int) -> None:
        chat, action = focal_chat(i)
        await chat.press(f"ss:{action}:{'i' if i % 2 else 'n'}")

    results.append(await timed("change status", change_status, runs))
    return results


async def reports(ctx: Context, runs: int = 50) -> list[Stats]:
    coordinator = Chat(ctx.app, ctx.portfolio.coordinator_telegram_ids[0])
    plan_id = ctx.portfolio.plan_ids[len(ctx.portfolio.plan_ids) // 2]
    return [
        await timed("/resumen one plan", lambda i: coordinator.press(f"rs:s:{plan_id}:"), runs),
        await timed("/resumen portfolio", lambda i: coordinator.press("rs:s:all:"), runs),
        await timed("export one plan (.xlsx)", lambda i: coordinator.press(f"ex:x:{plan_id}"), 10),
    ]


async def sizes(
    big: Context, small: Context, runs: int = RUNS, rounds: int = 4
) -> list[tuple[Stats, Stats]]:
    """A card and a list at both portfolio sizes (for the ratio between them), in alternating
    rounds, so that whatever else the machine does meanwhile weighs on both sizes alike."""

    def steps(ctx: Context) -> dict[str, Callable[[int], Awaitable[object]]]:
        chats = [(_focal_with_actions(ctx, i)) for i in range(50)]

        async def card(i: int) -> None:
            focal, action = chats[i % len(chats)]
            await Chat(ctx.app, focal).press(f"a:{action}")

        async def listing(i: int) -> None:
            focal, _ = chats[i % len(chats)]
            await Chat(ctx.app, focal).send("/acciones")

        return {"card": card, "list": listing}

    both = {"big": steps(big), "small": steps(small)}
    samples: dict[tuple[str, str], list[float]] = {}
    per_round = max(1, runs // rounds)
    for round_ in range(rounds):
        for name in ("card", "list"):
            for size, named in both.items():
                samples.setdefault((name, size), []).extend(
                    await samples_of(named[name], per_round, first=round_ * per_round)
                )
    return [
        (stats(name, samples[(name, "big")]), stats(name, samples[(name, "small")]))
        for name in ("card", "list")
    ]


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
