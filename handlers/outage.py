"""When the database cannot be reached: people are still answered, the log stays readable.

`is_outage(error)` tells a database that cannot be reached (connection refused, server shut
down, pool exhausted, file that cannot be opened) from a bug. `Outage` is the one piece of state:
whether the database is down right now, so the log gets one warning when an outage starts and
one line when the database answers again, instead of a traceback per update or per job run.

The answer people get needs no database: its language comes from Telegram's `language_code`.
An update that could not be processed was not recorded as processed (that happens in the
step's own transaction, which failed), so a redelivery processes it; the answer asks the person
to send it again."""

from __future__ import annotations

import functools
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import exc as sa_exc
from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError

from handlers.i18n import N_, Tr
from handlers.replies import Reply, View

log = logging.getLogger(__name__)

OUTAGE_TEXT = N_(
    "The service is not available right now; nothing was lost. Please try again in a minute."
)

#: SQLite errors that are bugs (a statement that can never succeed), not an unreachable file.
_SQLITE_BUGS = ("no such table", "no such column", "syntax error", "constraint failed")


def _asyncpg_connection_errors() -> tuple[type[BaseException], ...]:
    try:
        from asyncpg import exceptions  # type: ignore[import-untyped]
    except ImportError:  # SQLite-only installations
        return ()
    return (
        exceptions.PostgresConnectionError,
        exceptions.InterfaceError,
        exceptions.CannotConnectNowError,
        exceptions.OperatorInterventionError,  # the server is shutting down
        exceptions.ConnectionDoesNotExistError,
    )


_ASYNCPG_ERRORS = _asyncpg_connection_errors()


def _chain(error: BaseException) -> list[BaseException]:
    """The error, what caused it, and the driver's own error SQLAlchemy wraps."""
    seen: list[BaseException] = []
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or any(current is known for known in seen) or len(seen) > 20:
            continue
        seen.append(current)
        orig = getattr(current, "orig", None)
        pending += [current.__cause__, current.__context__]
        if isinstance(orig, BaseException):
            pending.append(orig)
    return seen


def is_outage(error: BaseException) -> bool:
    """Whether `error` says the database cannot be reached (rather than a bug or Telegram)."""
    if isinstance(error, TelegramError):
        return False  # Telegram's network errors are Telegram's, handled elsewhere
    for link in _chain(error):
        if isinstance(link, TelegramError):
            return False
        if isinstance(link, sa_exc.DBAPIError) and link.connection_invalidated:
            return True
        if isinstance(link, sa_exc.TimeoutError):  # no connection free in the pool
            return True
        if isinstance(link, sqlite3.OperationalError):
            return not any(bug in str(link).lower() for bug in _SQLITE_BUGS)
        wrapped = isinstance(link, sa_exc.OperationalError | sa_exc.InterfaceError)
        if wrapped and not isinstance(getattr(link, "orig", None), sqlite3.Error):
            return True
        if _ASYNCPG_ERRORS and isinstance(link, _ASYNCPG_ERRORS):
            return True
        if isinstance(link, OSError) and _raised_by_database(link):
            return True
    return False


#: Where the code that talks to the database lives (drivers, SQLAlchemy, our SQLite driver).
_DATABASE_CODE = ("/sqlalchemy/", "/asyncpg/", "/aiosqlite/", "/storage/sqlite_driver.py")


def _raised_by_database(error: BaseException) -> bool:
    """Whether `error` came out of the database's code: a refused connection is an outage, a
    file our own code could not write (also an `OSError`) is not."""
    trace = error.__traceback__
    while trace is not None:
        path = trace.tb_frame.f_code.co_filename.replace("\\", "/")
        if any(part in path for part in _DATABASE_CODE):
            return True
        trace = trace.tb_next
    return False


class Outage:
    """Whether the database is down, as seen by this process (updates and jobs alike)."""

    def __init__(self) -> None:
        self.down = False

    def failed(self, error: BaseException, where: str) -> None:
        """The database could not be reached: logged when it is the first time in a row."""
        if not self.down:
            self.down = True
            log.warning("database outage: the database cannot be reached (%s: %s)", where, error)

    def answered(self) -> None:
        """The database answered: logged when it was down until now."""
        if self.down:
            self.down = False
            log.info("database back: it answers again, the outage is over")


def outage_of(bot_data: dict[Any, Any]) -> Outage:
    """The application's one `Outage` (kept in `bot_data`, shared by updates and jobs)."""
    outage: Outage = bot_data.setdefault("outage", Outage())
    return outage


def outage_reply(update: Update, tr: Tr) -> Reply | None:
    """What someone whose update could not be processed gets: on a button, an alert; in a
    private chat, or for a command in a group, a message; nothing for a group's chatter."""
    text = tr._(OUTAGE_TEXT)
    if update.callback_query is not None:
        return Reply(notice=text, alert=True)
    chat, message = update.effective_chat, update.effective_message
    if chat is None or message is None:
        return None
    command = (message.text or "").startswith("/")
    if chat.type != ChatType.PRIVATE and not command:
        return None
    return Reply([View(text)], edit=False)


Job = TypeVar("Job", bound=Callable[..., Awaitable[None]])


def guarded(job: Job) -> Job:
    """A JobQueue callback that, when the database cannot be reached, notes the outage (one
    log line) and waits for its next run instead of logging a traceback each time."""

    @functools.wraps(job)
    async def run(context: Any) -> None:
        outage = outage_of(context.bot_data)
        try:
            await job(context)
        except Exception as error:
            if not is_outage(error):
                raise
            outage.failed(error, job.__name__)
            return
        outage.answered()

    return run  # type: ignore[return-value]
