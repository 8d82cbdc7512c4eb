import datetime as dt

import pytest
from sqlalchemy import func, select

from storage.actions import ActionFilter, action_card, action_history, list_actions, search_actions
from storage.errors import InvalidInput, PermissionDenied
from storage.followup import (
    COMMENT_MAX_LENGTH,
    NewAttachment,
    post_comment,
    set_review_status,
    set_status,
)
from storage.models import (
    Comment,
    CommentKind,
    KeyAction,
    OutboxMessage,
    ReviewStatus,
    Status,
    StatusChange,
)
from tests.storage_support import NOW, TODAY, make_person, make_plan

SECRETARIAT_CHAT = -1001


async def _actions(session):
    rows = (
        await session.scalars(select(KeyAction).order_by(KeyAction.position, KeyAction.number))
    ).all()
    return {f"{a.position}.{a.number}": a for a in rows}


async def test_focal_point_sees_only_their_units_in_order(session):
    await make_plan(session)
    focal = await make_person(session, "focal", ["PNUD"], telegram_id=10)
    page = await list_actions(session, focal, today=TODAY, flt=ActionFilter.ALL)
    assert [r.ref for r in page.rows] == ["1.1", "2 y 3.2", "2 y 3.3"]
    overdue = await list_actions(session, focal, today=TODAY, flt=ActionFilter.OVERDUE)
    assert [r.ref for r in overdue.rows] == ["1.1"] and overdue.rows[0].overdue
    coordinator = await make_person(session, "coordinator", telegram_id=11)
    everything = await list_actions(session, coordinator, today=TODAY, flt=ActionFilter.ALL)
    assert everything.total == 4


async def test_pagination(session):
    await make_plan(session)
    coordinator = await make_person(session, "coordinator", telegram_id=11)
    first = await list_actions(session, coordinator, today=TODAY, flt="all", page_size=3)
    second = await list_actions(session, coordinator, today=TODAY, flt="all", page=1, page_size=3)
    beyond = await list_actions(session, coordinator, today=TODAY, flt="all", page=9, page_size=3)
    assert (first.pages, len(first.rows), len(second.rows)) == (2, 3, 1)
    assert beyond.page == 1


async def test_comment_with_attachment_writes_outbox_in_same_transaction(session):
    await make_plan(session)
    actions = await _actions(session)
    focal = await make_person(session, "focal", ["PNUD"], telegram_id=10)
    await make_person(session, "secretariat", telegram_id=20)
    comment = await post_comment(
        session,
        focal,
        actions["1.1"].id,
        "  Avance <b>50%</b>  ",
        attachments=[NewAttachment("photo", "file-1", "u1", "foto.jpg", "image/jpeg")],
        notify_chat_ids=[SECRETARIAT_CHAT],
        now=NOW,
    )
    assert comment.text == "Avance <b>50%</b>"
    outbox = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.chat_id))).all()
    assert [o.chat_id for o in outbox] == [SECRETARIAT_CHAT, 20]
    assert outbox[0].payload["comment"] == "Avance <b>50%</b>"
    assert outbox[0].payload["ref"] == "1.1"
    card = await action_card(session, focal, actions["1.1"].id, today=TODAY)
    assert card.comments[-1].attachments[0].file_id == "file-1"
    assert card.can_follow_up and not card.can_review


async def test_same_source_key_posts_once(session):
    await make_plan(session)
    actions = await _actions(session)
    focal = await make_person(session, "focal", ["PNUD"], telegram_id=10)
    for _ in range(2):
        await post_comment(
            session,
            focal,
            actions["1.1"].id,
            "Hola",
            source_key="10:5",
            now=NOW,
            notify_chat_ids=(),
        )
    assert await session.scalar(select(func.count()).select_from(Comment)) == 1


async def _stored_state(session, action_id):
    """The action's follow-up columns as stored (columns, not the session's copy)."""
    row = (
        await session.execute(
            select(KeyAction.status, KeyAction.review_status, KeyAction.last_update_at).where(
                KeyAction.id == action_id
            )
        )
    ).one()
    return tuple(row)


async def test_a_follow_up_updates_the_stored_action_and_the_sessions_copy_alike(session):
    await make_plan(session)
    actions = await _actions(session)
    action = actions["1.1"]
    focal = await make_person(session, "focal", ["PNUD"], telegram_id=10)
    secretariat = await make_person(session, "secretariat", telegram_id=20)
    later = NOW + dt.timedelta(hours=1)
    await set_review_status(
        session, secretariat, action.id, ReviewStatus.VALIDATED, now=NOW, notify_chat_ids=()
    )
    await post_comment(
        session, focal, action.id, "Hola", source_key="10:5", now=NOW, notify_chat_ids=()
    )
    assert await _stored_state(session, action.id) == ("not_started", "validated", NOW)
    await post_comment(  # the same update again, later: nothing stored, the time kept
        session, focal, action.id, "Hola", source_key="10:5", now=later, notify_chat_ids=()
    )
    await post_comment(  # the secretariat's comment is not a follow-up
        session,
        secretariat,
        action.id,
        "Visto",
        kind=CommentKind.REVIEW,
        now=later,
        notify_chat_ids=(),
    )
    assert await _stored_state(session, action.id) == ("not_started", "validated", NOW)
    await set_status(  # two changes stored (the review back to pending), notified once
        session, focal, action.id, Status.IN_PROGRESS, now=later, notify_chat_ids=[SECRETARIAT_CHAT]
    )
    notified = await session.scalars(
        select(OutboxMessage.chat_id).where(OutboxMessage.kind == "status")
    )
    assert sorted(notified.all()) == [SECRETARIAT_CHAT, 20]
    stored = await _stored_state(session, action.id)
    assert stored == ("in_progress", "pending", later)
    assert (action.status, action.review_status, action.last_update_at) == stored
    changes = (
        await session.execute(
            select(StatusChange.field, StatusChange.new_value).order_by(StatusChange.id)
        )
    ).all()
    assert changes[-2:] == [("status", "in_progress"), ("review_status", "pending")]


