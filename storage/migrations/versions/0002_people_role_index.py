"""people by role: who is notified of a change is looked up on every comment

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 03:05:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_people_role", "people", ["role"])


def downgrade() -> None:
    op.drop_index("ix_people_role", table_name="people")
