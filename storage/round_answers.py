"""A focal point's part of a reporting round and their answers.

Each focal point's part is the plan's actions of their units that are open (or that they have
answered in this round, so completing one keeps it on their list), in the plan's order. What
they report is kept per action: `unchanged`, `updated` or `skipped` (for now); an update made
outside the guided sequence (a comment, a status) counts as `updated` (`note_update`, called by
`storage.followup`), and one made after the close is kept as `late`. Where they are in the
sequence is stored, so they resume where they left after a restart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import NotFound
from storage.models import (
    KeyAction,
    Person,
    Recommendation,
    ReportingRound,
    RoundAnswer,
    RoundPerson,
    action_ref,
    action_units,
    person_units,
)
from storage.rounds import action_is_open, get_round

UNCHANGED = "unchanged"
UPDATED = "updated"
SKIPPED = "skipped"
#: An answer replaces another of lower rank: an update is never undone by "no changes".
ANSWER_RANK = {SKIPPED: 0, UNCHANGED: 1, UPDATED: 2}


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
            or_(action_is_open(), answer.is_not(None)),
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
