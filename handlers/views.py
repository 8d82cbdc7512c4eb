"""What the chat flows show: texts and inline keyboards of lists, cards, menus and prompts."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Protocol, TypeVar

from handlers.action_buttons import (
    ActionList,
    EvidenceDone,
    OpenCard,
    ReviewMenu,
    SetReview,
    SetStatus,
    ShowEvidence,
    ShowHistory,
    StartComment,
    StartEvidence,
    StartReviewComment,
    StatusMenu,
)
from handlers.buttons import Button, CancelStep
from handlers.i18n import Safe, Tr
from handlers.labels import (
    REVIEW_MARKS,
    STATUS_MARKS,
    deadline_in_words,
    review_label,
    role_label,
    status_label,
    status_mark,
)
from handlers.replies import ButtonRow, View, in_rows
from handlers.text import escape, shorten
from storage.actions import (
    ActionCard,
    ActionFilter,
    ActionPage,
    ActionRow,
    CommentView,
    HistoryEntry,
)
from storage.attachments import describe_attachment, kind_words, map_link
from storage.evidence import EvidenceFile
from storage.models import CommentKind, Person, ReviewStatus, Status

BUTTON_TEXT = 60
CARD_TEXT = 900
COMMENT_TEXT = 300
FILES_NAMED = 3
EVIDENCE_LISTED = 5

E = TypeVar("E", bound=StrEnum)


def _action_button(tr: Tr, row: ActionRow) -> tuple[str, Button]:
    due = tr.short_date(row.deadline_due) if row.deadline_due else shorten(row.deadline_text, 18)
    label = f"{status_mark(row.status, row.overdue)} {row.ref} · {due} · {row.text}"
    return shorten(label, BUTTON_TEXT), OpenCard(row.id)


def action_list(tr: Tr, page: ActionPage, flt: ActionFilter, *, reviewer: bool = False) -> View:
    """A page of /acciones; `reviewer` adds the "To review" filter (secretariat, admins)."""
    titles = {
        ActionFilter.PENDING: tr._("<b>Your pending actions</b>"),
        ActionFilter.OVERDUE: tr._("<b>Your overdue actions</b>"),
        ActionFilter.ALL: tr._("<b>All your actions</b>"),
        ActionFilter.TO_REVIEW: tr._("<b>Actions to review</b>"),
        ActionFilter.OBSERVED: tr._("<b>Your actions with observations</b>"),
    }
    lines = [titles[flt]]
    if page.total == 0:
        empty = {
            ActionFilter.PENDING: tr._("You have no pending actions. Well done!"),
            ActionFilter.OVERDUE: tr._("None of your actions is overdue."),
            ActionFilter.ALL: tr._("No key action is assigned to your units yet."),
            ActionFilter.TO_REVIEW: tr._("No action is waiting for review."),
            ActionFilter.OBSERVED: tr._(
                "The secretariat has no open observations on your actions."
            ),
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
    buttons: list[ButtonRow] = [[_action_button(tr, row)] for row in page.rows]
    nav: ButtonRow = []
    if page.page > 0:
        nav.append(("‹ " + tr.raw("Previous"), ActionList(flt, page.page - 1)))
    if page.page + 1 < page.pages:
        nav.append((tr.raw("Next") + " ›", ActionList(flt, page.page + 1)))
    if nav:
        buttons.append(nav)
    filters = [
        (ActionFilter.PENDING, tr.raw("Pending")),
        (ActionFilter.OVERDUE, tr.raw("Overdue (filter)")),
        (ActionFilter.ALL, tr.raw("All")),
    ]
    if reviewer:
        filters.insert(0, (ActionFilter.TO_REVIEW, tr.raw("To review")))
    else:
        filters.insert(2, (ActionFilter.OBSERVED, tr.raw("⚠️ With observations")))
    choices: ButtonRow = [
        (("• " if f == flt else "") + label, ActionList(f)) for f, label in filters
    ]
    buttons.extend(in_rows(choices, 2))
    return View("\n".join(lines), buttons)


def _comment_line(tr: Tr, comment: CommentView) -> str:
    icon = "🗒" if comment.kind == CommentKind.REVIEW else "💬"
    text = shorten(comment.text, COMMENT_TEXT) if comment.text else ""
    if comment.author:
        source = tr._("{author}, {date}", author=comment.author, date=tr.day(comment.created_at))
    else:  # imported with the plan: its date is the import's, not when it was written
        source = tr._("from the original plan")
    line = tr._("{icon} <i>{source}</i>: {text}", icon=Safe(icon), source=Safe(source), text=text)
    return line + _files_line(tr, [attachment_name(tr, a) for a in comment.attachments])


def _files_line(tr: Tr, names: Sequence[str]) -> str:
    """ " 📎 acta.pdf, lista.xlsx" after a comment that brought files (none: nothing)."""
    if not names:
        return ""
    shown = ", ".join(names[:FILES_NAMED])
    more = len(names) - FILES_NAMED
    return " " + tr._("📎 {names}", names=shown) + (f" +{more}" if more > 0 else "")


def evidence_lines(tr: Tr, files: Sequence[EvidenceFile]) -> list[str]:
    """The card's evidence: each file by name, who sent it and when (the latest few)."""
    if not files:
        return []
    lines = [
        "",
        tr.n_("<b>📎 Evidence ({n} file)</b>", "<b>📎 Evidence ({n} files)</b>", len(files)),
    ]
    for f in files[-EVIDENCE_LISTED:]:
        lines.append(evidence_line(tr, f))
    if len(files) > EVIDENCE_LISTED:
        lines.append(tr.n_("… and {n} more", "… and {n} more", len(files) - EVIDENCE_LISTED))
    return lines


