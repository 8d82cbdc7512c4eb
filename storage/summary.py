"""The state of a plan (or of the whole portfolio), computed in SQL with GROUP BY queries.

Lists are capped (`list_limit`, `group_limit`) and come with their full counts, so that a caller
can say "and 37 more" without loading what it will not show. The number of queries does not grow
with the size of the plan: about ten, whatever the number of plans and actions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.actions import ActionRow
from storage.as_of import Actions, actions_at
from storage.models import (
    CLOSED_STATUSES,
    KeyAction,
    Plan,
    Recommendation,
    ReviewStatus,
    Status,
    Unit,
    action_units,
    utcnow,
)

STALE_DAYS = 30


def progress_share(completed: int, total: int, not_applicable: int) -> float:
    """The one definition of progress: completed ÷ (all − no longer applicable); 0 when
    nothing applies."""
    applicable = total - not_applicable
    return completed / applicable if applicable > 0 else 0.0


def rounded_percents(counts: Sequence[int]) -> list[int]:
    """Whole percents of each count in their sum that add up to exactly 100 (largest
    remainder: floors first, then one more point to the largest remainders, the earlier count
    first on a tie); all zeros when the sum is zero."""
    total = sum(counts)
    if total <= 0:
        return [0] * len(counts)
    percents = [count * 100 // total for count in counts]
    remainders = sorted(range(len(counts)), key=lambda i: (-(counts[i] * 100 % total), i))
    for index in remainders[: 100 - sum(percents)]:
        percents[index] += 1
    return percents


@dataclass(frozen=True, slots=True)
class GroupProgress:
    """Counts of one block, unit or plan. `key` identifies it (block label, unit id, plan id)."""

    name: str
    total: int
    completed: int
    in_progress: int
    not_started: int
    not_applicable: int
    overdue: int
    key: str = ""

    @property
    def applicable(self) -> int:
        """The actions progress is counted over: all but those no longer applicable."""
        return self.total - self.not_applicable

    @property
    def progress(self) -> float:
        return progress_share(self.completed, self.total, self.not_applicable)

    def count(self, status: str) -> int:
        return int(getattr(self, Status(status).value))


@dataclass(frozen=True, slots=True)
class PlanSummary:
    plan_ids: list[int]
    titles: list[str]
    total: int
    by_status: dict[str, int]
    by_review: dict[str, int]
    #: Of the actions of each follow-up status, how many the secretariat has validated.
    validated_by_status: dict[str, int]
    overdue: int
    stale: int
    conditional: int
    by_block: list[GroupProgress]
    by_unit: list[GroupProgress]
    overdue_actions: list[ActionRow]
    next_deadlines: list[ActionRow]
    scope_unit: str | None = None
    overdue_only: bool = False
    extra: dict[str, int] = field(default_factory=dict)
    #: Names of the responsible units of each listed action (overdue and next deadlines).
    units_of: dict[int, list[str]] = field(default_factory=dict)
    #: Open actions with a dated deadline from today on (the full count behind `next_deadlines`).
    upcoming: int = 0
    blocks_total: int = 0
    units_total: int = 0
    #: Progress per plan, most overdue first (filled when the summary covers several plans).
    by_plan: list[GroupProgress] = field(default_factory=list)
    plans_total: int = 0
    stale_days: int = STALE_DAYS
    #: Titles of the plans of the listed actions (to tell "1.1" of one plan from another's).
    plan_titles: dict[int, str] = field(default_factory=dict)

    @property
    def portfolio(self) -> bool:
        return self.plans_total != 1

    @property
    def completed(self) -> int:
        return self.by_status.get(Status.COMPLETED.value, 0)

    @property
    def not_applicable(self) -> int:
        return self.by_status.get(Status.NOT_APPLICABLE.value, 0)

    @property
    def applicable(self) -> int:
        return self.total - self.not_applicable

    @property
    def progress(self) -> float:
        return progress_share(self.completed, self.total, self.not_applicable)

    def percents(self) -> dict[str, int]:
        """Whole percent of the actions in each status, adding up to 100."""
        statuses = list(self.by_status)
        shares = rounded_percents([self.by_status[s] for s in statuses])
        return dict(zip(statuses, shares, strict=True))


def _sum_of(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _progress_columns(actions: Actions, today: dt.date) -> tuple[ColumnElement[int], ...]:
    """Total, completed, in progress, not started, no longer applicable, overdue."""
    return (
        func.count(actions.id),
        _sum_of(actions.status == Status.COMPLETED.value),
        _sum_of(actions.status == Status.IN_PROGRESS.value),
        _sum_of(actions.status == Status.NOT_STARTED.value),
        _sum_of(actions.status == Status.NOT_APPLICABLE.value),
        _sum_of(_overdue(actions, today)),
    )


def _progress(name: str, row: Sequence[Any], key: object = "") -> GroupProgress:
    """A group's counts from a row of `_progress_columns` (None where a sum had no rows)."""
    total, completed, in_progress, not_started, not_applicable, overdue = (int(v or 0) for v in row)
    return GroupProgress(
        name, total, completed, in_progress, not_started, not_applicable, overdue, key=str(key)
    )


