"""The bundled seed plan (the demo's and a new deployment's first plan)."""

from __future__ import annotations

from importlib import resources

from sqlalchemy.ext.asyncio import AsyncSession

from storage.plan_files.importer import ImportReport, import_plan
from storage.plan_files.readers import read_plan_rows

DEMO_TITLE = "Plan de Mejora del Programa Conjunto"
DEMO_PROGRAMME = "Programa Conjunto (Perú)"
DEMO_EVALUATION = "Evaluación de medio término"
DEMO_FILE = "plan_de_mejora.csv"


async def load_demo_plan(session: AsyncSession) -> ImportReport:
    """Import the bundled seed plan; loading it again changes nothing."""
    data = resources.files("storage").joinpath("data", DEMO_FILE).read_bytes()
    rows = read_plan_rows(data, DEMO_FILE)
    return await import_plan(
        session,
        rows,
        title=DEMO_TITLE,
        source_file=DEMO_FILE,
        programme=DEMO_PROGRAMME,
        evaluation=DEMO_EVALUATION,
    )
