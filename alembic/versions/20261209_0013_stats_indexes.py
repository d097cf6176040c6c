"""statistics indexes: RDVs by organisation and creation or start (covering), receipts by organisation and instant (issue 19)

Revision ID: 0013
Revises: 0016
Create Date: 2026-12-09 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # "RDV créés" counts an organisation's RDVs by week of creation, origin and motif; the counters count
    # them by status over the period of their start. Both read the index alone (covering), not the table,
    # whose rows are in the order of their creation by hand, not of their dates.
    op.create_index("ix_rdv_organisation_created_at", "rdv",
                    ["organisation_id", "created_at", "created_by_type", "motif_id"])
    op.create_index("ix_rdv_organisation_starts_at_status", "rdv",
                    ["organisation_id", "starts_at", "status", "motif_id"])
    # The public page's notifications count receipts by week, per territory's organisations.
    op.create_index("ix_receipt_organisation_created_at", "receipt", ["organisation_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_receipt_organisation_created_at", table_name="receipt")
    op.drop_index("ix_rdv_organisation_starts_at_status", table_name="rdv")
    op.drop_index("ix_rdv_organisation_created_at", table_name="rdv")
