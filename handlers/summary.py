"""/resumen: where the plan stands, in one message that fits whatever the plan's size, and its
chart on a button.

`/resumen` alone summarises the plan (or asks which one when there are several, with "all plans"
for the portfolio); arguments narrow it: a unit (`/resumen PNUD`), a recommendation block
(`/resumen 4`, `/resumen 2 y 3`; `/resumen 7` finds the merged block "7 y 8"), the overdue
actions (`/resumen vencidas`: every one of them with its due date, in pages with ‹ ›), or a mix
(`/resumen PNUD vencidas`). Focal points get the summary of their own units. `al 31/03/2012`
(or `as of 2012-03-31`) anywhere in them shows the plan as it stood at the end of that day,
rebuilt from the history; the day travels in every button of the summary.

Every figure of progress (headline, blocks, units, plans, chart) is `storage.summary`'s
`progress_share`: completed ÷ (all − no longer applicable), stated once in the legend; status
percentages are whole and add up to 100 (`rounded_percents`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from handlers.as_of import compact, take_as_of
from handlers.buttons import parse_any
from handlers.context import Deps, FlowContext, Strangers, flow
from handlers.dashboard import with_dashboard
from handlers.i18n import Tr
from handlers.labels import (
    OVERDUE_MARK,
    status_label,
)
from handlers.replies import ButtonRow, OutgoingFile, Reply, View, stale_button
from handlers.summary_buttons import (
    ALL_PLANS,
    SUMMARY_BUTTONS,
    UNCHOSEN,
    ExportFormat,
    ExportPlan,
    OverduePage,
    Scope,
    ShowSummary,
    SummaryChart,
    SummaryPlans,
)
from handlers.summary_text import (
    GROUP_LIMIT,
    LIST_LIMIT,
    OVERDUE_PAGE,
    STATUS_ORDER,
    fit_summary,
    legend,
    pages_of,
    progress_line,
    render_overdue,
    share_text,
)
from handlers.text import CAPTION_LIMIT, shorten, split_message
from reports.charts import Bar, Series, status_chart
from storage.actions import find_units_matching
from storage.clock import end_of_day
from storage.models import Person, Role, Status
from storage.offloop import in_reader_thread
from storage.summary import (
    PlanChoice,
    PlanSummary,
    block_labels,
    overdue_list,
    plan_choices,
    summarise,
    unit_names,
)
from storage.text import fold

OVERDUE_WORDS = {
    "vencidas",
    "vencida",
    "vencidos",
    "vencido",
    "atrasadas",
    "atrasada",
    "overdue",
    "late",
}
ALL_WORDS = {"todos", "todas", "todo", "cartera", "portfolio", "portafolio", "all"}
BLOCK_WORDS = {"recomendacion", "recomendaciones", "recommendation", "rec", "bloque", "block"}
PICKER_PAGE = 8
CHART_GROUPS = 20
UNIT_CHOICES = 8
EXPORT_ROLES = (Role.COORDINATOR, Role.ADMIN, Role.SECRETARIAT)
STATUS_COLOURS = {
    Status.COMPLETED: "#2E7D32",
    Status.IN_PROGRESS: "#1976D2",
    Status.NOT_STARTED: "#9E9E9E",
    Status.NOT_APPLICABLE: "#424242",
}


# --------------------------------------------------------------------------------------------
# What the person asked for


def block_key(label: str) -> str:
    """The key of a block label: "2 y 3", "2y3", "2 and 3" and "Nº 2 y 3" are one block."""
    text = fold(label).replace("°", "o")
    text = re.sub(r"^(?:n|no|num|numero)\.?\s*(?=\d)", "", text)
    text = re.sub(r"\s*(?:,|&|\+|\band\b|\by\b)\s*", "y", text)
    return re.sub(r"\s+", "", text)


def matching_labels(labels: Sequence[str], key: str) -> list[str]:
    """The labels of a block key: those with that very key, else (a bare number) the merged
    blocks it is one of, so that "7" finds "7 y 8"."""
    exact = [label for label in labels if block_key(label) == key]
    if exact or not key.isdigit():
        return exact
    return [label for label in labels if key in block_key(label).split("y")]


@dataclass(slots=True)
class Parsed:
    scope: Scope = field(default_factory=Scope)
    unit_query: str = ""
    error: str | None = None
    units: list[tuple[int, str]] = field(default_factory=list)  # several units match


async def parse_arguments(
    session: AsyncSession, text: str, tr: Tr, today: dt.date | None = None
) -> Parsed:
    """Turn the words after /resumen into a scope (or an error, or a choice of units)."""
    as_of = take_as_of(text.split(), tr, today or dt.date.max, "/resumen al 31/03/2012")
    if as_of.error:
        return Parsed(error=as_of.error)
    words = as_of.words
    overdue = any(fold(w) in OVERDUE_WORDS for w in words)
    everything = any(fold(w) in ALL_WORDS for w in words)
    rest = [w for w in words if fold(w) not in OVERDUE_WORDS | ALL_WORDS]
    if rest and fold(rest[0]) in BLOCK_WORDS:
        rest = rest[1:]
    query = " ".join(rest)
    scope = Scope(plan=ALL_PLANS if everything else UNCHOSEN, overdue=overdue, as_of=as_of.day)
    if not query:
        return Parsed(scope)
    key = block_key(query)
    if matching_labels(await block_labels(session), key):
        return Parsed(replace(scope, block=key))
    units = await find_units_matching(session, query)
    if len(units) == 1:
        return Parsed(replace(scope, unit_id=units[0].id))
    if not units:
        return Parsed(
            scope,
            unit_query=query,
            error=tr._("No unit or recommendation matches “{text}”.", text=query),
        )
    return Parsed(scope, unit_query=query, units=[(u.id, u.name) for u in units])


# --------------------------------------------------------------------------------------------
# Building a view for a person


def _allowed_units(person: Person) -> list[int] | None:
    """None: every action; a list: the focal point's units."""
    return None if person.role != Role.FOCAL else [u.id for u in person.units]


