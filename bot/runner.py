"""Running the bot: schema upgrade, the demo plan when asked (`LOAD_DEMO_PLAN`), polling or
webhook."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.app import build_application
from bot.settings import Settings
from storage.actions import list_plans
from storage.db import (
    DEMO_PLAN_LOCK,
    Sessions,
    create_engine,
    create_sessions,
    hold_lock,
    transaction,
    upgrade_sync,
)
from storage.plan_files import load_demo_plan

log = logging.getLogger(__name__)


async def load_demo_if_empty(sessions: Sessions) -> bool:
    """The demo plan, when asked (`LOAD_DEMO_PLAN=true`, `plan import --demo`) and there is
    no plan yet, archived ones included (once, when several processes start together)."""
    async with transaction(sessions) as session:
        await hold_lock(session, DEMO_PLAN_LOCK)
        if await list_plans(session, archived=True):
            return False
        report = await load_demo_plan(session)
        log.info("demo plan loaded: %s actions", report.actions_added)
        return True


def run(settings: Settings) -> None:
    if not settings.telegram_bot_token:
        raise SystemExit(
            "TELEGRAM_BOT_TOKEN is not set. To try the bot without a token: python -m bot demo"
        )
    upgrade_sync(settings.database_url)
    engine = create_engine(settings.database_url, concurrency=settings.max_concurrent_updates)
    sessions = create_sessions(engine)
    application = build_application(settings, sessions)

    async def post_init(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        if settings.load_demo_plan:
            await load_demo_if_empty(sessions)
        from handlers.command_menus import set_default_commands

        await set_default_commands(app.bot)

    async def post_shutdown(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        drainer = app.bot_data.get("outbox_drainer")
        if drainer is not None:
            from bot.jobs import release_outbox_lease

            try:
                await release_outbox_lease(sessions, drainer)
            except Exception:  # the database may be what is failing: the lease then lapses
                log.exception("could not release the outbox lease")
        await engine.dispose()

    application.post_init = post_init
    application.post_shutdown = post_shutdown
    if settings.webhook_url:
        url = settings.webhook_url.rstrip("/")
        path = url.split("/", 3)[3] if url.count("/") >= 3 else ""
        log.info(
            "starting in webhook mode on %s:%s/%s", settings.webhook_listen, settings.port, path
        )
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.port,
            url_path=path,
            webhook_url=url,
            secret_token=settings.webhook_secret or None,
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        log.info("starting in polling mode")
        application.run_polling(allowed_updates=Update.ALL_TYPES)
