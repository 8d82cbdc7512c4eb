"""The command menu, per role and language (`set_my_commands` with a chat scope)."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from handlers.i18n import N_, Tr
from locales import DEFAULT_LOCALE, SUPPORTED
from storage.models import Role

log = logging.getLogger(__name__)

DESCRIPTIONS = {
    "start": N_("Start or register with an invitation"),
    "acciones": N_("My key actions"),
    "buscar": N_("Find actions by words"),
    "resumen": N_("State of the plan"),
    "exportar": N_("Download the plan as a spreadsheet"),
    "avisos": N_("Notification preferences"),
    "revisar": N_("Review queue: actions changed since their validation"),
    "ronda": N_("Reporting rounds: ask everyone for an update by a date"),
    "ayuda": N_("What I can do"),
    "idioma": N_("Change language"),
    "cancelar": N_("Cancel what you are doing"),
    "invitar": N_("Invite a person"),
    "usuarios": N_("People and their units"),
    "plan": N_("Import a plan spreadsheet"),
    "invitaciones": N_("Pending invitations"),
}
BASE = ["acciones", "buscar", "resumen"]
TAIL = ["ayuda", "idioma", "cancelar"]
ROLE_COMMANDS = {
    Role.FOCAL: [*BASE, *TAIL],
    Role.COORDINATOR: [*BASE, "exportar", "ronda", "avisos", *TAIL],
    Role.SECRETARIAT: ["revisar", *BASE, "exportar", "ronda", "avisos", *TAIL],
    Role.ADMIN: [
        *BASE,
        "revisar",
        "exportar",
        "ronda",
        "avisos",
        "invitar",
        "usuarios",
        "plan",
        "invitaciones",
        *TAIL,
    ],
}
ANONYMOUS = ["start", "ayuda"]


def commands_for(tr: Tr, names: list[str]) -> list[BotCommand]:
    return [BotCommand(name, tr.raw(DESCRIPTIONS[name])) for name in names]


async def set_role_commands(bot: Bot, chat_id: int, role: str, tr: Tr) -> None:
    try:
        await bot.set_my_commands(
            commands_for(tr, ROLE_COMMANDS[Role(role)]), scope=BotCommandScopeChat(chat_id)
        )
    except TelegramError as exc:  # the menu is a convenience: never fail a flow for it
        log.warning("could not set the command menu for %s: %s", chat_id, exc)


async def set_default_commands(bot: Bot) -> None:
    """The menu of people not yet registered, in each supported language."""
    for locale in SUPPORTED:
        await bot.set_my_commands(
            commands_for(Tr(locale), ANONYMOUS),
            scope=BotCommandScopeDefault(),
            language_code=None if locale == DEFAULT_LOCALE else locale,
        )
