"""What the plan's people take away, at the full portfolio: the exports of the largest plan in
every format (Word and the committee's PDF against today's spreadsheet, each through the chat;
the longest single step the event loop ran meanwhile, from asyncio's debug mode, says whether the
work stayed off the loop; a ticker's lateness shows what sharing the interpreter with the worker
thread costs the loop on this machine), the dashboard's API (the largest plan's matrix
and the portfolio's summary), opening a reporting round on every plan (how fast the asks are
queued), and the resident memory after refusing hostile files."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import httpx
from sqlalchemy import func, select

from bench.measure import Stats, current_rss_mb, stats
from bench.scenarios import Context
from bot.web.server import web_app
from storage.db import transaction
from storage.models import KeyAction, OutboxMessage
from storage.offloop import run_in_process
from storage.plan_files import PlanFileError, read_plan_rows
from storage.rounds import ASK_KIND, open_round
from tests.dashboard_support import dashboard, header, init_data
from tests.offline import Chat

EXPORT_RUNS = 5
API_RUNS = 20
TICK = 0.005  # the stall meter's sleep


async def largest_plan(ctx: Context) -> tuple[int, int]:
    """The plan with the most key actions, and how many."""
    async with ctx.sessions() as session:
        plan_id, count = (
            await session.execute(
                select(KeyAction.plan_id, func.count())
                .group_by(KeyAction.plan_id)
                .order_by(func.count().desc())
                .limit(1)
            )
        ).one()
    return int(plan_id), int(count)


async def _with_stall_meter(work: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """Seconds `work` took, and how late a ticker that should wake every 5 ms woke at worst
    (the loop's own steps, plus waiting for the interpreter while a worker thread runs Python,
    plus whatever else the machine does)."""
    late: list[float] = [0.0]
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            start = time.perf_counter()
            await asyncio.sleep(TICK)
            late.append(time.perf_counter() - start - TICK)

    task = asyncio.create_task(ticker())
    start = time.perf_counter()
    await work()
    elapsed = time.perf_counter() - start
    done.set()
    await task
    return elapsed, max(late)


class _SlowCallbacks(logging.Handler):
    """asyncio's debug mode logs every callback that held the loop longer than
    `slow_callback_duration`: the longest of them."""

    def __init__(self) -> None:
        super().__init__()
        self.longest = 0.0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("Executing") and record.args:
            self.longest = max(self.longest, float(record.args[-1]))  # type: ignore[index]


async def _longest_callback(work: Callable[[], Awaitable[object]]) -> float:
    """Seconds of the longest single step the event loop ran while `work` ran (0 below 10 ms):
    what "off the event loop" means. A separate run, since debug mode slows everything."""
    loop = asyncio.get_running_loop()
    watcher = _SlowCallbacks()
    log = logging.getLogger("asyncio")
    log.addHandler(watcher)
    loop.set_debug(True)
    loop.slow_callback_duration = 0.01
    try:
        await work()
    finally:
        loop.set_debug(False)
        log.removeHandler(watcher)
    return watcher.longest


async def exports(ctx: Context, runs: int = EXPORT_RUNS) -> tuple[list[Stats], dict[str, Any]]:
    """/exportar of the largest plan as a spreadsheet, Word and PDF, through the chat (the file
    is built when it is sent, off the loop): time per export, and the event loop's longest
    stall during each."""
    plan_id, actions = await largest_plan(ctx)
    coordinator = Chat(ctx.app, ctx.portfolio.coordinator_telegram_ids[0])
    results: list[Stats] = []
    stalls: dict[str, float] = {}
    longest: dict[str, float] = {}
    for code, name in (("x", "xlsx"), ("w", "docx"), ("p", "pdf")):
        await coordinator.press(f"ex:{code}:{plan_id}")  # warm-up: imports, fonts
        samples: list[float] = []
        worst = 0.0
        for _ in range(runs):
            seconds, stall = await _with_stall_meter(
                lambda code=code: coordinator.press(f"ex:{code}:{plan_id}")  # type: ignore[misc]
            )
            samples.append(seconds)
            worst = max(worst, stall)
        results.append(stats(f"export largest plan (.{name})", samples))
        stalls[name] = round(worst * 1000, 1)
        press = partial(coordinator.press, f"ex:{code}:{plan_id}")
        longest[name] = round(await _longest_callback(press) * 1000, 1)
    by_name = {s.name: s.median_ms for s in results}
    xlsx = by_name["export largest plan (.xlsx)"]
    summary = {
        "largest_plan_actions": actions,
        "ratio_docx_to_xlsx": round(by_name["export largest plan (.docx)"] / xlsx, 2),
        "ratio_pdf_to_xlsx": round(by_name["export largest plan (.pdf)"] / xlsx, 2),
        "longest_loop_step_ms": longest,
        "ticker_late_ms": stalls,
    }
    return results, summary


async def dashboard_api(ctx: Context, runs: int = API_RUNS) -> list[Stats]:
    """The dashboard's API over HTTP (in process, through the ASGI app): the largest plan's
    matrix and the portfolio's summary, as a coordinator."""
    plan_id, _ = await largest_plan(ctx)
    now = dt.datetime.now(dt.UTC)
    user = ctx.portfolio.coordinator_telegram_ids[0]
    headers = header(init_data(user, signed_at=now))
    app = web_app(dashboard(ctx.sessions, now=now))
    transport = httpx.ASGITransport(app=app)
    results = []
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for name, path in (
            ("dashboard matrix (largest plan)", f"/api/plans/{plan_id}/matrix"),
            ("dashboard portfolio summary", "/api/summary"),
        ):
            samples = []
            for i in range(runs + 2):
                start = time.perf_counter()
                response = await client.get(path, headers=headers)
                elapsed = time.perf_counter() - start
                if response.status_code != 200:
                    raise SystemExit(f"{path}: {response.status_code} {response.text[:200]}")
                if i >= 2:  # two warm-up calls
                    samples.append(elapsed)
            results.append(stats(name, samples))
    return results


