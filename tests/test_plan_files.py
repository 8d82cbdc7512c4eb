"""Plan spreadsheets: reading (.xlsx, .csv), bad files, import in place, export round trips."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage.db import Sessions, transaction
from storage.errors import NotFound
from storage.models import (
    Base,
    Comment,
    CommentKind,
    KeyAction,
    Person,
    Plan,
    Recommendation,
    ReviewStatus,
    Status,
    StatusChange,
    utcnow,
)
from storage.plan_files import (
    DEMO_TITLE,
    MAX_CELL_LENGTH,
    OVERDUE,
    SPANISH_HEADERS,
    Field,
    PlanFileError,
    PlanFileIssue,
    PlanRow,
    export_plan,
    export_plan_csv,
    import_plan,
    load_demo_plan,
    read_plan_metadata,
    read_plan_rows,
)

HEADERS = list(SPANISH_HEADERS.values())
ENGLISH = [
    "Recommendation no.",
    "Recommendation",
    "Management response",
    "Key action",
    "Deadline (Time-frame)",
    "Responsible unit(s)",
    "Comments",
    "Status",
]


def action_row(
    label: Any = "",
    number: Any = "",
    action: Any = "Acción",
    deadline: Any = "Enero 2012",
    responsible: Any = "PNUD",
    *,
    rec: str = "",
    comment: str = "",
    status: str = "",
    review_comment: str = "",
    review_status: str = "",
) -> list[Any]:
    return [
        label,
        rec,
        "",
        number,
        action,
        deadline,
        responsible,
        comment,
        status,
        review_comment,
        review_status,
    ]


def write_xlsx(path: Path, rows: list[list[Any]], *, title_rows: int = 0) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for index in range(title_rows):
        sheet.append([f"Título {index + 1}"])
    for row in rows:
        sheet.append([None if value == "" else value for value in row])
    workbook.save(path)
    return path


def write_csv(
    path: Path, rows: list[list[Any]], *, delimiter: str = ",", encoding: str = "utf-8"
) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return path


def issues_of(path: Path) -> list[PlanFileIssue]:
    with pytest.raises(PlanFileError) as caught:
        read_plan_rows(path)
    assert caught.value.issues
    return caught.value.issues


async def count(session: AsyncSession, model: type[Base]) -> int:
    return await session.scalar(select(func.count()).select_from(model)) or 0


async def import_file(session: AsyncSession, path: Path, title: str = "Plan") -> Any:
    """Read and import as the bot does: nothing reaches the database when reading fails."""
    rows = read_plan_rows(path)
    return await import_plan(session, rows, title=title, source_file=path.name)


async def assert_nothing_imported(session: AsyncSession) -> None:
    assert await count(session, Plan) == 0
    assert await count(session, KeyAction) == 0
    assert await count(session, Comment) == 0


async def snapshot(session: AsyncSession, plan_id: int) -> dict[str, Any]:
    """Everything an export carries, without database ids."""
    plan = await session.get(Plan, plan_id)
    assert plan is not None
    recs = (
        await session.scalars(
            select(Recommendation)
            .where(Recommendation.plan_id == plan_id)
            .order_by(Recommendation.position)
        )
    ).all()
    labels = {r.id: r.label for r in recs}
    actions = (
        await session.scalars(
            select(KeyAction)
            .where(KeyAction.plan_id == plan_id)
            .order_by(KeyAction.position, KeyAction.number)
        )
    ).all()
    latest: dict[tuple[int, str], str] = {}
    for comment in await session.scalars(select(Comment).order_by(Comment.created_at, Comment.id)):
        latest[(comment.action_id, comment.kind)] = comment.text
    return {
        "plan": (plan.title, plan.programme, plan.evaluation),
        "recommendations": [(r.label, r.position, r.text, r.management_response) for r in recs],
        "actions": [
            (
                labels[a.recommendation_id],
                a.number,
                a.position,
                a.text,
                a.deadline_text,
                a.deadline_kind,
                a.deadline_start,
                a.deadline_due,
                a.responsible_text,
                sorted(u.name for u in a.units),
                a.status,
                a.review_status,
                latest.get((a.id, CommentKind.FOLLOW_UP)),
                latest.get((a.id, CommentKind.REVIEW)),
            )
            for a in actions
        ],
    }


async def empty_database(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            await conn.execute(table.delete())


async def action_of(session: AsyncSession, plan_id: int, label: str, number: int) -> KeyAction:
    action = await session.scalar(
        select(KeyAction)
        .join(Recommendation, Recommendation.id == KeyAction.recommendation_id)
        .where(
            KeyAction.plan_id == plan_id,
            Recommendation.label == label,
            KeyAction.number == number,
        )
    )
    assert action is not None
    return action


async def follow_up_by_hand(session: AsyncSession, plan_id: int) -> None:
    """Comments and status changes as the bot would store them (people as authors)."""
    person = Person(name="Ana Quispe", role="focal", telegram_id=111)
    secretariat = Person(name="Sec", role="secretariat", telegram_id=222)
    session.add_all([person, secretariat])
    await session.flush()
    first = await action_of(session, plan_id, "1", 1)
    later = utcnow() + dt.timedelta(seconds=1)  # after the import
    note = Comment(
        action_id=first.id,
        author_id=person.id,
        kind=CommentKind.FOLLOW_UP,
        text="POA 2012 aprobado.\n- con cambios",
        created_at=later,
    )
    review = Comment(
        action_id=first.id,
        author_id=secretariat.id,
        kind=CommentKind.REVIEW,
        text="=Conforme",
        created_at=later + dt.timedelta(hours=1),
    )
    session.add_all([note, review])
    await session.flush()
    session.add_all(
        [
            StatusChange(
                action_id=first.id,
                author_id=person.id,
                field="status",
                old_value=Status.NOT_STARTED,
                new_value=Status.COMPLETED,
                comment_id=note.id,
                created_at=later,
            ),
            StatusChange(
                action_id=first.id,
                author_id=secretariat.id,
                field="review_status",
                old_value=ReviewStatus.PENDING,
                new_value=ReviewStatus.VALIDATED,
                comment_id=review.id,
                created_at=later + dt.timedelta(hours=1),
            ),
        ]
    )
    first.status = Status.COMPLETED
    first.review_status = ReviewStatus.VALIDATED
    second = await action_of(session, plan_id, "6", 2)
    second.status = Status.IN_PROGRESS
    session.add(
        StatusChange(
            action_id=second.id,
            author_id=person.id,
            field="status",
            old_value=Status.NOT_STARTED,
            new_value=Status.IN_PROGRESS,
            created_at=later,
        )
    )
    await session.flush()


# ------------------------------------------------------------------------------------------
# Reading


def test_reads_xlsx_with_title_rows_inheritance_and_numbers(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "plan.xlsx",
        [
            HEADERS,
            action_row(1.0, 1.0, "Primera", rec="Recomendación uno"),
            action_row("", 2, "Segunda"),
            action_row("2 y 3", "1.", "Tercera", rec="Dos y tres", status="EN CURSO"),
            action_row("", "", "Cuarta", status="completada", review_status="validado"),
        ],
        title_rows=2,
    )
    rows = read_plan_rows(path)
    assert [(r.row, r.label, r.number, r.action) for r in rows] == [
        (4, "1", 1, "Primera"),
        (5, "1", 2, "Segunda"),
        (6, "2 y 3", 1, "Tercera"),
        (7, "2 y 3", 2, "Cuarta"),
    ]
    assert [r.recommendation for r in rows] == ["Recomendación uno"] * 2 + ["Dos y tres"] * 2
    assert [r.follow_up_status for r in rows] == [None, None, "in_progress", "completed"]
    assert rows[3].review_status == "validated"


def test_reads_english_headers_without_action_numbers(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "plan.xlsx",
        [
            ENGLISH,
            ["R1", "Do things", "", "First", "March 2012", "UNDP", "", "Not started"],
            ["", "", "", "Second", "Q2 2012", "UNDP", "Done half", "In progress"],
            ["", "", "", "Third", "", "UNDP", "", "Overdue"],
            ["R2", "Other", "Yes", "Fourth", "", "", "", "no longer applicable"],
        ],
    )
    rows = read_plan_rows(path)
    assert [(r.label, r.number) for r in rows] == [("R1", 1), ("R1", 2), ("R1", 3), ("R2", 1)]
    assert [r.follow_up_status for r in rows] == [
        "not_started",
        "in_progress",
        OVERDUE,
        "not_applicable",
    ]
    assert rows[1].follow_up_comment == "Done half"
    assert rows[3].management_response == "Yes"


def test_repeated_comment_and_status_headers_are_follow_up_then_secretariat(
    tmp_path: Path,
) -> None:
    headers = ["Nº", "Acciones clave", "Plazo", "Responsable"] + ["Comentarios", "Estado"] * 2
    path = write_xlsx(
        tmp_path / "plan.xlsx",
        [headers, ["1", "Hacer", "Enero 2012", "OCR", "Hecho", "En curso", "Visto", "Validado"]],
    )
    (row,) = read_plan_rows(path)
    assert (row.follow_up_comment, row.follow_up_status) == ("Hecho", "in_progress")
    assert (row.review_comment, row.review_status) == ("Visto", "validated")


def test_excel_dates_in_the_deadline_column_become_text(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "plan.xlsx",
        [HEADERS, action_row("1", 1, deadline=dt.datetime(2012, 2, 28))],
    )
    (row,) = read_plan_rows(path)
    assert row.deadline == "28/02/2012"


def test_csv_with_semicolons_in_cp1252(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "plan.csv",
        [
            ["Plan de Mejora"],
            HEADERS,
            action_row("1", 1, "Revisión; del “POA”", responsible="Coordinación del PC; OCR"),
        ],
        delimiter=";",
        encoding="cp1252",
    )
    (row,) = read_plan_rows(path)
    assert row.action == "Revisión; del “POA”"
    assert row.responsible == "Coordinación del PC; OCR"
    assert row.row == 3


def test_csv_tab_separated_with_multiline_cells(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "plan.csv",
        [HEADERS, action_row("1", 1, "Línea uno\nlínea dos"), action_row("", 2, "Otra")],
        delimiter="\t",
    )
    rows = read_plan_rows(path)
    assert [r.action for r in rows] == ["Línea uno\nlínea dos", "Otra"]
    assert [r.row for r in rows] == [2, 3]


def test_csv_formula_text_is_kept_as_text(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "plan.csv", [HEADERS, action_row("1", 1, "=1+1")])
    (row,) = read_plan_rows(path)
    assert row.action == "=1+1"


# ------------------------------------------------------------------------------------------
# Bad files: every issue located, nothing imported


async def test_empty_files(tmp_path: Path, session: AsyncSession) -> None:
    for name in ("plan.csv", "plan.xlsx"):
        path = tmp_path / name
        path.write_bytes(b"")
        assert issues_of(path) == [PlanFileIssue(None, None, "empty_file", {})]
    blank = tmp_path / "blank.xlsx"
    openpyxl.Workbook().save(blank)
    assert [i.code for i in issues_of(blank)] == ["empty_file"]
    whitespace = tmp_path / "blank.csv"
    whitespace.write_text("\n\n  \n", encoding="utf-8")
    assert [i.code for i in issues_of(whitespace)] == ["empty_file"]
    await assert_nothing_imported(session)


async def test_wrong_headers(tmp_path: Path, session: AsyncSession) -> None:
    path = write_xlsx(tmp_path / "plan.xlsx", [["Nombre", "Fecha", "Persona"], ["x", "y", "z"]])
    issues = issues_of(path)
    assert [(i.row, i.column, i.code) for i in issues] == [
        (None, "Recomendación Nº", "missing_column"),
        (None, "Acción clave", "missing_column"),
        (None, "Plazo", "missing_column"),
        (None, "Responsable", "missing_column"),
    ]
    assert issues[0].detail["found"] == ["Nombre", "Fecha", "Persona"]
    assert issues[0].detail["expected"] == ["Recomendación Nº", "Recommendation no."]

    partial = write_xlsx(
        tmp_path / "partial.xlsx",
        [["Título"], ["Recomendación Nº", "Acción clave", "Fecha"], ["1", "Hacer", "2012"]],
    )
    assert [(i.row, i.column, i.code) for i in issues_of(partial)] == [
        (2, "Plazo", "missing_column"),
        (2, "Responsable", "missing_column"),
    ]
    await assert_nothing_imported(session)


async def test_text_file_named_xlsx(tmp_path: Path, session: AsyncSession) -> None:
    path = tmp_path / "plan.xlsx"
    path.write_text("Recomendación Nº,Acción clave\n1,Hacer\n", encoding="utf-8")
    assert issues_of(path) == [PlanFileIssue(None, None, "not_a_spreadsheet", {"expected": "xlsx"})]
    zipped = tmp_path / "other.xlsx"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("hello.txt", "hola")
    assert [i.code for i in issues_of(zipped)] == ["not_a_spreadsheet"]
    pdf = tmp_path / "plan.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    assert [(i.code, i.detail["extension"]) for i in issues_of(pdf)] == [
        ("unsupported_format", ".pdf")
    ]
    await assert_nothing_imported(session)


async def test_duplicate_key_action_numbers(tmp_path: Path, session: AsyncSession) -> None:
    path = write_xlsx(
        tmp_path / "plan.xlsx",
        [
            HEADERS,
            action_row("1", 1, "Una"),
            action_row("", 2, "Dos"),
            action_row("2", 1, "Otra"),
            action_row("1", 2, "Dos otra vez"),
        ],
    )
    assert issues_of(path) == [
        PlanFileIssue(
            5, "Acción clave Nº", "duplicate_action", {"label": "1", "number": 2, "first_row": 3}
        )
    ]
    await assert_nothing_imported(session)


async def test_duplicates_in_rows_given_to_import(session: AsyncSession) -> None:
    row = PlanRow(2, "1", "", "", 1, "Hacer", "Enero 2012", "PNUD")
    with pytest.raises(PlanFileError) as caught:
        await import_plan(session, [row, row], title="Plan")
    assert caught.value.codes == ["duplicate_action"]
    with pytest.raises(PlanFileError) as caught:
        await import_plan(session, [], title="Plan")
    assert caught.value.codes == ["no_rows"]
    await assert_nothing_imported(session)


async def test_a_20000_character_cell_is_reported(tmp_path: Path, session: AsyncSession) -> None:
    long_text = "x" * 20_000
    path = write_xlsx(
        tmp_path / "plan.xlsx",
        [HEADERS, action_row("1", 1, "Corta"), action_row("1", 2, long_text)],
    )
    assert issues_of(path) == [
        PlanFileIssue(3, "Acción clave", "too_long", {"length": 20_000, "limit": MAX_CELL_LENGTH})
    ]
    csv_path = write_csv(tmp_path / "plan.csv", [HEADERS, action_row("1", 1, comment=long_text)])
    assert [(i.row, i.column, i.code) for i in issues_of(csv_path)] == [
        (2, "Seguimiento - Comentarios", "too_long")
    ]
    await assert_nothing_imported(session)


async def test_formula_without_cached_value(tmp_path: Path, session: AsyncSession) -> None:
    path = write_xlsx(
        tmp_path / "plan.xlsx",
        [HEADERS, action_row("1", 1, "Hacer", deadline="=TODAY()+30")],
    )
    assert issues_of(path) == [PlanFileIssue(2, "Plazo", "formula_without_value", {"cell": "F2"})]
    await assert_nothing_imported(session)


async def test_bad_status_and_other_issues_all_reported(
    tmp_path: Path, session: AsyncSession
) -> None:
    path = write_xlsx(
        tmp_path / "plan.xlsx",
        [
            HEADERS,
            action_row("", 1, "Sin recomendación"),
            action_row("1", 1, "Hacer", status="Casi lista"),
            action_row("1", "uno", "Otra"),
            action_row("1", 3, "", deadline="Enero 2012"),
            action_row("1", 4, "Más", review_status="Aprobado"),
        ],
    )
    issues = issues_of(path)
    assert [(i.row, i.column, i.code) for i in issues] == [
        (2, "Recomendación Nº", "missing_value"),
        (3, "Seguimiento - Estado", "bad_status"),
        (4, "Acción clave Nº", "bad_number"),
        (5, "Acción clave", "missing_value"),
        (6, "Secretariado - Estado", "bad_status"),
    ]
    assert issues[1].detail == {
        "value": "Casi lista",
        "expected": ["No iniciada", "En curso", "Completada", "Ya no aplica"],
    }
    assert issues[2].detail == {"value": "uno"}
    await assert_nothing_imported(session)


async def test_conflicting_recommendation_texts(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "plan.xlsx",
        [HEADERS, action_row("1", 1, rec="Texto A"), action_row("1", 2, rec="Texto B")],
    )
    assert [(i.row, i.column, i.code) for i in issues_of(path)] == [
        (3, "Recomendación", "conflicting_text")
    ]


async def test_shorter_limits_for_labels_deadlines_and_unit_names(
    tmp_path: Path, session: AsyncSession
) -> None:
    path = write_xlsx(
        tmp_path / "plan.xlsx",
        [
            HEADERS,
            action_row("R" * 101, 1),
            action_row("1", 1, deadline="D" * 501),
            action_row("1", 2, responsible="PNUD; " + "U" * 301),
        ],
    )
    assert [(i.row, i.column, i.code, i.detail["limit"]) for i in issues_of(path)] == [
        (2, "Recomendación Nº", "too_long", 100),
        (3, "Plazo", "too_long", 500),
        (4, "Responsable", "too_long", 300),
    ]
    await assert_nothing_imported(session)


def test_recommendation_rows_above_their_actions(tmp_path: Path) -> None:
    """A row with only the recommendation's cells gives the block to the rows below it."""
    rec_only = action_row("1", "", "", "", "", rec="Recomendación uno")
    path = write_xlsx(
        tmp_path / "plan.xlsx",
        [HEADERS, rec_only, action_row("", 1, "Hacer"), action_row("", 2, "Otra")],
    )
    rows = read_plan_rows(path)
    assert [(r.row, r.label, r.number, r.recommendation) for r in rows] == [
        (3, "1", 1, "Recomendación uno"),
        (4, "1", 2, "Recomendación uno"),
    ]
    lonely = write_xlsx(
        tmp_path / "lonely.xlsx", [HEADERS, action_row("1", 1), action_row("2", "", "", "", "")]
    )
    assert [(i.row, i.code, i.detail) for i in issues_of(lonely)] == [
        (3, "block_without_actions", {"label": "2"})
    ]


