"""The dashboard's JSON API: read-only, every call signed by Telegram (`bot.web.auth`), every
answer from `storage` under the chat's own visibility rules, labels in the person's language.

| route | what |
|---|---|
| `GET /api/plans` | the person, the plans they may see, the labels and the page's texts (`i18n`) |
| `GET /api/plans/{id}/matrix` | one row per visible key action, filtered and sorted |
| `GET /api/plans/{id}/summary` | `/resumen`'s numbers (the same `storage.summary`) |
| `GET /api/plans/{id}/chart.png` | `/resumen`'s chart (drawn in a worker thread) |
| `GET /api/summary`, `/api/chart.png` | the same for every plan one sees (`/resumen todos`) |
| `GET /api/actions/{id}` | an action's detail, evidence and history |

401: the call is not signed for a registered, active person (and nothing else is said); 403:
an action of someone else's units; 404: no such plan or action (for this person); 400: a filter
that makes no sense, said in the person's language.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.web.auth import Unauthorized, init_data_from, person_of, verify
from handlers.context import Deps
from handlers.i18n import N_, Tr
from handlers.labels import (
    REVIEW_LABELS,
    STATUS_LABELS,
    deadline_in_words,
    review_label,
    role_label,
    status_label,
)
from handlers.summary import CHART_GROUPS, Resolved, chart_png, resolve, summary_for
from handlers.summary_buttons import ALL_PLANS, Scope
from handlers.summary_text import STATUS_ORDER, share_text
from storage.actions import HistoryEntry, action_card, action_history
from storage.errors import NotFound, PermissionDenied
from storage.evidence import evidence_of_seen_action
from storage.matrix import MatrixFilters, MatrixRow, MatrixSort, action_matrix, matrix_choices
from storage.models import Person, ReviewStatus, Role, Status
from storage.summary import GroupProgress, plan_choices

#: The page's own texts, by key (the page shows `i18n[key]`).
PAGE_TEXTS = {
    "title": N_("Improvement plan dashboard"),
    "plan": N_("Plan"),
    "matrix": N_("Key actions"),
    "summary": N_("Summary"),
    "status": N_("Follow-up"),
    "review": N_("Review"),
    "unit": N_("Unit"),
    "block": N_("Recommendation"),
    "overdue_only": N_("Overdue only"),
    "changed_since": N_("Changed since"),
    "sort": N_("Sort by"),
    "descending": N_("Descending"),
    "any": N_("All"),
    "clear": N_("Clear filters"),
    "action": N_("Key action"),
    "deadline": N_("Deadline"),
    "units": N_("Responsible units"),
    "latest_comment": N_("Latest comment"),
    "evidence": N_("Evidence"),
    "last_change": N_("Last change"),
    "overdue": N_("Overdue"),
    "shown": N_("{n} of {total} key actions"),
    "none": N_("No key action matches these filters."),
    "history": N_("History"),
    "no_history": N_("Nothing recorded yet."),
    "open_in_chat": N_("Open in the chat"),
    "back": N_("Back"),
    "progress": N_("Progress"),
    "progress_legend": N_("Progress = completed ÷ (all − no longer applicable)."),
    "total": N_("Key actions"),
    "stale": N_("Without news"),
    "conditional": N_("Conditional"),
    "by_block": N_("By recommendation"),
    "by_plan": N_("By plan"),
    "all_plans": N_("All plans"),
    "by_unit": N_("By unit"),
    "chart": N_("Chart"),
    "loading": N_("Loading…"),
    "error": N_("Something went wrong. Close the dashboard and open it again."),
    "unauthorized": N_(
        "This dashboard opens from the bot's button, for registered people only. Open it again "
        "from Telegram."
    ),
    "read_only": N_("Read-only: changes are made in the chat."),
    "no_plans": N_("There is no plan to show yet."),
    "recommendation_text": N_("Recommendation"),
    "management_response": N_("Management response"),
    "files": N_("Files"),
    "comment": N_("Comment"),
    "review_comment": N_("Review comment"),
    "status_change": N_("Follow-up status"),
    "review_change": N_("Review status"),
}
SORT_LABELS = {
    MatrixSort.REF: N_("Plan order"),
    MatrixSort.DEADLINE: N_("Deadline"),
    MatrixSort.STATUS: N_("Follow-up status"),
    MatrixSort.REVIEW: N_("Review status"),
    MatrixSort.CHANGED: N_("Last change"),
    MatrixSort.EVIDENCE: N_("Evidence"),
}
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class Dashboard:
    """What the API needs from the deployment."""

    deps: Deps
    bot_token: str
    max_age: int  # seconds an initData stays good
    bot_username: str = ""

    def action_link(self, action_id: int) -> str:
        """The deep link that opens the action's card in the chat (`/start a<id>`)."""
        return f"https://t.me/{self.bot_username}?start=a{action_id}" if self.bot_username else ""


