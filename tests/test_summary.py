"""/resumen on the seed plan (full, by unit, by block, overdue, plan picker, group chat, focal
points) and on a large plan (it must still fit in one message)."""

from __future__ import annotations

import re

from handlers.i18n import Tr
from handlers.summary import block_key, telegram_length
from storage.db import transaction
from storage.followup import set_status
from storage.models import Status
from storage.plan_files import DEMO_TITLE, load_demo_plan
from storage.summary import summarise
from tests.offline import Chat
from tests.report_support import (
    NOW,
    TODAY,
    add_person,
    add_plan,
    build_large_plan,
    running_app,
)

COORDINATOR, OCR_FOCAL, STRANGER, GROUP = 20, 11, 99, -100500
ES = Tr("es")


def pct(n: int, total: int = 13) -> str:
    return ES.percent(n / total)


async def _seed(sessions) -> dict[str, int]:
    """The demo plan with a few follow-ups: 1.1 completed, 1.2 and 7 y 8.2 in progress, 5.1 no
    longer applicable. Today (24 Nov 2026) every dated deadline of the seed (2012) is past."""
    async with transaction(sessions) as session:
        await load_demo_plan(session)
    coordinator = await add_person(sessions, "coordinator", COORDINATOR, name="Carmen")
    async with sessions() as session:
        summary = await summarise(session, today=TODAY, now=NOW, list_limit=20)
    ids = {row.ref: row.id for row in summary.overdue_actions}
    async with transaction(sessions) as session:
        await set_status(
            session,
            coordinator,
            ids["1.1"],
            Status.COMPLETED,
            justification="Hecho",
            now=NOW,
            notify_chat_ids=(),
        )
        await set_status(
            session, coordinator, ids["1.2"], Status.IN_PROGRESS, now=NOW, notify_chat_ids=()
        )
        await set_status(
            session, coordinator, ids["7 y 8.2"], Status.IN_PROGRESS, now=NOW, notify_chat_ids=()
        )
        await set_status(
            session,
            coordinator,
            ids["5.1"],
            Status.NOT_APPLICABLE,
            justification="Ya no",
            now=NOW,
            notify_chat_ids=(),
        )
    return ids


def _section(text: str, title: str) -> list[str]:
    """The lines of a section, from its title to the next blank line."""
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if title in line)
    end = next((i for i in range(start + 1, len(lines)) if not lines[i]), len(lines))
    return lines[start + 1 : end]


async def test_full_summary_of_the_seed(sessions):
    await _seed(sessions)
    async with running_app(sessions) as (app, request):
        await Chat(app, COORDINATOR).send("/resumen")
    [call] = request.sent(COORDINATOR)
    text = call.text
    assert telegram_length(text) <= 4096
    assert f"📊 <b>{DEMO_TITLE}</b>" in text
    assert "<b>13</b> acciones clave" in text
    assert f"{pct(1)}</code> ✅ Completada: <b>1</b>" in text
    assert f"{pct(2)}</code> 🔵 En curso: <b>2</b>" in text
    assert f"{pct(9)}</code> ⚪ No iniciada: <b>9</b>" in text
    assert f"{pct(1)}</code> ⚫ Ya no aplica: <b>1</b>" in text
    assert "<code>███████░░░ " in text  # 9/13 = 69 %: seven cells of ten
    assert "🔴 Vencidas: <b>9</b>" in text and "⏳ Condicionales: <b>1</b>" in text
    assert "💤 Sin novedades en 30 días: <b>0</b>" in text
    overdue = _section(text, "<b>🔴 Vencidas (9)</b>")
    assert len(overdue) == 9 and overdue[-1] == "… y 1 más"
    assert overdue[0].startswith("• <b>1.2</b> Elaboración del POA")
    assert "— CG, Coordinación del PC +2 · vencida hace 15 años" in overdue[0]
    blocks = _section(text, "<b>Por recomendación</b>")
    assert [re.search(r"<b>(.*?)</b>", b).group(1) for b in blocks] == [
        "1",
        "2 y 3",
        "4",
        "5",
        "6",
        "7 y 8",
    ]
    assert blocks[0].endswith(f"<b>1</b> {ES.percent(0.5)} · 1/2 · 🔴 1")
    assert blocks[2].endswith("0/3 · 🔴 3")
    assert _section(text, "<b>Por unidad</b>")
    assert "Próximos plazos" not in text  # every deadline of the seed is past
    assert "🕓 Por revisar 13 · ☑️ Validado 0 · ⚠️ Con observaciones 0" in text
    assert [b[0] for b in call.buttons] == ["📈 Ver gráfico", "🔴 Solo vencidas", "📥 Planilla"]


async def test_summary_of_a_unit(sessions):
    await _seed(sessions)
    async with running_app(sessions) as (app, request):
        await Chat(app, COORDINATOR).send("/resumen OCR")
    text = request.last(COORDINATOR).text
    assert "Unidad: <b>OCR</b>" in text
    assert "<b>4</b> acciones clave" in text
    assert f"{pct(2, 4)}</code> 🔵 En curso: <b>2</b>" in text
    assert "🔴 Vencidas: <b>4</b>" in text
    assert "Por unidad" not in text
    assert ("↩ Todo el plan", "rs:s:1:") not in request.last(COORDINATOR).buttons


