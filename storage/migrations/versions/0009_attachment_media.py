"""attachments carry a duration (voice, audio, video) and a place (shared locations);
coordinators who had notices off get the weekly report they were getting anyway

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("attachments") as batch:
        batch.add_column(sa.Column("duration", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch.add_column(sa.Column("longitude", sa.Float(), nullable=True))
    # Until now every coordinator got the weekly report, whatever their /avisos choice; "off"
    # (the coordinators' default) becomes "weekly" so nobody loses the report they had.
    op.execute(
        "UPDATE people SET notify_mode = 'weekly' "
        "WHERE role = 'coordinator' AND notify_mode = 'off'"
    )


def downgrade() -> None:
    op.execute("UPDATE people SET notify_mode = 'off' WHERE notify_mode = 'weekly'")
    with op.batch_alter_table("attachments") as batch:
        batch.drop_column("longitude")
        batch.drop_column("latitude")
        batch.drop_column("duration")
