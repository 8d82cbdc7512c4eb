"""What a person may see and change, and the views of key actions: lists, cards, history, search.

Visibility: focal points see the actions of their units; coordinators, admins and the secretariat
see every action. The check is made here, for every request, from the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import (
    BindParameter,
    Boolean,
    ColumnElement,
    Select,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import lazyload, selectinload, with_expression

from storage.errors import NotFound, PermissionDenied
from storage.models import (
    CLOSED_STATUSES,
    Attachment,
    Comment,
    CommentKind,
    KeyAction,
    Person,
    Plan,
    Recommendation,
    ReportingRound,
    ReviewStatus,
    Role,
    StatusChange,
    Unit,
    UnitAlias,
    action_ref,
    action_units,
    person_units,
)
from storage.text import fold

ALL_SEEING_ROLES = (Role.COORDINATOR, Role.ADMIN, Role.SECRETARIAT)
FOLLOW_UP_ROLES_ANYWHERE = (Role.COORDINATOR, Role.ADMIN)


class ActionFilter(StrEnum):
    PENDING = "pending"
    OVERDUE = "overdue"
    ALL = "all"
    TO_REVIEW = "to_review"  # review status pending or observed, whatever the follow-up
    OBSERVED = "observed"  # the secretariat's observations wait for an answer


#: What the secretariat has still to review: not validated, completed actions included.
TO_REVIEW_STATUSES = (ReviewStatus.PENDING, ReviewStatus.OBSERVED)


@dataclass(frozen=True, slots=True)
class ActionRow:
    id: int
    plan_id: int
    label: str
    number: int
    text: str
    deadline_text: str
    deadline_kind: str
    deadline_due: dt.date | None
    status: str
    review_status: str
    last_update_at: dt.datetime | None
    overdue: bool

    @property
    def ref(self) -> str:
        return action_ref(self.label, self.number)


@dataclass(frozen=True, slots=True)
class ActionPage:
    rows: list[ActionRow]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True, slots=True)
class AttachmentView:
    kind: str
    file_id: str
    file_name: str
    mime_type: str
    duration: int | None = None
    latitude: float | None = None
    longitude: float | None = None


def attachment_view(a: Attachment) -> AttachmentView:
    return AttachmentView(
        a.kind, a.file_id, a.file_name, a.mime_type, a.duration, a.latitude, a.longitude
    )


@dataclass(frozen=True, slots=True)
class CommentView:
    id: int
    kind: str
    author: str
    text: str
    created_at: dt.datetime
    attachments: list[AttachmentView] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ActionCard:
    action: ActionRow
    plan_title: str
    recommendation_text: str
    management_response: str
    deadline_start: dt.date | None
    responsible_text: str
    units: list[str]
    comments: list[CommentView]
    can_follow_up: bool
    can_review: bool
    #: Some comment of the action has files (else there is no evidence to look up).
    has_evidence: bool = True


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    created_at: dt.datetime
    author: str
    kind: str  # "comment", "review_comment", "status", "review_status"
    text: str = ""
    old_value: str = ""
    new_value: str = ""
    files: tuple[AttachmentView, ...] = ()  # the evidence the comment brought


def overdue_clause(today: dt.date) -> ColumnElement[bool]:
    return and_(
        KeyAction.deadline_due.is_not(None),
        KeyAction.deadline_due < today,
        KeyAction.status.not_in([s.value for s in CLOSED_STATUSES]),
    )


def is_overdue(action: KeyAction, today: dt.date) -> bool:
    return (
        action.deadline_due is not None
        and action.deadline_due < today
        and action.status not in CLOSED_STATUSES
    )


def sees_everything(person: Person) -> bool:
    return person.role in ALL_SEEING_ROLES


def in_live_plan() -> ColumnElement[bool]:
    """A WHERE clause: the key action's plan is not archived (archived plans are hidden)."""
    return KeyAction.plan_id.in_(select(Plan.id).where(Plan.archived_at.is_(None)))