def _open_clause(actions: Actions) -> ColumnElement[bool]:
    return actions.status.not_in([s.value for s in CLOSED_STATUSES])


def _overdue(actions: Actions, today: dt.date) -> ColumnElement[bool]:
    """`storage.actions.overdue_clause` for the actions now or as they stood at a moment."""
    return and_(
        actions.deadline_due.is_not(None),
        actions.deadline_due < today,
        _open_clause(actions),
    )


def _scope(
    actions: Actions,
    today: dt.date,
    plan_ids: Sequence[int] | None,
    unit_ids: Sequence[int] | None,
    block_labels: Sequence[str] | None,
    overdue_only: bool,
) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = [
        actions.plan_id.in_(select(Plan.id).where(Plan.archived_at.is_(None)))
    ]
    if plan_ids is not None:
        conditions.append(actions.plan_id.in_(list(plan_ids)))
    if unit_ids is not None:
        conditions.append(
            actions.id.in_(
                select(action_units.c.action_id).where(action_units.c.unit_id.in_(list(unit_ids)))
            )
        )
    if block_labels is not None:
        conditions.append(
            actions.recommendation_id.in_(
                select(Recommendation.id).where(Recommendation.label.in_(list(block_labels)))
            )
        )
    if overdue_only:
        conditions.append(_overdue(actions, today))
    return and_(True, *conditions)


