"""`storage.deadlines.parse_deadline`: one row per phrase (text, kind, start, due)."""

import dataclasses
import datetime as dt

import pytest

from storage.deadlines import Deadline, DeadlineKind, parse_deadline

D = dt.date
K = DeadlineKind

# The seed plan's phrases exactly as the PDF dump writes them, line breaks included.
SEED = [
    ("Enero 2012", K.MONTH, D(2012, 1, 1), D(2012, 1, 31)),
    ("Enero \n2012", K.MONTH, D(2012, 1, 1), D(2012, 1, 31)),
    ("ENE 2012", K.MONTH, D(2012, 1, 1), D(2012, 1, 31)),
    ("28 febrero \n2012", K.DATE, D(2012, 2, 28), D(2012, 2, 28)),
    ("Diciembre \n2011 – \nenero 2012", K.RANGE, D(2011, 12, 1), D(2012, 1, 31)),
    ("Primer \nsemestre \n2012", K.SEMESTER, D(2012, 1, 1), D(2012, 6, 30)),
    ("A partir \nde enero \n2012", K.FROM_DATE, D(2012, 1, 1), None),
    ("A la \nrecepción \ndel tercer \ndesembols\no", K.EVENT, None, None),
    ("Febrero \n2012", K.MONTH, D(2012, 2, 1), D(2012, 2, 29)),
    # The same, once the import has joined the lines.
    ("Diciembre 2011 – enero 2012", K.RANGE, D(2011, 12, 1), D(2012, 1, 31)),
    ("A la recepción del tercer desembolso", K.EVENT, None, None),
]

MONTHS = [
    ("Marzo 2012", K.MONTH, D(2012, 3, 1), D(2012, 3, 31)),
    ("Marzo de 2012", K.MONTH, D(2012, 3, 1), D(2012, 3, 31)),
    ("Diciembre del 2011", K.MONTH, D(2011, 12, 1), D(2011, 12, 31)),
    ("Marzo, 2012", K.MONTH, D(2012, 3, 1), D(2012, 3, 31)),
    ("MARZO 2012", K.MONTH, D(2012, 3, 1), D(2012, 3, 31)),
    ("Setiembre 2012", K.MONTH, D(2012, 9, 1), D(2012, 9, 30)),
    ("Septiembre 2012", K.MONTH, D(2012, 9, 1), D(2012, 9, 30)),
    ("FEB 2012", K.MONTH, D(2012, 2, 1), D(2012, 2, 29)),
    ("Abr. 2012", K.MONTH, D(2012, 4, 1), D(2012, 4, 30)),
    ("AGO 2012", K.MONTH, D(2012, 8, 1), D(2012, 8, 31)),
    ("SET. 2012", K.MONTH, D(2012, 9, 1), D(2012, 9, 30)),
    ("SEP 2012", K.MONTH, D(2012, 9, 1), D(2012, 9, 30)),
    ("DIC. 2011", K.MONTH, D(2011, 12, 1), D(2011, 12, 31)),
    ("03/2012", K.MONTH, D(2012, 3, 1), D(2012, 3, 31)),
    ("2012-03", K.MONTH, D(2012, 3, 1), D(2012, 3, 31)),
    ("Marzo 2012 (tentativo)", K.MONTH, D(2012, 3, 1), D(2012, 3, 31)),
    ('"Enero 2012".', K.MONTH, D(2012, 1, 1), D(2012, 1, 31)),
    ("Diciem\nbre \n2011", K.MONTH, D(2011, 12, 1), D(2011, 12, 31)),
]

TWO_DIGIT_YEARS = [
    ("ene-12", K.MONTH, D(2012, 1, 1), D(2012, 1, 31)),
    ("Enero 12", K.MONTH, D(2012, 1, 1), D(2012, 1, 31)),
    ("dic-99", K.MONTH, D(1999, 12, 1), D(1999, 12, 31)),
    ("Enero 69", K.MONTH, D(2069, 1, 1), D(2069, 1, 31)),
    ("Enero 70", K.MONTH, D(1970, 1, 1), D(1970, 1, 31)),
    ("15/3/12", K.DATE, D(2012, 3, 15), D(2012, 3, 15)),
]

