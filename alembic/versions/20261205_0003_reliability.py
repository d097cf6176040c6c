"""reliability: messages know the RDV version they were written for; online slots cannot overlap

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rdv_app.db.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox_message", sa.Column("rdv_version", sa.Integer(), nullable=True))
    with op.batch_alter_table("rdv_agent") as batch:
        batch.add_column(sa.Column("slot_starts_at", rdv_app.db.types.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("slot_ends_at", rdv_app.db.types.UTCDateTime(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute("ALTER TABLE rdv_agent ADD CONSTRAINT rdv_agent_online_slots_do_not_overlap EXCLUDE USING gist "
                   "(agent_id WITH =, tstzrange(slot_starts_at, slot_ends_at) WITH &&) "
                   "WHERE (slot_starts_at IS NOT NULL)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE rdv_agent DROP CONSTRAINT rdv_agent_online_slots_do_not_overlap")
    with op.batch_alter_table("rdv_agent") as batch:
        batch.drop_column("slot_ends_at")
        batch.drop_column("slot_starts_at")
    op.drop_column("outbox_message", "rdv_version")
