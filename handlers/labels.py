"""Names people read for stored values (statuses, roles, deadline kinds), and the deadline in
words. Shared by every flow so that a status is called the same everywhere."""

from __future__ import annotations

import datetime as dt

from handlers.i18n import N_, Tr
from storage.models import ReviewStatus, Role, Status

# The statuses' names are the plan files' (the same words in a cell, a card and a report).
from storage.plan_files.vocabulary import OVERDUE_LABEL as OVERDUE_LABEL
from storage.plan_files.vocabulary import REVIEW_LABELS as REVIEW_LABELS
from storage.plan_files.vocabulary import STATUS_LABELS as STATUS_LABELS

ROLE_LABELS = {
    Role.FOCAL: N_("focal point"),
    Role.COORDINATOR: N_("coordinator"),
    Role.SECRETARIAT: N_("secretariat"),
    Role.ADMIN: N_("administrator"),
}

STATUS_MARKS = {
    Status.NOT_STARTED: "⚪",
    Status.IN_PROGRESS: "🔵",
    Status.COMPLETED: "✅",
    Status.NOT_APPLICABLE: "⚫",
}
OVERDUE_MARK = "🔴"
REVIEW_MARKS = {ReviewStatus.PENDING: "🕓", ReviewStatus.VALIDATED: "☑️", ReviewStatus.OBSERVED: "⚠️"}


def status_label(tr: Tr, status: str) -> str:
    return tr.raw(STATUS_LABELS[Status(status)])


def review_label(tr: Tr, status: str) -> str:
    return tr.raw(REVIEW_LABELS[ReviewStatus(status)])


def role_label(tr: Tr, role: str) -> str:
    return tr.raw(ROLE_LABELS[Role(role)])


def status_mark(status: str, overdue: bool = False) -> str:
    return OVERDUE_MARK if overdue else STATUS_MARKS[Status(status)]


def deadline_in_words(
    tr: Tr,
    *,
    text: str,
    kind: str,
    due: dt.date | None,
    start: dt.date | None,
    status: str,
    today: dt.date,
) -> str:
    """ "vence el 31 ene 2012 · vencida hace 3 meses", "condicional: a la recepción del tercer
    desembolso", "permanente", or the original text when it could not be read. Escaped HTML."""
    closed = Status(status) in (Status.COMPLETED, Status.NOT_APPLICABLE)
    if kind == "event":
        return tr._("conditional: {event}", event=text[:1].lower() + text[1:])
    if kind == "ongoing":
        return tr._("ongoing ({text})", text=text)
    if kind == "from_date" and start is not None:
        return tr._("from {date}, no end date", date=tr.short_date(start))
    if due is None:
        return tr._("deadline: {text}", text=text) if text else tr._("no deadline")
    words = tr._("due {date}", date=tr.short_date(due))
    if closed:
        return words
    if due < today:
        return tr._("{due} · overdue by {delta}", due=words, delta=tr.timedelta(today - due))
    if due == today:
        return tr._("{due} · due today", due=words)
    if due - today == dt.timedelta(days=1):
        return tr._("due tomorrow, {date}", date=tr.short_date(due))
    return tr._("{due} · in {delta}", due=words, delta=tr.timedelta(due - today))