DATES = [
    ("28 febrero 2012", K.DATE, D(2012, 2, 28), D(2012, 2, 28)),
    ("28 de febrero de 2012", K.DATE, D(2012, 2, 28), D(2012, 2, 28)),
    ("29 de febrero de 2012", K.DATE, D(2012, 2, 29), D(2012, 2, 29)),
    ("1° de marzo de 2012", K.DATE, D(2012, 3, 1), D(2012, 3, 1)),
    ("Lunes 15 de marzo de 2012", K.DATE, D(2012, 3, 15), D(2012, 3, 15)),
    ("15/03/2012", K.DATE, D(2012, 3, 15), D(2012, 3, 15)),
    ("15-03-2012", K.DATE, D(2012, 3, 15), D(2012, 3, 15)),
    ("15.03.2012", K.DATE, D(2012, 3, 15), D(2012, 3, 15)),
    ("2012-03-15", K.DATE, D(2012, 3, 15), D(2012, 3, 15)),
    ("2012/03/15", K.DATE, D(2012, 3, 15), D(2012, 3, 15)),
    # A date after "al", "hasta", "antes del"... wins over the event words.
    ("Al 31 de marzo 2012", K.DATE, D(2012, 3, 31), D(2012, 3, 31)),
    ("Al 31 de marzo de 2012", K.DATE, D(2012, 3, 31), D(2012, 3, 31)),
    ("Antes del 31/03/2012", K.DATE, D(2012, 3, 31), D(2012, 3, 31)),
    ("Hasta el 30 de junio de 2012", K.DATE, D(2012, 6, 30), D(2012, 6, 30)),
    ("A más tardar el 30 de junio de 2012", K.DATE, D(2012, 6, 30), D(2012, 6, 30)),
    ("Fecha límite: 15/03/2012", K.DATE, D(2012, 3, 15), D(2012, 3, 15)),
    ("Hasta marzo 2012", K.MONTH, D(2012, 3, 1), D(2012, 3, 31)),
    ("A fines de marzo 2012", K.MONTH, D(2012, 3, 1), D(2012, 3, 31)),
    ("En marzo 2012", K.MONTH, D(2012, 3, 1), D(2012, 3, 31)),
    ("Al final del 2012", K.RANGE, D(2012, 1, 1), D(2012, 12, 31)),
]

RANGES = [
    ("Diciembre 2011 – enero 2012", K.RANGE, D(2011, 12, 1), D(2012, 1, 31)),
    ("Diciembre 2011 — enero 2012", K.RANGE, D(2011, 12, 1), D(2012, 1, 31)),
    ("diciembre 2011 - enero 2012", K.RANGE, D(2011, 12, 1), D(2012, 1, 31)),
    ("Diciembre 2011–enero 2012", K.RANGE, D(2011, 12, 1), D(2012, 1, 31)),
    ("enero a marzo 2012", K.RANGE, D(2012, 1, 1), D(2012, 3, 31)),
    ("De enero a marzo de 2012", K.RANGE, D(2012, 1, 1), D(2012, 3, 31)),
    ("enero hasta marzo 2012", K.RANGE, D(2012, 1, 1), D(2012, 3, 31)),
    ("ene-mar 2012", K.RANGE, D(2012, 1, 1), D(2012, 3, 31)),
    ("ene-12 - mar-12", K.RANGE, D(2012, 1, 1), D(2012, 3, 31)),
    ("Entre enero y marzo de 2012", K.RANGE, D(2012, 1, 1), D(2012, 3, 31)),
    ("Desde enero hasta marzo 2012", K.RANGE, D(2012, 1, 1), D(2012, 3, 31)),
    ("diciembre a enero 2012", K.RANGE, D(2011, 12, 1), D(2012, 1, 31)),
    ("Primer semestre 2012 – marzo 2013", K.RANGE, D(2012, 1, 1), D(2013, 3, 31)),
    ("del 1 al 15 de marzo de 2012", K.RANGE, D(2012, 3, 1), D(2012, 3, 15)),
    ("15 de enero al 15 de marzo de 2012", K.RANGE, D(2012, 1, 15), D(2012, 3, 15)),
    ("15/01/2012 - 15/03/2012", K.RANGE, D(2012, 1, 15), D(2012, 3, 15)),
    ("15/01/2012-15/03/2012", K.RANGE, D(2012, 1, 15), D(2012, 3, 15)),
    ("2011-2012", K.RANGE, D(2011, 1, 1), D(2012, 12, 31)),
    ("2011 – 2012", K.RANGE, D(2011, 1, 1), D(2012, 12, 31)),
    # A bare year is a RANGE over the whole year.
    ("2012", K.RANGE, D(2012, 1, 1), D(2012, 12, 31)),
    ("Año 2012", K.RANGE, D(2012, 1, 1), D(2012, 12, 31)),
    ("Durante 2012", K.RANGE, D(2012, 1, 1), D(2012, 12, 31)),
]

