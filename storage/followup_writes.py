"""How a follow-up's rows are written: a comment or status changes, the action they change, and
who is told of them — in one statement on PostgreSQL.

Comments and status changes are written with plain INSERT statements (ON CONFLICT for a
comment's source key) rather than through the session's unit of work, and the action with a
plain UPDATE (`_TOUCH`): measured, the unit of work added a millisecond to every comment and an
ORM UPDATE 0.2-0.4 ms, against the benchmark's 5 ms target for a chat step.

On PostgreSQL, where each statement is a network round trip (about 0.26 ms through the
session), the INSERT, that UPDATE (both as data-modifying CTEs) and the read of who is notified
(`RECIPIENTS`) are one statement (`_in_one`) where there were three. SQLite has no INSERT or
UPDATE inside a WITH, and its statements are calls within the process: they run one by one.
Either way the session's copy of the action, which the card shown next is drawn from, is then
given the stored values with `set_committed_value`, as if read back.

Statements are built once per dialect and kept: SQLAlchemy caches their compiled form, except
for a multi-row INSERT ... VALUES, hence the status changes' INSERT ... SELECT.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, exists, func, insert, null, select, true, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from storage.chats import KNOWN_NOTICE_CHATS
from storage.db import dialect_of, insert_for, per_dialect
from storage.models import (
    Comment,
    KeyAction,
    NotifyMode,
    Person,
    Role,
    StatusChange,
    table_of,
)

#: Registered secretariat members and coordinators who asked for notices, in the columns of
#: `KNOWN_NOTICE_CHATS` and a last one of their own (their notify mode, NULL for the chats).
_NOTIFIED_PEOPLE = select(Person.telegram_id, null(), null(), null(), Person.notify_mode).where(
    Person.active.is_(True),
    Person.role.in_([Role.SECRETARIAT, Role.COORDINATOR, Role.ADMIN]),
    Person.notify_mode.in_([NotifyMode.IMMEDIATE, NotifyMode.DIGEST]),
    Person.telegram_id.is_not(None),
)

#: Everyone a change may be notified to: the chats and the people, in one read (UNION ALL);
#: bound with the settings' chat ids as `setting_ids`.
RECIPIENTS = union_all(KNOWN_NOTICE_CHATS.add_columns(null()), _NOTIFIED_PEOPLE)


#: The action's columns a follow-up changes. `_TOUCH` sets those given a value and keeps the
#: others (COALESCE with NULL), so that one statement serves a comment, a status change and a
#: review; bound as `set_<column>`, beside the action's id as `action_id`.
_TOUCHED_COLUMNS = ("status", "review_status", "last_update_at")


def _touch() -> Any:
    table = table_of(KeyAction)
    return (
        update(table)
        .where(table.c.id == bindparam("action_id"))
        .values(
            {
                name: func.coalesce(
                    bindparam(f"set_{name}", type_=table.c[name].type), table.c[name]
                )
                for name in _TOUCHED_COLUMNS
            }
        )
    )


_TOUCH = _touch()


def _touch_params(action: KeyAction, values: dict[str, Any]) -> dict[str, Any]:
    unknown = values.keys() - set(_TOUCHED_COLUMNS)
    assert not unknown, unknown
    return {"action_id": action.id} | {f"set_{name}": values.get(name) for name in _TOUCHED_COLUMNS}


@dataclass(frozen=True, slots=True)
class _Write:
    """An INSERT ... RETURNING of a follow-up's rows as run on one dialect: `plain`, then
    `_TOUCH` when the action changes; on PostgreSQL, when the recipients are wanted, one
    statement instead (`_in_one`: `alone`, or `touching` when the action changes), the first
    `width` columns of whose rows are the INSERT's."""

    plain: Any
    alone: Any | None
    touching: Any | None
    width: int


def _write(dialect: str, insert_returning: Any) -> _Write:
    width = len(insert_returning.exported_columns)
    if dialect != "postgresql":
        return _Write(insert_returning, None, None, width)
    return _Write(
        insert_returning,
        _in_one(insert_returning, touching=False),
        _in_one(insert_returning, touching=True),
        width,
    )


def _in_one(insert_returning: Any, *, touching: bool) -> Any:
    """PostgreSQL: the INSERT as a CTE and, `touching`, `_TOUCH` as another, run only when the
    INSERT stored a row; selects each row the INSERT returned beside each of `RECIPIENTS`'
    (NULLs when there are none)."""
    new = insert_returning.cte("new")
    recipients = RECIPIENTS.subquery("recipients")
    query = select(*new.c, *recipients.c).select_from(new.outerjoin(recipients, true()))
    if touching:
        query = query.add_cte(_TOUCH.where(exists(new.select())).cte("touched"))
    return query


