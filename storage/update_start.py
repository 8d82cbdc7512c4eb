"""What every update reads first: its claim (a redelivered update is recognised and ignored)
and the person who sent it, with the conversation step they have open in the chat.

On PostgreSQL each statement is a network round trip, and every text message needs both: there
they are one statement, the claim's INSERT a data-modifying CTE of the person's read (it runs
whether or not anyone is read, and its count says whether the update was new). SQLite has no
INSERT inside a WITH: the two run one after the other."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.conversations import CLAIM, claim_update
from storage.db import dialect_of
from storage.models import ConversationState, Person, utcnow
from storage.people import PERSON_AND_STEP, get_person_and_step

#: The claim's INSERT as a CTE, and its count (1: the update is new) beside the person's read.
_CLAIMED = select(func.count()).select_from(CLAIM["postgresql"].cte("claim")).scalar_subquery()
_CLAIM_PERSON_AND_STEP = PERSON_AND_STEP.add_columns(_CLAIMED.label("claimed"))


@dataclass(frozen=True, slots=True)
class UpdateStart:
    claimed: bool  # False: processed before (a redelivery)
    person: Person | None  # the sender, active or not (None: never registered)
    step: ConversationState | None  # their open step in the chat, expired or not


async def start_update(
    session: AsyncSession, update_id: int | None, telegram_id: int | None, chat_id: int
) -> UpdateStart:
    """Claim `update_id` (None: nothing to claim, as a button press, whose effect is
    idempotent) and read the sender (`telegram_id`, None when the update has none) with their
    open step in `chat_id`."""
    if update_id is not None and telegram_id is not None and dialect_of(session) == "postgresql":
        params = {
            "update_id": update_id,
            "processed_at": utcnow(),
            "telegram_id": telegram_id,
            "chat_id": chat_id,
        }
        person, step, claimed = (
            (await session.execute(_CLAIM_PERSON_AND_STEP, params)).unique().one()
        )
        return UpdateStart(bool(claimed), person, step)
    if update_id is not None and not await claim_update(session, update_id):
        return UpdateStart(False, None, None)
    if telegram_id is None:
        return UpdateStart(True, None, None)
    return UpdateStart(True, *await get_person_and_step(session, telegram_id, chat_id))
