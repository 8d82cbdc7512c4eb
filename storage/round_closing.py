"""Closing a reporting round, and the periodic sweep that closes, asks and reminds.

At the close the plan as it stood is kept in the round (`snapshot`: per action its status, latest
comments and review state) with what changed since the previous round (`report`), and the
report goes to the secretariat chats and the coordinators through the outbox. Later updates
change neither.

The periodic sweep (`sweep_rounds`) asks, in every open round, those who joined since, reminds
those still pending three days and one day before the close, and closes the rounds whose date
has passed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import InvalidInput
from storage.models import (
    CLOSED_STATUSES,
    Comment,
    CommentKind,
    KeyAction,
    Person,
    Recommendation,
    ReportingRound,
    Role,
    Status,
    action_ref,
    utcnow,
)
from storage.round_progress import nudge_pending, progress
from storage.rounds import (
    REPORT_KIND,
    RoundInfo,
    ask_focal_points,
    get_round,
    queue_round_messages,
    round_info,
    round_payload,
)

#: Days before the close when those pending are reminded.
REMINDER_DAYS = (3, 1)
TEXT_MAX = 300
LISTED_MAX = 30


# --------------------------------------------------------------------------------------------
# Closing: the snapshot, what changed, the report


def _snapshot_rows(
    rows: Sequence[Any], latest: dict[tuple[int, str], str], today: dt.date
) -> list[dict[str, Any]]:
    snapshot: list[dict[str, Any]] = []
    written: set[int] = set()
    for action, label, rec_id, rec_text, response in rows:
        first = rec_id not in written
        written.add(rec_id)
        overdue = (
            action.deadline_due is not None
            and action.deadline_due < today
            and action.status not in CLOSED_STATUSES
        )
        snapshot.append(
            {
                "id": action.id,
                "ref": action_ref(label, action.number),
                "label": label,
                "recommendation": rec_text if first else "",
                "management_response": response if first else "",
                "number": action.number,
                "action": action.text,
                "deadline": action.deadline_text,
                "due": action.deadline_due.isoformat() if action.deadline_due else None,
                "responsible": action.responsible_text,
                "follow_up_comment": latest.get((action.id, CommentKind.FOLLOW_UP.value), ""),
                "follow_up_status": action.status,
                "review_comment": latest.get((action.id, CommentKind.REVIEW.value), ""),
                "review_status": action.review_status,
                "overdue": overdue,
                "last_update": action.last_update_at.isoformat() if action.last_update_at else None,
            }
        )
    return snapshot


async def plan_snapshot(
    session: AsyncSession, plan_id: int, today: dt.date
) -> list[dict[str, Any]]:
    """The plan as it stands: per action (in order) the cells of the plan's table, with the
    latest follow-up and review comments, plus its due date, whether it is overdue and its
    last update."""
    rows = (
        await session.execute(
            select(
                KeyAction,
                Recommendation.label,
                Recommendation.id,
                Recommendation.text,
                Recommendation.management_response,
            )
            .join(Recommendation, Recommendation.id == KeyAction.recommendation_id)
            .where(KeyAction.plan_id == plan_id)
            .order_by(KeyAction.position, KeyAction.number)
        )
    ).all()
    latest: dict[tuple[int, str], str] = {}
    for action_id, kind, text in (
        await session.execute(
            select(Comment.action_id, Comment.kind, Comment.text)
            .join(KeyAction, KeyAction.id == Comment.action_id)
            .where(KeyAction.plan_id == plan_id)
            .order_by(Comment.created_at, Comment.id)
        )
    ).all():
        latest[(action_id, kind)] = text
    return _snapshot_rows(rows, latest, today)


def _item(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "ref": row["ref"], "text": str(row["action"])[:TEXT_MAX]}


async def _previous(session: AsyncSession, rnd: ReportingRound) -> ReportingRound | None:
    return await session.scalar(
        select(ReportingRound)
        .where(
            ReportingRound.plan_id == rnd.plan_id,
            ReportingRound.id != rnd.id,
            ReportingRound.closed_at.is_not(None),
            ReportingRound.snapshot.is_not(None),
        )
        .order_by(ReportingRound.closed_at.desc(), ReportingRound.id.desc())
        .limit(1)
    )


def changes_between(
    snapshot: Sequence[dict[str, Any]],
    before: dict[int, tuple[str, bool]],
    *,
    stale_since: dt.datetime | None,
) -> dict[str, list[dict[str, Any]]]:
    """Actions completed and newly overdue since `before` (status, overdue per action id), and
    open actions without any update since `stale_since` (the previous round's opening)."""
    completed, overdue, unchanged = [], [], []
    for row in snapshot:
        status, was_overdue = before.get(int(row["id"]), (None, False))
        if row["follow_up_status"] == Status.COMPLETED.value and status != Status.COMPLETED:
            completed.append(_item(row))
        if row["overdue"] and not was_overdue:
            overdue.append(_item(row))
        last = dt.datetime.fromisoformat(row["last_update"]) if row["last_update"] else None
        is_open = row["follow_up_status"] not in CLOSED_STATUSES
        if stale_since is not None and is_open and (last is None or last < stale_since):
            unchanged.append(_item(row))
    return {"completed": completed, "newly_overdue": overdue, "unchanged": unchanged}


def _baseline_of(rnd: ReportingRound) -> dict[int, tuple[str, bool]]:
    """The statuses at the opening, and whether each action was overdue then."""
    return {int(key): (status, bool(overdue)) for key, (status, overdue) in rnd.baseline.items()}


async def close_round(
    session: AsyncSession,
    round_id: int,
    *,
    today: dt.date,
    now: dt.datetime | None = None,
    closed_by: Person | None = None,
    notify_chat_ids: Sequence[int] = (),
) -> RoundInfo:
    """Close the round now: keep the plan as it stands and what changed since the previous
    round, and queue the report for the secretariat chats and the coordinators. Closing a
    closed round is refused (`round_closed`)."""
    now = now or utcnow()
    claimed = await session.execute(
        update(ReportingRound)
        .where(ReportingRound.id == round_id, ReportingRound.closed_at.is_(None))
        .values(closed_at=now, closed_by_id=closed_by.id if closed_by else None)
        .returning(ReportingRound.id)
    )
    if claimed.first() is None:
        await get_round(session, round_id)  # NotFound when there is no such round
        raise InvalidInput("round_closed", round_id=round_id)
    rnd = await get_round(session, round_id)
    await session.refresh(rnd)
    snapshot = await plan_snapshot(session, rnd.plan_id, today)
    previous = await _previous(session, rnd)
    if previous is not None and previous.snapshot is not None:
        before = {
            int(r["id"]): (r["follow_up_status"], bool(r["overdue"])) for r in previous.snapshot
        }
        changes = changes_between(snapshot, before, stale_since=previous.opened_at)
    else:
        changes = changes_between(snapshot, _baseline_of(rnd), stale_since=None)
    state = await progress(session, rnd)
    report = {
        "previous": (
            {
                "id": previous.id,
                "title": previous.title,
                "closes_on": previous.closes_on.isoformat(),
            }
            if previous is not None
            else None
        ),
        **{key: items[:LISTED_MAX] for key, items in changes.items()},
        "counts": {key: len(items) for key, items in changes.items()},
        "asked": len(state.people),
        "reported": sum(1 for p in state.people if not p.pending),
        "partly": sorted(p.name for p in state.people if p.pending and p.reported)[:LISTED_MAX],
        "not_reported": sorted(p.name for p in state.people if not p.reported)[:LISTED_MAX],
        "not_reported_count": sum(1 for p in state.people if not p.reported),
        "updated": sum(p.updated for p in state.people),
        "unchanged_answers": sum(p.unchanged for p in state.people),
    }
    rnd.snapshot = snapshot
    rnd.report = report
    await session.flush()
    info = await round_info(session, rnd)
    await queue_report(
        session, rnd, info.plan_title, await report_chats(session, notify_chat_ids), now
    )
    return info


async def report_chats(session: AsyncSession, notify_chat_ids: Sequence[int]) -> list[int]:
    """Where a round's report goes: the secretariat chats, the secretariat members and the
    active coordinators."""
    people = await session.scalars(
        select(Person.telegram_id)
        .where(
            Person.role.in_([Role.COORDINATOR.value, Role.SECRETARIAT.value]),
            Person.active.is_(True),
            Person.telegram_id.is_not(None),
        )
        .order_by(Person.id)
    )
    chats = list(dict.fromkeys([*notify_chat_ids, *(t for t in people.all() if t is not None)]))
    return chats


def report_payload(rnd: ReportingRound, plan_title: str) -> dict[str, Any]:
    """Everything the report is rendered from (the snapshot included), so that delivering it
    needs no database and a later update of the plan changes nothing of it."""
    return round_payload(rnd) | {
        "plan_title": plan_title,
        "opened_at": rnd.opened_at.isoformat(),
        "closed_at": rnd.closed_at.isoformat() if rnd.closed_at else None,
        "report": rnd.report or {},
        "snapshot": rnd.snapshot or [],
    }


async def queue_report(
    session: AsyncSession,
    rnd: ReportingRound,
    plan_title: str,
    chat_ids: Sequence[int],
    now: dt.datetime,
) -> None:
    payload = report_payload(rnd, plan_title)
    await queue_round_messages(
        session, [(chat_id, REPORT_KIND, payload) for chat_id in chat_ids], now
    )


# --------------------------------------------------------------------------------------------
# The periodic sweep


def reminder_due(days_left: int, reminded: int | None) -> int | None:
    """Which reminder ("3 days", "1 day" before) is due with `days_left` days to the close,
    if one is and it has not been sent: the 3-day one on days 3 and 2, the 1-day one on day 1."""
    if days_left < 1:
        return None
    due = min((d for d in REMINDER_DAYS if d >= days_left), default=None)
    if due is None or (reminded is not None and reminded <= due):
        return None
    return due


@dataclass(slots=True)
class Sweep:
    asked: int = 0
    reminded: int = 0
    closed: list[int] = field(default_factory=list)


async def sweep_rounds(
    session: AsyncSession,
    *,
    now: dt.datetime,
    today: dt.date,
    notify_chat_ids: Sequence[int] = (),
    remind: bool = True,
) -> Sweep:
    """For every open round: close it when its date has passed; else ask those who joined since,
    and (with `remind`) remind those pending when a reminder day has come. Each reminder is
    claimed with a guarded UPDATE, so several processes send it once."""
    sweep = Sweep()
    rounds = (
        await session.scalars(
            select(ReportingRound)
            .where(ReportingRound.closed_at.is_(None))
            .order_by(ReportingRound.id)
        )
    ).all()
    for rnd in rounds:
        if rnd.closes_on < today:
            try:
                await close_round(
                    session, rnd.id, today=today, now=now, notify_chat_ids=notify_chat_ids
                )
            except InvalidInput:  # closed meanwhile, by hand or by another process
                continue
            sweep.closed.append(rnd.id)
            continue
        sweep.asked += await ask_focal_points(session, rnd, now=now)
        days = reminder_due((rnd.closes_on - today).days, rnd.reminded_days)
        if not remind or days is None:
            continue
        claimed = await session.execute(
            update(ReportingRound)
            .where(
                ReportingRound.id == rnd.id,
                or_(ReportingRound.reminded_days.is_(None), ReportingRound.reminded_days > days),
            )
            .values(reminded_days=days)
            .returning(ReportingRound.id)
        )
        if claimed.first() is not None:
            await session.refresh(rnd)
            sweep.reminded += await nudge_pending(session, rnd, now=now, today=today)
    return sweep
