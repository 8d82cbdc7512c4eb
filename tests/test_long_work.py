"""Long work off the event loop: while one person's export or chart is being made, another
person's simple step is answered (the order of what the bot sends shows it, not timings)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

import handlers.summary
import storage.plan_files
from handlers.buttons import Scope, SummaryChart
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


@pytest.mark.parametrize("work", ["export", "chart"])
async def test_another_persons_step_is_answered_while_a_long_one_runs(sessions, monkeypatch, work):
    plan_id = await build_large_plan(sessions, actions=300, units=6, blocks=10)
    await add_person(sessions, "coordinator", COORDINATOR, name="Carmen")
    await add_person(sessions, "focal", FOCAL, ["Unidad responsable número 001"], name="Luis")
    events = {name: threading.Event() for name in ("started", "go", "went_on")}
    if work == "export":
        target, name = storage.plan_files, "export_plan"
    else:
        target, name = handlers.summary, "chart_png"
    monkeypatch.setattr(target, name, held(getattr(target, name), events))
    async with running_app(sessions) as (app, request):
        coordinator, focal = Chat(app, COORDINATOR), Chat(app, FOCAL)
        if work == "export":
            long_step = asyncio.create_task(coordinator.send("/exportar"))
        else:
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
    answered = kinds.index((FOCAL, "sendMessage"))
    file = kinds.index((COORDINATOR, "sendDocument" if work == "export" else "sendPhoto"))
    assert answered < file