SEMESTERS = [
    ("Primer semestre 2012", K.SEMESTER, D(2012, 1, 1), D(2012, 6, 30)),
    ("1er semestre 2012", K.SEMESTER, D(2012, 1, 1), D(2012, 6, 30)),
    ("1er. semestre 2012", K.SEMESTER, D(2012, 1, 1), D(2012, 6, 30)),
    ("I semestre 2012", K.SEMESTER, D(2012, 1, 1), D(2012, 6, 30)),
    ("Semestre I 2012", K.SEMESTER, D(2012, 1, 1), D(2012, 6, 30)),
    ("S1 2012", K.SEMESTER, D(2012, 1, 1), D(2012, 6, 30)),
    ("Primer semestre del año 2012", K.SEMESTER, D(2012, 1, 1), D(2012, 6, 30)),
    ("Segundo semestre de 2012", K.SEMESTER, D(2012, 7, 1), D(2012, 12, 31)),
    ("SEGUNDO SEMESTRE 2012", K.SEMESTER, D(2012, 7, 1), D(2012, 12, 31)),
    ("2do semestre 2012", K.SEMESTER, D(2012, 7, 1), D(2012, 12, 31)),
    ("2° semestre 2012", K.SEMESTER, D(2012, 7, 1), D(2012, 12, 31)),
    ("2º semestre 2012", K.SEMESTER, D(2012, 7, 1), D(2012, 12, 31)),
    ("II semestre 2012", K.SEMESTER, D(2012, 7, 1), D(2012, 12, 31)),
    ("Second half 2012", K.SEMESTER, D(2012, 7, 1), D(2012, 12, 31)),
]

QUARTERS = [
    ("Primer trimestre 2012", K.QUARTER, D(2012, 1, 1), D(2012, 3, 31)),
    ("Segundo trimestre 2012", K.QUARTER, D(2012, 4, 1), D(2012, 6, 30)),
    ("Tercer trimestre 2012", K.QUARTER, D(2012, 7, 1), D(2012, 9, 30)),
    ("Cuarto trimestre de 2012", K.QUARTER, D(2012, 10, 1), D(2012, 12, 31)),
    ("1er trimestre 2012", K.QUARTER, D(2012, 1, 1), D(2012, 3, 31)),
    ("2do trimestre 2012", K.QUARTER, D(2012, 4, 1), D(2012, 6, 30)),
    ("3er trimestre 2012", K.QUARTER, D(2012, 7, 1), D(2012, 9, 30)),
    ("4to trimestre 2012", K.QUARTER, D(2012, 10, 1), D(2012, 12, 31)),
    ("T2 2012", K.QUARTER, D(2012, 4, 1), D(2012, 6, 30)),
    ("T3 2012", K.QUARTER, D(2012, 7, 1), D(2012, 9, 30)),
    ("Q2 2012", K.QUARTER, D(2012, 4, 1), D(2012, 6, 30)),
    ("Q1 2013", K.QUARTER, D(2013, 1, 1), D(2013, 3, 31)),
    ("Q2-2012", K.QUARTER, D(2012, 4, 1), D(2012, 6, 30)),
    ("2012 Q2", K.QUARTER, D(2012, 4, 1), D(2012, 6, 30)),
    ("first quarter of 2012", K.QUARTER, D(2012, 1, 1), D(2012, 3, 31)),
    ("1st quarter 2012", K.QUARTER, D(2012, 1, 1), D(2012, 3, 31)),
]

