"""The committee's report as a PDF: the plan's title, programme and "as of" date; the summary
(status counts and progress, per recommendation and per unit, the chart); the overdue actions
with their due dates and units; then the matrix, a table that wraps its text.

A4 portrait, with a header (title, "as of") and a footer (page X of Y) on every page; type no
smaller than 7.5 pt, so it reads printed and zoomed on a phone. Labels come from the gettext
catalogs in the reader's language, dates and numbers from Babel. The font is DejaVu Sans as
matplotlib ships it (`matplotlib.get_data_path()`), so accents and ñ render with nothing but
what `pip install` brings.

`render_report` is pure (CPU only: run it in a worker thread); `plan_report_pdf` gathers the
content from storage and renders it off the event loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import re
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

import matplotlib
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from sqlalchemy.ext.asyncio import AsyncSession

from locales import translations
from reports.charts import Bar, Series, status_chart
from reports.pdf_table import Style, draw_table
from storage.clock import end_of_day, today_in
from storage.models import ReviewStatus, Status, action_ref
from storage.plan_files.vocabulary import REVIEW_LABELS, STATUS_LABELS
from storage.plan_report import MatrixRow, PlanReport, plan_report
from storage.summary import GroupProgress

FONT = "DejaVu"
STATUS_ORDER = (Status.COMPLETED, Status.IN_PROGRESS, Status.NOT_STARTED, Status.NOT_APPLICABLE)
STATUS_COLOURS = {
    Status.COMPLETED: "#2E7D32",
    Status.IN_PROGRESS: "#1976D2",
    Status.NOT_STARTED: "#9E9E9E",
    Status.NOT_APPLICABLE: "#424242",
}
HEADING_FILL = (221, 229, 240)
OVERDUE_RGB = (211, 47, 47)
GREY_RGB = (90, 90, 90)
#: Characters the PDF cannot show (controls; emoji and other symbols outside DejaVu Sans).
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\U00010000-\U0010ffff\u2600-\u27bf\ufe0f]")


def font_path(bold: bool = False) -> Path:
    """DejaVu Sans as matplotlib ships it."""
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name


def _clean(text: str) -> str:
    return _UNPRINTABLE.sub("", text.replace("\r\n", "\n").replace("\t", " ")).strip()


class _Texts:
    """The catalogs' texts, dates and numbers in one language."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self._catalog = translations(locale)

    def _(self, message: str, /, **values: object) -> str:
        text = self._catalog.gettext(message)
        return text.format(**values) if values else text

    def n_(self, singular: str, plural: str, n: int, /, **values: object) -> str:
        text = self._catalog.ngettext(singular, plural, n)
        return text.format(n=self.number(n), **values)

    def number(self, value: float) -> str:
        return format_decimal(value, locale=self.locale)

    def percent(self, share: float) -> str:
        return format_percent(share, locale=self.locale)

    def date(self, day: dt.date, format: str = "medium") -> str:
        return format_date(day, format=format, locale=self.locale)

    def status(self, value: str) -> str:
        try:
            return self._(STATUS_LABELS[Status(value)])
        except ValueError:
            return value

    def review(self, value: str) -> str:
        try:
            return self._(REVIEW_LABELS[ReviewStatus(value)])
        except ValueError:
            return value


class _Document(FPDF):
    """A4 portrait with the report's header and footer on every page."""

    def __init__(self, header_left: str, header_right: str, footer: Callable[[int], str]) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.header_left = header_left
        self.header_right = header_right
        self.footer_text = footer
        self.set_margins(15, 18, 15)
        self.set_auto_page_break(auto=True, margin=16)
        self.add_font(FONT, "", str(font_path()))
        self.add_font(FONT, "B", str(font_path(bold=True)))
        self.alias_nb_pages()

    def header(self) -> None:
        self.set_y(8)
        self.set_font(FONT, "", 8)
        self.set_text_color(*GREY_RGB)
        half = self.epw / 2
        self.cell(half + 20, 5, _fit(self, self.header_left, half + 20))
        self.cell(half - 20, 5, self.header_right, align="R")
        self.set_draw_color(200, 200, 200)
        self.line(self.l_margin, 14, self.w - self.r_margin, 14)
        self.set_text_color(0, 0, 0)
        self.set_y(18)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 8)
        self.set_text_color(*GREY_RGB)
        self.cell(0, 5, self.footer_text(self.page_no()), align="C")
        self.set_text_color(0, 0, 0)


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """The text cut with "…" to fit in one line of `width`."""
    if pdf.get_string_width(text) <= width - 2:
        return text
    while text and pdf.get_string_width(text + "…") > width - 2:
        text = text[:-1]
    return text.rstrip() + "…"