class Described(Protocol):
    """An attachment as storage gives it (a card's comment, an evidence file)."""

    @property
    def kind(self) -> str: ...
    @property
    def file_name(self) -> str: ...
    @property
    def duration(self) -> int | None: ...
    @property
    def latitude(self) -> float | None: ...
    @property
    def longitude(self) -> float | None: ...


def attachment_name(tr: Tr, f: Described, width: int = 40) -> str:
    """A file by its name, a recording by its length, a field visit by its place."""
    return describe_attachment(
        f.kind,
        shorten(f.file_name, width),
        duration=f.duration,
        latitude=f.latitude,
        longitude=f.longitude,
        words=kind_words(tr.raw),
    )


def map_anchor(tr: Tr, f: Described) -> str:
    """ " — map" linking to a field visit's place (nothing for other attachments)."""
    if f.latitude is None or f.longitude is None:
        return ""
    href = escape(map_link(f.latitude, f.longitude))
    label = tr._("map")
    return f' — <a href="{href}">{label}</a>'


def evidence_line(tr: Tr, f: EvidenceFile) -> str:
    line = tr._(
        "• {name} — {author}, {date}",
        name=attachment_name(tr, f, 60),
        author=f.author or tr.raw("plan file"),
        date=tr.day(f.created_at),
    )
    return line + map_anchor(tr, f)


def deadline_line(tr: Tr, row: ActionRow, start: dt.date | None, today: dt.date) -> str:
    """ "📅 vence el 31 ene 2012 · vencida hace 3 meses": an action's deadline in words."""
    words = deadline_in_words(
        tr,
        text=row.deadline_text,
        kind=row.deadline_kind,
        due=row.deadline_due,
        start=start,
        status=row.status,
        today=today,
    )
    return tr._("📅 {deadline}", deadline=Safe(words))


def status_lines(tr: Tr, row: ActionRow) -> list[str]:
    """An action's follow-up status (overdue said) and the secretariat's review status."""
    status = status_label(tr, row.status)
    if row.overdue:
        status += " · " + tr.raw("Overdue")
    return [
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
    ]


def action_card(
    tr: Tr, card: ActionCard, today: dt.date, evidence: Sequence[EvidenceFile] = ()
) -> View:
    row = card.action
    lines = [
        tr._("<b>Key action {ref}</b>", ref=row.ref),
        escape(shorten(row.text, CARD_TEXT)),
        "",
        deadline_line(tr, row, card.deadline_start, today),
        tr._("👥 {units}", units=", ".join(card.units) or card.responsible_text or "—"),
        *status_lines(tr, row),
        tr._(
            "📌 Recommendation {label}: {text}",
            label=row.label,
            text=shorten(without_number(card.recommendation_text), 160),
        ),
    ]
    if card.comments:
        lines.append("")
        lines.append(tr._("<b>Latest comments</b>"))
        lines.extend(_comment_line(tr, c) for c in card.comments)
    else:
        lines.append("")
        lines.append(tr._("<i>No comments yet.</i>"))
    lines += evidence_lines(tr, evidence)
    buttons: list[ButtonRow] = []
    if card.can_follow_up:
        buttons.append(
            [
                (tr.raw("💬 Comment"), StartComment(row.id)),
                (tr.raw("🔄 Change status"), StatusMenu(row.id)),
            ]
        )
        buttons.append(
            [
                (tr.raw("📎 Attach evidence"), StartEvidence(row.id)),
                (tr.raw("🕓 History"), ShowHistory(row.id)),
            ]
        )
    else:
        buttons.append([(tr.raw("🕓 History"), ShowHistory(row.id))])
    if card.can_review:
        buttons.append(
            [
                (tr.raw("🗒 Review comment"), StartReviewComment(row.id)),
                (tr.raw("☑️ Review"), ReviewMenu(row.id)),
            ]
        )
    if evidence:
        see = tr.raw("📎 See evidence ({n})", n=len(evidence))
        buttons.append([(see, ShowEvidence(row.id))])
    buttons.append([(tr.raw("‹ Back"), ActionList(ActionFilter.PENDING))])
    return View("\n".join(lines), buttons)


