"""Responsible units: splitting the plan's free-text lists, normalising names, aliases, merging.

A plan writes "Coordinación del PC, OCR y Agencias Participantes de ONU" in one cell; each part is
one unit. Names are compared by a key (lower case, no accents, single spaces, no trailing dot), and
an alias table sends other spellings of one unit to it (an admin can merge two units).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import InvalidInput
from storage.models import Unit, UnitAlias, action_units, invitation_units, person_units
from storage.text import fold

_SPLIT = re.compile(r"\s*(?:[,;\n\r]+|\s+y\s+|\s+e\s+(?=[iI]))\s*")
_SPACES = re.compile(r"\s+")

#: Spellings of one unit found in real plans, mapped to the name shown for that unit.
BUILTIN_ALIASES: dict[str, str] = {
    "coordinacion del pc": "Coordinación del PC",
    "coordinacion pc": "Coordinación del PC",
    "coordinadora pc": "Coordinación del PC",
    "coordinadora del pc": "Coordinación del PC",
    "coordinacion del programa conjunto": "Coordinación del PC",
    "pnud": "PNUD",
    "pnud como agencia lider": "PNUD",
    "agencia lider": "PNUD",
    "agencias participantes": "Agencias Participantes de ONU",
    "agencias participantes de onu": "Agencias Participantes de ONU",
    "resto de agencias participantes de onu": "Agencias Participantes de ONU",
    "agencias": "Agencias Participantes de ONU",
    "unidad de coordinacion": "Unidad de Coordinación",
    "contrapartes": "Contrapartes",
    "contrapartes regionales": "Contrapartes regionales",
}


def unit_key(name: str) -> str:
    """The comparison key of a unit name: case, accents, spaces and a final dot do not count."""
    return fold(name).strip(".").strip()


def clean_name(name: str) -> str:
    return _SPACES.sub(" ", name).strip().rstrip(".").strip()


def split_units(text: str | None) -> list[str]:
    """Split a responsible-units cell into unit names, in order, without duplicates by key."""
    if not text:
        return []
    names: list[str] = []
    seen: set[str] = set()
    for part in _SPLIT.split(text):
        name = clean_name(part)
        key = unit_key(name)
        if key and key not in seen:
            seen.add(key)
            names.append(name)
    return names


async def find_unit(session: AsyncSession, name: str) -> Unit | None:
    key = unit_key(name)
    unit = await session.scalar(select(Unit).where(Unit.key == key))
    if unit is not None:
        return unit
    return await session.scalar(
        select(Unit).join(UnitAlias, UnitAlias.unit_id == Unit.id).where(UnitAlias.key == key)
    )


async def find_known_unit(session: AsyncSession, name: str) -> Unit | None:
    """The unit called `name`, by its name, a stored alias or a built-in one; never created."""
    unit = await find_unit(session, name)
    canonical = BUILTIN_ALIASES.get(unit_key(name))
    if unit is None and canonical is not None:
        unit = await find_unit(session, canonical)
    return unit


async def unit_keys(session: AsyncSession) -> dict[str, str]:
    """Every key a unit answers to (its own, its aliases', the built-in aliases of units that
    exist), with the unit's name."""
    rows = await session.execute(select(Unit.key, Unit.name))
    keys: dict[str, str] = {key: name for key, name in rows.all()}
    aliases = await session.execute(
        select(UnitAlias.key, Unit.name).join(Unit, Unit.id == UnitAlias.unit_id)
    )
    for key, name in aliases.all():
        keys.setdefault(key, name)
    for key, canonical in BUILTIN_ALIASES.items():
        target = keys.get(unit_key(canonical))
        if target is not None:
            keys.setdefault(key, target)
    return keys


def closest_units(keys: dict[str, str], name: str, limit: int = 3) -> list[str]:
    """The names of the units whose keys (see `unit_keys`) look most like `name`, closest
    first, without repeating a unit."""
    names: list[str] = []
    for key in difflib.get_close_matches(unit_key(name), list(keys), n=limit * 3, cutoff=0.6):
        if keys[key] not in names:
            names.append(keys[key])
    return names[:limit]


async def existing_units(session: AsyncSession, names: Sequence[str]) -> list[Unit]:
    """The units called `names`, none created. A name that is no unit raises
    `InvalidInput("unknown_unit")` with `unknown` (each such name and the closest units' names)
    and `known` (every unit's name, sorted)."""
    units: list[Unit] = []
    unknown: dict[str, list[str]] = {}
    keys: dict[str, str] | None = None
    for name in names:
        unit = await find_known_unit(session, name)
        if unit is None:
            keys = keys if keys is not None else await unit_keys(session)
            unknown[name] = closest_units(keys, name)
        elif unit not in units:
            units.append(unit)
    if keys is not None:
        raise InvalidInput("unknown_unit", unknown=unknown, known=sorted(set(keys.values())))
    return units


async def get_or_create_unit(session: AsyncSession, name: str) -> Unit:
    """The unit called `name` (or one of its aliases); created, with built-in aliases, if new."""
    unit = await find_unit(session, name)
    if unit is not None:
        return unit
    key = unit_key(name)
    canonical = BUILTIN_ALIASES.get(key)
    if canonical is not None and unit_key(canonical) != key:
        unit = await get_or_create_unit(session, canonical)
        session.add(UnitAlias(key=key, unit_id=unit.id))
        await session.flush()
        return unit
    unit = Unit(name=canonical or clean_name(name), key=key)
    session.add(unit)
    await session.flush()
    return unit


async def resolve_units(session: AsyncSession, names: Iterable[str]) -> list[Unit]:
    units: list[Unit] = []
    for name in names:
        unit = await get_or_create_unit(session, name)
        if unit not in units:
            units.append(unit)
    return units


async def merge_units(session: AsyncSession, keep: Unit, drop: Unit) -> None:
    """Fold `drop` into `keep`: its actions, people, invitations and aliases move over."""
    if keep.id == drop.id:
        return
    for table, owner in (
        (action_units, action_units.c.action_id),
        (person_units, person_units.c.person_id),
        (invitation_units, invitation_units.c.invitation_id),
    ):
        already = select(owner).where(table.c.unit_id == keep.id)
        await session.execute(delete(table).where(table.c.unit_id == drop.id, owner.in_(already)))
        await session.execute(
            update(table).where(table.c.unit_id == drop.id).values(unit_id=keep.id)
        )
    await session.execute(
        update(UnitAlias).where(UnitAlias.unit_id == drop.id).values(unit_id=keep.id)
    )
    drop_key = drop.key
    await session.delete(drop)
    await session.flush()
    session.add(UnitAlias(key=drop_key, unit_id=keep.id))
    await session.flush()
