"""An action's card, as the person may see it: the screen every action flow ends on (opening
an action, and after a comment, a status or a review)."""

from __future__ import annotations

from handlers.context import FlowContext
from handlers.replies import View
from handlers.views import action_card
from storage.actions import action_card as load_card
from storage.evidence import evidence_of_seen_action


async def card_view(context: FlowContext, action_id: int) -> View:
    """An action's card, as the person may see it (shared by every flow that ends on it)."""
    today = context.deps.today()
    card = await load_card(context.session, context.person, action_id, today=today)
    evidence = (
        await evidence_of_seen_action(context.session, action_id)  # card checked it
        if card.has_evidence
        else []
    )
    return action_card(context.tr, card, today, evidence)
