"""`/invitaciones`: an admin's view of the invitations nobody has used yet (role, units, who
made them, when, until when), each with a button to revoke it (asked first). A revoked code
registers nobody: whoever opens it is told it was revoked."""

from __future__ import annotations

from telegram import Update

from handlers.buttons import parse_any
from handlers.context import FlowContext, flow
from handlers.i18n import Tr
from handlers.labels import role_label
from handlers.people_buttons import (
    INVITATION_BUTTONS,
    AskRevoke,
    InvitationsPage,
    PeoplePage,
    Revoke,
)
from handlers.replies import ButtonRow, Reply, View, stale_button
from handlers.text import shorten
from storage.errors import InvitationError
from storage.invitations import PendingInvitation, invitation_summary, pending_invitations
from storage.invitations import revoke_invitation as revoke
from storage.models import Role

INVITATIONS_PAGE = 10
ADMINS = (Role.ADMIN,)


def invitation_label(tr: Tr, invitation: PendingInvitation) -> str:
    """ "punto focal · PNUD" (plain text, for buttons)."""
    label = role_label(tr, invitation.role)
    return f"{label} · {', '.join(invitation.units)}" if invitation.units else label


def invitation_line(tr: Tr, invitation: PendingInvitation) -> str:
    who = invitation.created_by or tr.raw("the command line")
    return tr._(
        "• <b>{what}</b>\n   made by {who} on {created} · expires on {expires}",
        what=invitation_label(tr, invitation),
        who=who,
        created=tr.datetime(invitation.created_at),
        expires=tr.datetime(invitation.expires_at),
    )


def invitations_view(tr: Tr, invitations: list[PendingInvitation], page: int) -> View:
    if not invitations:
        text = tr._(
            "There are no pending invitations. Create one with <code>/invitar ROLE "
            "[UNIT, UNIT...]</code>."
        )
        return View(text, [[("‹ " + tr.raw("People"), PeoplePage())]])
    pages = max(1, -(-len(invitations) // INVITATIONS_PAGE))
    page = max(0, min(page, pages - 1))
    shown = invitations[page * INVITATIONS_PAGE : (page + 1) * INVITATIONS_PAGE]
    lines = [
        tr.n_(
            "<b>{n} pending invitation</b> (not used yet, not expired)",
            "<b>{n} pending invitations</b> (not used yet, not expired)",
            len(invitations),
        )
    ]
    lines += [invitation_line(tr, invitation) for invitation in shown]
    buttons: list[ButtonRow] = [
        [
            (
                tr.raw("✖ Revoke: {what}", what=shorten(invitation_label(tr, invitation), 40)),
                AskRevoke(invitation.id),
            )
        ]
        for invitation in shown
    ]
    nav: ButtonRow = []
    if page > 0:
        nav.append(("‹ " + tr.raw("Previous"), InvitationsPage(page - 1)))
    if page + 1 < pages:
        nav.append((tr.raw("Next") + " ›", InvitationsPage(page + 1)))
    if nav:
        buttons.append(nav)
    return View("\n".join(lines), buttons)


@flow(roles=ADMINS)
async def invitations_command(update: Update, context: FlowContext) -> View:
    """/invitaciones: the pending invitations, with buttons to revoke them."""
    invitations = await pending_invitations(context.session, now=context.deps.now())
    return invitations_view(context.tr, invitations, 0)


@flow(roles=ADMINS)
async def invitations_pressed(update: Update, context: FlowContext) -> Reply:
    """A page of the pending invitations, or revoking one (asked first)."""
    tr, session, now = context.tr, context.session, context.deps.now()
    button = parse_any(update, *INVITATION_BUTTONS)
    if button is None:
        return stale_button(tr)
    gone = tr.raw("That invitation is no longer pending: it was used, revoked or has expired.")
    if isinstance(button, AskRevoke):
        invitation = await invitation_summary(session, button.invitation_id, now=now)
        if invitation is None:
            return await _list(context, 0, notice=gone)
        question = tr._(
            "Revoke the invitation for <b>{what}</b>? Its link will register nobody.",
            what=invitation_label(tr, invitation),
        )
        answers = [
            (tr.raw("Yes, revoke"), Revoke(invitation.id)),
            (tr.raw("No"), InvitationsPage()),
        ]
        return Reply([View(question, [answers])])
    if isinstance(button, Revoke):
        try:
            await revoke(session, context.person, button.invitation_id, now=now)
        except InvitationError:
            return await _list(context, 0, notice=gone)
        return await _list(context, 0, notice=tr.raw("Invitation revoked."))
    assert isinstance(button, InvitationsPage)
    return await _list(context, button.page)


async def _list(context: FlowContext, page: int, *, notice: str | None = None) -> Reply:
    invitations = await pending_invitations(context.session, now=context.deps.now())
    return Reply([invitations_view(context.tr, invitations, page)], notice=notice)
