"""/ronda: reporting rounds for coordinators, the secretariat and administrators.

Without an open round it asks for a closing date (buttons for the usual ones, or a typed date
with an optional title: the `round_date` step) and opens one; with one open it shows who has
answered, per unit and per person, with a button to remind those pending and one to close it
now (after a confirmation). Past rounds are listed with their reports, sent again on request.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Sequence

from telegram import Message, Update

from handlers.buttons import Button, CancelStep, State, parse_any
from handlers.context import FlowContext, Strangers, flow
from handlers.i18n import N_, Safe, Tr
from handlers.replies import ButtonRow, Reply, View, stale_button
from handlers.round_buttons import (
    ROUND_BUTTONS,
    RoundAskClose,
    RoundClose,
    RoundDate,
    RoundHistory,
    RoundNudge,
    RoundOpen,
    RoundPlan,
    RoundResend,
    RoundView,
)
from handlers.round_texts import render_report, report_text, round_name
from handlers.text import shorten
from storage.errors import PlanError
from storage.models import ReportingRound, Role
from storage.round_closing import close_round, report_payload
from storage.round_progress import PersonProgress, RoundProgress, nudge_pending, progress
from storage.rounds import RoundInfo, get_round, list_rounds, open_round, open_round_of
from storage.summary import plan_choices

ROUND_ROLES = (Role.COORDINATOR, Role.SECRETARIAT, Role.ADMIN)
ROUNDS_ONLY = N_("Only coordinators, the secretariat and administrators manage reporting rounds.")
PEOPLE_LISTED = 30
PAST_LISTED = 10

_DATE = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\b\s*(.*)$", re.S)
_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\b\s*(.*)$", re.S)


def parse_date_and_title(text: str) -> tuple[dt.date, str] | None:
    """ "15/03/2027 Informe semestral" (or 15-03-2027, 15.03.2027, 2027-03-15) as the date and
    the title after it; None when it does not start with a valid date."""
    match = _DATE.match(text)
    if match:
        day, month, year, rest = match.groups()
    else:
        match = _ISO.match(text)
        if match is None:
            return None
        year, month, day, rest = match.groups()
    try:
        return dt.date(int(year), int(month), int(day)), rest.strip()
    except ValueError:
        return None


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def preset_date(choice: RoundDate, today: dt.date) -> dt.date:
    """In a week, in two weeks, the end of the month or of the quarter (the next one when
    today is already that last day)."""
    if choice == RoundDate.WEEK:
        return today + dt.timedelta(days=7)
    if choice == RoundDate.TWO_WEEKS:
        return today + dt.timedelta(days=14)
    if choice == RoundDate.MONTH_END:
        end = _month_end(today)
        return end if end > today else _month_end(today + dt.timedelta(days=1))
    quarter_last_month = (today.month - 1) // 3 * 3 + 3
    end = _month_end(today.replace(day=1, month=quarter_last_month))
    if end > today:
        return end
    return preset_date(choice, today + dt.timedelta(days=1))


def refusal_text(tr: Tr, error: PlanError) -> str:
    """What a person reads when storage refuses a round."""
    detail = error.detail
    if error.code == "round_date_past":
        return tr._("The closing date must be after today. Choose another date.")
    if error.code == "round_date_far":
        return tr._("The closing date must be within a year from today. Choose another date.")
    if error.code == "round_already_open":
        closes = dt.date.fromisoformat(detail["closes_on"])
        name = round_name(tr, str(detail.get("title") or ""), closes)
        return tr._(
            "This plan already has an open reporting round: {name}, until {date}. Close it "
            "before opening another one.",
            name=Safe(name),
            date=tr.short_date(closes),
        )
    if error.code == "round_closed":
        return tr._("That reporting round is closed already.")
    if error.code in ("round_not_found", "plan_not_found"):
        return tr._("That reporting round no longer exists.")
    return tr._("You are not allowed to do that.")


def _date_question(tr: Tr, plan_id: int, plan_title: str, today: dt.date, past: bool) -> View:
    text = "\n".join(
        [
            tr._("📋 <b>New reporting round</b> · {plan}", plan=shorten(plan_title, 80)),
            tr._(
                "Every focal point with open actions will be asked to report on them by the "
                "closing date. When should the round close?"
            ),
            "",
            tr._(
                "Choose below, or write the date (DD/MM/YYYY), optionally followed by a title: "
                "<code>15/03/2027 Informe semestral</code>"
            ),
        ]
    )
    presets = [
        (tr.raw("In a week"), RoundDate.WEEK),
        (tr.raw("In two weeks"), RoundDate.TWO_WEEKS),
        (tr.raw("End of the month"), RoundDate.MONTH_END),
        (tr.raw("End of the quarter"), RoundDate.QUARTER_END),
    ]
    options: list[tuple[str, Button]] = [
        (f"{label} · {tr.short_date(preset_date(choice, today))}", RoundOpen(plan_id, choice))
        for label, choice in presets
    ]
    rows: list[ButtonRow] = [options[:2], options[2:]]
    if past:
        rows.append([(tr.raw("📜 Past rounds"), RoundHistory())])
    rows.append([(tr.raw("✖ Cancel"), CancelStep())])
    return View(text, rows)


def _person_line(tr: Tr, person: PersonProgress) -> str:
    if not person.started:
        state = tr._("not started")
    else:
        state = tr._(
            "{updated} updated, {unchanged} without changes of {total}",
            updated=tr.number(person.updated),
            unchanged=tr.number(person.unchanged),
            total=tr.number(person.total),
        )
    mark = "✅" if not person.pending else ("◐" if person.started else "⏳")
    inactive = " " + tr.raw("(deactivated)") if not person.active else ""
    return tr._(
        "{mark} {name}{inactive}: {state}",
        mark=mark,
        name=shorten(person.name, 40),
        inactive=inactive,
        state=Safe(state),
    )


def status_view(tr: Tr, state: RoundProgress, today: dt.date) -> View:
    """An open round: who has answered, per unit and per person, and what can be done."""
    info = state.round
    days = (info.closes_on - today).days
    lines = [
        tr._("📁 {title}", title=shorten(info.plan_title, 80)),
        tr._(
            "📋 <b>Reporting round</b> {name} · closes on {date}",
            name=Safe(round_name(tr, info.title, info.closes_on)),
            date=tr.short_date(info.closes_on),
        ),
        tr.n_("{n} day left.", "{n} days left.", max(days, 0)),
        tr.n_("{n} focal point asked.", "{n} focal points asked.", len(state.people)),
        "",
        tr._("<b>Per unit</b>"),
    ]
    for unit in state.units:
        lines.append(
            tr._(
                "• {unit}: {updated} updated, {unchanged} without changes of {total} · "
                "{waiting} of {people} not started",
                unit=shorten(unit.name, 40),
                updated=tr.number(unit.updated),
                unchanged=tr.number(unit.unchanged),
                total=tr.number(unit.total),
                waiting=tr.number(unit.not_started),
                people=tr.number(unit.people),
            )
        )
    lines += ["", tr._("<b>Per person</b>")]
    lines += [_person_line(tr, p) for p in state.people[:PEOPLE_LISTED]]
    if len(state.people) > PEOPLE_LISTED:
        more = len(state.people) - PEOPLE_LISTED
        lines.append(tr.n_("… and {n} more", "… and {n} more", more))
    pending = len(state.pending)
    rows: list[ButtonRow] = []
    if pending:
        rows.append([(tr.raw("🔔 Remind those pending ({n})", n=pending), RoundNudge(info.id))])
    rows.append(
        [
            (tr.raw("🔒 Close now"), RoundAskClose(info.id)),
            (tr.raw("🔄 Refresh"), RoundView(info.id)),
        ]
    )
    rows.append([(tr.raw("📜 Past rounds"), RoundHistory())])
    return View("\n".join(lines), rows)


def _past_list(tr: Tr, rounds: Sequence[RoundInfo]) -> View:
    closed = [r for r in rounds if not r.is_open][:PAST_LISTED]
    if not closed:
        return View(tr._("No reporting round has been closed yet."))
    rows: list[ButtonRow] = [
        [
            (
                shorten(
                    f"{tr.short_date(r.closes_on)} · {r.title or r.plan_title}",
                    60,
                ),
                RoundView(r.id),
            )
        ]
        for r in closed
    ]
    return View(tr._("📜 <b>Past reporting rounds</b>: choose one to see its report."), rows)


def _closed_view(tr: Tr, rnd: ReportingRound, plan_title: str) -> View:
    text = report_text(tr, report_payload(rnd, plan_title))
    return View(
        text,
        [
            [(tr.raw("📥 Send me the report"), RoundResend(rnd.id))],
            [(tr.raw("‹ Past rounds"), RoundHistory())],
        ],
    )


async def _round_view(context: FlowContext, round_id: int) -> View:
    rnd = await get_round(context.session, round_id)
    state = await progress(context.session, rnd)
    if rnd.closed_at is not None:
        return _closed_view(context.tr, rnd, state.round.plan_title)
    return status_view(context.tr, state, context.deps.today())


async def _plan_view(context: FlowContext, plan_id: int, plan_title: str) -> View:
    """A plan's open round, or the question that opens one."""
    rnd = await open_round_of(context.session, plan_id)
    if rnd is not None:
        return await _round_view(context, rnd.id)
    await context.step.open(State.ROUND_DATE, {"plan": plan_id})
    past = bool(await list_rounds(context.session, plan_id=plan_id, limit=1))
    return _date_question(context.tr, plan_id, plan_title, context.deps.today(), past)


