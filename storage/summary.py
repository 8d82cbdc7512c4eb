"""The state of a plan (or of the whole portfolio), computed in SQL with GROUP BY queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Select, and_, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.actions import ActionRow, action_row, overdue_clause
from storage.models import (
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


@dataclass(frozen=True, slots=True)
class GroupProgress:
    name: str
    total: int
    completed: int
    in_progress: int
    not_started: int
    not_applicable: int
    overdue: int

    @property
    def done_share(self) -> float:
        """Share of actions closed (completed or no longer applicable)."""
        return (self.completed + self.not_applicable) / self.total if self.total else 0.0


@dataclass(frozen=True, slots=True)
class PlanSummary:
    plan_ids: list[int]
    titles: list[str]
    total: int
    by_status: dict[str, int]
    by_review: dict[str, int]
    overdue: int
    stale: int
    conditional: int
    by_block: list[GroupProgress]
    by_unit: list[GroupProgress]
    overdue_actions: list[ActionRow]
    next_deadlines: list[ActionRow]
    scope_unit: str | None = None
    scope_block: str | None = None
    overdue_only: bool = False
    extra: dict[str, int] = field(default_factory=dict)


def _status_counts(statuses: list[tuple[str, int]], keys: list[str]) -> dict[str, int]:
    counts = dict.fromkeys(keys, 0)
    for key, n in statuses:
        counts[key] = counts.get(key, 0) + int(n)
    return counts


def _progress_columns(today: dt.date) -> list:  # type: ignore[type-arg]
    def count_status(status: Status):  # type: ignore[no-untyped-def]
        return func.coalesce(func.sum(case((KeyAction.status == status.value, 1), else_=0)), 0)

    return [
        func.count(KeyAction.id),
        count_status(Status.COMPLETED),
        count_status(Status.IN_PROGRESS),
        count_status(Status.NOT_STARTED),
        count_status(Status.NOT_APPLICABLE),
        func.coalesce(func.sum(case((overdue_clause(today), 1), else_=0)), 0),
    ]


def _progress(name: str, row: tuple) -> GroupProgress:  # type: ignore[type-arg]
    return GroupProgress(name, *(int(v or 0) for v in row))


async def summarise(
    session: AsyncSession,
    *,
    today: dt.date,
    plan_ids: list[int] | None = None,
    unit_id: int | None = None,
    block_label: str | None = None,
    overdue_only: bool = False,
    now: dt.datetime | None = None,
    list_limit: int = 10,
    group_limit: int = 15,
) -> PlanSummary:
    """Counts by status and review, overdue and stale actions, progress by block and unit, and
    the next deadlines, for the given plans (all when None), optionally narrowed to one unit,
    one block label, or the overdue actions only."""
    now = now or utcnow()
    conditions = []
    if plan_ids is not None:
        conditions.append(KeyAction.plan_id.in_(plan_ids))
    if unit_id is not None:
        conditions.append(
            KeyAction.id.in_(
                select(action_units.c.action_id).where(action_units.c.unit_id == unit_id)
            )
        )
    if block_label is not None:
        conditions.append(
            KeyAction.recommendation_id.in_(
                select(Recommendation.id).where(Recommendation.label == block_label)
            )
        )
    if overdue_only:
        conditions.append(overdue_clause(today))
    where = and_(True, *conditions)

    status_rows = await session.execute(
        select(KeyAction.status, func.count()).where(where).group_by(KeyAction.status)
    )
    by_status = _status_counts([tuple(r) for r in status_rows.all()], [s.value for s in Status])
    review_rows = await session.execute(
        select(KeyAction.review_status, func.count()).where(where).group_by(KeyAction.review_status)
    )
    by_review = _status_counts(
        [tuple(r) for r in review_rows.all()], [s.value for s in ReviewStatus]
    )
    open_clause = KeyAction.status.not_in([Status.COMPLETED.value, Status.NOT_APPLICABLE.value])
    stale_before = now - dt.timedelta(days=STALE_DAYS)
    counts = (
        await session.execute(
            select(
                func.coalesce(func.sum(case((overdue_clause(today), 1), else_=0)), 0),
                func.coalesce(
                    func.sum(
                        case(
                            (
                                and_(
                                    open_clause,
                                    or_(
                                        KeyAction.last_update_at.is_(None),
                                        KeyAction.last_update_at < stale_before,
                                    ),
                                ),
                                1,
                            ),
                            else_=0,
                        )
                    ),
                    0,
                ),
                func.coalesce(
                    func.sum(
                        case((and_(open_clause, KeyAction.deadline_kind == "event"), 1), else_=0)
                    ),
                    0,
                ),
            ).where(where)
        )
    ).one()
    multi_plan = plan_ids is None or len(plan_ids) != 1
    block_name = (
        (Plan.title + literal(" · ") + Recommendation.label) if multi_plan else Recommendation.label
    )
    block_query = (
        select(block_name, *_progress_columns(today))
        .select_from(KeyAction)
        .join(Recommendation, Recommendation.id == KeyAction.recommendation_id)
        .where(where)
        .group_by(KeyAction.plan_id, Recommendation.position, block_name)
        .order_by(KeyAction.plan_id, Recommendation.position)
        .limit(group_limit)
    )
    if multi_plan:
        block_query = block_query.join(Plan, Plan.id == KeyAction.plan_id)
    by_block = [_progress(r[0], tuple(r[1:])) for r in (await session.execute(block_query)).all()]
    unit_query = (
        select(Unit.name, *_progress_columns(today))
        .select_from(KeyAction)
        .join(action_units, action_units.c.action_id == KeyAction.id)
        .join(Unit, Unit.id == action_units.c.unit_id)
        .where(where)
        .group_by(Unit.id, Unit.name)
        .order_by(func.count(KeyAction.id).desc(), Unit.name)
        .limit(group_limit)
    )
    by_unit = [_progress(r[0], tuple(r[1:])) for r in (await session.execute(unit_query)).all()]

    def rows_query() -> Select:  # type: ignore[type-arg]
        return (
            select(KeyAction, Recommendation.label)
            .join(Recommendation, Recommendation.id == KeyAction.recommendation_id)
            .where(where)
        )

    overdue_actions = await _rows(
        session,
        rows_query()
        .where(overdue_clause(today))
        .order_by(KeyAction.deadline_due, KeyAction.id)
        .limit(list_limit),
        today,
    )
    next_deadlines = await _rows(
        session,
        rows_query()
        .where(open_clause, KeyAction.deadline_due >= today)
        .order_by(KeyAction.deadline_due, KeyAction.id)
        .limit(list_limit),
        today,
    )
    titles_query = select(Plan.id, Plan.title).order_by(Plan.id)
    if plan_ids is not None:
        titles_query = titles_query.where(Plan.id.in_(plan_ids))
    plans = (await session.execute(titles_query.limit(group_limit + 1))).all()
    return PlanSummary(
        plan_ids=[p[0] for p in plans],
        titles=[p[1] for p in plans],
        total=sum(by_status.values()),
        by_status=by_status,
        by_review=by_review,
        overdue=int(counts[0]),
        stale=int(counts[1]),
        conditional=int(counts[2]),
        by_block=by_block,
        by_unit=by_unit,
        overdue_actions=overdue_actions,
        next_deadlines=next_deadlines,
        overdue_only=overdue_only,
    )


async def _rows(session: AsyncSession, query: Select, today: dt.date) -> list[ActionRow]:  # type: ignore[type-arg]
    return [
        action_row(action, label, today) for action, label in (await session.execute(query)).all()
    ]
