"""The status chart: a valid PNG, 1080 px wide, sent with a short caption from /resumen."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from matplotlib import image

from handlers.i18n import Tr
from handlers.summary import chart_png
from reports.charts import Bar, Series, status_chart
from storage.db import transaction
from storage.followup import set_status
from storage.models import Status
from storage.summary import summarise
from tests.offline import Chat
from tests.report_support import (
    NOW,
    TODAY,
    add_person,
    add_plan,
    build_large_plan,
    running_app,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
COORDINATOR = 20


def _size(png: bytes) -> tuple[int, int]:
    pixels = image.imread(io.BytesIO(png), format="png")
    return pixels.shape[1], pixels.shape[0]


def test_status_chart_is_a_phone_sized_png():
    series = [Series("Completada", "#2E7D32"), Series("No iniciada", "#9E9E9E")]
    bars = [Bar("1", [1, 1], 1), Bar("2 y 3 " + "largo " * 20, [0, 3], 3), Bar("4", [0, 0])]
    png = status_chart(
        "Plan de Mejora",
        bars,
        series,
        xlabel="Acciones clave",
        overdue_text=lambda n: f"{n} vencidas",
    )
    assert png.startswith(PNG_MAGIC)
    width, height = _size(png)
    assert width == 1080 and 400 <= height <= 1500


async def test_chart_of_a_plan_summary(sessions):
    await add_plan(
        sessions,
        [
            ("1.1", "Revisar el POA", dt.date(2026, 1, 31), ["PNUD"]),
            ("1.2", "Elaborar el POA", dt.date(2027, 1, 31), ["PNUD"]),
            ("2 y 3.1", "Estrategia", None, ["OCR"]),
        ],
    )
    async with sessions() as session:
        summary = await summarise(session, today=TODAY, now=NOW)
    png = chart_png(Tr("es"), summary, "Plan de prueba", TODAY)
    assert png.startswith(PNG_MAGIC) and _size(png)[0] == 1080


async def test_the_chart_draws_the_progress_of_the_summary(sessions, monkeypatch):
    """The chart's bars and subtitle carry the same progress as the summary's block lines:
    completed ÷ (all − no longer applicable)."""
    await add_plan(
        sessions,
        [
            ("1.1", "Revisar el POA", dt.date(2026, 1, 31), ["PNUD"]),
            ("1.2", "Elaborar el POA", dt.date(2027, 1, 31), ["PNUD"]),
            ("1.3", "Informe", dt.date(2027, 1, 31), ["PNUD"]),
            ("2 y 3.1", "Estrategia", None, ["OCR"]),
        ],
    )
    coordinator = await add_person(sessions, "coordinator", COORDINATOR)
    async with transaction(sessions) as session:
        await set_status(
            session,
            coordinator,
            1,
            Status.COMPLETED,
            justification="Hecho",
            now=NOW,
            notify_chat_ids=(),
        )
        await set_status(
            session,
            coordinator,
            2,
            Status.NOT_APPLICABLE,
            justification="Ya no",
            now=NOW,
            notify_chat_ids=(),
        )
    drawn: dict[str, Any] = {}

    def capture(title: str, bars: list[Bar], series: list[Series], **kw: Any) -> bytes:
        drawn.update(bars=bars, subtitle=kw["subtitle"])
        return status_chart(title, bars, series, **kw)

    monkeypatch.setattr("handlers.summary.status_chart", capture)
    async with sessions() as session:
        summary = await summarise(session, today=TODAY, now=NOW)
    chart_png(Tr("es"), summary, "Plan de prueba", TODAY)
    es = Tr("es")
    # block 1: 1 completed of 3, one no longer applicable: 1 ÷ 2; block 2 y 3: 0 ÷ 1
    assert [(b.label, b.progress) for b in drawn["bars"]] == [
        ("1", es.percent(0.5)),
        ("2 y 3", es.percent(0)),
    ]
    assert f"avance {es.percent(1 / 3)}" in drawn["subtitle"]  # 1 ÷ (4 − 1)


async def test_chart_button_sends_a_photo_with_a_short_caption(sessions):
    await build_large_plan(sessions, actions=600, units=20, blocks=40)
    await add_person(sessions, "coordinator", COORDINATOR)
    async with running_app(sessions) as (app, request):
        chat = Chat(app, COORDINATOR)
        await chat.send("/resumen")
        chart_button = request.last(COORDINATOR).buttons[0]
        assert chart_button == ("📈 Ver gráfico", "rs:g:1:")
        await chat.press(chart_button[1])
    photo = request.last(COORDINATOR)
    assert photo.method == "sendPhoto"
    assert len(photo.text) <= 1024
    assert "<b>600</b> acciones clave · 🔴 " in photo.text
    assert "🎯 Avance: <b>" in photo.text and "<i>Avance (x/y) = completadas ÷" in photo.text
    assert "Solo se dibujan los 20 primeros." in photo.text
    name, png = request.last_file("sendPhoto")
    assert name == "resumen.png" and png.startswith(PNG_MAGIC)
    width, height = _size(png)
    assert width == 1080 and height > 1000  # twenty bars, tall enough to read