FROM_DATES = [
    ("A partir de enero 2012", K.FROM_DATE, D(2012, 1, 1), None),
    ("A PARTIR DE ENERO 2012", K.FROM_DATE, D(2012, 1, 1), None),
    ("Desde febrero 2012", K.FROM_DATE, D(2012, 2, 1), None),
    ("A partir del 15/03/2012", K.FROM_DATE, D(2012, 3, 15), None),
    ("A partir de 2012", K.FROM_DATE, D(2012, 1, 1), None),
    ("Desde el segundo semestre 2012", K.FROM_DATE, D(2012, 7, 1), None),
    ("Starting from March 2012", K.FROM_DATE, D(2012, 3, 1), None),
]

EVENTS = [
    ("Al cierre del programa", K.EVENT, None, None),
    ("Al final del PC", K.EVENT, None, None),
    ("A la aprobación del POA", K.EVENT, None, None),
    ("Cuando se apruebe el presupuesto", K.EVENT, None, None),
    ("Tras la firma del convenio", K.EVENT, None, None),
    ("Después de la evaluación", K.EVENT, None, None),
    ("Despues de la evaluacion", K.EVENT, None, None),
    ("Una vez aprobado el POA", K.EVENT, None, None),
    ("Antes del cierre del programa", K.EVENT, None, None),
    ("Hasta el cierre del programa", K.EVENT, None, None),
    ("Upon receipt of the third disbursement", K.EVENT, None, None),
    ("After approval of the work plan", K.EVENT, None, None),
    ("When funds arrive", K.EVENT, None, None),
]

ONGOING = [
    ("Permanente", K.ONGOING, None, None),
    ("PERMANENTE", K.ONGOING, None, None),
    ("Continuo", K.ONGOING, None, None),
    ("Continua", K.ONGOING, None, None),
    ("Continúa", K.ONGOING, None, None),
    ("En curso", K.ONGOING, None, None),
    ("Durante todo el programa", K.ONGOING, None, None),
    ("Ongoing", K.ONGOING, None, None),
    ("Continuous", K.ONGOING, None, None),
    ("Anual", K.ONGOING, None, None),
]

ENGLISH = [
    ("January 2012", K.MONTH, D(2012, 1, 1), D(2012, 1, 31)),
    ("Jan 2012", K.MONTH, D(2012, 1, 1), D(2012, 1, 31)),
    ("Jan. 2012", K.MONTH, D(2012, 1, 1), D(2012, 1, 31)),
    ("Sept 2012", K.MONTH, D(2012, 9, 1), D(2012, 9, 30)),
    ("December 2011", K.MONTH, D(2011, 12, 1), D(2011, 12, 31)),
    ("March 15, 2012", K.DATE, D(2012, 3, 15), D(2012, 3, 15)),
    ("March 15th, 2012", K.DATE, D(2012, 3, 15), D(2012, 3, 15)),
    ("15 of March 2012", K.DATE, D(2012, 3, 15), D(2012, 3, 15)),
    ("From January to March 2012", K.RANGE, D(2012, 1, 1), D(2012, 3, 31)),
    ("By March 2012", K.MONTH, D(2012, 3, 1), D(2012, 3, 31)),
    ("By the end of 2012", K.RANGE, D(2012, 1, 1), D(2012, 12, 31)),
    ("Second quarter 2012", K.QUARTER, D(2012, 4, 1), D(2012, 6, 30)),
]

