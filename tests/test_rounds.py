"""Reporting rounds, with a fixed clock: opening (command line and chat, bad dates, a second
round), every focal point asked and guided (every button, resuming after a restart), reminders
on the right days to those pending only, closing by date and by hand, the snapshot kept, and
what changed since the previous round."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import os
import subprocess
import sys

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import select, update

from bot.jobs import sweep_rounds_once
from bot.outbox_delivery import deliver_all
from storage.db import transaction
from storage.errors import InvalidInput
from storage.followup import post_comment, set_status
from storage.models import KeyAction, OutboxMessage, Person, ReportingRound, RoundAnswer, Status
from storage.people import create_invitation
from storage.round_answers import RoundAction, next_in
from storage.round_closing import close_round, reminder_due
from storage.rounds import ASK_KIND, REMINDER_KIND, REPORT_KIND, open_round
from tests.offline import Chat
from tests.report_support import (
    NOW,
    SECRETARIAT_CHAT,
    TODAY,
    Clock,
    add_person,
    add_plan,
    running_app,
)

ANA, LUIS, EVA, RETIRED, COORDINATOR = 10, 11, 12, 13, 20


async def _setup(sessions):  # type: ignore[no-untyped-def]
    ids = await add_plan(
        sessions,
        [
            ("1.1", "Revisar el POA", dt.date(2026, 11, 1), ["PNUD"]),
            ("1.2", "Roster de consultores", dt.date(2026, 12, 10), ["PNUD", "OCR"]),
            ("2.1", "Estrategia común", dt.date(2027, 6, 30), ["PNUD"]),
            ("2.2", "Cerrar convenios", dt.date(2026, 10, 31), ["PNUD"]),  # completed
            ("3.1", "Plan de comunicación", dt.date(2026, 9, 30), ["OCR"]),
        ],
    )
    async with transaction(sessions) as session:
        await session.execute(
            update(KeyAction)
            .where(KeyAction.id == ids["2.2"])
            .values(status=Status.COMPLETED.value)
        )
    await add_person(sessions, "focal", ANA, ["PNUD"], name="Ana")
    await add_person(sessions, "focal", LUIS, ["OCR"], name="Luis")
    await add_person(sessions, "focal", EVA, ["Unidad de Coordinación"], name="Eva")
    await add_person(sessions, "coordinator", COORDINATOR, name="Carmen")
    return ids


async def _rows(sessions, kind: str | None = None) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind:
            query = query.where(OutboxMessage.kind == kind)
        return list((await session.scalars(query)).all())


async def _open(sessions, closes: dt.date, title: str = "Informe semestral") -> int:  # type: ignore[no-untyped-def]
    async with transaction(sessions) as session:
        info = await open_round(session, closes_on=closes, today=TODAY, title=title, now=NOW)
    return info.id


async def _answers(sessions, round_id: int) -> dict[tuple[int, int], tuple[str, bool]]:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        rows = (
            await session.scalars(select(RoundAnswer).where(RoundAnswer.round_id == round_id))
        ).all()
        people = {p.id: p.telegram_id for p in (await session.scalars(select(Person))).all()}
    return {(people[a.person_id], a.action_id): (a.answer, a.late) for a in rows}


# -- opening ----------------------------------------------------------------------------------


async def test_closing_dates_in_the_past_or_too_far_and_a_second_round_are_refused(sessions):
    await _setup(sessions)
    for closes, code in (
        (TODAY, "round_date_past"),
        (TODAY - dt.timedelta(days=3), "round_date_past"),
        (TODAY + dt.timedelta(days=400), "round_date_far"),
    ):
        with pytest.raises(InvalidInput) as refused:
            async with transaction(sessions) as session:
                await open_round(session, closes_on=closes, today=TODAY, now=NOW)
        assert refused.value.code == code
    first = await _open(sessions, TODAY + dt.timedelta(days=14))
    with pytest.raises(InvalidInput) as refused:
        async with transaction(sessions) as session:
            await open_round(session, closes_on=TODAY + dt.timedelta(days=20), today=TODAY)
    assert refused.value.code == "round_already_open"
    assert refused.value.detail["round_id"] == first
    asks = await _rows(sessions, ASK_KIND)
    assert sorted(r.chat_id for r in asks) == [ANA, LUIS]  # Eva has nothing in this plan
    assert {r.chat_id: r.payload["actions"] for r in asks} == {ANA: 3, LUIS: 2}
    assert asks[1].available_at > asks[0].available_at  # paced, not all at once


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_command_line_opens_lists_shows_and_closes(sessions, database_url):
    await _setup(sessions)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "LOAD_"))}
    env |= {"DATABASE_URL": database_url, "SECRETARIAT_CHAT_IDS": str(SECRETARIAT_CHAT)}

    async def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(_cli, env, "round", *args)

    past = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    later = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    done = await cli("open", "--closes", "15/03/2012")
    assert done.returncode == 2 and "YYYY-MM-DD" in done.stderr
    done = await cli("open", "--closes", past)
    assert done.returncode == 1 and "after today" in done.stderr
    done = await cli("open", "--closes", later, "--title", "Primer semestre")
    assert done.returncode == 0 and "2 focal points asked" in done.stdout
    done = await cli("open", "--closes", later)
    assert done.returncode == 1 and "(Primer semestre) is open on this plan until" in done.stderr
    assert "Primer semestre" in (await cli("list")).stdout
    status = (await cli("status")).stdout
    assert "Ana: 0 updated, 0 unchanged, 0 skipped, of 3 (not started)" in status
    assert "PNUD: 1 people" in status
    assert "closed" in (await cli("close")).stdout
    done = await cli("close")
    assert done.returncode == 1 and "closed already" in done.stderr
    reports = await _rows(sessions, REPORT_KIND)
    assert sorted(r.chat_id for r in reports) == [SECRETARIAT_CHAT, COORDINATOR]


async def test_opening_in_chat_with_a_typed_date_bad_input_and_a_second_round(sessions):
    await _setup(sessions)
    async with running_app(sessions) as (app, request):
        carmen = Chat(app, COORDINATOR)
        await carmen.send("/ronda")
        question = request.last(COORDINATOR)
        assert "¿Cuándo debe cerrarse la ronda?" in question.text
        assert [d for _, d in question.buttons][:4] == [
            f"roo:1:{c}" for c in ("w1", "w2", "me", "qe")
        ]
        assert "30 nov 2026" in question.buttons[2][0] and "31 dic 2026" in question.buttons[3][0]
        await carmen.send("pronto")
        assert "No pude leer eso como una fecha" in request.last(COORDINATOR).text
        await carmen.send("20/11/2026")
        assert "debe ser posterior a hoy" in request.last(COORDINATOR).text
        await carmen.send("31/12/2027")
        assert "dentro de un año" in request.last(COORDINATOR).text
        await carmen.send("15/12/2026 Informe <semestral>")
        opened = request.last(COORDINATOR).text
        assert "Ronda de seguimiento abierta hasta el 15 dic 2026" in opened
        assert "«Informe &lt;semestral&gt;»" in opened
        assert "Ana: sin empezar" in opened
        async with sessions() as session:
            rnd = await session.scalar(select(ReportingRound))
            assert (rnd.title, rnd.closes_on) == ("Informe <semestral>", dt.date(2026, 12, 15))
        await carmen.press("roo:1:w1")
        assert "ya tiene una ronda de seguimiento abierta" in request.last(COORDINATOR).text
        ana = Chat(app, ANA)
        await ana.send("/ronda")
        assert "Solo la coordinación" in request.last(ANA).text
    assert len(await _rows(sessions, ASK_KIND)) == 2


# -- the guided sequence ---------------------------------------------------------------------


async def test_guided_sequence_with_every_button(sessions):
    ids = await _setup(sessions)
    round_id = await _open(sessions, TODAY + dt.timedelta(days=10))
    async with running_app(sessions) as (app, request):
        await deliver_all(app.bot, sessions, now=NOW)
        [ask] = request.sent(ANA)
        assert "Ronda de seguimiento" in ask.text and "3 acciones abiertas" in ask.text
        assert ask.buttons == [("▶ Empezar", f"rog:{round_id}:0")]
        ana = Chat(app, ANA)
        await ana.press(f"rog:{round_id}:0")
        card = request.last(ANA)
        assert "acción 1 de 3" in card.text and "Revisar el POA" in card.text
        assert "vencida" in card.text
        labels = [label for label, _ in card.buttons]
        assert labels[0] == "✔ Sin cambios" and "💬 Comentar" in labels
        assert "⏭ Saltar por ahora" in labels and "⚪ No iniciada" not in labels
        await ana.press(f"rou:{round_id}:{ids['1.1']}")
        assert "acción 2 de 3" in request.last(ANA).text
        await ana.press(f"ros:{round_id}:{ids['1.2']}:c")  # completed: asks why
        assert "justificación" in request.last(ANA).text
        await ana.send("Roster aprobado")
        after = request.last(ANA).text
        assert "Estado cambiado a Completada" in after and "acción 3 de 3" in after
        await ana.press(f"roc:{round_id}:{ids['2.1']}")
        await ana.press("x")  # cancel: back to the same action
        assert "acción 3 de 3" in request.last(ANA).text
        await ana.press(f"rox:{round_id}:{ids['2.1']}")
        summary = request.last(ANA)
        assert "Eso es todo" in summary.text and "omitidas: 1" in summary.text
        assert summary.buttons == [("⏭ Volver a las omitidas (1)", f"rog:{round_id}:1")]
        await ana.press(f"rog:{round_id}:1")
        assert "Estrategia común" in request.last(ANA).text
        await ana.press(f"roc:{round_id}:{ids['2.1']}")
        await ana.send("Borrador listo")
        assert "Eso es todo" in request.last(ANA).text
        await ana.press(f"ros:{round_id}:{ids['1.1']}:i")  # from the summary's old card
        await ana.press(f"rou:{round_id}:{ids['3.1']}")  # not hers
        assert request.calls[-1].method == "answerCallbackQuery"
    answers = await _answers(sessions, round_id)
    assert answers == {
        (ANA, ids["1.1"]): ("updated", False),
        (ANA, ids["1.2"]): ("updated", False),
        (ANA, ids["2.1"]): ("updated", False),
    }
    async with sessions() as session:
        assert (await session.get(KeyAction, ids["1.2"])).status == "completed"
        assert (await session.get(KeyAction, ids["1.1"])).status == "in_progress"


async def test_resume_after_a_restart_and_updates_outside_the_sequence_count(sessions):
    ids = await _setup(sessions)
    round_id = await _open(sessions, TODAY + dt.timedelta(days=10))
    async with running_app(sessions) as (app, request):
        ana = Chat(app, ANA)
        await ana.press(f"rog:{round_id}:0")
        await ana.press(f"rou:{round_id}:{ids['1.1']}")
        await ana.press(f"roc:{round_id}:{ids['1.2']}")  # a comment started, then a restart
    async with running_app(sessions) as (app, request):
        ana = Chat(app, ANA)
        await ana.send("Escrito después del reinicio")
        assert "acción 3 de 3" in request.last(ANA).text
    async with running_app(sessions) as (app, request):
        await Chat(app, ANA).press(f"rog:{round_id}:0")
        assert "Estrategia común" in request.last(ANA).text  # where she left
    async with transaction(sessions) as session:
        luis = await session.scalar(select(Person).where(Person.telegram_id == LUIS))
        await post_comment(session, luis, ids["3.1"], "Avance", notify_chat_ids=(), now=NOW)
    answers = await _answers(sessions, round_id)
    assert answers[(ANA, ids["1.2"])] == ("updated", False)
    assert answers[(LUIS, ids["3.1"])] == ("updated", False)


# -- reminders, newcomers, closing -------------------------------------------------------------


def test_reminder_days():
    assert [reminder_due(d, None) for d in (5, 4, 3, 2, 1, 0)] == [None, None, 3, 3, 1, None]
    assert [reminder_due(d, 3) for d in (3, 2, 1)] == [None, None, 1]
    assert reminder_due(1, 1) is None


async def test_reminders_on_the_right_days_to_those_pending_and_newcomers_asked(sessions):
    ids = await _setup(sessions)
    round_id = await _open(sessions, TODAY + dt.timedelta(days=5))
    async with sessions() as session:
        rnd = await session.get(ReportingRound, round_id)
    async with transaction(sessions) as session:  # Luis reports in full
        luis = await session.scalar(select(Person).where(Person.telegram_id == LUIS))
        await set_status(session, luis, ids["1.2"], "in_progress", notify_chat_ids=(), now=NOW)
        await post_comment(session, luis, ids["3.1"], "Sin novedad", notify_chat_ids=(), now=NOW)
    reminded: dict[int, list[int]] = {}
    for day in range(1, 7):
        now = NOW + dt.timedelta(days=day)
        if day == 2:  # someone joins; someone is deactivated
            await add_person(sessions, "focal", RETIRED, ["PNUD"], name="Nuevo")
            async with transaction(sessions) as session:
                await session.execute(
                    update(Person).where(Person.telegram_id == ANA).values(active=False)
                )
        before = len(await _rows(sessions, REMINDER_KIND))
        sweep = await sweep_rounds_once(sessions, now=now, notify_chat_ids=[SECRETARIAT_CHAT])
        rows = (await _rows(sessions, REMINDER_KIND))[before:]
        reminded[(rnd.closes_on - (TODAY + dt.timedelta(days=day))).days] = sorted(
            r.chat_id for r in rows
        )
        if day == 2:
            assert sweep.asked == 1
    assert reminded == {4: [], 3: [RETIRED], 2: [], 1: [RETIRED], 0: [], -1: []}
    asks = await _rows(sessions, ASK_KIND)
    assert sorted(r.chat_id for r in asks) == [ANA, LUIS, RETIRED]
    async with sessions() as session:
        closed = await session.get(ReportingRound, round_id)
        assert closed.closed_at == NOW + dt.timedelta(days=6)
    assert sorted(r.chat_id for r in await _rows(sessions, REPORT_KIND)) == [
        SECRETARIAT_CHAT,
        COORDINATOR,
    ]
    early = await sweep_rounds_once(sessions, now=NOW.replace(hour=12))  # 07:00 in Lima
    assert early.reminded == 0


async def test_close_by_hand_in_chat_sends_the_report_and_the_snapshot_stays(sessions):
    ids = await _setup(sessions)
    round_id = await _open(sessions, TODAY + dt.timedelta(days=10))
    async with transaction(sessions) as session:
        ana = await session.scalar(select(Person).where(Person.telegram_id == ANA))
        await set_status(
            session, ana, ids["1.1"], "completed", justification="POA aprobado", notify_chat_ids=()
        )
    clock = Clock(NOW + dt.timedelta(days=1))
    async with running_app(sessions, clock=clock) as (app, request):
        carmen = Chat(app, COORDINATOR)
        await carmen.send("/ronda")
        status = request.last(COORDINATOR)
        assert "Por unidad" in status.text and "PNUD: 1 actualizadas" in status.text
        assert "Ana: 1 actualizadas, 0 sin cambios de 3" in status.text
        assert "Luis: sin empezar" in status.text
        assert ("🔔 Recordar a quienes faltan (2)", f"ron:{round_id}") in status.buttons
        await carmen.press(f"ron:{round_id}")
        assert len(await _rows(sessions, REMINDER_KIND)) == 2
        await carmen.press(f"roz:{round_id}")
        assert "¿Cerrar «Informe semestral» ahora?" in request.last(COORDINATOR).text
        await carmen.press(f"rozy:{round_id}")
        assert "Ronda cerrada" in request.last(COORDINATOR).text
        outbox = await deliver_all(app.bot, sessions, now=clock.now + dt.timedelta(minutes=1))
        assert not outbox.errors
        [summary] = [c for c in request.sent(SECRETARIAT_CHAT) if c.method == "sendMessage"]
        assert "Ronda de seguimiento cerrada" in summary.text
        assert "✅ Completadas (1): 1.1" in summary.text
        assert "🙋 No informaron (1): Luis" in summary.text
        name, data = request.last_file("sendDocument")
        assert name == f"ronda_{round_id}_2026-12-04.xlsx"
        sheet = load_workbook(io.BytesIO(data)).active
        assert [c.value for c in sheet[2]][4] == "Revisar el POA"
        assert [c.value for c in sheet[2]][8] == "Completada"
        [(word_name, word_data)] = [
            f[2:] for f in request.files if f[0] == "sendDocument" and f[2].endswith(".docx")
        ][-1:]
        assert word_name == f"ronda_{round_id}_2026-12-04.docx"
        document = Document(io.BytesIO(word_data))
        assert document.paragraphs[0].text == "Plan de prueba"
        # closed by hand before its date: the document shows the plan on the day it closed
        assert document.paragraphs[1].text == "Situación al 25 de noviembre de 2026"
        cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
        assert "Revisar el POA" in " ".join(cells) and "Completada" in cells
        # re-sent on request, from the list of past rounds
        await carmen.press("rol")
        assert (f"{'4 dic 2026'} · Informe semestral", f"rov:{round_id}") in request.last(
            COORDINATOR
        ).buttons
        await carmen.press(f"ror:{round_id}")
        assert request.last(COORDINATOR).method == "sendDocument"
    async with transaction(sessions) as session:  # a late update
        ana = await session.scalar(select(Person).where(Person.telegram_id == ANA))
        await set_status(session, ana, ids["2.1"], "in_progress", notify_chat_ids=())
    async with sessions() as session:
        rnd = await session.get(ReportingRound, round_id)
        row = next(r for r in rnd.snapshot if r["id"] == ids["2.1"])
        assert row["follow_up_status"] == "not_started"
    assert (await _answers(sessions, round_id))[(ANA, ids["2.1"])] == ("updated", True)


async def test_changes_since_the_previous_round(sessions):
    ids = await _setup(sessions)
    first = await _open(sessions, TODAY + dt.timedelta(days=5), title="Primera")
    async with transaction(sessions) as session:
        await close_round(session, first, today=TODAY + dt.timedelta(days=1), now=NOW)
    async with sessions() as session:
        report = (await session.get(ReportingRound, first)).report
    assert report["previous"] is None and report["not_reported_count"] == 2
    later = NOW + dt.timedelta(days=20)  # 1.2 (due 10 Dec) is now overdue
    async with transaction(sessions) as session:
        second = await open_round(
            session,
            closes_on=TODAY + dt.timedelta(days=40),
            today=TODAY + dt.timedelta(days=20),
            title="Segunda",
            now=later,
        )
        luis = await session.scalar(select(Person).where(Person.telegram_id == LUIS))
        await set_status(
            session,
            luis,
            ids["3.1"],
            "completed",
            justification="Plan publicado",
            notify_chat_ids=(),
            now=later,
        )
        report_info = await close_round(
            session, second.id, today=TODAY + dt.timedelta(days=21), now=later
        )
    async with sessions() as session:
        report = (await session.get(ReportingRound, report_info.id)).report
    assert report["previous"]["title"] == "Primera"
    assert [i["ref"] for i in report["completed"]] == ["3.1"]
    assert [i["ref"] for i in report["newly_overdue"]] == ["1.2"]
    assert [i["ref"] for i in report["unchanged"]] == ["1.1", "1.2", "2.1"]
    assert report["not_reported"] == ["Ana"]


async def test_a_focal_point_registering_during_a_round_is_asked_at_once(sessions):
    await _setup(sessions)
    round_id = await _open(sessions, TODAY + dt.timedelta(days=10))
    async with transaction(sessions) as session:
        code = await create_invitation(session, "focal", ["OCR"], now=NOW)
    async with running_app(sessions) as (app, request):
        await Chat(app, 77, first_name="Nora").send(f"/start {code}")
        await deliver_all(app.bot, sessions, now=NOW + dt.timedelta(seconds=5))
        ask = request.last(77)
        assert "Ronda de seguimiento" in ask.text and "2 acciones abiertas" in ask.text
        assert ask.buttons == [("▶ Empezar", f"rog:{round_id}:0")]
    assert sorted(r.chat_id for r in await _rows(sessions, ASK_KIND)) == [ANA, LUIS, 77]


def test_the_next_action_of_the_sequence():
    def part(*answers: str | None) -> list[RoundAction]:
        return [
            RoundAction(i, f"1.{i}", "", "", "date", None, None, "not_started", "pending", a)
            for i, a in enumerate(answers, start=1)
        ]

    fresh = part(None, None, None)
    assert next_in(fresh).id == 1 and next_in(fresh, after=1).id == 2
    assert next_in(part(None, "updated", None), after=3).id == 1  # comes back for what is left
    skipped = part("skipped", "unchanged", "skipped", "updated")
    assert next_in(skipped) is None
    assert next_in(skipped, skipped=True).id == 1
    assert next_in(skipped, after=1, skipped=True).id == 3
    assert next_in(skipped, after=3, skipped=True) is None  # the pass ends, no loop


async def test_with_several_plans_a_plan_is_chosen_first(sessions):
    await _setup(sessions)
    other = await add_plan(
        sessions, [("1.1", "Otra acción", dt.date(2027, 1, 31), ["PNUD"])], title="Otro plan"
    )
    with pytest.raises(InvalidInput) as refused:
        async with transaction(sessions) as session:
            await open_round(session, closes_on=TODAY + dt.timedelta(days=7), today=TODAY)
    assert refused.value.code == "round_plan_needed"
    async with sessions() as session:
        plan_id = (await session.get(KeyAction, other["1.1"])).plan_id
    async with running_app(sessions) as (app, request):
        carmen = Chat(app, COORDINATOR)
        await carmen.send("/ronda")
        picker = request.last(COORDINATOR)
        assert "elija un plan" in picker.text
        assert ("Otro plan", f"rop:{plan_id}") in picker.buttons
        await carmen.press(f"rop:{plan_id}")
        assert "Nueva ronda de seguimiento</b> · Otro plan" in request.last(COORDINATOR).text
        await carmen.press(f"roo:{plan_id}:w2")
        assert "hasta el 8 dic 2026" in request.last(COORDINATOR).text
        await carmen.send("/ronda")
        assert ("📋 Otro plan", f"rop:{plan_id}") in request.last(COORDINATOR).buttons
    asks = await _rows(sessions, ASK_KIND)
    assert [(r.chat_id, r.payload["plan_id"]) for r in asks] == [(ANA, plan_id)]
