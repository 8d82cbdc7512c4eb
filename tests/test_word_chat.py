"""Word in chat: `/plan` takes a .docx (and lists a broken one's problems by table, row and
column, importing nothing); `/exportar word` sends the Word document, and `/exportar word al
31/03/2012` the plan as it stood then, with the other formats as of that day under it."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from storage.models import KeyAction, Plan
from storage.plan_files import read_plan_rows
from tests.offline import Chat
from tests.report_support import add_plan, running_app
from tests.test_flows_story import bot, registered  # noqa: F401
from tests.test_word_export import document_content, seed_with_follow_up
from tests.word_support import Layout, seed_rows, word_plan

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
COORDINATOR = 20


async def test_plan_takes_a_word_document(bot, sessions):  # noqa: F811
    app, request = bot
    admin = await registered(app, sessions, 505, "admin")
    await admin.send("/plan")
    assert ".docx" in request.sent(505)[-1].text
    rows = seed_rows()
    await admin.send_document("Plan_en_Word.docx", DOCX, content=word_plan(rows))
    report = request.sent(505)[-1].text
    assert "Plan de Mejora del Programa Conjunto" in report and "13 sin cambios" in report

    async with sessions() as session:
        before = await session.scalar(select(func.count()).select_from(KeyAction))
        plans = await session.scalar(select(func.count()).select_from(Plan))
    assert before == 13 and plans == 1  # the seed's title: the demo plan, unchanged

    follow_up = {("2 y 3", 1): ("", "A medias", "", "")}
    broken = word_plan(rows, Layout(follow_up=follow_up))
    await admin.send_document("roto.docx", DOCX, caption="/plan", content=broken)
    answer = request.sent(505)[-1].text
    assert "No pude importar" in answer
    assert "• Tabla 2, fila 3, columna «Seguimiento - Estado»: «A medias» no es un estado" in answer
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(KeyAction)) == before

    await admin.send_document("viejo.doc", "application/msword", caption="/plan", content=b"x")
    assert ".docx" in request.sent(505)[-1].text


async def test_exportar_word_now_and_as_of_a_date(sessions):
    await seed_with_follow_up(sessions)
    async with running_app(sessions) as (app, request):
        chat = Chat(app, COORDINATOR)
        await chat.send("/exportar word")
        call = request.last(COORDINATOR)
        assert "13 acciones clave · al 24 nov 2026" in call.text
        assert "formato del documento original" in call.text
        assert call.buttons == [
            ("📊 Planilla (.xlsx)", "ex:x:1"),
            ("📄 CSV", "ex:c:1"),
            ("📄 Informe PDF", "ex:p:1"),
        ]
        name, data = request.last_file("sendDocument")
        assert name == "plan_de_mejora_2026-11-24.docx"
        rows = read_plan_rows(data, name)
        assert {(r.label, r.number): r.follow_up_status for r in rows}[("4", 1)] == "completed"

        await chat.send("/exportar word al 31/03/2012")
        call = request.last(COORDINATOR)
        assert "13 acciones clave · al 31 mar 2012" in call.text
        assert call.buttons == [
            ("📊 Planilla (.xlsx)", "ex:x:1:20120331"),
            ("📄 CSV", "ex:c:1:20120331"),
            ("📄 Informe PDF", "ex:p:1:20120331"),
        ]
        name, data = request.last_file("sendDocument")
        assert name == "plan_de_mejora_2012-03-31.docx"
        content = document_content(data)
        assert "Situación al 31 de marzo de 2012" in content
        rows = read_plan_rows(data, name)
        assert {r.follow_up_status for r in rows} == {"not_started"}  # before anyone's changes

        await chat.press("ex:c:1:20120331")
        name, data = request.last_file("sendDocument")
        assert name == "plan_de_mejora_2012-03-31.csv"
        lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        assert {line[8] for line in lines[1:]} == {"No iniciada"}

        await chat.send("/exportar word al 31/13/2012")
        answer = request.last(COORDINATOR).text
        assert "No pude leer la fecha “31/13/2012”" in answer
        assert "/exportar word al 31/03/2012" in answer
        await chat.send("/exportar al 01/01/2030")
        assert "todavía no ha llegado" in request.last(COORDINATOR).text
        before = len(request.calls)
        await chat.press("ex:w:1:20121399")  # no such day: answered as a stale button
        answers = [c for c in request.calls[before:] if c.method == "answerCallbackQuery"]
        assert len(answers) == 1 and answers[0].params.get("text")
        assert not [c for c in request.calls[before:] if c.method == "sendDocument"]


async def test_the_plan_picker_keeps_the_format_and_the_date(sessions):
    await seed_with_follow_up(sessions)
    await add_plan(sessions, [("1.1", "Otra acción", None, ["PNUD"])], title="Segundo plan")
    async with running_app(sessions) as (app, request):
        chat = Chat(app, COORDINATOR)
        await chat.send("/exportar word al 31/03/2012")
        picker = request.last(COORDINATOR)
        assert [b[1] for b in picker.buttons] == ["ex:w:1:20120331", "ex:w:2:20120331"]
        await chat.press("ex:w:2:20120331")
        name, data = request.last_file("sendDocument")
        assert name == "plan_de_mejora_2_2012-03-31.docx"
        content = document_content(data)
        assert content[:2] == ["Segundo plan", "Situación al 31 de marzo de 2012"]
        assert [r.action for r in read_plan_rows(data, name)] == ["Otra acción"]
