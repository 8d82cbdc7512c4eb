"""The plan as it stood on a date: after a sequence of dated changes (a fixed clock for each),
the summary, `/resumen al ...` and its buttons, and the PDF report at several dates show what
was true then."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from fpdf import FPDF
from pypdf import PdfReader
from sqlalchemy import select, update

from bot.cli import _export, _parser, _report
from bot.settings import Settings
from handlers.as_of import read_day
from handlers.summary_buttons import Scope, ShowSummary
from reports.pdf import font_path, plan_report_pdf
from reports.pdf_table import Style, draw_table
from storage.clock import end_of_day
from storage.db import transaction
from storage.followup import post_comment, set_review_status, set_status
from storage.models import KeyAction, Plan, ReviewStatus, Status
from storage.plan_report import plan_report
from storage.summary import summarise
from tests.offline import Chat
from tests.report_support import NOW, Clock, add_person, add_plan, running_app

LIMA = "America/Lima"
COORDINATOR, SECRETARY = 20, 30
TITLE = "Plan de mejora de la evaluación de medio término"
PROGRAMME = "Programa Conjunto Desarrollo y Sector Privado (Perú)"
CREATED = dt.datetime(2011, 12, 1, 15, 0, tzinfo=dt.UTC)
ACTIONS = [
    ("1.1", "Aprobar el POA 2012 con las recomendaciones", dt.date(2012, 1, 31), ["CDN"]),
    ("1.2", "Elaboración del POA sobre la base de la evaluación", dt.date(2012, 2, 29), ["OCR"]),
    ("2 y 3.1", "Determinación de alternativas de financiamiento", dt.date(2012, 6, 30), ["OCR"]),
    ("4.1", "Contratación de asistentes regionales", None, ["Unidad de Coordinación"]),
    ("5.1", "Roster de consultores por especialidad", dt.date(2012, 3, 15), ["Agencia Líder"]),
]


def at(day: str) -> dt.datetime:
    """10:00 in Lima on that day."""
    return dt.datetime.fromisoformat(day).replace(hour=15, tzinfo=dt.UTC)


async def _history(sessions) -> tuple[int, dict[str, int]]:
    """The plan, created in December 2011, and its follow-up:

    - 20 Jan 2012: 1.1 in progress, comment "Borrador del POA listo"
    - 10 Feb: 1.1 completed ("POA aprobado en el CDN"); 15 Feb: the secretariat validates it
    - 10 Mar: 5.1 no longer applicable; 10 Apr: 1.2 in progress ("Revisión en curso")
    - 5 May: 1.1 reopened (in progress; its review back to pending)
    - today (2026): 1.2 completed ("Hecho al fin")
    """
    ids = await add_plan(sessions, ACTIONS, title=TITLE, created_at=CREATED)
    async with transaction(sessions) as session:
        await session.execute(
            update(Plan).values(programme=PROGRAMME, created_at=CREATED, evaluation="Medio término")
        )
        plan_id = (await session.get(KeyAction, ids["1.1"])).plan_id  # type: ignore[union-attr]
    coordinator = await add_person(sessions, "coordinator", COORDINATOR, name="Carmen")
    secretary = await add_person(sessions, "secretariat", SECRETARY, name="Sofía")
    none = ()
    async with transaction(sessions) as session:
        await set_status(
            session, coordinator, ids["1.1"], Status.IN_PROGRESS, now=at("2012-01-20"),
            notify_chat_ids=none,
        )  # fmt: skip
        await post_comment(
            session, coordinator, ids["1.1"], "Borrador del POA listo", now=at("2012-01-20"),
            notify_chat_ids=none,
        )  # fmt: skip
        await set_status(
            session, coordinator, ids["1.1"], Status.COMPLETED, now=at("2012-02-10"),
            justification="POA aprobado en el CDN", notify_chat_ids=none,
        )  # fmt: skip
        await set_review_status(
            session, secretary, ids["1.1"], ReviewStatus.VALIDATED, now=at("2012-02-15"),
            notify_chat_ids=none,
        )  # fmt: skip
        await set_status(
            session, coordinator, ids["5.1"], Status.NOT_APPLICABLE, now=at("2012-03-10"),
            justification="Ya no aplica", notify_chat_ids=none,
        )  # fmt: skip
        await set_status(
            session, coordinator, ids["1.2"], Status.IN_PROGRESS, now=at("2012-04-10"),
            notify_chat_ids=none,
        )  # fmt: skip
        await post_comment(
            session, coordinator, ids["1.2"], "Revisión en curso", now=at("2012-04-10"),
            notify_chat_ids=none,
        )  # fmt: skip
        await set_status(
            session, coordinator, ids["1.1"], Status.IN_PROGRESS, now=at("2012-05-05"),
            notify_chat_ids=none,
        )  # fmt: skip
        await set_status(
            session, coordinator, ids["1.2"], Status.COMPLETED, now=NOW,
            justification="Hecho al fin", notify_chat_ids=none,
        )  # fmt: skip
    return plan_id, ids


#: (day, counts by status, overdue refs, validated) as they stood at the end of each day.
TRUTH = [
    (
        dt.date(2011, 12, 31),
        {"not_started": 5, "in_progress": 0, "completed": 0, "not_applicable": 0},
        [],
        0,
    ),
    (
        dt.date(2012, 1, 31),
        {"not_started": 4, "in_progress": 1, "completed": 0, "not_applicable": 0},
        [],  # 1.1 is due that very day: not overdue yet
        0,
    ),
    (
        dt.date(2012, 3, 31),
        {"not_started": 3, "in_progress": 0, "completed": 1, "not_applicable": 1},
        ["1.2"],
        1,
    ),
    (
        dt.date(2012, 6, 30),
        {"not_started": 2, "in_progress": 2, "completed": 0, "not_applicable": 1},
        ["1.1", "1.2"],
        0,
    ),
    (
        dt.date(2012, 7, 1),
        {"not_started": 2, "in_progress": 2, "completed": 0, "not_applicable": 1},
        ["1.1", "1.2", "2 y 3.1"],
        0,
    ),
]


@pytest.mark.parametrize(("day", "by_status", "overdue", "validated"), TRUTH)
async def test_the_summary_as_it_stood_on_each_date(sessions, day, by_status, overdue, validated):
    plan_id, _ = await _history(sessions)
    async with sessions() as session:
        summary = await summarise(
            session, today=day, plan_ids=[plan_id], as_of=end_of_day(day, LIMA), list_limit=20
        )
    assert summary.total == 5
    assert summary.by_status == by_status
    assert [row.ref for row in summary.overdue_actions] == overdue
    assert summary.overdue == len(overdue)
    assert summary.by_review["validated"] == validated
    assert summary.conditional == 1  # 4.1 waits for an event
    assert summary.titles == [TITLE]


async def test_without_a_date_the_summary_is_today(sessions):
    plan_id, _ = await _history(sessions)
    async with sessions() as session:
        summary = await summarise(session, today=NOW.date(), plan_ids=[plan_id], now=NOW)
    assert summary.by_status == {
        "not_started": 2,
        "in_progress": 1,
        "completed": 1,
        "not_applicable": 1,
    }
    assert [row.ref for row in summary.overdue_actions] == ["1.1", "2 y 3.1"]


async def test_before_the_plan_existed_there_is_nothing(sessions):
    plan_id, _ = await _history(sessions)
    day = dt.date(2011, 11, 30)
    async with sessions() as session:
        summary = await summarise(
            session, today=day, plan_ids=[plan_id], as_of=end_of_day(day, LIMA)
        )
    assert summary.total == 0 and summary.titles == []


async def test_the_matrix_keeps_the_comments_and_statuses_of_the_day(sessions):
    plan_id, _ = await _history(sessions)
    async with sessions() as session:
        january = await plan_report(
            session,
            plan_id,
            today=dt.date(2012, 1, 31),
            as_of=end_of_day(dt.date(2012, 1, 31), LIMA),
        )
        march = await plan_report(
            session,
            plan_id,
            today=dt.date(2012, 3, 31),
            as_of=end_of_day(dt.date(2012, 3, 31), LIMA),
        )
        now = await plan_report(session, plan_id, today=NOW.date())
    first = {f"{r.label}.{r.number}": r for r in january.rows}
    assert (
        first["1.1"].status == "in_progress" and first["1.1"].follow_up == "Borrador del POA listo"
    )
    assert first["1.2"].follow_up == ""
    third = {f"{r.label}.{r.number}": r for r in march.rows}
    assert (third["1.1"].status, third["1.1"].review_status) == ("completed", "validated")
    assert third["1.1"].follow_up == "POA aprobado en el CDN"
    assert [f"{r.label}.{r.number}" for r in march.overdue] == ["1.2"]
    latest = {f"{r.label}.{r.number}": r for r in now.rows}
    assert latest["1.2"].follow_up == "Hecho al fin" and latest["1.2"].status == "completed"
    assert latest["1.1"].review_status == "pending"


def _pdf_text(data: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return " ".join(text.split()), len(reader.pages)


async def test_the_pdf_report_as_of_a_date(sessions):
    plan_id, _ = await _history(sessions)
    async with sessions() as session:
        data = await plan_report_pdf(
            session, plan_id, locale="es", tz=LIMA, as_of=dt.date(2012, 3, 31)
        )
    assert data.startswith(b"%PDF")
    text, pages = _pdf_text(data)
    assert TITLE in text and PROGRAMME in text
    assert "Situación al 31 de marzo de 2012" in text
    assert f"Página 1 de {pages}" in text and f"Página {pages} de {pages}" in text
    assert 2 <= pages <= 6
    assert "5 acciones clave" in text
    assert "Completada 1 20" in text  # one of five: 20 %
    assert "No iniciada 3 60" in text
    assert "Acciones vencidas (1)" in text
    assert "Elaboración del POA sobre la base de la evaluación" in text  # the overdue 1.2 …
    assert "29 feb 2012" in text  # … with its due date
    assert "Recomendación 2 y 3" in text and "Roster de consultores por especialidad" in text
    assert "POA aprobado en el CDN" in text  # 1.1's latest comment then
    assert "Hecho al fin" not in text and "Revisión en curso" not in text  # later comments


async def test_the_pdf_report_today_in_english(sessions):
    plan_id, _ = await _history(sessions)
    async with sessions() as session:
        data = await plan_report_pdf(session, plan_id, locale="en", tz=LIMA)
    text, pages = _pdf_text(data)
    today = dt.datetime.now(dt.UTC).date()
    assert "Situation as of" in text and str(today.year) in text
    assert f"Page 1 of {pages}" in text
    assert "Hecho al fin" in text and "Overdue actions (2)" in text
    assert "Contratación de asistentes regionales" in text


# --------------------------------------------------------------------------------------------
# In chat


def test_days_are_read_day_first_or_iso():
    assert read_day("31/03/2012") == read_day("31-03-2012") == dt.date(2012, 3, 31)
    assert read_day("2012-03-31") == read_day("31.3.2012") == dt.date(2012, 3, 31)
    assert read_day("31/02/2012") is None and read_day("marzo") is None


def test_the_date_travels_in_the_summary_buttons():
    scope = Scope(plan="3", overdue=True, block="2y3", as_of=dt.date(2012, 3, 31))
    data = ShowSummary(scope).data()
    assert data == "rs:s:3:@20120331ob2y3"
    assert ShowSummary.parse(data) == ShowSummary(scope)
    assert ShowSummary.parse("rs:s:3:o") == ShowSummary(Scope(plan="3", overdue=True))
    assert ShowSummary.parse("rs:s:3:@20120231") is None
    long = Scope(plan="3", block="x" * 60, as_of=dt.date(2012, 3, 31))
    assert ShowSummary(long).data() == "rs:s:3:@20120331"  # too long: the date is kept


async def test_resumen_as_of_a_date_and_its_buttons(sessions):
    await _history(sessions)
    async with running_app(sessions, clock=Clock(NOW)) as (app, request):
        chat = Chat(app, COORDINATOR)
        await chat.send("/resumen al 31/03/2012")
        call = request.last(COORDINATOR)
        assert "<i>Situación al 31 de marzo de 2012</i>" in call.text
        assert "<b>5</b> acciones clave" in call.text
        assert "✅ Completada: <b>1</b> · 1 validada" in call.text
        assert "🔴 Vencidas: <b>1</b>" in call.text
        assert "Borrador" not in call.text
        buttons = dict(call.buttons)
        assert all("@20120331" in data for label, data in call.buttons if data.startswith("rs:"))
        await chat.press(buttons["🔴 Solo vencidas"])
        overdue = request.last(COORDINATOR)
        assert "<i>Situación al 31 de marzo de 2012</i>" in overdue.text
        assert "<b>1.2</b>" in overdue.text and "<b>1.1</b>" not in overdue.text
        await chat.press(buttons["📈 Ver gráfico"])
        assert request.last(COORDINATOR).method == "sendPhoto"
        await chat.send("/resumen as of 2012-07-01 vencidas")
        later = request.last(COORDINATOR).text
        assert "<i>Situación al 1 de julio de 2012</i>" in later
        assert "<b>2 y 3.1</b>" in later and "<b>1.1</b>" in later
        await chat.send("/resumen")
        assert "<i>Datos al 24 nov 2026" in request.last(COORDINATOR).text


@pytest.mark.parametrize(
    ("words", "answer"),
    [
        ("al 31/02/2012", "No pude leer la fecha “31/02/2012”"),
        ("al 2012", "No pude leer la fecha “2012”"),
        ("al 01/01/2027", "todavía no ha llegado"),
        ("2030-01-01", "todavía no ha llegado"),
    ],
)
async def test_resumen_with_a_wrong_date_says_so_with_an_example(sessions, words, answer):
    await _history(sessions)
    async with running_app(sessions, clock=Clock(NOW)) as (app, request):
        await Chat(app, COORDINATOR).send(f"/resumen {words}")
    text = request.last(COORDINATOR).text
    assert answer in text and "/resumen al 31/03/2012" in text


async def test_exportar_pdf_as_of_a_date_and_from_the_summary(sessions):
    await _history(sessions)
    async with running_app(sessions, clock=Clock(NOW)) as (app, request):
        chat = Chat(app, COORDINATOR)
        await chat.send("/exportar pdf al 31/03/2012")
        call = request.last(COORDINATOR)
        name, data = request.last_file("sendDocument")
        assert call.method == "sendDocument" and name == "plan_de_mejora_2012-03-31.pdf"
        assert "al 31 mar 2012" in call.text
        text, _ = _pdf_text(data)
        assert "Situación al 31 de marzo de 2012" in text and "Acciones vencidas (1)" in text

        await chat.send("/resumen al 30/06/2012")
        pdf_button = dict(request.last(COORDINATOR).buttons)["📄 Informe PDF"]
        await chat.press(pdf_button)
        name, data = request.last_file("sendDocument")
        assert name == "plan_de_mejora_2012-06-30.pdf"
        assert "Acciones vencidas (2)" in _pdf_text(data)[0]

        await chat.send("/exportar pdf")
        name, data = request.last_file("sendDocument")
        assert name == "plan_de_mejora_2026-11-24.pdf" and "Hecho al fin" in _pdf_text(data)[0]

        await chat.send("/exportar pdf al 31/02/2012")
        assert "No pude leer la fecha “31/02/2012”" in request.last(COORDINATOR).text


async def test_command_line_report(sessions, database_url, tmp_path, capsys):
    plan_id, _ = await _history(sessions)
    settings = Settings(database_url=database_url, telegram_bot_token="", bot_username="")
    out = tmp_path / "informe.pdf"
    args = _parser().parse_args(["plan", "report", str(out), "--as-of", "2012-01-31"])
    assert await _report(settings, args) == 0
    assert capsys.readouterr().out.strip() == f"report of plan {plan_id} written to {out}"
    text, pages = _pdf_text(out.read_bytes())
    assert "Situación al 31 de enero de 2012" in text and "Borrador del POA listo" in text
    assert f"Página {pages} de {pages}" in text

    english = _parser().parse_args(
        ["plan", "report", str(out), "--plan", str(plan_id), "--language", "en"]
    )
    assert await _report(settings, english) == 0
    assert "Situation as of" in _pdf_text(out.read_bytes())[0]

    missing = _parser().parse_args(["plan", "report", str(out), "--plan", "999"])
    assert await _report(settings, missing) == 1
    assert "there is no plan 999" in capsys.readouterr().err
    future = _parser().parse_args(["plan", "report", str(out), "--as-of", "2999-01-01"])
    assert await _report(settings, future) == 2
    assert "in the future" in capsys.readouterr().err


def test_a_row_taller_than_a_page_continues_on_the_next():
    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", "", str(font_path()))
    pdf.add_font("DejaVu", "B", str(font_path(bold=True)))
    pdf.add_page()
    words = [f"palabra{n}" for n in range(1500)]
    rows = [["1.1", " ".join(words), "Año 2012 — señal 📈"], ["1.2", "corta", "fin"]]
    draw_table(
        pdf,
        ["Nº", "Texto", "Nota"],
        rows,
        (20, 100, 60),
        Style("DejaVu", 9, (0, 0, 0), (255, 0, 0)),
    )
    reader = PdfReader(io.BytesIO(bytes(pdf.output())))
    assert len(reader.pages) >= 3
    text = " ".join(page.extract_text() for page in reader.pages)
    assert all(word in text.split() for word in words)  # every word, none cut or lost
    assert "Año 2012 — señal" in text and "fin" in text
    assert text.count("Texto") == len(reader.pages)  # the headings on every page


async def test_the_plan_picker_keeps_the_date(sessions):
    plan_id, _ = await _history(sessions)
    await add_plan(sessions, ACTIONS[:1], title="Otro plan", created_at=CREATED)
    async with running_app(sessions, clock=Clock(NOW)) as (app, request):
        chat = Chat(app, COORDINATOR)
        await chat.send("/resumen al 31/03/2012")  # which plan? the date goes with the choice
        choices = dict(request.last(COORDINATOR).buttons)
        assert choices[f"{TITLE} (5)"] == f"rs:s:{plan_id}:@20120331"
        assert choices["📚 Todos los planes"] == "rs:s:all:@20120331"
        await chat.press(choices[f"{TITLE} (5)"])
        assert "<i>Situación al 31 de marzo de 2012</i>" in request.last(COORDINATOR).text

        await chat.send("/exportar pdf al 31/03/2012")
        buttons = dict(request.last(COORDINATOR).buttons)
        assert buttons[f"{TITLE} (5)"] == f"ex:p:{plan_id}:20120331"
        await chat.press(buttons[f"{TITLE} (5)"])
        name, data = request.last_file("sendDocument")
        assert name == f"plan_de_mejora_{plan_id}_2012-03-31.pdf"
        assert "Situación al 31 de marzo de 2012" in _pdf_text(data)[0]
        before = len(request.calls)
        await chat.press(f"ex:p:{plan_id}:20120231")  # not a day: answered as a stale button
        [answer] = request.calls[before:]
        assert answer.method == "answerCallbackQuery" and "ya no es válido" in answer.params["text"]


async def test_plan_export_to_a_pdf_file_is_the_report(sessions, database_url, tmp_path, capsys):
    plan_id, _ = await _history(sessions)
    settings = Settings(database_url=database_url, telegram_bot_token="", bot_username="")
    out = tmp_path / "plan.pdf"
    assert await _export(settings, _parser().parse_args(["plan", "export", str(out)])) == 0
    assert capsys.readouterr().out.strip() == f"report of plan {plan_id} written to {out}"
    assert "Situación al" in _pdf_text(out.read_bytes())[0]


async def test_the_report_of_a_plan_without_actions(sessions):
    await add_plan(sessions, [], title="Plan vacío")
    async with sessions() as session:
        plan_id = (await session.scalars(select(Plan.id))).one()
        data = await plan_report_pdf(session, plan_id, locale="es", tz=LIMA)
    text, pages = _pdf_text(data)
    assert "Plan vacío" in text and "0 acciones clave" in text
    assert "Ninguna acción está vencida." in text and pages == 2
