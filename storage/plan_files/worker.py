"""Parsing a plan file in a worker process, with a time limit.

The checks in `safety` bound what a file may hold; a file within them can still take long to
parse (wide rows, many styles). A thread cannot be stopped, a process can: the file is parsed
in a fresh process (`storage.offloop.run_in_process`), and a parse that outlasts `seconds` is
stopped and refused with the ``parse_time_limit`` code (``parse_failed`` when the worker died,
say killed for its memory). `PlanFileError`s raised in the worker are raised again here, so
callers see the same errors as when parsing in place.

`function` must be importable by its name (a module's top-level function): the worker process
imports it afresh.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from storage.offloop import WorkerFailed, WorkerTimedOut, run_in_process
from storage.plan_files.records import PlanFileError, PlanFileIssue

T = TypeVar("T")


def _refuse(code: str, **detail: Any) -> PlanFileError:
    return PlanFileError([PlanFileIssue(None, None, code, detail)])


def _parsed(function: Callable[..., Any], args: tuple[Any, ...]) -> tuple[str, Any]:
    """In the worker: what `function(*args)` gave, or the issues it refused the file for (they
    travel; the exception is rebuilt in the parent)."""
    try:
        return "done", function(*args)
    except PlanFileError as error:
        return "refused", list(error.issues)


def _seconds_text(seconds: float) -> int | float:
    return int(seconds) if float(seconds).is_integer() else seconds


async def parse_in_worker(function: Callable[..., T], *args: Any, seconds: float) -> T:
    """`function(*args)` in a worker process, stopped after `seconds` (off the event loop)."""
    try:
        kind, value = await run_in_process(_parsed, function, args, seconds=seconds)
    except WorkerTimedOut as exc:
        raise _refuse("parse_time_limit", seconds=_seconds_text(seconds)) from exc
    except WorkerFailed as exc:
        raise _refuse("parse_failed") from exc
    if kind == "refused":
        raise PlanFileError(value)
    result: T = value
    return result
