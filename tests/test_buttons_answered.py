"""Every button press gets its own answer (no spinning wheel), whatever its data: known, stale,
malformed or forged; and refusals come from the one skeleton every handler shares."""

from __future__ import annotations

import pytest

from tests.test_flows_story import bot, registered  # noqa: F401 -- the fixture and a helper

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
