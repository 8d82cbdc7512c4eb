"""Texts of what a reporting round sends on its own (through the outbox): the question to each
focal point, the reminders, and the report at the close with its files.

Rows store the event (the report carries its snapshot), rendered at delivery time in the
recipient's language; the same report is sent again on request from /ronda.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from handlers.i18n import Safe, Tr
from handlers.replies import OutgoingFile, View
from handlers.round_buttons import RoundGo
from handlers.text import MESSAGE_LIMIT, escape, shorten, split_message
from reports.files import FILE_SECONDS, round_document, round_workbook
from storage.offloop import run_in_process
from storage.rounds import ASK_KIND, REMINDER_KIND, REPORT_KIND

REFS_LISTED = 15
NAMES_LISTED = 20


def _date(value: Any) -> dt.date:
    return dt.date.fromisoformat(str(value))


def round_name(tr: Tr, title: str, closes_on: dt.date) -> str:
    """A round as people name it: its title, else "the round closing on 15 mar 2027"."""
    if title:
        return tr._("«{title}»", title=shorten(title, 80))
    return tr._("the round closing on {date}", date=tr.short_date(closes_on))


def _name(tr: Tr, payload: Mapping[str, Any]) -> str:
    return round_name(tr, str(payload.get("title") or ""), _date(payload["closes_on"]))


def _plan_line(tr: Tr, plan_title: str | None) -> str:
    return tr._("📁 {title}", title=shorten(plan_title, 80)) + "\n" if plan_title else ""


def render_ask(tr: Tr, payload: Mapping[str, Any], plan_title: str | None) -> View:
    closes = _date(payload["closes_on"])
    n = int(payload.get("actions") or 0)
    text = (
        _plan_line(tr, plan_title)
        + tr._(
            "📋 <b>Reporting round</b>: {name}",
            name=Safe(_name(tr, payload)),
        )
        + "\n\n"
        + tr.n_(
            "The secretariat asks you to report on your {n} open action by <b>{date}</b>.",
            "The secretariat asks you to report on your {n} open actions by <b>{date}</b>.",
            n,
            date=tr.short_date(closes),
        )
        + "\n"
        + tr._(
            "I will show them one at a time: say whether anything changed, set its status or "
            "add a comment. You can stop and go on later."
        )
    )
    return View(text, [[(tr.raw("▶ Start"), RoundGo(int(payload["round_id"])))]])


def render_reminder(tr: Tr, payload: Mapping[str, Any], plan_title: str | None) -> View:
    closes = _date(payload["closes_on"])
    days = int(payload.get("days_left") or 0)
    pending = int(payload.get("pending") or 0)
    when = tr.n_("in {n} day", "in {n} days", days) if days > 0 else tr._("today")
    text = (
        _plan_line(tr, plan_title)
        + tr._(
            "⏰ <b>The reporting round {name} closes {when}</b> ({date}).",
            name=Safe(_name(tr, payload)),
            when=Safe(when),
            date=tr.short_date(closes),
        )
        + "\n"
        + tr.n_(
            "You still have {n} action to report on.",
            "You still have {n} actions to report on.",
            pending,
        )
    )
    return View(text, [[(tr.raw("▶ Go on"), RoundGo(int(payload["round_id"])))]])


def _refs(items: Sequence[Mapping[str, Any]], total: int, tr: Tr) -> str:
    refs = ", ".join(str(i.get("ref", "")) for i in items[:REFS_LISTED])
    if total > REFS_LISTED:
        refs += " " + tr.n_("… and {n} more", "… and {n} more", total - REFS_LISTED)
    return refs


def report_text(tr: Tr, payload: Mapping[str, Any]) -> str:
    """The summary of a closed round: who reported, and what changed since the previous one."""
    report: Mapping[str, Any] = payload.get("report") or {}
    counts: Mapping[str, int] = report.get("counts") or {}
    closes = _date(payload["closes_on"])
    closed_at = payload.get("closed_at")
    name = round_name(tr, str(payload.get("title") or ""), closes)
    lines = [
        _plan_line(tr, str(payload.get("plan_title") or "")).rstrip("\n"),
        tr._("📊 <b>Reporting round closed</b>: {name}", name=Safe(name)),
    ]
    if closed_at:
        lines.append(
            tr._(
                "Closed on {date} (closing date {closes}).",
                date=tr.day(dt.datetime.fromisoformat(str(closed_at))),
                closes=tr.short_date(closes),
            )
        )
    asked = int(report.get("asked") or 0)
    lines.append(
        tr.n_(
            "{reported} of {n} focal point reported on all their actions.",
            "{reported} of {n} focal points reported on all their actions.",
            asked,
            reported=tr.number(int(report.get("reported") or 0)),
        )
        + " "
        + tr._(
            "Updates: {updated}; confirmed without changes: {unchanged}.",
            updated=tr.number(int(report.get("updated") or 0)),
            unchanged=tr.number(int(report.get("unchanged_answers") or 0)),
        )
    )
    previous: Mapping[str, Any] | None = report.get("previous")
    lines.append("")
    if previous:
        lines.append(
            tr._(
                "<b>Since the previous round</b> ({name})",
                name=Safe(
                    round_name(tr, str(previous.get("title") or ""), _date(previous["closes_on"]))
                ),
            )
        )
    else:
        lines.append(tr._("<b>Since the round opened</b> (the first round of this plan)"))
    sections = (
        ("completed", tr._("✅ Completed")),
        ("newly_overdue", tr._("🔴 Newly overdue")),
        ("unchanged", tr._("💤 Unchanged for two rounds")),
    )
    for key, title in sections:
        if key == "unchanged" and not previous:
            continue
        total = int(counts.get(key) or 0)
        items = list(report.get(key) or [])
        line = f"{title} ({tr.number(total)})"
        lines.append(line + (": " + escape(_refs(items, total, tr)) if total else ""))
    missing = int(report.get("not_reported_count") or 0)
    names = list(report.get("not_reported") or [])
    line = tr._("🙋 Did not report ({n})", n=tr.number(missing))
    if names:
        shown = ", ".join(shorten(str(n), 40) for n in names[:NAMES_LISTED])
        line += ": " + escape(shown)
        if missing > NAMES_LISTED:
            line += " " + tr.n_("… and {n} more", "… and {n} more", missing - NAMES_LISTED)
    lines.append(line)
    partly = list(report.get("partly") or [])
    if partly:
        shown = ", ".join(shorten(str(n), 40) for n in partly[:NAMES_LISTED])
        lines.append(tr._("◐ Reported in part: {names}", names=shown))
    return "\n".join(lines).strip()


def report_file_name(payload: Mapping[str, Any], extension: str) -> str:
    return f"ronda_{payload.get('round_id')}_{payload.get('closes_on')}.{extension}"


def round_report_files(tr: Tr, payload: Mapping[str, Any]) -> list[OutgoingFile]:
    """The files of a round's report, built from its snapshot when sent, in a worker process
    (`reports.files`): the plan as it stood at the close, as the Word document the secretariat
    sends on and as a spreadsheet. The one place that chooses them."""
    snapshot = list(payload.get("snapshot") or [])
    title = str(payload.get("plan_title") or "")
    locale, tz = tr.locale, tr.tz
    closed_at = payload.get("closed_at")
    moment = dt.datetime.fromisoformat(closed_at) if closed_at else dt.datetime.now(dt.UTC)

    async def word() -> bytes:
        return await run_in_process(
            round_document, snapshot, title, moment, tz, locale, seconds=FILE_SECONDS
        )

    async def spreadsheet() -> bytes:
        day = moment.astimezone(tz).date()
        return await run_in_process(
            round_workbook, snapshot, title, day, locale, seconds=FILE_SECONDS
        )

    caption = tr.raw("The plan as it stood at the close of the round.")
    return [
        OutgoingFile("document", report_file_name(payload, "docx"), produce=word, caption=caption),
        OutgoingFile(
            "document", report_file_name(payload, "xlsx"), produce=spreadsheet, caption=caption
        ),
    ]


def render_report(tr: Tr, payload: Mapping[str, Any]) -> list[View]:
    """The report's summary (one message, or several when long), then its files."""
    views = [View(part) for part in split_message(report_text(tr, payload), MESSAGE_LIMIT)]
    views += [View(f.caption, file=f) for f in round_report_files(tr, payload)]
    return views


def render_round_row(
    tr: Tr, kind: str, payload: Mapping[str, Any], *, plan_title: str | None = None
) -> list[View]:
    """A reporting round's outbox row as the messages to send."""
    if kind == ASK_KIND:
        return [render_ask(tr, payload, plan_title)]
    if kind == REMINDER_KIND:
        return [render_reminder(tr, payload, plan_title)]
    if kind == REPORT_KIND:
        return render_report(tr, payload)
    raise ValueError(f"not a round row: {kind}")
