"""Weekly reminders to focal points and the coordinators' weekly digest, with a fixed clock."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from bot.app import build_application
from bot.jobs import PTB_DAYS, send_reminders
from bot.outbox_delivery import deliver_all
from bot.settings import Settings
from storage.db import transaction
from storage.followup import post_comment, set_status
from storage.models import KeyAction, Status
from storage.reminders import (
    DIGEST_KIND,
    REMINDER_KIND,
    claim_run,
    period_start,
    select_reminders,
    weekly_digest,
)
from tests.offline import TOKEN, OfflineRequest
from tests.report_support import (
    NOW,
    TODAY,
    add_person,
    add_plan,
    outbox_rows,
    running_app,
    sent_texts,
)

TUESDAY = 1
PNUD_FOCAL, OCR_FOCAL, UC_FOCAL, RETIRED_FOCAL, COORDINATOR = 10, 11, 12, 13, 20


async def _setup(sessions):
    ids = await add_plan(
        sessions,
        [
            ("1.1", "Revisar el POA", dt.date(2026, 11, 1), ["PNUD"]),  # overdue
            ("1.2", "Roster de consultores", dt.date(2026, 12, 1), ["PNUD", "OCR"]),  # due soon
            ("2 y 3.1", "Estrategia común", dt.date(2027, 6, 30), ["PNUD"]),  # fine
            ("2 y 3.2", "Sistematizar experiencias", dt.date(2027, 6, 30), ["PNUD"]),  # stale
            ("2 y 3.3", "Cerrar convenios", dt.date(2026, 10, 31), ["PNUD"]),  # completed
            ("4.1", "Contratar asistentes", None, ["PNUD"]),  # event, never updated: stale
            ("4.2", "Plan de comunicación", dt.date(2026, 9, 30), ["OCR"]),  # OCR overdue
            ("5.1", "Informe final", dt.date(2027, 12, 31), ["Unidad de Coordinación"]),  # fine
        ],
    )
    async with transaction(sessions) as session:
        old = NOW - dt.timedelta(days=45)
        await session.execute(
            update(KeyAction)
            .where(KeyAction.id.in_([ids["2 y 3.2"], ids["4.1"]]))
            .values(created_at=old, last_update_at=None)
        )
        await session.execute(
            update(KeyAction)
            .where(KeyAction.id == ids["2 y 3.2"])
            .values(last_update_at=NOW - dt.timedelta(days=31))
        )
        await session.execute(
            update(KeyAction)
            .where(KeyAction.id == ids["2 y 3.3"])
            .values(status=Status.COMPLETED.value)
        )
    await add_person(sessions, "focal", PNUD_FOCAL, ["PNUD"], name="Ana")
    await add_person(sessions, "focal", OCR_FOCAL, ["OCR"], name="Luis")
    await add_person(sessions, "focal", UC_FOCAL, ["Unidad de Coordinación"], name="Eva")
    retired = await add_person(sessions, "focal", RETIRED_FOCAL, ["PNUD"], name="Ex")
    async with transaction(sessions) as session:
        await session.execute(
            update(retired.__class__).where(retired.__class__.id == retired.id).values(active=False)
        )
    await add_person(sessions, "coordinator", COORDINATOR, name="Coordinadora")
    return ids


async def test_selection_due_soon_overdue_stale_and_nothing_pending(sessions):
    ids = await _setup(sessions)
    async with sessions() as session:
        reminders = await select_reminders(session, today=TODAY, now=NOW)
    by_person = {r.telegram_id: r for r in reminders}
    assert set(by_person) == {PNUD_FOCAL, OCR_FOCAL}  # Eva has nothing pending; Ex is inactive
    ana = by_person[PNUD_FOCAL]
    assert [(i.ref, i.reason) for i in ana.items] == [
        ("1.1", "overdue"),
        ("1.2", "due_soon"),
        ("2 y 3.2", "stale"),
        ("4.1", "stale"),
    ]
    assert ana.counts() == {"observed": 0, "overdue": 1, "due_soon": 1, "stale": 2}
    assert [(i.ref, i.reason) for i in by_person[OCR_FOCAL].items] == [
        ("4.2", "overdue"),
        ("1.2", "due_soon"),
    ]
    assert by_person[OCR_FOCAL].items[1].action_id == ids["1.2"]


async def test_a_week_later_the_due_soon_window_moves(sessions):
    await _setup(sessions)
    later = NOW + dt.timedelta(days=7)
    async with sessions() as session:
        reminders = await select_reminders(session, today=TODAY + dt.timedelta(days=7), now=later)
    ana = next(r for r in reminders if r.telegram_id == PNUD_FOCAL)
    assert [(i.ref, i.reason) for i in ana.items][:2] == [("1.1", "overdue"), ("1.2", "due_soon")]


async def test_an_update_takes_an_action_off_the_stale_list(sessions):
    ids = await _setup(sessions)
    focal = await add_person(sessions, "focal", 14, ["PNUD"], name="Otra")
    async with transaction(sessions) as session:
        await post_comment(
            session, focal, ids["4.1"], "Avance", now=NOW - dt.timedelta(days=1), notify_chat_ids=()
        )
    async with sessions() as session:
        reminders = await select_reminders(session, today=TODAY, now=NOW)
    ana = next(r for r in reminders if r.telegram_id == PNUD_FOCAL)
    assert "4.1" not in [i.ref for i in ana.items]


async def test_weekly_run_happens_once_and_is_delivered_with_buttons(sessions):
    ids = await _setup(sessions)
    first = await send_reminders(sessions, now=NOW, weekday=TUESDAY)
    second = await send_reminders(sessions, now=NOW + dt.timedelta(hours=3), weekday=TUESDAY)
    assert (first.ran, first.reminders, first.digests) == (True, 2, 1)
    assert not second.ran
    rows = await outbox_rows(sessions)
    assert sorted((r.chat_id, r.kind) for r in rows) == [
        (PNUD_FOCAL, REMINDER_KIND),
        (OCR_FOCAL, REMINDER_KIND),
        (COORDINATOR, DIGEST_KIND),
    ]
    async with running_app(sessions) as (app, request):
        report = await deliver_all(app.bot, sessions, now=NOW)
    assert report.sent_rows == 3
    [text] = sent_texts(request, PNUD_FOCAL)
    assert "Recordatorio semanal" in text
    assert "Tiene 4 acciones que requieren su atención" in text
    assert "<b>Vencida (1)</b>" in text and "Vencen en los próximos 14 días (1)" in text
    assert "Sin novedades en 30 días (2)" in text
    assert "vencida hace" in text and "aún sin novedades" in text
    buttons = request.sent(PNUD_FOCAL)[0].buttons
    assert [b[1] for b in buttons] == [f"an:{ids[ref]}" for ref in ("1.1", "1.2", "2 y 3.2", "4.1")]
    assert request.sent(UC_FOCAL) == [] and request.sent(RETIRED_FOCAL) == []


async def test_next_week_runs_again(sessions):
    await _setup(sessions)
    assert (await send_reminders(sessions, now=NOW, weekday=TUESDAY)).ran
    assert (await send_reminders(sessions, now=NOW + dt.timedelta(days=7), weekday=TUESDAY)).ran


async def test_claim_run_once_per_period(sessions):
    start = period_start(NOW, "America/Lima", weekday=TUESDAY)
    assert start == dt.datetime(2026, 11, 24, 5, 0, tzinfo=dt.UTC)  # Tuesday 00:00 in Lima
    assert period_start(NOW + dt.timedelta(days=3), "America/Lima", weekday=TUESDAY) == start
    async with transaction(sessions) as session:
        assert await claim_run(session, "job", start, now=NOW)
    async with transaction(sessions) as session:
        assert not await claim_run(session, "job", start, now=NOW + dt.timedelta(minutes=1))
    async with transaction(sessions) as session:
        assert await claim_run(
            session, "job", start + dt.timedelta(days=7), now=NOW + dt.timedelta(days=7)
        )


async def test_a_failed_run_leaves_the_week_unclaimed(sessions):
    start = period_start(NOW, "America/Lima", weekday=TUESDAY)
    try:
        async with transaction(sessions) as session:
            assert await claim_run(session, "job", start, now=NOW)
            raise RuntimeError("selection failed")
    except RuntimeError:
        pass
    async with transaction(sessions) as session:
        assert await claim_run(session, "job", start, now=NOW)


async def test_weekly_digest_counts_the_week(sessions):
    ids = await _setup(sessions)
    focal = await add_person(sessions, "focal", 15, ["PNUD"], name="Rosa")
    async with transaction(sessions) as session:
        await post_comment(
            session,
            focal,
            ids["1.1"],
            "Hace tiempo",
            now=NOW - dt.timedelta(days=9),
            notify_chat_ids=(),
        )
        await post_comment(
            session, focal, ids["1.1"], "Avance", now=NOW - dt.timedelta(days=2), notify_chat_ids=()
        )
        await set_status(
            session,
            focal,
            ids["1.1"],
            Status.IN_PROGRESS,
            now=NOW - dt.timedelta(days=1),
            notify_chat_ids=(),
        )
        await set_status(
            session,
            focal,
            ids["1.2"],
            Status.COMPLETED,
            justification="Roster listo",
            now=NOW - dt.timedelta(hours=2),
            notify_chat_ids=(),
        )
    async with sessions() as session:
        digest = await weekly_digest(
            session,
            since=NOW - dt.timedelta(days=7),
            now=NOW,
            today=TODAY,
            since_date=TODAY - dt.timedelta(days=7),
        )
    assert (digest.comments, digest.status_changes, digest.completed) == (2, 2, 1)
    assert digest.total == 8 and digest.by_status[Status.COMPLETED.value] == 2
    assert digest.overdue == 2  # 1.1 and 4.2
    assert digest.newly_overdue == []  # both were overdue before this week
    assert [c["ref"] for c in digest.changes] == ["1.2", "1.1"]
    assert await send_reminders(sessions, now=NOW, weekday=TUESDAY)
    async with running_app(sessions) as (app, request):
        await deliver_all(app.bot, sessions, now=NOW)
    [text] = sent_texts(request, COORDINATOR)
    assert "Resumen semanal" in text
    assert "Esta semana: 2 comentarios, 2 cambios de estado (1 completada)" in text
    assert "Roster de consultores" in text and "No iniciada → <b>Completada</b>" in text


async def test_newly_overdue_in_the_digest(sessions):
    ids = await add_plan(sessions, [("1.1", "Entregar informe", dt.date(2026, 11, 20), ["PNUD"])])
    await add_person(sessions, "coordinator", COORDINATOR)
    await send_reminders(sessions, now=NOW, weekday=TUESDAY)
    async with running_app(sessions) as (app, request):
        await deliver_all(app.bot, sessions, now=NOW)
    [call] = request.sent(COORDINATOR)
    assert "Vencida esta semana (1)" in call.text and "Entregar informe" in call.text
    assert ("1.1 ›", f"an:{ids['1.1']}") in call.buttons


def test_jobs_are_scheduled_in_the_bot_timezone():
    app = build_application(
        Settings(
            telegram_bot_token=TOKEN,
            reminder_weekday="tue",
            reminder_hour=9,
            digest_hour=18,
            outbox_interval=2,
            _env_file=None,  # type: ignore[call-arg]
        ),
        None,  # type: ignore[arg-type]
        request=OfflineRequest(),
        rate_limiter=False,
    )
    jobs = {job.name: job.job.trigger for job in app.job_queue.jobs()}
    assert str(jobs["outbox"]) == "interval[0:00:02]"
    assert "day_of_week='tue', hour='9', minute='0'" in str(jobs["weekly_reminders"])
    assert str(jobs["weekly_reminders"].timezone) == "America/Lima"
    assert "hour='18'" in str(jobs["daily_digest"])
    assert PTB_DAYS == {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 0}


async def test_with_several_plans_each_action_says_its_plan(sessions):
    await add_plan(
        sessions, [("1.1", "Revisar el POA", dt.date(2026, 11, 1), ["PNUD"])], title="PC Perú"
    )
    await add_plan(
        sessions, [("1.1", "Otra acción", dt.date(2026, 11, 30), ["PNUD"])], title="PC Bolivia"
    )
    await add_person(sessions, "focal", PNUD_FOCAL, ["PNUD"])
    await send_reminders(sessions, now=NOW, weekday=TUESDAY)
    async with running_app(sessions) as (app, request):
        await deliver_all(app.bot, sessions, now=NOW)
    [text] = sent_texts(request, PNUD_FOCAL)
    assert "🔴 <b>PC Perú · 1.1</b> Revisar el POA" in text
    assert "📅 <b>PC Bolivia · 1.1</b> Otra acción" in text
