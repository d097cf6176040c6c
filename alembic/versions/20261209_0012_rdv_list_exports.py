"""RDV list and its exports (issue 19): the list's index on rdv; exports built by the worker (format, claim
and lease, attempts, row count, error)

Revision ID: 0012
Revises: 0013
Create Date: 2026-12-09 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from rdv_app.db.types import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rdv") as batch:
        batch.create_index("ix_rdv_list", ["organisation_id", "starts_at", "id", "ends_at", "motif_id", "status"],
                           unique=False)
    with op.batch_alter_table("export") as batch:
        batch.add_column(sa.Column("export_format", sqlmodel.sql.sqltypes.AutoString(), server_default="xlsx",
                                   nullable=False))
        batch.add_column(sa.Column("total", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch.add_column(sa.Column("locked_until", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("error", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch.create_check_constraint(op.f("ck_export_export_format"), "export_format IN ('xlsx', 'csv')")
        batch.create_index("ix_export_agent_created_at", ["agent_id", "created_at"], unique=False)
        batch.create_index("ix_export_status_locked_until", ["status", "locked_until"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("export") as batch:
        batch.drop_index("ix_export_status_locked_until")
        batch.drop_index("ix_export_agent_created_at")
        batch.drop_constraint(op.f("ck_export_export_format"), type_="check")
        for column in ("error", "attempts", "locked_until", "claimed_by", "total", "export_format"):
            batch.drop_column(column)
    with op.batch_alter_table("rdv") as batch:
        batch.drop_index("ix_rdv_list")
