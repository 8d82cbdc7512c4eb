"""/avisos: how a coordinator, the secretariat or an administrator is told of changes: at once,
in one message a day, or not at all. `/avisos` shows the choice as buttons;
`/avisos on|off|diario` sets it directly.

Focal points are not notified of other people's changes; they get the weekly reminder of their
own pending actions, which /avisos explains.
"""

from __future__ import annotations

from telegram import Update

from handlers.buttons import pressed
from handlers.context import FlowContext, Strangers, flow
from handlers.i18n import N_, Tr
from handlers.people_buttons import ChooseNotifyMode
from handlers.replies import Reply, View, stale_button
from storage.models import NotifyMode, Person, Role
from storage.people import set_notify_mode

MODE_WORDS = {
    NotifyMode.IMMEDIATE: {"on", "si", "sí", "activar", "inmediato", "inmediatos", "immediate"},
    NotifyMode.DIGEST: {"diario", "resumen", "digest", "daily"},
    NotifyMode.WEEKLY: {"semanal", "semana", "weekly"},
    NotifyMode.OFF: {"off", "no", "desactivar", "apagar", "ninguno"},
}
MODE_LABELS = {
    NotifyMode.IMMEDIATE: N_("🔔 At once"),
    NotifyMode.DIGEST: N_("🗞 Daily summary"),
    NotifyMode.WEEKLY: N_("📅 Weekly report only"),
    NotifyMode.OFF: N_("🔕 Off"),
}


def offered_modes(role: str) -> tuple[NotifyMode, ...]:
    """The choices a role has: the weekly report is the coordinators'."""
    if role == Role.COORDINATOR:
        return (NotifyMode.IMMEDIATE, NotifyMode.DIGEST, NotifyMode.WEEKLY, NotifyMode.OFF)
    return (NotifyMode.IMMEDIATE, NotifyMode.DIGEST, NotifyMode.OFF)


def _mode_text(tr: Tr, mode: str, role: str) -> str:
    weekly = (
        " " + tr._("Every week you also get the week's report on the plan.")
        if role == Role.COORDINATOR
        else ""
    )
    if mode == NotifyMode.WEEKLY:
        return tr._("You get no notices of changes, only the week's report on the plan.")
    if mode == NotifyMode.IMMEDIATE:
        return tr._("You are told of every new comment and status change as it happens.") + weekly
    if mode == NotifyMode.DIGEST:
        text = tr._("You get the day's comments and status changes in one message each evening.")
        return text + weekly
    if role == Role.COORDINATOR:
        return tr._("You get no notices of changes and no weekly report.")
    return tr._("You get no notices of changes.")


def notices_view(tr: Tr, person: Person) -> View:
    if person.role == Role.FOCAL:
        return View(
            tr._(
                "Notices of changes go to the coordination and the secretariat. Every week you "
                "get a reminder of your actions that are overdue, due soon or without news."
            )
        )
    current = NotifyMode(person.notify_mode)
    text = "\n".join(
        [
            tr._("<b>Notices</b>"),
            _mode_text(tr, current, person.role),
            "",
            tr._("Choose how you want to be told:"),
        ]
    )
    buttons = [
        (("✓ " if mode == current else "") + tr.raw(MODE_LABELS[mode]), ChooseNotifyMode(mode))
        for mode in offered_modes(person.role)
    ]
    return View(text, [buttons[:2], buttons[2:]])


def parse_mode(words: list[str], role: str) -> NotifyMode | None:
    for word in words:
        for mode in offered_modes(role):
            if word.casefold() in MODE_WORDS[mode]:
                return mode
    return None


@flow(strangers=Strangers.REFUSE)
async def notices_command(update: Update, context: FlowContext) -> View:
    """/avisos [on|off|diario]: how the person is told of changes."""
    person = context.person
    mode = parse_mode(context.args or [], person.role)
    if mode is not None and person.role != Role.FOCAL:
        await set_notify_mode(context.session, person, mode)
    return notices_view(context.tr, person)


@flow(strangers=Strangers.REFUSE)
async def notices_chosen(update: Update, context: FlowContext) -> Reply:
    """A notices button: the choice is kept."""
    button = pressed(update, ChooseNotifyMode)
    if button is None:
        return stale_button(context.tr)
    if button.mode in offered_modes(context.person.role) and context.person.role != Role.FOCAL:
        await set_notify_mode(context.session, context.person, button.mode)
    return Reply([notices_view(context.tr, context.person)], notice=context.tr.raw("Saved."))
