"""Word plans (.docx): the seed plan written as the original document, and its variations,
import as the bundled seed does; broken and hostile documents are refused with every problem
(table, row, column) and nothing imported."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.administration import issue_line, plain_issue_line
from handlers.i18n import Tr
from storage.models import Comment, KeyAction, Recommendation, StatusChange
from storage.plan_files import (
    PlanFileError,
    PlanRow,
    import_plan,
    load_demo_plan,
    read_plan_metadata,
    read_plan_rows,
)
from storage.plan_files.records import MAX_COLUMNS, MAX_ROWS
from storage.plan_files.word_reader import unbroken
from tests.word_support import SEED_TITLE, Layout, seed_rows, word_plan

#: What a reading must give for each action, compared with the seed's rows.
Key = tuple[str, int, str, str, str, str, str, str]


def _key(row: PlanRow, *, block_texts: bool = True) -> Key:
    return (
        row.label,
        row.number,
        row.action,
        row.deadline,
        row.responsible,
        row.follow_up_comment,
        row.recommendation if block_texts else "",
        row.management_response if block_texts else "",
    )


LAYOUTS = {
    "original": Layout(),
    "english": Layout(english=True),
    "capitals without accents": Layout(shouting=True),
    "one header row": Layout(header_rows=1),
    "two header rows, not merged": Layout(merged=False),
    "numbers without a space": Layout(numbers="tight"),
    "numbers in a column": Layout(numbers="column"),
    "one table, heading rows": Layout(one_table=True),
    "one table, english, numbers in a column": Layout(
        one_table=True, english=True, numbers="column", header_rows=1
    ),
}


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_each_layout_reads_as_the_seed(name: str) -> None:
    rows = read_plan_rows(word_plan(layout=LAYOUTS[name]), "plan.docx")
    assert [_key(r) for r in rows] == [_key(r) for r in seed_rows()]


def test_one_table_with_a_recommendation_column() -> None:
    layout = Layout(one_table=True, label_column=True, numbers="column")
    rows = read_plan_rows(word_plan(layout=layout), "plan.docx")
    seed = seed_rows()
    assert [_key(r, block_texts=False) for r in rows] == [_key(r, block_texts=False) for r in seed]


def test_a_word_plan_without_extension_is_recognised() -> None:
    rows = read_plan_rows(word_plan())
    assert len(rows) == len(seed_rows())


async def _snapshot(session: AsyncSession, plan_id: int) -> list[tuple[object, ...]]:
    """Every action of a plan with what the import made of it."""
    actions = (
        await session.scalars(
            select(KeyAction)
            .where(KeyAction.plan_id == plan_id)
            .order_by(KeyAction.position, KeyAction.number)
        )
    ).all()
    result: list[tuple[object, ...]] = []
    for action in actions:
        rec = await session.get(Recommendation, action.recommendation_id)
        assert rec is not None
        await session.refresh(action, ["units"])
        comments = (
            await session.scalars(
                select(Comment.text).where(Comment.action_id == action.id).order_by(Comment.id)
            )
        ).all()
        result.append(
            (
                rec.label,
                rec.text,
                rec.management_response,
                action.number,
                action.text,
                action.deadline_text,
                action.deadline_kind,
                action.deadline_due,
                action.responsible_text,
                sorted(unit.name for unit in action.units),
                action.status,
                action.review_status,
                list(comments),
            )
        )
    return result


async def test_the_seed_document_imports_as_the_bundled_seed(session: AsyncSession) -> None:
    bundled = await load_demo_plan(session)
    data = word_plan()
    meta = read_plan_metadata(data, "plan_de_mejora.docx")
    assert meta == {"title": SEED_TITLE}
    report = await import_plan(
        session, read_plan_rows(data, "plan.docx"), title="Plan en Word", source_file="plan.docx"
    )
    assert report.created and report.actions_added == 13 and report.recommendations == 6
    assert report.unparsed_deadlines == []
    word = await _snapshot(session, report.plan_id)
    assert word == await _snapshot(session, bundled.plan_id)
    assert [(a[0], a[3]) for a in word][2:4] == [("2 y 3", 1), ("2 y 3", 2)]
    assert word[0][9] == ["Agencias Participantes de ONU", "Coordinación del PC", "PNUD"]


BROKEN = {
    "Enero 2012": "Enero\n2012",
    "Diciembre 2011 – enero 2012": "Diciembre\n2011 –\nenero 2012",
    "Coordinación del PC, OCR y Agencias Participantes de ONU.": (
        "Coordinación\ndel PC, OCR y\nAgencias Participantes\nde ONU."
    ),
    "Coordinación del PC, OCR, Agencia Líder, Contraparte Líder": (
        "Coordinación del PC,\nOCR, Agencia Líder,\nContraparte Líder"
    ),
    "Elaboración del POA sobre la base de las recomendaciones de la evaluación de medio término.": (
        "Elaboración del POA sobre la base\nde las recomendaciones de la evaluación\n"
        "de medio término."
    ),
}


async def test_text_broken_over_lines_inside_cells(session: AsyncSession) -> None:
    bundled = await load_demo_plan(session)
    rows = read_plan_rows(word_plan(layout=Layout(broken=BROKEN)), "plan.docx")
    assert [_key(r) for r in rows] == [_key(r) for r in seed_rows()]
    report = await import_plan(session, rows, title="Plan en Word")
    assert await _snapshot(session, report.plan_id) == await _snapshot(session, bundled.plan_id)


def test_unbroken_keeps_lists_and_sentences() -> None:
    assert unbroken("OCR\nCoordinaciones de PC") == "OCR\nCoordinaciones de PC"
    assert unbroken("Unidad de\nCoordinación") == "Unidad de Coordinación"
    assert unbroken("Fin.\nOtra frase") == "Fin.\nOtra frase"
    assert unbroken("Primera\n\nsegunda") == "Primera\n\nsegunda"


FOLLOW_UP = {
    ("1", 1): ("Revisión hecha", "Completada", "Conforme", "Validado"),
    ("2 y 3", 2): ("", "en curso", "", ""),
    ("4", 1): ("Sin avance", "NO INICIADA", "Falta el acta", "Con observaciones"),
}


async def test_statuses_and_comments_then_a_reimport_updates_in_place(
    session: AsyncSession,
) -> None:
    data = word_plan(layout=Layout(follow_up=FOLLOW_UP))
    first = await import_plan(session, read_plan_rows(data, "plan.docx"), title="Plan")
    snapshot = {(a[0], a[3]): a for a in await _snapshot(session, first.plan_id)}
    assert snapshot[("1", 1)][10:] == ("completed", "validated", ["Revisión hecha", "Conforme"])
    assert snapshot[("2 y 3", 2)][10:12] == ("in_progress", "pending")
    assert snapshot[("4", 1)][10:] == (
        "not_started",
        "observed",
        ["Sin avance", "Falta el acta"],
    )
    assert snapshot[("5", 1)][10:12] == ("not_started", "pending")
    changes = await session.scalar(select(func.count()).select_from(StatusChange))

    again = await import_plan(session, read_plan_rows(data, "plan.docx"), title="Plan")
    assert again.plan_id == first.plan_id and not again.changed

    later = dict(FOLLOW_UP)
    later[("2 y 3", 2)] = ("Línea de financiamiento aprobada", "Completada", "", "")
    later[("1", 1)] = ("", "", "", "")  # the cells emptied: nothing changes
    rows = read_plan_rows(word_plan(layout=Layout(follow_up=later)), "plan.docx")
    updated = await import_plan(session, rows, title="Plan")
    assert updated.plan_id == first.plan_id
    assert updated.actions_added == 0 and updated.comments_added == 1
    assert updated.statuses_changed == 1
    snapshot = {(a[0], a[3]): a for a in await _snapshot(session, first.plan_id)}
    assert snapshot[("2 y 3", 2)][10:] == (
        "completed",
        "pending",
        ["Línea de financiamiento aprobada"],
    )
    assert snapshot[("1", 1)][10:12] == ("completed", "validated")
    assert await session.scalar(select(func.count()).select_from(StatusChange)) == changes + 1


def _document_bytes(build: object) -> bytes:
    document = Document()
    build(document)  # type: ignore[operator]
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _refused(data: bytes, name: str = "plan.docx") -> PlanFileError:
    with pytest.raises(PlanFileError) as caught:
        read_plan_rows(data, name)
    return caught.value


def _without_table(document: object) -> None:
    document.add_paragraph("Plan de Mejora")  # type: ignore[attr-defined]
    document.add_paragraph("Recomendación de la Evaluación Nº 1")  # type: ignore[attr-defined]
    document.add_paragraph("Mantener el PC.")  # type: ignore[attr-defined]


def _without_action_column(document: object) -> None:
    document.add_paragraph("Recomendación de la Evaluación Nº 1")  # type: ignore[attr-defined]
    table = document.add_table(rows=2, cols=3)  # type: ignore[attr-defined]
    for index, text in enumerate(["Plazo", "Responsable", "Estado"]):
        table.rows[0].cells[index].text = text
    for index, text in enumerate(["Enero 2012", "PNUD", ""]):
        table.rows[1].cells[index].text = text


def _zip_without_document() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/styles.xml", "<styles/>")
    return out.getvalue()


def test_broken_documents_each_get_their_error() -> None:
    tr = Tr("es")
    cases = {
        "not a zip": (b"Plan de mejora\nRecomendacion 1", "not_a_document"),
        "a zip without a document": (_zip_without_document(), "not_a_document"),
        "no plan table": (_document_bytes(_without_table), "no_plan_table"),
    }
    for name, (data, code) in cases.items():
        error = _refused(data)
        assert error.codes == [code], name
        assert "unexpected" not in issue_line(tr, error.issues[0])
    assert issue_line(tr, _refused(b"not a zip").issues[0]) == (
        "• esto no es un documento de Word (.docx) legible"
    )
    error = _refused(_document_bytes(_without_action_column))
    assert error.codes == ["missing_column"]
    issue = error.issues[0]
    assert (issue.table, issue.row, issue.column) == (1, 1, "Acción clave")
    assert issue_line(tr, issue).startswith("• Tabla 1, fila 1, columna «Acción clave»: ")
    assert plain_issue_line(issue).startswith("• Table 1, row 1, column “Acción clave”: ")


def test_every_problem_is_listed_with_its_table_row_and_column() -> None:
    follow_up = {
        ("2 y 3", 1): ("", "Terminada a medias", "", ""),
        ("6", 2): ("", "", "", "Quizás"),
    }
    rows = seed_rows()
    rows[6] = PlanRow(**_as_dict(rows[6], deadline="x" * 600))  # type: ignore[arg-type]
    error = _refused(word_plan(rows, Layout(follow_up=follow_up)))
    found = sorted((i.table, i.row, i.column, i.code) for i in error.issues)
    assert found == [
        (2, 3, "Seguimiento - Estado", "bad_status"),
        (3, 5, "Plazo", "too_long"),
        (5, 4, "Secretariado - Estado", "bad_status"),
    ]


def _as_dict(row: PlanRow, **changes: object) -> dict[str, object]:
    values = {name: getattr(row, name) for name in PlanRow.__dataclass_fields__}
    values.update(changes)
    return values


def test_a_table_without_a_heading_or_recommendation_column() -> None:
    def build(document: object) -> None:
        table = document.add_table(rows=2, cols=3)  # type: ignore[attr-defined]
        for index, text in enumerate(["Acciones clave", "Plazo", "Responsable"]):
            table.rows[0].cells[index].text = text
        for index, text in enumerate(["1. Hacer algo", "Enero 2012", "PNUD"]):
            table.rows[1].cells[index].text = text

    error = _refused(_document_bytes(build))
    assert [(i.table, i.row, i.code, i.detail["field"]) for i in error.issues] == [
        (1, 1, "missing_column", "label")
    ]


def _with_document(document_xml: bytes | None = None, *, extra: int = 0) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(word_plan()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename == "word/document.xml" and document_xml is not None:
                target.writestr(info.filename, document_xml)
            else:
                target.writestr(info.filename, source.read(info.filename))
        for n in range(extra):
            target.writestr(f"customXml/extra{n}.xml", b"")
    return out.getvalue()


W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def test_hostile_documents_are_refused_before_parsing() -> None:
    assert _refused(_with_document(extra=600)).codes == ["too_many_entries"]
    rows = "<w:tr><w:tc><w:p/></w:tc></w:tr>" * (MAX_ROWS + 600)
    many_rows = f"<w:document {W}><w:body><w:tbl>{rows}</w:tbl></w:body></w:document>"
    assert _refused(_with_document(many_rows.encode())).codes == ["too_many_rows"]
    wide = '<w:tc><w:tcPr><w:gridSpan w:val="40"/></w:tcPr><w:p/></w:tc>' * 2
    wide_row = f"<w:document {W}><w:body><w:tbl><w:tr>{wide}</w:tr></w:tbl></w:body></w:document>"
    assert _refused(_with_document(wide_row.encode())).codes == ["too_many_columns"]
    entities = (
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]>'
        f"<w:document {W}><w:body/></w:document>"
    )
    assert _refused(_with_document(entities.encode())).codes == ["not_a_document"]
    assert MAX_COLUMNS < 80  # the wide row above is past the limit


def test_an_old_word_file_is_not_a_plan() -> None:
    error = _refused(b"\xd0\xcf\x11\xe0 old word", "plan.doc")
    assert error.codes == ["unsupported_format"]
    assert error.issues[0].detail["expected"] == [".xlsx", ".csv", ".docx"]


def test_a_document_from_a_file_path(tmp_path: Path) -> None:
    path = tmp_path / "Plan de mejora.docx"
    path.write_bytes(word_plan())
    assert len(read_plan_rows(path)) == 13
    assert read_plan_metadata(path) == {"title": SEED_TITLE}


def test_a_note_across_the_table_after_its_actions_is_not_the_recommendation() -> None:
    document = Document(io.BytesIO(word_plan()))
    table = document.tables[0]
    cells = table.add_row().cells
    cells[0].merge(cells[-1]).text = "Nota: la CR revisará el avance en marzo."
    cells = table.add_row().cells
    for cell, text in zip(cells, ["3. Informe de avance", "Marzo 2012", "OCR"], strict=False):
        cell.text = text
    buffer = io.BytesIO()
    document.save(buffer)
    rows = read_plan_rows(buffer.getvalue(), "plan.docx")
    seed = seed_rows()
    assert [_key(r) for r in rows[:2] + rows[3:]] == [_key(r) for r in seed]
    added = rows[2]
    assert (added.label, added.number, added.action, added.deadline) == (
        "1",
        3,
        "Informe de avance",
        "Marzo 2012",
    )
    assert added.management_response == seed[0].management_response
