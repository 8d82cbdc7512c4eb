"""The real `python -m bot` process with the dashboard: in polling mode with `WEB_APP_URL` (the
web server on `PORT` beside long polling) and in webhook mode (one server for both), the page
and the API answer a person registered through the chat, the button is under /resumen, and the
process stops cleanly on SIGTERM."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from bot.simulator.server import BotApiSimulator
from tests.dashboard_support import init_data
from tests.e2e_support import TOKEN, BotProcess, ask, bot_env, free_port, invite, register

COORDINATOR = 41
URL = "https://bot.example.org/app/"


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_the_bot_process_serves_the_dashboard(engine, database_url, tmp_path, mode):
    async with BotApiSimulator(token=TOKEN) as sim:
        sim.add_private_user(COORDINATOR, "Carmen")
        port = free_port()
        extra = {"WEB_APP_URL": URL, "PORT": str(port), "WEBHOOK_LISTEN": "127.0.0.1"}
        if mode == "webhook":
            extra |= {"WEBHOOK_URL": f"http://127.0.0.1:{port}/hook", "WEBHOOK_SECRET": "s3"}
        env = bot_env(sim, database_url, **extra)
        code = invite(env, "coordinator")
        bot = BotProcess(env, tmp_path / "bot.log").start()
        try:
            if mode == "webhook":
                await sim.wait_for(lambda: sim.webhook_url, 30)
                assert sim.webhook_secret == "s3"
            else:
                await sim.wait_for(lambda: sim.stats["getUpdates"], 30)
            await register(sim, COORDINATOR, code)
            summary = await ask(sim, COORDINATOR, "/resumen", "Avance")
            markup = summary.reply_markup or {}
            web_apps = [b for row in markup["inline_keyboard"] for b in row if "web_app" in b]
            assert web_apps == [{"text": "📋 Abrir el tablero", "web_app": {"url": URL}}]

            signed = init_data(COORDINATOR, token=TOKEN, signed_at=dt.datetime.now(dt.UTC))
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                page = await client.get("/app/")
                assert page.status_code == 200 and "app.js" in page.text
                plans = await client.get("/api/plans", headers={"Authorization": f"tma {signed}"})
                assert plans.status_code == 200
                [plan] = plans.json()["plans"]
                assert plan["actions"] == 13  # the demo plan
                matrix = await client.get(
                    f"/api/plans/{plan['id']}/matrix",
                    headers={"Authorization": f"tma {signed}"},
                )
                assert matrix.json()["total"] == 13
                refused = await client.get("/api/plans", headers={"Authorization": "tma x=1"})
                assert refused.status_code == 401
        finally:
            bot.stop()
        assert bot.process is not None and bot.process.returncode == 0, bot.output()
