"""The outbox draining 1,000 notifications through the Bot API simulator's flood limits, with
the bot's real delivery job and PTB's rate limiter, in real time."""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

from telegram.ext import ApplicationBuilder

from bench.databases import scratch_database
from bot.app import telegram_rate_limiter
from bot.outbox_delivery import deliver_outbox
from bot.simulator.server import BotApiSimulator
from storage.db import create_engine, create_sessions, transaction
from storage.models import OutboxMessage, utcnow
from storage.outbox import pending_count

TOKEN = "7000000001:bench-token"
GROUP = -1001
PRIVATE_CHATS = 300
GROUP_ROWS = 400
ROWS_PER_PRIVATE = 2


def _payload(i: int) -> dict[str, Any]:
    return {
        "action_id": 1 + i % 50,
        "plan_id": 1,
        "ref": f"{1 + i % 6}.{1 + i % 3}",
        "action_text": "Elaboración del POA sobre la base de las recomendaciones de la evaluación",
        "author": f"Persona {i % 40}",
        "author_role": "focal",
        "comment_id": i,
        "comment": f"Avance número {i}: se realizaron los talleres previstos con las contrapartes.",
        "comment_truncated": False,
        "attachments": [],
    }


async def drain_outbox(kind: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:

    url = await scratch_database(kind, "outbox", args.postgres, tmp)
    engine = create_engine(url)
    sessions = create_sessions(engine)
    now = utcnow()
    rows = [(GROUP, i) for i in range(GROUP_ROWS)]
    rows += [
        (10_000 + c, GROUP_ROWS + c * ROWS_PER_PRIVATE + k)
        for c in range(PRIVATE_CHATS)
        for k in range(ROWS_PER_PRIVATE)
    ]
    async with transaction(sessions) as session:
        session.add_all(
            OutboxMessage(
                chat_id=chat, kind="comment", payload=_payload(i), created_at=now, available_at=now
            )
            for chat, i in rows
        )
    async with BotApiSimulator(token=TOKEN) as sim:
        sim.add_group(GROUP, "Secretariado")
        for c in range(PRIVATE_CHATS):
            sim.add_private_user(10_000 + c, f"Coordinación {c}")
        app = (
            ApplicationBuilder()
            .token(TOKEN)
            .base_url(sim.base_url)
            .base_file_url(sim.base_file_url)
            .rate_limiter(telegram_rate_limiter())
            .build()
        )
        await app.initialize()
        started = time.perf_counter()
        messages = 0
        deadline = started + 300
        while time.perf_counter() < deadline:
            report = await deliver_outbox(app.bot, sessions, now=utcnow(), limit=300)
            messages += report.messages
            async with sessions() as session:
                left = await pending_count(session)
            if left == 0:
                break
            if report.messages == 0:
                await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        await app.shutdown()
        http_429 = sim.stats["429"]
        by_kind = {"group": sim.stats["429 group"], "private": sim.stats["429 private"]}
    async with sessions() as session:
        left = await pending_count(session)
    await engine.dispose()
    delivered = len(rows) - left
    return {
        "notifications": delivered,
        "undelivered": left,
        "messages": messages,
        "seconds": round(elapsed, 2),
        "per_second": round(delivered / elapsed, 1) if elapsed else 0.0,
        "http_429": http_429,
        "http_429_by_chat_kind": by_kind,
        "chats": {"group_rows": GROUP_ROWS, "private_chats": PRIVATE_CHATS},
    }
