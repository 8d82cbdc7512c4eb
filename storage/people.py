"""Invitations, registration and the people who use the bot."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from typing import TypeVarTuple

from sqlalchemy import Select, and_, bindparam, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager, joinedload, selectinload, with_expression

from storage.errors import InvalidInput, InvitationError, NotFound, PermissionDenied
from storage.models import (
    ConversationState,
    Invitation,
    KnownChat,
    NotifyMode,
    OutboxMessage,
    Person,
    ReportingRound,
    Role,
    Unit,
    action_units,
    person_units,
    utcnow,
)
from storage.text import without_bidi_controls
from storage.units import existing_units, resolve_units

INVITATION_TTL = dt.timedelta(days=14)
#: Telegram deep links accept at most 64 characters of A-Z, a-z, 0-9, _ and -.
CODE_BYTES = 24  # 32 URL-safe characters

DEFAULT_NOTIFY_MODE = {
    Role.SECRETARIAT: NotifyMode.IMMEDIATE,
    Role.COORDINATOR: NotifyMode.WEEKLY,
    Role.ADMIN: NotifyMode.OFF,
    Role.FOCAL: NotifyMode.OFF,
}


def hash_code(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()


def parse_role(value: str) -> Role:
    aliases = {
        "focal": Role.FOCAL,
        "punto_focal": Role.FOCAL,
        "puntofocal": Role.FOCAL,
        "coordinator": Role.COORDINATOR,
        "coordinador": Role.COORDINATOR,
        "coordinadora": Role.COORDINATOR,
        "coordinacion": Role.COORDINATOR,
        "coordinación": Role.COORDINATOR,
        "secretariat": Role.SECRETARIAT,
        "secretariado": Role.SECRETARIAT,
        "admin": Role.ADMIN,
        "administrador": Role.ADMIN,
        "administradora": Role.ADMIN,
    }
    role = aliases.get(value.strip().casefold().replace(" ", "_"))
    if role is None:
        raise InvalidInput("unknown_role", role=value, expected=[r.value for r in Role])
    return role


async def create_invitation(
    session: AsyncSession,
    role: Role | str,
    unit_names: Sequence[str] = (),
    *,
    created_by: Person | None = None,
    ttl: dt.timedelta = INVITATION_TTL,
    now: dt.datetime | None = None,
    known_units_only: bool = False,
) -> str:
    """Create a single-use invitation and return its code (only its hash is stored).

    Units are found by name or alias and created when new, unless `known_units_only`: then a
    name that is no unit raises `InvalidInput("unknown_unit")` (see `existing_units`) and
    nothing is created."""
    role = parse_role(role) if isinstance(role, str) else role
    if created_by is not None and created_by.role != Role.ADMIN:
        raise PermissionDenied()
    if role == Role.FOCAL and not unit_names:
        raise InvalidInput("focal_needs_unit")
    units = await (existing_units if known_units_only else resolve_units)(session, unit_names)
    now = now or utcnow()
    code = secrets.token_urlsafe(CODE_BYTES)
    invitation = Invitation(
        code_hash=hash_code(code),
        role=role,
        created_by_id=created_by.id if created_by else None,
        created_at=now,
        expires_at=now + ttl,
    )
    invitation.units = units
    session.add(invitation)
    await session.flush()
    return code


_ROUNDS_OPEN = select(ReportingRound.id).where(ReportingRound.closed_at.is_(None)).exists()


async def open_invitation(
    session: AsyncSession,
    code: str | None = None,
    *,
    invitation_id: int | None = None,
    now: dt.datetime | None = None,
) -> Invitation:
    """The invitation of `code` (or, for a code already presented and kept server-side, of
    `invitation_id`), locked, with its units; `InvitationError` unless it can still be used."""
    now = now or utcnow()
    # The units joined in (one statement); only the invitation's row is locked (PostgreSQL
    # locks no row on the nullable side of an outer join).
    query = (
        select(Invitation)
        .options(
            joinedload(Invitation.units), with_expression(Invitation.rounds_open, _ROUNDS_OPEN)
        )
        .with_for_update(of=Invitation)
    )
    if invitation_id is not None:
        query = query.where(Invitation.id == invitation_id)
    else:
        query = query.where(Invitation.code_hash == hash_code(code or ""))
    invitation = (await session.scalars(query)).unique().one_or_none()
    if invitation is None:
        raise InvitationError("invitation_unknown")
    if invitation.revoked_at is not None:
        raise InvitationError("invitation_revoked")
    if invitation.used_at is not None:
        raise InvitationError("invitation_used")
    if invitation.expires_at <= now:
        raise InvitationError("invitation_expired")
    return invitation


async def redeem_invitation(
    session: AsyncSession,
    code: str,
    *,
    telegram_id: int,
    name: str,
    username: str | None = None,
    language: str | None = None,
    now: dt.datetime | None = None,
) -> Person:
    """Register (or re-register) the Telegram user with the invitation's role and units."""
    now = now or utcnow()
    invitation = await open_invitation(session, code, now=now)
    return await register(
        session,
        invitation,
        await get_person(session, telegram_id),
        telegram_id=telegram_id,
        name=name,
        username=username,
        language=language,
        now=now,
    )