async def summarise(
    session: AsyncSession,
    *,
    today: dt.date,
    plan_ids: Sequence[int] | None = None,
    unit_id: int | None = None,
    unit_ids: Sequence[int] | None = None,
    block_label: str | None = None,
    block_labels: Sequence[str] | None = None,
    overdue_only: bool = False,
    now: dt.datetime | None = None,
    stale_days: int = STALE_DAYS,
    list_limit: int = 10,
    group_limit: int = 15,
    as_of: dt.datetime | None = None,
) -> PlanSummary:
    """Counts by status and review, overdue and stale actions, progress by block, unit and plan,
    and the next deadlines, for the given plans (all when None), optionally narrowed to units,
    block labels, or the overdue actions only.

    "Stale" is an open action without a follow-up for `stale_days` (counted from its creation
    when nobody has updated it yet).

    `as_of` (None: now) rebuilds the statuses, review statuses and updates from the history up
    to that moment, leaving out the actions and plans created after it (see `storage.as_of`);
    `now` then defaults to it, and `today` should be its date in the plan's timezone.
    """
    now = now or as_of or utcnow()
    actions = actions_at(as_of)
    if unit_id is not None:
        unit_ids = [*(unit_ids or []), unit_id]
    if block_label is not None:
        block_labels = [*(block_labels or []), block_label]
    where = _scope(actions, today, plan_ids, unit_ids, block_labels, overdue_only)

    stale_before = now - dt.timedelta(days=stale_days)
    last_touch = func.coalesce(actions.last_update_at, actions.created_at)
    statuses = [s.value for s in Status]
    reviews = [r.value for r in ReviewStatus]
    validated = ReviewStatus.VALIDATED.value
    counts = (  # one pass over the actions for every count (a portfolio has 20,000 of them)
        await session.execute(
            select(
                _sum_of(_overdue(actions, today)),
                _sum_of(and_(_open_clause(actions), last_touch < stale_before)),
                _sum_of(and_(_open_clause(actions), actions.deadline_kind == "event")),
                _sum_of(and_(_open_clause(actions), actions.deadline_due >= today)),
                func.count(func.distinct(actions.recommendation_id)),
                func.count(func.distinct(actions.plan_id)),
                *(_sum_of(actions.status == status) for status in statuses),
                *(_sum_of(actions.review_status == review) for review in reviews),
                *(
                    _sum_of(and_(actions.status == status, actions.review_status == validated))
                    for status in statuses
                ),
            ).where(where)
        )
    ).one()
    overdue, stale, conditional, upcoming, blocks_total, plans_total = (int(v) for v in counts[:6])
    by_status = dict(zip(statuses, (int(v) for v in counts[6 : 6 + len(statuses)]), strict=True))
    reviewed = 6 + len(statuses)
    by_review = dict(
        zip(reviews, (int(v) for v in counts[reviewed : reviewed + len(reviews)]), strict=True)
    )
    validated_by_status = dict(
        zip(statuses, (int(v) for v in counts[reviewed + len(reviews) :]), strict=True)
    )
    multi_plan = plans_total > 1

    by_block = await _blocks(session, actions, where, today, multi_plan, group_limit)
    by_unit, units_total = await _units(session, actions, where, today, group_limit, unit_ids)
    by_plan = await _plans(session, actions, where, today, group_limit) if multi_plan else []

    overdue_actions = await _rows(
        session,
        _rows_query(actions, where)
        .where(_overdue(actions, today))
        .order_by(actions.deadline_due, actions.plan_id, actions.position, actions.number)
        .limit(list_limit),
        today,
    )
    next_deadlines = await _rows(
        session,
        _rows_query(actions, where)
        .where(_open_clause(actions), actions.deadline_due >= today)
        .order_by(actions.deadline_due, actions.plan_id, actions.position, actions.number)
        .limit(list_limit),
        today,
    )
    listed = [*overdue_actions, *next_deadlines]
    units_of = await _unit_names(session, [r.id for r in listed])
    plan_titles: dict[int, str] = {}
    if multi_plan and listed:
        rows = await session.execute(
            select(Plan.id, Plan.title).where(Plan.id.in_({r.plan_id for r in listed}))
        )
        plan_titles = {int(i): str(t) for i, t in rows.all()}
    titles_query = select(Plan.id, Plan.title).where(Plan.archived_at.is_(None)).order_by(Plan.id)
    if as_of is not None:
        titles_query = titles_query.where(Plan.created_at <= as_of)
    if plan_ids is not None:
        titles_query = titles_query.where(Plan.id.in_(list(plan_ids)))
    plans = (await session.execute(titles_query.limit(group_limit + 1))).all()
    return PlanSummary(
        plan_ids=[p[0] for p in plans],
        titles=[p[1] for p in plans],
        total=sum(by_status.values()),
        by_status=by_status,
        by_review=by_review,
        validated_by_status=validated_by_status,
        overdue=overdue,
        stale=stale,
        conditional=conditional,
        by_block=by_block,
        by_unit=by_unit,
        overdue_actions=overdue_actions,
        next_deadlines=next_deadlines,
        overdue_only=overdue_only,
        units_of=units_of,
        upcoming=upcoming,
        blocks_total=blocks_total,
        units_total=units_total,
        by_plan=by_plan,
        plans_total=plans_total if plan_ids is None else max(plans_total, len(plans)),
        stale_days=stale_days,
        plan_titles=plan_titles,
    )