class BadRequest(Exception):
    """A filter or parameter the API cannot use; its text is already translated."""


@dataclass(slots=True)
class Caller:
    person: Person
    tr: Tr
    session: AsyncSession


Endpoint = Callable[[Request, Dashboard, Caller], Awaitable[Response]]


def _error(status: int, text: str = "") -> JSONResponse:
    return JSONResponse({"error": text}, status_code=status)


def endpoint(dashboard: Dashboard, handler: Endpoint) -> Callable[[Request], Awaitable[Response]]:
    """A route that answers only callers with a valid `Authorization: tma <initData>`, in a
    read-only session (no write lock taken: chat updates are not held up)."""

    async def run(request: Request) -> Response:
        deps = dashboard.deps
        try:
            user = verify(
                init_data_from(request.headers.get("authorization")),
                dashboard.bot_token,
                now=deps.now(),
                max_age=dashboard.max_age,
            )
        except Unauthorized:
            return _error(401)
        async with deps.sessions() as session:
            try:
                person = await person_of(session, user)
            except Unauthorized:
                return _error(401)
            tr = deps.tr(person.language, user.language_code)
            try:
                return await handler(request, dashboard, Caller(person, tr, session))
            except BadRequest as error:
                return _error(400, str(error))
            except PermissionDenied:
                return _error(403, tr.raw("This action is not assigned to your units."))
            except NotFound as error:
                if error.code == "action_not_found":
                    return _error(404, tr.raw("That action no longer exists."))
                return _error(404, tr.raw("That plan no longer exists."))

    return run


def _allowed_units(person: Person) -> list[int] | None:
    return None if person.role != Role.FOCAL else [u.id for u in person.units]


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _plain(text: str) -> str:
    """Chat HTML (escaped, with tags) as plain text, for the page to show as text."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


# --------------------------------------------------------------------------------------------
# Plans, labels and texts


async def plans(request: Request, dashboard: Dashboard, caller: Caller) -> Response:
    person, tr = caller.person, caller.tr
    choices = await plan_choices(caller.session, unit_ids=_allowed_units(person))
    return JSONResponse(
        {
            "person": {
                "name": person.name,
                "role": person.role,
                "role_label": role_label(tr, person.role),
                "units": [u.name for u in person.units],
            },
            "language": tr.locale,
            "plans": [{"id": p.id, "title": p.title, "actions": p.actions} for p in choices],
            "statuses": [
                {"value": s.value, "label": tr.raw(STATUS_LABELS[s])} for s in STATUS_ORDER
            ],
            "reviews": [
                {"value": r.value, "label": tr.raw(REVIEW_LABELS[r])} for r in ReviewStatus
            ],
            "sorts": [
                {"value": s.value, "label": tr.raw(label)} for s, label in SORT_LABELS.items()
            ],
            "i18n": {key: tr.raw(text) for key, text in PAGE_TEXTS.items()},
        }
    )


async def _visible_plan(caller: Caller, plan_id: int) -> str:
    """The plan's title, if the person sees any of it; else 404 (`NotFound`)."""
    choices = await plan_choices(caller.session, unit_ids=_allowed_units(caller.person))
    for choice in choices:
        if choice.id == plan_id:
            return choice.title
    raise NotFound("plan_not_found", plan_id=plan_id)


