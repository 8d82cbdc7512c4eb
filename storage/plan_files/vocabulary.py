"""The words of a plan spreadsheet: column headers, status words, sheet and metadata labels.

Every label is an English message id marked with `N_`; its Spanish lives in the catalogs
(`locales/*/LC_MESSAGES/plan_files.po`). Reading accepts a label in every supported language,
plus the synonyms listed here (spellings found in real plans that are not a translation of the
label); writing uses the label of the requested language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import StrEnum

from locales import DEFAULT_LOCALE, N_, SUPPORTED, translations
from storage.attachments import KIND_LABELS
from storage.models import CommentKind, ReviewStatus, Status
from storage.text import fold


class Field(StrEnum):
    """The columns of a plan spreadsheet, in the order they are written."""

    LABEL = "label"
    RECOMMENDATION = "recommendation"
    RESPONSE = "management_response"
    NUMBER = "number"
    ACTION = "action"
    DEADLINE = "deadline"
    RESPONSIBLE = "responsible"
    FOLLOW_UP_COMMENT = "follow_up_comment"
    FOLLOW_UP_STATUS = "follow_up_status"
    REVIEW_COMMENT = "review_comment"
    REVIEW_STATUS = "review_status"


REQUIRED_FIELDS = (Field.LABEL, Field.ACTION, Field.DEADLINE, Field.RESPONSIBLE)

HEADER_LABELS: dict[Field, str] = {
    Field.LABEL: N_("Recommendation no."),
    Field.RECOMMENDATION: N_("Recommendation"),
    Field.RESPONSE: N_("Management response"),
    Field.NUMBER: N_("Key action no."),
    Field.ACTION: N_("Key action"),
    Field.DEADLINE: N_("Deadline (Time-frame)"),
    Field.RESPONSIBLE: N_("Responsible unit(s)"),
    Field.FOLLOW_UP_COMMENT: N_("Follow-up comments"),
    Field.FOLLOW_UP_STATUS: N_("Follow-up status"),
    Field.REVIEW_COMMENT: N_("Review comments"),
    Field.REVIEW_STATUS: N_("Review status"),
}
#: Other headers read as a column: spellings of real plans that no catalog translates.
HEADER_SYNONYMS: dict[Field, tuple[str, ...]] = {
    Field.LABEL: (
        "Recomendación N°",
        "Recomendación no.",
        "Recomendación número",
        "Nº recomendación",
        "Nº",
        "N°",
        "No.",
        "Número",
        "Recommendation number",
        "Recommendation n°",
    ),
    Field.RECOMMENDATION: (
        "Recomendaciones",
        "Recomendación de la evaluación",
        "Recommendations",
        "Evaluation recommendation",
    ),
    Field.RESPONSE: (
        "Respuesta de la gerencia",
        "Respuesta de la gestión del Programa Conjunto",
        "Respuesta",
    ),
    Field.NUMBER: (
        "Acción clave N°",
        "Acción clave no.",
        "Nº acción clave",
        "Nº acción",
        "Acción Nº",
        "Key action number",
        "Action no.",
    ),
    Field.ACTION: ("Acciones clave", "Acción", "Key actions", "Action"),
    Field.DEADLINE: ("Plazos", "Fecha límite", "Deadline", "Time-frame", "Timeframe"),
    Field.RESPONSIBLE: (
        "Responsables",
        "Unidad responsable",
        "Unidades responsables",
        "Responsible",
        "Responsible unit",
        "Responsible units",
    ),
    Field.FOLLOW_UP_COMMENT: (
        "Comentarios",
        "Seguimiento",
        "Comentarios de seguimiento",
        "Comments",
        "Follow-up",
        "Follow-up - Comments",
    ),
    Field.FOLLOW_UP_STATUS: ("Estado", "Estado de seguimiento", "Status", "Follow-up - Status"),
    Field.REVIEW_COMMENT: (
        "Secretariado",
        "Comentarios del secretariado",
        "Secretariat comments",
        "Secretariat - Comments",
        "Secretariat",
    ),
    Field.REVIEW_STATUS: (
        "Estado del secretariado",
        "Estado de revisión",
        "Secretariat status",
        "Secretariat - Status",
    ),
}

#: A second "Comentarios"/"Estado" column (the original table repeats them under "Seguimiento"
#: and "Secretariado") is the secretariat's.
SECOND_OCCURRENCE = {
    Field.FOLLOW_UP_COMMENT: Field.REVIEW_COMMENT,
    Field.FOLLOW_UP_STATUS: Field.REVIEW_STATUS,
}
#: The match keys of the headers that may stand for either of two columns.
AMBIGUOUS_HEADERS = {"comentarios", "comments", "estado", "status"}

#: The value a status cell "Vencida"/"Overdue" is read as: the action is not completed.
OVERDUE = "overdue"

STATUS_LABELS: dict[str, str] = {
    Status.NOT_STARTED: N_("Not started"),
    Status.IN_PROGRESS: N_("In progress"),
    Status.COMPLETED: N_("Completed"),
    Status.NOT_APPLICABLE: N_("No longer applicable"),
}
REVIEW_LABELS: dict[str, str] = {
    ReviewStatus.PENDING: N_("Pending review"),
    ReviewStatus.VALIDATED: N_("Validated"),
    ReviewStatus.OBSERVED: N_("With observations"),
}
#: Read, never written: the status cell of an action past its deadline.
OVERDUE_LABEL = N_("Overdue")
#: Other status words read (besides the labels in every language and the stored values).
STATUS_SYNONYMS: dict[str, tuple[str, ...]] = {
    Status.NOT_STARTED: ("No iniciado", "Sin iniciar"),
    Status.IN_PROGRESS: ("En proceso", "Ongoing"),
    Status.COMPLETED: ("Completado", "Cumplida", "Cumplido", "Done"),
    Status.NOT_APPLICABLE: ("No aplica", "Not applicable", "N/A"),
    OVERDUE: ("Vencido",),
}
REVIEW_SYNONYMS: dict[str, tuple[str, ...]] = {
    ReviewStatus.PENDING: ("Pendiente", "Pending"),
    ReviewStatus.VALIDATED: ("Validada",),
    ReviewStatus.OBSERVED: ("Observado", "Observada", "Observed"),
}

#: What the history sheet writes for the stored values that are not statuses.
HISTORY_LABELS: dict[str, str] = {
    CommentKind.FOLLOW_UP: N_("Follow-up - Comment"),
    CommentKind.REVIEW: N_("Secretariat - Comment"),
    "status": N_("Follow-up - Status"),
    "review_status": N_("Secretariat - Status"),
    "imported": N_("(imported)"),
}
#: Every stored value the export writes as a word.
VALUE_LABELS: dict[str, str] = {
    **STATUS_LABELS,
    **REVIEW_LABELS,
    **HISTORY_LABELS,
    **KIND_LABELS,  # the kinds of attachments: "🎤 voice note"...
}

HISTORY_TITLES = (
    N_("Date ({zone})"),
    HEADER_LABELS[Field.LABEL],
    HEADER_LABELS[Field.NUMBER],
    N_("Type"),
    N_("Author"),
    N_("Text"),
    N_("Attachments"),
)

#: Not translated: the sheet names of the original table, whatever the reader's language.
MAIN_SHEET_TITLE = "Plan de mejora"
HISTORY_SHEET_LABEL = N_("History")
#: Not translated: `read_plan_metadata` finds the sheet by this name.
METADATA_SHEET_TITLE = "Plan"
METADATA_LABELS: dict[str, str] = {
    "title": N_("Title"),
    "programme": N_("Programme"),
    "evaluation": N_("Evaluation"),
    "source_file": N_("Source file"),
}
METADATA_SYNONYMS: dict[str, tuple[str, ...]] = {"programme": ("Program",)}
EXPORTED_AT_LABEL = N_("Exported (UTC)")
#: The day an export shows the plan as of (in the deployment's timezone).
AS_OF_LABEL = N_("Status as of")


def translate(message: str, locale: str = DEFAULT_LOCALE) -> str:
    """The catalog text of a label in `locale` (Spanish by default, as files are written)."""
    return translations(locale).gettext(message)


def column_header(column: Field, locale: str = DEFAULT_LOCALE) -> str:
    """The header of a column as written in `locale`."""
    return translate(HEADER_LABELS[column], locale)


def column_headers(locale: str = DEFAULT_LOCALE) -> dict[Field, str]:
    """The column headers written in `locale`."""
    return {column: column_header(column, locale) for column in Field}


def spellings(message: str) -> list[str]:
    """A label as written in every supported language, in the order of `SUPPORTED`."""
    return [translate(message, locale) for locale in SUPPORTED]


SPANISH_HEADERS: dict[Field, str] = column_headers("es")
ENGLISH_HEADERS: dict[Field, str] = column_headers("en")

_NOT_ALPHANUMERIC = re.compile(r"[^0-9a-z]+")


def match_key(words: str) -> str:
    """How a header, status word or metadata key is compared: folded, punctuation as spaces
    ("Acción clave Nº" -> "accion clave no")."""
    return " ".join(_NOT_ALPHANUMERIC.sub(" ", fold(words)).split())


def _lookup(labels: Mapping[str, str], synonyms: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """{match key: value} from each value's label in every language and its synonyms; the
    stored value itself is accepted too. The first value to claim a key keeps it."""
    result: dict[str, str] = {}
    for value, message in labels.items():
        for word in (value, *spellings(message), *synonyms.get(value, ())):
            result.setdefault(match_key(word), value)
    return result


def _header_lookup() -> dict[str, Field]:
    """{match key: column} from each header in every language and its synonyms (unlike
    statuses, the stored names such as "label" are not accepted). The first column keeps a key."""
    result: dict[str, Field] = {}
    for column in Field:
        for word in (*spellings(HEADER_LABELS[column]), *HEADER_SYNONYMS.get(column, ())):
            result.setdefault(match_key(word), column)
    return result


HEADER_LOOKUP = _header_lookup()
STATUS_LOOKUP = _lookup({**STATUS_LABELS, OVERDUE: OVERDUE_LABEL}, STATUS_SYNONYMS)
REVIEW_LOOKUP = _lookup(REVIEW_LABELS, REVIEW_SYNONYMS)
METADATA_LOOKUP = _lookup(METADATA_LABELS, METADATA_SYNONYMS)


def expected_statuses(column: Field) -> list[str]:
    """The words an error message suggests for a status column (Spanish, as files are)."""
    labels = STATUS_LABELS if column == Field.FOLLOW_UP_STATUS else REVIEW_LABELS
    return [translate(message) for message in labels.values()]
