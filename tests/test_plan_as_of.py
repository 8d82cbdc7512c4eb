"""Exports as of a date: after a sequence of dated changes, the plan rebuilt at each date is what
was true then (statuses, latest comments, actions that existed), in the content every export
writes, the Word document's "Situación al" line, the workbook's "Plan" sheet, and the command
line's `--as-of`."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import select, update

from storage.clock import end_of_day
from storage.db import Sessions, transaction
from storage.followup import post_comment, set_review_status, set_status
from storage.models import (
    Comment,
    KeyAction,
    Recommendation,
    ReviewStatus,
    Status,
    StatusChange,
)
from storage.plan_files import export_plan, export_plan_csv, export_plan_docx, load_demo_plan
from storage.plan_files.exporter import plan_content
from storage.plan_files.vocabulary import Field
from tests.report_support import NOW, add_person
from tests.test_word_export import document_content
from tests.word_support import Layout, word_plan

LIMA = ZoneInfo("America/Lima")
IMPORTED = NOW - dt.timedelta(days=30)
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)


async def _dated_history(sessions: Sessions) -> tuple[int, dict[str, int]]:
    """The seed imported 30 days before NOW, then on 4.1: a comment and "in progress" (day 1),
    a new action 4.4 (day 2), "completed" (day 3), "validated" (day 4), reopened (day 5)."""
    async with transaction(sessions) as session:
        report = await load_demo_plan(session)
        plan_id = report.plan_id
        # the import, dated as if it had happened then (the tests' clock is fixed)
        await session.execute(
            update(KeyAction).where(KeyAction.plan_id == plan_id).values(created_at=IMPORTED)
        )
        await session.execute(update(Comment).values(created_at=IMPORTED))
        await session.execute(update(StatusChange).values(created_at=IMPORTED))
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
    action = ids["4.1"]
    async with transaction(sessions) as session:
        await post_comment(
            session, coordinator, action, "Borrador listo", now=NOW + DAY, notify_chat_ids=()
        )
        await set_status(
            session, coordinator, action, Status.IN_PROGRESS, now=NOW + DAY, notify_chat_ids=()
        )
        first = await session.get(KeyAction, ids["4.3"])
        assert first is not None
        added = KeyAction(
            plan_id=plan_id,
            recommendation_id=first.recommendation_id,
            position=first.position,
            number=4,
            text="Publicar el roster",
            deadline_text="Marzo 2012",
            created_at=NOW + 2 * DAY,
        )
        session.add(added)
        await session.flush()
        ids["4.4"] = added.id
        await set_status(
            session,
            coordinator,
            action,
            Status.COMPLETED,
            justification="Estrategia aprobada",
            now=NOW + 3 * DAY,
            notify_chat_ids=(),
        )
        await set_review_status(
            session,
            secretary,
            action,
            ReviewStatus.VALIDATED,
            comment_text="Conforme",
            now=NOW + 4 * DAY,
            notify_chat_ids=(),
        )
        await set_status(
            session, coordinator, action, Status.IN_PROGRESS, now=NOW + 5 * DAY, notify_chat_ids=()
        )
    return plan_id, ids


#: (as of, actions, 4.1's follow-up comment, status, review comment, review status)
EXPECTED = [
    (IMPORTED - 100 * DAY, 13, "", "not_started", "", "pending"),
    (NOW, 13, "", "not_started", "", "pending"),
    (NOW + DAY + HOUR, 13, "Borrador listo", "in_progress", "", "pending"),
    (NOW + 2 * DAY + HOUR, 14, "Borrador listo", "in_progress", "", "pending"),
    (NOW + 3 * DAY + HOUR, 14, "Estrategia aprobada", "completed", "", "pending"),
    (NOW + 4 * DAY + HOUR, 14, "Estrategia aprobada", "completed", "Conforme", "validated"),
    (NOW + 5 * DAY + HOUR, 14, "Estrategia aprobada", "in_progress", "Conforme", "pending"),
    (None, 14, "Estrategia aprobada", "in_progress", "Conforme", "pending"),
]


def _row(rows: list[dict[Field, object]], label: str, number: int) -> dict[Field, object]:
    return next(r for r in rows if r[Field.LABEL] == label and r[Field.NUMBER] == number)


async def test_the_plan_at_each_date_is_what_was_true_then(sessions: Sessions) -> None:
    plan_id, _ = await _dated_history(sessions)
    for as_of, count, comment, status, review, review_status in EXPECTED:
        async with sessions() as session:
            content = await plan_content(session, plan_id, str, as_of=as_of)
        assert len(content.rows) == count, as_of
        row = _row(content.rows, "4", 1)
        assert (
            row[Field.FOLLOW_UP_COMMENT],
            row[Field.FOLLOW_UP_STATUS],
            row[Field.REVIEW_COMMENT],
            row[Field.REVIEW_STATUS],
        ) == (comment, status, review, review_status), as_of
        # the comments of the imported file count from the start
        assert _row(content.rows, "1", 1)[Field.FOLLOW_UP_COMMENT].startswith("Proceso")
        assert _row(content.rows, "6", 2)[Field.FOLLOW_UP_STATUS] == "not_started"
        if as_of is not None:
            assert all(e.at <= as_of for e in content.history if e.author != "imported")
            carmen = (
                NOW + DAY,
                NOW + DAY,
                NOW + 3 * DAY,
                NOW + 3 * DAY,
                NOW + 5 * DAY,
                NOW + 5 * DAY,
            )
            assert len([e for e in content.history if e.author == "Carmen"]) == len(
                [at for at in carmen if at <= as_of]
            )


async def _export_bytes(sessions: Sessions, writer: object, plan_id: int, **kw: object) -> bytes:
    buffer = io.BytesIO()
    async with sessions() as session:
        await writer(session, plan_id, buffer, **kw)  # type: ignore[operator]
    return buffer.getvalue()


async def test_every_export_as_of_a_date(sessions: Sessions) -> None:
    plan_id, _ = await _dated_history(sessions)
    as_of = end_of_day(dt.date(2026, 11, 27), LIMA)  # day 3 (10:00 in Lima), not day 4
    assert as_of == dt.datetime(2026, 11, 27, 23, 59, 59, 999999, tzinfo=LIMA)

    word = document_content(
        await _export_bytes(sessions, export_plan_docx, plan_id, tz=LIMA, as_of=as_of)
    )
    assert "Situación al 27 de noviembre de 2026" in word
    table = word[word.index("Recomendación de la Evaluación Nº 4") + 3]
    assert isinstance(table, list) and len(table) == 2 + 4
    assert table[2][3:] == ["Estrategia aprobada", "Completada", "", "Por revisar"]
    assert table[5][:2] == ["4. Publicar el roster", "Marzo 2012"]

    before = document_content(
        await _export_bytes(
            sessions, export_plan_docx, plan_id, tz=LIMA, as_of=end_of_day(NOW.date(), LIMA)
        )
    )
    assert "Situación al 24 de noviembre de 2026" in before
    table = before[before.index("Recomendación de la Evaluación Nº 4") + 3]
    assert len(table) == 2 + 3 and table[2][3:] == ["", "No iniciada", "", "Por revisar"]

    book = load_workbook(
        io.BytesIO(await _export_bytes(sessions, export_plan, plan_id, tz=LIMA, as_of=as_of))
    )
    details = {row[0]: row[1] for row in book["Plan"].iter_rows(values_only=True)}
    assert details["Situación al"] == dt.datetime(2026, 11, 27)
    main = list(book["Plan de mejora"].iter_rows(values_only=True))
    assert len(main) == 1 + 14
    row = next(r for r in main if r[0] == 4 and r[3] == 1)
    assert row[7:] == ("Estrategia aprobada", "Completada", None, "Por revisar")
    history = list(book["Historial"].iter_rows(values_only=True))[1:]
    assert not any("Conforme" in str(entry[5]) for entry in history)

    text = (await _export_bytes(sessions, export_plan_csv, plan_id, as_of=as_of)).decode(
        "utf-8-sig"
    )
    lines = list(csv.reader(io.StringIO(text)))
    assert len(lines) == 1 + 14
    assert next(r for r in lines if r[0] == "4" and r[3] == "1")[7:] == [
        "Estrategia aprobada",
        "Completada",
        "",
        "Por revisar",
    ]


def test_the_command_line_exports_as_of_a_date(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "LOAD_"))}
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'plan.db'}"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    broken = tmp_path / "roto.docx"
    broken.write_bytes(word_plan(layout=Layout(follow_up={("4", 2): ("", "A medias", "", "")})))
    refused = cli("plan", "import", str(broken))
    assert refused.returncode == 1
    assert "• Table 3, row 4, column “Seguimiento - Estado”: “A medias” is not a status" in (
        refused.stderr
    )
    assert "nothing was imported" in refused.stderr
    assert "there are no plans" in cli("plan", "list").stdout
    plan = tmp_path / "Plan de mejora.docx"
    plan.write_bytes(word_plan())
    imported = cli("plan", "import", str(plan))
    assert imported.returncode == 0, imported.stderr
    assert "plan 1 created: Plan de Mejora del Programa Conjunto" in imported.stdout
    assert "13 added" in imported.stdout
    for name in ("plan.docx", "plan.xlsx", "plan.csv"):
        done = cli("plan", "export", str(tmp_path / name), "--as-of", "2012-03-31")
        assert done.returncode == 0, done.stderr
        assert "as of the end of 2012-03-31" in done.stdout
    word = document_content((tmp_path / "plan.docx").read_bytes())
    assert "Situación al 31 de marzo de 2012" in word
    assert word.count("Respuesta de la gestión") == 6
    book = load_workbook(tmp_path / "plan.xlsx")
    details = {row[0]: row[1] for row in book["Plan"].iter_rows(values_only=True)}
    assert details["Situación al"] == dt.datetime(2012, 3, 31)
    assert len((tmp_path / "plan.csv").read_text("utf-8-sig").splitlines()) > 13
    bad = cli("plan", "export", str(tmp_path / "plan.docx"), "--as-of", "31/03/2012")
    assert bad.returncode == 2 and "not a date (YYYY-MM-DD)" in bad.stderr
    assert cli("plan", "export", str(tmp_path / "plan.txt")).returncode == 2
