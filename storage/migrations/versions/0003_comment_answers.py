"""comments answer comments: a focal point's answer to the secretariat's observation

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 16:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.add_column(sa.Column("answers_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_comments_answers_id_comments"),
            "comments",
            ["answers_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.drop_constraint(op.f("fk_comments_answers_id_comments"), type_="foreignkey")
        batch.drop_column("answers_id")