def visible_to(person: Person) -> ColumnElement[bool]:
    """A WHERE clause limiting key actions to those the person may see (of plans not archived).

    For a focal point the set is driven from their units (person_units -> action_units, both
    indexed by unit), so it costs what their actions cost, not what the whole portfolio does.
    """
    if sees_everything(person):
        return in_live_plan()
    return and_(_of_their_units(person.id), in_live_plan())


def _of_their_units(person_id: int | BindParameter[int]) -> ColumnElement[bool]:
    """Actions of the person's units; `person_id` is a number or a bound parameter."""
    return KeyAction.id.in_(
        select(action_units.c.action_id)
        .join(person_units, person_units.c.unit_id == action_units.c.unit_id)
        .where(person_units.c.person_id == person_id)
    )


#: `visible_to` for the statements below, with the person as parameters (see `_viewer`).
_VISIBLE = or_(bindparam("sees_all", type_=Boolean), _of_their_units(bindparam("viewer"))).label(
    "visible"
)


def _viewer(person: Person, action_id: int) -> dict[str, object]:
    return {"sees_all": sees_everything(person), "viewer": person.id, "action_id": action_id}


#: Whether the action's plan ever had a reporting round: a follow-up then counts in it
#: (`storage.round_answers.note_update`), which needs no query of its own when there was none.
_PLAN_HAD_ROUND = (
    select(ReportingRound.id).where(ReportingRound.plan_id == KeyAction.plan_id).exists()
)
UNIT_SEPARATOR = "\x1f"

#: The action's unit names in one column (group_concat on SQLite, string_agg on PostgreSQL), so
#: a card needs no second query for them.
_UNIT_NAMES = (
    select(func.aggregate_strings(Unit.name, UNIT_SEPARATOR))
    .join(action_units, action_units.c.unit_id == Unit.id)
    .where(action_units.c.action_id == KeyAction.id)
    .correlate(KeyAction)
    .scalar_subquery()
    .label("unit_names")
)

#: Whether any comment of the action has files: the card's evidence is looked up only then.
_HAS_FILES = (
    exists()
    .where(Attachment.comment_id == Comment.id, Comment.action_id == KeyAction.id)
    .label("has_files")
)
_CARD = (
    select(
        KeyAction,
        Recommendation.label,
        Recommendation.text,
        Recommendation.management_response,
        Plan.title,
        _VISIBLE,
        _UNIT_NAMES,
        _HAS_FILES,
    )
    .join(Recommendation, Recommendation.id == KeyAction.recommendation_id)
    .join(Plan, Plan.id == KeyAction.plan_id)
    .where(KeyAction.id == bindparam("action_id"), Plan.archived_at.is_(None))
    .options(lazyload(KeyAction.units), with_expression(KeyAction.plan_had_round, _PLAN_HAD_ROUND))
)


def action_row(action: KeyAction, label: str, today: dt.date) -> ActionRow:
    return ActionRow(
        id=action.id,
        plan_id=action.plan_id,
        label=label,
        number=action.number,
        text=action.text,
        deadline_text=action.deadline_text,
        deadline_kind=action.deadline_kind,
        deadline_due=action.deadline_due,
        status=action.status,
        review_status=action.review_status,
        last_update_at=action.last_update_at,
        overdue=is_overdue(action, today),
    )


def _rows_query(person: Person, today: dt.date) -> Select[KeyAction, str]:
    return (
        select(KeyAction, Recommendation.label)
        .join(Recommendation, Recommendation.id == KeyAction.recommendation_id)
        .where(visible_to(person))
    )


def _apply_filter(query: Select[int], flt: ActionFilter, today: dt.date) -> Select[int]:
    if flt == ActionFilter.PENDING:
        return query.where(KeyAction.status.not_in([s.value for s in CLOSED_STATUSES]))
    if flt == ActionFilter.OVERDUE:
        return query.where(overdue_clause(today))
    if flt == ActionFilter.TO_REVIEW:
        return query.where(KeyAction.review_status.in_([s.value for s in TO_REVIEW_STATUSES]))
    if flt == ActionFilter.OBSERVED:
        return query.where(KeyAction.review_status == ReviewStatus.OBSERVED.value)
    return query