async def open_rounds(ctx: Context) -> dict[str, Any]:
    """A reporting round opened on every plan of the portfolio at once (the heaviest case: a
    focal point is asked once per plan with open actions of their units): how fast the asks are
    queued, so that every focal point of a plan is asked within seconds. The outbox then paces
    them (the drain's speed is the outbox's own scenario)."""
    today = dt.datetime.now(dt.UTC).date()
    start = time.perf_counter()
    asked = 0
    async with transaction(ctx.sessions) as session:
        before = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == ASK_KIND)
        )
        for plan_id in ctx.portfolio.plan_ids:
            info = await open_round(
                session, closes_on=today + dt.timedelta(days=14), today=today, plan_id=plan_id
            )
            asked += info.asked
        queued = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == ASK_KIND)
        )
    seconds = time.perf_counter() - start
    return {
        "plans": len(ctx.portfolio.plan_ids),
        "focal_points_asked": asked,
        "messages_queued": int(queued or 0) - int(before or 0),
        "seconds": round(seconds, 2),
    }


def _bombs() -> dict[str, bytes]:
    """The hostile files the tests refuse (`tests.hostile_files`). Made in a worker process
    (`hostile_files`): the benchmark's own tools (openpyxl, which builds them) are not the
    bot's, and must not weigh in the bot's resident memory."""
    from tests.hostile_files import many_entries, shared_strings_bomb, wide_rows

    return {
        "shared strings bomb": shared_strings_bomb(),
        "many entries": many_entries(),
        "wide rows": wide_rows(),
    }


async def hostile_files() -> dict[str, Any]:
    """Each hostile file refused (off the loop, as an upload is), and the resident memory
    afterwards: the limits are checked before anything is decompressed."""
    bombs = await run_in_process(_bombs, seconds=300)
    before = current_rss_mb()
    refused: dict[str, str] = {}
    for name, data in bombs.items():
        try:
            await asyncio.to_thread(read_plan_rows, data, "plan.xlsx")
        except PlanFileError as error:
            refused[name] = ",".join(error.codes)
        else:
            refused[name] = "ACCEPTED"
    return {
        "refused": refused,
        "rss_mb_before": round(before, 1),
        "rss_mb_after": round(current_rss_mb(), 1),
    }
