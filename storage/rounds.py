"""Reporting rounds: the secretariat asks every focal point to update a plan by a date.

A round belongs to one plan and is open until its closing date (`closes_on`, the last day
included) or until someone closes it by hand; one round at a time per plan (a partial unique
index backs the check). Opening one asks every active focal point with open actions in the plan
(one outbox row each, spread over time so that thousands of them leave room for people's
replies); the periodic sweep (`sweep_rounds`) asks those who join later, reminds those still
pending three days and one day before the close, and closes the rounds whose date has passed.

Each focal point's part is the plan's actions of their units that are open (or that they have
answered in this round, so completing one keeps it on their list), in the plan's order. What
they report is kept per action: `unchanged`, `updated` or `skipped` (for now); an update made
outside the guided sequence (a comment, a status) counts as `updated` (`note_update`, called by
`storage.followup`), and one made after the close is kept as `late`. Where they are in the
sequence is stored, so they resume where they left after a restart.

At the close the plan as it stood is kept in the round (`snapshot`: per action its status, latest
comments and review state) with what changed since the previous round (`report`), and the
report goes to the secretariat chats and the coordinators through the outbox. Later updates
change neither.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import dialect_of, insert_for
from storage.errors import InvalidInput, NotFound
from storage.models import (
    CLOSED_STATUSES,
    Comment,
    CommentKind,
    KeyAction,
    OutboxMessage,
    Person,
    Plan,
    Recommendation,
    ReportingRound,
    Role,
    RoundAnswer,
    RoundPerson,
    Status,
    Unit,
    action_ref,
    action_units,
    person_units,
    table_of,
    utcnow,
)

ASK_KIND = "round_ask"
REMINDER_KIND = "round_reminder"
REPORT_KIND = "round_report"
ROUND_KINDS = (ASK_KIND, REMINDER_KIND, REPORT_KIND)

UNCHANGED = "unchanged"
UPDATED = "updated"
SKIPPED = "skipped"
#: An answer replaces another of lower rank: an update is never undone by "no changes".
ANSWER_RANK = {SKIPPED: 0, UNCHANGED: 1, UPDATED: 2}

#: Days before the close when those pending are reminded.
REMINDER_DAYS = (3, 1)
#: How far ahead a round may close.
LONGEST = dt.timedelta(days=366)
TITLE_MAX = 200
#: Round messages are queued at this pace (a second's share of Telegram's 30), so that a round
#: for thousands of people leaves room in every second for people's replies and notifications.
SENDS_PER_SECOND = 15
TEXT_MAX = 300
NEWCOMER_DELAY = dt.timedelta(seconds=3)
LISTED_MAX = 30


@dataclass(frozen=True, slots=True)
class RoundInfo:
    id: int
    plan_id: int
    plan_title: str
    title: str
    opened_at: dt.datetime
    closes_on: dt.date
    closed_at: dt.datetime | None
    asked: int = 0

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


@dataclass(frozen=True, slots=True)
class RoundAction:
    """An action of a focal point's part of a round, with what they answered (or None)."""

    id: int
    ref: str
    text: str
    deadline_text: str
    deadline_kind: str
    deadline_due: dt.date | None
    deadline_start: dt.date | None
    status: str
    review_status: str
    answer: str | None


@dataclass(slots=True)
class PersonProgress:
    person_id: int
    telegram_id: int | None
    name: str
    active: bool
    units: list[str] = field(default_factory=list)
    total: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0

    @property
    def reported(self) -> int:
        return self.updated + self.unchanged

    @property
    def pending(self) -> bool:
        return self.reported < self.total

    @property
    def started(self) -> bool:
        return self.reported + self.skipped > 0


@dataclass(slots=True)
class UnitProgress:
    name: str
    people: int = 0
    total: int = 0
    updated: int = 0
    unchanged: int = 0
    not_started: int = 0


