"""Texts of what the bot sends on its own: change notifications, combined notifications, the
daily digest, weekly reminders and the coordinators' weekly digest.

Outbox rows store the event (not the text); these functions render a row in the recipient's
language at delivery time. Every function returns `View`s, each within Telegram's 4096
characters, with the buttons that open the actions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from handlers.account_notices import render_account_notice
from handlers.action_buttons import AnswerReview, OpenCardAnew, ShowEvidence
from handlers.buttons import Button
from handlers.i18n import Safe, Tr
from handlers.labels import (
    OVERDUE_MARK,
    STATUS_MARKS,
    deadline_in_words,
    review_label,
    role_label,
    status_label,
)
from handlers.people_buttons import RetryChat
from handlers.replies import View, in_rows
from handlers.round_texts import render_round_row
from handlers.text import MESSAGE_LIMIT, shorten, split_message
from storage.attachments import AttachmentKind, describe_attachment, kind_words
from storage.chats import CHAT_UNREACHABLE_KIND
from storage.models import Status
from storage.people import ACCOUNT_KIND
from storage.rounds import ROUND_KINDS

#: Event kinds written by storage.followup; rows of these kinds may be combined in one message.
EVENT_KINDS = ("comment", "review_comment", "status", "review_status")
ACTION_TEXT_CHARS = 150
COMMENT_CHARS = 700
COMPACT_COMMENT_CHARS = 140
COMPACT_ACTION_CHARS = 60
BUTTONS_MAX = 12
BUTTONS_PER_ROW = 3
REMINDER_LINES_MAX = 25
DIGEST_EVENT_LINES_MAX = 40

Pressable = tuple[str, Button]

EVENT_MARKS = {"comment": "💬", "review_comment": "🗒", "status": "🔄", "review_status": "🔎"}


def _view(text: str, buttons: Sequence[Pressable] = ()) -> View:
    return View(text, in_rows(buttons, BUTTONS_PER_ROW))


def open_button(tr: Tr, action_id: Any, ref: str, *, single: bool = False) -> Pressable:
    """A notice's button opening an action: in a new message, so the notice stays as it was."""
    label = tr.raw("Open action {ref}", ref=ref) if single else f"{ref} ›"
    return shorten(label, 40), OpenCardAnew(int(action_id))


def action_buttons(tr: Tr, items: Sequence[Mapping[str, Any]]) -> list[Pressable]:
    """A button per distinct action (at most `BUTTONS_MAX`), labelled with its reference."""
    seen: set[int] = set()
    buttons: list[Pressable] = []
    for item in items:
        action_id = item.get("id", item.get("action_id"))
        if action_id is None or int(action_id) in seen:
            continue
        seen.add(int(action_id))
        buttons.append(open_button(tr, action_id, str(item.get("ref", ""))))
        if len(buttons) == BUTTONS_MAX:
            break
    return buttons


def _parts(text: str, buttons: list[Pressable]) -> list[View]:
    """Split a long text; the buttons go with the last part."""
    chunks = split_message(text, MESSAGE_LIMIT)
    return [
        _view(chunk, buttons if index == len(chunks) - 1 else [])
        for index, chunk in enumerate(chunks)
    ]


def _value_label(tr: Tr, field_name: str | None, value: str | None) -> str:
    if not value:
        return ""
    try:
        if field_name == "review_status":
            return review_label(tr, value)
        return status_label(tr, value)
    except ValueError:
        return value


def _author(tr: Tr, payload: Mapping[str, Any]) -> str:
    name = str(payload.get("author") or "") or tr.raw("Someone")
    role = str(payload.get("author_role") or "")
    try:
        return f"{name} ({role_label(tr, role)})" if role else name
    except ValueError:
        return name


def _plan_line(tr: Tr, plan_title: str | None) -> str:
    return tr._("📁 {title}", title=shorten(plan_title, 80)) + "\n" if plan_title else ""


def _attachments_line(tr: Tr, attachments: Sequence[Mapping[str, Any]]) -> str:
    if not attachments:
        return ""
    names = ", ".join(_attachment_name(tr, a) for a in attachments[:5])
    return "\n" + tr.n_(
        "📎 {n} attachment: {names}", "📎 {n} attachments: {names}", len(attachments), names=names
    )


