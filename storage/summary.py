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

from sqlalchemy import ColumnElement, Select, and_, func, select
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


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """`count(*) FILTER (WHERE condition)`: on both databases cheaper per row than
    `sum(CASE ...)`, and never NULL."""
    return func.count().filter(condition)


def _progress_columns(actions: Actions, today: dt.date) -> tuple[ColumnElement[int], ...]:
    """Total, completed, in progress, not started, no longer applicable, overdue."""
    return (
        func.count(),
        _count_if(actions.status == Status.COMPLETED.value),
        _count_if(actions.status == Status.IN_PROGRESS.value),
        _count_if(actions.status == Status.NOT_STARTED.value),
        _count_if(actions.status == Status.NOT_APPLICABLE.value),
        _count_if(_overdue(actions, today)),
    )


def _progress(name: str, row: Sequence[Any], key: object = "") -> GroupProgress:
    """A group's counts from a row of `_progress_columns`."""
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

    blocks = await _block_counts(
        session, actions, where, today, now - dt.timedelta(days=stale_days)
    )
    plans_query = select(Plan.id, Plan.title, Plan.created_at).where(Plan.archived_at.is_(None))
    if plan_ids is not None:
        plans_query = plans_query.where(Plan.id.in_(list(plan_ids)))
    # Every plan in scope, in one read: the titles of the blocks, of the plans and of the
    # listed actions, and the plans named in the summary (those that existed at `as_of`).
    plans = (await session.execute(plans_query.order_by(Plan.id))).all()
    titles = {int(i): str(t) for i, t, _ in plans}
    shown = [(int(i), str(t)) for i, t, created in plans if as_of is None or created <= as_of]
    shown = shown[: group_limit + 1]
    statuses = [s.value for s in Status]
    totals = _Counts.sum(blocks)
    plans_total = len({b.plan_id for b in blocks})
    multi_plan = plans_total > 1

    by_unit, units_total = await _units(session, actions, where, today, group_limit, unit_ids)
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
    plan_titles = {r.plan_id: titles[r.plan_id] for r in listed} if multi_plan else {}
    return PlanSummary(
        plan_ids=[i for i, _ in shown],
        titles=[t for _, t in shown],
        total=totals.total,
        by_status=dict(zip(statuses, totals.by_status, strict=True)),
        by_review=dict(zip([r.value for r in ReviewStatus], totals.by_review, strict=True)),
        validated_by_status=dict(zip(statuses, totals.validated_by_status, strict=True)),
        overdue=totals.overdue,
        stale=totals.stale,
        conditional=totals.conditional,
        by_block=_blocks(blocks, titles, multi_plan, group_limit),
        by_unit=by_unit,
        overdue_actions=overdue_actions,
        next_deadlines=next_deadlines,
        overdue_only=overdue_only,
        units_of=units_of,
        upcoming=totals.upcoming,
        blocks_total=len(blocks),
        units_total=units_total,
        by_plan=_plans(blocks, titles, group_limit) if multi_plan else [],
        plans_total=plans_total if plan_ids is None else max(plans_total, len(shown)),
        stale_days=stale_days,
        plan_titles=plan_titles,
    )


@dataclass(frozen=True, slots=True)
class _Counts:
    """The counts of one block (or of several, summed): what every figure of the summary but
    the units' is made of."""

    total: int
    #: Per follow-up status, in the order of `Status`.
    by_status: tuple[int, ...]
    overdue: int
    stale: int
    conditional: int
    upcoming: int
    #: Per review status, in the order of `ReviewStatus`.
    by_review: tuple[int, ...]
    #: Validated ones per follow-up status, in the order of `Status`.
    validated_by_status: tuple[int, ...]

    @staticmethod
    def sum(blocks: Sequence[_Block]) -> _Counts:
        return _Counts(
            total=sum(b.counts.total for b in blocks),
            by_status=_column_sums([b.counts.by_status for b in blocks], len(Status)),
            overdue=sum(b.counts.overdue for b in blocks),
            stale=sum(b.counts.stale for b in blocks),
            conditional=sum(b.counts.conditional for b in blocks),
            upcoming=sum(b.counts.upcoming for b in blocks),
            by_review=_column_sums([b.counts.by_review for b in blocks], len(ReviewStatus)),
            validated_by_status=_column_sums(
                [b.counts.validated_by_status for b in blocks], len(Status)
            ),
        )

    def progress(self, name: str, key: object) -> GroupProgress:
        count = dict(zip([s.value for s in Status], self.by_status, strict=True))
        return GroupProgress(
            name,
            self.total,
            count[Status.COMPLETED.value],
            count[Status.IN_PROGRESS.value],
            count[Status.NOT_STARTED.value],
            count[Status.NOT_APPLICABLE.value],
            self.overdue,
            key=str(key),
        )