def test_header_only_is_no_rows(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "plan.xlsx", [HEADERS])
    assert [(i.row, i.code) for i in issues_of(path)] == [(1, "no_rows")]


# ------------------------------------------------------------------------------------------
# Import


async def test_excel_dates_are_imported_as_deadlines(tmp_path: Path, session: AsyncSession) -> None:
    path = write_xlsx(
        tmp_path / "plan.xlsx",
        [HEADERS, action_row("1", 1, "Hacer", deadline=dt.datetime(2012, 2, 28))],
    )
    report = await import_file(session, path)
    action = await action_of(session, report.plan_id, "1", 1)
    assert action.deadline_text == "28/02/2012"
    assert action.deadline_due == dt.date(2012, 2, 28)
    assert report.unparsed_deadlines == []


async def test_unparsed_deadlines_are_reported_not_refused(
    tmp_path: Path, session: AsyncSession
) -> None:
    path = write_xlsx(
        tmp_path / "plan.xlsx",
        [
            HEADERS,
            action_row("1", 1, deadline="Sin definir todavía"),
            action_row("1", 2, deadline=""),
        ],
    )
    report = await import_file(session, path)
    assert report.unparsed_deadlines == [("1", 1, "Sin definir todavía")]
    action = await action_of(session, report.plan_id, "1", 1)
    assert (action.deadline_text, action.deadline_kind, action.deadline_due) == (
        "Sin definir todavía",
        "unknown",
        None,
    )


