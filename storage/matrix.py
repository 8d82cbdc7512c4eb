"""The plan as a matrix, for the dashboard: one row per key action the person may see, with
its units, latest comment and evidence count, filtered and sorted.

Visibility is `storage.actions.visible_to` (the chat's own rule: focal points see their units'
actions); overdue is `overdue_clause`. Filters run in SQL; the rows of one plan
(at most a few thousand) are sorted here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.actions import overdue_clause, visible_to
from storage.models import (
    Attachment,
    Comment,
    KeyAction,
    Person,
    Recommendation,
    Unit,
    action_ref,
    action_units,
)


class MatrixSort(StrEnum):
    REF = "ref"  # the plan's order: block, then number
    DEADLINE = "deadline"
    STATUS = "status"
    REVIEW = "review"
    CHANGED = "changed"  # last follow-up change
    EVIDENCE = "evidence"


@dataclass(frozen=True, slots=True)
class LatestComment:
    kind: str
    author: str
    text: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class MatrixRow:
    id: int
    plan_id: int
    block: str
    block_position: int
    number: int
    text: str
    deadline_text: str
    deadline_kind: str
    deadline_start: dt.date | None
    deadline_due: dt.date | None
    status: str
    review_status: str
    overdue: bool
    last_update_at: dt.datetime | None
    evidence: int
    latest_comment: LatestComment | None
    units: list[str] = field(default_factory=list)

    @property
    def ref(self) -> str:
        return action_ref(self.block, self.number)


@dataclass(frozen=True, slots=True)
class MatrixFilters:
    """Empty means "any"."""

    statuses: Sequence[str] = ()
    review_statuses: Sequence[str] = ()
    unit_id: int | None = None
    block: str | None = None
    overdue: bool = False
    changed_since: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class MatrixChoices:
    """What the filters offer: the blocks and units of the actions the person sees."""

    blocks: list[str]
    units: list[tuple[int, str]]


_LATEST_COMMENT_ID = (
    select(Comment.id)
    .where(Comment.action_id == KeyAction.id)
    .order_by(Comment.created_at.desc(), Comment.id.desc())
    .limit(1)
    .correlate(KeyAction)
    .scalar_subquery()
)
_EVIDENCE_COUNT = (
    select(func.count(Attachment.id))
    .join(Comment, Comment.id == Attachment.comment_id)
    .where(Comment.action_id == KeyAction.id)
    .correlate(KeyAction)
    .scalar_subquery()
)


def _where(
    person: Person, plan_id: int, filters: MatrixFilters, today: dt.date
) -> list[ColumnElement[bool]]:
    conditions = [visible_to(person), KeyAction.plan_id == plan_id]
    if filters.statuses:
        conditions.append(KeyAction.status.in_(list(filters.statuses)))
    if filters.review_statuses:
        conditions.append(KeyAction.review_status.in_(list(filters.review_statuses)))
    if filters.unit_id is not None:
        conditions.append(
            KeyAction.id.in_(
                select(action_units.c.action_id).where(action_units.c.unit_id == filters.unit_id)
            )
        )
    if filters.block:
        conditions.append(Recommendation.label == filters.block)
    if filters.overdue:
        conditions.append(overdue_clause(today))
    if filters.changed_since is not None:
        conditions.append(KeyAction.last_update_at >= filters.changed_since)
    return conditions


async def action_matrix(
    session: AsyncSession,
    person: Person,
    plan_id: int,
    *,
    today: dt.date,
    filters: MatrixFilters | None = None,
    sort: MatrixSort = MatrixSort.REF,
    descending: bool = False,
) -> list[MatrixRow]:
    """The rows of one plan the person may see, filtered and sorted (ties in the plan's order)."""
    filters = filters or MatrixFilters()
    where = _where(person, plan_id, filters, today)
    author = select(Person.name).where(Person.id == Comment.author_id).scalar_subquery()
    query = (
        select(  # plain columns: no ORM objects for a plan of thousands of actions
            KeyAction.id,
            KeyAction.plan_id,
            Recommendation.label,
            KeyAction.position,
            KeyAction.number,
            KeyAction.text,
            KeyAction.deadline_text,
            KeyAction.deadline_kind,
            KeyAction.deadline_start,
            KeyAction.deadline_due,
            KeyAction.status,
            KeyAction.review_status,
            overdue_clause(today).label("overdue"),
            KeyAction.last_update_at,
            _EVIDENCE_COUNT.label("evidence"),
            Comment.kind,
            Comment.text.label("comment_text"),
            Comment.created_at,
            author.label("author"),
        )
        .join(Recommendation, Recommendation.id == KeyAction.recommendation_id)
        .outerjoin(Comment, Comment.id == _LATEST_COMMENT_ID)
        .where(*where)
        .order_by(KeyAction.position, KeyAction.number)
    )
    found = (await session.execute(query)).all()
    units = await _unit_names(session, where) if found else {}
    rows = [
        MatrixRow(
            id=row.id,
            plan_id=row.plan_id,
            block=row.label,
            block_position=row.position,
            number=row.number,
            text=row.text,
            deadline_text=row.deadline_text,
            deadline_kind=row.deadline_kind,
            deadline_start=row.deadline_start,
            deadline_due=row.deadline_due,
            status=row.status,
            review_status=row.review_status,
            overdue=bool(row.overdue),
            last_update_at=row.last_update_at,
            evidence=int(row.evidence or 0),
            latest_comment=(
                LatestComment(row.kind, row.author or "", row.comment_text, row.created_at)
                if row.created_at is not None
                else None
            ),
            units=units.get(row.id, []),
        )
        for row in found
    ]
    return sort_rows(rows, sort, descending=descending)


_NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)
_SORT_KEYS: dict[MatrixSort, Callable[[MatrixRow], Any]] = {
    MatrixSort.REF: lambda r: 0,
    MatrixSort.DEADLINE: lambda r: (r.deadline_due is None, r.deadline_due or dt.date.max),
    MatrixSort.STATUS: lambda r: (not r.overdue, r.status),
    MatrixSort.REVIEW: lambda r: r.review_status,
    MatrixSort.CHANGED: lambda r: r.last_update_at or _NEVER,
    MatrixSort.EVIDENCE: lambda r: r.evidence,
}


