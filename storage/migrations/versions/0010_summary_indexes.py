"""indexes for the summary at the size of a portfolio: the actions in deadline order (the
overdue actions and the next deadlines are the first rows of it, not a sort of thousands), and
every column the summary counts, in plan and block order (its one grouped pass reads this
index instead of the table, on SQLite)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("key_actions") as batch:
        batch.create_index(
            "ix_key_actions_due_order", ["deadline_due", "plan_id", "position", "number"]
        )
        batch.create_index(
            "ix_key_actions_summary",
            [
                "plan_id",
                "recommendation_id",
                "status",
                "review_status",
                "deadline_due",
                "deadline_kind",
                "last_update_at",
                "created_at",
            ],
        )


def downgrade() -> None:
    with op.batch_alter_table("key_actions") as batch:
        batch.drop_index("ix_key_actions_summary")
        batch.drop_index("ix_key_actions_due_order")