async def test_statuses_and_comments_from_a_file(tmp_path: Path, session: AsyncSession) -> None:
    path = write_xlsx(
        tmp_path / "plan.xlsx",
        [
            HEADERS,
            action_row(
                "1",
                1,
                comment="Terminado",
                status="Completada",
                review_comment="Ok",
                review_status="Validado",
            ),
            action_row("1", 2, status="No iniciada", review_status="Por revisar"),
        ],
    )
    report = await import_file(session, path)
    assert (report.comments_added, report.statuses_changed) == (2, 2)
    action = await action_of(session, report.plan_id, "1", 1)
    assert (action.status, action.review_status) == ("completed", "validated")
    changes = (await session.scalars(select(StatusChange).order_by(StatusChange.id))).all()
    assert [(c.field, c.old_value, c.new_value, c.author_id) for c in changes] == [
        ("status", "not_started", "completed", None),
        ("review_status", "pending", "validated", None),
    ]
    comments = {c.id: c for c in await session.scalars(select(Comment))}
    assert comments[changes[0].comment_id].text == "Terminado"
    assert comments[changes[1].comment_id].kind == CommentKind.REVIEW


async def test_a_status_change_from_a_file_sends_the_review_back_to_pending(
    tmp_path: Path, session: AsyncSession
) -> None:
    rows = [HEADERS, action_row("1", 1, status="En curso", review_status="Validado")]
    report = await import_file(session, write_xlsx(tmp_path / "a.xlsx", rows))
    rows = [HEADERS, action_row("1", 1, status="Completada")]
    second = await import_file(session, write_xlsx(tmp_path / "b.xlsx", rows))
    assert second.plan_id == report.plan_id and second.statuses_changed == 1
    action = await action_of(session, report.plan_id, "1", 1)
    assert (action.status, action.review_status) == ("completed", "pending")
    last = (
        await session.scalars(select(StatusChange).order_by(StatusChange.id.desc()).limit(2))
    ).all()
    assert [(c.field, c.new_value) for c in reversed(last)] == [
        ("status", "completed"),
        ("review_status", "pending"),
    ]
    rows = [HEADERS, action_row("1", 1, status="Vencida")]
    third = await import_file(session, write_xlsx(tmp_path / "c.xlsx", rows))
    await session.refresh(action)
    assert third.statuses_changed == 1 and action.status == "in_progress"
    fourth = await import_file(session, write_xlsx(tmp_path / "c.xlsx", rows))
    assert fourth.statuses_changed == 0


