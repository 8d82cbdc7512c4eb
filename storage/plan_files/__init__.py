"""Plan files (.xlsx, .csv, .docx): reading them, importing them into the database, exporting.

The layout is the one of the original Word table, one row per key action (see the "Plan
spreadsheet" contract in DESIGN.md). The package is split by job:

- `vocabulary`: the columns and the words of a file (headers, statuses), from the catalogs;
- `records`: what reading gives (`PlanRow`) or reports (`PlanFileError`), and the limits;
- `cells`: cell values as text, and the CSV escaping of formulas;
- `table`: finding the header row of a sheet and reading the rows under it;
- `safety`: the limits a file is checked against before it is parsed (zip bombs, huge sheets);
- `readers`: .xlsx and .csv files into sheets, then into rows (`read_plan_rows`);
- `importer`: rows into a plan, updated in place (`import_plan`);
- `exporter`: a plan into .xlsx or .csv (`export_plan`, `export_plan_csv`), as of a date;
- `word_layout`, `word_reader`, `word_exporter`: the plan as a Word document (.docx), its
  headings and table, read (through `readers`) and written (`export_plan_docx`);
- `demo`: the bundled seed plan (`load_demo_plan`).

Reading never touches the database and reports *every* problem of a file at once, so nothing is
imported from a file with a mistake. Importing keeps comments and history, and a file exported
by the bot imports back into the same plan without changing anything.

The exporters (openpyxl, python-docx: tens of MB once imported) are loaded on first use of
their names (`__getattr__`), so that importing the package to read or import a plan does not
load them into the bot's process: the bot builds its files in a worker process (`reports.files`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from storage.plan_files.demo import (
    DEMO_EVALUATION,
    DEMO_PROGRAMME,
    DEMO_TITLE,
    load_demo_plan,
)
from storage.plan_files.importer import ImportReport, import_plan
from storage.plan_files.readers import read_plan_metadata, read_plan_rows
from storage.plan_files.records import (
    MAX_CELL_LENGTH,
    MAX_FILE_BYTES,
    PlanFileError,
    PlanFileIssue,
    PlanRow,
)
from storage.plan_files.vocabulary import ENGLISH_HEADERS, OVERDUE, SPANISH_HEADERS, Field

if TYPE_CHECKING:
    from storage.plan_files.exporter import export_plan, export_plan_csv
    from storage.plan_files.word_exporter import export_plan_docx

#: Names loaded on first use, and the module that holds each.
_EXPORTERS = {
    "export_plan": "storage.plan_files.exporter",
    "export_plan_csv": "storage.plan_files.exporter",
    "export_plan_docx": "storage.plan_files.word_exporter",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTERS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTERS[name]), name)
    globals()[name] = value  # once: later lookups find it without coming here
    return value


__all__ = [
    "DEMO_EVALUATION",
    "DEMO_PROGRAMME",
    "DEMO_TITLE",
    "ENGLISH_HEADERS",
    "MAX_CELL_LENGTH",
    "MAX_FILE_BYTES",
    "OVERDUE",
    "SPANISH_HEADERS",
    "Field",
    "ImportReport",
    "PlanFileError",
    "PlanFileIssue",
    "PlanRow",
    "export_plan",
    "export_plan_csv",
    "export_plan_docx",
    "import_plan",
    "load_demo_plan",
    "read_plan_metadata",
    "read_plan_rows",
]
