"""The words of a Word plan (.docx), shared by its reader and its writer: the block headings
("Recomendación de la Evaluación Nº 2 y 3", "Respuesta de la gestión …"), the table's headers
("Acciones clave | Plazo | Responsable | Seguimiento | Secretariado" over "Comentarios | Estado"),
the "as of" line, and the mark of a document the bot wrote.

Headings are matched case and accent insensitively, in Spanish or English; what is written is
the catalogs' text in the requested language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from locales import N_
from storage.plan_files.vocabulary import Field, column_header, translate
from storage.text import fold

#: Written: the heading of a block ("Recomendación de la Evaluación Nº {label}").
RECOMMENDATION_HEADING = N_("Evaluation recommendation no. {label}")
#: Written: the heading of the management response (the spreadsheet's header).
RESPONSE_HEADING = N_("Management response")
#: Written under the title: the moment the document shows.
AS_OF_LINE = N_("Status as of {date}")
#: The table's headers: first row, then the second row under the two groups.
ACTIONS_HEADER = N_("Key actions")
FOLLOW_UP_GROUP = N_("Follow-up")
REVIEW_GROUP = N_("Secretariat")
COMMENTS_HEADER = N_("Comments")
STATUS_HEADER = N_("Status")

#: Kept in the document's core properties (`identifier`): the document was written by the bot,
#: so its line breaks are the stored texts' own and are read back as they are.
EXPORT_MARK = "plan-de-mejora-bot"

#: The columns of the table, in order.
TABLE_FIELDS = (
    Field.ACTION,
    Field.DEADLINE,
    Field.RESPONSIBLE,
    Field.FOLLOW_UP_COMMENT,
    Field.FOLLOW_UP_STATUS,
    Field.REVIEW_COMMENT,
    Field.REVIEW_STATUS,
)


def table_headers(locale: str) -> tuple[list[str], list[str]]:
    """The two header rows as written in `locale` (a group's second column repeats its name,
    where the cells are merged)."""
    follow_up, review = translate(FOLLOW_UP_GROUP, locale), translate(REVIEW_GROUP, locale)
    first = [
        translate(ACTIONS_HEADER, locale),
        column_header(Field.DEADLINE, locale),
        column_header(Field.RESPONSIBLE, locale),
        follow_up,
        follow_up,
        review,
        review,
    ]
    comments, status = translate(COMMENTS_HEADER, locale), translate(STATUS_HEADER, locale)
    second = [*first[:3], comments, status, comments, status]
    return first, second


# Folded text (see `storage.text.fold`): "Recomendación de la Evaluación Nº 2 y 3" reads as
# "recomendacion de la evaluacion no 2 y 3". "Nº" folds to "no"; "N°" keeps its degree sign.
_NUMBER_MARK = r"(?:n\s*[o°º]\.?|no\.?|nro\.?|num\.?|numero|number|#)"
_RECOMMENDATION_WORDS = (
    r"(?:recomendacion(?:es)?(?:\s+de\s+la\s+evaluacion)?"
    r"|(?:evaluation\s+)?recommendations?(?:\s+of\s+the\s+evaluation)?)"
)
#: "Recomendación … Nº <label>[: text]": with the number mark, any short label.
_HEADING_MARKED = re.compile(
    rf"^{_RECOMMENDATION_WORDS}\s*{_NUMBER_MARK}\s*(?P<label>[^:]{{1,100}}?)\s*(?::\s*(?P<rest>.*))?$"
)
#: "Recomendación 4[: text]" or "Recomendaciones 2 y 3": without the mark, numbers only.
_HEADING_NUMBERED = re.compile(
    rf"^{_RECOMMENDATION_WORDS}\s+(?P<label>\d+(?:\s*(?:,|y|e|and|&|-|–)\s*\d+)*)"
    r"\s*(?:[:.\-–]\s*(?P<rest>.*))?$"
)
_RESPONSE = re.compile(
    r"^(?:respuesta\s+de\s+la\s+(?:gestion|gerencia|administracion|direccion)"
    r"|management(?:'s)?\s+response)\b[^:]*(?::\s*(?P<rest>.*))?$"
)
_MAX_HEADING = 200


@dataclass(frozen=True, slots=True)
class Heading:
    """A recommendation heading: its label as written, and any text after a colon."""

    label: str
    rest: str


def recommendation_heading(text: str) -> Heading | None:
    """ "Recomendación de la Evaluación Nº 2 y 3" -> Heading("2 y 3", ""); None otherwise."""
    folded = fold(text)
    if not folded:
        return None
    match = _HEADING_MARKED.match(folded) or _HEADING_NUMBERED.match(folded)
    if match is None:
        return None
    rest = match.group("rest") or ""
    if len(folded) - len(rest) > _MAX_HEADING:
        return None
    label = _label_as_written(text, match.group("label"))
    return Heading(label, _rest_as_written(text, rest)) if label else None


def response_heading(text: str) -> str | None:
    """The text after "Respuesta de la gestión …:" ("" when none); None if not that heading."""
    folded = fold(text)
    match = _RESPONSE.match(folded)
    if match is None:
        return None
    rest = match.group("rest") or ""
    if len(folded) - len(rest) > _MAX_HEADING:
        return None
    return _rest_as_written(text, rest)


def _label_as_written(text: str, folded_label: str) -> str:
    """The label's characters in the original text (accents and case kept): the same number
    of words, taken from the end of the heading part."""
    head = " ".join(text.split())
    rest_at = head.find(":")
    head = head if rest_at < 0 else head[:rest_at]
    words = head.split()
    count = len(folded_label.split())
    label = " ".join(words[-count:]) if count <= len(words) else folded_label
    if fold(label).rstrip(".") != folded_label.rstrip("."):
        label = folded_label
    return label.rstrip(".").strip()


def _rest_as_written(text: str, folded_rest: str) -> str:
    """The text after the heading's colon, as written."""
    if not folded_rest:
        return ""
    at = text.find(":")
    return text[at + 1 :].strip() if at >= 0 else folded_rest