def _column_sums(rows: Sequence[tuple[int, ...]], width: int) -> tuple[int, ...]:
    return tuple(sum(row[i] for row in rows) for i in range(width)) if rows else (0,) * width


@dataclass(frozen=True, slots=True)
class _Block:
    plan_id: int
    position: int
    recommendation_id: int
    label: str
    counts: _Counts


async def _block_counts(
    session: AsyncSession,
    actions: Actions,
    where: ColumnElement[bool],
    today: dt.date,
    stale_before: dt.datetime,
) -> list[_Block]:
    """Every count of every block in scope, in one pass over the actions (a portfolio has
    20,000 of them, in about a thousand blocks): the totals, the plans and the blocks are
    summed from these rows, not counted again by the database.

    "Stale" is an open action without a follow-up since `stale_before` (counted from its
    creation when nobody has updated it yet)."""
    open_ = _open_clause(actions)
    last_touch = func.coalesce(actions.last_update_at, actions.created_at)
    validated = ReviewStatus.VALIDATED.value
    # Grouped by the order of `ix_key_actions_summary` (no sort on SQLite), and the blocks'
    # labels joined to the groups after, not to every action.
    counted = (
        select(
            actions.plan_id,
            actions.recommendation_id,
            func.count(),
            *(_count_if(actions.status == s.value) for s in Status),
            _count_if(_overdue(actions, today)),
            _count_if(and_(open_, last_touch < stale_before)),
            _count_if(and_(open_, actions.deadline_kind == "event")),
            _count_if(and_(open_, actions.deadline_due >= today)),
            *(_count_if(actions.review_status == r.value) for r in ReviewStatus),
            *(
                _count_if(and_(actions.status == s.value, actions.review_status == validated))
                for s in Status
            ),
        )
        .where(where)
        .group_by(actions.plan_id, actions.recommendation_id)
        .subquery()
    )
    plan_column, block_column, *count_columns = counted.c
    query = select(
        plan_column, block_column, Recommendation.position, Recommendation.label, *count_columns
    ).join(Recommendation, Recommendation.id == block_column)
    statuses, reviews = len(Status), len(ReviewStatus)
    blocks = []
    for plan_id, block_id, position, label, total, *values in (await session.execute(query)).all():
        counts = [int(v) for v in values]
        overdue, stale, conditional, upcoming = counts[statuses : statuses + 4]
        reviewed = statuses + 4 + reviews
        blocks.append(
            _Block(
                int(plan_id),
                int(position),
                int(block_id),
                str(label),
                _Counts(
                    total=int(total),
                    by_status=tuple(counts[:statuses]),
                    overdue=overdue,
                    stale=stale,
                    conditional=conditional,
                    upcoming=upcoming,
                    by_review=tuple(counts[statuses + 4 : reviewed]),
                    validated_by_status=tuple(counts[reviewed:]),
                ),
            )
        )
    return blocks


def _blocks(
    blocks: Sequence[_Block], titles: dict[int, str], multi_plan: bool, limit: int
) -> list[GroupProgress]:
    """Progress per block in plan order; across plans a block is named "plan · label"."""
    ordered = sorted(blocks, key=lambda b: (b.plan_id, b.position, b.recommendation_id))
    return [
        b.counts.progress(f"{titles[b.plan_id]} · {b.label}" if multi_plan else b.label, b.label)
        for b in ordered[: max(limit, 0)]
    ]


def _plans(blocks: Sequence[_Block], titles: dict[int, str], limit: int) -> list[GroupProgress]:
    """Progress per plan, most overdue first."""
    per_plan: dict[int, list[_Block]] = {}
    for block in blocks:
        per_plan.setdefault(block.plan_id, []).append(block)
    plans = [_Counts.sum(found).progress(titles[i], i) for i, found in per_plan.items()]
    plans.sort(key=lambda p: (-p.overdue, int(p.key)))
    return plans[: max(limit, 0)]


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
    # Counted per unit id over the links alone, the units' names joined to the ~400 groups
    # after (not to the 35,000 links of a portfolio); the window counts every unit, before
    # the limit.
    counted = (
        select(action_units.c.unit_id, *_progress_columns(actions, today))
        .select_from(actions)
        .join(action_units, action_units.c.action_id == actions.id)
        .where(where)
        .group_by(action_units.c.unit_id)
    )
    if unit_ids is not None:
        counted = counted.where(action_units.c.unit_id.in_(list(unit_ids)))
    groups = counted.subquery()
    counts = list(groups.c)[1:]
    rows = (
        await session.execute(
            select(Unit.id, Unit.name, *counts, func.count().over())
            .join(groups, groups.c.unit_id == Unit.id)
            .order_by(counts[0].desc(), Unit.name)
            .limit(limit)
        )
    ).all()
    total = rows[0][-1] if rows else 0
    return [_progress(r[1], tuple(r[2:-1]), key=r[0]) for r in rows], int(total)


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