async def list_actions(
    session: AsyncSession,
    person: Person,
    *,
    today: dt.date,
    flt: ActionFilter = ActionFilter.PENDING,
    page: int = 0,
    page_size: int = 8,
    plan_id: int | None = None,
) -> ActionPage:
    """The person's actions, ordered by plan, block and number, one page at a time.

    The total comes with the page (a window count), so a page costs one query; a page past the
    end (a stale button) falls back to the last page."""
    ids = _apply_filter(select(KeyAction.id).where(visible_to(person)), ActionFilter(flt), today)
    if plan_id is not None:
        ids = ids.where(KeyAction.plan_id == plan_id)
    page = max(0, page)
    result = (await session.execute(_page_of(ids, page, page_size))).all()
    if not result and page > 0:
        total = int(await session.scalar(select(func.count()).select_from(ids.subquery())) or 0)
        page = max(0, (total - 1) // page_size)
        result = (await session.execute(_page_of(ids, page, page_size))).all()
    total = int(result[0].total) if result else 0
    rows = [action_row(action, label, today) for action, label, _total in result]
    return ActionPage(rows=rows, total=total, page=page, page_size=page_size)


def _page_of(ids: Select[int], page: int, page_size: int) -> Select[KeyAction, str, int]:
    """One page of actions with the total: the ordering and the count run over the ids and
    sort keys only, and just the page's rows are read whole (a focal point with hundreds of
    actions would otherwise sort all of them, texts included)."""
    order = (KeyAction.plan_id, KeyAction.position, KeyAction.number)
    chosen = (
        ids.add_columns(func.count().over().label("total"))
        .order_by(*order)
        .offset(page * page_size)
        .limit(page_size)
        .subquery("page")
    )
    return (
        select(KeyAction, Recommendation.label, chosen.c.total)
        .join(chosen, chosen.c.id == KeyAction.id)
        .join(Recommendation, Recommendation.id == KeyAction.recommendation_id)
        .order_by(*order)
        .options(lazyload(KeyAction.units))
    )


async def search_actions(
    session: AsyncSession, person: Person, words: str, *, today: dt.date, limit: int = 10
) -> tuple[list[ActionRow], int]:
    """Actions whose text or units contain every word (case and accent insensitive)."""
    terms = [t for t in fold(words).split() if t]
    if not terms:
        return [], 0
    query = _rows_query(person, today)
    candidates = await session.execute(
        query.options(selectinload(KeyAction.units)).order_by(
            KeyAction.plan_id, KeyAction.position, KeyAction.number
        )
    )
    matches: list[ActionRow] = []
    for action, label in candidates.all():
        haystack = fold(
            " ".join([action.text, action.responsible_text, *(u.name for u in action.units)])
        )
        if all(term in haystack for term in terms):
            matches.append(action_row(action, label, today))
    return matches[:limit], len(matches)


def default_filter(person: Person) -> ActionFilter:
    """What /acciones shows first: the secretariat, what waits for its review (completed
    actions included); everyone else, what is still to be done."""
    return ActionFilter.TO_REVIEW if person.role == Role.SECRETARIAT else ActionFilter.PENDING


def may_review(person: Person) -> bool:
    return person.active and person.role in (Role.SECRETARIAT, Role.ADMIN)


def follows_up_what_they_see(person: Person) -> bool:
    """Focal points follow up the actions they see (their units'); coordinators and admins all."""
    return person.active and person.role in (Role.FOCAL, *FOLLOW_UP_ROLES_ANYWHERE)


@dataclass(frozen=True, slots=True)
class _Visible:
    """An action a person may see, read with everything its card shows beside it (`_CARD`)."""

    action: KeyAction
    label: str
    recommendation_text: str
    management_response: str
    plan_title: str
    unit_names: str | None
    has_files: bool


#: `session.info` key: the actions found visible in the session's current transaction.
_SEEN_VISIBLE = "visible_actions"


def _seen_visible(session: AsyncSession) -> dict[tuple[int, int], _Visible]:
    """Actions found visible in this transaction, by (person, action): a step that checks an
    action, changes it (a comment, a status) and shows its card reads it once. The session's
    copy of the action follows the step's own changes (they are ORM UPDATEs); what else the
    card shows (its plan, recommendation and units) no chat step changes. Forgotten with the
    transaction."""
    current = session.sync_session.get_transaction()
    if current is None:  # no transaction yet: nothing to remember it by
        return {}
    kept = session.info.get(_SEEN_VISIBLE)
    if kept is None or kept[0] is not current:
        kept = session.info[_SEEN_VISIBLE] = (current, {})
    seen: dict[tuple[int, int], _Visible] = kept[1]
    return seen


async def _visible(session: AsyncSession, person: Person, action_id: int) -> _Visible:
    """The action with its card's facts, if the person may see it (one query, none when this
    transaction found it visible already)."""
    seen = _seen_visible(session)
    if person.active and (person.id, action_id) in seen:
        return seen[(person.id, action_id)]
    found = (await session.execute(_CARD, _viewer(person, action_id))).one_or_none()
    if found is None:
        raise NotFound("action_not_found", action_id=action_id)
    action, label, rec_text, response, plan_title, visible, unit_names, has_files = found
    if not person.active or not visible:
        raise PermissionDenied("action_not_yours", action_id=action_id)
    facts = _Visible(action, label, rec_text, response, plan_title, unit_names, bool(has_files))
    seen[(person.id, action_id)] = facts
    return facts


async def require_visible_with_label(
    session: AsyncSession, person: Person, action_id: int
) -> tuple[KeyAction, str]:
    """The action and its block's label, if the person may see it."""
    found = await _visible(session, person, action_id)
    return found.action, found.label


async def require_visible(session: AsyncSession, person: Person, action_id: int) -> KeyAction:
    """The action, if the person may see it."""
    return (await require_visible_with_label(session, person, action_id))[0]


async def action_reference(session: AsyncSession, action_id: int) -> str | None:
    """An action's reference ("2 y 3.1"), or None when it no longer exists."""
    row = (
        await session.execute(
            select(Recommendation.label, KeyAction.number)
            .join(KeyAction, KeyAction.recommendation_id == Recommendation.id)
            .where(KeyAction.id == action_id)
        )
    ).one_or_none()
    return action_ref(row.label, row.number) if row is not None else None


async def visible_action_row(
    session: AsyncSession, person: Person, action_id: int, *, today: dt.date
) -> ActionRow:
    """The action's list row (reference, status, deadline), if the person may see it: one
    query, for steps that need no full card."""
    action, label = await require_visible_with_label(session, person, action_id)
    return action_row(action, label, today)


async def action_card(
    session: AsyncSession,
    person: Person,
    action_id: int,
    *,
    today: dt.date,
    comments: int = 3,
) -> ActionCard:
    if not person.active:
        raise PermissionDenied("action_not_yours", action_id=action_id)
    found = await _visible(session, person, action_id)
    action = found.action
    units = sorted(found.unit_names.split(UNIT_SEPARATOR)) if found.unit_names else []
    latest = await latest_comments(session, action.id, comments)
    can_follow_up = person.role in FOLLOW_UP_ROLES_ANYWHERE or person.role == Role.FOCAL
    return ActionCard(
        action=action_row(action, found.label, today),
        plan_title=found.plan_title,
        recommendation_text=found.recommendation_text,
        management_response=found.management_response,
        deadline_start=action.deadline_start,
        responsible_text=action.responsible_text,
        units=units,
        comments=latest,
        can_follow_up=can_follow_up,
        can_review=may_review(person),
        # Files the step itself added are in the latest comments.
        has_evidence=found.has_files or any(comment.attachments for comment in latest),
    )


_FILES = (
    select(func.count())
    .where(Attachment.comment_id == Comment.id)
    .correlate(Comment)
    .scalar_subquery()
    .label("files")
)
_LATEST_COMMENTS = (
    select(Comment.id, Comment.kind, Comment.text, Comment.created_at, Person.name, _FILES)
    .outerjoin(Person, Person.id == Comment.author_id)
    .where(Comment.action_id == bindparam("action_id"))
    .order_by(Comment.created_at.desc(), Comment.id.desc())
    .limit(bindparam("limit"))
)


async def latest_comments(session: AsyncSession, action_id: int, limit: int) -> list[CommentView]:
    """The action's last comments, oldest first, with author names and attachments: plain
    rows, and the attachments looked up only when a comment has some (most have none)."""
    params = {"action_id": action_id, "limit": limit}
    rows = (await session.execute(_LATEST_COMMENTS, params)).all()
    files: dict[int, list[AttachmentView]] = {}
    if ids := [row.id for row in rows if row.files]:
        for row in await session.execute(
            select(
                Attachment.comment_id,
                Attachment.kind,
                Attachment.file_id,
                Attachment.file_name,
                Attachment.mime_type,
                Attachment.duration,
                Attachment.latitude,
                Attachment.longitude,
            )
            .where(Attachment.comment_id.in_(ids))
            .order_by(Attachment.id)
        ):
            comment_id, kind, file_id, name, mime, duration, latitude, longitude = row
            view = AttachmentView(kind, file_id, name, mime, duration, latitude, longitude)
            files.setdefault(comment_id, []).append(view)
    return [
        CommentView(
            id=row.id,
            kind=row.kind,
            author=row.name or "",
            text=row.text,
            created_at=row.created_at,
            attachments=files.get(row.id, []),
        )
        for row in reversed(rows)
    ]


async def action_history(
    session: AsyncSession, person: Person, action_id: int, *, limit: int = 30
) -> list[HistoryEntry]:
    """Comments and status changes of an action, newest last (the latest `limit` entries)."""
    await require_visible(session, person, action_id)
    comments = (
        await session.scalars(
            select(Comment)
            .where(Comment.action_id == action_id)
            .options(selectinload(Comment.author), selectinload(Comment.attachments))
            .order_by(Comment.created_at.desc(), Comment.id.desc())
            .limit(limit)
        )
    ).all()
    changes = (
        await session.scalars(
            select(StatusChange)
            .where(StatusChange.action_id == action_id)
            .options(selectinload(StatusChange.author))
            .order_by(StatusChange.created_at.desc(), StatusChange.id.desc())
            .limit(limit)
        )
    ).all()
    entries = [
        HistoryEntry(
            created_at=c.created_at,
            author=c.author.name if c.author else "",
            kind="comment" if c.kind == CommentKind.FOLLOW_UP else "review_comment",
            text=c.text,
            files=tuple(attachment_view(a) for a in c.attachments),
        )
        for c in comments
    ] + [
        HistoryEntry(
            created_at=s.created_at,
            author=s.author.name if s.author else "",
            kind="status" if s.field == "status" else "review_status",
            old_value=s.old_value,
            new_value=s.new_value,
        )
        for s in changes
    ]
    entries.sort(key=lambda e: e.created_at)
    return entries[-limit:]


async def list_plans(session: AsyncSession, *, archived: bool = False) -> Sequence[Plan]:
    """The plans in order of creation; archived ones only with `archived`."""
    query = select(Plan).order_by(Plan.id)
    if not archived:
        query = query.where(Plan.archived_at.is_(None))
    return (await session.scalars(query)).all()


async def find_units_matching(session: AsyncSession, text: str) -> list[Unit]:
    """Units whose name or alias contains the text (accent and case insensitive)."""
    needle = fold(text)
    units = (await session.scalars(select(Unit).order_by(Unit.name))).all()
    aliases = (await session.execute(select(UnitAlias.key, UnitAlias.unit_id))).all()
    by_alias = {unit_id for key, unit_id in aliases if needle in key}
    exact = [u for u in units if u.key == needle]
    if exact:
        return exact
    return [u for u in units if needle in u.key or u.id in by_alias]
