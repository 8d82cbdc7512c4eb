"""/resumen as text: a plan's (or the portfolio's) summary in one message that fits whatever
its size, the overdue pages, and the pieces they are made of. Rendering only: what to summarise
is decided in `handlers.summary`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import partial

from handlers.i18n import Safe, Tr
from handlers.labels import OVERDUE_MARK, REVIEW_MARKS, STATUS_MARKS, review_label, status_label
from handlers.text import MESSAGE_LIMIT, shorten, split_message, telegram_length
from storage.actions import ActionRow
from storage.models import ReviewStatus, Status
from storage.summary import GroupProgress, OverdueList, PlanSummary

BAR_CELLS = 10
LIST_LIMIT = 8
NEXT_LIMIT = 5
GROUP_LIMIT = 12
#: Overdue actions a page of `/resumen vencidas` lists (the longest lines still fit a message).
OVERDUE_PAGE = 12
STATUS_ORDER = (Status.COMPLETED, Status.IN_PROGRESS, Status.NOT_STARTED, Status.NOT_APPLICABLE)


def bar(share: float, cells: int = BAR_CELLS) -> str:
    filled = max(0, min(cells, round(share * cells)))
    return "█" * filled + "░" * (cells - filled)


def _more(tr: Tr, count: int) -> list[str]:
    return [tr.n_("… and {n} more", "… and {n} more", count)] if count > 0 else []


def _status_lines(tr: Tr, summary: PlanSummary) -> list[str]:
    """A line per status: its share (whole percents adding up to 100), its count, and how many
    of them the secretariat has validated."""
    lines = []
    percents = summary.percents()
    for status in STATUS_ORDER:
        count = summary.by_status.get(status.value, 0)
        if summary.overdue_only and not count:
            continue
        share = percents.get(status.value, 0) / 100
        line = tr._(
            "<code>{bar} {percent}</code> {mark} {label}: <b>{n}</b>",
            bar=bar(share),
            percent=tr.percent(share).rjust(5),
            mark=STATUS_MARKS[status],
            label=status_label(tr, status),
            n=tr.number(count),
        )
        if count:
            validated = summary.validated_by_status.get(status.value, 0)
            line += tr.n_(" · {n} validated", " · {n} validated", validated)
        lines.append(line)
    return lines


def share_text(tr: Tr, share: float, applicable: int) -> str:
    """A progress as a percent, or a dash when nothing applies (there is no progress to show)."""
    return tr.percent(share) if applicable else "—"


def progress_line(tr: Tr, summary: PlanSummary) -> str:
    return tr._(
        "🎯 Progress: <b>{percent}</b> · {completed}/{applicable}",
        percent=share_text(tr, summary.progress, summary.applicable),
        completed=tr.number(summary.completed),
        applicable=tr.number(summary.applicable),
    )


def legend(tr: Tr) -> str:
    return tr._("<i>Progress (x/y) = completed ÷ (all − no longer applicable).</i>")


def _as_of(tr: Tr, now: dt.datetime, day: dt.date | None = None) -> str:
    """When the summary was made, or the day it was asked "as of" ("Situación al 31 de marzo
    de 2012")."""
    if day is not None:
        return tr._("<i>Situation as of {date}</i>", date=tr.date(day, "long"))
    return tr._("<i>As of {when}</i>", when=tr.datetime(now))


def _key_figures(tr: Tr, summary: PlanSummary) -> str:
    pieces = [
        tr._("{mark} Overdue: <b>{n}</b>", mark=OVERDUE_MARK, n=tr.number(summary.overdue)),
        tr._(
            "💤 No update in {days} days: <b>{n}</b>",
            days=summary.stale_days,
            n=tr.number(summary.stale),
        ),
    ]
    if summary.conditional:
        pieces.append(tr._("⏳ Conditional: <b>{n}</b>", n=tr.number(summary.conditional)))
    return " · ".join(pieces)


def _units_text(units_of: dict[int, list[str]], action_id: int, limit: int = 2) -> str:
    names = [shorten(n, 36) for n in units_of.get(action_id, [])]
    text = ", ".join(names[:limit])
    return text + (f" +{len(names) - limit}" if len(names) > limit else "")


def _ref(plan_titles: dict[int, str], row: ActionRow) -> str:
    """The action's reference, after its plan's (short) title when several plans are listed."""
    ref = shorten(row.ref, 20)
    title = plan_titles.get(row.plan_id)
    return f"{shorten(title, 24)} · {ref}" if title else ref


def _overdue_line(
    tr: Tr,
    row: ActionRow,
    today: dt.date,
    units_of: dict[int, list[str]],
    plan_titles: dict[int, str],
) -> str:
    """An overdue action: reference, text, units, due date and how long ago it was due."""
    assert row.deadline_due is not None
    return tr._(
        "• <b>{ref}</b> {text} — {units} · due {date}, {delta}",
        ref=_ref(plan_titles, row),
        text=shorten(row.text, 55),
        units=_units_text(units_of, row.id),
        date=tr.short_date(row.deadline_due),
        delta=tr.raw("{delta} overdue", delta=tr.timedelta(today - row.deadline_due)),
    )


def _overdue_lines(tr: Tr, summary: PlanSummary, today: dt.date, limit: int) -> list[str]:
    if not summary.overdue:
        return []
    lines = [
        "",
        tr._("<b>{mark} Overdue ({n})</b>", mark=OVERDUE_MARK, n=tr.number(summary.overdue)),
    ]
    for row in summary.overdue_actions[:limit]:
        lines.append(_overdue_line(tr, row, today, summary.units_of, summary.plan_titles))
    return lines + _more(tr, summary.overdue - min(limit, len(summary.overdue_actions)))


def _group_line(tr: Tr, group: GroupProgress, name_chars: int = 34) -> str:
    line = tr._(
        "<code>{bar}</code> <b>{name}</b> {percent} · {completed}/{applicable}",
        bar=bar(group.progress),
        name=shorten(group.name, name_chars),
        percent=share_text(tr, group.progress, group.applicable),
        completed=tr.number(group.completed),
        applicable=tr.number(group.applicable),
    )
    if group.overdue:
        line += f" · {OVERDUE_MARK} {tr.number(group.overdue)}"
    return line


def _groups(
    tr: Tr, title: str, groups: Sequence[GroupProgress], total: int, limit: int
) -> list[str]:
    if not groups:
        return []
    lines = ["", title]
    lines += [_group_line(tr, g) for g in groups[:limit]]
    return lines + _more(tr, total - min(limit, len(groups)))


def _next_lines(tr: Tr, summary: PlanSummary, limit: int) -> list[str]:
    if not summary.next_deadlines:
        return []
    lines = ["", tr._("<b>📅 Next deadlines</b>")]
    for row in summary.next_deadlines[:limit]:
        assert row.deadline_due is not None
        units = _units_text(summary.units_of, row.id)
        lines.append(
            tr._(
                "• {date} · <b>{ref}</b> {text}",
                date=tr.short_date(row.deadline_due),
                ref=_ref(summary.plan_titles, row),
                text=shorten(row.text, 55),
            )
            + (tr._(" ({units})", units=units) if units else "")
        )
    return lines + _more(tr, summary.upcoming - min(limit, len(summary.next_deadlines)))


def _review_line(tr: Tr, summary: PlanSummary) -> str:
    pieces = [
        f"{REVIEW_MARKS[status]} "
        + tr._(
            "{label} {n}",
            label=review_label(tr, status),
            n=tr.number(summary.by_review.get(status.value, 0)),
        )
        for status in ReviewStatus
    ]
    return tr._("<b>Secretariat review:</b> {counts}", counts=Safe(" · ".join(pieces)))


def _head(
    tr: Tr,
    summary: PlanSummary,
    title: str,
    scope_lines: Sequence[str],
    now: dt.datetime,
    as_of: dt.date | None,
) -> list[str]:
    """Title, scope, "as of", the number of actions and the progress."""
    lines = [
        tr._("📊 <b>{title}</b>", title=shorten(title, 120)),
        *scope_lines,
        _as_of(tr, now, as_of),
    ]
    lines.append(tr.n_("<b>{n}</b> key action", "<b>{n}</b> key actions", summary.total))
    if summary.total and not summary.overdue_only:
        lines.append(progress_line(tr, summary))
    return lines


def render_overdue(
    tr: Tr,
    summary: PlanSummary,
    listing: OverdueList,
    *,
    page: int,
    title: str,
    scope_lines: Sequence[str],
    today: dt.date,
    now: dt.datetime,
    as_of: dt.date | None = None,
) -> str:
    """A page of `/resumen vencidas`: the counts, then every overdue action of the page."""
    lines = _head(tr, summary, title, scope_lines, now, as_of)
    if not summary.total:
        return "\n".join(lines)
    lines += ["", *_status_lines(tr, summary)]
    heading = tr._("<b>{mark} Overdue ({n})</b>", mark=OVERDUE_MARK, n=tr.number(listing.total))
    pages = pages_of(listing.total)
    if pages > 1:
        heading += " " + tr._("(page {page} of {pages})", page=page + 1, pages=pages)
    lines += ["", heading]
    lines += [
        _overdue_line(tr, row, today, listing.units_of, listing.plan_titles) for row in listing.rows
    ]
    return "\n".join(lines)


def pages_of(total: int) -> int:
    return max(1, -(-total // OVERDUE_PAGE))


def render_summary(
    tr: Tr,
    summary: PlanSummary,
    *,
    title: str,
    scope_lines: Sequence[str],
    today: dt.date,
    now: dt.datetime,
    as_of: dt.date | None = None,
    compact: bool = False,
    hint: bool = False,
) -> str:
    """The summary as HTML; `compact` shortens every list (used when the full one is too long)."""
    lists = 4 if compact else LIST_LIMIT
    groups = 6 if compact else GROUP_LIMIT
    lines = _head(tr, summary, title, scope_lines, now, as_of)
    if not summary.total:
        return "\n".join(lines)
    lines += ["", *_status_lines(tr, summary), _key_figures(tr, summary)]
    lines += _overdue_lines(tr, summary, today, lists)
    if summary.portfolio:
        lines += _groups(
            tr,
            tr._("<b>By plan</b> (most overdue first)"),
            summary.by_plan,
            summary.plans_total,
            groups,
        )
    else:
        lines += _groups(
            tr, tr._("<b>By recommendation</b>"), summary.by_block, summary.blocks_total, groups
        )
    if summary.scope_unit is None:
        lines += _groups(tr, tr._("<b>By unit</b>"), summary.by_unit, summary.units_total, groups)
    if not summary.overdue_only:
        lines += _next_lines(tr, summary, min(lists, NEXT_LIMIT))
    lines += ["", _review_line(tr, summary), legend(tr)]
    if hint:
        lines += ["", tr._("Narrow it down: /resumen PNUD · /resumen 4 · /resumen vencidas")]
    return "\n".join(lines)


def fit_summary(
    tr: Tr,
    summary: PlanSummary,
    *,
    title: str,
    scope_lines: Sequence[str],
    today: dt.date,
    now: dt.datetime,
    as_of: dt.date | None = None,
    hint: bool = False,
) -> list[str]:
    """The summary in one message when at all possible (shorter lists first, then split)."""
    render = partial(
        render_summary,
        tr,
        summary,
        title=title,
        scope_lines=scope_lines,
        today=today,
        now=now,
        as_of=as_of,
    )
    text = render(hint=hint)
    if telegram_length(text) > MESSAGE_LIMIT:
        text = render(hint=hint, compact=True)
    if telegram_length(text) <= MESSAGE_LIMIT:
        return [text]
    return split_message(text, MESSAGE_LIMIT - 200)
