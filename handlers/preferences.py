"""/avisos: how a coordinator, the secretariat or an administrator is told of changes: at once,
in one message a day, or not at all. `/avisos` shows the choice as buttons (`nm:<mode>`);
`/avisos on|off|diario` sets it directly.

Focal points are not notified of other people's changes; they get the weekly reminder of their
own pending actions, which /avisos explains.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from handlers.common import current_person, tr_for, unit_of_work
from handlers.i18n import N_, Tr
from storage.models import NotifyMode, Person, Role
from storage.people import set_notify_mode

PREFIX = "nm"
MODE_WORDS = {
    NotifyMode.IMMEDIATE: {"on", "si", "sí", "activar", "inmediato", "inmediatos", "immediate"},
    NotifyMode.DIGEST: {"diario", "resumen", "digest", "daily"},
    NotifyMode.OFF: {"off", "no", "desactivar", "apagar", "ninguno"},
}
MODE_LABELS = {
    NotifyMode.IMMEDIATE: N_("🔔 At once"),
    NotifyMode.DIGEST: N_("🗞 Daily summary"),
    NotifyMode.OFF: N_("🔕 Off"),
}


def _mode_text(tr: Tr, mode: str) -> str:
    if mode == NotifyMode.IMMEDIATE:
        return tr._("You are told of every new comment and status change as it happens.")
    if mode == NotifyMode.DIGEST:
        return tr._("You get the day's comments and status changes in one message each evening.")
    return tr._("You get no notices of changes.")


def view(tr: Tr, person: Person) -> tuple[str, InlineKeyboardMarkup | None]:
    if person.role == Role.FOCAL:
        return (
            tr._(
                "Notices of changes go to the coordination and the secretariat. Every week you "
                "get a reminder of your actions that are overdue, due soon or without news."
            ),
            None,
        )
    current = NotifyMode(person.notify_mode)
    text = "\n".join(
        [
            tr._("<b>Notices</b>"),
            _mode_text(tr, current),
            "",
            tr._("Choose how you want to be told:"),
        ]
    )
    buttons = [
        InlineKeyboardButton(
            ("✓ " if mode == current else "") + tr.raw(MODE_LABELS[mode]),
            callback_data=f"{PREFIX}:{mode.value}",
        )
        for mode in (NotifyMode.IMMEDIATE, NotifyMode.DIGEST, NotifyMode.OFF)
    ]
    return text, InlineKeyboardMarkup([buttons[:2], buttons[2:]])


def parse_mode(words: list[str]) -> NotifyMode | None:
    for word in words:
        for mode, known in MODE_WORDS.items():
            if word.casefold() in known:
                return mode
    return None


async def notices_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    async with unit_of_work(context) as session:
        person = await current_person(session, update)
        tr = tr_for(context, person, update.effective_user)
        if person is None:
            text = tr._("This is for registered people: open your invitation link first.")
            markup = None
        else:
            mode = parse_mode(context.args or [])
            if mode is not None and person.role != Role.FOCAL:
                await set_notify_mode(session, person, mode)
            text, markup = view(tr, person)
    await message.reply_text(text, reply_markup=markup)


async def notices_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    value = (query.data or "").partition(":")[2]
    async with unit_of_work(context) as session:
        person = await current_person(session, update)
        tr = tr_for(context, person, update.effective_user)
        if person is None or value not in {m.value for m in NotifyMode}:
            await query.answer()
            return
        if person.role != Role.FOCAL:
            await set_notify_mode(session, person, value)
        text, markup = view(tr, person)
    await query.answer(tr.raw("Saved."))
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler(["avisos", "notices"], notices_command))
    application.add_handler(CallbackQueryHandler(notices_callback, pattern=rf"^{PREFIX}:"))
