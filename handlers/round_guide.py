"""A focal point's part of a reporting round, one action at a time: the card's essentials and
"No changes" · the statuses · "💬 Comment" · "Skip for now"; a status that needs a justification
and a comment go through the ordinary steps (`handlers.conversation`, with the round in the
step's data), after which the sequence goes on. Where the person is lives in the database
(`storage.round_answers`), so they resume where they left, after a restart too."""

from __future__ import annotations

from telegram import Update

from handlers.buttons import Button, CancelStep, State, parse_any
from handlers.context import FlowContext, flow
from handlers.i18n import Safe, Tr
from handlers.labels import STATUS_MARKS, deadline_in_words, status_label, status_mark
from handlers.replies import ButtonRow, Reply, View, stale_button
from handlers.round_buttons import (
    ROUND_GUIDE_BUTTONS,
    RoundComment,
    RoundGo,
    RoundSkip,
    RoundStatus,
    RoundUnchanged,
)
from handlers.round_texts import round_name
from handlers.text import escape, shorten
from storage.actions import latest_comments
from storage.errors import NotFound, PermissionDenied
from storage.followup import (
    COMMENT_MAX_LENGTH,
    JUSTIFICATION_MIN_LENGTH,
    needs_justification,
    set_status,
)
from storage.models import CommentKind, ReportingRound, RoundPerson, Status
from storage.round_answers import (
    SKIPPED,
    UNCHANGED,
    UPDATED,
    RoundAction,
    membership,
    next_in,
    part_of,
    record_answer,
    set_position,
)

CARD_TEXT = 400
COMMENT_TEXT = 300
SUMMARY_LINES = 30
ANSWER_MARKS = {UPDATED: "✏️", UNCHANGED: "✔", SKIPPED: "⏭"}


def _answer_label(tr: Tr, answer: str | None) -> str:
    labels = {
        UPDATED: tr.raw("updated"),
        UNCHANGED: tr.raw("no changes"),
        SKIPPED: tr.raw("skipped for now"),
    }
    return labels.get(answer or "", tr.raw("pending"))


async def _card(
    context: FlowContext, rnd: ReportingRound, part: list[RoundAction], action: RoundAction
) -> View:
    tr, today = context.tr, context.deps.today()
    position = [a.id for a in part].index(action.id) + 1
    overdue = (
        action.deadline_due is not None
        and action.deadline_due < today
        and Status(action.status) not in (Status.COMPLETED, Status.NOT_APPLICABLE)
    )
    deadline = deadline_in_words(
        tr,
        text=action.deadline_text,
        kind=action.deadline_kind,
        due=action.deadline_due,
        start=action.deadline_start,
        status=action.status,
        today=today,
    )
    lines = [
        tr._(
            "📋 {name} · action {i} of {n}",
            name=Safe(round_name(tr, rnd.title, rnd.closes_on)),
            i=tr.number(position),
            n=tr.number(len(part)),
        ),
        "",
        tr._("<b>Key action {ref}</b>", ref=action.ref),
        escape(shorten(action.text, CARD_TEXT)),
        tr._("📅 {deadline}", deadline=Safe(deadline)),
        tr._(
            "{mark} Follow-up: <b>{status}</b>",
            mark=Safe(status_mark(action.status, overdue)),
            status=status_label(tr, action.status),
        ),
    ]
    comments = [
        c
        for c in await latest_comments(context.session, action.id, 5)
        if c.kind == CommentKind.FOLLOW_UP
    ]
    if comments:
        last = comments[-1]
        lines.append(
            tr._(
                "💬 Latest comment ({who}, {when}): «{text}»",
                who=last.author or tr.raw("plan file"),
                when=tr.day(last.created_at),
                text=shorten(last.text, COMMENT_TEXT),
            )
        )
    else:
        lines.append(tr._("<i>No comments yet.</i>"))
    if action.answer is not None:
        lines.append(tr._("Already reported: {answer}.", answer=_answer_label(tr, action.answer)))
    if rnd.closed_at is not None:
        lines += ["", _closed_line(tr, rnd)]
    lines += ["", tr._("Has anything changed?")]
    statuses: list[tuple[str, Button]] = [
        (f"{STATUS_MARKS[s]} {status_label(tr, s)}", RoundStatus(rnd.id, action.id, s))
        for s in Status
        if s.value != action.status
    ]
    buttons: list[ButtonRow] = [
        [(tr.raw("✔ No changes"), RoundUnchanged(rnd.id, action.id))],
        statuses[:2],
        statuses[2:],
        [
            (tr.raw("💬 Comment"), RoundComment(rnd.id, action.id)),
            (tr.raw("⏭ Skip for now"), RoundSkip(rnd.id, action.id)),
        ],
    ]
    return View("\n".join(lines), [row for row in buttons if row])


def _closed_line(tr: Tr, rnd: ReportingRound) -> str:
    assert rnd.closed_at is not None
    return tr._(
        "<i>This round closed on {date}: what you report now is kept as after the round.</i>",
        date=tr.day(rnd.closed_at),
    )


