"""What reading a plan file gives (`PlanRow`) or reports (`PlanFileIssue` in a `PlanFileError`),
and the limits both the reader and the importer enforce.

Problems carry a stable `code` and the values for the message in `detail`; the sentence a person
reads is chosen by the handlers from the code (through the translation catalogs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from storage.plan_files.vocabulary import Field

MAX_CELL_LENGTH = 10_000
MAX_ROWS = 5_000
HEADER_SEARCH_ROWS = 11  # the header may come after up to 10 title rows
MAX_COLUMNS = 60
MAX_BLANK_RUN = 500  # formatted but empty rows at the end of a sheet are not read forever
#: Rows a sheet may hold at all (data, title rows and a run of empty rows).
MAX_SHEET_ROWS = MAX_ROWS + HEADER_SEARCH_ROWS + MAX_BLANK_RUN
# Limits checked before a file is parsed (see `plan_files.safety`): what the bytes may claim.
MB = 1024 * 1024
MAX_FILE_BYTES = 10 * MB  # the file as sent (also Telegram's upload check in /plan)
MAX_UNCOMPRESSED_BYTES = 50 * MB  # every member of an .xlsx, unpacked
MAX_PART_BYTES = 30 * MB  # sharedStrings.xml, or one worksheet, unpacked
MAX_ZIP_ENTRIES = 500
MAX_COMPRESSION_RATIO = 100  # for members of more than 1 MB unpacked
MAX_LINE_BYTES = 200_000  # one line of a .csv file
MAX_ACTION_NUMBER = 9_999
MAX_TITLE_LENGTH = 500
MAX_UNIT_NAME_LENGTH = 300
#: Cells stored in shorter columns than the general `MAX_CELL_LENGTH`.
FIELD_LIMITS: dict[Field, int] = {Field.LABEL: 100, Field.DEADLINE: 500}


@dataclass(frozen=True, slots=True)
class PlanFileIssue:
    """One problem of a plan file.

    `row` is the 1-based row a person sees in a spreadsheet program; `column` the column's
    header as written in the file (or the expected header when it is missing); `code` a stable
    machine code; `detail` the values for the message (``expected``, ``found``, ``limit``...).
    `table` is the 1-based table of a Word document the row belongs to (None in a spreadsheet).
    """

    row: int | None
    column: str | None
    code: str
    detail: dict[str, Any] = field(default_factory=dict)
    table: int | None = None

    def __str__(self) -> str:
        where = ", ".join(
            part
            for part in (
                f"table {self.table}" if self.table is not None else "",
                f"row {self.row}" if self.row is not None else "",
                f"column {self.column!r}" if self.column else "",
            )
            if part
        )
        return f"{where + ': ' if where else ''}{self.code} {self.detail}".rstrip()


class PlanFileError(Exception):
    """A plan file that cannot be imported; `issues` lists every problem found."""

    def __init__(self, issues: Sequence[PlanFileIssue]) -> None:
        self.issues = list(issues)
        super().__init__("; ".join(str(issue) for issue in self.issues))

    @property
    def codes(self) -> list[str]:
        return [issue.code for issue in self.issues]


@dataclass(frozen=True, slots=True)
class PlanRow:
    """One key action as read from a file, recommendation cells already inherited.

    Statuses are stored values (``"in_progress"``...), ``OVERDUE`` for "Vencida", or None when
    the cell is empty (no change).
    """

    row: int
    label: str
    recommendation: str
    management_response: str
    number: int
    action: str
    deadline: str
    responsible: str
    follow_up_comment: str = ""
    follow_up_status: str | None = None
    review_comment: str = ""
    review_status: str | None = None
