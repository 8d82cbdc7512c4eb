"""What every flow shares: its dependencies, the person behind an update, texts that fit.

Handlers reach storage through `Deps` (put in `bot_data` by the composition root), so handlers
never build engines or read settings themselves.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import re
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update, User
from telegram.constants import MessageLimit
from telegram.ext import ApplicationHandlerStop, ContextTypes

from handlers.i18n import Tr, pick_locale
from storage.clock import today_in
from storage.conversations import claim_update
from storage.db import Sessions, transaction
from storage.models import Person, utcnow
from storage.people import get_person

MESSAGE_LIMIT = MessageLimit.MAX_TEXT_LENGTH  # 4096
CAPTION_LIMIT = MessageLimit.CAPTION_LENGTH  # 1024
CALLBACK_DATA_LIMIT = 64  # bytes
_UNCLAIMED = "unclaimed_update_id"

log = logging.getLogger(__name__)


@dataclass
class Deps:
    """The flows' dependencies, built once by the composition root."""

    sessions: Sessions
    default_locale: str = "es"
    timezone: str = "America/Lima"
    notify_chat_ids: Sequence[int] = ()
    bot_username: str = ""
    reminder_due_days: int = 14
    stale_days: int = 30
    clock: Callable[[], dt.datetime] = field(default=utcnow)

    def now(self) -> dt.datetime:
        return self.clock()

    def today(self) -> dt.date:
        return today_in(self.timezone, self.now())


def get_deps(context: ContextTypes.DEFAULT_TYPE) -> Deps:
    return context.application.bot_data["deps"]


def claim_with_first_step(context: ContextTypes.DEFAULT_TYPE, update_id: int) -> None:
    """Have the update's first transaction record it as processed (see `unit_of_work`)."""
    context.__dict__[_UNCLAIMED] = update_id


@asynccontextmanager
async def unit_of_work(context: ContextTypes.DEFAULT_TYPE) -> AsyncIterator[AsyncSession]:
    """One database transaction for one step of a flow.

    The first one of an update that Telegram might deliver twice also records its id, so the
    update counts as processed exactly when its first step's changes are committed; when the id
    was already recorded (a redelivery), the update stops here and nothing is done twice."""
    async with transaction(get_deps(context).sessions) as session:
        update_id = context.__dict__.pop(_UNCLAIMED, None)
        if update_id is not None and not await claim_update(session, update_id):
            log.info("update %s already processed, ignored", update_id)
            raise ApplicationHandlerStop
        yield session


def tr_for(
    context: ContextTypes.DEFAULT_TYPE, person: Person | None, user: User | None = None
) -> Tr:
    deps = get_deps(context)
    return Tr(
        pick_locale(
            person.language if person else None,
            user.language_code if user else None,
            deps.default_locale,
        ),
        deps.timezone,
    )


async def current_person(session: AsyncSession, update: Update) -> Person | None:
    """The registered, active person who sent the update, or None."""
    user = update.effective_user
    if user is None:
        return None
    return await get_person(session, user.id, active_only=True)


def escape(text: str | None) -> str:
    return html.escape(text or "", quote=False)


def shorten(text: str, limit: int) -> str:
    """Cut plain text (before escaping) at a word boundary, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.") + "…"


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split HTML text into messages within Telegram's limit, only between lines.

    Our templates open and close every tag within a line, so a cut between lines keeps each part
    valid HTML. A single line longer than the limit (only possible with a huge escaped text) is
    cut at the limit after removing its markup.
    """
    if len(text) <= limit:  # markup only adds characters: the visible text fits too
        return [text]
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        length = _visible_length(line)
        added = length + (1 if current else 0)
        if size + added <= limit:
            current.append(line)
            size += added
            continue
        if current:
            parts.append("\n".join(current))
        while length > limit:
            plain = html.unescape(_strip_tags(line))
            parts.append(escape(plain[:limit]))
            line = escape(plain[limit:])
            length = _visible_length(line)
        current, size = [line], length
    if current or not parts:
        parts.append("\n".join(current))
    return parts


_TAG = re.compile(r"<[^>]*>")


def _strip_tags(text: str) -> str:
    return _TAG.sub("", text)


def _visible_length(text: str) -> int:
    """Length as Telegram counts it: after parsing the HTML markup and entities."""
    return len(html.unescape(_strip_tags(text)))


def fits_callback(data: str) -> str:
    if len(data.encode()) > CALLBACK_DATA_LIMIT:
        raise ValueError(f"callback data over {CALLBACK_DATA_LIMIT} bytes: {data!r}")
    return data
