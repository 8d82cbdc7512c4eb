"""/exportar: the seed plan as .xlsx in the original layout, read back cell by cell, with the
history sheet; the CSV option; English labels; the plan picker; who may export."""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from storage.db import transaction
from storage.followup import post_comment, set_review_status, set_status
from storage.models import Comment, CommentKind, KeyAction, Recommendation, ReviewStatus, Status
from storage.plan_files import (
    ENGLISH_HEADERS,
    SPANISH_HEADERS,
    Field,
    load_demo_plan,
    read_plan_rows,
)
from tests.offline import Chat
from tests.report_support import NOW, add_person, add_plan, running_app

COORDINATOR, SECRETARY, FOCAL, ENGLISH_ADMIN = 20, 30, 10, 40
LIMA = ZoneInfo("America/Lima")
STATUS_ES = {
    "not_started": "No iniciada",
    "in_progress": "En curso",
    "completed": "Completada",
    "not_applicable": "Ya no aplica",
    "pending": "Por revisar",
    "validated": "Validado",
    "observed": "Con observaciones",
}


async def _seed_with_follow_up(sessions) -> dict[str, int]:
    async with transaction(sessions) as session:
        await load_demo_plan(session)
        rows = (
            await session.execute(
                select(KeyAction.id, Recommendation.label, KeyAction.number).join(
                    Recommendation, Recommendation.id == KeyAction.recommendation_id
                )
            )
        ).all()
    ids = {f"{label}.{number}": action_id for action_id, label, number in rows}
    coordinator = await add_person(sessions, "coordinator", COORDINATOR, name="Carmen")
    secretary = await add_person(sessions, "secretariat", SECRETARY, name="Sofía")
    await add_person(sessions, "focal", FOCAL, ["OCR"], name="Luis")
    async with transaction(sessions) as session:
        await post_comment(
            session, coordinator, ids["4.1"], "=SUMA(A1) no es fórmula", now=NOW, notify_chat_ids=()
        )
        await set_status(
            session,
            coordinator,
            ids["4.1"],
            Status.COMPLETED,
            justification="Estrategia aprobada",
            now=NOW + dt.timedelta(minutes=1),
            notify_chat_ids=(),
        )
        await set_review_status(
            session,
            secretary,
            ids["4.1"],
            ReviewStatus.OBSERVED,
            comment_text="Falta el acta",
            now=NOW + dt.timedelta(minutes=2),
            notify_chat_ids=(),
        )
        await set_status(
            session,
            coordinator,
            ids["6.2"],
            Status.IN_PROGRESS,
            now=NOW + dt.timedelta(minutes=3),
            notify_chat_ids=(),
        )
    return ids


async def _expected_rows(sessions) -> list[list[object]]:
    """The plan as the export must write it: one row per action, latest comment of each kind."""
    async with sessions() as session:
        recs = (
            await session.scalars(
                select(Recommendation)
                .options(selectinload(Recommendation.actions))
                .order_by(Recommendation.position)
            )
        ).all()
        comments = (
            await session.scalars(select(Comment).order_by(Comment.created_at, Comment.id))
        ).all()
    latest = {(c.action_id, c.kind): c.text for c in comments}
    rows = []
    for rec in recs:
        for index, action in enumerate(rec.actions):
            rows.append(
                [
                    int(rec.label) if rec.label.isdigit() else rec.label,
                    rec.text if index == 0 else None,
                    (rec.management_response or None) if index == 0 else None,
                    action.number,
                    action.text,
                    action.deadline_text,
                    action.responsible_text,
                    latest.get((action.id, CommentKind.FOLLOW_UP.value)) or None,
                    STATUS_ES[action.status],
                    latest.get((action.id, CommentKind.REVIEW.value)) or None,
                    STATUS_ES[action.review_status],
                ]
            )
    return rows


