"""Finding and reading key actions: `/acciones` with filters and pages, an action's card, its
history, and `/buscar`. Every button is checked again on the server: its data only says what
was asked for, never what is allowed."""

from __future__ import annotations

import re

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from handlers.common import current_person, get_deps, tr_for, unit_of_work
from handlers.i18n import Tr
from handlers.onboarding import tell_stranger
from handlers.replies import STALE_BUTTON, answer, error_text, send_view, show
from handlers.views import FILTER_CODES, View, action_card, action_list, history, search_results
from storage.actions import ActionFilter, action_history, list_actions, search_actions
from storage.actions import action_card as load_card
from storage.errors import PlanError
from storage.models import Person

PAGE_SIZE = 8
LIST_DATA = re.compile(r"^l:([poa]):(\d{1,5})$")
ACTION_DATA = re.compile(r"^(a|h):(\d{1,12})$")


async def card_view(session, context, person: Person, tr: Tr, action_id: int) -> View:  # type: ignore[no-untyped-def]
    deps = get_deps(context)
    card = await load_card(session, person, action_id, today=deps.today())
    return action_card(tr, card, deps.today())


async def list_view(session, context, person: Person, tr: Tr, flt: ActionFilter, page: int) -> View:  # type: ignore[no-untyped-def]
    result = await list_actions(
        session, person, today=get_deps(context).today(), flt=flt, page=page, page_size=PAGE_SIZE
    )
    return action_list(tr, result, flt)


async def private_only(update: Update, context: ContextTypes.DEFAULT_TYPE, tr: Tr) -> bool:
    chat = update.effective_chat
    if chat is not None and chat.type != ChatType.PRIVATE:
        await context.bot.send_message(
            chat.id, tr._("Let's do this in a private chat with me, so the group stays quiet.")
        )
        return False
    return True


async def actions_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    async with unit_of_work(context) as session:
        person = await current_person(session, update)
        if person is None:
            view = None
        else:
            tr = tr_for(context, person, update.effective_user)
            words = " ".join(context.args or []).casefold()
            flt = (
                ActionFilter.OVERDUE
                if words.startswith(("venc", "overdue"))
                else ActionFilter.ALL
                if words.startswith(("tod", "all"))
                else ActionFilter.PENDING
            )
            view = await list_view(session, context, person, tr, flt, 0)
    if person is None or view is None:
        await tell_stranger(update, context)
        return
    if await private_only(update, context, tr):
        await send_view(context, update.effective_chat.id, view)  # type: ignore[union-attr]


async def list_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    match = LIST_DATA.match(query.data or "")
    async with unit_of_work(context) as session:
        person = await current_person(session, update)
        if person is None:
            view = None
        else:
            tr = tr_for(context, person, update.effective_user)
            view = (
                await list_view(session, context, person, tr, FILTER_CODES[match[1]], int(match[2]))
                if match
                else None
            )
    if person is None:
        await tell_stranger(update, context)
        return
    if view is None:
        await answer(query, tr._(STALE_BUTTON))
        return
    await answer(query)
    await show(update, context, view)


async def action_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`a:<id>` opens a card, `h:<id>` its history."""
    query = update.callback_query
    assert query is not None
    match = ACTION_DATA.match(query.data or "")
    error: PlanError | None = None
    view: View | None = None
    async with unit_of_work(context) as session:
        person = await current_person(session, update)
        tr = tr_for(context, person, update.effective_user)
        if person is not None and match:
            action_id = int(match[2])
            try:
                if match[1] == "h":
                    card = await load_card(
                        session, person, action_id, today=get_deps(context).today()
                    )
                    entries = await action_history(session, person, action_id)
                    view = history(tr, card.action, entries)
                else:
                    view = await card_view(session, context, person, tr, action_id)
            except PlanError as exc:
                error = exc
    if person is None:
        await tell_stranger(update, context)
        return
    if error is not None:
        await answer(query, error_text(tr, error), alert=True)
        return
    if view is None:
        await answer(query, tr._(STALE_BUTTON))
        return
    await answer(query)
    await show(update, context, view)


async def search_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    words = " ".join(context.args or []).strip()
    async with unit_of_work(context) as session:
        person = await current_person(session, update)
        if person is not None:
            tr = tr_for(context, person, update.effective_user)
            if words:
                rows, total = await search_actions(
                    session, person, words[:200], today=get_deps(context).today()
                )
                view = search_results(tr, words[:200], rows, total)
            else:
                view = View(tr._("Write the words to look for, e.g. <code>/buscar roster</code>."))
    if person is None:
        await tell_stranger(update, context)
        return
    if await private_only(update, context, tr):
        await send_view(context, update.effective_chat.id, view)  # type: ignore[union-attr]


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler(["acciones", "actions"], actions_command))
    application.add_handler(CommandHandler(["buscar", "search"], search_command))
    application.add_handler(CallbackQueryHandler(list_pressed, pattern=r"^l:"))
    application.add_handler(CallbackQueryHandler(action_pressed, pattern=r"^[ah]:"))
