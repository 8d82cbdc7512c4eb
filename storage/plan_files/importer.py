"""Importing plan rows into the database: a plan is updated in place.

Comments and history are never lost, and a file exported by the bot imports back into the same
plan without changing anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.deadlines import DeadlineKind, parse_deadline
from storage.errors import NotFound
from storage.models import (
    CLOSED_STATUSES,
    Comment,
    CommentKind,
    KeyAction,
    Plan,
    Recommendation,
    ReviewStatus,
    Status,
    StatusChange,
    utcnow,
)
from storage.plan_files.records import (
    FIELD_LIMITS,
    MAX_TITLE_LENGTH,
    PlanFileError,
    PlanFileIssue,
    PlanRow,
)
from storage.plan_files.vocabulary import OVERDUE, Field, column_header
from storage.units import resolve_units, split_units


@dataclass(slots=True)
class ImportReport:
    """What an import did to the plan, for the person who sent the file."""

    plan_id: int
    created: bool
    recommendations: int = 0
    actions_added: int = 0
    actions_updated: int = 0
    actions_unchanged: int = 0
    actions_removed: int = 0
    actions_kept_missing: int = 0
    comments_added: int = 0
    statuses_changed: int = 0
    unparsed_deadlines: list[tuple[str, int, str]] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    #: (label, number) of the actions missing from the file but kept because of their history.
    kept_missing: list[tuple[str, int]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.created
            or self.actions_added
            or self.actions_updated
            or self.actions_removed
            or self.comments_added
            or self.statuses_changed
        )


@dataclass(slots=True)
class _FileBlock:
    label: str
    text: str
    response: str
    rows: list[PlanRow]


def _group_blocks(rows: Sequence[PlanRow]) -> list[_FileBlock]:
    """Rows by block, in order; checked again, since rows may not come from `read_plan_rows`."""
    blocks: dict[str, _FileBlock] = {}
    seen: dict[tuple[str, int], int] = {}
    issues: list[PlanFileIssue] = []
    for row in rows:
        for column, value in ((Field.LABEL, row.label), (Field.DEADLINE, row.deadline)):
            if len(value) > FIELD_LIMITS[column]:
                issues.append(
                    PlanFileIssue(
                        row.row,
                        column_header(column),
                        "too_long",
                        {"length": len(value), "limit": FIELD_LIMITS[column]},
                    )
                )
        block = blocks.setdefault(row.label, _FileBlock(row.label, "", "", []))
        block.text = block.text or row.recommendation
        block.response = block.response or row.management_response
        key = (row.label, row.number)
        if key in seen:
            issues.append(
                PlanFileIssue(
                    row.row,
                    column_header(Field.NUMBER),
                    "duplicate_action",
                    {"label": row.label, "number": row.number, "first_row": seen[key]},
                )
            )
        seen[key] = row.row
        block.rows.append(row)
    if issues:
        raise PlanFileError(issues)
    return list(blocks.values())


async def _plan_for_import(
    session: AsyncSession, title: str, plan_id: int | None
) -> tuple[Plan, bool]:
    """The plan to update (by id, else by title) or a new one; True when it is new."""
    if plan_id is not None:
        plan = await session.get(Plan, plan_id)
        if plan is None:
            raise NotFound("plan_not_found", plan_id=plan_id)
        return plan, False
    plan = await session.scalar(select(Plan).where(Plan.title == title).order_by(Plan.id).limit(1))
    if plan is not None:
        return plan, False
    plan = Plan(title=title)
    session.add(plan)
    await session.flush()
    return plan, True


def _update_plan_fields(plan: Plan, values: Mapping[str, str]) -> bool:
    changed = False
    for attribute, value in values.items():
        value = value.strip()[:MAX_TITLE_LENGTH]
        if value and getattr(plan, attribute) != value:
            setattr(plan, attribute, value)
            changed = True
    return changed


class _Importer:
    """The state of one import: what the plan holds, and the report being written."""

    def __init__(self, session: AsyncSession, plan: Plan, report: ImportReport) -> None:
        self.session = session
        self.plan = plan
        self.report = report
        self.now = utcnow()
        self.recommendations: dict[str, Recommendation] = {}
        self.actions: dict[tuple[str, int], KeyAction] = {}
        self.known: set[tuple[int, str, str]] = set()  # (action id, kind, text) of comments
        self.positions: dict[int, int] = {}  # recommendation id -> position

    async def load(self) -> None:
        recs = await self.session.scalars(
            select(Recommendation).where(Recommendation.plan_id == self.plan.id)
        )
        self.recommendations = {rec.label: rec for rec in recs}
        labels = {rec.id: rec.label for rec in self.recommendations.values()}
        actions = await self.session.scalars(
            select(KeyAction).where(KeyAction.plan_id == self.plan.id)
        )
        self.actions = {(labels[a.recommendation_id], a.number): a for a in actions}
        comments = await self.session.execute(
            select(Comment.action_id, Comment.kind, Comment.text)
            .join(KeyAction, KeyAction.id == Comment.action_id)
            .where(KeyAction.plan_id == self.plan.id)
        )
        self.known = {(action_id, kind, text.strip()) for action_id, kind, text in comments.all()}

    async def block(self, position: int, block: _FileBlock) -> None:
        rec = self.recommendations.pop(block.label, None)
        if rec is None:
            rec = Recommendation(plan_id=self.plan.id, label=block.label)
            self.session.add(rec)
        rec.position = position
        if rec.text != block.text:
            rec.text = block.text
        if rec.management_response != block.response:
            rec.management_response = block.response
        await self.session.flush()
        self.positions[rec.id] = position
        for row in block.rows:
            await self.action(rec, row)

    async def action(self, rec: Recommendation, row: PlanRow) -> None:
        deadline = parse_deadline(row.deadline)
        kind = getattr(deadline.kind, "value", deadline.kind)
        if row.deadline and deadline.kind == DeadlineKind.UNKNOWN:
            self.report.unparsed_deadlines.append((row.label, row.number, row.deadline))
        units = await resolve_units(self.session, split_units(row.responsible))
        for unit in units:
            if unit.name not in self.report.units:
                self.report.units.append(unit.name)
        values: dict[str, Any] = {
            "position": rec.position,
            "text": row.action,
            "responsible_text": row.responsible,
            "deadline_text": row.deadline,
            "deadline_kind": kind,
            "deadline_start": deadline.start,
            "deadline_due": deadline.due,
        }
        action = self.actions.pop((row.label, row.number), None)
        if action is None:
            action = KeyAction(
                plan_id=self.plan.id,
                recommendation_id=rec.id,
                number=row.number,
                status=Status.NOT_STARTED.value,
                review_status=ReviewStatus.PENDING.value,
                created_at=self.now,
                units=units,
                **values,
            )
            self.session.add(action)
            await self.session.flush()
            self.report.actions_added += 1
        elif self.update_action(action, values, units):
            self.report.actions_updated += 1
        else:
            self.report.actions_unchanged += 1
        await self.follow_up(action, row)

    @staticmethod
    def update_action(action: KeyAction, values: Mapping[str, Any], units: list[Any]) -> bool:
        """Apply the file's values; True when the action's content changed (not its position,
        which follows the recommendation's)."""
        changed = False
        for attribute, value in values.items():
            if getattr(action, attribute) != value:
                setattr(action, attribute, value)
                changed = changed or attribute != "position"
        if {u.id for u in action.units} != {u.id for u in units}:
            action.units = units
            changed = True
        return changed

    async def follow_up(self, action: KeyAction, row: PlanRow) -> None:
        """The comment and status cells: added/applied when they differ from the action's."""
        follow_up = self.comment(action, CommentKind.FOLLOW_UP, row.follow_up_comment)
        review = self.comment(action, CommentKind.REVIEW, row.review_comment)
        if follow_up is not None or review is not None:
            await self.session.flush()
        status = row.follow_up_status
        if status == OVERDUE:
            status = Status.IN_PROGRESS.value if action.status in CLOSED_STATUSES else None
        if status is not None and status != action.status:
            self.change(action, "status", status, follow_up)
            action.status = status
            action.last_update_at = self.now
            if action.review_status != ReviewStatus.PENDING:
                self.change(action, "review_status", ReviewStatus.PENDING.value, None)
                action.review_status = ReviewStatus.PENDING.value
            self.report.statuses_changed += 1
        if row.review_status is not None and row.review_status != action.review_status:
            self.change(action, "review_status", row.review_status, review)
            action.review_status = row.review_status
            self.report.statuses_changed += 1

    def comment(self, action: KeyAction, kind: CommentKind, text: str) -> Comment | None:
        """A comment cell becomes a new comment unless the action already has that text: an
        older copy of the file (whose cell is an earlier comment) must not repeat it as new."""
        text = text.strip()
        key = (action.id, kind.value, text)
        if not text or key in self.known:
            return None
        comment = Comment(
            action_id=action.id,
            author_id=None,
            kind=kind.value,
            text=text,
            created_at=self.now,
            attachments=[],
        )
        self.session.add(comment)
        self.known.add(key)
        if kind == CommentKind.FOLLOW_UP:
            action.last_update_at = self.now
        self.report.comments_added += 1
        return comment

    def change(self, action: KeyAction, name: str, new: str, comment: Comment | None) -> None:
        self.session.add(
            StatusChange(
                action_id=action.id,
                author_id=None,
                field=name,
                old_value=getattr(action, name),
                new_value=new,
                comment_id=comment.id if comment is not None else None,
                created_at=self.now,
            )
        )

    async def missing(self, next_position: int) -> None:
        """Actions (and blocks) of the plan that the file no longer has: deleted when they have
        no history, kept (and reported) when they have comments or status changes."""
        if self.actions:
            ids = [action.id for action in self.actions.values()]
            with_comments = await self.session.scalars(
                select(Comment.action_id).where(Comment.action_id.in_(ids))
            )
            with_changes = await self.session.scalars(
                select(StatusChange.action_id).where(StatusChange.action_id.in_(ids))
            )
            with_history = set(with_comments.all()) | set(with_changes.all())
        else:
            with_history = set()
        kept_blocks: set[int] = set()
        for (label, number), action in sorted(self.actions.items(), key=_action_order):
            if action.id in with_history:
                self.report.actions_kept_missing += 1
                self.report.kept_missing.append((label, number))
                kept_blocks.add(action.recommendation_id)
            else:
                await self.session.delete(action)
                self.report.actions_removed += 1
        await self.session.flush()
        kept = {a.id for a in self.actions.values() if a.id in with_history}
        await self.leftover_blocks(kept_blocks, kept, next_position)

    async def leftover_blocks(
        self, kept_blocks: set[int], kept: set[int], next_position: int
    ) -> None:
        """Blocks not in the file: kept after the file's blocks while they hold kept actions."""
        leftovers = sorted(self.recommendations.values(), key=lambda rec: rec.position)
        for rec in leftovers:
            if rec.id not in kept_blocks:
                await self.session.delete(rec)
                continue
            rec.position = next_position
            self.positions[rec.id] = next_position
            next_position += 1
        for action in self.actions.values():
            if action.id in kept:
                action.position = self.positions[action.recommendation_id]
        await self.session.flush()


def _action_order(item: tuple[tuple[str, int], KeyAction]) -> tuple[int, int]:
    return item[1].position, item[1].number


async def import_plan(
    session: AsyncSession,
    rows: Sequence[PlanRow],
    *,
    title: str,
    source_file: str = "",
    programme: str = "",
    evaluation: str = "",
    plan_id: int | None = None,
) -> ImportReport:
    """Create the plan, or update in place the plan `plan_id` (else the one with this title).

    Runs in the caller's transaction (only flushes). Recommendations are matched by label,
    actions by (label, number). A comment cell with a text the action does not have yet becomes
    a comment with no author; a status cell that differs from the current status is applied and
    recorded with no author. Nothing that has history is ever deleted.
    """
    if not rows:
        raise PlanFileError([PlanFileIssue(None, None, "no_rows", {})])
    blocks = _group_blocks(rows)
    title = title.strip()[:MAX_TITLE_LENGTH]
    plan, created = await _plan_for_import(session, title, plan_id)
    report = ImportReport(plan_id=plan.id, created=created, recommendations=len(blocks))
    details_changed = _update_plan_fields(
        plan,
        {
            "title": title,
            "programme": programme,
            "evaluation": evaluation,
            "source_file": source_file,
        },
    )
    importer = _Importer(session, plan, report)
    await importer.load()
    for position, block in enumerate(blocks, start=1):
        await importer.block(position, block)
    await importer.missing(len(blocks) + 1)
    if details_changed or report.changed:
        plan.updated_at = importer.now
    await session.flush()
    return report