@dataclass(slots=True)
class RoundProgress:
    round: RoundInfo
    people: list[PersonProgress]

    @property
    def units(self) -> list[UnitProgress]:
        by_name: dict[str, UnitProgress] = {}
        for person in self.people:
            for name in person.units or ["—"]:
                unit = by_name.setdefault(name, UnitProgress(name))
                unit.people += 1
                unit.total += person.total
                unit.updated += person.updated
                unit.unchanged += person.unchanged
                unit.not_started += 0 if person.started else 1
        return sorted(by_name.values(), key=lambda u: u.name)

    @property
    def not_started(self) -> list[PersonProgress]:
        return [p for p in self.people if not p.started]

    @property
    def pending(self) -> list[PersonProgress]:
        return [p for p in self.people if p.pending and p.active]


# --------------------------------------------------------------------------------------------
# Opening


def check_closing_date(closes_on: dt.date, today: dt.date) -> None:
    """A closing date after today and within a year, else `InvalidInput`."""
    if closes_on <= today:
        raise InvalidInput("round_date_past", closes_on=closes_on.isoformat())
    if closes_on > today + LONGEST:
        raise InvalidInput("round_date_far", closes_on=closes_on.isoformat())


async def _live_plan(session: AsyncSession, plan_id: int | None) -> Plan:
    """The plan asked for, or the only plan there is."""
    query = select(Plan).where(Plan.archived_at.is_(None)).order_by(Plan.id)
    if plan_id is not None:
        plan = await session.scalar(query.where(Plan.id == plan_id))
        if plan is None:
            raise NotFound("plan_not_found", plan_id=plan_id)
        return plan
    plans = (await session.scalars(query.limit(2))).all()
    if not plans:
        raise NotFound("plan_not_found")
    if len(plans) > 1:
        raise InvalidInput("round_plan_needed")
    return plans[0]


async def open_round_of(session: AsyncSession, plan_id: int) -> ReportingRound | None:
    return await session.scalar(
        select(ReportingRound).where(
            ReportingRound.plan_id == plan_id, ReportingRound.closed_at.is_(None)
        )
    )


def _already_open(existing: ReportingRound) -> InvalidInput:
    return InvalidInput(
        "round_already_open",
        round_id=existing.id,
        title=existing.title,
        closes_on=existing.closes_on.isoformat(),
    )


async def open_round(
    session: AsyncSession,
    *,
    closes_on: dt.date,
    today: dt.date,
    plan_id: int | None = None,
    title: str = "",
    opened_by: Person | None = None,
    now: dt.datetime | None = None,
) -> RoundInfo:
    """Open a round on the plan and ask its focal points (outbox rows, in this transaction).

    Refused (`InvalidInput`) for a closing date not after today or more than a year away, and
    when the plan has a round open already (its id, title and date in the error's detail)."""
    now = now or utcnow()
    check_closing_date(closes_on, today)
    plan = await _live_plan(session, plan_id)
    existing = await open_round_of(session, plan.id)
    if existing is not None:
        raise _already_open(existing)
    title = " ".join((title or "").split())[:TITLE_MAX]
    baseline = {
        str(action_id): [status, due is not None and due < today and status not in CLOSED_STATUSES]
        for action_id, status, due in (
            await session.execute(
                select(KeyAction.id, KeyAction.status, KeyAction.deadline_due).where(
                    KeyAction.plan_id == plan.id
                )
            )
        ).all()
    }
    new = ReportingRound(
        plan_id=plan.id,
        title=title,
        opened_by_id=opened_by.id if opened_by else None,
        opened_at=now,
        closes_on=closes_on,
        baseline=baseline,
    )
    try:
        async with session.begin_nested():
            session.add(new)
            await session.flush()
    except IntegrityError:  # another process opened one at the same moment
        existing = await open_round_of(session, plan.id)
        if existing is None:
            raise
        raise _already_open(existing) from None
    asked = await ask_focal_points(session, new, now=now)
    return RoundInfo(new.id, plan.id, plan.title, title, now, closes_on, None, asked)


def _open_action() -> ColumnElement[bool]:
    return KeyAction.status.not_in([s.value for s in CLOSED_STATUSES])


