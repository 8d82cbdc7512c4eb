"""Long reads and the work around them off the bot's event loop.

A long read (a whole plan for an export, the portfolio for a report) on the update's own
connection holds the event loop while it runs (SQLite's statements run on the loop's thread:
`storage.sqlite_driver`) and, inside the update's transaction, SQLite's write turn
(`storage.db.transaction`). Such work runs elsewhere, on a connection of its own, outside any
transaction of the bot's: the updates of other people go on meanwhile. The work is a coroutine
function given a session; what it returns must not be ORM objects (they belong to that
session), only plain values (bytes, dataclasses).

`in_reader_thread` runs reads asked often (the portfolio's summary, on every press) on one
worker thread with its own loop and an engine per database, started on the first read and
kept for the process's life (`close_reader` at shutdown), so that a read does not pay for a new
loop, engine and connection each time (a PostgreSQL connection's set-up costs more than the
summary of a plan). Each read is a session of its own on a pooled connection, which gives the
connection back when it ends: SQLite's next read sees what was committed meanwhile (WAL), and
PostgreSQL's is a transaction of its own.

`in_own_process` runs work that builds files in a worker process (a fresh interpreter per
call, with an engine of its own): the libraries that build them (openpyxl, python-docx, fpdf2,
matplotlib: over 100 MB once imported) are loaded by the worker only and leave with it, and the
work does not share the interpreter's lock with the event loop. `run_in_process` is the worker
itself, with a time limit (a thread cannot be stopped, a process can): plan files are parsed in
it too (`storage.plan_files.worker`).
"""

from __future__ import annotations

import asyncio
import pickle
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.pool import NullPool

from storage.db import Sessions, create_engine, create_sessions

T = TypeVar("T")


def _own_url(sessions: Sessions) -> str | None:
    """The database's URL for a connection of its own; None for an in-memory SQLite database,
    which another connection would not see."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, AsyncEngine):
        return None
    url = bind.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return None
    return url.render_as_string(hide_password=False)


class _Reader:
    """The worker thread of `in_reader_thread`: a loop of its own and an engine per URL."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._engines: dict[str, AsyncEngine] = {}

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="reader", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    async def _read(self, url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """On the reader's loop (its engines are used from this thread only)."""
        engine = self._engines.get(url)
        if engine is None:
            engine = self._engines[url] = create_engine(url)
        async with create_sessions(engine)() as session:
            return await work(session)

    async def read(self, url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        future = asyncio.run_coroutine_threadsafe(self._read(url, work), self._running_loop())
        return await asyncio.wrap_future(future)  # cancelling it cancels the read

    async def close(self) -> None:
        with self._lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None or thread is None:
            return

        async def dispose() -> None:
            engines = list(self._engines.values())
            self._engines.clear()
            for engine in engines:
                await engine.dispose()

        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(dispose(), loop))
        loop.call_soon_threadsafe(loop.stop)
        await asyncio.to_thread(thread.join)
        loop.close()


_READER = _Reader()


async def in_reader_thread(sessions: Sessions, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """`work(session)` on the long-lived reader thread (see the module's docstring); on the
    caller's loop, in a session of its own, for an in-memory SQLite database."""
    url = _own_url(sessions)
    if url is None:
        async with sessions() as session:
            return await work(session)
    return await _READER.read(url, work)


async def close_reader() -> None:
    """Close the reader thread's connections and end it (a later read starts it again)."""
    await _READER.close()


class WorkerFailed(Exception):
    """The worker process gave no answer: it died (killed, say for its memory) or outlasted its
    time limit."""


class WorkerTimedOut(WorkerFailed):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"the worker process outlasted {seconds} s")
        self.seconds = seconds


def serve() -> None:
    """The worker process's main: the work from stdin (`run_in_process`'s pickle), what came of
    it to stdout, anything the work prints to stderr."""
    path, work = pickle.loads(sys.stdin.buffer.read())
    sys.path[:] = path  # the parent's: the work's module is imported from where it was there
    answer, sys.stdout = sys.stdout.buffer, sys.stderr
    try:
        function, args = pickle.loads(work)
        outcome: tuple[str, Any] = ("done", function(*args))
    except Exception as error:  # a bug: told to the parent, which raises it there
        outcome = ("failed", f"{type(error).__name__}: {error}")
    answer.write(pickle.dumps(outcome))
    answer.flush()


#: How the worker process is started: a new interpreter running `serve`.
_WORKER = (sys.executable, "-c", "from storage.offloop import serve; serve()")


def _payload(function: Callable[..., Any], args: tuple[Any, ...]) -> bytes:
    return pickle.dumps((sys.path, pickle.dumps((function, args))))


def _outcome(returncode: int | None, answer: bytes) -> Any:
    if returncode != 0 or not answer:
        raise WorkerFailed(f"the worker process died (exit code {returncode})")
    kind, value = pickle.loads(answer)
    if kind == "failed":
        raise RuntimeError(f"the work in a worker process failed: {value}")
    return value


async def run_in_process(function: Callable[..., T], *args: Any, seconds: float) -> T:
    """`function(*args)` in a fresh worker process (a new interpreter: nothing of the bot's
    threads or event loop is copied, and nothing stays running once it answered), stopped after
    `seconds`: `WorkerTimedOut` then, `WorkerFailed` when the worker died without an answer,
    `RuntimeError` when `function` raised (its type and message). `function` must be
    importable by its name (a module's top-level function), and its arguments and result
    picklable: the worker imports it afresh."""
    worker = await asyncio.create_subprocess_exec(
        *_WORKER, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    try:
        answer, _ = await asyncio.wait_for(worker.communicate(_payload(function, args)), seconds)
    except TimeoutError as exc:
        raise WorkerTimedOut(seconds) from exc
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
    result: T = _outcome(worker.returncode, answer)
    return result


def run_in_process_sync(function: Callable[..., T], *args: Any, seconds: float) -> T:
    """`run_in_process` for a caller that may block (a worker thread)."""
    try:
        done = subprocess.run(
            _WORKER, input=_payload(function, args), stdout=subprocess.PIPE, timeout=seconds
        )
    except subprocess.TimeoutExpired as exc:  # the worker was killed
        raise WorkerTimedOut(seconds) from exc
    result: T = _outcome(done.returncode, done.stdout)
    return result


def _with_own_session(url: str, work: Callable[..., Awaitable[T]], args: tuple[Any, ...]) -> T:
    """In the worker: `work(session, *args)` on an engine of its own."""

    async def run() -> T:
        engine = create_engine(url, poolclass=NullPool)
        try:
            async with create_sessions(engine)() as session:
                return await work(session, *args)
        finally:
            await engine.dispose()

    return asyncio.run(run())


async def in_own_process(
    sessions: Sessions, work: Callable[..., Awaitable[T]], *args: Any, seconds: float
) -> T:
    """`work(session, *args)` in a worker process on a connection of its own (see the
    module's docstring; `work` and `args` as `run_in_process` wants them); on the caller's
    loop, in a session of its own, when the database cannot be reached from another
    connection (in-memory SQLite)."""
    url = _own_url(sessions)
    if url is None:
        async with sessions() as session:
            return await work(session, *args)
    return await run_in_process(_with_own_session, url, work, args, seconds=seconds)