def _choice_menu(
    tr: Tr,
    text: str,
    action_id: int,
    choices: Sequence[tuple[E, str]],
    label: Callable[[Tr, str], str],
    button: Callable[[int, E], Button],
) -> View:
    """A menu of statuses (two a row) and a way back to the card."""
    options = [(f"{mark} {label(tr, value)}", button(action_id, value)) for value, mark in choices]
    rows = [options[i : i + 2] for i in range(0, len(options), 2)]
    return View(text, [*rows, [(tr.raw("‹ Back"), OpenCard(action_id))]])


LEADING_NUMBER = re.compile(
    r"^\s*(?:n[º°o]\.?\s*)?\d+(?:\s*(?:y|and|,)\s*\d+)*\s*[.:)\-–]\s*", re.I
)


def without_number(text: str) -> str:
    """A recommendation's text without the number it often starts with ("1. La CDN…"), which
    the line already gives."""
    return LEADING_NUMBER.sub("", text, count=1)


def status_menu(tr: Tr, row: ActionRow) -> View:
    text = tr._(
        "<b>{ref}</b> · current status: <b>{status}</b>\nChoose the new status:",
        ref=row.ref,
        status=status_label(tr, row.status),
    )
    choices = [(status, STATUS_MARKS[status]) for status in Status]
    return _choice_menu(tr, text, row.id, choices, status_label, SetStatus)


def review_menu(tr: Tr, row: ActionRow) -> View:
    text = tr._(
        "<b>{ref}</b> · secretariat review: <b>{review}</b>\nChoose the review status:",
        ref=row.ref,
        review=review_label(tr, row.review_status),
    )
    choices = [(review, REVIEW_MARKS[review]) for review in ReviewStatus]
    return _choice_menu(tr, text, row.id, choices, review_label, SetReview)


def history(tr: Tr, row: ActionRow, entries: Sequence[HistoryEntry]) -> View:
    lines = [tr._("<b>History of {ref}</b>", ref=row.ref)]
    if not entries:
        lines.append(tr._("Nothing has been recorded for this action yet."))
    for entry in entries:
        if entry.author:
            heading = tr._("{when} · {who}", when=tr.datetime(entry.created_at), who=entry.author)
        else:
            heading = tr._("from the original plan")
        if entry.kind in ("status", "review_status"):
            label = status_label if entry.kind == "status" else review_label
            what = tr._(
                "{field}: {old} → <b>{new}</b>",
                field=tr.raw("Follow-up") if entry.kind == "status" else tr.raw("Secretariat"),
                old=label(tr, entry.old_value),
                new=label(tr, entry.new_value),
            )
        else:
            what = tr._(
                "{icon} {text}",
                icon=Safe("🗒" if entry.kind == "review_comment" else "💬"),
                text=shorten(entry.text, 500) if entry.text else "",
            ) + _files_line(tr, [attachment_name(tr, f) for f in entry.files])
        lines.append(tr._("<i>{heading}</i>\n{what}", heading=Safe(heading), what=Safe(what)))
    return View("\n\n".join(lines), [[(tr.raw("‹ Back"), OpenCard(row.id))]])


def prompt(tr: Tr, text: str, action_id: int, *, done: bool = False) -> View:
    row: ButtonRow = [(tr.raw("✖ Cancel"), CancelStep())]
    if done:
        row.insert(0, (tr.raw("✔ Done"), EvidenceDone(action_id)))
    return View(text, [row])


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
