"""The dashboard's buttons in the chat: "📋 Open the dashboard" under `/resumen`, and the bot's
menu button, for coordination, the secretariat and admins, when `WEB_APP_URL` is set.

Telegram opens a `web_app` button in private chats only, so groups never get one."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import Bot, MenuButtonDefault, MenuButtonWebApp, WebAppInfo
from telegram.error import TelegramError

from handlers.i18n import N_, Tr
from handlers.replies import View
from handlers.summary_buttons import OpenDashboard
from storage.models import Role

DASHBOARD_ROLES = (Role.COORDINATOR, Role.SECRETARIAT, Role.ADMIN)
OPEN_DASHBOARD = N_("📋 Open the dashboard")
MENU_BUTTON = N_("Dashboard")

log = logging.getLogger(__name__)


def may_open_dashboard(role: str) -> bool:
    return role in DASHBOARD_ROLES


def with_dashboard(
    views: Sequence[View], tr: Tr, *, url: str, role: str, in_private: bool
) -> list[View]:
    """The views, the last one with the dashboard's button (when it has somewhere to go)."""
    if not views or not url or not in_private or not may_open_dashboard(role):
        return list(views)
    last = views[-1]
    row = [(tr.raw(OPEN_DASHBOARD), OpenDashboard(url))]
    return [*views[:-1], View(last.text, [*last.buttons, row], last.file, last.album)]


async def set_dashboard_menu(bot: Bot, chat_id: int, role: str, tr: Tr, url: str) -> None:
    """The chat's menu button: the dashboard for the roles that have it, else Telegram's
    default (someone whose role changed loses it). Nothing without `WEB_APP_URL`."""
    if not url:
        return
    button = (
        MenuButtonWebApp(tr.raw(MENU_BUTTON), WebAppInfo(url))
        if may_open_dashboard(role)
        else MenuButtonDefault()
    )
    try:
        await bot.set_chat_menu_button(chat_id=chat_id, menu_button=button)
    except TelegramError as exc:  # a convenience: never fail a flow for it
        log.warning("could not set the menu button for %s: %s", chat_id, exc)
