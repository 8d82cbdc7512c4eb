"""/revisar: the secretariat's review queue, one card at a time (see `storage.review` for what
waits): the action, its latest change and evidence, and Validate · Observe · Skip. Validating
shows the next card in place; observing opens the same step as the card's review menu; skipping
moves on, the skipped ones staying out of this round (the position travels in the buttons)."""

from __future__ import annotations

import datetime as dt

from telegram import Update

from handlers.action_buttons import (
    REVIEW_QUEUE_BUTTONS,
    ReviewQueueObserve,
    ReviewQueueShow,
    ReviewQueueValidate,
    ShowEvidence,
)
from handlers.buttons import parse_any
from handlers.context import FlowContext, flow
from handlers.conversation import start_observation
from handlers.i18n import N_, Tr
from handlers.labels import (
    status_label,
)
from handlers.replies import ButtonRow, Reply, View, stale_button
from handlers.text import escape, shorten
from handlers.views import attachment_name, deadline_line, status_lines
from storage.actions import visible_action_row
from storage.followup import set_review_status
from storage.models import ReviewStatus, Role
from storage.review import LatestChange, ReviewItem, ReviewPage, review_page

REVIEWERS = (Role.SECRETARIAT, Role.ADMIN)
REVIEWERS_ONLY = N_("The review queue is for the secretariat.")
ACTION_TEXT = 400
CHANGE_TEXT = 600
FILE_NAME = 40
FILES_SHOWN = 10


async def queue_view(context: FlowContext, position: int) -> View:
    today = context.deps.today()
    page = await review_page(context.session, context.person, position=position, today=today)
    return review_card(context.tr, page, today)


@flow(private=True, roles=REVIEWERS, refusal_text=REVIEWERS_ONLY)
async def review_command(update: Update, context: FlowContext) -> View:
    """/revisar: the first card of the review queue."""
    return await queue_view(context, 0)


@flow(roles=REVIEWERS, refusal_text=REVIEWERS_ONLY)
async def review_pressed(update: Update, context: FlowContext) -> Reply:
    """A button of the queue's card: validate, observe, skip (or start the round again)."""
    tr, deps = context.tr, context.deps
    match parse_any(update, *REVIEW_QUEUE_BUTTONS):
        case ReviewQueueShow(position=position):
            return Reply([await queue_view(context, position)])
        case ReviewQueueValidate(action_id=action_id, position=position):
            action = await visible_action_row(
                context.session, context.person, action_id, today=deps.today()
            )
            changed = await set_review_status(
                context.session,
                context.person,
                action_id,
                ReviewStatus.VALIDATED,
                notify_chat_ids=deps.notify_chat_ids,
                now=deps.now(),
            )
            notice = (
                tr._("☑️ {ref} validated.", ref=action.ref)
                if changed
                else tr._("It already has that review status.")
            )
            return Reply([(await queue_view(context, position)).with_notice(notice)])
        case ReviewQueueObserve(action_id=action_id):
            action = await visible_action_row(
                context.session, context.person, action_id, today=deps.today()
            )
            return await start_observation(context, action)
    return stale_button(tr)


# -- the card --------------------------------------------------------------------------------


def review_card(tr: Tr, page: ReviewPage, today: dt.date) -> View:
    """The queue's card: the action, its latest change and evidence, and what to do with it."""
    if page.item is None:
        return _end_of_queue(tr, page)
    item, row = page.item, page.item.action
    lines = [
        tr._(
            "🗂 <b>Review queue</b> · {position} of {total} to review",
            position=tr.number(page.position + 1),
            total=tr.number(page.waiting),
        ),
        "",
        tr._("<b>Key action {ref}</b>", ref=row.ref),
        escape(shorten(row.text, ACTION_TEXT)),
        "",
        deadline_line(tr, row, item.deadline_start, today),
        *status_lines(tr, row),
    ]
    if item.change is not None:
        lines += ["", *_change_lines(tr, item.change)]
    if item.evidence:
        names = [attachment_name(tr, e, FILE_NAME) for e in item.evidence[:FILES_SHOWN]]
        more = "…" if len(item.evidence) > FILES_SHOWN else ""
        lines += [
            "",
            tr.n_(
                "📎 Evidence ({n} file): {names}",
                "📎 Evidence ({n} files): {names}",
                len(item.evidence),
                names=", ".join(names) + more,
            ),
        ]
    return View("\n".join(lines), _card_buttons(tr, item, page.position))


def _change_lines(tr: Tr, change: LatestChange) -> list[str]:
    """Who reported what, and when: a comment, or a status change with its justification."""
    lines = [
        tr._(
            "<b>Latest change</b> · <i>{who}, {when}</i>",
            who=change.author or tr.raw("plan file"),
            when=tr.datetime(change.created_at),
        )
    ]
    if change.kind == "status":
        lines.append(
            tr._(
                "{field}: {old} → <b>{new}</b>",
                field=tr.raw("Follow-up"),
                old=status_label(tr, change.old_value),
                new=status_label(tr, change.new_value),
            )
        )
    if change.text:
        lines.append("💬 " + escape(shorten(change.text, CHANGE_TEXT)))
    return lines


def _card_buttons(tr: Tr, item: ReviewItem, position: int) -> list[ButtonRow]:
    action_id = item.action.id
    rows: list[ButtonRow] = [
        [
            (tr.raw("☑️ Validate"), ReviewQueueValidate(action_id, position)),
            (tr.raw("⚠️ Observe"), ReviewQueueObserve(action_id)),
        ],
        [(tr.raw("Skip ›"), ReviewQueueShow(position + 1))],
    ]
    if item.evidence:
        label = tr.raw("📎 See evidence ({n})", n=len(item.evidence))
        rows[1].append((label, ShowEvidence(action_id)))
    return rows


def _end_of_queue(tr: Tr, page: ReviewPage) -> View:
    validated = tr.n_(
        "{n} action validated so far.", "{n} actions validated so far.", page.validated
    )
    if page.waiting == 0:
        nothing = tr._("Nothing to review 🎉")
        return View(f"{nothing}\n{validated}")
    skipped = tr.n_(
        "That is the end of this round: {n} skipped action is still waiting.",
        "That is the end of this round: {n} skipped actions are still waiting.",
        page.waiting,
    )
    return View(f"{skipped}\n{validated}", [[(tr.raw("🔁 Start again"), ReviewQueueShow(0))]])