async def _blocks(
    session: AsyncSession,
    actions: Actions,
    where: ColumnElement[bool],
    today: dt.date,
    multi_plan: bool,
    limit: int,
) -> list[GroupProgress]:
    """Progress per block in plan order; across plans a block is named "plan · label"."""
    name = (Plan.title + literal(" · ") + Recommendation.label) if multi_plan else None
    query = (
        select(
            Recommendation.label if name is None else name,
            Recommendation.label,
            *_progress_columns(actions, today),
        )
        .select_from(actions)
        .join(Recommendation, Recommendation.id == actions.recommendation_id)
        .where(where)
        .group_by(actions.plan_id, Recommendation.id, Recommendation.position, Recommendation.label)
        .order_by(actions.plan_id, Recommendation.position)
        .limit(limit)
    )
    if multi_plan:
        query = query.join(Plan, Plan.id == actions.plan_id).group_by(Plan.title)
    rows = (await session.execute(query)).all()
    return [_progress(r[0], tuple(r[2:]), key=r[1]) for r in rows]


async def _units(
    session: AsyncSession,
    actions: Actions,
    where: ColumnElement[bool],
    today: dt.date,
    limit: int,
    unit_ids: Sequence[int] | None,
) -> tuple[list[GroupProgress], int]:
    """Progress per unit, largest first; only the given units when the summary is narrowed to
    some (a focal point's own), not every unit that shares their actions."""
    # Outer joins keep the actions as the outer loop: SQLite then walks an index of the
    # actions and looks each one's units up, instead of the reverse (twice as fast at 20,000
    # actions). The group of actions without a unit is dropped by HAVING, before the window
    # counts the units.
    joined = (
        select(Unit.id, Unit.name, *_progress_columns(actions, today), func.count().over())
        .select_from(actions)
        .outerjoin(action_units, action_units.c.action_id == actions.id)
        .outerjoin(Unit, Unit.id == action_units.c.unit_id)
        .where(where)
        .group_by(Unit.id, Unit.name)
        .having(Unit.id.is_not(None))
    )
    if unit_ids is not None:
        joined = joined.where(action_units.c.unit_id.in_(list(unit_ids)))
    rows = (
        await session.execute(
            joined.order_by(func.count(actions.id).desc(), Unit.name).limit(limit)
        )
    ).all()
    total = rows[0][-1] if rows else 0  # the window counts every unit, before the limit
    return [_progress(r[1], tuple(r[2:-1]), key=r[0]) for r in rows], int(total)


async def _plans(
    session: AsyncSession,
    actions: Actions,
    where: ColumnElement[bool],
    today: dt.date,
    limit: int,
) -> list[GroupProgress]:
    overdue = _sum_of(_overdue(actions, today))
    rows = (
        await session.execute(
            select(Plan.id, Plan.title, *_progress_columns(actions, today))
            .select_from(actions)
            .join(Plan, Plan.id == actions.plan_id)
            .where(where)
            .group_by(Plan.id, Plan.title)
            .order_by(overdue.desc(), Plan.id)
            .limit(limit)
        )
    ).all()
    return [_progress(r[1], tuple(r[2:]), key=r[0]) for r in rows]


@dataclass(frozen=True, slots=True)
class OverdueList:
    """A page of the overdue actions (earliest deadline first) and their full count."""

    rows: list[ActionRow]
    total: int
    #: Names of the responsible units of each listed action.
    units_of: dict[int, list[str]]
    #: Titles of the plans of the listed actions, when the overdue actions span several plans.
    plan_titles: dict[int, str]


async def overdue_list(
    session: AsyncSession,
    *,
    today: dt.date,
    plan_ids: Sequence[int] | None = None,
    unit_ids: Sequence[int] | None = None,
    block_labels: Sequence[str] | None = None,
    offset: int = 0,
    limit: int = 10,
    as_of: dt.datetime | None = None,
) -> OverdueList:
    """The overdue actions from `offset` on (at most `limit`), in the order of the summary
    (`as_of`: as they stood then, see `summarise`)."""
    actions = actions_at(as_of)
    where = _scope(actions, today, plan_ids, unit_ids, block_labels, overdue_only=True)
    total, plans = (
        await session.execute(
            select(func.count(actions.id), func.count(func.distinct(actions.plan_id))).where(where)
        )
    ).one()
    rows = await _rows(
        session,
        _rows_query(actions, where)
        .order_by(actions.deadline_due, actions.plan_id, actions.position, actions.number)
        .offset(max(0, offset))
        .limit(limit),
        today,
    )
    plan_titles: dict[int, str] = {}
    if int(plans) > 1 and rows:
        found = await session.execute(
            select(Plan.id, Plan.title).where(Plan.id.in_({r.plan_id for r in rows}))
        )
        plan_titles = {int(i): str(t) for i, t in found.all()}
    return OverdueList(
        rows, int(total), await _unit_names(session, [r.id for r in rows]), plan_titles
    )


