"""Signed Mini App data, as Telegram hands it to the page, and the dashboard on a database."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlencode

from bot.web.api import Dashboard
from bot.web.auth import sign
from handlers.context import Deps
from storage.db import Sessions
from tests.storage_support import NOW

TOKEN = "7000000005:dashboard-token"
BOT_USERNAME = "plan_de_mejora_bot"


def init_data(
    user_id: int,
    *,
    token: str = TOKEN,
    signed_at: dt.datetime = NOW,
    language: str = "es",
    **extra: str,
) -> str:
    """initData for a user, signed with `token` (the bot's own, unless a test forges it)."""
    user = {"id": user_id, "first_name": "Test", "language_code": language}
    fields = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps(user, separators=(",", ":")),
        "auth_date": str(int(signed_at.timestamp())),
        **extra,
    }
    fields["hash"] = sign(fields, token)
    return urlencode(fields)


def header(data: str) -> dict[str, str]:
    return {"Authorization": f"tma {data}"}


def dashboard(sessions: Sessions, now: dt.datetime = NOW) -> Dashboard:
    deps = Deps(
        sessions=sessions,
        default_locale="es",
        timezone="America/Lima",
        notify_chat_ids=(),
        bot_username=BOT_USERNAME,
        reminder_weekday=0,
        reminder_due_days=14,
        stale_days=30,
        step_ttl=dt.timedelta(hours=1),
        album_wait=2.0,
        clock=lambda: now,
    )
    return Dashboard(deps=deps, bot_token=TOKEN, max_age=3600, bot_username=BOT_USERNAME)
