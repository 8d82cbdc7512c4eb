import pytest
from sqlalchemy import select

from storage.models import KeyAction, Person, UnitAlias
from storage.units import get_or_create_unit, merge_units, split_units, unit_key
from tests.storage_support import make_person, make_plan


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Coordinación del PC, OCR y Agencias Participantes de ONU.",
            ["Coordinación del PC", "OCR", "Agencias Participantes de ONU"],
        ),
        ("Unidad de Coordinación; Agencia Líder", ["Unidad de Coordinación", "Agencia Líder"]),
        ("OCR\nCoordinaciones de PC", ["OCR", "Coordinaciones de PC"]),
        ("  PNUD ,  pnud ; PNUD. ", ["PNUD"]),
        (
            "Coordinadora PC; Agencias Participantes; contrapartes regionales",
            ["Coordinadora PC", "Agencias Participantes", "contrapartes regionales"],
        ),
        ("", []),
        (None, []),
    ],
)
def test_split_units(text, expected):
    assert split_units(text) == expected


def test_unit_key_ignores_case_accents_spaces_and_final_dot():
    assert unit_key("  Coordinación   del PC. ") == unit_key("coordinacion del pc")


async def test_spellings_of_one_unit_are_one_unit(session):
    first = await get_or_create_unit(session, "Coordinación del PC")
    assert (await get_or_create_unit(session, "coordinación del PC")).id == first.id
    assert (await get_or_create_unit(session, "Coordinadora PC")).id == first.id
    pnud = await get_or_create_unit(session, "PNUD como Agencia Líder")
    assert pnud.name == "PNUD"
    assert (await get_or_create_unit(session, "Agencia Lider")).id == pnud.id


async def test_merge_moves_actions_people_and_keeps_the_old_name_as_alias(session):
    await make_plan(session)
    uc = await get_or_create_unit(session, "Unidad de Coordinación")
    typo = await get_or_create_unit(session, "Unidad Coordinadora")
    action = (await session.scalars(select(KeyAction).where(KeyAction.number == 1))).first()
    action.units.append(typo)
    person = await make_person(session, "focal", ["Unidad Coordinadora"], telegram_id=5)
    await session.flush()
    person_id = person.id
    await merge_units(session, uc, typo)
    session.expire_all()
    person = await session.get(Person, person_id)
    assert [u.name for u in person.units] == ["Unidad de Coordinación"]
    assert (await get_or_create_unit(session, "unidad coordinadora")).id == uc.id
    assert await session.get(UnitAlias, "unidad coordinadora") is not None