async def test_update_in_place_keeps_comments_and_history(
    tmp_path: Path, session: AsyncSession
) -> None:
    seed = await load_demo_plan(session)
    await follow_up_by_hand(session, seed.plan_id)
    await session.commit()
    comments_before = await count(session, Comment)
    changes_before = await count(session, StatusChange)

    rows = read_plan_rows(Path(__file__).parents[1] / "storage" / "data" / "plan_de_mejora.csv")
    changed = []
    for row in rows:
        if (row.label, row.number) == ("4", 2):
            row = PlanRow(**{**_as_dict(row), "action": "Elaboración de TdR (revisado)"})
        if (row.label, row.number) == ("6", 1):
            row = PlanRow(**{**_as_dict(row), "follow_up_comment": "Asistentes contratados."})
        changed.append(row)
    changed.append(
        PlanRow(**{**_as_dict(rows[-1]), "row": 99, "number": 3, "action": "Publicar informe"})
    )
    report = await import_plan(session, changed, title=DEMO_TITLE)
    await session.commit()

    assert report.plan_id == seed.plan_id and not report.created
    assert (report.actions_added, report.actions_updated, report.actions_unchanged) == (1, 1, 12)
    assert (report.actions_removed, report.actions_kept_missing) == (0, 0)
    # 1.1's cell still holds the seed's comment, older than Ana's: not repeated as new
    assert (report.comments_added, report.statuses_changed) == (1, 0)
    assert await count(session, Plan) == 1
    assert await count(session, KeyAction) == 14
    assert await count(session, Comment) == comments_before + 1
    contracted = await action_of(session, seed.plan_id, "6", 1)
    new_comment = await session.scalar(select(Comment).where(Comment.action_id == contracted.id))
    assert new_comment is not None
    assert (new_comment.text, new_comment.author_id) == ("Asistentes contratados.", None)
    assert await count(session, StatusChange) == changes_before
    first = await action_of(session, seed.plan_id, "1", 1)
    assert (first.status, first.review_status) == ("completed", "validated")
    edited = await action_of(session, seed.plan_id, "4", 2)
    assert edited.text == "Elaboración de TdR (revisado)"
    added = await action_of(session, seed.plan_id, "7 y 8", 3)
    assert (added.position, added.text, added.deadline_due) == (
        6,
        "Publicar informe",
        dt.date(2012, 6, 30),
    )
    assert {u.name for u in added.units} == {"OCR", "Coordinaciones de PC"}


