"""Long work off the event loop: while one person's export or chart is being made, another
person's simple step is answered (the order of what the bot sends shows it, not timings); an
export whose worker process dies tells the person so."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

import handlers.export
import handlers.summary
from handlers.summary_buttons import Scope, SummaryChart
from reports.files import plan_file
from tests.offline import Chat
from tests.report_support import add_person, build_large_plan, running_app

COORDINATOR, FOCAL = 20, 10


def held(original: Callable[..., Any], events: dict[str, threading.Event]) -> Any:
    """`original`, which first says it started and waits to be let go (at most 10 s: were it
    run on the event loop, it would hold everything that long, and then say it went on)."""

    def wait() -> None:
        events["started"].set()
        events["go"].wait(10)
        events["went_on"].set()

    if asyncio.iscoroutinefunction(original):

        async def waiting_async(*args: Any, **kwargs: Any) -> Any:
            wait()
            return await original(*args, **kwargs)

        return waiting_async

    def waiting(*args: Any, **kwargs: Any) -> Any:
        wait()
        return original(*args, **kwargs)

    return waiting


async def held_plan_file(session: AsyncSession, *args: Any) -> bytes:
    """`plan_file` that says when it starts and waits to be let go (through files in
    `$LONG_WORK_SIGNALS`: it runs in the worker process), then says it went on."""
    signals = Path(os.environ["LONG_WORK_SIGNALS"])
    (signals / "started").touch()
    await asyncio.to_thread(_appears, signals / "go")
    (signals / "went_on").touch()
    return await plan_file(session, *args)


async def killed_plan_file(session: AsyncSession, *args: Any) -> bytes:
    """A worker killed while writing the file (say, for its memory)."""
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("not reached")


def _appears(path: Path) -> bool:
    deadline = time.monotonic() + 30
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return path.exists()


async def test_another_persons_step_is_answered_while_an_export_is_written(
    sessions, monkeypatch, tmp_path
):
    """The export is written in a worker process: the focal point is answered meanwhile."""
    await build_large_plan(sessions, actions=300, units=6, blocks=10)
    await add_person(sessions, "coordinator", COORDINATOR, name="Carmen")
    await add_person(sessions, "focal", FOCAL, ["Unidad responsable número 001"], name="Luis")
    monkeypatch.setenv("LONG_WORK_SIGNALS", str(tmp_path))
    monkeypatch.setattr(handlers.export, "plan_file", held_plan_file)
    async with running_app(sessions) as (app, request):
        coordinator, focal = Chat(app, COORDINATOR), Chat(app, FOCAL)
        long_step = asyncio.create_task(coordinator.send("/exportar pdf"))
        try:
            assert await asyncio.to_thread(_appears, tmp_path / "started")
            await asyncio.wait_for(focal.send("/acciones"), timeout=10)
            assert request.sent(FOCAL), "the focal point was not answered"
            assert not (tmp_path / "went_on").exists(), "answered only after the long work"
        finally:
            (tmp_path / "go").touch()
            await asyncio.wait_for(long_step, timeout=120)
    kinds = [(int(c.params.get("chat_id", 0)), c.method) for c in request.sent()]
    assert kinds.index((FOCAL, "sendMessage")) < kinds.index((COORDINATOR, "sendDocument"))
    name, data = request.last_file("sendDocument")
    assert name.endswith(".pdf") and data.startswith(b"%PDF")


async def test_an_export_whose_worker_dies_is_told(sessions, monkeypatch):
    """The worker writing the file is killed: the coordinator is told to try again (the
    error's usual words), not left waiting for a file that never comes."""
    await build_large_plan(sessions, actions=20, units=2, blocks=2)
    await add_person(sessions, "coordinator", COORDINATOR, name="Carmen")
    monkeypatch.setattr(handlers.export, "plan_file", killed_plan_file)
    async with running_app(sessions) as (app, request):
        await Chat(app, COORDINATOR).send("/exportar")
    sent = request.sent(COORDINATOR)
    assert not [c for c in sent if c.method == "sendDocument"]
    assert "algo falló de nuestro lado" in sent[-1].text


async def test_another_persons_step_is_answered_while_a_chart_is_drawn(sessions, monkeypatch):
    """The chart is drawn in a worker thread: the focal point is answered meanwhile."""
    plan_id = await build_large_plan(sessions, actions=300, units=6, blocks=10)
    await add_person(sessions, "coordinator", COORDINATOR, name="Carmen")
    await add_person(sessions, "focal", FOCAL, ["Unidad responsable número 001"], name="Luis")
    events = {name: threading.Event() for name in ("started", "go", "went_on")}
    monkeypatch.setattr(handlers.summary, "chart_png", held(handlers.summary.chart_png, events))
    async with running_app(sessions) as (app, request):
        coordinator, focal = Chat(app, COORDINATOR), Chat(app, FOCAL)
        chart = SummaryChart(Scope(plan=str(plan_id))).data()
        long_step = asyncio.create_task(coordinator.press(chart))
        try:
            assert await asyncio.to_thread(events["started"].wait, 20)
            await focal.send("/acciones")
            assert request.sent(FOCAL), "the focal point was not answered"
            assert not events["went_on"].is_set(), "answered only after the long work"
        finally:
            events["go"].set()
            await long_step
    kinds = [(int(c.params.get("chat_id", 0)), c.method) for c in request.sent()]
    assert kinds.index((FOCAL, "sendMessage")) < kinds.index((COORDINATOR, "sendPhoto"))
