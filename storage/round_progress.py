"""How far a reporting round is: per person asked (and per unit) their actions, how many
they updated, confirmed unchanged or skipped; and the reminder to those still pending.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    KeyAction,
    Person,
    ReportingRound,
    RoundAnswer,
    RoundPerson,
    Unit,
    action_units,
    person_units,
)
from storage.round_answers import SKIPPED, UNCHANGED, UPDATED
from storage.rounds import (
    REMINDER_KIND,
    RoundInfo,
    action_is_open,
    queue_round_messages,
    round_info,
    round_payload,
)


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
            or_(action_is_open(), answered.is_not(None)),
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
    return RoundProgress(await round_info(session, rnd), list(people.values()))


async def nudge_pending(
    session: AsyncSession, rnd: ReportingRound, *, now: dt.datetime, today: dt.date
) -> int:
    """Remind the active people still pending (an outbox row each). Returns how many."""
    if rnd.closed_at is not None:
        return 0
    state = await progress(session, rnd)
    days_left = (rnd.closes_on - today).days
    payload = round_payload(rnd) | {"days_left": days_left}
    rows = [
        (int(p.telegram_id), REMINDER_KIND, payload | {"pending": p.total - p.reported})
        for p in state.pending
        if p.telegram_id is not None
    ]
    await queue_round_messages(session, rows, now)
    return len(rows)
