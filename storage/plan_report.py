"""What the committee's report shows of one plan, as it stands or as it stood at a moment: the
plan's details, its summary, and the matrix (every key action with its deadline, units,
statuses and latest comments), rebuilt from the history when `as_of` is given (see
`storage.as_of`). Rendering is `reports.pdf`'s."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.as_of import actions_at
from storage.errors import NotFound
from storage.models import (
    CLOSED_STATUSES,
    Comment,
    CommentKind,
    KeyAction,
    Plan,
    Recommendation,
    Unit,
    action_units,
)
from storage.summary import PlanSummary, summarise

#: Blocks and units listed in full (a plan has a handful; the portfolio's largest, ~60).
REPORT_GROUPS = 500


@dataclass(frozen=True, slots=True)
class MatrixRow:
    """One key action as the report shows it."""

    label: str
    recommendation: str
    number: int
    text: str
    deadline_text: str
    deadline_due: dt.date | None
    units: list[str]
    status: str
    review_status: str
    follow_up: str
    review: str
    overdue: bool


@dataclass(frozen=True, slots=True)
class PlanReport:
    title: str
    programme: str
    evaluation: str
    #: The day the report is of (the day asked for, or today).
    day: dt.date
    #: Whether the report was asked as of a past day (rebuilt from the history).
    past: bool
    summary: PlanSummary
    rows: list[MatrixRow]

    @property
    def overdue(self) -> list[MatrixRow]:
        """The overdue actions, earliest deadline first."""
        late = [row for row in self.rows if row.overdue]
        return sorted(late, key=lambda row: row.deadline_due or dt.date.max)


async def plan_report(
    session: AsyncSession,
    plan_id: int,
    *,
    today: dt.date,
    as_of: dt.datetime | None = None,
) -> PlanReport:
    """The report's content. `today` is the day it is of (the date of `as_of` in the plan's
    timezone when given); `as_of` None is now."""
    plan = await session.get(Plan, plan_id)
    if plan is None or plan.archived_at is not None:
        raise NotFound("plan_not_found", plan_id=plan_id)
    summary = await summarise(
        session,
        today=today,
        plan_ids=[plan_id],
        as_of=as_of,
        list_limit=0,
        group_limit=REPORT_GROUPS,
    )
    actions = actions_at(as_of)
    found = await session.execute(
        select(
            actions.id,
            Recommendation.label,
            Recommendation.text,
            actions.number,
            actions.text,
            actions.deadline_text,
            actions.deadline_due,
            actions.status,
            actions.review_status,
        )
        .join(Recommendation, Recommendation.id == actions.recommendation_id)
        .where(actions.plan_id == plan_id)
        .order_by(actions.position, actions.number)
    )
    units: dict[int, list[str]] = {}
    for action_id, name in await session.execute(
        select(action_units.c.action_id, Unit.name)
        .join(Unit, Unit.id == action_units.c.unit_id)
        .join(KeyAction, KeyAction.id == action_units.c.action_id)
        .where(KeyAction.plan_id == plan_id)
        .order_by(action_units.c.action_id, Unit.name)
    ):
        units.setdefault(action_id, []).append(name)
    comments_query = (
        select(Comment.action_id, Comment.kind, Comment.text)
        .join(KeyAction, KeyAction.id == Comment.action_id)
        .where(KeyAction.plan_id == plan_id)
        .order_by(Comment.created_at, Comment.id)
    )
    if as_of is not None:
        comments_query = comments_query.where(Comment.created_at <= as_of)
    latest = {(a, k): t for a, k, t in await session.execute(comments_query)}
    rows = [
        MatrixRow(
            label=label,
            recommendation=recommendation,
            number=number,
            text=text,
            deadline_text=deadline_text,
            deadline_due=due,
            units=units.get(action_id, []),
            status=status,
            review_status=review,
            follow_up=latest.get((action_id, CommentKind.FOLLOW_UP.value), ""),
            review=latest.get((action_id, CommentKind.REVIEW.value), ""),
            overdue=due is not None and due < today and status not in CLOSED_STATUSES,
        )
        for (
            action_id,
            label,
            recommendation,
            number,
            text,
            deadline_text,
            due,
            status,
            review,
        ) in found.all()
    ]
    return PlanReport(
        title=plan.title,
        programme=plan.programme,
        evaluation=plan.evaluation,
        day=today,
        past=as_of is not None,
        summary=summary,
        rows=rows,
    )
