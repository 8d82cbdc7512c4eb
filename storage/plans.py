"""The operator's plan tools: plans listed with their size, archived (kept, hidden from every
view), or deleted (refused while people have commented on them, unless forced)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ScalarSelect, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import InvalidInput, NotFound
from storage.models import Comment, KeyAction, Plan, utcnow


@dataclass(frozen=True, slots=True)
class PlanInfo:
    """A plan and what it holds: key actions, comments posted by people (`comments`) and
    comments imported from a file (`imported_comments`)."""

    id: int
    title: str
    actions: int
    comments: int
    imported_comments: int
    archived_at: dt.datetime | None


async def plan_overview(session: AsyncSession) -> list[PlanInfo]:
    """Every plan, archived ones included, in order of creation."""
    actions = (
        select(func.count(KeyAction.id))
        .where(KeyAction.plan_id == Plan.id)
        .correlate(Plan)
        .scalar_subquery()
    )

    def comments(by_people: bool) -> ScalarSelect[int]:
        author = Comment.author_id.is_not(None) if by_people else Comment.author_id.is_(None)
        return (
            select(func.count(Comment.id))
            .join(KeyAction, KeyAction.id == Comment.action_id)
            .where(KeyAction.plan_id == Plan.id, author)
            .correlate(Plan)
            .scalar_subquery()
        )

    rows = await session.execute(
        select(
            Plan.id, Plan.title, actions, comments(True), comments(False), Plan.archived_at
        ).order_by(Plan.id)
    )
    return [
        PlanInfo(int(i), title, int(n), int(c), int(m), archived)
        for i, title, n, c, m, archived in rows.all()
    ]


async def _plan_info(session: AsyncSession, plan_id: int) -> PlanInfo:
    found = next((p for p in await plan_overview(session) if p.id == plan_id), None)
    if found is None:
        raise NotFound("plan_not_found", plan_id=plan_id)
    return found


async def archive_plan(
    session: AsyncSession, plan_id: int, *, now: dt.datetime | None = None
) -> PlanInfo:
    """Hide a plan from every view (its actions, comments and history stay in the database)."""
    plan = await session.get(Plan, plan_id)
    if plan is None:
        raise NotFound("plan_not_found", plan_id=plan_id)
    if plan.archived_at is None:
        plan.archived_at = now or utcnow()
        await session.flush()
    return await _plan_info(session, plan_id)


async def delete_plan(
    session: AsyncSession, plan_id: int, *, force: bool = False, dry_run: bool = False
) -> PlanInfo:
    """Delete a plan with its recommendations, key actions, comments and history. Refused
    (`InvalidInput` "plan_has_comments") while people have commented on it, unless `force`;
    with `dry_run`, only what would be deleted is returned."""
    info = await _plan_info(session, plan_id)
    if info.comments and not force:
        raise InvalidInput("plan_has_comments", comments=info.comments)
    if not dry_run:
        await session.execute(delete(Plan).where(Plan.id == plan_id))
    return info