async def register(
    session: AsyncSession,
    invitation: Invitation,
    person: Person | None,
    *,
    telegram_id: int,
    name: str,
    username: str | None = None,
    language: str | None = None,
    now: dt.datetime | None = None,
) -> Person:
    """Use an open invitation (see `open_invitation`): the Telegram user gets its role (a
    change of role for someone registered) and its units besides theirs.

    `person` is whoever `telegram_id` belongs to, active or not, as read in this transaction
    (`get_person`, `get_person_and_step`), or None. A deactivated person stays so: only an
    admin reactivates them (`InvitationError` "person_deactivated", and the invitation is not
    used)."""
    now = now or utcnow()
    if person is not None and not person.active:
        raise InvitationError("person_deactivated")
    role = Role(invitation.role)
    if person is None:
        person = Person(
            telegram_id=telegram_id, notify_mode=DEFAULT_NOTIFY_MODE[role], units=[], active=True
        )
        session.add(person)
    person.name = without_bidi_controls(name).strip() or str(telegram_id)
    person.username = username
    person.role = role
    if language and not person.language:
        person.language = language
    for unit in invitation.units:
        if unit not in person.units:
            person.units.append(unit)
    await session.flush()
    invitation.used_at = now
    invitation.used_by_id = person.id
    await session.flush()
    return person


async def use_invitation_units(
    session: AsyncSession, invitation: Invitation, person: Person, *, now: dt.datetime
) -> list[Unit]:
    """An open invitation of the role `person` already has: used up; its units they lack are
    added (returned, maybe none). Nothing else about them changes."""
    added = [unit for unit in invitation.units if unit not in person.units]
    person.units.extend(added)
    invitation.used_at = now
    invitation.used_by_id = person.id
    await session.flush()
    return added


_CHAT_UNREACHABLE = (
    select(KnownChat.chat_id)
    .where(KnownChat.chat_id == Person.telegram_id, KnownChat.unreachable_since.is_not(None))
    .exists()
)
_Columns = TypeVarTuple("_Columns")


def _with_units(query: Select[*_Columns]) -> Select[*_Columns]:
    """`query`, which reads a Person, with their units (flat outer joins, by name) and whether
    their chat is marked unreachable."""
    return (
        query.outerjoin(person_units, person_units.c.person_id == Person.id)
        .outerjoin(Unit, Unit.id == person_units.c.unit_id)
        .options(
            contains_eager(Person.units),
            with_expression(Person.chat_unreachable, _CHAT_UNREACHABLE),
        )
        .order_by(Unit.name)
    )


