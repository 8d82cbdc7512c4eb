"""A plan's title from its file's name, through the upload flow: whole, escaped where shown,
without bidirectional controls or folders, bounded."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Plan
from storage.plan_files.names import MAX_NAME_TITLE, title_from_file_name
from tests.test_flows_story import bot, registered  # noqa: F401
from tests.test_hostile_files import _big_valid_csv


async def _upload(app, sessions, request, user_id: int, name: str) -> str:  # type: ignore[no-untyped-def]
    admin = await registered(app, sessions, user_id, "admin")
    await admin.send("/plan")
    await admin.send_document(name, "text/csv", content=_big_valid_csv(3))
    return str(request.sent(user_id)[-1].text)


async def _titles(sessions) -> list[str]:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        return list(await session.scalars(select(Plan.title).order_by(Plan.id)))


async def test_a_file_name_with_markup_becomes_the_whole_title_escaped(bot, sessions):  # noqa: F811
    app, request = bot
    answer = await _upload(app, sessions, request, 951, "<i>plan</i> & co.csv")
    assert "<b>&lt;i&gt;plan&lt;/i&gt; &amp; co</b>" in answer
    assert "<i>" not in answer
    assert (await _titles(sessions))[-1] == "<i>plan</i> & co"


async def test_bidi_controls_and_folders_are_left_out(bot, sessions):  # noqa: F811
    app, request = bot
    name = "C:\\Users\\ana\\\u202eplan_\u200bfinal.csv"
    answer = await _upload(app, sessions, request, 952, name)
    assert "<b>plan final</b>" in answer
    assert (await _titles(sessions))[-1] == "plan final"


def test_titles_from_names_are_bounded_and_never_empty() -> None:
    assert title_from_file_name("../../etc/passwd.csv") == "passwd"
    assert title_from_file_name("Plan 2024/2025.xlsx") == "Plan 2024/2025"
    assert title_from_file_name("\u200b.csv") == "Plan"
    long = title_from_file_name("x" * 1000 + ".csv")
    assert len(long) == MAX_NAME_TITLE and long.endswith("…")


async def test_the_real_process_parses_in_a_worker_and_keeps_the_title(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`python -m bot` against the Bot API simulator: the plan file is parsed in a worker
    process (started afresh, which must not start a second bot) and titled after its name."""
    from bot.simulator.server import BotApiSimulator
    from tests.e2e_support import TOKEN, BotProcess, ask, bot_env, invite, register

    async with BotApiSimulator(token=TOKEN) as sim:
        sim.add_private_user(1, "Admin")
        env = bot_env(sim, f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", LOAD_DEMO_PLAN="false")
        code = invite(env, "admin")
        bot = BotProcess(env, tmp_path / "bot.log").start()
        try:
            await sim.wait_for(lambda: sim.stats["getUpdates"], 30)
            await register(sim, 1, code)
            await ask(sim, 1, "/plan", "(.xlsx o .csv)")
            before = len(sim.messages(1))
            await sim.user_sends_document(1, "<i>plan</i> & co.csv", _big_valid_csv(3), "text/csv")
            report = await sim.wait_for_message(
                1, lambda m: "importado" in m.plain_text, 60, before
            )
            assert "Plan <i>plan</i> & co importado" in report.plain_text
        finally:
            bot.stop()
        assert bot.output().count("starting in polling mode") == 1  # the worker is no bot
