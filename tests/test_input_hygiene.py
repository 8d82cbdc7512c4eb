"""Input hygiene: text that shows nothing is empty, bidirectional controls never stored; and a
deactivated person stays deactivated whatever code they redeem."""

import pytest
from sqlalchemy import select

from storage.errors import InvalidInput, InvitationError
from storage.followup import clean_text, post_comment, set_status
from storage.models import Comment, KeyAction, Status
from storage.people import (
    create_invitation,
    get_person,
    redeem_invitation,
    set_person_active,
)
from storage.text import is_blank, without_bidi_controls
from tests.storage_support import NOW, make_person, make_plan

INVISIBLE_ONLY = [
    "\u200b",
    "\u200c\u200d",
    " \u2060 ",
    "\ufeff",
    "\x00\x07\x1b",
    "\u200b\n\t\u202e",
]


@pytest.mark.parametrize("text", INVISIBLE_ONLY)
def test_text_of_invisible_or_control_characters_is_empty(text):
    assert is_blank(text)
    assert clean_text(text) == ""


def test_bidirectional_controls_are_removed():
    assert without_bidi_controls("Ana\u202egnp.exe\u202c") == "Anagnp.exe"
    for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f":
        assert clean_text(f"a{c}b") == "ab"
    assert clean_text("  Acta firmada \u2014 ok ") == "Acta firmada \u2014 ok"
    assert not is_blank("a\u200b")


async def _action_id(session):
    await make_plan(session)
    return (await session.scalars(select(KeyAction.id).order_by(KeyAction.id))).first()


async def test_invisible_comment_and_justification_are_refused(session):
    action_id = await _action_id(session)
    focal = await make_person(session, "focal", ["PNUD"], telegram_id=10)
    with pytest.raises(InvalidInput) as error:
        await post_comment(session, focal, action_id, "\u200b\u200b", notify_chat_ids=())
    assert error.value.code == "comment_empty"
    with pytest.raises(InvalidInput) as error:
        await set_status(
            session,
            focal,
            action_id,
            Status.COMPLETED,
            justification="\u200b\ufeff",
            now=NOW,
            notify_chat_ids=(),
        )
    assert error.value.code == "justification_required"


async def test_bidi_controls_never_reach_the_stored_comment(session):
    action_id = await _action_id(session)
    focal = await make_person(session, "focal", ["PNUD"], telegram_id=10)
    await post_comment(session, focal, action_id, "Informe \u202eftp.exe", notify_chat_ids=())
    stored = (await session.scalars(select(Comment.text))).all()
    assert "Informe ftp.exe" in stored


async def test_name_at_registration_loses_bidi_controls(session):
    code = await create_invitation(session, "coordinator", now=NOW)
    person = await redeem_invitation(
        session, code, telegram_id=77, name="\u202eAna\u2066 Pérez\u2069", now=NOW
    )
    assert person.name == "Ana Pérez"


async def test_deactivated_person_stays_deactivated_with_a_new_code(session):
    admin = await make_person(session, "admin", telegram_id=1)
    code = await create_invitation(session, "focal", ["PNUD"], now=NOW)
    focal = await redeem_invitation(session, code, telegram_id=2, name="Ana", now=NOW)
    await set_person_active(session, admin, focal.id, False)
    second = await create_invitation(session, "admin", now=NOW)
    with pytest.raises(InvitationError) as error:
        await redeem_invitation(session, second, telegram_id=2, name="Ana", now=NOW)
    assert error.value.code == "person_deactivated"
    assert await get_person(session, 2, active_only=True) is None
    # the code was not used: the admin can still reactivate her, or give it to someone else
    other = await redeem_invitation(session, second, telegram_id=3, name="Luis", now=NOW)
    assert other.active and other.role == "admin"
