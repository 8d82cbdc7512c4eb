"""The Bot API simulator, driven by python-telegram-bot's real `Bot`: Telegram's limits and
errors, updates by long polling and by webhook, files both ways."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, RetryAfter

from bot.simulator.server import BotApiSimulator

TOKEN = "7000000002:simulator-test"


@pytest.fixture
async def sim():
    async with BotApiSimulator(token=TOKEN) as simulator:
        simulator.add_private_user(10, "Ana")
        simulator.add_group(-20, "Secretariado")
        yield simulator


@pytest.fixture
async def bot(sim):
    async with Bot(TOKEN, base_url=sim.base_url, base_file_url=sim.base_file_url) as b:
        yield b


async def test_get_me_and_send(sim, bot):
    assert bot.username == "plan_de_mejora_bot"
    sent = await bot.send_message(10, "<b>Hola</b> &amp; bienvenida", parse_mode=ParseMode.HTML)
    assert sent.text == "Hola & bienvenida"
    assert sim.messages(10)[-1].plain_text == "Hola & bienvenida"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("x" * 4097, "message is too long"),
        ("<b>sin cerrar", "can't parse entities"),
        ("a < b", "can't parse entities"),
        ("<div>no</div>", "can't parse entities"),
        ("   ", "message text is empty"),
    ],
)
async def test_text_limits(bot, text, error):
    with pytest.raises(BadRequest, match=f"(?i){error}"):
        await bot.send_message(10, text, parse_mode=ParseMode.HTML)  # PTB capitalises it


async def test_length_counts_after_parsing(bot):
    await bot.send_message(10, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML)


async def test_callback_data_limit_and_unknown_chat(bot):
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="é" * 33)]])
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(10, "hola", reply_markup=markup)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(999, "hola")


async def test_flood_control(sim, bot):
    for i in range(20):
        await bot.send_message(-20, f"aviso {i}")
    with pytest.raises(RetryAfter):
        await bot.send_message(-20, "uno más")
    assert sim.stats["429"] == 1


async def test_overall_flood_control():
    async with BotApiSimulator(token=TOKEN, private_per_second=100) as sim:
        for user in range(40):
            sim.add_private_user(100 + user, "P")
        async with Bot(TOKEN, base_url=sim.base_url) as bot:
            with pytest.raises(RetryAfter):
                for user in range(40):
                    await bot.send_message(100 + user, "hola")


async def test_edit_not_modified_and_caption(sim, bot):
    sent = await bot.send_message(10, "uno")
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("uno", chat_id=10, message_id=sent.message_id)
    await bot.edit_message_text("dos", chat_id=10, message_id=sent.message_id)
    assert sim.messages(10)[-1].text == "dos"
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_document(10, b"data", filename="a.txt", caption="c" * 1025)


async def test_files_both_ways(sim, bot):
    sent = await bot.send_document(10, b"contenido", filename="plan.xlsx")
    assert sim.file_bytes(sent.document.file_id) == b"contenido"
    update = await sim.user_sends_document(10, "acta.pdf", b"%PDF-1.4", "application/pdf")
    file = await bot.get_file(update["message"]["document"]["file_id"])
    assert bytes(await file.download_as_bytearray()) == b"%PDF-1.4"


async def test_long_polling_and_buttons(sim, bot):
    sent = await bot.send_message(
        10,
        "elija",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]]),
    )
    waiting = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    await sim.user_presses_button(10, sent.message_id, "a")
    updates = await asyncio.wait_for(waiting, 3)
    assert updates[0].callback_query.data == "a"
    await bot.answer_callback_query(updates[0].callback_query.id, "ok")
    with pytest.raises(ValueError):
        await sim.user_presses_button(10, sent.message_id, "forged")


async def test_webhook_posts_updates_with_the_secret(sim, bot):
    received: list[tuple[dict, str]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token", ""))
        )
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
        with pytest.raises(Exception, match="Conflict"):
            await bot.get_updates()
        await sim.user_sends_text(10, "/start")
        await sim.wait_for(lambda: received, 5)
        assert received[0][0]["message"]["text"] == "/start" and received[0][1] == "s3cret"
    finally:
        await bot.delete_webhook()
        await runner.cleanup()
