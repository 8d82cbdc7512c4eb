"""`python -m bot doctor`: is this deployment healthy? Each check in plain words, ✓ or ✗, and
for each ✗ what to do. For the operator (plain English, like the rest of the command line).

It asks Telegram (getMe, getWebhookInfo, getChat) and the database (reachable, migration level
against the code's), and changes nothing: it neither upgrades the schema nor sets a webhook."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from telegram import Bot, WebhookInfo
from telegram.error import BadRequest, Forbidden, InvalidToken, TelegramError

from bot.backup import sqlite_path
from bot.settings import Settings
from storage.chats import notice_chat_ids, unreachable_chats, waiting_count
from storage.db import alembic_config, create_engine, create_sessions, normalise_url


@dataclass(frozen=True)
class Check:
    ok: bool
    what: str  # what was found
    advice: str = ""  # what to do about it (for a ✗)

    def lines(self) -> list[str]:
        lines = [f"{'✓' if self.ok else '✗'} {self.what}"]
        if self.advice:
            lines.append(f"    → {self.advice}")
        return lines


def _levels(connection: Connection) -> tuple[str, ...]:
    return tuple(MigrationContext.configure(connection).get_current_heads())


async def check_database(url: str) -> Check:
    shown = make_url(normalise_url(url)).render_as_string(hide_password=True)
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    file = sqlite_path(url)
    if file is not None and not file.exists():  # connecting would create an empty one
        return Check(
            False,
            f"database: there is no SQLite file at {file.resolve()}",
            "check DATABASE_URL (and the folder the bot runs in); python -m bot db upgrade "
            "creates a new database",
        )
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            levels = await connection.run_sync(_levels)
    except Exception as error:
        return Check(
            False,
            f"database: cannot be reached at {shown} ({type(error).__name__}: {error})",
            "check DATABASE_URL, and that the database server runs and accepts this user",
        )
    finally:
        await engine.dispose()
    if not levels:
        return Check(
            False,
            f"database: reachable at {shown}, but it has no tables yet",
            "create them: python -m bot db upgrade",
        )
    if levels != (head,):
        return Check(
            False,
            f"database: reachable at {shown}, at migration {', '.join(levels)}; "
            f"this version of the bot needs {head}",
            "stop the bot, back it up (python -m bot db backup FILE), then run "
            "python -m bot db upgrade (the bot also does it when it starts)",
        )
    return Check(True, f"database: reachable at {shown}, migrations up to date ({head})")


def _when(timestamp: dt.datetime | None) -> str:
    return f"{timestamp:%Y-%m-%d %H:%M} UTC" if timestamp else "an unknown time"


def check_webhook(settings: Settings, info: WebhookInfo) -> Check:
    pending = info.pending_update_count
    error = (
        f"; Telegram's last delivery failed at {_when(info.last_error_date)}: "
        f"{info.last_error_message}"
        if info.last_error_message
        else ""
    )
    if not settings.webhook_url:
        registered = f" (Telegram has a webhook {info.url}: removed when the bot starts)"
        return Check(
            True,
            f"mode: polling, {pending} updates waiting{registered if info.url else ''}",
        )
    wanted = settings.webhook_url.rstrip("/")
    if not info.url:
        return Check(
            True, f"webhook: {wanted} is not registered yet; the bot registers it when it starts"
        )
    if info.url.rstrip("/") != wanted:
        return Check(
            False,
            f"webhook: Telegram sends updates to {info.url}, the settings say {wanted}",
            "restart the bot so that it registers WEBHOOK_URL (or correct WEBHOOK_URL)",
        )
    if info.last_error_message and pending:
        return Check(
            False,
            f"webhook: {info.url}, {pending} updates waiting{error}",
            "make sure the URL is reachable from the internet over HTTPS (reverse proxy, TLS "
            "certificate, WEBHOOK_LISTEN and PORT) and that the bot runs",
        )
    return Check(True, f"webhook: {info.url}, {pending} updates waiting{error}")


async def check_chat(bot: Bot, chat_id: int) -> Check:
    try:
        chat = await bot.get_chat(chat_id)
    except (Forbidden, BadRequest) as error:  # kicked, or no such chat
        return Check(
            False,
            f"chat {chat_id}: cannot be reached ({error.message})",
            "add the bot to that group again, or take the id out of SECRETARIAT_CHAT_IDS",
        )
    except TelegramError as error:
        return Check(False, f"chat {chat_id}: Telegram could not be asked ({error})")
    name = chat.title or chat.full_name or chat.username or ""
    return Check(True, f"chat {chat_id}: {name} ({chat.type})")


async def check_telegram(settings: Settings, chat_ids: Sequence[int]) -> list[Check]:
    """The token, then (when Telegram knows it) the webhook and every notification chat."""
    if not settings.telegram_bot_token:
        return [
            Check(
                False,
                "token: TELEGRAM_BOT_TOKEN is not set",
                "ask @BotFather for the bot's token and set TELEGRAM_BOT_TOKEN",
            )
        ]
    bot = Bot(settings.telegram_bot_token, base_url=settings.telegram_api_base_url)
    try:
        async with bot:  # getMe
            checks = [Check(True, f"token: Telegram knows the bot as @{bot.username}")]
            checks.append(check_webhook(settings, await bot.get_webhook_info()))
            if not chat_ids:
                checks.append(
                    Check(True, "notification chats: none (SECRETARIAT_CHAT_IDS, /vincular)")
                )
            for chat_id in chat_ids:
                checks.append(await check_chat(bot, chat_id))
            return checks
    except InvalidToken:  # also what Telegram's 401/404 on getMe become
        return [
            Check(
                False,
                "token: Telegram refuses TELEGRAM_BOT_TOKEN",
                "copy the token again from @BotFather (/mybots → API Token)",
            )
        ]
    except TelegramError as error:
        return [
            Check(
                False,
                f"token: Telegram cannot be reached at {settings.telegram_api_base_url} ({error})",
                "check the server's internet access (and TELEGRAM_API_BASE_URL if you set it)",
            )
        ]


async def stored_chats(settings: Settings) -> tuple[list[int], list[Check]]:
    """The chats notices go to as the bot sees them (`SECRETARIAT_CHAT_IDS` followed to where
    their groups moved, and the groups linked with /vincular), and a ✗ for each chat marked
    unreachable; the setting's ids alone when the database cannot be read (its own check says
    why)."""
    file = sqlite_path(settings.database_url)
    if file is not None and not file.exists():
        return list(settings.secretariat_chat_ids), []
    engine = create_engine(settings.database_url)
    try:
        async with create_sessions(engine)() as session:
            chat_ids = await notice_chat_ids(session, settings.secretariat_chat_ids)
            gone = [
                (chat, await waiting_count(session, chat.chat_id))
                for chat in await unreachable_chats(session)
            ]
    except Exception:  # an outage, no schema yet...: check_database tells
        return list(settings.secretariat_chat_ids), []
    finally:
        await engine.dispose()
    checks = [
        Check(
            False,
            f"chat {chat.chat_id}: {chat.title or 'a person'} marked unreachable since "
            f"{_when(chat.unreachable_since)} ({chat.reason or 'refused by Telegram'}); "
            f"{waiting} notice(s) waiting",
            "add the bot back to the group (or ask the person to write to the bot); an admin "
            "can also press «Reintentar» on the bot's notice",
        )
        for chat, waiting in gone
    ]
    return chat_ids, checks


async def diagnose(settings: Settings) -> list[Check]:
    chat_ids, unreachable = await stored_chats(settings)
    checks = await check_telegram(settings, chat_ids)
    checks += unreachable
    checks.append(await check_database(settings.database_url))
    return checks


async def doctor(settings: Settings) -> int:
    """Print every check; 0 when all are fine, 1 otherwise."""
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its notes are not findings
    checks = await diagnose(settings)
    for check in checks:
        print("\n".join(check.lines()))
    wrong = [check for check in checks if not check.ok]
    print(f"{len(wrong)} problem(s) found" if wrong else "everything looks fine")
    return 1 if wrong else 0
