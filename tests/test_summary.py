"""/resumen on the seed plan (full, by unit, by block, overdue, plan picker, group chat, focal
points) and on a large plan (it must still fit in one message)."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from handlers.i18n import Tr
from handlers.summary import block_key
from handlers.text import telegram_length
from storage.actions import action_ref
from storage.db import transaction
from storage.followup import set_review_status, set_status
from storage.models import KeyAction, Recommendation, ReviewStatus, Status
from storage.plan_files import DEMO_TITLE, load_demo_plan
from storage.summary import progress_share, rounded_percents, summarise
from tests.offline import Chat
from tests.report_support import (
    NOW,
    TODAY,
    Clock,
    add_person,
    add_plan,
    build_large_plan,
    running_app,
)

COORDINATOR, OCR_FOCAL, STRANGER, GROUP = 20, 11, 99, -100500
SECRETARY, ENGLISH = 30, 40
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
    assert "— CG, Coordinación del PC +2 · plazo 31 ene 2012, vencida hace 15 años" in overdue[0]
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
    assert [b[0] for b in call.buttons] == [
        "📈 Ver gráfico",
        "🔴 Solo vencidas",
        "📥 Planilla",
        "📄 Informe PDF",
    ]


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


# --------------------------------------------------------------------------------------------
# Numbers that agree


def test_largest_remainder_percents_add_up_to_100():
    assert rounded_percents([1, 1, 1]) == [34, 33, 33]
    assert rounded_percents([1, 1, 10, 1]) == [8, 8, 77, 7]  # plain rounding: 8+8+77+8 = 101
    assert rounded_percents([1, 2, 9, 1]) == [8, 15, 69, 8]
    assert rounded_percents([0, 5, 0]) == [0, 100, 0]
    assert rounded_percents([0, 0]) == [0, 0]
    for counts in ([1, 1, 1, 1, 1, 1, 1], [2, 3, 7, 11], [1, 999, 1000], [7, 0, 1, 5]):
        assert sum(rounded_percents(counts)) == 100


def test_progress_is_completed_over_what_still_applies():
    assert progress_share(1, 13, 1) == 1 / 12
    assert progress_share(2, 3, 1) == 1.0
    assert progress_share(0, 2, 2) == 0.0
    assert progress_share(0, 0, 0) == 0.0


async def _statuses(sessions, refs: dict[str, Status], review: dict[str, ReviewStatus] = {}):  # noqa: B006
    """The demo plan with the given statuses and reviews (by reference)."""
    async with transaction(sessions) as session:
        await load_demo_plan(session)
    coordinator = await add_person(sessions, "coordinator", COORDINATOR, name="Carmen")
    secretary = await add_person(sessions, "secretariat", SECRETARY, name="Sofía")
    async with sessions() as session:
        ids = {
            action_ref(label, number): action_id
            for action_id, label, number in (
                await session.execute(
                    select(KeyAction.id, Recommendation.label, KeyAction.number).join(
                        Recommendation, Recommendation.id == KeyAction.recommendation_id
                    )
                )
            ).all()
        }
    async with transaction(sessions) as session:
        for ref, status in refs.items():
            await set_status(
                session,
                coordinator,
                ids[ref],
                status,
                justification="Justificación suficiente",
                now=NOW,
                notify_chat_ids=(),
            )
        for ref, verdict in review.items():
            await set_review_status(
                session,
                secretary,
                ids[ref],
                verdict,
                comment_text="Falta el acta firmada." if verdict == ReviewStatus.OBSERVED else None,
                notify_chat_ids=(),
                now=NOW,
            )
    return ids


def _percents(text: str) -> list[int]:
    return [int(p) for p in re.findall(r"<code>[█░]+\s+(\d+)\s?%</code>", text)]


async def test_status_percentages_add_up_to_100_in_both_languages(sessions):
    # 1, 1 and 1 of 13: 7.69 % each, 76.92 % not started; rounded one by one they make 101
    await _statuses(
        sessions,
        {"1.1": Status.COMPLETED, "1.2": Status.IN_PROGRESS, "5.1": Status.NOT_APPLICABLE},
    )
    await add_person(sessions, "coordinator", ENGLISH, name="John", language="en")
    async with running_app(sessions) as (app, request):
        await Chat(app, COORDINATOR).send("/resumen")
        await Chat(app, ENGLISH, language_code="en").send("/resumen")
    spanish, english = request.last(COORDINATOR).text, request.last(ENGLISH).text
    for text in (spanish, english):
        assert _percents(text) == [8, 8, 77, 7]
    assert (
        f"<code>████████░░ {ES.percent(0.77).rjust(5)}</code> ⚪ No iniciada: <b>10</b>" in spanish
    )
    assert (
        f"<code>█░░░░░░░░░ {ES.percent(0.07).rjust(5)}</code> ⚫ Ya no aplica: <b>1</b>" in spanish
    )
    assert "<code>████████░░   77%</code> ⚪ Not started: <b>10</b>" in english


async def test_validated_counts_beside_the_status_counts(sessions):
    await _statuses(
        sessions,
        {
            "1.1": Status.COMPLETED,
            "4.1": Status.COMPLETED,
            "4.2": Status.COMPLETED,
            "1.2": Status.IN_PROGRESS,
        },
        review={
            "1.1": ReviewStatus.VALIDATED,
            "4.1": ReviewStatus.VALIDATED,
            "4.2": ReviewStatus.OBSERVED,
            "1.2": ReviewStatus.VALIDATED,
        },
    )
    await add_person(sessions, "coordinator", ENGLISH, name="John", language="en")
    async with running_app(sessions) as (app, request):
        await Chat(app, COORDINATOR).send("/resumen")
        await Chat(app, ENGLISH, language_code="en").send("/resumen")
    spanish, english = request.last(COORDINATOR).text, request.last(ENGLISH).text
    assert "✅ Completada: <b>3</b> · 2 validadas" in spanish
    assert "🔵 En curso: <b>1</b> · 1 validada" in spanish
    assert "⚪ No iniciada: <b>9</b> · 0 validadas" in spanish
    assert "☑️ Validado 3 · ⚠️ Con observaciones 1" in spanish
    assert "✅ Completed: <b>3</b> · 2 validated" in english
    assert "🔵 In progress: <b>1</b> · 1 validated" in english


async def test_progress_agrees_in_headline_blocks_and_units(sessions):
    """Headline, block and unit lines all say completed ÷ (all − no longer applicable), as
    counted here by hand from the actions themselves."""
    await _statuses(
        sessions,
        {
            "1.1": Status.COMPLETED,
            "4.1": Status.COMPLETED,
            "4.2": Status.NOT_APPLICABLE,
            "5.1": Status.NOT_APPLICABLE,
            "6.1": Status.COMPLETED,
            "1.2": Status.IN_PROGRESS,
        },
    )
    async with sessions() as session:
        actions = (
            await session.scalars(select(KeyAction).options(selectinload(KeyAction.units)))
        ).all()
        labels = dict(
            (await session.execute(select(Recommendation.id, Recommendation.label))).all()
        )
    async with running_app(sessions) as (app, request):
        await Chat(app, COORDINATOR).send("/resumen")
    text = request.last(COORDINATOR).text

    def expected(group: list[KeyAction]) -> str:
        completed = sum(a.status == Status.COMPLETED for a in group)
        applicable = sum(a.status != Status.NOT_APPLICABLE for a in group)
        percent = ES.percent(completed / applicable) if applicable else "—"
        return f"{percent} · {completed}/{applicable}"

    assert "<b>13</b> acciones clave" in text
    assert f"🎯 Avance: <b>{ES.percent(3 / 11)}</b> · 3/11" in text  # 3 ÷ (13 − 2)
    assert expected(list(actions)) == f"{ES.percent(3 / 11)} · 3/11"
    assert "<i>Avance (x/y) = completadas ÷ (todas − las que ya no aplican).</i>" in text
    assert text.count("Avance (x/y)") == 1
    blocks = _section(text, "<b>Por recomendación</b>")
    for line in blocks:
        label = re.search(r"<b>(.*?)</b>", line).group(1)
        group = [a for a in actions if labels[a.recommendation_id] == label]
        assert f"<b>{label}</b> {expected(group)}" in line
    assert f"<b>4</b> {ES.percent(0.5)} · 1/2" in blocks[2]  # 4.1 completed, 4.2 no longer
    assert "<b>5</b> — · 0/0" in blocks[3]
    units = _section(text, "<b>Por unidad</b>")
    assert units
    for line in units:
        name = re.search(r"<b>(.*?)</b>", line).group(1)
        group = [a for a in actions if name in {u.name for u in a.units}]
        assert f"<b>{name}</b> {expected(group)}" in line


async def test_focal_point_by_unit_lists_their_units_only(sessions):
    await _seed(sessions)
    await add_person(sessions, "focal", OCR_FOCAL, ["OCR"], name="Luis")
    await add_person(sessions, "focal", ENGLISH, ["OCR", "PNUD"], name="Ann", language="en")
    async with running_app(sessions) as (app, request):
        await Chat(app, OCR_FOCAL).send("/resumen")
        await Chat(app, ENGLISH, language_code="en").send("/resumen")
    spanish, english = request.last(OCR_FOCAL).text, request.last(ENGLISH).text
    # OCR's four actions (1.2, 2 y 3.1, 2 y 3.2, 7 y 8.2) share units with many others
    assert _section(spanish, "<b>Por unidad</b>") == [
        f"<code>░░░░░░░░░░</code> <b>OCR</b> {ES.percent(0)} · 0/4 · 🔴 4"
    ]
    units = _section(english, "<b>By unit</b>")
    assert [re.search(r"<b>(.*?)</b>", u).group(1) for u in units] == ["OCR", "PNUD"]


async def test_overdue_lists_every_action_with_its_due_date_in_pages(sessions):
    due = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(30)]
    await add_plan(
        sessions, [(f"1.{i + 1}", f"Acción {i + 1}", d, ["PNUD"]) for i, d in enumerate(due)]
    )
    await add_person(sessions, "coordinator", COORDINATOR)
    await add_person(sessions, "coordinator", ENGLISH, language="en")
    async with running_app(sessions) as (app, request):
        chat = Chat(app, COORDINATOR)
        await chat.send("/resumen vencidas")
        pages = [request.last(COORDINATOR)]
        while ("›", f"rs:v:1.{len(pages)}:o") in pages[-1].buttons:
            await chat.press(f"rs:v:1.{len(pages)}:o")
            pages.append(request.last(COORDINATOR))
        await chat.press("rs:v:1.0:o")
        back = request.last(COORDINATOR)
        await Chat(app, ENGLISH, language_code="en").send("/resumen overdue")
        english = request.last(ENGLISH)
    assert len(pages) == 3
    assert [p.method for p in pages] == ["sendMessage", "editMessageText", "editMessageText"]
    assert "<b>🔴 Vencidas (30)</b> (página 1 de 3)" in pages[0].text
    assert "(página 3 de 3)" in pages[2].text
    listed = [line for page in pages for line in page.text.split("\n") if line.startswith("• ")]
    assert len(listed) == 30
    for i, (line, day) in enumerate(zip(listed, due, strict=True)):
        assert line.startswith(f"• <b>1.{i + 1}</b> Acción {i + 1} — PNUD · plazo ")
        assert f"plazo {ES.short_date(day)}, vencida hace" in line
    assert all(telegram_length(p.text) <= 4096 for p in pages)
    assert [b for b in pages[0].buttons if b[0] in "‹›"] == [("›", "rs:v:1.1:o")]
    assert [b for b in pages[1].buttons if b[0] in "‹›"] == [
        ("‹", "rs:v:1.0:o"),
        ("›", "rs:v:1.2:o"),
    ]
    assert [b for b in pages[2].buttons if b[0] in "‹›"] == [("‹", "rs:v:1.1:o")]
    assert back.text == pages[0].text
    assert "<b>🔴 Overdue (30)</b> (page 1 of 3)" in english.text
    assert "• <b>1.1</b> Acción 1 — PNUD · due Jan 1, 2026, " in english.text


async def test_overdue_of_the_seed_fits_one_page_with_due_dates(sessions):
    await _seed(sessions)
    async with running_app(sessions) as (app, request):
        await Chat(app, COORDINATOR).send("/resumen vencidas")
    call = request.last(COORDINATOR)
    listed = _section(call.text, "<b>🔴 Vencidas (9)</b>")
    assert len(listed) == 9 and all(", vencida hace" in line for line in listed)
    assert "• <b>4.3</b> Elaboración de roster" in listed[5] and "plazo 28 feb 2012" in listed[5]
    assert not [b for b in call.buttons if b[0] in "‹›"]


async def test_a_number_finds_its_merged_block(sessions):
    await _seed(sessions)
    await add_person(sessions, "coordinator", ENGLISH, language="en")
    async with running_app(sessions) as (app, request):
        chat = Chat(app, COORDINATOR)
        found = {}
        for number in ("7", "8", "2", "3", "1"):
            await chat.send(f"/resumen {number}")
            found[number] = request.last(COORDINATOR)
        await Chat(app, ENGLISH, language_code="en").send("/resumen 7")
        english = request.last(ENGLISH).text
    assert "Recomendación <b>7 y 8</b>" in found["7"].text
    assert "Recomendación <b>7 y 8</b>" in found["8"].text
    assert "Recomendación <b>2 y 3</b>" in found["2"].text
    assert "Recomendación <b>2 y 3</b>" in found["3"].text
    assert (
        "<b>2</b> acciones clave" in found["7"].text
        and "<b>2</b> acciones clave" in found["2"].text
    )
    assert "Recomendación <b>1</b>" in found["1"].text  # a block of its own comes first
    assert ("📈 Ver gráfico", "rs:g:1:b7") in found["7"].buttons
    assert "Recommendation <b>7 y 8</b>" in english and "<b>2</b> key actions" in english


async def test_the_summary_says_when_it_was_made(sessions):
    await _seed(sessions)
    await add_person(sessions, "coordinator", ENGLISH, language="en")
    clock = Clock(dt.datetime(2026, 11, 24, 3, 5, tzinfo=dt.UTC))  # still 23 Nov in Lima
    async with running_app(sessions, clock=clock) as (app, request):
        await Chat(app, COORDINATOR).send("/resumen")
        await Chat(app, ENGLISH, language_code="en").send("/resumen")
        await Chat(app, COORDINATOR).send("/resumen vencidas")
    spanish, english = request.last(COORDINATOR).text, request.last(ENGLISH).text
    assert "\n<i>Datos al 23 nov 2026, 22:05</i>\n" in request.sent(COORDINATOR)[0].text
    # the date as every English date reads ("Nov 23, 2026"), then the time
    assert "\n<i>As of Nov 23, 2026, 10:05\u202fPM</i>\n" in english
    assert "<i>Datos al 23 nov 2026, 22:05</i>" in spanish  # the overdue pages too