def _attachment_name(tr: Tr, attachment: Mapping[str, Any]) -> str:
    """What a notice says of a file, a recording or a place (see `storage.attachments`)."""
    return describe_attachment(
        str(attachment.get("kind") or AttachmentKind.DOCUMENT),
        shorten(str(attachment.get("name") or ""), 40),
        duration=attachment.get("duration"),
        latitude=attachment.get("latitude"),
        longitude=attachment.get("longitude"),
        words=kind_words(tr.raw),
    )


def _quote(tr: Tr, payload: Mapping[str, Any], limit: int = COMMENT_CHARS) -> str:
    comment = str(payload.get("comment") or "")
    if not comment:
        return ""
    text = shorten(comment, limit)
    if payload.get("comment_truncated") and not text.endswith("…"):
        text += "…"
    return "\n" + tr._("«{comment}»", comment=text)


def render_event(
    tr: Tr, kind: str, payload: Mapping[str, Any], *, plan_title: str | None = None
) -> View:
    """A single change: who, which action, what changed, the comment, a button to open it."""
    ref = str(payload.get("ref", ""))
    who = _author(tr, payload)
    field_name = payload.get("field")
    old = _value_label(tr, field_name, payload.get("old"))
    new = _value_label(tr, field_name, payload.get("new"))
    if kind == "status":
        head = tr._(
            "🔄 <b>{who}</b> changed the status of <b>{ref}</b>: {old} → <b>{new}</b>",
            who=who,
            ref=ref,
            old=old,
            new=new,
        )
    elif kind == "review_status":
        head = tr._(
            "🔎 <b>{who}</b> reviewed <b>{ref}</b>: {old} → <b>{new}</b>",
            who=who,
            ref=ref,
            old=old,
            new=new,
        )
    elif kind == "review_comment":
        head = tr._("🗒 <b>{who}</b> added a review comment on <b>{ref}</b>", who=who, ref=ref)
    elif payload.get("answers"):
        head = tr._(
            "💬 <b>{who}</b> answered the secretariat's observations on <b>{ref}</b>",
            who=who,
            ref=ref,
        )
    else:
        head = tr._("💬 <b>{who}</b> commented on <b>{ref}</b>", who=who, ref=ref)
    action = tr._(
        "<i>{text}</i>", text=shorten(str(payload.get("action_text") or ""), ACTION_TEXT_CHARS)
    )
    text = (
        _plan_line(tr, plan_title)
        + head
        + "\n"
        + action
        + _quote(tr, payload)
        + _attachments_line(tr, payload.get("attachments") or [])
    )
    return _view(split_message(text)[0], _notice_buttons(tr, payload))


def _notice_buttons(tr: Tr, payload: Mapping[str, Any], *, answer: bool = False) -> list[Pressable]:
    """Open the action (in a new message), its evidence when the change brought files, and
    for the field an answer to the secretariat."""
    action_id = payload.get("action_id")
    if action_id is None:
        return []
    buttons = [open_button(tr, action_id, str(payload.get("ref", "")), single=True)]
    files = len(payload.get("attachments") or [])
    if files:
        buttons.append((tr.raw("📎 See evidence ({n})", n=files), ShowEvidence(int(action_id))))
    comment_id = payload.get("comment_id")
    if answer and comment_id is not None:
        buttons.append((tr.raw("💬 Answer"), AnswerReview(int(action_id), int(comment_id))))
    return buttons


def render_verdict(tr: Tr, payload: Mapping[str, Any], *, plan_title: str | None = None) -> View:
    """What the secretariat said, for the focal points of the action's units."""
    ref = str(payload.get("ref", ""))
    validated = payload.get("field") == "review_status" and payload.get("new") == "validated"
    if validated:
        head = tr._("☑️ The secretariat validated <b>{ref}</b>", ref=ref)
    elif payload.get("field") == "review_status":
        head = tr._("⚠️ The secretariat's observations on <b>{ref}</b>", ref=ref)
    else:
        head = tr._("🗒 The secretariat's comment on <b>{ref}</b>", ref=ref)
    action = tr._(
        "<i>{text}</i>", text=shorten(str(payload.get("action_text") or ""), ACTION_TEXT_CHARS)
    )
    text = _plan_line(tr, plan_title) + head + "\n" + action + _quote(tr, payload)
    buttons = _notice_buttons(tr, payload, answer=not validated)
    return View(split_message(text)[0], in_rows(buttons, 2))