UNKNOWN = [
    # Impossible days and parts.
    ("31/02/2012", K.UNKNOWN, None, None),
    ("31-02-2012", K.UNKNOWN, None, None),
    ("31 de febrero de 2012", K.UNKNOWN, None, None),
    ("29 de febrero de 2011", K.UNKNOWN, None, None),
    ("2012-02-30", K.UNKNOWN, None, None),
    ("2012-13-01", K.UNKNOWN, None, None),
    ("32/01/2012", K.UNKNOWN, None, None),
    ("Tercer semestre 2012", K.UNKNOWN, None, None),
    ("Quinto trimestre 2012", K.UNKNOWN, None, None),
    ("T5 2012", K.UNKNOWN, None, None),
    ("marzo 2012 - enero 2012", K.UNKNOWN, None, None),
    # Years out of range (never an exception).
    ("Enero 0000", K.UNKNOWN, None, None),
    ("0000", K.UNKNOWN, None, None),
    ("Año 0000", K.UNKNOWN, None, None),
    ("1500", K.UNKNOWN, None, None),
    # No year: nothing is guessed.
    ("Enero", K.UNKNOWN, None, None),
    ("Primer semestre", K.UNKNOWN, None, None),
    # Garbage and other text.
    ("sin definir", K.UNKNOWN, None, None),
    ("Por definir", K.UNKNOWN, None, None),
    ("Inmediato", K.UNKNOWN, None, None),
    ("Continuar la implementación", K.UNKNOWN, None, None),
    ("1 a 2 meses", K.UNKNOWN, None, None),
    ("POA 2012", K.UNKNOWN, None, None),
    ("xx/yy/zzzz", K.UNKNOWN, None, None),
    ("¿?", K.UNKNOWN, None, None),
    ("-", K.UNKNOWN, None, None),
    ("", K.UNKNOWN, None, None),
    ("   \n ", K.UNKNOWN, None, None),
]

CASES = (
    SEED
    + MONTHS
    + TWO_DIGIT_YEARS
    + DATES
    + RANGES
    + SEMESTERS
    + QUARTERS
    + FROM_DATES
    + EVENTS
    + ONGOING
    + ENGLISH
    + UNKNOWN
)


@pytest.mark.parametrize(("text", "kind", "start", "due"), CASES)
def test_parse_deadline(text: str, kind: DeadlineKind, start: dt.date, due: dt.date) -> None:
    deadline = parse_deadline(text)
    assert (deadline.kind, deadline.start, deadline.due) == (kind, start, due)
    assert deadline.text == text.strip()


def test_the_text_is_kept_as_given_only_stripped() -> None:
    text = "  Diciembre \n2011 – \nenero 2012 \n"
    assert parse_deadline(text).text == "Diciembre \n2011 – \nenero 2012"
    assert parse_deadline("  cualquier cosa  ").text == "cualquier cosa"


@pytest.mark.parametrize("text", [None, "", "  \n\t "])
def test_nothing_is_unknown_with_an_empty_text(text: str | None) -> None:
    assert parse_deadline(text) == Deadline("", DeadlineKind.UNKNOWN, None, None)


@pytest.mark.parametrize(
    ("text", "dated", "conditional"),
    [
        ("Enero 2012", True, False),
        ("15/03/2012", True, False),
        ("Primer semestre 2012", True, False),
        ("A partir de enero 2012", False, False),
        ("A la recepción del tercer desembolso", False, True),
        ("Permanente", False, False),
        ("sin definir", False, False),
    ],
)
def test_flags(text: str, dated: bool, conditional: bool) -> None:
    deadline = parse_deadline(text)
    assert deadline.is_dated is dated
    assert deadline.is_conditional is conditional


def test_deadline_is_frozen_and_kinds_are_strings() -> None:
    deadline = parse_deadline("Enero 2012")
    with pytest.raises(dataclasses.FrozenInstanceError):
        deadline.kind = DeadlineKind.DATE  # type: ignore[misc]
    assert deadline.kind == "month"
    assert [kind.value for kind in DeadlineKind] == [
        "date",
        "month",
        "range",
        "quarter",
        "semester",
        "from_date",
        "event",
        "ongoing",
        "unknown",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "99/99/9999",
        "0/0/0",
        "2012-00-00",
        "Enero 99999",
        "9999-12-31",
        "ene-00 - dic-99",
        "1 - " * 500 + "2012",
        "Al cierre, a la recepción - y - hasta " * 50,
        "\x00\x01\ufeff",
        "½ ² ³ ℃ ﬁ",
        "(((((",
        "T0 2012",
        "0 de enero de 2012",
    ],
)
def test_never_raises(text: str) -> None:
    deadline = parse_deadline(text)
    assert deadline.text == text.strip()
    if deadline.start and deadline.due:
        assert deadline.start <= deadline.due