def sort_rows(rows: list[MatrixRow], sort: MatrixSort, *, descending: bool) -> list[MatrixRow]:
    """Rows in the plan's order, then (stable) by the chosen key."""
    rows = sorted(rows, key=lambda r: (r.block_position, r.number), reverse=descending)
    if sort is MatrixSort.REF:
        return rows
    return sorted(rows, key=_SORT_KEYS[sort], reverse=descending)


async def matrix_choices(session: AsyncSession, person: Person, plan_id: int) -> MatrixChoices:
    """The blocks (in the plan's order) and units (by name) of the actions the person sees."""
    where = [visible_to(person), KeyAction.plan_id == plan_id]
    blocks = await session.execute(
        select(Recommendation.label, Recommendation.position)
        .join(KeyAction, KeyAction.recommendation_id == Recommendation.id)
        .where(*where)
        .distinct()
        .order_by(Recommendation.position)
    )
    units = await session.execute(
        select(Unit.id, Unit.name)
        .join(action_units, action_units.c.unit_id == Unit.id)
        .join(KeyAction, KeyAction.id == action_units.c.action_id)
        .where(*where)
        .distinct()
        .order_by(Unit.name)
    )
    return MatrixChoices(
        blocks=[str(label) for label, _position in blocks.all()],
        units=[(int(i), str(n)) for i, n in units.all()],
    )


async def _unit_names(
    session: AsyncSession, where: Sequence[ColumnElement[bool]]
) -> dict[int, list[str]]:
    """The unit names of the actions the matrix lists (the same conditions: no list of ids)."""
    rows = await session.execute(
        select(action_units.c.action_id, Unit.name)
        .join(Unit, Unit.id == action_units.c.unit_id)
        .join(KeyAction, KeyAction.id == action_units.c.action_id)
        .join(Recommendation, Recommendation.id == KeyAction.recommendation_id)
        .where(*where)
        .order_by(action_units.c.action_id, Unit.name)
    )
    names: dict[int, list[str]] = {}
    for action_id, name in rows.all():
        names.setdefault(int(action_id), []).append(str(name))
    return names
