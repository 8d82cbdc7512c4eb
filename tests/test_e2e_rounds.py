"""A reporting round, end to end: opened from the command line while the real `python -m bot`
runs against the Bot API simulator; two focal points answer (one in full, one in part), the
coordinator sees who is pending, the round is closed and the report reaches the secretariat."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import subprocess
import sys
from zoneinfo import ZoneInfo

import docx
import openpyxl

from bot.simulator.server import BotApiSimulator
from tests.e2e_support import TOKEN, BotProcess, ask, bot_env, button, invite, press, register

FOCAL, OTHER, COORDINATOR, SECRETARIAT = 2, 5, 4, 3


def _bot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` (the command line, beside the running bot)."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_a_reporting_round(engine, database_url, tmp_path):
    async with BotApiSimulator(token=TOKEN) as sim:
        for user, name in [(FOCAL, "Ana"), (OTHER, "Luis"), (COORDINATOR, "Carmen")]:
            sim.add_private_user(user, name)
        sim.add_private_user(SECRETARIAT, "Sofía")
        env = bot_env(sim, database_url, SECRETARIAT_CHAT_IDS=str(SECRETARIAT))
        # the demo plan first, so that its units exist for the invitations
        assert (await asyncio.to_thread(_bot, env, "db", "upgrade")).returncode == 0
        codes = {
            FOCAL: invite(env, "focal", "PNUD"),
            OTHER: invite(env, "focal", "Unidad de Coordinación"),
            COORDINATOR: invite(env, "coordinator"),
        }
        bot = BotProcess(env, tmp_path / "bot.log").start()
        try:
            await sim.wait_for(lambda: sim.stats["getUpdates"], 30)
            for user, code in codes.items():
                await register(sim, user, code)
            today = dt.datetime.now(ZoneInfo("America/Lima")).date()
            closes = (today + dt.timedelta(days=7)).isoformat()
            opened = await asyncio.to_thread(_bot, env, "round", "open", "--closes", closes)
            assert opened.returncode == 0 and "2 focal points asked" in opened.stdout, opened

            # Ana answers every action; Luis one, then stops.
            for user in (FOCAL, OTHER):
                ask_message = await sim.wait_for_message(
                    user, lambda m: "Ronda de seguimiento" in m.plain_text, 30
                )
                card = await press(sim, user, ask_message, button(ask_message, "rog:"), "acción 1")
                if user == OTHER:
                    await press(sim, user, card, button(card, "rox:"), "acción 2")
                    continue
                while "Eso es todo" not in card.plain_text:
                    card = await press(sim, user, card, button(card, "rou:"), "la ronda que cierra")

            # The coordinator sees who is pending, and reminds them.
            status = await ask(sim, COORDINATOR, "/ronda", "Por persona")
            assert "✅ Ana" in status.plain_text and "◐ Luis" in status.plain_text
            await sim.user_presses_button(COORDINATOR, status.message_id, button(status, "ron:"))
            await sim.wait_for_message(OTHER, lambda m: "Le quedan" in m.plain_text, 30)

            # Closed from the command line: the report reaches the secretariat.
            closed = await asyncio.to_thread(_bot, env, "round", "close")
            assert closed.returncode == 0, closed
            report = await sim.wait_for_message(
                SECRETARIAT, lambda m: "Ronda de seguimiento cerrada" in m.plain_text, 30
            )
            assert "1 de 2 puntos focales informaron" in report.plain_text
            word = await sim.wait_for_message(
                SECRETARIAT,
                lambda m: m.document is not None and m.document["file_name"].endswith(".docx"),
                30,
            )
            document = docx.Document(io.BytesIO(sim.file_bytes(word.document["file_id"])))
            rows = sum(len(table.rows) - 2 for table in document.tables)  # two header rows each
            assert rows == 13  # the demo plan's 13 actions
            spreadsheet = await sim.wait_for_message(
                SECRETARIAT,
                lambda m: m.document is not None and m.document["file_name"].endswith(".xlsx"),
                30,
            )
            sheet = openpyxl.load_workbook(
                io.BytesIO(sim.file_bytes(spreadsheet.document["file_id"]))
            ).worksheets[0]
            assert sheet.max_row == 14  # the header and the demo plan's 13 actions
        except Exception:
            print(bot.output()[-5000:])
            raise
        finally:
            bot.stop()
