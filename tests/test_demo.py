"""`python -m bot demo` driven through its standard input, as a person would use it."""

import subprocess
import sys


def test_demo_console_story(tmp_path):
    script = "\n".join(
        [
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
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "demo",
            "--database-url",
            f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}",
        ],
        input=script,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "Sus acciones pendientes" in out
    assert "vence el 31 ene 2012" in out
    assert "Comentario guardado" in out
    # The secretariat's notification of Ana's comment, shown under Sofía's name.
    assert "── Sofía (Secretariado) ──" in out and "comentó en 1.1" in out
    assert "Ahora usted es Sofía (Secretariado)." in out
    assert "Plan de Mejora del Programa Conjunto" in out  # the summary's title
    assert out.rstrip().endswith("Hasta pronto.")