async def _plans_view(context: FlowContext) -> View:
    tr = context.tr
    plans = await plan_choices(context.session)
    if not plans:
        return View(tr._("There is no plan yet: import one first."))
    if len(plans) == 1:
        return await _plan_view(context, plans[0].id, plans[0].title)
    rounds = {r.plan_id: r for r in await list_rounds(context.session) if r.is_open}
    rows: list[ButtonRow] = []
    for plan in plans[:20]:
        mark = "📋 " if plan.id in rounds else ""
        rows.append([(shorten(f"{mark}{plan.title}", 60), RoundPlan(plan.id))])
    rows.append([(tr.raw("📜 Past rounds"), RoundHistory())])
    return View(tr._("Reporting rounds: choose a plan (📋 has a round open)."), rows)


async def _open(context: FlowContext, plan_id: int, closes_on: dt.date, title: str) -> Reply:
    tr, deps = context.tr, context.deps
    try:
        info = await open_round(
            context.session,
            closes_on=closes_on,
            today=deps.today(),
            plan_id=plan_id,
            title=title,
            opened_by=context.person,
            now=deps.now(),
        )
    except PlanError as error:
        return Reply([View(refusal_text(tr, error))], edit=False)
    await context.step.close()
    rnd = await get_round(context.session, info.id)
    notice = tr.n_(
        "Reporting round opened until {date}: {n} focal point is being asked.",
        "Reporting round opened until {date}: {n} focal points are being asked.",
        info.asked,
        date=tr.short_date(closes_on),
    )
    view = status_view(tr, await progress(context.session, rnd), deps.today())
    return Reply([view.with_notice(notice)])