async def test_actions_missing_from_the_file(tmp_path: Path, session: AsyncSession) -> None:
    seed = await load_demo_plan(session)
    await session.commit()
    rows = read_plan_rows(Path(__file__).parents[1] / "storage" / "data" / "plan_de_mejora.csv")
    kept_rows = [r for r in rows if r.label != "5" and (r.label, r.number) != ("4", 3)]
    report = await import_plan(session, kept_rows, title=DEMO_TITLE)
    await session.commit()
    # 4.3 has no history: deleted; 5.1 has the seed's comment: kept, and so is its block.
    assert (report.actions_removed, report.actions_kept_missing) == (1, 1)
    assert report.kept_missing == [("5", 1)]
    assert report.actions_unchanged == 11
    assert await count(session, KeyAction) == 12
    recs = (
        await session.scalars(
            select(Recommendation)
            .where(Recommendation.plan_id == seed.plan_id)
            .order_by(Recommendation.position)
        )
    ).all()
    assert [(r.label, r.position) for r in recs] == [
        ("1", 1),
        ("2 y 3", 2),
        ("4", 3),
        ("6", 4),
        ("7 y 8", 5),
        ("5", 6),
    ]
    assert (await action_of(session, seed.plan_id, "5", 1)).position == 6
    assert (await action_of(session, seed.plan_id, "6", 1)).position == 4


