"""SQLAlchemy 2 models of the plan, its people and the delivery tables.

Times are stored as UTC and always returned timezone-aware (see `UTCDateTime`), on SQLite as on
PostgreSQL. History tables (comments, status changes) are append-only: nothing updates them.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    mapped_column,
    query_expression,
    relationship,
)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def action_ref(label: str, number: int) -> str:
    """How people name a key action: its block's label and its number ("2 y 3.1")."""
    return f"{label}.{number}"


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and read back timezone-aware on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Role(StrEnum):
    FOCAL = "focal"
    COORDINATOR = "coordinator"
    SECRETARIAT = "secretariat"
    ADMIN = "admin"


class Status(StrEnum):
    """Follow-up status (*Seguimiento*). "Overdue" is derived, never stored."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    NOT_APPLICABLE = "not_applicable"


CLOSED_STATUSES = (Status.COMPLETED, Status.NOT_APPLICABLE)


class ReviewStatus(StrEnum):
    """Review status (*Secretariado*)."""

    PENDING = "pending"
    VALIDATED = "validated"
    OBSERVED = "observed"


class CommentKind(StrEnum):
    FOLLOW_UP = "follow_up"
    REVIEW = "review"


class NotifyMode(StrEnum):
    OFF = "off"
    IMMEDIATE = "immediate"
    DIGEST = "digest"
    #: Coordinators only: no notices of changes, the weekly report on the plan.
    WEEKLY = "weekly"


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def table_of(model: type[Base]) -> Table:
    """A model's table, for plain INSERT and DELETE statements that need no ORM objects."""
    return Base.metadata.tables[model.__tablename__]