@flow(strangers=Strangers.REFUSE, roles=ROUND_ROLES, refusal_text=ROUNDS_ONLY, private=True)
async def round_command(update: Update, context: FlowContext) -> View:
    """/ronda: the open round (who has answered), or a new one."""
    return await _plans_view(context)


async def date_step(message: Message, context: FlowContext, data: dict[str, object]) -> Reply:
    """The closing date (and title) of a new round, typed."""
    tr = context.tr
    parsed = parse_date_and_title(message.text or "")
    if parsed is None:
        return Reply(
            [
                View(
                    tr._(
                        "I could not read that as a date. Write it as DD/MM/YYYY, optionally "
                        "followed by a title, e.g. <code>15/03/2027 Informe semestral</code>, "
                        "or /cancelar."
                    )
                )
            ]
        )
    closes_on, title = parsed
    return await _open(context, int(str(data.get("plan") or 0)), closes_on, title)


@flow(
    strangers=Strangers.REFUSE,
    roles=ROUND_ROLES,
    refusal_text=ROUNDS_ONLY,
    private=True,
)
async def round_pressed(update: Update, context: FlowContext) -> Reply:
    """A button of /ronda."""
    tr, deps = context.tr, context.deps
    button = parse_any(update, *ROUND_BUTTONS)
    try:
        match button:
            case RoundPlan(plan_id=plan_id):
                plans = {p.id: p.title for p in await plan_choices(context.session)}
                if plan_id not in plans:
                    return stale_button(tr)
                return Reply([await _plan_view(context, plan_id, plans[plan_id])])
            case RoundOpen(plan_id=plan_id, choice=choice):
                return await _open(context, plan_id, preset_date(choice, deps.today()), "")
            case RoundView(round_id=round_id):
                return Reply([await _round_view(context, round_id)])
            case RoundNudge(round_id=round_id):
                rnd = await get_round(context.session, round_id)
                count = await nudge_pending(
                    context.session, rnd, now=deps.now(), today=deps.today()
                )
                notice = tr.n_(
                    "A reminder is on its way to {n} person.",
                    "A reminder is on its way to {n} people.",
                    count,
                )
                return Reply([await _round_view(context, round_id)], notice=notice)
            case RoundAskClose(round_id=round_id):
                rnd = await get_round(context.session, round_id)
                if rnd.closed_at is not None:
                    return Reply([await _round_view(context, round_id)])
                text = tr._(
                    "Close {name} now? The plan is kept as it stands and the report goes to the "
                    "secretariat and the coordinators. Later updates are kept as after the "
                    "round.",
                    name=Safe(round_name(tr, rnd.title, rnd.closes_on)),
                )
                rows: list[ButtonRow] = [
                    [
                        (tr.raw("🔒 Yes, close it"), RoundClose(round_id)),
                        (tr.raw("‹ Back"), RoundView(round_id)),
                    ]
                ]
                return Reply([View(text, rows)])
            case RoundClose(round_id=round_id):
                await close_round(
                    context.session,
                    round_id,
                    today=deps.today(),
                    now=deps.now(),
                    closed_by=context.person,
                    notify_chat_ids=deps.notify_chat_ids,
                )
                notice = tr._(
                    "Round closed. The report is on its way to the secretariat and the "
                    "coordinators."
                )
                return Reply([(await _round_view(context, round_id)).with_notice(notice)])
            case RoundHistory():
                return Reply([_past_list(tr, await list_rounds(context.session))])
            case RoundResend(round_id=round_id):
                rnd = await get_round(context.session, round_id)
                if rnd.closed_at is None:
                    return Reply([await _round_view(context, round_id)])
                state = await progress(context.session, rnd)
                payload = report_payload(rnd, state.round.plan_title)
                return Reply(render_report(tr, payload), edit=False)
    except PlanError as error:
        return Reply(notice=refusal_text(tr, error), alert=True)
    return stale_button(tr)