async def test_import_into_a_given_plan_id(tmp_path: Path, session: AsyncSession) -> None:
    seed = await load_demo_plan(session)
    rows = read_plan_rows(Path(__file__).parents[1] / "storage" / "data" / "plan_de_mejora.csv")
    report = await import_plan(
        session, rows, title="Nuevo título", plan_id=seed.plan_id, programme="PC Perú"
    )
    plan = await session.get(Plan, seed.plan_id)
    assert plan is not None
    assert report.plan_id == seed.plan_id and not report.created
    assert (plan.title, plan.programme) == ("Nuevo título", "PC Perú")
    assert report.actions_unchanged == 13
    with pytest.raises(NotFound):
        await import_plan(session, rows, title="x", plan_id=seed.plan_id + 1000)


def _as_dict(row: PlanRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in PlanRow.__slots__}


# ------------------------------------------------------------------------------------------
# Export and round trips


async def test_export_round_trip(tmp_path: Path, engine: AsyncEngine, sessions: Sessions) -> None:
    async with transaction(sessions) as session:
        seed = await load_demo_plan(session)
        await follow_up_by_hand(session, seed.plan_id)
    async with transaction(sessions) as session:
        before = await snapshot(session, seed.plan_id)
        path = tmp_path / "export.xlsx"
        await export_plan(session, seed.plan_id, path)

    _check_workbook(path)
    assert read_plan_metadata(b"a,b", "plan.csv") == {}
    metadata = read_plan_metadata(path)
    assert metadata == {
        "title": DEMO_TITLE,
        "programme": "Programa Conjunto (Perú)",
        "evaluation": "Evaluación de medio término",
        "source_file": "plan_de_mejora.csv",
    }

    # Into the same database: nothing changes.
    async with transaction(sessions) as session:
        counts = (await count(session, Comment), await count(session, StatusChange))
        again = await import_plan(session, read_plan_rows(path), title=metadata["title"])
        assert again.plan_id == seed.plan_id
        assert (again.actions_unchanged, again.comments_added, again.statuses_changed) == (
            13,
            0,
            0,
        )
        assert not again.changed
    async with transaction(sessions) as session:
        assert (await count(session, Comment), await count(session, StatusChange)) == counts
        assert await snapshot(session, seed.plan_id) == before

    # Into an emptied database: the same plan.
    await empty_database(engine)
    async with transaction(sessions) as session:
        fresh = await import_plan(
            session,
            read_plan_rows(path.read_bytes(), "export.xlsx"),
            title=metadata["title"],
            programme=metadata["programme"],
            evaluation=metadata["evaluation"],
        )
        assert fresh.created and fresh.actions_added == 13
    async with transaction(sessions) as session:
        assert await snapshot(session, fresh.plan_id) == before
        # and exporting that one and importing it again changes nothing either
        buffer = io.BytesIO()
        await export_plan(session, fresh.plan_id, buffer)
        third = await import_plan(
            session, read_plan_rows(buffer.getvalue(), "x.xlsx"), title=metadata["title"]
        )
        assert not third.changed