async def test_xlsx_export_in_the_original_layout_with_history(sessions):
    await _seed_with_follow_up(sessions)
    async with running_app(sessions) as (app, request):
        await Chat(app, COORDINATOR).send("/exportar")
    call = request.last(COORDINATOR)
    assert call.method == "sendDocument"
    assert "13 acciones clave · al 24 nov 2026" in call.text
    assert call.buttons == [
        ("📝 Word (.docx)", "ex:w:1"),
        ("📄 CSV", "ex:c:1"),
        ("📄 Informe PDF", "ex:p:1"),
    ]
    name, data = request.last_file("sendDocument")
    assert name == "plan_de_mejora_2026-11-24.xlsx"
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Plan de mejora", "Historial", "Plan"]
    sheet = book["Plan de mejora"]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == [SPANISH_HEADERS[f] for f in Field]
    assert values[1:] == await _expected_rows(sessions)
    row_41 = next(r for r in values if r[0] == 4 and r[3] == 1)
    assert row_41[7] == "Estrategia aprobada" and row_41[8] == "Completada"
    assert row_41[9] == "Falta el acta" and row_41[10] == "Con observaciones"
    assert sheet.cell(row=values.index(row_41) + 1, column=8).data_type == "s"

    history = [list(r) for r in book["Historial"].iter_rows(values_only=True)]
    assert history[0][0] == "Fecha (America/Lima)"
    mine = [r for r in history[1:] if r[4] in ("Carmen", "Sofía")]
    local = NOW.astimezone(LIMA).replace(tzinfo=None)
    assert [(r[1], r[2], r[3], r[4], r[5]) for r in mine] == [
        (4, 1, "Seguimiento - Comentario", "Carmen", "=SUMA(A1) no es fórmula"),
        (4, 1, "Seguimiento - Comentario", "Carmen", "Estrategia aprobada"),
        (4, 1, "Seguimiento - Estado", "Carmen", "No iniciada → Completada"),
        (4, 1, "Secretariado - Comentario", "Sofía", "Falta el acta"),
        (4, 1, "Secretariado - Estado", "Sofía", "Por revisar → Con observaciones"),
        (6, 2, "Seguimiento - Estado", "Carmen", "No iniciada → En curso"),
    ]
    assert mine[0][0] == local
    imported = [r for r in history[1:] if r[4] == "(importado)"]
    assert imported  # the seed's follow-up comments, kept as history

    reread = read_plan_rows(data, name)
    assert len(reread) == 13
    assert {(r.label, r.number): r.follow_up_status for r in reread}[("4", 1)] == "completed"


async def test_csv_option(sessions):
    await _seed_with_follow_up(sessions)
    async with running_app(sessions) as (app, request):
        chat = Chat(app, SECRETARY)
        await chat.send("/exportar")
        await chat.press(request.last(SECRETARY).buttons[1][1])
        await chat.send("/exportar csv")
    names = [f[2] for f in request.files if f[0] == "sendDocument"]
    assert names == [
        "plan_de_mejora_2026-11-24.xlsx",
        "plan_de_mejora_2026-11-24.csv",
        "plan_de_mejora_2026-11-24.csv",
    ]
    name, data = request.last_file("sendDocument")
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == [SPANISH_HEADERS[f] for f in Field]
    expected = await _expected_rows(sessions)
    assert [r[4] for r in rows[1:]] == [e[4] for e in expected]
    assert [r[8] for r in rows[1:]] == [e[8] for e in expected]
    assert next(r for r in rows if r[4].startswith("Formulación"))[7] == "Estrategia aprobada"
    assert request.last(SECRETARY).buttons == [
        ("📝 Word (.docx)", "ex:w:1"),
        ("📊 Planilla (.xlsx)", "ex:x:1"),
        ("📄 Informe PDF", "ex:p:1"),
    ]
    assert len(read_plan_rows(data, name)) == 13


async def test_english_labels_for_an_english_speaker(sessions):
    await _seed_with_follow_up(sessions)
    await add_person(sessions, "admin", ENGLISH_ADMIN, name="Jane", language="en")
    async with running_app(sessions) as (app, request):
        await Chat(app, ENGLISH_ADMIN, language_code="en").send("/exportar")
    _, data = request.last_file("sendDocument")
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames[1] == "History"
    values = list(book["Plan de mejora"].iter_rows(values_only=True))
    assert list(values[0]) == [ENGLISH_HEADERS[f] for f in Field]
    assert {row[8] for row in values[1:]} == {"Not started", "In progress", "Completed"}
    assert "With observations" in {row[10] for row in values[1:]}
    assert len(read_plan_rows(data, "plan.xlsx")) == 13


async def test_plan_picker_and_who_may_export(sessions):
    await _seed_with_follow_up(sessions)
    await add_plan(sessions, [("1.1", "Otra acción", None, ["PNUD"])], title="Segundo plan")
    async with running_app(sessions) as (app, request):
        chat = Chat(app, COORDINATOR)
        await chat.send("/exportar")
        picker = request.last(COORDINATOR)
        assert [b[1] for b in picker.buttons] == ["ex:x:1", "ex:x:2"]
        await chat.press("ex:x:2")
        await Chat(app, FOCAL).send("/exportar")
        await Chat(app, FOCAL).press("ex:x:1")
    assert request.last_file("sendDocument")[0] == "plan_de_mejora_2_2026-11-24.xlsx"
    refusals = [c.text for c in request.sent(FOCAL)]
    assert len(refusals) == 2
    assert all("Solo la coordinación, la administración y el secretariado" in t for t in refusals)
