"""Finding and reading key actions: `/acciones` with filters and pages, an action's card, its
history, and `/buscar`. Every button is checked again on the server: its data only says what
was asked for, never what is allowed."""

from __future__ import annotations

from typing import Any

from telegram import Message, Update

from handlers.action_buttons import ActionList, OpenCard, OpenCardAnew, ShowHistory
from handlers.buttons import State, pressed
from handlers.cards import card_view
from handlers.context import FlowContext, flow
from handlers.replies import Reply, View, stale_button
from handlers.views import action_list, history, search_results
from storage.actions import (
    ActionFilter,
    action_history,
    default_filter,
    list_actions,
    may_review,
    search_actions,
)
from storage.actions import action_card as load_card
from storage.models import Person

PAGE_SIZE = 8
SEARCH_CHARS = 200


async def list_view(context: FlowContext, flt: ActionFilter, page: int) -> View:
    result = await list_actions(
        context.session,
        context.person,
        today=context.deps.today(),
        flt=flt,
        page=page,
        page_size=PAGE_SIZE,
    )
    return action_list(context.tr, result, flt, reviewer=may_review(context.person))


def filter_named(words: str, person: Person) -> ActionFilter:
    """`/acciones vencidas`, `/acciones todas`, `/acciones pendientes`, `/acciones por revisar`
    (or English); otherwise the person's default (the secretariat's: what waits for review)."""
    if words.startswith(("venc", "overdue")):
        return ActionFilter.OVERDUE
    if words.startswith(("tod", "all")):
        return ActionFilter.ALL
    if words.startswith("pend"):
        return ActionFilter.PENDING
    if words.startswith(("por rev", "rev", "to rev")) and may_review(person):
        return ActionFilter.TO_REVIEW
    if words.startswith(("obs", "con obs", "with obs")):
        return ActionFilter.OBSERVED
    return default_filter(person)


@flow(private=True)
async def actions_command(update: Update, context: FlowContext) -> View:
    """/acciones [vencidas|todas|pendientes|por revisar]: the person's actions, a page at a time."""
    words = " ".join(context.args or []).casefold()
    return await list_view(context, filter_named(words, context.person), 0)


@flow()
async def list_pressed(update: Update, context: FlowContext) -> Reply:
    """A page or a filter of the list."""
    button = pressed(update, ActionList)
    if button is None:
        return stale_button(context.tr)
    return Reply([await list_view(context, button.filter, button.page)])


@flow()
async def card_pressed(update: Update, context: FlowContext) -> Reply:
    """Open an action's card: in place of a list, or anew under a notice (which stays)."""
    button = pressed(update, OpenCard) or pressed(update, OpenCardAnew)
    if button is None:
        return stale_button(context.tr)
    anew = isinstance(button, OpenCardAnew)
    return Reply([await card_view(context, button.action_id)], edit=not anew)


@flow()
async def history_pressed(update: Update, context: FlowContext) -> Reply:
    """An action's history: every comment and status change."""
    button = pressed(update, ShowHistory)
    if button is None:
        return stale_button(context.tr)
    card = await load_card(
        context.session, context.person, button.action_id, today=context.deps.today()
    )
    entries = await action_history(context.session, context.person, button.action_id)
    return Reply([history(context.tr, card.action, entries)])


@flow(private=True)
async def search_command(update: Update, context: FlowContext) -> View:
    """/buscar WORDS: actions whose text or units contain the words; bare, it asks for them."""
    words = " ".join(context.args or [])
    if not words.strip():
        await context.step.open(State.SEARCH, {})
        return View(context.tr._("What should I look for? Write a few words (or /cancelar)."))
    return await _search(context, words)


async def search_step(message: Message, context: FlowContext, data: dict[str, Any]) -> Reply:
    """The words asked for by a bare /buscar."""
    await context.step.close()
    return Reply([await _search(context, message.text or message.caption or "")])


async def _search(context: FlowContext, words: str) -> View:
    words = " ".join(words.split())[:SEARCH_CHARS]
    if not words:
        return View(context.tr._("Write the words to look for, e.g. <code>/buscar roster</code>."))
    rows, total = await search_actions(
        context.session, context.person, words, today=context.deps.today()
    )
    return search_results(context.tr, words, rows, total)
