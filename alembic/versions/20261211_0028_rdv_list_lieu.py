"""RDV list speed (issue 19): the lieu in the list's index

`ix_rdv_list` (organisation, start, id, end, motif, status) gains `lieu_id`, so that the list's lieu filter
is answered from the index like its other filters, without reading each RDV's row (a basic agent's page
900 of one lieu over 200,000 RDVs read 6,000 rows to count its first 1,000).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-10 09:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ["organisation_id", "starts_at", "id", "ends_at", "motif_id", "status"]


def upgrade() -> None:
    op.drop_index("ix_rdv_list", table_name="rdv")
    op.create_index("ix_rdv_list", "rdv", [*BEFORE, "lieu_id"])


def downgrade() -> None:
    op.drop_index("ix_rdv_list", table_name="rdv")
    op.create_index("ix_rdv_list", "rdv", BEFORE)
