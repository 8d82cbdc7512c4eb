"""The one folding rule, and the plan file's labels read from the catalogs."""

from storage.plan_files.vocabulary import (
    HEADER_LABELS,
    HEADER_LOOKUP,
    Field,
    column_headers,
    match_key,
)
from storage.text import fold


def test_fold_ignores_case_accents_and_extra_spaces():
    assert fold("  Acción\u00a0CLAVE\n Nº ") == "accion clave no"
    assert fold("Straße") == "strasse"
    assert fold("Coordinación del PC.") == "coordinacion del pc."


def test_plan_headers_come_from_the_catalogs_in_each_language():
    assert column_headers("en") == HEADER_LABELS
    assert column_headers("es")[Field.LABEL] == "Recomendación Nº"
    for locale in ("es", "en"):
        for column, header in column_headers(locale).items():
            assert HEADER_LOOKUP[match_key(header)] == column
