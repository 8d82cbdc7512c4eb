"""The plan exported as a Word document: read back with python-docx cell by cell, in the layout
of the original; export -> import round-trips; export -> import -> export gives the same
document."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

from docx import Document
from sqlalchemy import select

from storage.db import Sessions, transaction
from storage.followup import post_comment, set_review_status, set_status
from storage.models import KeyAction, Plan, Recommendation, ReviewStatus, Status
from storage.plan_files import (
    DEMO_EVALUATION,
    DEMO_PROGRAMME,
    DEMO_TITLE,
    export_plan_docx,
    import_plan,
    load_demo_plan,
    read_plan_metadata,
    read_plan_rows,
)
from storage.plans import delete_plan
from tests.report_support import NOW, add_person
from tests.word_support import seed_rows

LIMA = ZoneInfo("America/Lima")

#: A document's content: its paragraphs and tables, in order, as text.
Content = list[object]


def document_content(data: bytes) -> Content:
    document = Document(io.BytesIO(data))
    content: Content = []
    for item in document.iter_inner_content():
        if hasattr(item, "rows"):
            content.append([[cell.text for cell in row.cells] for row in item.rows])
        else:
            content.append(item.text)
    return content


async def seed_with_follow_up(sessions: Sessions) -> tuple[int, dict[str, int]]:
    """The seed plan, with a comment, statuses and a review on 4.1 and a status on 6.2."""
    async with transaction(sessions) as session:
        report = await load_demo_plan(session)
        rows = (
            await session.execute(
                select(KeyAction.id, Recommendation.label, KeyAction.number).join(
                    Recommendation, Recommendation.id == KeyAction.recommendation_id
                )
            )
        ).all()
    ids = {f"{label}.{number}": action_id for action_id, label, number in rows}
    coordinator = await add_person(sessions, "coordinator", 20, name="Carmen")
    secretary = await add_person(sessions, "secretariat", 30, name="Sofía")
    async with transaction(sessions) as session:
        await post_comment(
            session, coordinator, ids["4.1"], "Borrador listo", now=NOW, notify_chat_ids=()
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
    return report.plan_id, ids


async def _export(sessions: Sessions, plan_id: int, **options: object) -> bytes:
    buffer = io.BytesIO()
    async with sessions() as session:
        await export_plan_docx(session, plan_id, buffer, **options)  # type: ignore[arg-type]
    return buffer.getvalue()


STATUS_ES = {
    "not_started": "No iniciada",
    "in_progress": "En curso",
    "completed": "Completada",
    "pending": "Por revisar",
    "observed": "Con observaciones",
}
HEADER = [
    [
        "Acciones clave",
        "Plazo",
        "Responsable",
        "Seguimiento",
        "Seguimiento",
        "Secretariado",
        "Secretariado",
    ],
    ["Acciones clave", "Plazo", "Responsable", "Comentarios", "Estado", "Comentarios", "Estado"],
]


def _expected_content() -> Content:
    """The seed plan as the document must show it after `seed_with_follow_up`."""
    content: Content = [
        DEMO_TITLE,
        f"Programa: {DEMO_PROGRAMME}",
        f"Evaluación: {DEMO_EVALUATION}",
        "Situación al 24 de noviembre de 2026",
    ]
    blocks: dict[str, list[object]] = {}
    for row in seed_rows():
        blocks.setdefault(row.label, []).append(row)
    for label, rows in blocks.items():
        first = rows[0]
        content.append(f"Recomendación de la Evaluación Nº {label}")
        content += first.recommendation.split("\n")  # type: ignore[attr-defined]
        content.append("Respuesta de la gestión")
        if first.management_response:  # type: ignore[attr-defined]
            content += first.management_response.split("\n")  # type: ignore[attr-defined]
        table = [list(r) for r in HEADER]
        for row in rows:
            ref = f"{row.label}.{row.number}"  # type: ignore[attr-defined]
            comment, status, review, review_status = {
                "4.1": ("Estrategia aprobada", "completed", "Falta el acta", "observed"),
                "6.2": ("", "in_progress", "", "pending"),
            }.get(ref, (row.follow_up_comment, "not_started", "", "pending"))  # type: ignore[attr-defined]
            table.append(
                [
                    f"{row.number}. {row.action}",  # type: ignore[attr-defined]
                    row.deadline,  # type: ignore[attr-defined]
                    row.responsible,  # type: ignore[attr-defined]
                    comment,
                    STATUS_ES[status],
                    review,
                    STATUS_ES[review_status],
                ]
            )
        content.append(table)
        content.append("")
    return content


async def test_word_export_in_the_original_layout(sessions: Sessions) -> None:
    plan_id, _ = await seed_with_follow_up(sessions)
    data = await _export(sessions, plan_id, tz=LIMA, as_of=NOW + dt.timedelta(hours=1))
    assert document_content(data) == _expected_content()
    document = Document(io.BytesIO(data))
    table = document.tables[2]
    assert table.rows[0].cells[3].grid_span == 2 and table.rows[0].cells[5].grid_span == 2
    assert table.rows[0].cells[0]._tc.vMerge == "restart"  # merged over both header rows


async def test_english_labels(sessions: Sessions) -> None:
    plan_id, _ = await seed_with_follow_up(sessions)
    data = await _export(sessions, plan_id, locale="en", tz=LIMA, as_of=NOW + dt.timedelta(hours=1))
    content = document_content(data)
    assert "Status as of November 24, 2026" in content
    assert "Evaluation recommendation no. 2 y 3" in content
    assert "Management response" in content
    table = content[content.index("Evaluation recommendation no. 4") + 3]
    assert isinstance(table, list)
    assert table[0] == [
        "Key actions",
        "Deadline (Time-frame)",
        "Responsible unit(s)",
        "Follow-up",
        "Follow-up",
        "Secretariat",
        "Secretariat",
    ]
    assert table[1][3:] == ["Comments", "Status", "Comments", "Status"]
    assert table[2][3:] == [
        "Estrategia aprobada",
        "Completed",
        "Falta el acta",
        "With observations",
    ]
    rows = read_plan_rows(data, "plan.docx")
    assert [(r.label, r.number, r.action) for r in rows] == [
        (r.label, r.number, r.action) for r in seed_rows()
    ]
    assert rows[4].follow_up_status == "completed" and rows[4].review_status == "observed"


async def test_export_import_changes_nothing(sessions: Sessions) -> None:
    plan_id, _ = await seed_with_follow_up(sessions)
    data = await _export(sessions, plan_id)
    assert read_plan_metadata(data, "plan.docx") == {
        "title": DEMO_TITLE,
        "programme": DEMO_PROGRAMME,
        "evaluation": DEMO_EVALUATION,
    }
    async with transaction(sessions) as session:
        report = await import_plan(session, read_plan_rows(data, "plan.docx"), title=DEMO_TITLE)
    assert report.plan_id == plan_id
    assert not report.changed and report.actions_unchanged == 13


async def test_export_import_export_gives_the_same_document(sessions: Sessions) -> None:
    plan_id, _ = await seed_with_follow_up(sessions)
    first = await _export(sessions, plan_id, as_of=NOW + dt.timedelta(hours=1), tz=LIMA)
    async with transaction(sessions) as session:
        await delete_plan(session, plan_id, force=True)
    meta = read_plan_metadata(first, "plan.docx")
    async with transaction(sessions) as session:
        report = await import_plan(
            session,
            read_plan_rows(first, "plan.docx"),
            title=meta["title"],
            programme=meta["programme"],
            evaluation=meta["evaluation"],
        )
        assert report.created
        plan = await session.get(Plan, report.plan_id)
        assert plan is not None and plan.title == DEMO_TITLE
        statuses = (
            await session.execute(
                select(KeyAction.number, KeyAction.status, KeyAction.review_status)
                .join(Recommendation, Recommendation.id == KeyAction.recommendation_id)
                .where(Recommendation.label == "4", KeyAction.plan_id == report.plan_id)
                .order_by(KeyAction.number)
            )
        ).all()
    assert [tuple(s) for s in statuses] == [
        (1, "completed", "observed"),
        (2, "not_started", "pending"),
        (3, "not_started", "pending"),
    ]
    second = await _export(sessions, report.plan_id, as_of=NOW + dt.timedelta(hours=1), tz=LIMA)
    assert document_content(second) == document_content(first)