def qualified_ref(item: Mapping[str, Any], plan_titles: Mapping[int, str] | None) -> str:
    """The action's reference, after its plan's short title when the bot follows several plans
    (so that "1.1" of one programme is not taken for another's)."""
    ref = str(item.get("ref", ""))
    plan_id = item.get("plan_id")
    title = plan_titles.get(int(plan_id)) if plan_titles and plan_id is not None else None
    return f"{shorten(title, 24)} · {ref}" if title else ref


def compact_event(
    tr: Tr,
    kind: str,
    payload: Mapping[str, Any],
    *,
    plan_titles: Mapping[int, str] | None = None,
) -> str:
    """One line for a change inside a combined message or a digest."""
    ref = qualified_ref(payload, plan_titles)
    who = str(payload.get("author") or "") or tr.raw("Someone")
    mark = EVENT_MARKS.get(kind, "•")
    what = shorten(str(payload.get("action_text") or ""), COMPACT_ACTION_CHARS)
    if kind in ("status", "review_status"):
        field_name = payload.get("field") or kind
        line = tr._(
            "{mark} <b>{ref}</b> {what} · {who}: {old} → <b>{new}</b>",
            mark=mark,
            ref=ref,
            what=what,
            who=who,
            old=_value_label(tr, field_name, payload.get("old")),
            new=_value_label(tr, field_name, payload.get("new")),
        )
    else:
        line = tr._("{mark} <b>{ref}</b> {what} · {who}", mark=mark, ref=ref, what=what, who=who)
    comment = str(payload.get("comment") or "")
    if comment:
        line += " " + tr._("«{comment}»", comment=shorten(comment, COMPACT_COMMENT_CHARS))
    attachments = payload.get("attachments")
    count = attachments if isinstance(attachments, int) else len(attachments or [])
    if count:
        line += f" 📎{count}"
    return line


def render_combined(
    tr: Tr,
    events: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    plan_titles: Mapping[int, str] | None = None,
) -> list[tuple[View, int]]:
    """Several changes for one chat in as few messages as fit: a heading and one line each
    (under a plan heading when they concern several plans).

    Returns the messages with how many of the events (in order) each one carries, so the caller
    can settle exactly the rows each message delivered.
    """
    plan_titles = plan_titles or {}
    show_plans = len({p.get("plan_id") for _, p in events}) > 1
    budget = MESSAGE_LIMIT - 100  # room for the heading
    parts: list[tuple[View, int]] = []
    lines: list[str] = []
    items: list[Mapping[str, Any]] = []
    last_plan: object = None

    def flush() -> None:
        header = tr.n_("🔔 <b>{n} update</b>", "🔔 <b>{n} updates</b>", len(items))
        text = "\n".join([header, *lines])
        parts.append((_view(text, action_buttons(tr, items)), len(items)))

    for kind, payload in events:
        plan_id = payload.get("plan_id")
        line = compact_event(tr, kind, payload)
        title = plan_titles.get(int(plan_id)) if show_plans and plan_id is not None else None
        heading = _plan_line(tr, title).rstrip("\n") if title else ""
        size = len(line) + len(heading) + 2
        if lines and sum(len(x) + 1 for x in lines) + size > budget:
            flush()
            lines, items, last_plan = [], [], None
        if heading and plan_id != last_plan:
            lines.append(heading)
        last_plan = plan_id
        lines.append(line)
        items.append({"id": payload.get("action_id"), "ref": payload.get("ref", "")})
    if lines:
        flush()
    return parts


