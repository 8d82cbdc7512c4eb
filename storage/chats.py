"""Chats the bot delivers to: groups linked from inside, chats Telegram says are unreachable,
and groups that moved to a new id.

* Notification chats are the `SECRETARIAT_CHAT_IDS` setting's ids (each followed to the id its
  group moved to, if it moved) plus the groups linked with `/vincular secretariado` that are
  reachable.
* A chat Telegram says is gone (the bot was kicked or blocked, the chat does not exist) is
  marked unreachable at once and its waiting rows are *parked*: kept, counted as pending, not
  attempted (`available_at = PARKED_AT`, a date no clock reaches but earlier than
  `outbox.GIVEN_UP_AT`). A parked row also holds back every later row of its chat, as any row
  waiting for a retry does. The administrators are told in chat, once per chat. Retrying the
  chat (the bot added again, the person writing again, an administrator asking) releases them.
* A group upgraded to a supergroup has a new id: the move is stored (`moved_to`), so that ids
  from the settings are followed to the new one on every later run, and every pending row and
  the link move to the new id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import KnownChat, OutboxMessage, Person, Role, utcnow
from storage.outbox import GIVEN_UP_AT

SECRETARIAT = "secretariat"
#: `available_at` of a parked row: later than any real time, earlier than a given-up row's.
PARKED_AT = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)
#: The outbox kind of the notice telling administrators that a chat is unreachable.
CHAT_UNREACHABLE_KIND = "chat_unreachable"
#: How many moves in a row are followed (a supergroup does not move again; a loop must end).
MOVES_FOLLOWED = 5


def _parked() -> ColumnElement[bool]:
    return and_(OutboxMessage.available_at >= PARKED_AT, OutboxMessage.available_at < GIVEN_UP_AT)


# --------------------------------------------------------------------------------------------
# Linked groups


async def link_chat(
    session: AsyncSession,
    chat_id: int,
    *,
    kind: str,
    title: str,
    person: Person | None,
    now: dt.datetime | None = None,
) -> bool:
    """Link a group as a notification chat of `kind`. Returns False if it was linked already
    (its title is refreshed). Linking also makes the chat reachable again."""
    now = now or utcnow()
    chat = await session.get(KnownChat, chat_id)
    if chat is None:
        chat = KnownChat(chat_id=chat_id, title="")
        session.add(chat)
    was_linked = chat.kind == kind
    chat.title = title[:300]
    if not was_linked:
        chat.kind = kind
        chat.linked_by_id = person.id if person is not None else None
        chat.linked_at = now
        chat.moved_to = None
    await session.flush()
    await retry_chat(session, chat_id, now=now)
    return not was_linked


async def unlink_chat(session: AsyncSession, chat_id: int) -> bool:
    """Stop notifying a linked group. Returns False if it was not linked."""
    chat = await session.get(KnownChat, chat_id)
    if chat is None or chat.kind is None:
        return False
    chat.kind = None
    chat.linked_by_id = None
    chat.linked_at = None
    await session.flush()
    return True


async def linked_chats(session: AsyncSession) -> list[KnownChat]:
    return list(
        (
            await session.scalars(
                select(KnownChat).where(KnownChat.kind.is_not(None)).order_by(KnownChat.chat_id)
            )
        ).all()
    )


def _follow(chat_id: int, moves: dict[int, int]) -> int:
    for _ in range(MOVES_FOLLOWED):
        if chat_id not in moves:
            break
        chat_id = moves[chat_id]
    return chat_id


NoticeChatRow = tuple[int, str | None, dt.datetime | None, int | None]


#: The known chats that decide where notices go: linked groups, groups that moved, and the
#: setting's ids (parameter `setting_ids`): chat id, link kind, unreachable since, moved to.
KNOWN_NOTICE_CHATS = select(
    KnownChat.chat_id, KnownChat.kind, KnownChat.unreachable_since, KnownChat.moved_to
).where(
    or_(
        KnownChat.kind.is_not(None),
        KnownChat.moved_to.is_not(None),
        KnownChat.chat_id.in_(bindparam("setting_ids", expanding=True)),
    )
)


def notice_chats_among(rows: Iterable[NoticeChatRow], setting_ids: list[int]) -> list[int]:
    """The notification chats, from `KNOWN_NOTICE_CHATS`' rows: the setting's ids (followed to
    where their group moved) and the reachable linked groups."""
    moves: dict[int, int] = {}
    linked: list[int] = []
    for chat_id, kind, unreachable_since, moved_to in rows:
        if moved_to is not None:
            moves[chat_id] = moved_to
        elif kind is not None and unreachable_since is None:
            linked.append(chat_id)
    chats = dict.fromkeys(_follow(chat_id, moves) for chat_id in setting_ids)
    chats.update(dict.fromkeys(linked))
    return list(chats)


async def notice_chat_ids(session: AsyncSession, setting_ids: Iterable[int]) -> list[int]:
    """The notification chats (see the module's docstring), in one query."""
    setting_ids = list(setting_ids)
    rows = await session.execute(KNOWN_NOTICE_CHATS, {"setting_ids": setting_ids})
    return notice_chats_among(rows.all(), setting_ids)


# --------------------------------------------------------------------------------------------
# Unreachable chats


@dataclass(frozen=True, slots=True)
class ChatGone:
    """A chat just marked unreachable: what the administrators are told."""

    chat_id: int
    label: str
    since: dt.datetime
    waiting: int
    admins_told: int


async def chat_label(session: AsyncSession, chat_id: int) -> str:
    """A group's title, or the name of the person whose private chat it is ("" if unknown)."""
    title = await session.scalar(select(KnownChat.title).where(KnownChat.chat_id == chat_id))
    if title:
        return str(title)
    name = await session.scalar(select(Person.name).where(Person.telegram_id == chat_id))
    return str(name or "")


async def waiting_count(session: AsyncSession, chat_id: int) -> int:
    """Rows of a chat still to deliver (parked or not; given-up rows excluded)."""
    return int(
        await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.chat_id == chat_id,
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.available_at < GIVEN_UP_AT,
            )
        )
        or 0
    )