# --------------------------------------------------------------------------------------------
# The matrix


def _choice(tr: Tr, value: str, allowed: type[Status] | type[ReviewStatus]) -> str:
    try:
        return allowed(value).value
    except ValueError as exc:
        raise BadRequest(tr.raw("Unknown filter value “{value}”.", value=value)) from exc


def matrix_filters(request: Request, tr: Tr) -> MatrixFilters:
    """The filters of a matrix request (`status`, `review` may repeat or be comma separated;
    `unit`, `block`, `overdue=1`, `since=YYYY-MM-DD`)."""
    query = request.query_params

    def values(name: str) -> list[str]:
        return [v for raw in query.getlist(name) for v in raw.split(",") if v.strip()]

    unit = query.get("unit") or None
    if unit is not None and not unit.isdigit():
        raise BadRequest(tr.raw("Unknown filter value “{value}”.", value=unit))
    since = query.get("since") or None
    changed_since = None
    if since is not None:
        try:
            if not DATE.fullmatch(since):
                raise ValueError(since)
            day = dt.date.fromisoformat(since)
        except ValueError as exc:
            raise BadRequest(
                tr.raw("“{value}” is not a date: write it as YYYY-MM-DD.", value=since)
            ) from exc
        changed_since = dt.datetime.combine(day, dt.time(), tr.tz)
    return MatrixFilters(
        statuses=[_choice(tr, v, Status) for v in values("status")],
        review_statuses=[_choice(tr, v, ReviewStatus) for v in values("review")],
        unit_id=int(unit) if unit is not None else None,
        block=query.get("block") or None,
        overdue=query.get("overdue", "") in ("1", "true", "yes"),
        changed_since=changed_since,
    )


class _Row(Protocol):
    """What the matrix's rows and an action's detail both say of an action."""

    @property
    def deadline_text(self) -> str: ...
    @property
    def deadline_kind(self) -> str: ...
    @property
    def deadline_due(self) -> dt.date | None: ...
    @property
    def status(self) -> str: ...
    @property
    def review_status(self) -> str: ...
    @property
    def overdue(self) -> bool: ...


def _deadline_words(tr: Tr, row: _Row, start: dt.date | None, today: dt.date) -> str:
    """The deadline as the card says it ("vence en 3 días", "vencida hace 2 meses")."""
    return _plain(
        deadline_in_words(
            tr,
            text=row.deadline_text,
            kind=row.deadline_kind,
            due=row.deadline_due,
            start=start,
            status=row.status,
            today=today,
        )
    )


def _states(tr: Tr, row: _Row) -> dict[str, Any]:
    """The follow-up and review statuses, with their words, and whether it is overdue."""
    return {
        "status": row.status,
        "status_label": status_label(tr, row.status),
        "review_status": row.review_status,
        "review_label": review_label(tr, row.review_status),
        "overdue": row.overdue,
    }


def _matrix_row(tr: Tr, dashboard: Dashboard, row: MatrixRow, today: dt.date) -> dict[str, Any]:
    latest = row.latest_comment
    return {
        "id": row.id,
        "ref": row.ref,
        "block": row.block,
        "text": row.text,
        "deadline": row.deadline_text,
        "deadline_due": _iso(row.deadline_due),
        "deadline_words": _deadline_words(tr, row, row.deadline_start, today),
        "units": row.units,
        **_states(tr, row),
        "evidence": row.evidence,
        "latest_comment": None
        if latest is None
        else {
            "kind": latest.kind,
            "author": latest.author,
            "text": latest.text,
            "at": _iso(latest.created_at),
            "when": tr.datetime(latest.created_at),
        },
        "last_change": _iso(row.last_update_at),
        "last_change_text": tr.day(row.last_update_at) if row.last_update_at else "",
        "link": dashboard.action_link(row.id),
    }


