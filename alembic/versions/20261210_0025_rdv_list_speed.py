"""RDV list speed (issue 19): an agent's and an usager's RDVs read from their index alone

`rdv_agent (agent_id, rdv_id)` and `participation (usager_id, rdv_id)` replace the indexes on `agent_id` and
`usager_id` alone, which held the row's address but not the RDV's id: "the RDVs an agent is on" (a basic
agent's visibility rule, the list's agent filter, the personal statistics) and "an usager's RDVs" (the
list's usager filter) then read each row of the table too.

Revision ID: 0025
Revises: 0020
Create Date: 2026-12-10 06:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_rdv_agent_agent_id_rdv_id", "rdv_agent", ["agent_id", "rdv_id"])
    op.drop_index("ix_rdv_agent_agent_id", table_name="rdv_agent")
    op.create_index("ix_participation_usager_id_rdv_id", "participation", ["usager_id", "rdv_id"])
    op.drop_index("ix_participation_usager_id", table_name="participation")


def downgrade() -> None:
    op.create_index("ix_participation_usager_id", "participation", ["usager_id"])
    op.drop_index("ix_participation_usager_id_rdv_id", table_name="participation")
    op.create_index("ix_rdv_agent_agent_id", "rdv_agent", ["agent_id"])
    op.drop_index("ix_rdv_agent_agent_id_rdv_id", table_name="rdv_agent")
