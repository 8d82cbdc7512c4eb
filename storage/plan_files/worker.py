"""Parsing a plan file in a worker process, with a time limit.

The checks in `safety` bound what a file may hold; a file within them can still take long to
parse (wide rows, many styles). A thread cannot be stopped, a process can: the file is parsed
in a fresh process (started with "spawn": nothing of the bot's threads or event loop is copied),
and a parse that outlasts `seconds` is stopped and refused with the ``parse_time_limit`` code
(``parse_failed`` when the worker died, say killed for its memory). `PlanFileError`s raised in
the worker are raised again here, so callers see the same errors as when parsing in place.

`function` must be importable by its name (a module's top-level function): the worker process
imports it afresh.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from storage.plan_files.records import PlanFileError, PlanFileIssue

T = TypeVar("T")


def _refuse(code: str, **detail: Any) -> PlanFileError:
    return PlanFileError([PlanFileIssue(None, None, code, detail)])


def _work(channel: Connection, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """In the worker: run `function` and send back what came of it."""
    try:
        outcome: tuple[str, Any] = ("done", function(*args))
    except PlanFileError as error:  # its issues travel; the exception is rebuilt
        outcome = ("refused", list(error.issues))
    except Exception as error:  # a bug: told to the parent, which raises it there
        outcome = ("failed", f"{type(error).__name__}: {error}")
    channel.send(outcome)
    channel.close()


def _seconds_text(seconds: float) -> int | float:
    return int(seconds) if float(seconds).is_integer() else seconds


async def parse_in_worker(function: Callable[..., T], *args: Any, seconds: float) -> T:
    """`function(*args)` in a worker process, stopped after `seconds` (off the event loop)."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    worker = context.Process(target=_work, args=(sender, function, args), daemon=True)
    worker.start()
    sender.close()  # the worker holds the other end: its death ends the pipe
    try:
        if not await asyncio.to_thread(receiver.poll, seconds):
            raise _refuse("parse_time_limit", seconds=_seconds_text(seconds))
        try:
            kind, value = await asyncio.to_thread(receiver.recv)
        except EOFError as exc:  # the worker died without an answer
            raise _refuse("parse_failed") from exc
    finally:
        receiver.close()
        if worker.is_alive():
            worker.kill()
        await asyncio.to_thread(worker.join)
    if kind == "refused":
        raise PlanFileError(value)
    if kind == "failed":
        raise RuntimeError(f"parsing the plan file failed: {value}")
    result: T = value
    return result
