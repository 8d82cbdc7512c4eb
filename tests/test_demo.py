"""`python -m bot demo` driven through its standard input, as a person would use it: every
persona (the admin too), a real file sent from disk, `DATABASE_URL`, and no temporary folder
left behind however the demo ends."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from storage.db import create_engine, create_sessions, transaction, upgrade_sync
from storage.people import create_invitation, redeem_invitation
from tests.test_plan_files import HEADERS, action_row, write_xlsx

DEMO_PREFIXES = ("plan-demo-", "demo-files-")


def demo_env(tmp_path: Path, **extra: str) -> tuple[dict[str, str], Path]:
    """The environment of a demo run whose temporary folders go to a folder of this test's
    own (so other runs beside it do not count), without any DATABASE_URL of the caller."""
    temp = tmp_path / "tmp"
    temp.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(TMPDIR=str(temp), **extra)
    return env, temp


def demo_leftovers(temp: Path) -> list[str]:
    return sorted(p.name for p in temp.iterdir() if p.name.startswith(DEMO_PREFIXES))


def run_demo(tmp_path: Path, script: list[str], *args: str, **env: str) -> tuple[int, str, Path]:
    environment, temp = demo_env(tmp_path, **env)
    assert demo_leftovers(temp) == []
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo", *args],
        input="\n".join(script) + "\n",
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
        env=environment,
    )
    assert result.returncode == 0, result.stderr
    return result.returncode, result.stdout, temp


def test_demo_console_story(tmp_path):
    script = [
        "/acciones",
        ":1",
        ":1",
        "Avance: taller realizado con las contrapartes",
        ":foto acta firmada",
        ":yo 4",
        ":gente",
        "/resumen",
        ":salir",
    ]
    database = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    _code, out, temp = run_demo(tmp_path, script, "--database-url", database)
    assert "Sus acciones pendientes" in out
    assert "vence el 31 ene 2012" in out
    assert "Comentario guardado" in out
    # The secretariat's notification of Ana's comment, shown under Sofía's name.
    assert "── Sofía (Secretariado) ──" in out and "comentó en 1.1" in out
    assert "Ahora usted es Sofía (Secretariado)." in out
    assert "5. Marta (Administración)" in out
    assert "Plan de Mejora del Programa Conjunto" in out  # the summary's title
    assert out.rstrip().endswith("Hasta pronto.")
    assert demo_leftovers(temp) == []


def test_demo_admin_invites_and_imports_a_plan_from_disk(tmp_path):
    write_xlsx(
        tmp_path / "plan_piloto.xlsx",
        [
            HEADERS,
            action_row(1, 1, "Diseñar el piloto", rec="Un piloto regional"),
            action_row("", 2, "Evaluar el piloto", responsible="Unidad de Coordinación"),
        ],
    )
    script = [
        ":yo 5",
        "/invitar focal PNUD",
        "/invitaciones",
        "/plan",
        ":doc plan_piloto.xlsx",
        ":doc no/existe.xlsx",
        "/usuarios",
        ":nueva Pedro",
        "/start codigo-falso",
        # no ":salir": the demo ends at the end of its input too
    ]
    database = tmp_path / "env.db"
    _code, out, temp = run_demo(tmp_path, script, DATABASE_URL=f"sqlite+aiosqlite:///{database}")
    assert "Ahora usted es Marta (Administración)." in out
    assert "Invitación para punto focal · PNUD" in out and "?start=" in out
    assert "1 invitación pendiente" in out and "creada por Marta" in out
    assert "Plan plan piloto importado." in out
    assert "Acciones clave: 2 nuevas" in out
    assert "No encuentro el archivo no/existe.xlsx." in out
    assert "Marta — administración" in out  # /usuarios
    assert "Ahora usted es Pedro, sin registrar." in out
    assert "── Pedro ──" in out and "no es válido" in out
    assert out.rstrip().endswith("Hasta pronto.")
    # DATABASE_URL was honoured: the plan is in that database, and nothing was left behind
    with sqlite3.connect(database) as connection:
        titles = [row[0] for row in connection.execute("select title from plans")]
    assert "plan piloto" in titles
    assert demo_leftovers(temp) == []


def test_demo_leaves_nothing_behind_on_an_error_or_ctrl_c(tmp_path):
    # a database nobody listens for
    environment, temp = demo_env(tmp_path, DATABASE_URL="postgresql://nobody@127.0.0.1:9/none")
    failed = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        input=":salir\n",
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=environment,
    )
    assert failed.returncode == 1
    assert "error: la demo se detuvo" in failed.stderr
    assert demo_leftovers(temp) == []

    environment, temp = demo_env(tmp_path)
    with subprocess.Popen(
        [sys.executable, "-m", "bot", "demo"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=environment,
        # A shell's background job starts with Ctrl-C ignored, and a child keeps that: the
        # demo is started as a terminal starts it, with Ctrl-C's default.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    ) as demo:
        assert demo.stdout is not None
        for line in demo.stdout:  # the demo is up and waits for a line
            if "Pruebe /acciones." in line:
                break
        assert len(demo_leftovers(temp)) == 1  # its folder, while it runs
        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=60) == 130
    assert demo_leftovers(temp) == []


async def register_someone_real(url: str) -> None:
    engine = create_engine(url)
    try:
        async with transaction(create_sessions(engine)) as session:
            code = await create_invitation(session, "coordinator")
            await redeem_invitation(session, code, telegram_id=5_000_001, name="Real")
    finally:
        await engine.dispose()


def test_demo_refuses_a_database_with_real_people(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'real.db'}"
    upgrade_sync(url)
    asyncio.run(register_someone_real(url))
    environment, temp = demo_env(tmp_path, DATABASE_URL=url)
    refused = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        input=":salir\n",
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=environment,
    )
    assert refused.returncode == 1
    assert "personas reales" in refused.stderr
    with sqlite3.connect(tmp_path / "real.db") as connection:
        assert connection.execute("select count(*) from people").fetchone() == (1,)
        assert connection.execute("select count(*) from plans").fetchone() == (0,)
    assert demo_leftovers(temp) == []
