"""The invitations still waiting to be used, and revoking one (see `storage.people` for
creating and redeeming them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, selectinload

from storage.errors import InvitationError, PermissionDenied
from storage.models import Invitation, Person, Role, utcnow


@dataclass(frozen=True, slots=True)
class PendingInvitation:
    """An invitation nobody has used yet, not expired nor revoked, as an admin sees it."""

    id: int
    role: str
    units: tuple[str, ...]
    created_by: str | None  # the admin's name; None when made on the command line
    created_at: dt.datetime
    expires_at: dt.datetime


async def pending_invitations(
    session: AsyncSession, *, now: dt.datetime | None = None
) -> list[PendingInvitation]:
    """Unused, unexpired, unrevoked invitations, the newest first."""
    now = now or utcnow()
    creator = aliased(Person)
    query = (
        select(Invitation, creator.name)
        .outerjoin(creator, creator.id == Invitation.created_by_id)
        .where(
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
        .options(selectinload(Invitation.units))
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    )
    rows = (await session.execute(query)).all()
    return [
        PendingInvitation(
            id=invitation.id,
            role=invitation.role,
            units=tuple(unit.name for unit in invitation.units),
            created_by=name,
            created_at=invitation.created_at,
            expires_at=invitation.expires_at,
        )
        for invitation, name in rows
    ]


async def revoke_invitation(
    session: AsyncSession,
    actor: Person | None,
    invitation_id: int,
    *,
    now: dt.datetime | None = None,
) -> Invitation:
    """Revoke a pending invitation: its code then registers nobody. `actor` is the admin in
    chat (None: the operator on the command line). `InvitationError` (`invitation_used`,
    `invitation_expired`, `invitation_revoked`, `invitation_unknown`) when it is no longer
    pending, and nothing changes."""
    if actor is not None and (actor.role != Role.ADMIN or not actor.active):
        raise PermissionDenied()
    now = now or utcnow()
    invitation = await session.scalar(
        select(Invitation)
        .where(Invitation.id == invitation_id)
        .options(selectinload(Invitation.units))
        .with_for_update()
    )
    if invitation is None:
        raise InvitationError("invitation_unknown")
    if invitation.revoked_at is not None:
        raise InvitationError("invitation_revoked")
    if invitation.used_at is not None:
        raise InvitationError("invitation_used")
    if invitation.expires_at <= now:
        raise InvitationError("invitation_expired")
    invitation.revoked_at = now
    await session.flush()
    return invitation


async def invitation_summary(
    session: AsyncSession, invitation_id: int, *, now: dt.datetime | None = None
) -> PendingInvitation | None:
    """One pending invitation (None when it is no longer pending)."""
    return next(
        (i for i in await pending_invitations(session, now=now) if i.id == invitation_id), None
    )