async def ask_focal_points(
    session: AsyncSession,
    rnd: ReportingRound,
    *,
    now: dt.datetime,
    delay: dt.timedelta = dt.timedelta(0),
) -> int:
    """Ask every active focal point with open actions in the round's plan who has not been
    asked yet (those who joined since, too): one outbox row each. Returns how many."""
    already = select(RoundPerson.person_id).where(RoundPerson.round_id == rnd.id)
    rows = (
        await session.execute(
            select(Person.id, Person.telegram_id, func.count(func.distinct(KeyAction.id)))
            .join(person_units, person_units.c.person_id == Person.id)
            .join(action_units, action_units.c.unit_id == person_units.c.unit_id)
            .join(KeyAction, KeyAction.id == action_units.c.action_id)
            .where(
                Person.role == Role.FOCAL.value,
                Person.active.is_(True),
                Person.telegram_id.is_not(None),
                Person.id.not_in(already),
                KeyAction.plan_id == rnd.plan_id,
                _open_action(),
            )
            .group_by(Person.id, Person.telegram_id)
            .order_by(Person.id)
        )
    ).all()
    if not rows:
        return 0
    # Another process sweeping at the same moment may have asked some: they are asked once.
    table = table_of(RoundPerson)
    inserted = set(
        (
            await session.scalars(
                insert_for(dialect_of(session))(table)
                .on_conflict_do_nothing(index_elements=["round_id", "person_id"])
                .returning(table.c.person_id),
                [{"round_id": rnd.id, "person_id": pid, "asked_at": now} for pid, _t, _n in rows],
            )
        ).all()
    )
    payload = _round_payload(rnd)
    asked = [
        (int(tid or 0), ASK_KIND, payload | {"actions": int(n)})
        for pid, tid, n in rows
        if pid in inserted
    ]
    await _queue(session, asked, now, delay)
    return len(asked)


async def ask_newcomers(session: AsyncSession, *, now: dt.datetime) -> int:
    """Ask, in every open round, the focal points not asked yet (someone who just registered).
    Their message waits a few seconds, so that it follows the welcome."""
    asked = 0
    for rnd in (
        await session.scalars(select(ReportingRound).where(ReportingRound.closed_at.is_(None)))
    ).all():
        asked += await ask_focal_points(session, rnd, now=now, delay=NEWCOMER_DELAY)
    return asked


def _round_payload(rnd: ReportingRound) -> dict[str, Any]:
    return {
        "round_id": rnd.id,
        "plan_id": rnd.plan_id,
        "title": rnd.title,
        "closes_on": rnd.closes_on.isoformat(),
    }


async def _queue(
    session: AsyncSession,
    rows: Sequence[tuple[int, str, dict[str, Any]]],
    now: dt.datetime,
    delay: dt.timedelta = dt.timedelta(0),
) -> None:
    """Outbox rows, made available `SENDS_PER_SECOND` a second (the first after `delay`)."""
    if not rows:
        return
    step = dt.timedelta(seconds=1 / SENDS_PER_SECOND)
    await session.execute(
        insert(table_of(OutboxMessage)),
        [
            {
                "chat_id": chat_id,
                "kind": kind,
                "payload": payload,
                "digest": False,
                "created_at": now,
                "available_at": now + delay + step * index,
                "attempts": 0,
            }
            for index, (chat_id, kind, payload) in enumerate(rows)
        ],
    )


# --------------------------------------------------------------------------------------------
# Reading rounds


async def _info(session: AsyncSession, rnd: ReportingRound) -> RoundInfo:
    plan_title = await session.scalar(select(Plan.title).where(Plan.id == rnd.plan_id)) or ""
    asked = await session.scalar(
        select(func.count()).select_from(RoundPerson).where(RoundPerson.round_id == rnd.id)
    )
    return RoundInfo(
        rnd.id,
        rnd.plan_id,
        plan_title,
        rnd.title,
        rnd.opened_at,
        rnd.closes_on,
        rnd.closed_at,
        int(asked or 0),
    )


async def get_round(session: AsyncSession, round_id: int) -> ReportingRound:
    rnd = await session.get(ReportingRound, round_id)
    if rnd is None:
        raise NotFound("round_not_found", round_id=round_id)
    return rnd


async def list_rounds(
    session: AsyncSession, *, plan_id: int | None = None, limit: int = 50
) -> list[RoundInfo]:
    """Rounds, the open ones first, then the latest closed."""
    query = select(ReportingRound).order_by(
        ReportingRound.closed_at.is_not(None), ReportingRound.id.desc()
    )
    if plan_id is not None:
        query = query.where(ReportingRound.plan_id == plan_id)
    return [await _info(session, r) for r in (await session.scalars(query.limit(limit))).all()]


