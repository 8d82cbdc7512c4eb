"""What the chat flows show: texts and inline keyboards of lists, cards and prompts.

A `View` is a text (HTML, everything people typed escaped) and its buttons; flows build views
inside a database transaction and send them after it, so no transaction waits on Telegram.

Callback data (at most 64 bytes): `l:<p|o|a>:<page>` list (pending, overdue, all), `a:<id>` card,
`c:<id>` comment, `e:<id>` evidence, `s:<id>` status menu, `ss:<id>:<n|i|c|x>` set status,
`h:<id>` history, `d:<id>` done attaching, `v:<id>` review menu, `vs:<id>:<p|v|o>` set review,
`vc:<id>` review comment, `x` cancel, `lg:<es|en>` language, `u:<page>` people,
`ud:<id>`/`udy:<id>`/`ua:<id>` deactivate (ask, confirm) and reactivate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.common import fits_callback, shorten
from handlers.i18n import Safe, Tr
from handlers.labels import (
    REVIEW_MARKS,
    deadline_in_words,
    review_label,
    role_label,
    status_label,
    status_mark,
)
from storage.actions import ActionCard, ActionFilter, ActionPage, ActionRow, HistoryEntry
from storage.models import CommentKind, Person, ReviewStatus, Status

FILTER_CODES = {"p": ActionFilter.PENDING, "o": ActionFilter.OVERDUE, "a": ActionFilter.ALL}
FILTER_OF = {v: k for k, v in FILTER_CODES.items()}
STATUS_CODES = {
    "n": Status.NOT_STARTED,
    "i": Status.IN_PROGRESS,
    "c": Status.COMPLETED,
    "x": Status.NOT_APPLICABLE,
}
STATUS_OF = {v: k for k, v in STATUS_CODES.items()}
REVIEW_CODES = {"p": ReviewStatus.PENDING, "v": ReviewStatus.VALIDATED, "o": ReviewStatus.OBSERVED}
REVIEW_OF = {v: k for k, v in REVIEW_CODES.items()}

BUTTON_TEXT = 60
CARD_TEXT = 900
COMMENT_TEXT = 300


@dataclass
class View:
    text: str
    buttons: list[list[tuple[str, str]]] = field(default_factory=list)

    @property
    def markup(self) -> InlineKeyboardMarkup | None:
        if not self.buttons:
            return None
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(text, callback_data=fits_callback(data))
                    for text, data in row
                ]
                for row in self.buttons
            ]
        )


def _action_button(tr: Tr, row: ActionRow) -> tuple[str, str]:
    due = tr.short_date(row.deadline_due) if row.deadline_due else shorten(row.deadline_text, 18)
    label = f"{status_mark(row.status, row.overdue)} {row.ref} · {due} · {row.text}"
    return shorten(label, BUTTON_TEXT), f"a:{row.id}"


def action_list(tr: Tr, page: ActionPage, flt: ActionFilter) -> View:
    titles = {
        ActionFilter.PENDING: tr._("<b>Your pending actions</b>"),
        ActionFilter.OVERDUE: tr._("<b>Your overdue actions</b>"),
        ActionFilter.ALL: tr._("<b>All your actions</b>"),
    }
    lines = [titles[flt]]
    if page.total == 0:
        empty = {
            ActionFilter.PENDING: tr._("You have no pending actions. Well done!"),
            ActionFilter.OVERDUE: tr._("None of your actions is overdue."),
            ActionFilter.ALL: tr._("No key action is assigned to your units yet."),
        }
        lines.append(empty[flt])
    else:
        lines.append(
            tr.n_(
                "{n} action · page {page} of {pages}",
                "{n} actions · page {page} of {pages}",
                page.total,
                page=page.page + 1,
                pages=page.pages,
            )
        )
        lines.append(tr._("Tap an action to open it."))
    buttons = [[_action_button(tr, row)] for row in page.rows]
    code = FILTER_OF[flt]
    nav = []
    if page.page > 0:
        nav.append(("‹ " + tr.raw("Previous"), f"l:{code}:{page.page - 1}"))
    if page.page + 1 < page.pages:
        nav.append((tr.raw("Next") + " ›", f"l:{code}:{page.page + 1}"))
    if nav:
        buttons.append(nav)
    filters = [
        (ActionFilter.PENDING, tr.raw("Pending")),
        (ActionFilter.OVERDUE, tr.raw("Overdue (filter)")),
        (ActionFilter.ALL, tr.raw("All")),
    ]
    buttons.append(
        [(("• " if f == flt else "") + label, f"l:{FILTER_OF[f]}:0") for f, label in filters]
    )
    return View("\n".join(lines), buttons)


def _comment_line(tr: Tr, comment, tz_today: dt.date) -> str:  # type: ignore[no-untyped-def]
    author = comment.author or tr.raw("plan file")
    clip = "📎 " * min(3, len(comment.attachments))
    icon = "🗒" if comment.kind == CommentKind.REVIEW else "💬"
    text = shorten(comment.text, COMMENT_TEXT) if comment.text else ""
    return tr._(
        "{icon} <i>{author}, {date}</i>: {clip}{text}",
        icon=Safe(icon),
        author=author,
        date=tr.datetime(comment.created_at, "d MMM y"),
        clip=Safe(clip),
        text=text,
    )


def action_card(tr: Tr, card: ActionCard, today: dt.date, *, back: str = "l:p:0") -> View:
    row = card.action
    deadline = deadline_in_words(
        tr,
        text=row.deadline_text,
        kind=row.deadline_kind,
        due=row.deadline_due,
        start=card.deadline_start,
        status=row.status,
        today=today,
    )
    status = status_label(tr, row.status)
    if row.overdue:
        status += " · " + tr.raw("Overdue")
    lines = [
        tr._("<b>Key action {ref}</b>", ref=row.ref),
        escape_block(shorten(row.text, CARD_TEXT)),
        "",
        tr._("📅 {deadline}", deadline=Safe(deadline)),
        tr._("👥 {units}", units=", ".join(card.units) or card.responsible_text or "—"),
        tr._(
            "{mark} Follow-up: <b>{status}</b>",
            mark=Safe(status_mark(row.status, row.overdue)),
            status=status,
        ),
        tr._(
            "{mark} Secretariat: <b>{review}</b>",
            mark=Safe(REVIEW_MARKS[ReviewStatus(row.review_status)]),
            review=review_label(tr, row.review_status),
        ),
        tr._(
            "📌 Recommendation {label}: {text}",
            label=row.label,
            text=shorten(card.recommendation_text, 160),
        ),
    ]
    if card.comments:
        lines.append("")
        lines.append(tr._("<b>Latest comments</b>"))
        lines.extend(_comment_line(tr, c, today) for c in card.comments)
    else:
        lines.append("")
        lines.append(tr._("<i>No comments yet.</i>"))
    buttons: list[list[tuple[str, str]]] = []
    if card.can_follow_up:
        buttons.append(
            [(tr.raw("💬 Comment"), f"c:{row.id}"), (tr.raw("🔄 Change status"), f"s:{row.id}")]
        )
        buttons.append(
            [(tr.raw("📎 Attach evidence"), f"e:{row.id}"), (tr.raw("🕓 History"), f"h:{row.id}")]
        )
    else:
        buttons.append([(tr.raw("🕓 History"), f"h:{row.id}")])
    if card.can_review:
        buttons.append(
            [(tr.raw("🗒 Review comment"), f"vc:{row.id}"), (tr.raw("☑️ Review"), f"v:{row.id}")]
        )
    buttons.append([(tr.raw("‹ Back"), back)])
    return View("\n".join(lines), buttons)


def escape_block(text: str) -> str:
    import html

    return html.escape(text, quote=False)


def status_menu(tr: Tr, row: ActionRow) -> View:
    text = tr._(
        "<b>{ref}</b> · current status: <b>{status}</b>\nChoose the new status:",
        ref=row.ref,
        status=status_label(tr, row.status),
    )
    options = [
        [
            (f"⚪ {status_label(tr, Status.NOT_STARTED)}", f"ss:{row.id}:n"),
            (f"🔵 {status_label(tr, Status.IN_PROGRESS)}", f"ss:{row.id}:i"),
        ],
        [
            (f"✅ {status_label(tr, Status.COMPLETED)}", f"ss:{row.id}:c"),
            (f"⚫ {status_label(tr, Status.NOT_APPLICABLE)}", f"ss:{row.id}:x"),
        ],
        [(tr.raw("‹ Back"), f"a:{row.id}")],
    ]
    return View(text, options)


def review_menu(tr: Tr, row: ActionRow) -> View:
    text = tr._(
        "<b>{ref}</b> · secretariat review: <b>{review}</b>\nChoose the review status:",
        ref=row.ref,
        review=review_label(tr, row.review_status),
    )
    options = [
        [
            (f"🕓 {review_label(tr, ReviewStatus.PENDING)}", f"vs:{row.id}:p"),
            (f"☑️ {review_label(tr, ReviewStatus.VALIDATED)}", f"vs:{row.id}:v"),
        ],
        [(f"⚠️ {review_label(tr, ReviewStatus.OBSERVED)}", f"vs:{row.id}:o")],
        [(tr.raw("‹ Back"), f"a:{row.id}")],
    ]
    return View(text, options)


def history(tr: Tr, row: ActionRow, entries: Sequence[HistoryEntry]) -> View:
    lines = [tr._("<b>History of {ref}</b>", ref=row.ref)]
    if not entries:
        lines.append(tr._("Nothing has been recorded for this action yet."))
    for entry in entries:
        when = tr.datetime(entry.created_at)
        who = entry.author or tr.raw("plan file")
        if entry.kind in ("status", "review_status"):
            label = status_label if entry.kind == "status" else review_label
            what = tr._(
                "{field}: {old} → <b>{new}</b>",
                field=tr.raw("Follow-up") if entry.kind == "status" else tr.raw("Secretariat"),
                old=label(tr, entry.old_value),
                new=label(tr, entry.new_value),
            )
        else:
            clip = " 📎" * min(3, entry.attachments)
            what = tr._(
                "{icon} {text}{clip}",
                icon=Safe("🗒" if entry.kind == "review_comment" else "💬"),
                text=shorten(entry.text, 500) if entry.text else "",
                clip=Safe(clip),
            )
        lines.append(tr._("<i>{when} · {who}</i>\n{what}", when=when, who=who, what=Safe(what)))
    return View("\n\n".join([lines[0], *lines[1:]]), [[(tr.raw("‹ Back"), f"a:{row.id}")]])


def prompt(tr: Tr, text: str, action_id: int, *, done: bool = False) -> View:
    buttons = [[(tr.raw("✖ Cancel"), "x")]]
    if done:
        buttons[0].insert(0, (tr.raw("✔ Done"), f"d:{action_id}"))
    return View(text, buttons)


def search_results(tr: Tr, words: str, rows: Sequence[ActionRow], total: int) -> View:
    if not rows:
        return View(tr._("No action matches “{words}”.", words=words))
    text = tr.n_(
        "{n} action matches “{words}”:",
        "{n} actions match “{words}”:",
        total,
        words=words,
    )
    if total > len(rows):
        text += "\n" + tr._("Showing the first {shown}; add words to narrow it.", shown=len(rows))
    return View(text, [[_action_button(tr, row)] for row in rows])


def person_line(tr: Tr, person: Person) -> str:
    units = ", ".join(u.name for u in person.units) or "—"
    state = "" if person.active else " " + tr.raw("(deactivated)")
    return tr._(
        "• <b>{name}</b> — {role}{state}\n   {units}",
        name=person.name or str(person.telegram_id),
        role=role_label(tr, person.role),
        state=state,
        units=units,
    )
