"""workspace, notifications, usager link, calendar sync, admin and public booking additions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 00:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401 (used by the sections below as they grow)
from alembic import op

import rdv_app.db.types  # noqa: F401

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # --- notifications (issue 6)
    op.create_index("ix_receipt_sms_phone_number_created_at", "receipt", ["sms_phone_number", "created_at"])
    op.create_table(
        "daily_job_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("ran_at", rdv_app.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daily_job_run")),
        sa.UniqueConstraint("job", "day", name="uq_daily_job_run_job_day"),
    )
    # --- usager link page (issue 7)
    with op.batch_alter_table("participation") as batch:
        batch.add_column(sa.Column("link_failed_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("link_last_failed_at", rdv_app.db.types.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("link_locked_until", rdv_app.db.types.UTCDateTime(), nullable=True))
    # --- calendar sync (issue 8)
    # --- admin configuration (issue 9)
    # --- public booking (issue 5)
    op.add_column("rdv", sa.Column("booking_key_hash", sa.String(), nullable=True))
    op.create_index("ix_rdv_booking_key_hash", "rdv", ["booking_key_hash"], unique=True)
    # --- agent workspace (issue 4)
    op.create_index("ix_rdv_organisation_ends_at", "rdv", ["organisation_id", "ends_at"])


def downgrade() -> None:
    # --- agent workspace (issue 4)
    op.drop_index("ix_rdv_organisation_ends_at", table_name="rdv")
    # --- public booking (issue 5)
    op.drop_index("ix_rdv_booking_key_hash", table_name="rdv")
    with op.batch_alter_table("rdv") as batch:
        batch.drop_column("booking_key_hash")
    # --- admin configuration (issue 9)
    # --- calendar sync (issue 8)
    # --- usager link page (issue 7)
    with op.batch_alter_table("participation") as batch:
        batch.drop_column("link_locked_until")
        batch.drop_column("link_last_failed_at")
        batch.drop_column("link_failed_attempts")
    # --- notifications (issue 6)
    op.drop_table("daily_job_run")
    op.drop_index("ix_receipt_sms_phone_number_created_at", table_name="receipt")