def render_daily_digest(
    tr: Tr,
    payload: Mapping[str, Any],
    *,
    today: dt.date,
    plan_titles: Mapping[int, str] | None = None,
) -> list[View]:
    """The day's changes for someone who asked for one message a day."""
    events: list[Mapping[str, Any]] = list(payload.get("events") or [])
    total = int(payload.get("total") or len(events))
    counts: Mapping[str, int] = payload.get("counts") or {}
    lines = [
        tr._("🗞 <b>Daily summary</b> · {date}", date=tr.short_date(today)),
        _counts_line(tr, counts, total),
        "",
    ]
    shown = events[:DIGEST_EVENT_LINES_MAX]
    lines += [compact_event(tr, str(e.get("kind")), e, plan_titles=plan_titles) for e in shown]
    if total > len(shown):
        lines.append(tr.n_("… and {n} more", "… and {n} more", total - len(shown)))
    return _parts("\n".join(lines), action_buttons(tr, shown))


def _counts_line(tr: Tr, counts: Mapping[str, int], total: int) -> str:
    pieces = []
    if counts.get("comment"):
        pieces.append(tr.n_("{n} comment", "{n} comments", counts["comment"]))
    if counts.get("status"):
        pieces.append(tr.n_("{n} status change", "{n} status changes", counts["status"]))
    if counts.get("review_comment"):
        pieces.append(tr.n_("{n} review comment", "{n} review comments", counts["review_comment"]))
    if counts.get("review_status"):
        pieces.append(tr.n_("{n} review", "{n} reviews", counts["review_status"]))
    heading = tr.n_("{n} update", "{n} updates", total)
    return heading + (": " + ", ".join(pieces) if pieces else "")


# --------------------------------------------------------------------------------------------
# Weekly reminders and digests


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _reminder_line(
    tr: Tr, item: Mapping[str, Any], today: dt.date, plan_titles: Mapping[int, str] | None
) -> str:
    ref = qualified_ref(item, plan_titles)
    text = shorten(str(item.get("text") or ""), 70)
    reason = item.get("reason")
    if reason == "observed":
        return tr._("⚠️ <b>{ref}</b> {text}", ref=ref, text=text)
    if reason == "stale":
        last = item.get("last_update")
        when = (
            tr._(
                "no update since {date}",
                date=tr.short_date(tr.local_date(dt.datetime.fromisoformat(last))),
            )
            if last
            else tr._("no update yet")
        )
        return tr._("💤 <b>{ref}</b> {text} — {when}", ref=ref, text=text, when=Safe(when))
    words = deadline_in_words(
        tr,
        text=str(item.get("deadline_text") or ""),
        kind=str(item.get("deadline_kind") or "unknown"),
        due=_date(item.get("due")),
        start=None,
        status=str(item.get("status") or Status.NOT_STARTED.value),
        today=today,
    )
    mark = OVERDUE_MARK if reason == "overdue" else "📅"
    return tr._(
        "{mark} <b>{ref}</b> {text} — {when}", mark=mark, ref=ref, text=text, when=Safe(words)
    )


def render_reminder(
    tr: Tr, payload: Mapping[str, Any], *, plan_titles: Mapping[int, str] | None = None
) -> list[View]:
    """A focal point's weekly list: overdue, due soon, without news; buttons to open them."""
    today = _date(payload.get("today")) or dt.date.today()
    items: list[Mapping[str, Any]] = list(payload.get("items") or [])
    total = int(payload.get("total") or len(items))
    counts: Mapping[str, int] = payload.get("counts") or {}
    due_days = int(payload.get("due_days") or 14)
    stale_days = int(payload.get("stale_days") or 30)
    lines = [
        tr._("⏰ <b>Weekly reminder</b>"),
        tr.n_(
            "You have {n} action that needs attention:",
            "You have {n} actions that need attention:",
            total,
        ),
    ]
    sections = (
        (
            "observed",
            tr._(
                "⚠️ The secretariat's observations to answer ({n})",
                n=tr.number(counts.get("observed", 0)),
            ),
        ),
        ("overdue", tr.n_("Overdue ({n})", "Overdue ({n})", counts.get("overdue", 0))),
        (
            "due_soon",
            tr._(
                "Due in the next {days} days ({n})",
                days=due_days,
                n=tr.number(counts.get("due_soon", 0)),
            ),
        ),
        (
            "stale",
            tr._(
                "No update in {days} days ({n})",
                days=stale_days,
                n=tr.number(counts.get("stale", 0)),
            ),
        ),
    )
    shown = 0
    for reason, title in sections:
        group = [i for i in items if i.get("reason") == reason]
        if not counts.get(reason) and not group:
            continue
        lines += ["", f"<b>{title}</b>"]
        for item in group:
            if shown >= REMINDER_LINES_MAX:
                break
            lines.append(_reminder_line(tr, item, today, plan_titles))
            shown += 1
    if total > shown:
        lines += [
            "",
            tr.n_("… and {n} more in /acciones", "… and {n} more in /acciones", total - shown),
        ]
    lines += ["", tr._("Tap an action to post progress or change its status.")]
    return _parts("\n".join(lines), action_buttons(tr, items[:shown]))


