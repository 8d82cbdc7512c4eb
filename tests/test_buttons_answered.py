"""Every button press gets its own answer (no spinning wheel), whatever its data: known, stale,
malformed or forged; and refusals come from the one skeleton every handler shares."""

from __future__ import annotations

import asyncio

import pytest

from tests.test_flows_story import (  # noqa: F401 -- the fixture and helpers
    action_id,
    bot,
    registered,
)

FORGED = ["zz:1", "a:abc", "l:q:0", "rs:s:abc:", "rs:g:1:zz", "ex:x:abc", "lg:xx", "nm:loud", "u:x"]


@pytest.mark.parametrize("data", FORGED)
async def test_a_forged_button_is_answered_as_stale(bot, sessions, data):  # noqa: F811
    app, request = bot
    carmen = await registered(app, sessions, 601, "admin")
    before = len(request.calls)
    await carmen.press(data)
    answers = [c for c in request.calls[before:] if c.method == "answerCallbackQuery"]
    assert len(answers) == 1
    assert answers[0].params.get("text")
    assert [c for c in request.sent(601) if c in request.calls[before:]] == []


async def test_a_stranger_pressing_anything_is_told_to_register(bot, sessions):  # noqa: F811
    app, request = bot
    from tests.offline import Chat

    before = len(request.calls)
    await Chat(app, 602).press("zz:1")
    (answer,) = [c for c in request.calls[before:] if c.method == "answerCallbackQuery"]
    assert "invitación" in answer.params["text"]


async def test_admin_commands_refuse_other_roles_and_actions_stay_private(bot, sessions):  # noqa: F811
    app, request = bot
    ana = await registered(app, sessions, 603, "focal", ["PNUD"])
    await ana.send("/usuarios")
    assert "administración" in request.last(603).text or "administr" in request.last(603).text
    before = len(request.calls)
    await ana.press("ud:1")
    (answer,) = [c for c in request.calls[before:] if c.method == "answerCallbackQuery"]
    assert answer.params.get("show_alert") and answer.params.get("text")


async def test_a_press_shows_its_message_before_telegram_answers_the_button(bot, sessions):  # noqa: F811
    """The button's answer and the message it shows go out together: the card is edited in
    while Telegram has not answered the answerCallbackQuery yet, instead of one round trip
    (hundreds of milliseconds far from Telegram) after it."""
    app, request = bot
    ana = await registered(app, sessions, 604, "focal", ["PNUD"])
    first = await action_id(sessions, "1", 1)
    before = len(request.calls)
    request.held["answerCallbackQuery"] = released = asyncio.Event()
    request.made["editMessageText"] = edited = asyncio.Event()
    press = asyncio.create_task(ana.press(f"a:{first}"))
    async with asyncio.timeout(10):
        await edited.wait()
    assert not press.done()  # the answer is still on its way
    methods = [c.method for c in request.calls[before:]]
    assert sorted(methods) == ["answerCallbackQuery", "editMessageText"]
    released.set()
    await press
    assert "1.1" in request.last(604).text