_PERSON = _with_units(select(Person)).where(Person.telegram_id == bindparam("telegram_id"))
_ACTIVE_PERSON = _PERSON.where(Person.active.is_(True))


async def get_person(
    session: AsyncSession, telegram_id: int, *, active_only: bool = False
) -> Person | None:
    """The person behind a Telegram account, with their units and whether their chat is marked
    unreachable (`Person.chat_unreachable`), in one statement. Flat outer joins: SQLite would
    materialise the whole units-of-people join for the nested join a joined eager load
    writes."""
    query = _ACTIVE_PERSON if active_only else _PERSON
    result = await session.scalars(query, {"telegram_id": telegram_id})
    return result.unique().one_or_none()


_ANCHOR = select(literal_column("1").label("one")).subquery("anchor")
#: The person (active or not, as `_PERSON`) and their step in `chat_id`, outer-joined to a row
#: that always exists: one row, with None for a stranger, and a column added to it (the
#: update's claim, `storage.update_start`) is read for strangers too.
PERSON_AND_STEP = _with_units(
    select(Person, ConversationState)
    .select_from(_ANCHOR)
    .outerjoin(Person, Person.telegram_id == bindparam("telegram_id"))
).outerjoin(
    ConversationState,
    and_(
        ConversationState.chat_id == bindparam("chat_id"),
        ConversationState.user_id == Person.telegram_id,
    ),
)


async def get_person_and_step(
    session: AsyncSession, telegram_id: int, chat_id: int
) -> tuple[Person | None, ConversationState | None]:
    """The person behind a Telegram account, active or not (as `get_person`), and the
    conversation step they have open in `chat_id`, if any (`storage.conversations`, expired or
    not), in one statement: every update needs both, and a deactivated person is told so, or
    refused a new invitation, without being read again."""
    params = {"telegram_id": telegram_id, "chat_id": chat_id}
    person, step = (await session.execute(PERSON_AND_STEP, params)).unique().one()
    return person, step


async def get_person_by_id(session: AsyncSession, person_id: int) -> Person:
    person = await session.scalar(
        select(Person).where(Person.id == person_id).options(selectinload(Person.units))
    )
    if person is None:
        raise NotFound("person_not_found", person_id=person_id)
    return person


async def list_people(session: AsyncSession, *, include_inactive: bool = True) -> Sequence[Person]:
    query = select(Person).options(selectinload(Person.units)).order_by(Person.role, Person.name)
    if not include_inactive:
        query = query.where(Person.active.is_(True))
    return (await session.scalars(query)).all()


async def administrators(session: AsyncSession) -> Sequence[Person]:
    """The active administrators, by name: whom to ask about access to the bot."""
    query = select(Person).where(Person.role == Role.ADMIN, Person.active.is_(True))
    return (await session.scalars(query.order_by(Person.name))).all()


async def set_person_active(
    session: AsyncSession,
    actor: Person,
    person_id: int,
    active: bool,
    *,
    now: dt.datetime | None = None,
) -> Person:
    """Deactivate or reactivate someone; a reactivated person is told so in their chat."""
    if actor.role != Role.ADMIN:
        raise PermissionDenied()
    person = await get_person_by_id(session, person_id)
    if person.id == actor.id and not active:
        raise InvalidInput("cannot_deactivate_self")
    if active and not person.active:
        tell_person(session, person, "reactivated", by=actor, now=now)
    person.active = active
    await session.flush()
    return person


#: The outbox kind of a notice to someone about their own access (role, units, reactivation).
ACCOUNT_KIND = "account"


