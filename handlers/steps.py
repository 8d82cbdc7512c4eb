"""The next message of an open conversation: one table from each state to the step that takes
it (states in `handlers.buttons.State`). Text outside any conversation gets a pointer to
/acciones and /ayuda."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Message, Update
from telegram.constants import ChatType

from handlers.administration import is_plan_caption, plan_step
from handlers.browse import search_step
from handlers.buttons import State
from handlers.context import FlowContext, flow
from handlers.conversation import comment_step, justification_step, observation_step
from handlers.onboarding import role_question_step
from handlers.replies import Reply, View
from handlers.rounds import date_step
from storage.models import Role

Step = Callable[[Message, FlowContext, dict[str, Any]], Awaitable[Reply | None]]

STEPS: dict[State, Step] = {
    State.COMMENT: comment_step,
    State.JUSTIFY: justification_step,
    State.OBSERVE: observation_step,
    State.PLAN_UPLOAD: plan_step,
    State.SEARCH: search_step,
    State.CONFIRM_ROLE: role_question_step,
    State.ROUND_DATE: date_step,
}


@flow()
async def message_received(update: Update, context: FlowContext) -> Reply | None:
    """Text, a photo or a document that is not a command: the next step of the conversation."""
    message = update.effective_message
    if message is None:
        return None
    if is_plan_caption(message) and context.person.role == Role.ADMIN:
        return await plan_step(message, context, {})
    state = await context.step.current()
    if state is None:
        if message.chat.type != ChatType.PRIVATE:
            return None
        return Reply(
            [
                View(
                    context.tr._(
                        "I did not understand that. Use /acciones to see your actions, or /ayuda."
                    )
                )
            ]
        )
    step = STEPS.get(State(state.state)) if state.state in set(State) else None
    if step is None:
        await context.step.close()
        return Reply([View(context.tr._("That conversation had expired. Please start again."))])
    return await step(message, context, dict(state.data))