async def test_focal_point_cannot_touch_another_units_action(session):
    await make_plan(session)
    actions = await _actions(session)
    focal = await make_person(session, "focal", ["PNUD"], telegram_id=10)
    with pytest.raises(PermissionDenied):
        await post_comment(
            session, focal, actions["2.1"].id, "No es mío", now=NOW, notify_chat_ids=()
        )
    with pytest.raises(PermissionDenied):
        await set_status(
            session, focal, actions["2.1"].id, Status.IN_PROGRESS, now=NOW, notify_chat_ids=()
        )
    with pytest.raises(PermissionDenied):
        await action_card(session, focal, actions["2.1"].id, today=TODAY)
    assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


async def test_secretariat_reviews_but_does_not_follow_up(session):
    await make_plan(session)
    actions = await _actions(session)
    secretariat = await make_person(session, "secretariat", telegram_id=20)
    focal = await make_person(session, "focal", ["PNUD"], telegram_id=10)
    with pytest.raises(PermissionDenied):
        await post_comment(
            session, secretariat, actions["1.1"].id, "Seguimiento", now=NOW, notify_chat_ids=()
        )
    with pytest.raises(PermissionDenied):
        await set_review_status(
            session, focal, actions["1.1"].id, ReviewStatus.VALIDATED, notify_chat_ids=()
        )
    with pytest.raises(InvalidInput):
        await set_review_status(
            session, secretariat, actions["1.1"].id, ReviewStatus.OBSERVED, notify_chat_ids=()
        )
    await set_review_status(
        session,
        secretariat,
        actions["1.1"].id,
        "observed",
        comment_text="Falta el acta",
        now=NOW,
        notify_chat_ids=(),
    )
    review = await session.scalar(select(Comment).where(Comment.kind == CommentKind.REVIEW))
    assert review.text == "Falta el acta"


async def test_too_long_and_empty_comments_are_refused(session):
    await make_plan(session)
    actions = await _actions(session)
    focal = await make_person(session, "focal", ["PNUD"], telegram_id=10)
    with pytest.raises(InvalidInput) as error:
        await post_comment(
            session, focal, actions["1.1"].id, "x" * (COMMENT_MAX_LENGTH + 1), notify_chat_ids=()
        )
    assert error.value.code == "comment_too_long"
    with pytest.raises(InvalidInput) as error:
        await post_comment(session, focal, actions["1.1"].id, "   ", notify_chat_ids=())
    assert error.value.code == "comment_empty"


async def test_completing_needs_justification_and_resets_review(session):
    await make_plan(session)
    actions = await _actions(session)
    focal = await make_person(session, "focal", ["PNUD"], telegram_id=10)
    secretariat = await make_person(session, "secretariat", telegram_id=20)
    action_id = actions["1.1"].id
    await set_status(session, focal, action_id, "in_progress", now=NOW, notify_chat_ids=())
    await set_review_status(
        session, secretariat, action_id, "validated", now=NOW, notify_chat_ids=()
    )
    with pytest.raises(InvalidInput) as error:
        await set_status(session, focal, action_id, Status.COMPLETED, now=NOW, notify_chat_ids=())
    assert error.value.code == "justification_required"
    await set_status(
        session,
        focal,
        action_id,
        Status.COMPLETED,
        justification="POA aprobado",
        now=NOW,
        notify_chat_ids=(),
    )
    action = await session.get(KeyAction, action_id)
    await session.refresh(action)
    assert (action.status, action.review_status) == ("completed", "pending")
    changes = (await session.scalars(select(StatusChange).order_by(StatusChange.id))).all()
    assert [(c.field, c.old_value, c.new_value) for c in changes] == [
        ("status", "not_started", "in_progress"),
        ("review_status", "pending", "validated"),
        ("status", "in_progress", "completed"),
        ("review_status", "validated", "pending"),
    ]
    history = await action_history(session, focal, action_id)
    assert [h.kind for h in history].count("comment") == 1
    overdue = await list_actions(session, focal, today=TODAY, flt=ActionFilter.OVERDUE)
    assert overdue.total == 0


async def test_search_is_accent_and_case_insensitive_and_respects_visibility(session):
    await make_plan(session)
    focal = await make_person(session, "focal", ["PNUD"], telegram_id=10)
    rows, total = await search_actions(session, focal, "ESTRATEGIA comun", today=TODAY)
    assert [r.ref for r in rows] == ["2 y 3.2"] and total == 1
    rows, _ = await search_actions(session, focal, "asistentes", today=TODAY)
    assert rows == []
    rows, _ = await search_actions(session, focal, "coordinacion", today=TODAY)
    assert [r.ref for r in rows] == ["2 y 3.2"]
