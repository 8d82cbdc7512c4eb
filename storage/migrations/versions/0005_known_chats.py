"""known chats: groups linked from inside, unreachable chats, groups moved to a new id

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 17:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "known_chats",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("linked_by_id", sa.Integer(), nullable=True),
        sa.Column("linked_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("unreachable_since", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("moved_to", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["linked_by_id"],
            ["people.id"],
            name=op.f("fk_known_chats_linked_by_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_known_chats")),
    )


def downgrade() -> None:
    op.drop_table("known_chats")