def _check_workbook(path: Path) -> None:
    workbook = openpyxl.load_workbook(path)
    main, history, plan_sheet = workbook.worksheets
    assert main.freeze_panes == "A2"
    assert [c.value for c in main[1]] == HEADERS
    assert main.max_row == 14
    # the recommendation text only on the first row of its block
    assert main["B2"].value.startswith("1. Mantener") and main["B3"].value is None
    assert main["A2"].value == 1 and main["A4"].value == "2 y 3"
    assert [main.cell(row=2, column=c).value for c in (8, 9, 10, 11)] == [
        "POA 2012 aprobado.\n- con cambios",
        "Completada",
        "=Conforme",
        "Validado",
    ]
    assert main["J2"].data_type == "s"  # text that looks like a formula stays text
    assert main["I3"].value == "No iniciada" and main["K3"].value == "Por revisar"
    assert main["E2"].alignment.wrap_text
    assert main.column_dimensions["E"].width >= 40
    assert history.title == "Historial"
    texts = [row[5] for row in history.iter_rows(min_row=2, values_only=True)]
    assert "POA 2012 aprobado.\n- con cambios" in texts
    assert "No iniciada → Completada" in texts and "Por revisar → Validado" in texts
    authors = {row[4] for row in history.iter_rows(min_row=2, values_only=True)}
    assert {"Ana Quispe", "Sec", "(importado)"} <= authors
    assert plan_sheet.title == "Plan"


