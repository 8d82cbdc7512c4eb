"""The key actions as they stood at a past moment, rebuilt from the append-only history.

Statuses and review statuses are stored on the action (the current value) and every change is
recorded in `status_changes` (who, when, from, to), so the value at a moment is the `to` of the
last change up to it, else the `from` of the first change after it (the value the action had
before anybody changed it), else the current value (never changed). Actions created after the
moment did not exist yet. `last_update_at` (what "stale" is counted from) is the last follow-up
comment or status change up to the moment. Deadlines, texts and units are not historised: they
are today's.

`actions_at(moment)` is an ORM alias of `KeyAction` over that rebuilt table, so a query written
against it reads the past with the same SQL that reads the present (`actions_at(None)` is
`KeyAction` itself). Select its columns, not the entity: its rows would otherwise enter the
session's identity map as if they were the current actions.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import aliased
from sqlalchemy.orm.util import AliasedClass

from storage.models import Comment, CommentKind, KeyAction, StatusChange, table_of

#: The current actions (`KeyAction`) or an alias of them as they stood at a moment.
Actions = type[KeyAction] | AliasedClass[KeyAction]


def value_at(field: str, moment: dt.datetime) -> ColumnElement[Any]:
    """The action's `field` ("status" or "review_status") at `moment`, correlated to
    `KeyAction`."""
    last_before = (
        select(StatusChange.new_value)
        .where(
            StatusChange.action_id == KeyAction.id,
            StatusChange.field == field,
            StatusChange.created_at <= moment,
        )
        .order_by(StatusChange.created_at.desc(), StatusChange.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    first_after = (
        select(StatusChange.old_value)
        .where(
            StatusChange.action_id == KeyAction.id,
            StatusChange.field == field,
            StatusChange.created_at > moment,
        )
        .order_by(StatusChange.created_at, StatusChange.id)
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(last_before, first_after, getattr(KeyAction, field))


def last_update_at(moment: dt.datetime) -> ColumnElement[Any]:
    """The last follow-up comment or status change up to `moment` (None when none), as
    `KeyAction.last_update_at` records them."""
    comment = (
        select(func.max(Comment.created_at))
        .where(
            Comment.action_id == KeyAction.id,
            Comment.kind == CommentKind.FOLLOW_UP.value,
            Comment.created_at <= moment,
        )
        .scalar_subquery()
    )
    change = (
        select(func.max(StatusChange.created_at))
        .where(
            StatusChange.action_id == KeyAction.id,
            StatusChange.field == "status",
            StatusChange.created_at <= moment,
        )
        .scalar_subquery()
    )
    return case(
        (comment.is_(None), change),
        (change.is_(None), comment),
        (comment > change, comment),
        else_=change,
    )


def actions_at(moment: dt.datetime | None) -> Actions:
    """`KeyAction` (None: now) or the actions as they stood at `moment`, to query like it."""
    if moment is None:
        return KeyAction
    rebuilt = {
        "status": value_at("status", moment),
        "review_status": value_at("review_status", moment),
        "last_update_at": last_update_at(moment),
    }
    columns = [
        rebuilt[column.name].label(column.name) if column.name in rebuilt else column
        for column in table_of(KeyAction).columns
    ]
    table = select(*columns).where(KeyAction.created_at <= moment).subquery("key_actions_as_of")
    return aliased(KeyAction, table, adapt_on_names=True)