def _summary(tr: Tr, rnd: ReportingRound, part: list[RoundAction]) -> View:
    counts = {key: sum(1 for a in part if a.answer == key) for key in (UPDATED, UNCHANGED, SKIPPED)}
    lines = [
        tr._(
            "✅ <b>That is all for {name}</b>. Thank you!",
            name=Safe(round_name(tr, rnd.title, rnd.closes_on)),
        ),
        tr._(
            "Updated: {updated} · no changes: {unchanged} · skipped: {skipped}",
            updated=tr.number(counts[UPDATED]),
            unchanged=tr.number(counts[UNCHANGED]),
            skipped=tr.number(counts[SKIPPED]),
        ),
        "",
    ]
    lines += [
        tr._(
            "{mark} <b>{ref}</b> {text} — {answer}",
            mark=ANSWER_MARKS.get(a.answer or "", "•"),
            ref=a.ref,
            text=shorten(a.text, 50),
            answer=_answer_label(tr, a.answer),
        )
        for a in part[:SUMMARY_LINES]
    ]
    if len(part) > SUMMARY_LINES:
        lines.append(tr.n_("… and {n} more", "… and {n} more", len(part) - SUMMARY_LINES))
    if rnd.closed_at is not None:
        lines += ["", _closed_line(tr, rnd)]
    buttons: list[ButtonRow] = []
    if counts[SKIPPED]:
        label = tr.raw("⏭ Back to the skipped ones ({n})", n=counts[SKIPPED])
        buttons.append([(label, RoundGo(rnd.id, 1))])
    return View("\n".join(lines), buttons)


async def show_next(
    context: FlowContext,
    rnd: ReportingRound,
    member: RoundPerson,
    *,
    after: int | None = None,
    skipped: bool = False,
    resume: bool = False,
) -> View:
    """The next action of the person's part (or the summary when none is left); with `resume`,
    the action they were at, if it still waits for an answer."""
    part = await part_of(context.session, rnd, context.person.id)
    action = None
    if resume and member.current_action_id is not None:
        action = next(
            (a for a in part if a.id == member.current_action_id and a.answer is None), None
        )
        after = member.current_action_id
    action = action or next_in(part, after=after, skipped=skipped)
    await set_position(context.session, member, action.id if action else None, context.deps.now())
    if action is None:
        return _summary(context.tr, rnd, part)
    return await _card(context, rnd, part, action)


async def after_step(context: FlowContext, round_id: int, action_id: int, notice: str) -> Reply:
    """A comment or a justification of the sequence was saved: on to the next action."""
    rnd, member = await membership(context.session, round_id, context.person.id)
    view = await show_next(context, rnd, member, after=action_id)
    return Reply([view.with_notice(notice)])


async def back_to(context: FlowContext, round_id: int, action_id: int, notice: str) -> View:
    """A step of the sequence was cancelled: the same action again."""
    rnd, member = await membership(context.session, round_id, context.person.id)
    part = await part_of(context.session, rnd, context.person.id)
    action = next((a for a in part if a.id == action_id), None)
    if action is None:
        return (await show_next(context, rnd, member)).with_notice(notice)
    return (await _card(context, rnd, part, action)).with_notice(notice)


def _prompt(tr: Tr, text: str) -> View:
    return View(text, [[(tr.raw("✖ Cancel"), CancelStep())]])


@flow()
async def guide_pressed(update: Update, context: FlowContext) -> Reply:
    """A button of the guided sequence."""
    button = parse_any(update, *ROUND_GUIDE_BUTTONS)
    tr = context.tr
    if not isinstance(button, RoundGo | RoundUnchanged | RoundStatus | RoundComment | RoundSkip):
        return stale_button(tr)
    try:
        rnd, member = await membership(context.session, button.round_id, context.person.id)
    except NotFound:
        return Reply(notice=tr._("You were not asked in this reporting round."), alert=True)
    if isinstance(button, RoundGo):
        view = await show_next(context, rnd, member, skipped=bool(button.skipped), resume=True)
        return Reply([view], edit=False)
    part = await part_of(context.session, rnd, context.person.id)
    action = next((a for a in part if a.id == button.action_id), None)
    if action is None:
        raise PermissionDenied("action_not_yours", action_id=button.action_id)
    now = context.deps.now()
    match button:
        case RoundUnchanged():
            await record_answer(
                context.session, rnd, context.person.id, action.id, UNCHANGED, now=now
            )
            notice = tr._("Noted: no changes on {ref}.", ref=action.ref)
        case RoundSkip():
            await record_answer(
                context.session, rnd, context.person.id, action.id, SKIPPED, now=now
            )
            notice = tr._("{ref} skipped for now.", ref=action.ref)
        case RoundComment():
            data = {
                "action": action.id,
                "kind": CommentKind.FOLLOW_UP.value,
                "attachments": [],
                "round": rnd.id,
            }
            await context.step.open(State.COMMENT, data)
            text = tr._(
                "Write your comment on <b>{ref}</b>. You can also send a photo or a document "
                "as evidence (its caption is the comment).",
                ref=action.ref,
            )
            return Reply([_prompt(tr, text)])
        case RoundStatus(status=status):
            if status.value == action.status:
                await record_answer(
                    context.session, rnd, context.person.id, action.id, UNCHANGED, now=now
                )
                notice = tr._("It already has that status.")
            elif needs_justification(status):
                data = {"action": action.id, "status": status.value, "round": rnd.id}
                await context.step.open(State.JUSTIFY, data)
                text = tr._(
                    "To mark <b>{ref}</b> as <b>{status}</b>, write a short justification: what "
                    "was done, or why it no longer applies ({least} to {most} characters).",
                    ref=action.ref,
                    status=status_label(tr, status),
                    least=tr.number(JUSTIFICATION_MIN_LENGTH),
                    most=tr.number(COMMENT_MAX_LENGTH),
                )
                return Reply([_prompt(tr, text)])
            else:
                await set_status(
                    context.session,
                    context.person,
                    action.id,
                    status,
                    notify_chat_ids=context.deps.notify_chat_ids,
                    now=now,
                )
                notice = tr._("Status changed to {status}.", status=status_label(tr, status))
        case _:
            return stale_button(tr)
    again = action.answer == SKIPPED  # a pass over the skipped ones goes on with the next
    view = await show_next(context, rnd, member, after=action.id, skipped=again)
    return Reply([view], notice=notice)
