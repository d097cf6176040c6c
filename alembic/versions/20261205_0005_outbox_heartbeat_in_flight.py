"""outbox: worker heartbeats, claims by worker, attempts in flight (issue 16, crash-safe delivery)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rdv_app.db.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox_worker",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("started_at", rdv_app.db.types.UTCDateTime(), nullable=False),
        sa.Column("heartbeat_at", rdv_app.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_worker")),
    )
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(sa.Column("claimed_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("in_flight_tag", sa.String(), nullable=True))
        batch.add_column(sa.Column("in_flight_attempt", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("in_flight_at", rdv_app.db.types.UTCDateTime(), nullable=True))
        batch.create_foreign_key(batch.f("fk_outbox_message_claimed_by_outbox_worker"), "outbox_worker",
                                 ["claimed_by"], ["id"], ondelete="SET NULL")
        batch.create_index(batch.f("ix_outbox_message_claimed_by"), ["claimed_by"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_index(batch.f("ix_outbox_message_claimed_by"))
        batch.drop_constraint(batch.f("fk_outbox_message_claimed_by_outbox_worker"), type_="foreignkey")
        batch.drop_column("in_flight_at")
        batch.drop_column("in_flight_attempt")
        batch.drop_column("in_flight_tag")
        batch.drop_column("claimed_by")
    op.drop_table("outbox_worker")