def _status_breakdown(tr: Tr, by_status: Mapping[str, int], total: int) -> str:
    pieces = []
    for status in (Status.COMPLETED, Status.IN_PROGRESS, Status.NOT_STARTED, Status.NOT_APPLICABLE):
        count = int(by_status.get(status.value, 0))
        if count:
            pieces.append(
                tr._(
                    "{mark} {label} {n} ({share})",
                    mark=STATUS_MARKS[status],
                    label=status_label(tr, status),
                    n=tr.number(count),
                    share=tr.percent(count / total if total else 0),
                )
            )
    return " · ".join(pieces)


def render_weekly_digest(
    tr: Tr, payload: Mapping[str, Any], *, plan_titles: Mapping[int, str] | None = None
) -> list[View]:
    """The coordinators' weekly report: activity of the week, state of the plans, new overdue."""
    since = tr.local_date(dt.datetime.fromisoformat(payload["since"]))
    until = tr.local_date(dt.datetime.fromisoformat(payload["until"]))
    total = int(payload.get("total") or 0)
    by_status: Mapping[str, int] = payload.get("by_status") or {}
    lines = [
        tr._(
            "🗓 <b>Weekly digest</b> · {since} – {until}",
            since=tr.short_date(since),
            until=tr.short_date(until),
        ),
        "",
    ]
    comments = int(payload.get("comments") or 0)
    changes = int(payload.get("status_changes") or 0)
    reviews = int(payload.get("reviews") or 0) + int(payload.get("review_comments") or 0)
    if comments or changes or reviews:
        completed = int(payload.get("completed") or 0)
        comments_text = tr.n_("{n} comment", "{n} comments", comments)
        changes_text = tr.n_("{n} status change", "{n} status changes", changes)
        completed_text = tr.n_("{n} completed", "{n} completed", completed)
        reviews_text = tr.n_("{n} secretariat review", "{n} secretariat reviews", reviews)
        lines.append(
            tr._(
                "This week: {comments}, {changes} ({completed}), {reviews}.",
                comments=Safe(comments_text),
                changes=Safe(changes_text),
                completed=Safe(completed_text),
                reviews=Safe(reviews_text),
            )
        )
    else:
        lines.append(tr._("No comments or status changes this week."))
    lines.append(
        tr.n_("Now: {n} key action", "Now: {n} key actions", total)
        + " · "
        + _status_breakdown(tr, by_status, total)
    )
    overdue = int(payload.get("overdue") or 0)
    if overdue:
        lines.append(tr.n_("{mark} {n} overdue", "{mark} {n} overdue", overdue, mark=OVERDUE_MARK))
    changed: list[Mapping[str, Any]] = list(payload.get("changes") or [])
    if changed:
        lines += ["", tr._("<b>Latest status changes</b>")]
        for change in changed:
            lines.append(
                compact_event(
                    tr,
                    "status",
                    {
                        "ref": change.get("ref"),
                        "plan_id": change.get("plan_id"),
                        "action_text": change.get("text"),
                        "author": change.get("author"),
                        "field": "status",
                        "old": change.get("old"),
                        "new": change.get("new"),
                    },
                    plan_titles=plan_titles,
                )
            )
        if changes > len(changed):
            lines.append(tr.n_("… and {n} more", "… and {n} more", changes - len(changed)))
    newly: list[Mapping[str, Any]] = list(payload.get("newly_overdue") or [])
    newly_total = int(payload.get("newly_overdue_total") or len(newly))
    if newly:
        lines += [
            "",
            tr.n_("<b>Overdue this week ({n})</b>", "<b>Overdue this week ({n})</b>", newly_total),
        ]
        for item in newly:
            lines.append(
                tr._(
                    "{mark} <b>{ref}</b> {text} — due {date}",
                    mark=OVERDUE_MARK,
                    ref=qualified_ref(item, plan_titles),
                    text=shorten(str(item.get("text") or ""), 70),
                    date=tr.short_date(dt.date.fromisoformat(item["due"])),
                )
            )
        if newly_total > len(newly):
            lines.append(tr.n_("… and {n} more", "… and {n} more", newly_total - len(newly)))
    lines += ["", tr._("Full picture: /resumen · spreadsheet: /exportar")]
    return _parts("\n".join(lines), action_buttons(tr, [*newly, *changed]))