async def current_round(session: AsyncSession, round_id: int | None = None) -> ReportingRound:
    """The round asked for, or the only open one (else the latest)."""
    if round_id is not None:
        return await get_round(session, round_id)
    found = await session.scalar(
        select(ReportingRound).order_by(
            ReportingRound.closed_at.is_not(None), ReportingRound.id.desc()
        )
    )
    if found is None:
        raise NotFound("round_not_found")
    return found


# --------------------------------------------------------------------------------------------
# A focal point's part and their answers


def _part_query(rnd: ReportingRound, person_id: int) -> Any:
    answer = (
        select(RoundAnswer.answer)
        .where(
            RoundAnswer.round_id == rnd.id,
            RoundAnswer.person_id == person_id,
            RoundAnswer.action_id == KeyAction.id,
        )
        .correlate(KeyAction)
        .scalar_subquery()
    )
    mine = select(action_units.c.action_id).join(
        person_units, person_units.c.unit_id == action_units.c.unit_id
    )
    return (
        select(KeyAction, Recommendation.label, answer.label("answer"))
        .join(Recommendation, Recommendation.id == KeyAction.recommendation_id)
        .where(
            KeyAction.plan_id == rnd.plan_id,
            KeyAction.id.in_(mine.where(person_units.c.person_id == person_id)),
            or_(_open_action(), answer.is_not(None)),
        )
        .order_by(KeyAction.position, KeyAction.number)
    )


async def part_of(session: AsyncSession, rnd: ReportingRound, person_id: int) -> list[RoundAction]:
    """The person's actions in the round, in the plan's order, with their answers."""
    rows = (await session.execute(_part_query(rnd, person_id))).all()
    return [
        RoundAction(
            id=action.id,
            ref=action_ref(label, action.number),
            text=action.text,
            deadline_text=action.deadline_text,
            deadline_kind=action.deadline_kind,
            deadline_due=action.deadline_due,
            deadline_start=action.deadline_start,
            status=action.status,
            review_status=action.review_status,
            answer=answer,
        )
        for action, label, answer in rows
    ]


async def membership(
    session: AsyncSession, round_id: int, person_id: int
) -> tuple[ReportingRound, RoundPerson]:
    """The round and the person's place in it (`NotFound` if they were not asked)."""
    rnd = await get_round(session, round_id)
    member = await session.get(RoundPerson, (round_id, person_id))
    if member is None:
        raise NotFound("round_not_asked", round_id=round_id)
    return rnd, member


def next_in(
    part: Sequence[RoundAction], *, after: int | None = None, skipped: bool = False
) -> RoundAction | None:
    """The next action to show: the first after `after` (in the plan's order) without an
    answer, else the first without one from the start. With `skipped` (a pass over the actions
    skipped for now) those after `after` that were skipped count too, so the pass ends once it
    reaches the end, without coming back to what was skipped again."""
    ids = [a.id for a in part]
    start = ids.index(after) + 1 if after in ids else 0
    for action in part[start:]:
        if action.answer is None or (skipped and action.answer == SKIPPED):
            return action
    return next((a for a in part[:start] if a.answer is None), None)


async def set_position(
    session: AsyncSession, member: RoundPerson, action_id: int | None, now: dt.datetime
) -> None:
    member.current_action_id = action_id
    if member.started_at is None:
        member.started_at = now
    await session.flush()


async def record_answer(
    session: AsyncSession,
    rnd: ReportingRound,
    person_id: int,
    action_id: int,
    answer: str,
    *,
    now: dt.datetime,
) -> str:
    """Keep what the person reported on the action (an answer of lower rank does not replace
    a higher one); after the close it is kept as late. Returns the answer now stored."""
    late = rnd.closed_at is not None
    existing = await session.get(RoundAnswer, (rnd.id, person_id, action_id))
    if existing is None:
        session.add(
            RoundAnswer(
                round_id=rnd.id,
                person_id=person_id,
                action_id=action_id,
                answer=answer,
                answered_at=now,
                late=late,
            )
        )
    elif ANSWER_RANK[answer] >= ANSWER_RANK.get(existing.answer, 0):
        existing.answer, existing.answered_at = answer, now
        existing.late = existing.late or late
    await session.flush()
    stored = await session.get(RoundAnswer, (rnd.id, person_id, action_id))
    assert stored is not None
    return stored.answer


