"""Reporting rounds: the secretariat asks every focal point to update a plan by a date.

A round belongs to one plan and is open until its closing date (`closes_on`, the last day
included) or until someone closes it by hand; one round at a time per plan (a partial unique
index backs the check). Opening one asks every active focal point with open actions in the plan
(one outbox row each, spread over time so that thousands of them leave room for people's
replies); the periodic sweep (`storage.round_closing.sweep_rounds`) asks those who join later,
reminds those still pending three days and one day before the close, and closes the rounds whose
date has passed.

This module holds the core the others build on: the kinds of the rounds' outbox messages, the
round as the chat and the command line show it (`RoundInfo`), opening and asking, and reading
rounds. A focal point's part and their answers are in `storage.round_answers`, how far everyone
is and the reminders in `storage.round_progress`, the close, its report and the periodic sweep
in `storage.round_closing`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import dialect_of, insert_for
from storage.errors import InvalidInput, NotFound
from storage.models import (
    CLOSED_STATUSES,
    KeyAction,
    OutboxMessage,
    Person,
    Plan,
    ReportingRound,
    Role,
    RoundPerson,
    action_units,
    person_units,
    table_of,
    utcnow,
)

ASK_KIND = "round_ask"
REMINDER_KIND = "round_reminder"
REPORT_KIND = "round_report"
ROUND_KINDS = (ASK_KIND, REMINDER_KIND, REPORT_KIND)

#: How far ahead a round may close.
LONGEST = dt.timedelta(days=366)
TITLE_MAX = 200
#: Round messages are queued at this pace (a second's share of Telegram's 30), so that a round
#: for thousands of people leaves room in every second for people's replies and notifications.
SENDS_PER_SECOND = 15
NEWCOMER_DELAY = dt.timedelta(seconds=3)


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


def action_is_open() -> ColumnElement[bool]:
    """The condition that a `KeyAction` is open (not in a closed status): a round asks about
    those, and a focal point's part and the progress count them."""
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
                action_is_open(),
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
    payload = round_payload(rnd)
    asked = [
        (int(tid or 0), ASK_KIND, payload | {"actions": int(n)})
        for pid, tid, n in rows
        if pid in inserted
    ]
    await queue_round_messages(session, asked, now, delay)
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


def round_payload(rnd: ReportingRound) -> dict[str, Any]:
    """What every round message's payload carries about the round (asks, reminders, reports)."""
    return {
        "round_id": rnd.id,
        "plan_id": rnd.plan_id,
        "title": rnd.title,
        "closes_on": rnd.closes_on.isoformat(),
    }


async def queue_round_messages(
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


async def round_info(session: AsyncSession, rnd: ReportingRound) -> RoundInfo:
    """The round as shown: with its plan's title and how many people were asked."""
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
    return [await round_info(session, r) for r in (await session.scalars(query.limit(limit))).all()]


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