def _unreachable_reason(tr: Tr, reason: str) -> str:
    """Why Telegram refused the chat, in plain words."""
    lowered = reason.casefold()
    if "kicked" in lowered or "not a member" in lowered:
        return tr._("the bot was removed from the group")
    if "blocked" in lowered:
        return tr._("the person blocked the bot")
    if "deactivated" in lowered:
        return tr._("the account was deleted")
    if "can't initiate" in lowered:
        return tr._("the person never started a chat with the bot")
    if "not found" in lowered:
        return tr._("the chat no longer exists")
    return tr._("Telegram refuses it ({reason})", reason=shorten(reason, 120))


def render_chat_unreachable(tr: Tr, payload: Mapping[str, Any]) -> View:
    """For the administrators: a notification chat Telegram says is gone, since when, how many
    notices wait for it, and a button to try it again."""
    chat_id = int(payload["chat_id"])
    label = str(payload.get("label") or "") or tr.raw("chat {id}", id=chat_id)
    since = dt.datetime.fromisoformat(str(payload["since"]))
    waiting = int(payload.get("waiting") or 0)
    text = (
        tr._("⚠️ I cannot deliver notices to <b>{label}</b>", label=shorten(label, 80))
        + "\n"
        + tr._(
            "Since {since}: {reason}.",
            since=tr.datetime(since),
            reason=_unreachable_reason(tr, str(payload.get("reason") or "")),
        )
        + "\n"
        + tr.n_(
            "{n} notice is waiting for it; I will not try again until the bot is added back "
            "(or the person writes to me), or you press Retry.",
            "{n} notices are waiting for it; I will not try again until the bot is added back "
            "(or the person writes to me), or you press Retry.",
            waiting,
        )
    )
    return View(text, [[(tr.raw("🔁 Retry"), RetryChat(chat_id))]])


def render_row(
    tr: Tr,
    kind: str,
    payload: Mapping[str, Any],
    *,
    today: dt.date,
    plan_titles: Mapping[int, str] | None = None,
) -> list[View]:
    """Any outbox row as the messages to send (usually one). `plan_titles` (given when the bot
    follows several plans) names the plan of each action mentioned."""
    if kind == ACCOUNT_KIND:
        return [render_account_notice(tr, payload)]
    if kind == "reminder":
        return render_reminder(tr, payload, plan_titles=plan_titles)
    if kind == "digest":
        return render_weekly_digest(tr, payload, plan_titles=plan_titles)
    if kind == "daily_digest":
        return render_daily_digest(tr, payload, today=today, plan_titles=plan_titles)
    if kind == CHAT_UNREACHABLE_KIND:
        return [render_chat_unreachable(tr, payload)]
    plan_id = payload.get("plan_id")
    title = plan_titles.get(int(plan_id)) if plan_titles and plan_id is not None else None
    if kind in ROUND_KINDS:
        return render_round_row(tr, kind, payload, plan_title=title)
    if kind == "verdict":
        return [render_verdict(tr, payload, plan_title=title)]
    return [render_event(tr, kind, payload, plan_title=title)]