async def note_update(
    session: AsyncSession, person: Person, action: KeyAction, *, now: dt.datetime
) -> None:
    """A follow-up (comment or status) by the person outside the guided sequence: it counts
    as `updated` in the plan's open round, or as a late update in its latest closed one, when
    they were asked in it. No query when the action was read knowing its plan never had a
    round (`KeyAction.plan_had_round`), one indexed query otherwise."""
    if action.plan_had_round is False:
        return
    rnd = await session.scalar(
        select(ReportingRound)
        .where(ReportingRound.plan_id == action.plan_id)
        .order_by(ReportingRound.closed_at.is_not(None), ReportingRound.id.desc())
        .limit(1)
    )
    if rnd is None or await session.get(RoundPerson, (rnd.id, person.id)) is None:
        return
    await record_answer(session, rnd, person.id, action.id, UPDATED, now=now)


# --------------------------------------------------------------------------------------------
# Progress


async def progress(session: AsyncSession, rnd: ReportingRound) -> RoundProgress:
    """Per person asked: their actions, how many updated, confirmed unchanged, skipped."""
    people: dict[int, PersonProgress] = {}
    for pid, tid, name, active in (
        await session.execute(
            select(Person.id, Person.telegram_id, Person.name, Person.active)
            .join(RoundPerson, RoundPerson.person_id == Person.id)
            .where(RoundPerson.round_id == rnd.id)
            .order_by(Person.name, Person.id)
        )
    ).all():
        people[pid] = PersonProgress(pid, tid, name or str(tid or pid), bool(active))
    for pid, unit in (
        await session.execute(
            select(person_units.c.person_id, Unit.name)
            .join(Unit, Unit.id == person_units.c.unit_id)
            .where(person_units.c.person_id.in_(list(people)))
            .order_by(Unit.name)
        )
    ).all():
        people[pid].units.append(unit)
    answered = (
        select(RoundAnswer.answer)
        .where(
            RoundAnswer.round_id == rnd.id,
            RoundAnswer.person_id == RoundPerson.person_id,
            RoundAnswer.action_id == KeyAction.id,
        )
        .correlate(RoundPerson, KeyAction)
        .scalar_subquery()
    )
    pairs = (
        select(RoundPerson.person_id, KeyAction.id, answered.label("answer"))
        .distinct()
        .join(person_units, person_units.c.person_id == RoundPerson.person_id)
        .join(action_units, action_units.c.unit_id == person_units.c.unit_id)
        .join(KeyAction, KeyAction.id == action_units.c.action_id)
        .where(
            RoundPerson.round_id == rnd.id,
            KeyAction.plan_id == rnd.plan_id,
            or_(_open_action(), answered.is_not(None)),
        )
    )
    for pid, _aid, answer in (await session.execute(pairs)).all():
        person = people[pid]
        person.total += 1
        if answer == UPDATED:
            person.updated += 1
        elif answer == UNCHANGED:
            person.unchanged += 1
        elif answer == SKIPPED:
            person.skipped += 1
    return RoundProgress(await _info(session, rnd), list(people.values()))


async def nudge_pending(
    session: AsyncSession, rnd: ReportingRound, *, now: dt.datetime, today: dt.date
) -> int:
    """Remind the active people still pending (an outbox row each). Returns how many."""
    if rnd.closed_at is not None:
        return 0
    state = await progress(session, rnd)
    days_left = (rnd.closes_on - today).days
    payload = _round_payload(rnd) | {"days_left": days_left}
    rows = [
        (int(p.telegram_id), REMINDER_KIND, payload | {"pending": p.total - p.reported})
        for p in state.pending
        if p.telegram_id is not None
    ]
    await _queue(session, rows, now)
    return len(rows)


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
    info = await _info(session, rnd)
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
    return _round_payload(rnd) | {
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
    await _queue(session, [(chat_id, REPORT_KIND, payload) for chat_id in chat_ids], now)


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
