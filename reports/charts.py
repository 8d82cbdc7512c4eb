"""The status chart sent with /resumen: stacked horizontal bars per block (or per plan), in the
status colours, sized for a phone (1080 px wide, large type).

Pure matplotlib through its object-oriented API (`Figure`, no pyplot, so no global state and no
GUI backend). matplotlib weighs some 50 MB once imported: the chart is drawn where it is loaded
already (the PDF report's worker process, the command line), else in a worker process of its
own (`storage.offloop`), so that the bot's process never loads it. Either way `status_chart`
blocks for a noticeable fraction of a second: callers run it in a worker thread
(`asyncio.to_thread`).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from storage.offloop import run_in_process_sync

WIDTH_PX = 1080
DPI = 100
BAR_HEIGHT_IN = 0.62
LABEL_CHARS = 26
FONT = 20
SMALL_FONT = 17
TITLE_FONT = 24
CHART_SECONDS = 120.0  # the time a worker process may take to draw (it takes about a second)
OVERDUE_COLOUR = "#D32F2F"
NOTE_COLOUR = "#555555"


@dataclass(frozen=True, slots=True)
class Series:
    """One status: its legend label and colour."""

    label: str
    colour: str


@dataclass(frozen=True, slots=True)
class Bar:
    """One block (or plan): its label, a count per series (in series order), overdue count,
    and its progress as text ("50 %"), written after the bar."""

    label: str
    counts: Sequence[int]
    overdue: int = 0
    progress: str = ""


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def status_chart(
    title: str,
    bars: Sequence[Bar],
    series: Sequence[Series],
    *,
    xlabel: str,
    overdue_text: Callable[[int], str],
    subtitle: str = "",
) -> bytes:
    """A PNG of stacked horizontal bars, the first bar at the top, with the count written in
    each segment wide enough to hold it, and after each bar its progress, then `overdue_text(n)`
    (in red when there are overdue actions). Drawn here when matplotlib is loaded, else in a
    worker process (see the module's docstring)."""
    overdue = {bar.overdue: overdue_text(bar.overdue) for bar in bars if bar.overdue}
    args = (title, list(bars), list(series), xlabel, overdue, subtitle)
    if "matplotlib" in sys.modules:
        return draw_status_chart(*args)
    return run_in_process_sync(draw_status_chart, *args, seconds=CHART_SECONDS)


def draw_status_chart(
    title: str,
    bars: Sequence[Bar],
    series: Sequence[Series],
    xlabel: str,
    overdue_text: Mapping[int, str],
    subtitle: str,
) -> bytes:
    """`status_chart` drawn in this process, the overdue words given for each count."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    height_in = max(4.8, 2.6 + BAR_HEIGHT_IN * len(bars) + 0.5 * ((len(series) + 1) // 2))
    figure = Figure(figsize=(WIDTH_PX / DPI, height_in), dpi=DPI, layout="constrained")
    axes = figure.subplots()
    labels = [_short(b.label) for b in bars]
    positions = list(range(len(bars)))
    left = [0] * len(bars)
    widest = max((sum(b.counts) for b in bars), default=0) or 1
    for index, status in enumerate(series):
        values = [b.counts[index] if index < len(b.counts) else 0 for b in bars]
        drawn = axes.barh(
            positions, values, left=left, color=status.colour, label=status.label, height=0.7
        )
        shown = [str(v) if v and v / widest >= 0.06 else "" for v in values]
        axes.bar_label(drawn, labels=shown, label_type="center", fontsize=SMALL_FONT, color="white")
        left = [a + b for a, b in zip(left, values, strict=True)]
    for position, bar, end in zip(positions, bars, left, strict=True):
        note = " · ".join(
            text for text in (bar.progress, overdue_text.get(bar.overdue, "")) if text
        )
        if note:
            axes.text(
                end + widest * 0.01,
                position,
                note,
                va="center",
                fontsize=SMALL_FONT,
                color=OVERDUE_COLOUR if bar.overdue else NOTE_COLOUR,
                fontweight="bold",
            )
    axes.set_yticks(positions, labels=labels, fontsize=FONT)
    axes.invert_yaxis()
    axes.set_xlim(0, widest * 1.45)
    axes.set_xlabel(xlabel, fontsize=FONT)
    axes.tick_params(axis="x", labelsize=SMALL_FONT)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.grid(axis="x", alpha=0.25)
    axes.set_axisbelow(True)
    figure.suptitle(_short(title, 60), fontsize=TITLE_FONT, fontweight="bold")
    if subtitle:
        axes.set_title(subtitle, fontsize=SMALL_FONT, color="#555555")
    figure.legend(
        loc="outside lower center",
        ncols=2,
        fontsize=SMALL_FONT,
        frameon=False,
    )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()