async def matrix(request: Request, dashboard: Dashboard, caller: Caller) -> Response:
    tr, deps = caller.tr, dashboard.deps
    plan_id = int(request.path_params["plan_id"])
    title = await _visible_plan(caller, plan_id)
    filters = matrix_filters(request, tr)
    try:
        sort = MatrixSort(request.query_params.get("sort") or MatrixSort.REF)
    except ValueError as exc:
        raise BadRequest(
            tr.raw("Unknown filter value “{value}”.", value=request.query_params["sort"])
        ) from exc
    descending = request.query_params.get("order") == "desc"
    today = deps.today()
    rows = await action_matrix(
        caller.session,
        caller.person,
        plan_id,
        today=today,
        filters=filters,
        sort=sort,
        descending=descending,
    )
    choices = await matrix_choices(caller.session, caller.person, plan_id)
    return JSONResponse(
        {
            "plan": {"id": plan_id, "title": title},
            "total": len(rows),
            "rows": [_matrix_row(tr, dashboard, row, today) for row in rows],
            "choices": {
                "blocks": choices.blocks,
                "units": [{"id": i, "name": n} for i, n in choices.units],
            },
        }
    )


# --------------------------------------------------------------------------------------------
# The summary and its chart


async def _resolved(caller: Caller, plan_id: int) -> Resolved:
    """`/resumen`'s own scope check for one plan (a focal point: their units)."""
    await _visible_plan(caller, plan_id)
    resolved = await resolve(caller.session, caller.person, caller.tr, Scope(plan=str(plan_id)))
    if not isinstance(resolved, Resolved):
        raise NotFound("plan_not_found", plan_id=plan_id)
    return resolved


def _group(tr: Tr, group: GroupProgress) -> dict[str, Any]:
    return {
        "name": group.name,
        "key": group.key,
        "total": group.total,
        "counts": {s.value: group.count(s.value) for s in STATUS_ORDER},
        "overdue": group.overdue,
        "progress": group.progress,
        "progress_text": share_text(tr, group.progress, group.applicable),
        "applicable": group.applicable,
    }


async def _portfolio(caller: Caller) -> Resolved:
    """Every plan the person may see, as `/resumen todos` sums them."""
    resolved = await resolve(caller.session, caller.person, caller.tr, Scope(plan=ALL_PLANS))
    if not isinstance(resolved, Resolved):
        raise NotFound("plan_not_found", plan_id=0)
    return resolved


async def _summary_response(caller: Caller, deps: Deps, resolved: Resolved) -> Response:
    tr = caller.tr
    found = await summary_for(caller.session, deps, resolved)
    percents = found.percents()
    return JSONResponse(
        {
            "title": resolved.title,
            "scope": [_plain(line) for line in resolved.scope_lines],
            "total": found.total,
            "statuses": [
                {
                    "status": s.value,
                    "label": status_label(tr, s),
                    "count": found.by_status.get(s.value, 0),
                    "percent": percents.get(s.value, 0),
                    "percent_text": tr.percent(percents.get(s.value, 0) / 100),
                    "validated": found.validated_by_status.get(s.value, 0),
                }
                for s in STATUS_ORDER
            ],
            "reviews": [
                {"status": r.value, "label": review_label(tr, r), "count": found.by_review[r.value]}
                for r in ReviewStatus
            ],
            "overdue": found.overdue,
            "stale": found.stale,
            "stale_days": found.stale_days,
            "conditional": found.conditional,
            "completed": found.completed,
            "applicable": found.applicable,
            "progress": found.progress,
            "progress_text": share_text(tr, found.progress, found.applicable),
            "by_plan": [_group(tr, g) for g in found.by_plan],
            "plans_total": found.plans_total,
            "by_block": [_group(tr, g) for g in found.by_block],
            "blocks_total": found.blocks_total,
            "by_unit": [_group(tr, g) for g in found.by_unit],
            "units_total": found.units_total,
            "as_of": tr.datetime(deps.now()),
        }
    )