action_units = Table(
    "action_units",
    Base.metadata,
    Column("action_id", ForeignKey("key_actions.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_action_units_unit_action", "unit_id", "action_id"),
)

person_units = Table(
    "person_units",
    Base.metadata,
    Column("person_id", ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_person_units_unit", "unit_id"),
)

invitation_units = Table(
    "invitation_units",
    Base.metadata,
    Column("invitation_id", ForeignKey("invitations.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), primary_key=True),
)


class Plan(Base):
    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    programme: Mapped[str] = mapped_column(String(500), default="")
    evaluation: Mapped[str] = mapped_column(String(500), default="")
    source_file: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the plan was archived: kept in the database, hidden from every view.
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    recommendations: Mapped[list[Recommendation]] = relationship(
        back_populates="plan", order_by="Recommendation.position", cascade="all, delete-orphan"
    )


class Recommendation(Base):
    __tablename__ = "recommendations"
    __table_args__ = (UniqueConstraint("plan_id", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text, default="")
    management_response: Mapped[str] = mapped_column(Text, default="")

    plan: Mapped[Plan] = relationship(back_populates="recommendations")
    actions: Mapped[list[KeyAction]] = relationship(
        back_populates="recommendation", order_by="KeyAction.number", cascade="all, delete-orphan"
    )


class Unit(Base):
    """A responsible unit. `key` is the normalised name; aliases map other spellings to it."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    key: Mapped[str] = mapped_column(String(300), unique=True)


class UnitAlias(Base):
    __tablename__ = "unit_aliases"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)


class KeyAction(Base):
    __tablename__ = "key_actions"
    __table_args__ = (
        UniqueConstraint("recommendation_id", "number"),
        Index("ix_key_actions_plan_order", "plan_id", "position", "number"),
        Index("ix_key_actions_plan_status_due", "plan_id", "status", "deadline_due"),
        Index("ix_key_actions_status_due", "status", "deadline_due"),
        # The summary's (storage.summary): the lists in deadline order, and every column its
        # grouped pass counts, so that SQLite reads this index instead of the table.
        Index("ix_key_actions_due_order", "deadline_due", "plan_id", "position", "number"),
        Index(
            "ix_key_actions_summary",
            "plan_id",
            "recommendation_id",
            "status",
            "review_status",
            "deadline_due",
            "deadline_kind",
            "last_update_at",
            "created_at",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("recommendations.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(Integer, doc="The recommendation's position, copied")
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    responsible_text: Mapped[str] = mapped_column(Text, default="")
    deadline_text: Mapped[str] = mapped_column(String(500), default="")
    deadline_kind: Mapped[str] = mapped_column(String(20), default="unknown")
    deadline_start: Mapped[dt.date | None] = mapped_column(Date)
    deadline_due: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=Status.NOT_STARTED)
    review_status: Mapped[str] = mapped_column(String(20), default=ReviewStatus.PENDING)
    last_update_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    recommendation: Mapped[Recommendation] = relationship(back_populates="actions")
    units: Mapped[list[Unit]] = relationship(
        secondary=action_units, order_by="Unit.name", lazy="selectin"
    )
    #: Whether its plan has ever had a reporting round, when the query asked
    #: (`storage.actions.require_visible`); None when it did not.
    plan_had_round: Mapped[bool | None] = query_expression()


class Person(Base):
    __tablename__ = "people"
    #: Who is told of every change (a handful among thousands of focal points) is found by role.
    __table_args__ = (Index("ix_people_role", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    username: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    language: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    notify_mode: Mapped[str] = mapped_column(String(20), default=NotifyMode.OFF)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    units: Mapped[list[Unit]] = relationship(
        secondary=person_units, order_by="Unit.name", lazy="selectin"
    )
    #: Whether their private chat is marked unreachable, when the query asked
    #: (`storage.people.get_person`); None when it did not.
    chat_unreachable: Mapped[bool | None] = query_expression()


class Invitation(Base):
    """An invitation code, stored only as its SHA-256 hash."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    #: Set when an admin revoked it: it can no longer be used.
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    units: Mapped[list[Unit]] = relationship(
        secondary=invitation_units, order_by="Unit.name", lazy="selectin"
    )
    #: Whether a reporting round was open when the invitation was read: `open_invitation`
    #: reads it in the same statement, so that registering asks no rounds when none is open
    #: (None: not read).
    rounds_open: Mapped[bool | None] = query_expression()


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (
        Index("ix_comments_action_created", "action_id", "created_at"),
        UniqueConstraint("source_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("key_actions.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default=CommentKind.FOLLOW_UP)
    text: Mapped[str] = mapped_column(Text, default="")
    source_key: Mapped[str | None] = mapped_column(
        String(100), doc="Idempotency key (e.g. chat:message id) so a redelivery posts once"
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The secretariat's observation or review comment this comment answers, if any.
    answers_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"))

    author: Mapped[Person | None] = relationship(lazy="selectin")
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="comment",
        order_by="Attachment.id",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    file_id: Mapped[str] = mapped_column(String(300))
    file_unique_id: Mapped[str] = mapped_column(String(100), default="")
    file_name: Mapped[str] = mapped_column(String(300), default="")
    mime_type: Mapped[str] = mapped_column(String(100), default="")
    file_size: Mapped[int | None] = mapped_column(Integer)
    #: Seconds of a voice note, an audio file or a video (as Telegram reports them).
    duration: Mapped[int | None] = mapped_column(Integer)
    #: Where a shared location points (kind "location": no file, `file_id` empty).
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)

    comment: Mapped[Comment] = relationship(back_populates="attachments")


class StatusChange(Base):
    __tablename__ = "status_changes"
    __table_args__ = (Index("ix_status_changes_action_created", "action_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("key_actions.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    field: Mapped[str] = mapped_column(String(20), doc="'status' or 'review_status'")
    old_value: Mapped[str] = mapped_column(String(20))
    new_value: Mapped[str] = mapped_column(String(20))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[Person | None] = relationship()


class OutboxMessage(Base):
    """A notification to deliver to one chat, written in the transaction of its change.

    `payload` describes the event (not the rendered text) so it is rendered at delivery time in
    the recipient's language. A row is claimed with `claimed_until` (FOR UPDATE SKIP LOCKED on
    PostgreSQL) and marked `sent_at` only after Telegram accepted it.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "sent_at", "available_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    kind: Mapped[str] = mapped_column(String(30))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    digest: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    available_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ConversationState(Base):
    """Where a person is in a multi-step conversation; kept here so any process can continue it."""

    __tablename__ = "conversation_states"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    state: Mapped[str] = mapped_column(String(50))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProcessedUpdate(Base):
    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Throttle(Base):
    """A counter per key and window, e.g. wrong invitation codes per Telegram user."""

    __tablename__ = "throttles"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    window_start: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer, default=0)


class Lease(Base):
    """Who holds a job that one process at a time may run (the outbox's drainer), until when.
    Taken and renewed by one conditional UPDATE (`storage.leases`)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200), default="")
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    taken_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class JobRun(Base):
    """Last run of a periodic job (reminders, digests), so several processes run it once."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_run_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class KnownChat(Base):
    """A chat the bot delivers to, as far as delivery is concerned.

    A group linked from inside (`/vincular secretariado`) has a `kind`; any recipient chat (a
    linked group, a group of the settings, a person's private chat) gets a row when Telegram
    says it is unreachable (`unreachable_since`, `reason`: its rows are parked until it is
    retried) or that it moved (`moved_to`: a group upgraded to a supergroup, whose new id is
    used instead of this one from then on, also for ids that come from the settings).
    """

    __tablename__ = "known_chats"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    #: What the chat is linked as ("secretariat"), or None when it is not linked.
    kind: Mapped[str | None] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300), default="")
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    linked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    unreachable_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    moved_to: Mapped[int | None] = mapped_column(BigInteger)


class ReportingRound(Base):
    """A reporting round: the secretariat asks for an update of a plan by a date (`closes_on`,
    included). At most one open round per plan (`closed_at` unset); at the close the plan as it
    stood is kept in `snapshot` and what changed since the previous round in `report`.
    `baseline` is the plan at the opening, per action its status and whether it was overdue
    (the comparison for a plan's first round)."""

    __tablename__ = "rounds"
    __table_args__ = (
        Index(
            "uq_rounds_open_plan",
            "plan_id",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    closes_on: Mapped[dt.date] = mapped_column(Date)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    #: The smallest "days before the close" reminder already queued (3, then 1).
    reminded_days: Mapped[int | None] = mapped_column(Integer)
    baseline: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    snapshot: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class RoundPerson(Base):
    """A focal point asked in a round, and where they are in its guided sequence."""

    __tablename__ = "round_people"

    round_id: Mapped[int] = mapped_column(
        ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    asked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The action the guided sequence shows them now (None: not started, or finished).
    current_action_id: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class RoundAnswer(Base):
    """What a focal point reported on an action in a round: `unchanged`, `updated` or `skipped`;
    `late` when it came after the round closed."""

    __tablename__ = "round_answers"

    round_id: Mapped[int] = mapped_column(
        ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    action_id: Mapped[int] = mapped_column(
        ForeignKey("key_actions.id", ondelete="CASCADE"), primary_key=True
    )
    answer: Mapped[str] = mapped_column(String(20))
    answered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
