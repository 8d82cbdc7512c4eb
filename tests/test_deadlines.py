import datetime as dt

import pytest

from storage.deadlines import DeadlineKind, parse_deadline

D = dt.date
K = DeadlineKind

CASES = [
    # The seed's phrases, as the PDF dump writes them (line breaks inside).
    ("Enero 2012", K.MONTH, D(2012, 1, 1), D(2012, 1, 31)),
    ("Enero \n2012", K.MONTH, D(2012, 1, 1), D(2012, 1, 31)),
    ("ENE 2012", K.MONTH, D(2012, 1, 1), D(2012, 1, 31)),
    ("28 febrero \n2012", K.DATE, D(2012, 2, 28), D(2012, 2, 28)),
    ("Diciembre \n2011 – \nenero 2012", K.RANGE, D(2011, 12, 1), D(2012, 1, 31)),
    ("Primer \nsemestre \n2012", K.SEMESTER, D(2012, 1, 1), D(2012, 6, 30)),
    ("A partir \nde enero \n2012", K.FROM_DATE, D(2012, 1, 1), None),
    ("A la \nrecepción \ndel tercer \ndesembols\no", K.EVENT, None, None),
    ("A la recepción del tercer desembolso", K.EVENT, None, None),
    ("Febrero \n2012", K.MONTH, D(2012, 2, 1), D(2012, 2, 29)),
    # What real plans also say.
    ("Marzo 2012", K.MONTH, D(2012, 3, 1), D(2012, 3, 31)),
    ("Marzo de 2012", K.MONTH, D(2012, 3, 1), D(2012, 3, 31)),
    ("SET. 2012", K.MONTH, D(2012, 9, 1), D(2012, 9, 30)),
    ("2do trimestre 2012", K.QUARTER, D(2012, 4, 1), D(2012, 6, 30)),
    ("Cuarto trimestre de 2012", K.QUARTER, D(2012, 10, 1), D(2012, 12, 31)),
    ("T3 2012", K.QUARTER, D(2012, 7, 1), D(2012, 9, 30)),
    ("Q1 2013", K.QUARTER, D(2013, 1, 1), D(2013, 3, 31)),
    ("15/03/2012", K.DATE, D(2012, 3, 15), D(2012, 3, 15)),
    ("15-03-2012", K.DATE, D(2012, 3, 15), D(2012, 3, 15)),
    ("2012-03-15", K.DATE, D(2012, 3, 15), D(2012, 3, 15)),
    ("28 de febrero de 2012", K.DATE, D(2012, 2, 28), D(2012, 2, 28)),
    ("Al 31 de marzo 2012", K.DATE, D(2012, 3, 31), D(2012, 3, 31)),
    ("Segundo semestre de 2012", K.SEMESTER, D(2012, 7, 1), D(2012, 12, 31)),
    ("1er semestre 2012", K.SEMESTER, D(2012, 1, 1), D(2012, 6, 30)),
    ("2° semestre 2012", K.SEMESTER, D(2012, 7, 1), D(2012, 12, 31)),
    ("I semestre 2012", K.SEMESTER, D(2012, 1, 1), D(2012, 6, 30)),
    ("enero a marzo 2012", K.RANGE, D(2012, 1, 1), D(2012, 3, 31)),
    ("Entre enero y marzo de 2012", K.RANGE, D(2012, 1, 1), D(2012, 3, 31)),
    ("diciembre 2011 - enero 2012", K.RANGE, D(2011, 12, 1), D(2012, 1, 31)),
    ("Desde febrero 2012", K.FROM_DATE, D(2012, 2, 1), None),
    ("A partir del 15/03/2012", K.FROM_DATE, D(2012, 3, 15), None),
    ("Al cierre del programa", K.EVENT, None, None),
    ("Al final del PC", K.EVENT, None, None),
    ("Una vez aprobado el POA", K.EVENT, None, None),
    ("Permanente", K.ONGOING, None, None),
    ("Continuo", K.ONGOING, None, None),
    ("Durante todo el programa", K.ONGOING, None, None),
    ("2012", K.RANGE, D(2012, 1, 1), D(2012, 12, 31)),
    ("ene-12", K.MONTH, D(2012, 1, 1), D(2012, 1, 31)),
    # English.
    ("January 2012", K.MONTH, D(2012, 1, 1), D(2012, 1, 31)),
    ("March 15, 2012", K.DATE, D(2012, 3, 15), D(2012, 3, 15)),
    ("Second quarter 2012", K.QUARTER, D(2012, 4, 1), D(2012, 6, 30)),
    ("Upon receipt of the third disbursement", K.EVENT, None, None),
    ("Ongoing", K.ONGOING, None, None),
    # Kept as text, never an error.
    ("31/02/2012", K.UNKNOWN, None, None),
    ("Tercer semestre 2012", K.UNKNOWN, None, None),
    ("cuando se pueda, tal vez", K.EVENT, None, None),
    ("sin definir", K.UNKNOWN, None, None),
    ("", K.UNKNOWN, None, None),
]


@pytest.mark.parametrize(("text", "kind", "start", "due"), CASES)
def test_parse_deadline(text, kind, start, due):
    deadline = parse_deadline(text)
    assert (deadline.kind, deadline.start, deadline.due) == (kind, start, due)
    assert deadline.text == text.strip()


def test_none_and_flags():
    assert parse_deadline(None).kind == DeadlineKind.UNKNOWN
    assert parse_deadline("A la recepción del tercer desembolso").is_conditional
    assert parse_deadline("Enero 2012").is_dated
    assert not parse_deadline("Permanente").is_dated
