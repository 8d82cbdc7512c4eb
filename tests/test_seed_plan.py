"""The bundled demo plan: the seed (a PDF table of the mid-term evaluation's improvement plan)
transcribed into `storage/data/plan_de_mejora.csv`, checked action by action."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Comment, CommentKind, KeyAction, Plan, Recommendation, StatusChange
from storage.plan_files import (
    DEMO_EVALUATION,
    DEMO_PROGRAMME,
    DEMO_TITLE,
    load_demo_plan,
    read_plan_rows,
)

COORD = "Coordinación del PC"
AGENCIES = "Agencias Participantes de ONU"
UC = "Unidad de Coordinación"


class Expected(NamedTuple):
    label: str
    number: int
    text: str
    deadline: str
    kind: str
    due: dt.date | None
    responsible: str
    units: set[str]
    comment: str = ""


EXPECTED = [
    Expected(
        "1",
        1,
        "CDN (diciembre del 2011) acuerda solicitar a la Coordinadora del PC y al Jefe de la "
        "Agencia Líder y resto de Agencias Participantes de ONU tomar en cuenta las "
        "recomendaciones de la evaluación de medio término, y aquéllas hechas durante la "
        "reunión, en la elaboración del POA 2012: en particular (i) el incremento significativo "
        "del monto para el financiamiento de proyectos; (ii) la necesidad de contar con "
        "estrategias comunes y articuladas.",
        "Enero 2012",
        "month",
        dt.date(2012, 1, 31),
        "Coordinación del PC, PNUD como Agencia Líder y resto de Agencias Participantes de ONU.",
        {COORD, "PNUD", AGENCIES},
        "Proceso de revisión se lleva a cabo entre diciembre 2011 y enero 2012.",
    ),
    Expected(
        "1",
        2,
        "Elaboración del POA sobre la base de las recomendaciones de la evaluación de medio "
        "término.",
        "Enero 2012",
        "month",
        dt.date(2012, 1, 31),
        "Coordinación del PC, OCR, Equipo Técnico y CG",
        {COORD, "OCR", "Equipo Técnico", "CG"},
        "En reunión de Comité de Gestión del 31 enero 2012, se aprueba revisión programática del "
        "POA presentada.",
    ),
    Expected(
        "2 y 3",
        1,
        "En proceso de formulación del POA, revisión de estado de situación de actividades "
        "identificadas por la evaluación y determinación de cambios a la luz de lo propuesto.",
        "Diciembre 2011 – enero 2012",
        "range",
        dt.date(2012, 1, 31),
        "Coordinación del PC, OCR y Agencias Participantes de ONU.",
        {COORD, "OCR", AGENCIES},
        "Ver arriba.",
    ),
    Expected(
        "2 y 3",
        2,
        "Determinación de alternativas para el incremento significativo de financiamiento, "
        "incluyendo modalidades para alineamiento con programas y políticas nacionales.",
        "ENE 2012",
        "month",
        dt.date(2012, 1, 31),
        "Coordinación del PC, OCR, Agencia Líder, Contraparte Líder",
        {COORD, "OCR", "PNUD", "Contraparte Líder"},
        "POA 2012 incluye (i) línea de financiamiento de emprendimientos en el marco del "
        "programa De mi tierra, un producto y (ii) línea de financiamiento para MyPEs "
        "articuladoras de pequeños emprendimientos.",
    ),
    Expected(
        "4",
        1,
        "Formulación y puesta en marcha de una estrategia común de asistencia técnica y "
        "capacitación y portafolio de actividades relacionado",
        "28 febrero 2012",
        "date",
        dt.date(2012, 2, 28),
        "Coordinadora PC; Agencias Participantes; contrapartes regionales",
        {COORD, AGENCIES, "Contrapartes regionales"},
    ),
    Expected(
        "4",
        2,
        "Elaboración y validación de TdR para los consultores por actividad",
        "28 febrero 2012",
        "date",
        dt.date(2012, 2, 28),
        "Coordinadora PC, Agencias Participantes",
        {COORD, AGENCIES},
    ),
    Expected(
        "4",
        3,
        "Elaboración de roster de consultores nacionales y regionales por especialidad.",
        "28 febrero 2012",
        "date",
        dt.date(2012, 2, 28),
        "Unidad de Coordinación",
        {UC},
    ),
    Expected(
        "5",
        1,
        "Identificación de programas y políticas públicas con los cuales fortalecer alineamiento.",
        "Enero 2012",
        "month",
        dt.date(2012, 1, 31),
        "Coordinación PC",
        {COORD},
        "Se identifica Programa Nacional De mi Tierra, un Producto – revisión del POA incluye "
        "alineamiento con el mismo.",
    ),
    Expected(
        "6",
        1,
        "Contratación de asistentes regionales",
        "A la recepción del tercer desembolso",
        "event",
        None,
        "Unidad de Coordinación; Agencia Líder",
        {UC, "PNUD"},
    ),
    Expected(
        "6",
        2,
        "Fortalecer presencia de Agencias Participantes en el terreno bajo una estrategia de "
        "intervención coordinada",
        "Febrero 2012",
        "month",
        dt.date(2012, 2, 29),
        "Unidad de Coordinación; Agencias Participantes",
        {UC, AGENCIES},
    ),
    Expected(
        "6",
        3,
        "Propiciar el involucramiento y acompañamiento por parte de los/as funcionarios/as "
        "públicos/as en la ejecución de las actividades. Institucionalizar las acciones para que "
        "los GORES y las Direcciones Nacionales se apropien de los procesos y metodología "
        "exitosas",
        "A partir de enero 2012",
        "from_date",
        None,
        "Unidad de Coordinación.",
        {UC},
    ),
    Expected(
        "7 y 8",
        1,
        "Fomentar diálogo técnico por Petit Comités de especialistas de las Agencias y las "
        "contrapartes participantes para favorecer construcción de enfoques comunes.",
        "Primer semestre 2012",
        "semester",
        dt.date(2012, 6, 30),
        "Unidad de Coordinación; Agencias; Contrapartes",
        {UC, AGENCIES, "Contrapartes"},
    ),
    Expected(
        "7 y 8",
        2,
        "Llevar a cabo proceso de sistematización de experiencias de los cuatro PC en el país",
        "Primer semestre 2012",
        "semester",
        dt.date(2012, 6, 30),
        "OCR\nCoordinaciones de PC",
        {"OCR", "Coordinaciones de PC"},
    ),
]

LABELS = ["1", "2 y 3", "4", "5", "6", "7 y 8"]


def _seed_bytes() -> bytes:
    return resources.files("storage").joinpath("data", "plan_de_mejora.csv").read_bytes()


def test_seed_file_has_one_row_per_key_action() -> None:
    rows = read_plan_rows(_seed_bytes(), "plan_de_mejora.csv")
    assert [(r.label, r.number) for r in rows] == [(e.label, e.number) for e in EXPECTED]
    assert [r.row for r in rows] == list(range(2, 15))
    for row, expected in zip(rows, EXPECTED, strict=True):
        assert row.action == expected.text
        assert row.deadline == expected.deadline
        assert row.responsible == expected.responsible
        assert row.follow_up_comment == expected.comment
        assert row.follow_up_status is None and row.review_status is None
        assert row.review_comment == ""


async def test_demo_plan_matches_the_seed(session: AsyncSession) -> None:
    report = await load_demo_plan(session)
    await session.commit()

    assert report.created
    assert report.recommendations == 6
    assert report.actions_added == 13
    assert report.comments_added == 5
    assert report.statuses_changed == 0
    assert report.unparsed_deadlines == []

    plan = await session.get(Plan, report.plan_id)
    assert plan is not None
    assert (plan.title, plan.programme, plan.evaluation, plan.source_file) == (
        DEMO_TITLE,
        DEMO_PROGRAMME,
        DEMO_EVALUATION,
        "plan_de_mejora.csv",
    )
    recs = (
        await session.scalars(
            select(Recommendation)
            .where(Recommendation.plan_id == plan.id)
            .order_by(Recommendation.position)
        )
    ).all()
    assert [r.label for r in recs] == LABELS
    assert [r.position for r in recs] == [1, 2, 3, 4, 5, 6]
    by_label = {r.label: r for r in recs}
    _check_recommendation_texts(by_label)

    actions = (
        await session.scalars(
            select(KeyAction)
            .where(KeyAction.plan_id == plan.id)
            .order_by(KeyAction.position, KeyAction.number)
        )
    ).all()
    assert len(actions) == 13
    label_of = {r.id: r.label for r in recs}
    comments = (await session.scalars(select(Comment).order_by(Comment.id))).all()
    comment_of = {c.action_id: c for c in comments}
    assert len(comments) == 5
    for action, expected in zip(actions, EXPECTED, strict=True):
        where = f"{expected.label}.{expected.number}"
        assert (label_of[action.recommendation_id], action.number) == (
            expected.label,
            expected.number,
        ), where
        assert action.position == by_label[expected.label].position, where
        assert action.text == expected.text, where
        assert action.deadline_text == expected.deadline, where
        assert action.deadline_kind == expected.kind, where
        assert action.deadline_due == expected.due, where
        assert action.responsible_text == expected.responsible, where
        assert {u.name for u in action.units} == expected.units, where
        assert action.status == "not_started" and action.review_status == "pending", where
        comment = comment_of.get(action.id)
        if expected.comment:
            assert comment is not None, where
            assert (comment.text, comment.kind, comment.author_id) == (
                expected.comment,
                CommentKind.FOLLOW_UP,
                None,
            ), where
            assert action.last_update_at is not None
        else:
            assert comment is None, where
    assert next(a for a in actions if a.deadline_kind == "from_date").deadline_start == dt.date(
        2012, 1, 1
    )


def _check_recommendation_texts(by_label: dict[str, Recommendation]) -> None:
    first = by_label["1"]
    assert first.text == (
        "1. Mantener el PC con cambios en las estructuras de actividades y procesos de toma de "
        "decisión. Considerar la conveniencia de ampliar el periodo de ejecución en seis meses."
    )
    assert first.management_response.split("\n") == [
        "En octubre del 2011, la CR instruye a pequeño comité a presentar al CGPC una revisión "
        "del POA 2012 que tome en cuenta las recomendaciones del evaluador.",
        "En diciembre del 2011, el CDN acuerda que no aprobará el POA 2012 si el mismo no toma "
        "en cuenta las recomendaciones del evaluador.",
    ]
    two, three = by_label["2 y 3"].text.split("\n\n")
    assert two.startswith("2. Concentrar los esfuerzos") and two.endswith("sector empresarial.")
    assert three.startswith("3. ¿Cómo llevar a cabo estos cambios? Reduciendo el alcance")
    assert "“socialización” de dichos procedimientos" in three
    assert three.endswith("la comunicación, etc.")
    assert by_label["4"].text.endswith(
        "Aprovechar el recurso humano de las regiones en las asistencias técnicas"
    )
    assert "para “insertarlos” en el proceso de Mi Empresa" in by_label["5"].text
    assert by_label["5"].management_response == (
        "Se hará esfuerzo por favorecer mayor alineamiento con programas nacionales. Se hace "
        "afinamiento de sujetos de derecho para que estos comprendan emprendimientos "
        "financiados y por financiar. Resto de actores podrán ser beneficiarios indirectos del "
        "PC."
    )
    management, suggestions = by_label["6"].text.split("\n")
    assert management.startswith("Sobre la gestión: (i) es imprescindible")
    assert suggestions.startswith("Sugerencias del evaluador: Agilizar")
    discuss, compare = by_label["7 y 8"].text.split("\n\n")
    assert discuss.startswith("Discutir la posición global") and discuss.endswith("etc.")
    assert compare.endswith("los cuatro programas de Perú.")
    for label in ("2 y 3", "4", "6", "7 y 8"):
        assert by_label[label].management_response == "", label


async def test_loading_the_demo_plan_twice_changes_nothing(session: AsyncSession) -> None:
    first = await load_demo_plan(session)
    await session.commit()
    plan = await session.get(Plan, first.plan_id)
    assert plan is not None
    updated_at = plan.updated_at

    second = await load_demo_plan(session)
    await session.commit()

    assert second.plan_id == first.plan_id
    assert not second.created
    assert (second.actions_added, second.actions_updated, second.actions_unchanged) == (0, 0, 13)
    assert (second.actions_removed, second.actions_kept_missing) == (0, 0)
    assert (second.comments_added, second.statuses_changed) == (0, 0)
    assert not second.changed
    assert await session.scalar(select(func.count()).select_from(Plan)) == 1
    assert await session.scalar(select(func.count()).select_from(KeyAction)) == 13
    assert await session.scalar(select(func.count()).select_from(Comment)) == 5
    assert await session.scalar(select(func.count()).select_from(StatusChange)) == 0
    await session.refresh(plan)
    assert plan.updated_at == updated_at