async def park_rows(session: AsyncSession, chat_id: int, reason: str = "") -> int:
    """Keep the chat's waiting rows without attempting them (digest rows are left to the daily
    fold, whose row then waits behind the parked ones). Returns how many."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.chat_id == chat_id,
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.digest.is_(False),
            OutboxMessage.available_at < PARKED_AT,
        )
        .values(available_at=PARKED_AT, claimed_until=None, last_error=("parked: " + reason)[:1000])
        .returning(OutboxMessage.id)
    )
    return len(result.all())


async def mark_unreachable(
    session: AsyncSession, chat_id: int, reason: str, *, now: dt.datetime | None = None
) -> ChatGone | None:
    """Telegram says the chat is gone: park its rows and, the first time, tell every active
    administrator (but the one whose chat it is) in chat. Returns what they were told, or None
    when the chat was already marked (its rows are parked again all the same)."""
    now = now or utcnow()
    chat = await session.get(KnownChat, chat_id)
    if chat is None:
        chat = KnownChat(chat_id=chat_id, title="")
        session.add(chat)
    first = chat.unreachable_since is None
    if first:
        chat.unreachable_since = now
    chat.reason = reason[:1000]
    await session.flush()
    await park_rows(session, chat_id, reason)
    if not first:
        return None
    label = await chat_label(session, chat_id)
    waiting = await waiting_count(session, chat_id)
    admins = (
        await session.scalars(
            select(Person.telegram_id).where(
                Person.role == Role.ADMIN.value,
                Person.active.is_(True),
                Person.telegram_id.is_not(None),
                Person.telegram_id != chat_id,
            )
        )
    ).all()
    payload = {
        "chat_id": chat_id,
        "label": label,
        "since": now.isoformat(),
        "waiting": waiting,
        "reason": reason[:300],
    }
    for admin in admins:
        if admin is not None:
            session.add(
                OutboxMessage(
                    chat_id=admin,
                    kind=CHAT_UNREACHABLE_KIND,
                    payload=payload,
                    digest=False,
                    created_at=now,
                    available_at=now,
                    attempts=0,
                )
            )
    await session.flush()
    return ChatGone(chat_id, label, now, waiting, len(admins))


async def retry_chat(
    session: AsyncSession, chat_id: int, *, now: dt.datetime | None = None
) -> int | None:
    """The chat may be reachable again: clear its mark and release its parked rows for the next
    delivery pass. Returns how many rows were released, or None when it was not marked (one
    statement then, so it is cheap to call on every message of a private chat)."""
    now = now or utcnow()
    cleared = await session.execute(
        update(KnownChat)
        .where(KnownChat.chat_id == chat_id, KnownChat.unreachable_since.is_not(None))
        .values(unreachable_since=None, reason=None)
        .returning(KnownChat.chat_id)
    )
    if not cleared.all():
        return None
    released = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.chat_id == chat_id, OutboxMessage.sent_at.is_(None), _parked())
        .values(available_at=now, claimed_until=None)
        .returning(OutboxMessage.id)
    )
    return len(released.all())


async def delivers_to(session: AsyncSession, chat_id: int, setting_ids: Iterable[int]) -> bool:
    """Whether the bot delivers anything to the chat: a notification chat (the setting's, a
    linked group) or a registered person's private chat."""
    if chat_id in await notice_chat_ids(session, setting_ids):
        return True
    person = await session.scalar(select(Person.id).where(Person.telegram_id == chat_id))
    return person is not None


async def unreachable_chats(session: AsyncSession) -> list[KnownChat]:
    return list(
        (
            await session.scalars(
                select(KnownChat)
                .where(KnownChat.unreachable_since.is_not(None))
                .order_by(KnownChat.unreachable_since)
            )
        ).all()
    )


# --------------------------------------------------------------------------------------------
# Moved chats


async def adopt_move(session: AsyncSession, old_id: int, new_id: int) -> bool:
    """A group moved to `new_id` (upgraded to a supergroup): remember it, move its link and
    every pending row to the new id. Returns False if the move was known already (rows that
    still had the old id are moved all the same)."""
    old = await session.get(KnownChat, old_id)
    if old is None:
        old = KnownChat(chat_id=old_id, title="")
        session.add(old)
    known = old.moved_to == new_id
    new = await session.get(KnownChat, new_id)
    if new is None:
        new = KnownChat(chat_id=new_id, title=old.title)
        session.add(new)
    if old.kind is not None and new.kind is None:
        new.kind, new.linked_by_id, new.linked_at = old.kind, old.linked_by_id, old.linked_at
        new.title = new.title or old.title
    old.kind, old.linked_by_id, old.linked_at = None, None, None
    old.moved_to = new_id
    old.unreachable_since, old.reason = None, None
    await session.flush()
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.chat_id == old_id, OutboxMessage.sent_at.is_(None))
        .values(chat_id=new_id)
    )
    return not known
