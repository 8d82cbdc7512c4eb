"""Signed Mini App data, as Telegram hands it to the page, and the dashboard on a database."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlencode

from bot.web.api import Dashboard
from bot.web.auth import sign
from handlers.context import Deps
from storage.actions import ActionFilter, list_actions
from storage.db import Sessions, transaction
from storage.followup import post_comment, set_review_status, set_status
from storage.models import ReviewStatus, Status
from tests.storage_support import NOW, TODAY, make_person, make_plan

FOCAL, UC_FOCAL, COORDINATOR, SECRETARIAT, ADMIN, GONE, STRANGER = 101, 102, 103, 104, 105, 106, 999
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


async def make_world(sessions: Sessions) -> dict[str, int]:
    """The small plan, a person per role, a deactivated coordinator, and some history."""
    async with transaction(sessions) as session:
        plan = await make_plan(session)
        focal = await make_person(session, "focal", ["PNUD"], FOCAL)
        await make_person(session, "focal", ["Unidad de Coordinación"], UC_FOCAL)
        await make_person(session, "coordinator", telegram_id=COORDINATOR)
        secretariat = await make_person(session, "secretariat", telegram_id=SECRETARIAT)
        admin = await make_person(session, "admin", telegram_id=ADMIN)
        gone = await make_person(session, "coordinator", telegram_id=GONE)
        gone.active = False
        rows = await list_actions(session, admin, today=TODAY, flt=ActionFilter.ALL, page_size=50)
        ids = {row.ref: row.id for row in rows.rows}
        await post_comment(session, focal, ids["1.1"], "POA aprobado", notify_chat_ids=(), now=NOW)
        await set_status(
            session,
            focal,
            ids["2 y 3.3"],
            Status.COMPLETED,
            justification="Roster listo",
            notify_chat_ids=(),
            now=NOW,
        )
        await set_review_status(
            session,
            secretariat,
            ids["2 y 3.3"],
            ReviewStatus.VALIDATED,
            notify_chat_ids=(),
            now=NOW,
        )
    return {"plan": plan.id, **ids}