def _heading(pdf: FPDF, text: str) -> None:
    if pdf.get_y() > pdf.h - 50:
        pdf.add_page()
    pdf.ln(3)
    pdf.set_font(FONT, "B", 13)
    pdf.multi_cell(0, 7, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 9.5)
    pdf.ln(1)


def _paragraph(pdf: FPDF, text: str, size: float = 9.5, bold: bool = False) -> None:
    pdf.set_font(FONT, "B" if bold else "", size)
    pdf.multi_cell(0, size * 0.5, _clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _table(
    pdf: FPDF,
    headings: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: Sequence[float],
    *,
    size: float = 8.5,
    right: Collection[int] = (),
    red: Collection[tuple[int, int]] = (),
) -> None:
    """A table of the given column widths (mm) that wraps its text, its headings repeated on
    each page it runs over; the cells (row, column) in `red` written in red."""
    style = Style(FONT, size, HEADING_FILL, OVERDUE_RGB)
    cleaned = [[_clean(value) for value in values] for values in rows]
    draw_table(pdf, headings, cleaned, widths, style, right=right, red=red)


def _group_rows(tr: _Texts, groups: Sequence[GroupProgress]) -> list[list[str]]:
    return [
        [
            g.name,
            tr.number(g.total),
            *(tr.number(g.count(s.value)) for s in STATUS_ORDER),
            tr.number(g.overdue),
            tr.percent(g.progress) if g.applicable else "—",
        ]
        for g in groups
    ]


def _group_headings(tr: _Texts, first: str) -> list[str]:
    return [
        first,
        tr._("Actions"),
        *(tr.status(s.value) for s in STATUS_ORDER),
        tr._("Overdue"),
        tr._("Progress"),
    ]


def _chart(tr: _Texts, report: PlanReport) -> bytes:
    summary = report.summary
    bars = [
        Bar(
            g.name,
            [g.count(s.value) for s in STATUS_ORDER],
            g.overdue,
            progress=tr.percent(g.progress) if g.applicable else "",
        )
        for g in summary.by_block[:20]
    ]
    series = [Series(tr.status(s.value), STATUS_COLOURS[s]) for s in STATUS_ORDER]
    subtitle = " · ".join(
        [
            tr.n_("{n} key action", "{n} key actions", summary.total),
            tr.date(report.day),
        ]
    )
    return status_chart(
        report.title,
        bars,
        series,
        xlabel=tr._("Key actions"),
        overdue_text=lambda n: tr.n_("{n} overdue", "{n} overdue", n),
        subtitle=subtitle,
    )


def _units(row: MatrixRow) -> str:
    return "; ".join(row.units)


def render_report(report: PlanReport, locale: str) -> bytes:
    """The report as PDF bytes (CPU only: call it in a worker thread)."""
    tr = _Texts(locale)
    as_of = tr._("Situation as of {date}", date=tr.date(report.day, "long"))
    pdf = _Document(
        _clean(report.title),
        as_of,
        lambda page: tr._("Page {page} of {pages}", page=page, pages="{nb}") + " · " + as_of,
    )
    pdf.add_page()
    pdf.set_font(FONT, "B", 17)
    pdf.multi_cell(0, 8, _clean(report.title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)
    details = [
        (tr._("Programme"), report.programme),
        (tr._("Evaluation"), report.evaluation),
    ]
    for label, value in details:
        if value.strip():
            _paragraph(pdf, f"{label}: {value}", 10.5)
    _paragraph(pdf, as_of, 10.5, bold=True)
    if report.past:
        _paragraph(
            pdf,
            tr._(
                "Statuses and comments as they stood at the end of that day, rebuilt from the "
                "history; texts, deadlines and units are today's."
            ),
            8.5,
        )

    summary = report.summary
    _heading(pdf, tr._("Summary"))
    _paragraph(
        pdf,
        tr.n_("{n} key action", "{n} key actions", summary.total)
        + " · "
        + tr._(
            "progress {percent} (completed over the actions that still apply)",
            percent=tr.percent(summary.progress),
        ),
    )
    percents = summary.percents()
    status_rows = [
        [
            tr.status(s.value),
            tr.number(summary.by_status.get(s.value, 0)),
            tr.percent(percents.get(s.value, 0) / 100),
        ]
        for s in STATUS_ORDER
    ]
    status_rows.append([tr._("Overdue"), tr.number(summary.overdue), ""])
    status_rows += [
        [tr.review(r.value), tr.number(summary.by_review.get(r.value, 0)), ""] for r in ReviewStatus
    ]
    _table(
        pdf,
        [tr._("Status"), tr._("Actions"), tr._("Share")],
        status_rows,
        (60, 25, 25),
        size=9.5,
        right=(1, 2),
        red={(len(STATUS_ORDER), 0), (len(STATUS_ORDER), 1)} if summary.overdue else (),
    )
    if summary.total:
        png = _chart(tr, report)
        pdf.image(io.BytesIO(png), w=pdf.epw * 0.9, x=pdf.l_margin + pdf.epw * 0.05)
    widths = (33, 21, 21, 21, 21, 21, 21, 21)
    _heading(pdf, tr._("By recommendation"))
    _table(
        pdf,
        _group_headings(tr, tr._("Recommendation")),
        _group_rows(tr, summary.by_block),
        widths,
        size=7.5,
        right=tuple(range(1, 8)),
    )
    _heading(pdf, tr._("By unit"))
    _table(
        pdf,
        _group_headings(tr, tr._("Unit")),
        _group_rows(tr, summary.by_unit),
        widths,
        size=7.5,
        right=tuple(range(1, 8)),
    )

    _heading(pdf, tr._("Overdue actions ({n})", n=tr.number(len(report.overdue))))
    if report.overdue:
        _table(
            pdf,
            [tr._("Action"), tr._("Key action"), tr._("Due"), tr._("Responsible units")],
            [
                [
                    action_ref(row.label, row.number),
                    row.text,
                    (tr.date(row.deadline_due) if row.deadline_due else "")
                    + (f"\n({row.deadline_text})" if row.deadline_text else ""),
                    _units(row),
                ]
                for row in report.overdue
            ],
            (16, 84, 35, 45),
            size=8,
            red={(index, 2) for index in range(len(report.overdue))},
        )
    else:
        _paragraph(pdf, tr._("No action is overdue."))

    pdf.add_page()
    _heading(pdf, tr._("The plan, action by action"))
    _matrix(pdf, tr, report.rows)
    return bytes(pdf.output())


def _matrix(pdf: FPDF, tr: _Texts, rows: Sequence[MatrixRow]) -> None:
    """Per recommendation: its text, then a table of its actions."""
    headings = [
        tr._("No."),
        tr._("Key action"),
        tr._("Deadline"),
        tr._("Responsible units"),
        tr._("Status"),
        tr._("Latest comment"),
        tr._("Review"),
    ]
    widths = (11, 45, 20, 25, 19, 42, 18)
    blocks: list[tuple[str, str, list[MatrixRow]]] = []
    for row in rows:
        if not blocks or blocks[-1][0] != row.label:
            blocks.append((row.label, row.recommendation, []))
        blocks[-1][2].append(row)
    for label, text, actions in blocks:
        if pdf.get_y() > pdf.h - 60:
            pdf.add_page()
        pdf.ln(1)
        _paragraph(pdf, tr._("Recommendation {label}", label=label), 10, bold=True)
        if text.strip():
            _paragraph(pdf, text, 8.5)
        pdf.ln(1)
        values: list[list[str]] = []
        red: set[tuple[int, int]] = set()
        for row in actions:
            status = tr.status(row.status)
            if row.overdue:
                status += "\n" + tr._("Overdue")
                red.add((len(values), 4))
            comment = row.follow_up
            if row.review:
                comment += ("\n" if comment else "") + tr._("Secretariat") + ": " + row.review
            values.append(
                [
                    action_ref(row.label, row.number),
                    row.text,
                    row.deadline_text,
                    _units(row),
                    status,
                    comment,
                    tr.review(row.review_status),
                ]
            )
        _table(pdf, headings, values, widths, size=7.5, red=red)


async def plan_report_pdf(
    session: AsyncSession,
    plan_id: int,
    *,
    locale: str,
    tz: str | dt.tzinfo,
    as_of: dt.date | None = None,
) -> bytes:
    """The plan's report as it stands (or as it stood at the end of `as_of`, a day in `tz`),
    rendered in a worker thread."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    today = today_in(zone)
    past = as_of is not None and as_of < today
    report = await plan_report(
        session,
        plan_id,
        today=as_of if past and as_of is not None else today,
        as_of=end_of_day(as_of, zone) if past and as_of is not None else None,
    )
    return await asyncio.to_thread(render_report, report, locale)