def tell_person(
    session: AsyncSession,
    person: Person,
    change: str,
    *,
    by: Person,
    now: dt.datetime | None = None,
) -> None:
    """A notice to `person`'s own chat about a change an admin made to their access: `change`
    is "role", "units" or "reactivated"; the payload says what they have now (it is rendered
    in their language when delivered)."""
    if person.telegram_id is None:
        return
    payload = {
        "change": change,
        "role": str(person.role),
        "units": [unit.name for unit in person.units],
        "by": by.name,
    }
    now = now or utcnow()
    session.add(
        OutboxMessage(
            chat_id=person.telegram_id,
            kind=ACCOUNT_KIND,
            payload=payload,
            created_at=now,
            available_at=now,
        )
    )


async def active_admin_count(session: AsyncSession) -> int:
    query = select(func.count()).where(Person.role == Role.ADMIN, Person.active.is_(True))
    return int(await session.scalar(query.select_from(Person)) or 0)


async def _editable_person(session: AsyncSession, actor: Person, person_id: int) -> Person:
    if actor.role != Role.ADMIN or not actor.active:
        raise PermissionDenied()
    person = await get_person_by_id(session, person_id)
    if not person.active:
        raise InvalidInput("person_inactive")
    return person


async def change_role(
    session: AsyncSession,
    actor: Person,
    person_id: int,
    *,
    expected: Role,
    role: Role,
    now: dt.datetime | None = None,
) -> Person:
    """An admin gives someone another role; the person is told in their chat.

    `expected` is the role the admin saw: if it is no longer the person's (someone changed it
    meanwhile, or the button is old) `InvalidInput("person_changed")` and nothing changes. The
    last active admin cannot stop being one (`last_admin`); a focal point needs a unit."""
    person = await _editable_person(session, actor, person_id)
    if person.role != expected or expected == role:
        raise InvalidInput("person_changed")
    if person.role == Role.ADMIN and await active_admin_count(session) <= 1:
        raise InvalidInput("last_admin")
    if role == Role.FOCAL and not person.units:
        raise InvalidInput("focal_needs_unit")
    if person.notify_mode == DEFAULT_NOTIFY_MODE[Role(person.role)]:
        # Never chosen in /avisos: the new role's default (a coordinator's weekly report...).
        person.notify_mode = DEFAULT_NOTIFY_MODE[role]
    person.role = role
    tell_person(session, person, "role", by=actor, now=now)
    await session.flush()
    return person


async def change_unit(
    session: AsyncSession,
    actor: Person,
    person_id: int,
    unit_id: int,
    *,
    add: bool,
    now: dt.datetime | None = None,
) -> tuple[Person, Unit]:
    """An admin adds a unit to someone (`add`) or removes one; the person is told in their
    chat. A unit they already have (or lack) means the button is old: `person_changed`, and
    nothing changes. A focal point keeps at least one unit (`focal_needs_unit`)."""
    person = await _editable_person(session, actor, person_id)
    unit = await session.get(Unit, unit_id)
    if unit is None:
        raise NotFound("unit_not_found", unit_id=unit_id)
    if (unit in person.units) == add:
        raise InvalidInput("person_changed")
    if add:
        person.units.append(unit)
        person.units.sort(key=lambda u: u.name)
    else:
        if person.role == Role.FOCAL and len(person.units) == 1:
            raise InvalidInput("focal_needs_unit")
        person.units.remove(unit)
    tell_person(session, person, "units", by=actor, now=now)
    await session.flush()
    return person, unit


async def assignable_units(session: AsyncSession, person: Person) -> list[Unit]:
    """The units an admin can give someone: those responsible for some key action of the plans,
    and those the person has already, by name."""
    in_plans = select(action_units.c.unit_id)
    units = list((await session.scalars(select(Unit).where(Unit.id.in_(in_plans)))).all())
    units += [unit for unit in person.units if unit not in units]
    return sorted(units, key=lambda u: u.name.casefold())


async def set_language(session: AsyncSession, person: Person, language: str) -> None:
    person.language = language
    await session.flush()


async def set_notify_mode(session: AsyncSession, person: Person, mode: NotifyMode | str) -> None:
    person.notify_mode = NotifyMode(mode)
    await session.flush()