async def test_csv_round_trip_with_formula_looking_text(
    tmp_path: Path, engine: AsyncEngine, sessions: Sessions
) -> None:
    source = write_csv(
        tmp_path / "plan.csv",
        [
            HEADERS,
            action_row("1", 1, "=1+1", comment="+51 999 888 777", rec="@todos"),
            action_row("1", 2, "-3 días", review_comment="''=ya escapado"),
        ],
    )
    async with transaction(sessions) as session:
        report = await import_file(session, source)
        action = await action_of(session, report.plan_id, "1", 1)
        assert action.text == "=1+1"
        before = await snapshot(session, report.plan_id)
        await export_plan_csv(session, report.plan_id, tmp_path / "out.csv")
        await export_plan(session, report.plan_id, tmp_path / "out.xlsx")

    raw = (tmp_path / "out.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert '"\'=1+1"' in text and '"\'+51 999 888 777"' in text and "\"''=ya escapado\"" in text
    workbook = openpyxl.load_workbook(tmp_path / "out.xlsx")
    cell = workbook.worksheets[0]["E2"]
    assert (cell.value, cell.data_type) == ("=1+1", "s")

    for name in ("out.csv", "out.xlsx"):
        rows = read_plan_rows(tmp_path / name)
        assert rows[0].action == "=1+1" and rows[1].review_comment == "'=ya escapado"
        async with transaction(sessions) as session:
            same = await import_plan(session, rows, title="Plan")
            assert not same.changed
        await empty_database(engine)
        async with transaction(sessions) as session:
            fresh = await import_plan(session, rows, title="Plan")
            assert await snapshot(session, fresh.plan_id) == before


async def test_export_with_translated_labels_reads_back(tmp_path: Path, sessions: Sessions) -> None:
    english = {
        "not_started": "Not started",
        "in_progress": "In progress",
        "completed": "Completed",
        "pending": "Pending review",
        "validated": "Validated",
    }
    async with transaction(sessions) as session:
        seed = await load_demo_plan(session)
        await follow_up_by_hand(session, seed.plan_id)
    async with transaction(sessions) as session:
        headers = {Field.ACTION: "Key action", Field.FOLLOW_UP_STATUS: "Status"}
        await export_plan(
            session,
            seed.plan_id,
            tmp_path / "en.xlsx",
            labels=english.__getitem__,
            headers=headers,
            tz=dt.timezone(dt.timedelta(hours=-5)),
        )
    sheet = openpyxl.load_workbook(tmp_path / "en.xlsx").worksheets[0]
    assert sheet["E1"].value == "Key action" and sheet["I2"].value == "Completed"
    # a value the labels do not know falls back to Spanish
    assert sheet["K2"].value == "Validated"
    rows = read_plan_rows(tmp_path / "en.xlsx")
    async with transaction(sessions) as session:
        report = await import_plan(session, rows, title=DEMO_TITLE)
        assert not report.changed
