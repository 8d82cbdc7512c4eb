"""A clean production start and the operator's plan tools: no demo plan unless asked, plans
listed, archived (hidden from every view, kept) and deleted (refused while people commented)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from bot.settings import Settings
from storage.actions import ActionFilter, list_actions, list_plans, require_visible
from storage.errors import InvalidInput, NotFound
from storage.followup import post_comment
from storage.models import Comment, KeyAction, Plan
from storage.plans import archive_plan, delete_plan, plan_overview
from storage.reminders import select_reminders
from storage.summary import plan_choices, summarise
from tests.storage_support import NOW, TODAY, make_person, make_plan


def test_the_demo_plan_is_loaded_only_when_asked(monkeypatch):
    monkeypatch.delenv("LOAD_DEMO_PLAN", raising=False)
    assert Settings(_env_file=None).load_demo_plan is False
    monkeypatch.setenv("LOAD_DEMO_PLAN", "true")
    assert Settings(_env_file=None).load_demo_plan is True


async def _first_action(session, plan_id: int) -> int:
    return int(
        await session.scalar(
            select(KeyAction.id).where(KeyAction.plan_id == plan_id).order_by(KeyAction.id)
        )
    )


async def test_an_archived_plan_is_hidden_from_every_view_and_kept(session):
    kept = await make_plan(session, "Plan vigente")
    old = await make_plan(session, "Plan antiguo")
    coordinator = await make_person(session, "coordinator", telegram_id=1)
    focal = await make_person(session, "focal", ["PNUD"], telegram_id=2)
    old_action = await _first_action(session, old.id)
    info = await archive_plan(session, old.id, now=NOW)
    assert info.archived_at is not None and info.actions == 4
    assert [p.id for p in await list_plans(session)] == [kept.id]
    assert [p.id for p in await list_plans(session, archived=True)] == [kept.id, old.id]
    assert [c.id for c in await plan_choices(session)] == [kept.id]
    assert [c.id for c in await plan_choices(session, counts=False)] == [kept.id]
    for person in (coordinator, focal):
        page = await list_actions(session, person, today=TODAY, flt=ActionFilter.ALL)
        assert {row.plan_id for row in page.rows} == {kept.id}
    with pytest.raises(NotFound):
        await require_visible(session, coordinator, old_action)
    summary = await summarise(session, today=TODAY)
    assert summary.plan_ids == [kept.id] and summary.total == 4
    reminders = await select_reminders(session, today=TODAY, now=NOW)
    assert all(item.plan_id == kept.id for r in reminders for item in r.items)
    assert await session.scalar(select(func.count()).select_from(Plan)) == 2


async def test_delete_is_refused_while_people_commented_unless_forced(session):
    plan = await make_plan(session)
    focal = await make_person(session, "focal", ["PNUD"], telegram_id=2)
    action = await _first_action(session, plan.id)
    await post_comment(session, focal, action, "Avance del primer trimestre", notify_chat_ids=())
    with pytest.raises(InvalidInput) as error:
        await delete_plan(session, plan.id)
    assert error.value.code == "plan_has_comments"
    info = await delete_plan(session, plan.id, force=True, dry_run=True)
    assert (info.actions, info.comments) == (4, 1)
    assert await session.get(Plan, plan.id) is not None
    await delete_plan(session, plan.id, force=True)
    session.expunge_all()
    assert await plan_overview(session) == []
    assert await session.scalar(select(func.count()).select_from(KeyAction)) == 0
    assert await session.scalar(select(func.count()).select_from(Comment)) == 0
    with pytest.raises(NotFound):
        await delete_plan(session, plan.id)


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_plan_commands_from_a_fresh_database(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "LOAD_"))}
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    assert _cli(env, "db", "upgrade").returncode == 0
    listed = _cli(env, "plan", "list")
    assert "there are no plans" in listed.stdout  # a production start is clean
    assert "demo plan loaded" in _cli(env, "plan", "import", "--demo").stdout
    listed = _cli(env, "plan", "list").stdout
    assert "\t13 actions\t" in listed and listed.splitlines()[1].startswith("1\t")
    dry = _cli(env, "plan", "delete", "1")
    assert dry.returncode == 0 and "would delete plan 1" in dry.stdout
    assert "archived" in _cli(env, "plan", "archive", "1").stdout
    assert "archived 20" in _cli(env, "plan", "list").stdout
    assert "was not loaded" in _cli(env, "plan", "import", "--demo").stdout
    assert "deleted plan 1" in _cli(env, "plan", "delete", "1", "--yes").stdout
    assert "there are no plans" in _cli(env, "plan", "list").stdout
    missing = _cli(env, "plan", "archive", "7")
    assert missing.returncode == 1 and "no plan 7" in missing.stderr