@dataclass(frozen=True, slots=True)
class Written:
    rows: list[tuple[Any, ...]]  # what the INSERT returned (none: nothing stored)
    recipients: list[tuple[Any, ...]] | None  # `RECIPIENTS`' rows, if read with it


async def _run(
    session: AsyncSession,
    write: _Write,
    params: dict[str, Any],
    action: KeyAction,
    touch: dict[str, Any],
    notify_chat_ids: Sequence[int] | None,
) -> Written:
    """Run `write` and, when it stored something, update the action with `touch`; read the
    recipients with it where one statement can (`notify_chat_ids` None: no notice follows)."""
    if write.alone is None or write.touching is None or notify_chat_ids is None:
        rows = [tuple(row) for row in (await session.execute(write.plain, params)).all()]
        if rows and touch:
            await session.execute(_TOUCH, _touch_params(action, touch))
        written = Written(rows, None)
    else:
        params = params | {"setting_ids": list(notify_chat_ids)}
        if touch:
            params |= _touch_params(action, touch)
        statement = write.touching if touch else write.alone
        both = (await session.execute(statement, params)).all()
        width = write.width
        written = Written(
            list(dict.fromkeys(tuple(row[:width]) for row in both)),
            list(dict.fromkeys(tuple(row[width:]) for row in both if row[width] is not None)),
        )
    if written.rows:
        for name, value in touch.items():
            set_committed_value(action, name, value)
    return written


_COMMENT_COLUMNS = (
    "action_id",
    "author_id",
    "kind",
    "text",
    "source_key",
    "created_at",
    "answers_id",
)


def _comment_insert(dialect: str) -> _Write:
    table = table_of(Comment)
    stored = (
        insert_for(dialect)(table)
        .values(
            {
                name: bindparam(f"comment_{name}", type_=table.c[name].type)
                for name in _COMMENT_COLUMNS
            }
        )
        .on_conflict_do_nothing(index_elements=["source_key"])
        .returning(table.c.id)
    )
    return _write(dialect, stored)


#: INSERT ... ON CONFLICT (source_key) DO NOTHING RETURNING id, for each dialect. Its values
#: are bound as `comment_<column>`: an UPDATE would take a parameter named after one of its
#: table's columns (`text`, `created_at`) as a value to set.
_INSERT_COMMENT = per_dialect(_comment_insert)


async def insert_comment(
    session: AsyncSession,
    action: KeyAction,
    values: dict[str, Any],
    *,
    touch: dict[str, Any],
    notify_chat_ids: Sequence[int] | None,
) -> Written:
    """A comment on `action` (`values`: its columns), the action updated with `touch`; no
    row when a comment with its source key exists already (the action left alone)."""
    params = {f"comment_{name}": values[name] for name in _COMMENT_COLUMNS}
    write = _INSERT_COMMENT[dialect_of(session)]
    return await _run(session, write, params, action, touch, notify_chat_ids)


_CHANGE_COLUMNS = ("author_id", "field", "old_value", "new_value", "comment_id", "created_at")


def _changes_insert(rows: int) -> Any:
    """INSERT of `rows` status changes of one action (`action_id`; the others' values bound as
    `<column>_<row>`), returning their ids and fields. An INSERT ... SELECT: SQLAlchemy caches
    its compiled form, which it does not for a multi-row VALUES (compiled anew each time)."""
    table = table_of(StatusChange)

    def row(number: int) -> Any:
        return select(
            bindparam("action_id", type_=table.c.action_id.type).label("action_id"),
            *(
                bindparam(f"{name}_{number}", type_=table.c[name].type).label(name)
                for name in _CHANGE_COLUMNS
            ),
        )

    source: Any = row(0)
    if rows > 1:
        source = union_all(*(row(number) for number in range(rows)))
    return (
        insert(table)
        .from_select(("action_id", *_CHANGE_COLUMNS), source)
        .returning(table.c.id, table.c.field)
    )


#: By dialect and number of rows: a status change, and one that also sets the review back to
#: pending.
_INSERT_CHANGES = per_dialect(
    lambda dialect: {rows: _write(dialect, _changes_insert(rows)) for rows in (1, 2)}
)


async def insert_changes(
    session: AsyncSession,
    action: KeyAction,
    changes: list[dict[str, Any]],
    *,
    touch: dict[str, Any],
    notify_chat_ids: Sequence[int],
) -> Written:
    """One or two status changes of `action` (each a dict of `_CHANGE_COLUMNS`), the action
    updated with `touch`; rows of (id, field)."""
    params = {"action_id": action.id} | {
        f"{name}_{row}": one[name] for row, one in enumerate(changes) for name in _CHANGE_COLUMNS
    }
    write = _INSERT_CHANGES[dialect_of(session)][len(changes)]
    return await _run(session, write, params, action, touch, notify_chat_ids)
