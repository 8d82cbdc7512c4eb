"""The conversation step a person has open (states in `handlers.buttons.State`): opened, read,
closed, and discarded when the person moves on to something else.

A step waits for the person's next message. Any command (but /cancelar, which says so itself)
or a button of another message ends it, and the answer says so in one line, so that text typed
later is never taken for a comment the person had forgotten about."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from handlers.action_buttons import EvidenceDone
from handlers.buttons import CancelStep, State
from handlers.i18n import Tr
from handlers.people_buttons import ChangeRole, KeepRole
from storage.actions import action_reference
from storage.conversations import clear_state, get_state, live_state, set_state
from storage.models import CommentKind, ConversationState

#: Buttons that belong to an open step (its prompt's): they do not end it by being pressed.
STEP_BUTTONS = (CancelStep, EvidenceDone, ChangeRole, KeepRole)
CANCEL_COMMANDS = ("/cancelar", "/cancel")


@dataclass(slots=True)
class StepKey:
    """Whose step: a person (their Telegram id) in a chat; and the clock and timeout.

    `read` says whether `step` is the step as read with the person (`get_person_and_step`),
    which saves a query on every update; opening a step forgets it, closing one knows it gone."""

    session: AsyncSession
    chat_id: int
    user_id: int
    now: dt.datetime
    ttl: dt.timedelta
    step: ConversationState | None = None
    read: bool = False

    async def current(self) -> ConversationState | None:
        if not self.read:
            return await get_state(
                self.session, self.chat_id, self.user_id, now=self.now, ttl=self.ttl
            )
        self.step = await live_state(self.session, self.step, now=self.now, ttl=self.ttl)
        return self.step

    async def open(self, state: State, data: dict[str, Any]) -> None:
        await set_state(self.session, self.chat_id, self.user_id, state, data, now=self.now)
        self.step, self.read = None, False

    async def close(self) -> bool:
        self.step, self.read = None, True
        return await clear_state(self.session, self.chat_id, self.user_id)


def moves_on(update: Update) -> bool:
    """Whether this update ends an open step: a command, or a button not of the step."""
    query = update.callback_query
    if query is not None:
        return not any(kind.parse(query.data) is not None for kind in STEP_BUTTONS)
    message = update.effective_message
    text = (message.text or "") if message is not None else ""
    if not text.startswith("/"):
        return False
    command = text.split()[0].split("@")[0].lower()
    return command not in CANCEL_COMMANDS


async def discard(key: StepKey, tr: Tr) -> str | None:
    """End the open step, if any; the line that tells the person what was dropped."""
    state = await key.current()
    if state is None:
        return None
    await key.close()
    ref = await action_reference(key.session, int(state.data.get("action") or 0))
    if state.state == State.COMMENT and ref is not None:
        if state.data.get("kind") == CommentKind.REVIEW:
            return tr._("The pending review comment on {ref} was discarded.", ref=ref)
        return tr._("The pending comment on {ref} was discarded.", ref=ref)
    if state.state == State.JUSTIFY and ref is not None:
        return tr._("The pending status change of {ref} was discarded.", ref=ref)
    if state.state == State.OBSERVE and ref is not None:
        return tr._("The pending observations on {ref} were discarded.", ref=ref)
    if state.state == State.PLAN_UPLOAD:
        return tr._("I am no longer waiting for a plan file.")
    return None
