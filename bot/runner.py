"""Running the bot: schema upgrade, the demo plan when asked (`LOAD_DEMO_PLAN`), polling or
webhook."""

from __future__ import annotations

import asyncio
import logging
import signal
from types import FrameType
from typing import Any

import uvicorn
from telegram import Update
from telegram.ext import Application

from bot.app import build_application
from bot.collector import freeze_startup_objects
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

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


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
    engine = create_engine(
        settings.database_url,
        concurrency=settings.max_concurrent_updates,
        durable_commits=settings.database_durable_commits,
    )
    sessions = create_sessions(engine)
    application = build_application(settings, sessions)

    async def post_init(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        if settings.load_demo_plan:
            await load_demo_if_empty(sessions)
        from handlers.command_menus import set_default_commands

        await set_default_commands(app.bot)
        freeze_startup_objects()

    async def post_shutdown(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        drainer = app.bot_data.get("outbox_drainer")
        if drainer is not None:
            from bot.outbox_lease import release_outbox_lease

            try:
                await release_outbox_lease(sessions, drainer)
            except Exception:  # the database may be what is failing: the lease then lapses
                log.exception("could not release the outbox lease")
        from storage.offloop import close_reader

        await close_reader()
        await engine.dispose()

    application.post_init = post_init
    application.post_shutdown = post_shutdown
    if settings.webhook_url or settings.web_app_url:
        asyncio.run(serve_with_web(application, settings))
    else:
        log.info("starting in polling mode")
        application.run_polling(allowed_updates=Update.ALL_TYPES)


def webhook_path(webhook_url: str) -> str:
    """The path of the webhook's public address ("hook" for https://host/hook)."""
    url = webhook_url.rstrip("/")
    return url.split("/", 3)[3] if url.count("/") >= 3 else ""


async def serve_with_web(application: AnyApplication, settings: Settings) -> None:
    """The bot with its web server (python-telegram-bot's custom webhook setup): the webhook in
    webhook mode (else long polling), and the dashboard, on `WEBHOOK_LISTEN`:`PORT`, until
    SIGINT or SIGTERM."""
    from bot.web.api import Dashboard
    from bot.web.server import web_app, web_server

    webhook = settings.webhook_url.rstrip("/")
    async with application:
        if application.post_init is not None:
            await application.post_init(application)
        dashboard = Dashboard(
            deps=application.bot_data["deps"],
            bot_token=settings.telegram_bot_token,
            max_age=settings.web_app_auth_max_age,
            bot_username=settings.bot_username or application.bot.username,
        )
        app = web_app(
            dashboard,
            application=application if webhook else None,
            webhook_path=webhook_path(webhook) if webhook else None,
            webhook_secret=settings.webhook_secret,
        )
        server = web_server(app, settings.webhook_listen, settings.port)
        _stop_on_signals(server)
        if webhook:
            log.info(
                "starting in webhook mode on %s:%s/%s",
                settings.webhook_listen,
                settings.port,
                webhook_path(webhook),
            )
            await application.bot.set_webhook(
                webhook,
                secret_token=settings.webhook_secret or None,
                allowed_updates=Update.ALL_TYPES,
            )
        else:
            log.info("starting in polling mode, the dashboard on port %s", settings.port)
            assert application.updater is not None
            await application.updater.start_polling(allowed_updates=Update.ALL_TYPES)
        await application.start()
        try:
            await server.serve()
        finally:
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            await application.stop()
    if application.post_shutdown is not None:
        await application.post_shutdown(application)


def _stop_on_signals(server: uvicorn.Server) -> None:
    """SIGINT and SIGTERM end the server, and then the bot, in order. (uvicorn puts these
    handlers back once it stops and raises the signal again: it then only asks again.)"""

    def stop(_signal: int, _frame: FrameType | None) -> None:
        server.should_exit = True

    for name in (signal.SIGINT, signal.SIGTERM):
        signal.signal(name, stop)