async def summary(request: Request, dashboard: Dashboard, caller: Caller) -> Response:
    resolved = await _resolved(caller, int(request.path_params["plan_id"]))
    return await _summary_response(caller, dashboard.deps, resolved)


async def portfolio_summary(request: Request, dashboard: Dashboard, caller: Caller) -> Response:
    """All the plans the person may see together, with a line per plan (`/resumen todos`)."""
    return await _summary_response(caller, dashboard.deps, await _portfolio(caller))


async def _chart_response(caller: Caller, deps: Deps, resolved: Resolved) -> Response:
    found = await summary_for(caller.session, deps, resolved, group_limit=CHART_GROUPS)
    if not found.total:
        raise NotFound("plan_empty")
    draw = partial(chart_png, caller.tr, found, resolved.title, deps.today())
    png = await asyncio.to_thread(draw)  # matplotlib: not on the event loop
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


async def chart(request: Request, dashboard: Dashboard, caller: Caller) -> Response:
    resolved = await _resolved(caller, int(request.path_params["plan_id"]))
    return await _chart_response(caller, dashboard.deps, resolved)


async def portfolio_chart(request: Request, dashboard: Dashboard, caller: Caller) -> Response:
    return await _chart_response(caller, dashboard.deps, await _portfolio(caller))


# --------------------------------------------------------------------------------------------
# An action


def _history_entry(tr: Tr, entry: HistoryEntry) -> dict[str, Any]:
    labels = {"status": status_label, "review_status": review_label}
    name = labels.get(entry.kind)
    return {
        "kind": entry.kind,
        "author": entry.author,
        "at": _iso(entry.created_at),
        "when": tr.datetime(entry.created_at),
        "text": entry.text,
        "from": name(tr, entry.old_value) if name and entry.old_value else entry.old_value,
        "to": name(tr, entry.new_value) if name and entry.new_value else entry.new_value,
        "files": list(entry.files),
    }


async def action(request: Request, dashboard: Dashboard, caller: Caller) -> Response:
    tr, deps, session, person = caller.tr, dashboard.deps, caller.session, caller.person
    action_id = int(request.path_params["action_id"])
    today = deps.today()
    card = await action_card(session, person, action_id, today=today)
    entries = await action_history(session, person, action_id, limit=200)
    files = await evidence_of_seen_action(session, action_id)  # the card checked it
    row = card.action
    return JSONResponse(
        {
            "id": row.id,
            "plan": {"id": row.plan_id, "title": card.plan_title},
            "ref": row.ref,
            "block": row.label,
            "text": row.text,
            "recommendation": card.recommendation_text,
            "management_response": card.management_response,
            "deadline": row.deadline_text,
            "deadline_words": _deadline_words(tr, row, card.deadline_start, today),
            "units": card.units,
            **_states(tr, row),
            "evidence": [
                {"name": f.file_name, "author": f.author, "when": tr.datetime(f.created_at)}
                for f in files
            ],
            "history": [_history_entry(tr, e) for e in entries],
            "link": dashboard.action_link(row.id),
        }
    )


def api_routes(dashboard: Dashboard) -> list[Route]:
    def get(path: str, handler: Endpoint) -> Route:
        return Route(path, endpoint(dashboard, handler), methods=["GET"])

    return [
        get("/api/plans", plans),
        get("/api/plans/{plan_id:int}/matrix", matrix),
        get("/api/plans/{plan_id:int}/summary", summary),
        get("/api/plans/{plan_id:int}/chart.png", chart),
        get("/api/summary", portfolio_summary),
        get("/api/chart.png", portfolio_chart),
        get("/api/actions/{action_id:int}", action),
    ]
