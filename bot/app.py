"""The composition root: settings, database and flows assembled into a PTB `Application`."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, Defaults
from telegram.request import BaseRequest

import handlers
from bot.rate_limits import TelegramRateLimiter
from bot.settings import Settings
from handlers.common import Deps
from storage.db import Sessions
from storage.models import utcnow

log = logging.getLogger(__name__)


def telegram_rate_limiter() -> TelegramRateLimiter:
    return TelegramRateLimiter()


def build_application(
    settings: Settings,
    sessions: Sessions,
    *,
    request: BaseRequest | None = None,
    updates_request: BaseRequest | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
    with_jobs: bool = True,
    rate_limiter: bool = True,
) -> Application:  # type: ignore[type-arg]
    """An `Application` with every flow, the error handler and (optionally) the periodic jobs."""
    builder = (
        ApplicationBuilder()
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
        .concurrent_updates(False)
    )
    if rate_limiter:
        builder = builder.rate_limiter(telegram_rate_limiter())
    if request is not None:
        builder = builder.request(request)
    if updates_request is not None:
        builder = builder.get_updates_request(updates_request)
    if not with_jobs:
        builder = builder.job_queue(None)
    application = builder.build()
    application.bot_data["deps"] = Deps(
        sessions=sessions,
        default_locale=settings.bot_locale,
        timezone=settings.bot_timezone,
        notify_chat_ids=tuple(settings.secretariat_chat_ids),
        bot_username=settings.bot_username,
        reminder_due_days=settings.reminder_due_days,
        stale_days=settings.stale_days,
        clock=clock,
    )
    application.bot_data["settings"] = settings
    handlers.register(application)
    if with_jobs:
        from bot.jobs import schedule_jobs

        schedule_jobs(application, settings)
    return application
