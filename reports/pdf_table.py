"""Tables for the PDF report, wrapped and drawn with fpdf2's low-level calls.

fpdf2's own `FPDF.table()` lays text out character by character, twice per cell (a few
milliseconds a cell): a plan of a few hundred actions would take most of a minute. Here words
are measured once (cached) and wrapped greedily, each line written with `FPDF.text`: the same
look (borders, a shaded heading row repeated on each page, text that wraps) at a fraction of the
cost. A row taller than what is left of the page continues on the next one.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from fpdf import FPDF

PADDING = 1.0
#: Line height as a multiple of the font size.
LEADING = 1.3
PT_TO_MM = 25.4 / 72


@dataclass
class Style:
    font: str
    size: float
    heading_fill: tuple[int, int, int]
    red: tuple[int, int, int]
    border: tuple[int, int, int] = (170, 170, 170)
    _widths: dict[tuple[str, str], float] = field(default_factory=dict)

    @property
    def line_height(self) -> float:
        return self.size * PT_TO_MM * LEADING


def _width(pdf: FPDF, style: Style, emphasis: str, text: str) -> float:
    key = (emphasis, text)
    width = style._widths.get(key)
    if width is None:
        width = pdf.get_string_width(text)
        style._widths[key] = width
    return width


def wrap(pdf: FPDF, style: Style, emphasis: str, text: str, width: float) -> list[str]:
    """The text in lines no wider than `width` (the current font), words kept whole unless a
    word alone is wider."""
    space = _width(pdf, style, emphasis, " ")
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, used = "", 0.0
        for word in paragraph.split():
            size = _width(pdf, style, emphasis, word)
            if line and used + space + size <= width:
                line, used = f"{line} {word}", used + space + size
                continue
            if line:
                lines.append(line)
            while size > width and len(word) > 1:  # a word wider than the column: cut it
                cut = len(word) - 1
                while cut > 1 and pdf.get_string_width(word[:cut]) > width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
                size = _width(pdf, style, emphasis, word)
            line, used = word, size
        lines.append(line)
    while len(lines) > 1 and not lines[-1]:
        lines.pop()
    return lines


def draw_table(
    pdf: FPDF,
    headings: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: Sequence[float],
    style: Style,
    *,
    right: Collection[int] = (),
    red: Collection[tuple[int, int]] = (),
) -> None:
    """Headings and rows at the left margin, columns of `widths` mm; cells (row, column) in
    `red` written in red, columns in `right` aligned right."""
    pdf.set_draw_color(*style.border)
    pdf.set_line_width(0.2)
    _row(pdf, style, headings, widths, right, heading=True)
    for index, values in enumerate(rows):
        reds = {column for row, column in red if row == index}
        _row(pdf, style, values, widths, right, reds=reds, headings=headings)
    pdf.set_text_color(0, 0, 0)
    pdf.set_y(pdf.get_y() + 2)


def _row(
    pdf: FPDF,
    style: Style,
    values: Sequence[str],
    widths: Sequence[float],
    right: Collection[int],
    *,
    heading: bool = False,
    reds: Collection[int] = (),
    headings: Sequence[str] = (),
) -> None:
    emphasis = "B" if heading else ""
    pdf.set_font(style.font, emphasis, style.size)
    cells = [
        wrap(pdf, style, emphasis, value, width - 2 * PADDING)
        for value, width in zip(values, widths, strict=True)
    ]
    line = style.line_height
    done, total, fresh = 0, max(len(c) for c in cells), False
    while done < total:
        room = int((pdf.h - pdf.b_margin - pdf.get_y() - 2 * PADDING) // line)
        left = total - done
        if left > room and not fresh and (room < 2 or done == 0):
            # Start the row on a new page rather than split it (unless it is taller than a
            # page, which then splits anyway).
            _new_page(pdf, style, widths, right, headings, heading)
            pdf.set_font(style.font, emphasis, style.size)
            fresh = True
            continue
        count = max(1, min(left, room))
        _draw(pdf, style, cells, widths, right, reds, done, count, heading)
        done += count
        fresh = False
        if done < total:
            _new_page(pdf, style, widths, right, headings, heading)
            pdf.set_font(style.font, emphasis, style.size)
            fresh = True


def _new_page(
    pdf: FPDF,
    style: Style,
    widths: Sequence[float],
    right: Collection[int],
    headings: Sequence[str],
    heading: bool,
) -> None:
    pdf.add_page()
    if headings and not heading:
        _row(pdf, style, headings, widths, right, heading=True)


def _draw(
    pdf: FPDF,
    style: Style,
    cells: Sequence[Sequence[str]],
    widths: Sequence[float],
    right: Collection[int],
    reds: Collection[int],
    first: int,
    count: int,
    heading: bool,
) -> None:
    line = style.line_height
    top = pdf.get_y()
    height = count * line + 2 * PADDING
    x = pdf.l_margin
    ascent = style.size * PT_TO_MM * 0.8
    for column, (lines, width) in enumerate(zip(cells, widths, strict=True)):
        if heading:
            pdf.set_fill_color(*style.heading_fill)
            pdf.rect(x, top, width, height, style="DF")
        else:
            pdf.rect(x, top, width, height)
        pdf.set_text_color(*(style.red if column in reds else (0, 0, 0)))
        for offset, text in enumerate(lines[first : first + count]):
            if not text:
                continue
            baseline = top + PADDING + offset * line + ascent + (line - style.size * PT_TO_MM) / 2
            if column in right:
                start = x + width - PADDING - _width(pdf, style, "B" if heading else "", text)
            else:
                start = x + PADDING
            pdf.text(start, baseline, text)
        x += width
    pdf.set_text_color(0, 0, 0)
    pdf.set_xy(pdf.l_margin, top + height)
