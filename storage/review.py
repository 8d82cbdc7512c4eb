"""The secretariat's review queue: the actions changed since their last validation, oldest
change first.

An action waits for review when its review status is "pending" and something was reported on it
(a follow-up comment or a status change: `KeyAction.last_update_at`, which both set, the plan
importer included), or when it is "with observations" and something was reported after the
latest observation. Validating it takes it out of the queue; a new follow-up status puts it back
(the review returns to "pending").

The queue is read one card at a time: one query for the card's action (by its position in the
queue), one for the counts; then the card's latest change and its evidence file names. The
secretariat sees every action, so nothing here filters by unit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    ScalarSelect,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import lazyload

from storage.actions import ActionRow, action_row, in_live_plan
from storage.errors import PermissionDenied
from storage.models import (
    Attachment,
    Comment,
    CommentKind,
    KeyAction,
    Person,
    Recommendation,
    ReviewStatus,
    Role,
    StatusChange,
)

REVIEWERS = (Role.SECRETARIAT, Role.ADMIN)


@dataclass(frozen=True, slots=True)
class LatestChange:
    """What was last reported on an action: a follow-up comment, or a follow-up status change
    (with its justification, if any)."""

    created_at: dt.datetime
    author: str  # empty for the plan file
    kind: str  # "comment" or "status"
    text: str = ""
    old_value: str = ""
    new_value: str = ""


@dataclass(frozen=True, slots=True)
class Evidence:
    kind: str  # an `AttachmentKind`
    file_name: str
    duration: int | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, slots=True)
class ReviewItem:
    action: ActionRow
    deadline_start: dt.date | None
    change: LatestChange | None
    evidence: list[Evidence]


@dataclass(frozen=True, slots=True)
class ReviewPage:
    """The card at `position` (0-based) of the queue, if any, and the counts."""

    item: ReviewItem | None
    position: int
    waiting: int
    validated: int


def _last_observed() -> ScalarSelect[dt.datetime]:
    """When the action last got the review "with observations" (correlated to the action)."""
    return (
        select(func.max(StatusChange.created_at))
        .where(
            StatusChange.action_id == KeyAction.id,
            StatusChange.field == "review_status",
            StatusChange.new_value == ReviewStatus.OBSERVED.value,
        )
        .correlate(KeyAction)
        .scalar_subquery()
    )


def waiting_for_review() -> ColumnElement[bool]:
    """A WHERE clause: the action changed since its last validation (see the module)."""
    return and_(
        KeyAction.last_update_at.is_not(None),
        in_live_plan(),
        or_(
            KeyAction.review_status == ReviewStatus.PENDING.value,
            and_(
                KeyAction.review_status == ReviewStatus.OBSERVED.value,
                KeyAction.last_update_at > _last_observed(),
            ),
        ),
    )


def _check_reviewer(person: Person) -> None:
    if not person.active or person.role not in REVIEWERS:
        raise PermissionDenied("review_not_allowed")


async def review_page(
    session: AsyncSession, person: Person, *, position: int, today: dt.date
) -> ReviewPage:
    """The queue's card at `position` (oldest change first) and how many wait; past the end,
    no card."""
    _check_reviewer(person)
    position = max(0, position)
    found = (
        await session.execute(
            select(KeyAction, Recommendation.label)
            .join(Recommendation, Recommendation.id == KeyAction.recommendation_id)
            .where(waiting_for_review())
            .order_by(KeyAction.last_update_at, KeyAction.id)
            .offset(position)
            .limit(1)
            .options(lazyload(KeyAction.units))
        )
    ).one_or_none()
    waiting, validated = (
        await session.execute(
            select(
                func.count(case((waiting_for_review(), literal(1)))),
                func.count(
                    case((KeyAction.review_status == ReviewStatus.VALIDATED.value, literal(1)))
                ),
            )
        )
    ).one()
    item = None
    if found is not None:
        action, label = found
        item = ReviewItem(
            action=action_row(action, label, today),
            deadline_start=action.deadline_start,
            change=await latest_change(session, action.id),
            evidence=await evidence_of(session, action.id),
        )
    return ReviewPage(item, position, int(waiting or 0), int(validated or 0))


async def latest_change(session: AsyncSession, action_id: int) -> LatestChange | None:
    """The action's latest follow-up: a status change (with the comment that justified it) or
    a comment of its own, whichever is newer (a status change wins a tie)."""
    status_changes = (
        select(
            StatusChange.created_at,
            literal(1).label("rank"),
            StatusChange.author_id,
            literal("status").label("kind"),
            func.coalesce(Comment.text, "").label("text"),
            StatusChange.old_value,
            StatusChange.new_value,
        )
        .outerjoin(Comment, Comment.id == StatusChange.comment_id)
        .where(StatusChange.action_id == action_id, StatusChange.field == "status")
    )
    justifies = select(StatusChange.id).where(StatusChange.comment_id == Comment.id).exists()
    comments = select(
        Comment.created_at,
        literal(0).label("rank"),
        Comment.author_id,
        literal("comment").label("kind"),
        Comment.text,
        literal("").label("old_value"),
        literal("").label("new_value"),
    ).where(
        Comment.action_id == action_id,
        Comment.kind == CommentKind.FOLLOW_UP.value,
        ~justifies,
    )
    both = union_all(status_changes, comments).subquery("changes")
    row = (
        await session.execute(
            select(
                both.c.created_at,
                Person.name,
                both.c.kind,
                both.c.text,
                both.c.old_value,
                both.c.new_value,
            )
            .outerjoin(Person, Person.id == both.c.author_id)
            .order_by(both.c.created_at.desc(), both.c.rank.desc())
            .limit(1)
        )
    ).one_or_none()
    if row is None:
        return None
    created_at, author, kind, text, old, new = row
    return LatestChange(created_at, author or "", kind, text or "", old or "", new or "")


async def evidence_of(session: AsyncSession, action_id: int) -> list[Evidence]:
    """The files attached to the action's comments, oldest first."""
    rows = await session.execute(
        select(
            Attachment.kind,
            Attachment.file_name,
            Attachment.duration,
            Attachment.latitude,
            Attachment.longitude,
        )
        .join(Comment, Comment.id == Attachment.comment_id)
        .where(Comment.action_id == action_id)
        .order_by(Comment.created_at, Attachment.id)
    )
    return [Evidence(*row) for row in rows.all()]
