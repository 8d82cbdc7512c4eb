import datetime as dt
import re

import pytest

from storage.errors import InvalidInput, InvitationError, PermissionDenied
from storage.models import Role
from storage.people import (
    create_invitation,
    get_person,
    list_people,
    parse_role,
    redeem_invitation,
    set_person_active,
)
from tests.storage_support import NOW, make_person

DEEP_LINK = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


async def test_invitation_code_fits_deep_link_and_is_stored_hashed(session):
    code = await create_invitation(session, "focal", ["PNUD"], now=NOW)
    assert DEEP_LINK.match(code)
    from sqlalchemy import select

    from storage.models import Invitation

    stored = (await session.scalars(select(Invitation))).one()
    assert code not in stored.code_hash and len(stored.code_hash) == 64
    assert [u.name for u in stored.units] == ["PNUD"]


async def test_codes_are_random(session):
    codes = {await create_invitation(session, "coordinator", now=NOW) for _ in range(20)}
    assert len(codes) == 20


async def test_redeem_registers_role_and_units(session):
    code = await create_invitation(session, "focal", ["pnud", "Unidad de Coordinacion"], now=NOW)
    person = await redeem_invitation(session, code, telegram_id=42, name="Ana", now=NOW)
    assert person.role == Role.FOCAL
    assert sorted(u.name for u in person.units) == ["PNUD", "Unidad de Coordinación"]
    assert (await get_person(session, 42)).id == person.id


async def test_invitation_used_twice_is_refused(session):
    code = await create_invitation(session, "secretariat", now=NOW)
    await redeem_invitation(session, code, telegram_id=1, name="A", now=NOW)
    with pytest.raises(InvitationError) as error:
        await redeem_invitation(session, code, telegram_id=2, name="B", now=NOW)
    assert error.value.code == "invitation_used"
    assert await get_person(session, 2) is None


async def test_expired_and_unknown_invitations(session):
    code = await create_invitation(session, "admin", ttl=dt.timedelta(hours=1), now=NOW)
    with pytest.raises(InvitationError) as error:
        await redeem_invitation(
            session, code, telegram_id=1, name="A", now=NOW + dt.timedelta(hours=2)
        )
    assert error.value.code == "invitation_expired"
    with pytest.raises(InvitationError) as error:
        await redeem_invitation(session, "nope", telegram_id=1, name="A", now=NOW)
    assert error.value.code == "invitation_unknown"


async def test_focal_invitation_needs_a_unit_and_roles_are_parsed(session):
    with pytest.raises(InvalidInput):
        await create_invitation(session, "focal", [], now=NOW)
    assert parse_role("Coordinación") == Role.COORDINATOR
    assert parse_role("secretariado") == Role.SECRETARIAT
    with pytest.raises(InvalidInput):
        parse_role("jefe")


async def test_only_admin_deactivates(session):
    admin = await make_person(session, "admin", telegram_id=1)
    focal = await make_person(session, "focal", ["PNUD"], telegram_id=2)
    with pytest.raises(PermissionDenied):
        await set_person_active(session, focal, admin.id, False)
    await set_person_active(session, admin, focal.id, False)
    assert await get_person(session, 2, active_only=True) is None
    assert len(await list_people(session)) == 2
    with pytest.raises(InvalidInput):
        await set_person_active(session, admin, admin.id, False)