def picker(tr: Tr, plans: Sequence[PlanChoice], scope: Scope, page: int = 0) -> View:
    pages = max(1, -(-len(plans) // PICKER_PAGE))
    page = max(0, min(page, pages - 1))
    rows: list[ButtonRow] = []
    for plan in plans[page * PICKER_PAGE : (page + 1) * PICKER_PAGE]:
        label = tr.raw("{title} ({n})", title=shorten(plan.title, 48), n=plan.actions)
        rows.append([(label, ShowSummary(replace(scope, plan=str(plan.id))))])
    nav: ButtonRow = []
    if page > 0:
        nav.append(("‹", SummaryPlans(page - 1, scope)))
    if page < pages - 1:
        nav.append(("›", SummaryPlans(page + 1, scope)))
    if nav:
        rows.append(nav)
    rows.append([(tr.raw("📚 All plans"), ShowSummary(replace(scope, plan=ALL_PLANS)))])
    text = tr._("Which plan? There are {n} plans.", n=tr.number(len(plans)))
    if pages > 1:
        text += " " + tr._("(page {page} of {pages})", page=page + 1, pages=pages)
    return View(text, rows)


def _unit_choice(tr: Tr, parsed: Parsed) -> View:
    rows = [
        [(shorten(name, 60), ShowSummary(replace(parsed.scope, unit_id=uid)))]
        for uid, name in parsed.units[:UNIT_CHOICES]
    ]
    text = tr._("Several units match “{text}”. Which one?", text=parsed.unit_query)
    if len(parsed.units) > UNIT_CHOICES:
        text += "\n" + tr._("Only the first {n} are shown: type more of the name.", n=UNIT_CHOICES)
    return View(text, rows)


@dataclass(slots=True)
class Resolved:
    """A scope checked against the person and the database, ready to summarise."""

    scope: Scope
    title: str
    scope_lines: list[str]
    unit_ids: list[int] | None
    block_labels: list[str] | None
    plan_ids: list[int] | None
    plans_to_choose: int = 1


async def resolve(
    session: AsyncSession, person: Person, tr: Tr, scope: Scope, page: int = 0
) -> Resolved | View:
    """Check what the person may see and pick the plan; a View when there is something to say
    or choose first (no plans, a plan to pick, a unit that is not theirs...)."""
    allowed = _allowed_units(person)
    if allowed is not None and not allowed:
        return View(tr._("You have no units assigned yet: ask the administrator."))
    if allowed is not None and scope.unit_id is not None and scope.unit_id not in allowed:
        return View(tr._("You can see the summary of your own units only."))
    plans = await plan_choices(session, unit_ids=allowed, counts=scope.plan == UNCHOSEN)
    if not plans:
        return View(tr._("There is no plan to summarise yet."))
    if scope.plan == UNCHOSEN:
        if len(plans) > 1:
            return picker(tr, plans, scope, page)
        scope = replace(scope, plan=str(plans[0].id))
    plan_ids = scope.plan_ids
    if plan_ids is not None and plan_ids[0] not in {p.id for p in plans}:
        return View(tr._("That plan no longer exists."))
    title = (
        next(p.title for p in plans if p.id == plan_ids[0])
        if plan_ids is not None
        else tr.raw("All plans ({n})", n=len(plans))
    )
    lines: list[str] = []
    unit_ids = allowed
    if scope.unit_id is not None:
        unit_ids = [scope.unit_id]
        name = (await unit_names(session, unit_ids)).get(scope.unit_id, "?")
        lines.append(tr._("Unit: <b>{name}</b>", name=shorten(name, 80)))
    elif allowed is not None:
        names = sorted((await unit_names(session, allowed)).values())
        lines.append(
            tr._("Your units: {names}", names=", ".join(shorten(n, 40) for n in names[:5]))
            + (f" +{len(names) - 5}" if len(names) > 5 else "")
        )
    labels = None
    if scope.block:
        labels = matching_labels(await block_labels(session, plan_ids), scope.block)
        if not labels:
            return View(tr._("This plan has no recommendation “{label}”.", label=scope.block))
        lines.append(tr._("Recommendation <b>{label}</b>", label=labels[0]))
    if scope.overdue:
        lines.append(tr._("{mark} Overdue actions only", mark=OVERDUE_MARK))
    return Resolved(scope, title, lines, unit_ids, labels, plan_ids, len(plans))


def today_of(deps: Deps, scope: Scope) -> dt.date:
    """The day the summary is of: the one asked for, else today."""
    return scope.as_of or deps.today()


def moment_of(deps: Deps, scope: Scope) -> dt.datetime:
    """The moment the summary is of: the end of the day asked for, else now."""
    return end_of_day(scope.as_of, deps.timezone) if scope.as_of else deps.now()


async def summary_for(
    session: AsyncSession, deps: Deps, resolved: Resolved, *, group_limit: int = GROUP_LIMIT
) -> PlanSummary:
    scope = resolved.scope
    read = partial(
        summarise,
        today=today_of(deps, scope),
        now=moment_of(deps, scope),
        as_of=moment_of(deps, scope) if scope.as_of else None,
        plan_ids=resolved.plan_ids,
        unit_ids=resolved.unit_ids,
        block_labels=resolved.block_labels,
        overdue_only=resolved.scope.overdue,
        stale_days=deps.stale_days,
        list_limit=LIST_LIMIT,
        group_limit=group_limit,
    )
    # The portfolio's summary is a long read: off the loop, on the reader thread's connection.
    portfolio = resolved.plan_ids is None or len(resolved.plan_ids) > 1
    summary = await (in_reader_thread(deps.sessions, read) if portfolio else read(session))
    return replace(
        summary,
        scope_unit=str(resolved.scope.unit_id) if resolved.scope.unit_id is not None else None,
    )


def _summary_buttons(
    tr: Tr, person: Person, resolved: Resolved, summary: PlanSummary, several_plans: bool
) -> list[ButtonRow]:
    scope = resolved.scope
    first: ButtonRow = [(tr.raw("📈 Chart"), SummaryChart(scope))]
    if summary.overdue and not scope.overdue:
        first.append((tr.raw("🔴 Overdue only"), ShowSummary(replace(scope, overdue=True))))
    elif scope.overdue or scope.unit_id is not None or scope.block:
        whole = Scope(plan=scope.plan, as_of=scope.as_of)
        first.append((tr.raw("↩ Whole plan"), ShowSummary(whole)))
    rows = [first]
    second: ButtonRow = []
    if several_plans:
        second.append((tr.raw("📚 Another plan"), SummaryPlans(0, scope)))
    if person.role in EXPORT_ROLES and resolved.plan_ids is not None:
        day = compact(scope.as_of)  # the files show the plan on the summary's day
        spreadsheet = ExportPlan(ExportFormat.XLSX, resolved.plan_ids[0], day)
        second.append((tr.raw("📥 Spreadsheet"), spreadsheet))
        report = ExportPlan(ExportFormat.PDF, resolved.plan_ids[0], day)
        second.append((tr.raw("📄 PDF report"), report))
    if second:
        rows.append(second)
    return rows


async def build_view(
    session: AsyncSession,
    deps: Deps,
    person: Person,
    tr: Tr,
    scope: Scope,
    page: int = 0,
    overdue_page: int = 0,
) -> list[View]:
    resolved = await resolve(session, person, tr, scope, page)
    if isinstance(resolved, View):
        return [resolved]
    summary = await summary_for(session, deps, resolved)
    several = resolved.plans_to_choose > 1
    buttons = _summary_buttons(tr, person, resolved, summary, several) if summary.total else []
    if resolved.scope.overdue:
        return [await _overdue_view(session, deps, tr, resolved, summary, overdue_page, buttons)]
    parts = fit_summary(
        tr,
        summary,
        title=resolved.title,
        scope_lines=resolved.scope_lines,
        today=today_of(deps, scope),
        now=moment_of(deps, scope),
        hint=not (scope.overdue or scope.unit_id or scope.block),
        as_of=scope.as_of,
    )
    return [View(part, buttons if i == len(parts) - 1 else []) for i, part in enumerate(parts)]


async def _overdue_view(
    session: AsyncSession,
    deps: Deps,
    tr: Tr,
    resolved: Resolved,
    summary: PlanSummary,
    page: int,
    buttons: list[ButtonRow],
) -> View:
    """A page of every overdue action of the scope, with ‹ › when there are several."""
    page = max(0, min(page, pages_of(summary.overdue) - 1))
    scope = resolved.scope
    listing = await overdue_list(
        session,
        today=today_of(deps, scope),
        as_of=moment_of(deps, scope) if scope.as_of else None,
        plan_ids=resolved.plan_ids,
        unit_ids=resolved.unit_ids,
        block_labels=resolved.block_labels,
        offset=page * OVERDUE_PAGE,
        limit=OVERDUE_PAGE,
    )
    text = render_overdue(
        tr,
        summary,
        listing,
        page=page,
        title=resolved.title,
        scope_lines=resolved.scope_lines,
        today=today_of(deps, scope),
        now=moment_of(deps, scope),
        as_of=scope.as_of,
    )
    nav: ButtonRow = []
    if page > 0:
        nav.append(("‹", OverduePage(page - 1, resolved.scope)))
    if page < pages_of(listing.total) - 1:
        nav.append(("›", OverduePage(page + 1, resolved.scope)))
    return View(text, [nav, *buttons] if nav else buttons)


# --------------------------------------------------------------------------------------------
# Chart


def chart_png(tr: Tr, summary: PlanSummary, title: str, today: dt.date) -> bytes:
    groups = summary.by_plan if summary.portfolio else summary.by_block
    bars = [
        Bar(
            g.name,
            [g.count(s.value) for s in STATUS_ORDER],
            g.overdue,
            progress=share_text(tr, g.progress, g.applicable),
        )
        for g in groups
    ]
    series = [Series(status_label(tr, s), STATUS_COLOURS[s]) for s in STATUS_ORDER]
    subtitle = " · ".join(
        [
            tr.n_("{n} key action", "{n} key actions", summary.total),
            tr.raw(
                "progress {percent}",
                percent=share_text(tr, summary.progress, summary.applicable),
            ),
            tr.short_date(today),
        ]
    )
    return status_chart(
        title,
        bars,
        series,
        xlabel=tr.raw("Key actions"),
        overdue_text=lambda n: tr.n_("{n} overdue", "{n} overdue", n),
        subtitle=subtitle,
    )


def chart_caption(tr: Tr, summary: PlanSummary, title: str, scope_lines: Sequence[str]) -> str:
    lines = [tr._("📈 <b>{title}</b>", title=shorten(title, 200)), *scope_lines]
    overdue = tr.n_("{n} overdue", "{n} overdue", summary.overdue)
    lines.append(
        tr.n_("<b>{n}</b> key action", "<b>{n}</b> key actions", summary.total)
        + f" · {OVERDUE_MARK} {overdue}"
    )
    lines += [progress_line(tr, summary), legend(tr)]
    if (summary.blocks_total if not summary.portfolio else summary.plans_total) > CHART_GROUPS:
        lines.append(tr._("Only the first {n} are drawn.", n=CHART_GROUPS))
    return split_message("\n".join(lines), CAPTION_LIMIT)[0]


# --------------------------------------------------------------------------------------------
# Handlers


@flow(strangers=Strangers.REFUSE)
async def summary_command(update: Update, context: FlowContext) -> Reply:
    """/resumen [UNIT|Nº|vencidas|todos]: where the plan stands (groups too)."""
    tr = context.tr
    text = " ".join(context.args or [])
    parsed = await parse_arguments(context.session, text, tr, context.deps.today())
    if parsed.error:
        return Reply([View(parsed.error)])
    if parsed.units:
        return Reply([_unit_choice(tr, parsed)])
    return Reply(await _summary_views(context, parsed.scope))


@flow(strangers=Strangers.REFUSE)
async def summary_pressed(update: Update, context: FlowContext) -> Reply:
    """A summary button: another scope or plan, a page of plans or of overdue actions, or the
    chart."""
    button = parse_any(update, *SUMMARY_BUTTONS)
    match button:
        case ShowSummary(scope=scope):
            return Reply(await _summary_views(context, scope))
        case SummaryPlans(page=page, scope=scope):
            return Reply(await _summary_views(context, scope, page))
        case SummaryChart(scope=scope):
            return Reply([await chart_view(context, scope)], edit=False)
        case OverduePage(page=page, scope=scope):
            return Reply(await _summary_views(context, scope, overdue_page=page))
    return stale_button(context.tr)


async def _summary_views(
    context: FlowContext, scope: Scope, page: int = 0, overdue_page: int = 0
) -> list[View]:
    views = await build_view(
        context.session, context.deps, context.person, context.tr, scope, page, overdue_page
    )
    return with_dashboard(
        views,
        context.tr,
        url=context.deps.web_app_url,
        role=context.person.role,
        in_private=context.in_private,
    )


async def chart_view(context: FlowContext, scope: Scope) -> View:
    """The chart as a photo, drawn when sent, off the event loop (`reports.charts`: in a worker
    process, matplotlib is slow to load and heavy)."""
    tr, deps = context.tr, context.deps
    resolved = await resolve(context.session, context.person, tr, scope)
    if isinstance(resolved, View):
        return resolved
    summary = await summary_for(context.session, deps, resolved, group_limit=CHART_GROUPS)
    if not summary.total:
        return View(tr._("Nothing to draw: no key actions here."))
    draw = partial(chart_png, tr, summary, resolved.title, today_of(deps, resolved.scope))
    caption = chart_caption(tr, summary, resolved.title, resolved.scope_lines)
    return View(caption, file=OutgoingFile("photo", "resumen.png", render=draw))