async def test_summary_of_a_block_however_it_is_written(sessions):
    await _seed(sessions)
    async with running_app(sessions) as (app, request):
        chat = Chat(app, COORDINATOR)
        await chat.send("/resumen 4")
        four = request.last(COORDINATOR).text
        for spelling in ("2 y 3", "2y3", "recomendación 2 y 3"):
            await chat.send(f"/resumen {spelling}")
            assert "Recomendación <b>2 y 3</b>" in request.last(COORDINATOR).text
            assert "<b>2</b> acciones clave" in request.last(COORDINATOR).text
    assert "Recomendación <b>4</b>" in four and "<b>3</b> acciones clave" in four
    assert "🔴 Vencidas: <b>3</b>" in four
    assert block_key("Nº 7 and 8") == block_key("n° 7, 8") == block_key("7 y 8") == "7y8"


async def test_overdue_only(sessions):
    await _seed(sessions)
    async with running_app(sessions) as (app, request):
        chat = Chat(app, COORDINATOR)
        await chat.send("/resumen vencidas")
        text = request.last(COORDINATOR).text
        await chat.send("/resumen overdue")
        assert request.last(COORDINATOR).text == text
    assert "🔴 Solo acciones vencidas" in text
    assert "<b>9</b> acciones clave" in text
    assert "Completada" not in text and "Ya no aplica" not in text
    assert "⚪ No iniciada: <b>7</b>" in text and "🔵 En curso: <b>2</b>" in text


async def test_unknown_argument_and_several_matching_units(sessions):
    await _seed(sessions)
    async with running_app(sessions) as (app, request):
        chat = Chat(app, COORDINATOR)
        await chat.send("/resumen Narnia")
        assert (
            "Ninguna unidad ni recomendación coincide con «Narnia»"
            in request.last(COORDINATOR).text
        )
        await chat.send("/resumen Agencia")
        choice = request.last(COORDINATOR)
        assert "Varias unidades coinciden" in choice.text
        assert len(choice.buttons) >= 2
        assert all(re.fullmatch(r"rs:s:-:u\d+", data) for _, data in choice.buttons)
        await chat.press(choice.buttons[0][1])
        assert "Unidad: <b>" in request.last(COORDINATOR).text


async def test_plan_picker_with_two_plans_and_the_portfolio(sessions):
    await _seed(sessions)
    await add_plan(
        sessions,
        [("1.1", "Otra acción", TODAY.replace(year=2027), ["PNUD"])],
        title="Plan del segundo programa",
    )
    async with running_app(sessions) as (app, request):
        chat = Chat(app, COORDINATOR)
        await chat.send("/resumen")
        picker = request.last(COORDINATOR)
        assert "Hay 2 planes" in picker.text
        assert [b[1] for b in picker.buttons] == ["rs:s:1:", "rs:s:2:", "rs:s:all:"]
        assert picker.buttons[0][0] == f"{DEMO_TITLE} (13)"
        await chat.press("rs:s:2:")
        second = request.last(COORDINATOR)
        assert second.method == "editMessageText"
        assert "Plan del segundo programa" in second.text and "<b>1</b> acción clave" in second.text
        assert "• 24 nov 2027 · <b>1.1</b> Otra acción (PNUD)" in second.text
        await chat.press("rs:s:all:")
        portfolio = request.last(COORDINATOR).text
        await chat.send("/resumen todos vencidas")
        overdue_portfolio = request.last(COORDINATOR).text
    assert "Todos los planes (2)" in portfolio and "<b>14</b> acciones clave" in portfolio
    plans = _section(portfolio, "<b>Por plan</b>")
    assert DEMO_TITLE[:20] in plans[0] and "🔴 9" in plans[0]  # most overdue first
    assert "Plan del segundo programa" in plans[1]
    assert (
        "Todos los planes (2)" in overdue_portfolio
        and "<b>9</b> acciones clave" in overdue_portfolio
    )


async def test_group_chat(sessions):
    await _seed(sessions)
    async with running_app(sessions) as (app, request):
        await Chat(app, COORDINATOR, chat_id=GROUP).send("/resumen@plan_de_mejora_bot")
        await Chat(app, STRANGER, chat_id=GROUP).send("/resumen")
    summary, refusal = request.sent(GROUP)
    assert "<b>13</b> acciones clave" in summary.text
    assert "personas registradas" in refusal.text
    assert request.sent(COORDINATOR) == []


async def test_focal_point_sees_their_units_only(sessions):
    await _seed(sessions)
    await add_person(sessions, "focal", OCR_FOCAL, ["OCR"], name="Luis")
    async with running_app(sessions) as (app, request):
        chat = Chat(app, OCR_FOCAL)
        await chat.send("/resumen")
        own = request.last(OCR_FOCAL)
        await chat.send("/resumen PNUD")
        other = request.last(OCR_FOCAL).text
    assert "Sus unidades: OCR" in own.text and "<b>4</b> acciones clave" in own.text
    assert "📥 Planilla" not in [b[0] for b in own.buttons]
    assert "Solo puede ver el resumen de sus propias unidades." in other


async def test_large_plan_fits_in_one_message(sessions):
    plan_id = await build_large_plan(sessions, actions=2000, units=60)
    await add_person(sessions, "coordinator", COORDINATOR)
    async with running_app(sessions) as (app, request):
        chat = Chat(app, COORDINATOR)
        await chat.send("/resumen")
        full = request.last(COORDINATOR).text
        await chat.send("/resumen vencidas")
        overdue = request.last(COORDINATOR).text
        await chat.send("/resumen 12")
        block = request.last(COORDINATOR).text
        count = len(request.sent(COORDINATOR))
    assert count == 3  # one message each
    for text in (full, overdue, block):
        assert telegram_length(text) <= 4096
    assert "<b>2.000</b> acciones clave" in full
    assert "💤 Sin novedades en 30 días: <b>1.000</b>" in full
    assert re.search(r"… y \d+ más", full)
    assert "Recomendación <b>12</b>" in block
    assert plan_id == 1