def _rows_query(actions: Actions, where: ColumnElement[bool]) -> Select[Any]:
    """The columns of `ActionRow` (not the entity: see `storage.as_of`)."""
    return (
        select(
            actions.id,
            actions.plan_id,
            Recommendation.label,
            actions.number,
            actions.text,
            actions.deadline_text,
            actions.deadline_kind,
            actions.deadline_due,
            actions.status,
            actions.review_status,
            actions.last_update_at,
        )
        .join(Recommendation, Recommendation.id == actions.recommendation_id)
        .where(where)
    )


async def _rows(session: AsyncSession, query: Select[Any], today: dt.date) -> list[ActionRow]:
    rows = []
    for values in (await session.execute(query)).all():
        (id_, plan_id, label, number, text, deadline_text, kind, due, status, review, last) = values
        rows.append(
            ActionRow(
                id=id_,
                plan_id=plan_id,
                label=label,
                number=number,
                text=text,
                deadline_text=deadline_text,
                deadline_kind=kind,
                deadline_due=due,
                status=status,
                review_status=review,
                last_update_at=last,
                overdue=due is not None and due < today and status not in CLOSED_STATUSES,
            )
        )
    return rows


async def _unit_names(session: AsyncSession, action_ids: Sequence[int]) -> dict[int, list[str]]:
    """Responsible unit names of the given actions, in one query."""
    names: dict[int, list[str]] = {}
    if not action_ids:
        return names
    rows = await session.execute(
        select(action_units.c.action_id, Unit.name)
        .join(Unit, Unit.id == action_units.c.unit_id)
        .where(action_units.c.action_id.in_(set(action_ids)))
        .order_by(action_units.c.action_id, Unit.name)
    )
    for action_id, name in rows.all():
        names.setdefault(action_id, []).append(name)
    return names


@dataclass(frozen=True, slots=True)
class PlanChoice:
    id: int
    title: str
    actions: int


async def plan_choices(
    session: AsyncSession, *, unit_ids: Sequence[int] | None = None, counts: bool = True
) -> list[PlanChoice]:
    """The plans with their number of key actions (only those with actions of the given units,
    when given), in order of creation: what a person picks a plan from. Without `counts` (a
    plan already chosen), all plans are listed without counting their actions (0)."""
    if not counts and unit_ids is None:
        rows = await session.execute(
            select(Plan.id, Plan.title).where(Plan.archived_at.is_(None)).order_by(Plan.id)
        )
        return [PlanChoice(int(i), t, 0) for i, t in rows.all()]
    query = (
        select(Plan.id, Plan.title, func.count(KeyAction.id))
        .select_from(Plan)
        .outerjoin(KeyAction, KeyAction.plan_id == Plan.id)
        .where(Plan.archived_at.is_(None))
        .group_by(Plan.id, Plan.title)
        .order_by(Plan.id)
    )
    if unit_ids is not None:
        query = query.where(
            KeyAction.id.in_(
                select(action_units.c.action_id).where(action_units.c.unit_id.in_(list(unit_ids)))
            )
        )
    return [PlanChoice(int(i), t, int(n)) for i, t, n in (await session.execute(query)).all()]


async def block_labels(session: AsyncSession, plan_ids: Sequence[int] | None = None) -> list[str]:
    """Distinct block labels (of the given plans, or of all)."""
    query = select(Recommendation.label).distinct()
    if plan_ids is not None:
        query = query.where(Recommendation.plan_id.in_(list(plan_ids)))
    return sorted(str(label) for label in (await session.scalars(query)).all())


async def unit_names(session: AsyncSession, unit_ids: Sequence[int]) -> dict[int, str]:
    if not unit_ids:
        return {}
    rows = await session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(list(unit_ids))))
    return {int(i): str(n) for i, n in rows.all()}
