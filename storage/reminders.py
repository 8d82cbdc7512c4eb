"""Weekly reminders to focal points, the coordinators' weekly digest, and running a periodic job
once whatever the number of bot processes.

Selection is a few SQL queries for everybody at once (no query per person or per action). The
rows written go through the outbox (kinds `reminder` and `digest`), so they are retried and never
lost; `run_weekly` claims the week in `job_runs` in the same transaction as it writes them, so
that a second process (or a second call) finds the week taken and writes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.actions import in_live_plan, overdue_clause
from storage.db import dialect_of, insert_for
from storage.models import (
    CLOSED_STATUSES,
    Comment,
    CommentKind,
    JobRun,
    KeyAction,
    NotifyMode,
    OutboxMessage,
    Person,
    Recommendation,
    ReviewStatus,
    Role,
    Status,
    StatusChange,
    action_ref,
    action_units,
    person_units,
    utcnow,
)

REMINDER_KIND = "reminder"
DIGEST_KIND = "digest"
WEEKLY_JOB = "weekly_reminders"
REMINDER_ITEMS_MAX = 25
DIGEST_ITEMS_MAX = 10
TEXT_MAX = 160


class Reason:
    OBSERVED = "observed"  # the secretariat's observations wait for an answer
    OVERDUE = "overdue"
    DUE_SOON = "due_soon"
    STALE = "stale"


@dataclass(frozen=True, slots=True)
class ReminderItem:
    action_id: int
    plan_id: int
    ref: str
    text: str
    deadline_text: str
    deadline_kind: str
    due: dt.date | None
    status: str
    last_update_at: dt.datetime | None
    reason: str

    def as_payload(self) -> dict[str, Any]:
        return {
            "id": self.action_id,
            "plan_id": self.plan_id,
            "ref": self.ref,
            "text": self.text[:TEXT_MAX],
            "deadline_text": self.deadline_text[:TEXT_MAX],
            "deadline_kind": self.deadline_kind,
            "due": self.due.isoformat() if self.due else None,
            "status": self.status,
            "last_update": self.last_update_at.isoformat() if self.last_update_at else None,
            "reason": self.reason,
        }


@dataclass(slots=True)
class PersonReminder:
    person_id: int
    telegram_id: int
    name: str
    items: list[ReminderItem] = field(default_factory=list)
    #: Counts per reason of all their pending actions (`items` may be capped).
    totals: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        if self.totals:
            return dict(self.totals)
        counts = dict.fromkeys(_REASONS, 0)
        for item in self.items:
            counts[item.reason] += 1
        return counts

    @property
    def total(self) -> int:
        return sum(self.counts().values())


def _open_clause() -> ColumnElement[bool]:
    return KeyAction.status.not_in([s.value for s in CLOSED_STATUSES])


#: Reasons in the order they are listed (the SQL ranks them 0, 1, 2, 3).
_REASONS = (Reason.OBSERVED, Reason.OVERDUE, Reason.DUE_SOON, Reason.STALE)


async def select_reminders(
    session: AsyncSession,
    *,
    today: dt.date,
    now: dt.datetime,
    due_days: int = 14,
    stale_days: int = 30,
    limit: int = REMINDER_ITEMS_MAX,
) -> list[PersonReminder]:
    """Every active focal point with something pending in one of their units: the secretariat's
    open observations, actions overdue, due within `due_days`, or open without an update for
    `stale_days` (counted from the import for an action nobody has updated yet). People with
    nothing pending are not returned.

    Each person gets their first `limit` items (overdue first, then due soon, then without
    news; by deadline within each) and full counts per reason. Two queries whatever the number
    of people: the pending actions of every unit, and the focal points' units; a person's list
    is the union of their units' lists, merged here. (Joining people to actions in SQL instead
    multiplies the rows by the people per unit: ten times slower on a 20,000-action portfolio.)
    """
    due_limit = today + dt.timedelta(days=due_days)
    stale_before = now - dt.timedelta(days=stale_days)
    due_soon = and_(KeyAction.deadline_due >= today, KeyAction.deadline_due <= due_limit)
    stale = func.coalesce(KeyAction.last_update_at, KeyAction.created_at) < stale_before
    observed = KeyAction.review_status == ReviewStatus.OBSERVED.value
    rank = case((observed, 0), (overdue_clause(today), 1), (due_soon, 2), else_=3)
    pending = await session.execute(
        select(
            action_units.c.unit_id,
            rank,
            KeyAction.id,
            KeyAction.plan_id,
            Recommendation.label,
            KeyAction.number,
            KeyAction.text,
            KeyAction.deadline_text,
            KeyAction.deadline_kind,
            KeyAction.deadline_due,
            KeyAction.status,
            KeyAction.last_update_at,
        )
        .select_from(action_units)
        .join(KeyAction, KeyAction.id == action_units.c.action_id)
        .join(Recommendation, Recommendation.id == KeyAction.recommendation_id)
        .where(
            in_live_plan(),
            or_(observed, and_(_open_clause(), or_(overdue_clause(today), due_soon, stale))),
        )
        .order_by(
            rank,
            func.coalesce(KeyAction.deadline_due, dt.date(9999, 12, 31)),
            KeyAction.plan_id,
            KeyAction.position,
            KeyAction.number,
        )
    )
    items: dict[int, ReminderItem] = {}
    order: dict[int, int] = {}
    by_unit: dict[int, list[int]] = {}
    for row in pending.all():
        unit_id, reason, aid, plan_id, label, number, text = row[:7]
        deadline_text, kind, due, status, last_update = row[7:]
        if aid not in items:
            order[aid] = len(order)
            items[aid] = ReminderItem(
                action_id=aid,
                plan_id=plan_id,
                ref=action_ref(label, number),
                text=text,
                deadline_text=deadline_text,
                deadline_kind=kind,
                due=due,
                status=status,
                last_update_at=last_update,
                reason=_REASONS[int(reason)],
            )
        by_unit.setdefault(unit_id, []).append(aid)
    people: dict[int, PersonReminder] = {}
    units_of: dict[int, list[int]] = {}
    for pid, tid, name, unit_id in (
        await session.execute(
            select(Person.id, Person.telegram_id, Person.name, person_units.c.unit_id)
            .join(person_units, person_units.c.person_id == Person.id)
            .where(
                Person.role == Role.FOCAL.value,
                Person.active.is_(True),
                Person.telegram_id.is_not(None),
            )
            .order_by(Person.id)
        )
    ).all():
        if unit_id in by_unit:
            people.setdefault(pid, PersonReminder(pid, int(tid), name or ""))
            units_of.setdefault(pid, []).append(unit_id)
    for pid, reminder in people.items():
        ids = sorted({a for u in units_of[pid] for a in by_unit[u]}, key=order.__getitem__)
        totals = dict.fromkeys(_REASONS, 0)
        for aid in ids:
            totals[items[aid].reason] += 1
        reminder.totals = totals
        reminder.items = [items[aid] for aid in ids[:limit]]
    return list(people.values())


def reminder_payload(
    reminder: PersonReminder, *, today: dt.date, due_days: int, stale_days: int
) -> dict[str, Any]:
    return {
        "name": reminder.name,
        "today": today.isoformat(),
        "due_days": due_days,
        "stale_days": stale_days,
        "total": reminder.total,
        "counts": reminder.counts(),
        "items": [i.as_payload() for i in reminder.items[:REMINDER_ITEMS_MAX]],
    }


# --------------------------------------------------------------------------------------------
# The coordinators' weekly digest


@dataclass(slots=True)
class WeeklyDigest:
    since: dt.datetime
    until: dt.datetime
    comments: int = 0
    review_comments: int = 0
    status_changes: int = 0
    completed: int = 0
    reviews: int = 0
    total: int = 0
    overdue: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    changes: list[dict[str, Any]] = field(default_factory=list)
    newly_overdue: list[dict[str, Any]] = field(default_factory=list)
    newly_overdue_total: int = 0

    def as_payload(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "comments": self.comments,
            "review_comments": self.review_comments,
            "status_changes": self.status_changes,
            "completed": self.completed,
            "reviews": self.reviews,
            "total": self.total,
            "overdue": self.overdue,
            "by_status": self.by_status,
            "changes": self.changes,
            "newly_overdue": self.newly_overdue,
            "newly_overdue_total": self.newly_overdue_total,
        }


async def weekly_digest(
    session: AsyncSession,
    *,
    since: dt.datetime,
    now: dt.datetime,
    today: dt.date,
    since_date: dt.date,
    limit: int = DIGEST_ITEMS_MAX,
) -> WeeklyDigest:
    """What happened in [since, now) across every plan, and what became overdue since
    `since_date` (deadlines in [since_date, today) still open)."""
    digest = WeeklyDigest(since=since, until=now)
    in_week_comments = and_(Comment.created_at >= since, Comment.created_at < now)
    for kind, count in (
        await session.execute(
            select(Comment.kind, func.count()).where(in_week_comments).group_by(Comment.kind)
        )
    ).all():
        if kind == CommentKind.REVIEW:
            digest.review_comments = int(count)
        else:
            digest.comments += int(count)
    in_week_changes = and_(StatusChange.created_at >= since, StatusChange.created_at < now)
    is_status = StatusChange.field == "status"
    counts = (
        await session.execute(
            select(
                func.coalesce(func.sum(_flag(is_status)), 0),
                func.coalesce(
                    func.sum(_flag(and_(is_status, StatusChange.new_value == Status.COMPLETED))), 0
                ),
                func.coalesce(
                    func.sum(
                        _flag(
                            and_(
                                StatusChange.field == "review_status",
                                StatusChange.new_value != ReviewStatus.PENDING.value,
                            )
                        )
                    ),
                    0,
                ),
            ).where(in_week_changes)
        )
    ).one()
    digest.status_changes, digest.completed, digest.reviews = (int(v) for v in counts)
    changes = await session.execute(
        select(
            KeyAction.id,
            KeyAction.plan_id,
            Recommendation.label,
            KeyAction.number,
            KeyAction.text,
            StatusChange.old_value,
            StatusChange.new_value,
            Person.name,
        )
        .select_from(StatusChange)
        .join(KeyAction, KeyAction.id == StatusChange.action_id)
        .join(Recommendation, Recommendation.id == KeyAction.recommendation_id)
        .outerjoin(Person, Person.id == StatusChange.author_id)
        .where(in_week_changes, is_status)
        .order_by(StatusChange.created_at.desc(), StatusChange.id.desc())
        .limit(limit)
    )
    digest.changes = [
        {
            "id": aid,
            "plan_id": plan_id,
            "ref": action_ref(label, number),
            "text": text[:TEXT_MAX],
            "old": old,
            "new": new,
            "author": author or "",
        }
        for aid, plan_id, label, number, text, old, new, author in changes.all()
    ]
    for status, count in (
        await session.execute(select(KeyAction.status, func.count()).group_by(KeyAction.status))
    ).all():
        digest.by_status[status] = int(count)
    digest.total = sum(digest.by_status.values())
    digest.overdue = int(
        await session.scalar(
            select(func.count()).select_from(KeyAction).where(overdue_clause(today))
        )
        or 0
    )
    newly = and_(overdue_clause(today), KeyAction.deadline_due >= since_date)
    digest.newly_overdue_total = int(
        await session.scalar(select(func.count()).select_from(KeyAction).where(newly)) or 0
    )
    rows = await session.execute(
        select(
            KeyAction.id,
            KeyAction.plan_id,
            Recommendation.label,
            KeyAction.number,
            KeyAction.text,
            KeyAction.deadline_due,
        )
        .join(Recommendation, Recommendation.id == KeyAction.recommendation_id)
        .where(newly)
        .order_by(KeyAction.deadline_due, KeyAction.plan_id, KeyAction.position, KeyAction.number)
        .limit(limit)
    )
    digest.newly_overdue = [
        {
            "id": aid,
            "plan_id": plan_id,
            "ref": action_ref(label, number),
            "text": text[:TEXT_MAX],
            "due": due.isoformat(),
        }
        for aid, plan_id, label, number, text, due in rows.all()
        if due is not None  # newly overdue: the query only finds dated actions
    ]
    return digest


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


async def digest_recipients(session: AsyncSession) -> list[int]:
    """Telegram ids of the active coordinators whose `/avisos` choice includes the weekly
    report (every choice but "off")."""
    rows = await session.scalars(
        select(Person.telegram_id)
        .where(
            Person.role == Role.COORDINATOR.value,
            Person.active.is_(True),
            Person.notify_mode.in_(
                [NotifyMode.IMMEDIATE.value, NotifyMode.DIGEST.value, NotifyMode.WEEKLY.value]
            ),
            Person.telegram_id.is_not(None),
        )
        .order_by(Person.id)
    )
    return [t for t in rows.all() if t is not None]


# --------------------------------------------------------------------------------------------
# Periodic runs, once per period


def period_start(
    now: dt.datetime, timezone: str | dt.tzinfo, *, weekday: int | None = None
) -> dt.datetime:
    """Local midnight of the period's first day: today (daily jobs) or the latest `weekday`
    (0 = Monday) on or before today (weekly jobs). Midnight rather than the job's hour so that a
    run a little early or late (clocks of two servers) still falls in the same period."""
    zone = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
    local = now.astimezone(zone)
    day = local.date()
    if weekday is not None:
        day -= dt.timedelta(days=(local.weekday() - weekday) % 7)
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)


async def claim_run(
    session: AsyncSession, name: str, start: dt.datetime, *, now: dt.datetime | None = None
) -> bool:
    """Take the job `name` for the period beginning at `start`: True for exactly one caller per
    period, however many processes try (an UPDATE guarded by the period; the first run ever
    inserts the row). Commit with the work it guards."""
    now = now or utcnow()
    result = await session.execute(
        update(JobRun)
        .where(JobRun.name == name, JobRun.last_run_at < start)
        .values(last_run_at=now)
        .returning(JobRun.name)
    )
    if result.first() is not None:
        return True
    insert = insert_for(dialect_of(session))(JobRun)
    inserted = await session.execute(
        insert.values(name=name, last_run_at=now)
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(JobRun.name)
    )
    return inserted.first() is not None


@dataclass(frozen=True, slots=True)
class WeeklyRun:
    ran: bool
    reminders: int = 0
    digests: int = 0


async def run_weekly(
    session: AsyncSession,
    *,
    now: dt.datetime,
    today: dt.date,
    start: dt.datetime,
    due_days: int = 14,
    stale_days: int = 30,
    name: str = WEEKLY_JOB,
) -> WeeklyRun:
    """Claim this week's run and write its reminders and digests to the outbox, in the caller's
    transaction (so a failure leaves the week unclaimed, to be tried again)."""
    if not await claim_run(session, name, start, now=now):
        return WeeklyRun(ran=False)
    reminders = await select_reminders(
        session, today=today, now=now, due_days=due_days, stale_days=stale_days
    )
    for reminder in reminders:
        session.add(
            OutboxMessage(
                chat_id=reminder.telegram_id,
                kind=REMINDER_KIND,
                payload=reminder_payload(
                    reminder, today=today, due_days=due_days, stale_days=stale_days
                ),
                digest=False,
                created_at=now,
                available_at=now,
            )
        )
    recipients = await digest_recipients(session)
    digests = 0
    if recipients:
        since = now - dt.timedelta(days=7)
        digest = await weekly_digest(
            session, since=since, now=now, today=today, since_date=today - dt.timedelta(days=7)
        )
        if digest.total:
            payload = digest.as_payload()
            for chat_id in recipients:
                session.add(
                    OutboxMessage(
                        chat_id=chat_id,
                        kind=DIGEST_KIND,
                        payload=payload,
                        digest=False,
                        created_at=now,
                        available_at=now,
                    )
                )
                digests += 1
    await session.flush()
    return WeeklyRun(ran=True, reminders=len(reminders), digests=digests)
