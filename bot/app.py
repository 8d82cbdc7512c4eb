"""The composition root: settings, database and flows assembled into a PTB `Application`."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import httpx
from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults
from telegram.request import BaseRequest, HTTPXRequest

import handlers
from bot.rate_limits import TelegramRateLimiter
from bot.settings import WEEKDAYS, Settings
from bot.update_order import OrderedUpdates
from handlers.context import Deps, FlowContext, install
from storage.db import Sessions
from storage.models import utcnow

log = logging.getLogger(__name__)


#: Connections to the Bot API open at once (PTB's `ApplicationBuilder` default)...
BOT_API_CONNECTIONS = 256
#: ...and kept open, idle, for the next requests. httpx would keep every connection a burst
#: opened, for 5 s, and httpcore looks at each kept connection (a system call, and a pass over
#: all the others) every time a request starts or ends: after a burst of button presses the
#: bot spent a quarter of its time there (the load benchmark's profile, 500 people at once).
#: The requests in flight at a steady 30 sends a second, and the buttons' answers, fit in it.
KEPT_BOT_API_CONNECTIONS = 32


def telegram_rate_limiter() -> TelegramRateLimiter:
    return TelegramRateLimiter()


def telegram_request() -> HTTPXRequest:
    """PTB's request for Bot API calls (other than `getUpdates`), keeping fewer idle
    connections than httpx would."""
    limits = httpx.Limits(
        max_connections=BOT_API_CONNECTIONS, max_keepalive_connections=KEPT_BOT_API_CONNECTIONS
    )
    return HTTPXRequest(connection_pool_size=BOT_API_CONNECTIONS, httpx_kwargs={"limits": limits})


def build_application(
    settings: Settings,
    sessions: Sessions,
    *,
    request: BaseRequest | None = None,
    updates_request: BaseRequest | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
    with_jobs: bool = True,
    rate_limiter: bool = True,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """An `Application` with every flow, the error handler and (optionally) the periodic jobs."""
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .context_types(ContextTypes(context=FlowContext))
        .token(settings.telegram_bot_token or "0:offline")
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.file_base_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                tzinfo=settings.tz,
            )
        )
        .concurrent_updates(OrderedUpdates(settings.max_concurrent_updates))
    )
    if rate_limiter:
        builder = builder.rate_limiter(telegram_rate_limiter())
    builder = builder.request(request if request is not None else telegram_request())
    if updates_request is not None:
        builder = builder.get_updates_request(updates_request)
    if not with_jobs:
        builder = builder.job_queue(None)
    application = builder.build()
    install(application, deps_from(settings, sessions, clock))
    handlers.register(application)
    if with_jobs:
        from bot.jobs import schedule_jobs

        schedule_jobs(application, settings)
    return application


def deps_from(
    settings: Settings, sessions: Sessions, clock: Callable[[], dt.datetime] = utcnow
) -> Deps:
    """What the flows and jobs take from the settings: read here, once."""
    return Deps(
        sessions=sessions,
        default_locale=settings.bot_locale,
        timezone=settings.bot_timezone,
        notify_chat_ids=tuple(settings.secretariat_chat_ids),
        bot_username=settings.bot_username,
        reminder_weekday=WEEKDAYS.index(settings.reminder_weekday),
        reminder_due_days=settings.reminder_due_days,
        stale_days=settings.stale_days,
        step_ttl=dt.timedelta(minutes=settings.step_timeout_minutes),
        album_wait=settings.album_wait_seconds,
        clock=clock,
        web_app_url=settings.web_app_url,
        plan_parse_seconds=settings.plan_parse_seconds,
    )
