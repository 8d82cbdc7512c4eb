"""Hostile plan files: refused before they are parsed, quickly, naming the limit, with memory
bounded; and a big valid file is parsed off the event loop (others are answered meanwhile)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import resource
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

import handlers.administration as administration
from handlers.administration import issue_line
from handlers.i18n import Tr
from storage.models import Plan
from storage.plan_files import PlanFileError, read_plan_rows
from storage.plan_files.records import MAX_COLUMNS, MAX_ROWS
from tests.hostile_files import (
    HEADERS,
    SHARED_STRINGS,
    SHEET,
    many_entries,
    replaced,
    shared_strings_bomb,
    sheet,
    wide_rows,
)
from tests.test_flows_story import bot, registered  # noqa: F401


def _refused(data: bytes, name: str) -> PlanFileError:
    """The error a file gets (how fast is the benchmark's business: no timing here)."""
    with pytest.raises(PlanFileError) as error:
        read_plan_rows(data, name)
    return error.value


def _spanish(issue) -> str:  # type: ignore[no-untyped-def]
    return issue_line(Tr("es"), issue)


def test_shared_strings_bomb_is_refused_with_memory_bounded():
    bomb = shared_strings_bomb()
    assert len(bomb) < 1_000_000  # a few hundred KB that would expand to 300 MB
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    error = _refused(bomb, "plan.xlsx")
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert error.codes == ["uncompressed_too_large"]
    assert "50 MB" in _spanish(error.issues[0])
    assert grown_mb < 100


def test_one_part_too_large_or_too_compressed_is_refused():
    def payload(stream) -> None:  # type: ignore[no-untyped-def]
        for _ in range(40):
            stream.write(b"<si><t>" + b"B" * (1 << 20) + b"</t></si>")

    error = _refused(replaced({SHARED_STRINGS: payload}), "plan.xlsx")
    assert error.codes[0] in ("compression_ratio", "part_too_large")
    assert "100 a 1" in _spanish(error.issues[0]) or "30 MB" in _spanish(error.issues[0])


def test_too_many_entries_is_refused():
    error = _refused(many_entries(600), "plan.xlsx")
    assert error.codes == ["too_many_entries"]
    assert "500" in _spanish(error.issues[0])


def test_wide_rows_are_refused():
    error = _refused(wide_rows(20_000), "plan.xlsx")
    assert error.codes == ["too_many_columns"]
    assert f"columna {MAX_COLUMNS}" in _spanish(error.issues[0])


def test_endless_rows_are_refused_while_reading():
    rows = "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(1, 200_001))
    error = _refused(replaced({SHEET: sheet(rows)}), "plan.xlsx")
    assert error.codes == ["too_many_rows"]
    assert f"más de {MAX_ROWS} filas" in _spanish(error.issues[0])


def test_csv_with_a_huge_line_and_a_huge_file_are_refused():
    line = ",".join(HEADERS).encode() + b"\n1,Mejorar," + b"x" * 5_000_000 + b"\n"
    error = _refused(line, "plan.csv")
    assert error.codes == ["line_too_long"]
    assert "200000 caracteres" in _spanish(error.issues[0])
    error = _refused(b"a,b\n" * 3_000_000, "plan.csv")
    assert error.codes == ["file_too_large"]
    assert "10 MB" in _spanish(error.issues[0])


def test_a_zip_that_is_not_a_workbook_is_not_a_spreadsheet():
    error = _refused(b"PK\x03\x04 not really", "plan.xlsx")
    assert error.codes == ["not_a_spreadsheet"]


def _big_valid_csv(rows: int) -> bytes:
    lines = [",".join([*HEADERS, "Responsable"])]
    for n in range(1, rows + 1):
        lines.append(f"{n % 50 + 1},Recomendación {n % 50 + 1},{n},Acción {n} {'x' * 200},2013,OCR")
    return "\n".join(lines).encode()


def slow_read(content: bytes, name: str):  # type: ignore[no-untyped-def]
    """`read_plan_file` that says when it starts and waits to be released (through files in
    `$PLAN_TEST_SIGNALS`: it runs in the worker process)."""
    signals = Path(os.environ["PLAN_TEST_SIGNALS"])
    (signals / "parsing").touch()
    deadline = time.monotonic() + 20
    while not (signals / "released").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return administration.read_plan_file(content, name)


def _appears(path: Path) -> bool:
    deadline = time.monotonic() + 30
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return path.exists()


async def test_others_are_answered_while_a_big_file_is_parsed(bot, sessions, monkeypatch, tmp_path):  # noqa: F811
    app, request = bot
    admin = await registered(app, sessions, 901, "admin")
    other = await registered(app, sessions, 902, "coordinator")
    monkeypatch.setenv("PLAN_TEST_SIGNALS", str(tmp_path))
    monkeypatch.setattr(administration, "read_plan_file", slow_read)
    await admin.send("/plan")
    upload = asyncio.create_task(
        admin.send_document("grande.csv", "text/csv", content=_big_valid_csv(1500))
    )
    assert await asyncio.to_thread(_appears, tmp_path / "parsing")
    answered_before = len(request.sent(902))
    await asyncio.wait_for(other.send("/ayuda"), timeout=10)
    assert len(request.sent(902)) > answered_before
    assert not upload.done()
    (tmp_path / "released").touch()
    await asyncio.wait_for(upload, timeout=60)
    assert "grande" in request.sent(901)[-1].text


async def test_a_parse_over_the_time_limit_is_stopped(bot, sessions, monkeypatch, tmp_path):  # noqa: F811
    """The worker never finishes (nobody releases it): stopped at the limit, the admin told
    which limit, nothing imported."""
    app, request = bot
    deps = app.bot_data["deps"]
    monkeypatch.setitem(app.bot_data, "deps", dataclasses.replace(deps, plan_parse_seconds=3))
    admin = await registered(app, sessions, 903, "admin")
    monkeypatch.setenv("PLAN_TEST_SIGNALS", str(tmp_path))
    monkeypatch.setattr(administration, "read_plan_file", slow_read)
    await admin.send("/plan")
    await admin.send_document("lento.csv", "text/csv", content=_big_valid_csv(10))
    answer = request.sent(903)[-1].text
    assert "lento.csv" in answer and "3 segundos" in answer and "no se cambió nada" in answer
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Plan)) == 1  # the demo's
