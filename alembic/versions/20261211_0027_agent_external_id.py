"""agent external id (issue 21): the id an agent has in another system, "conseiller-numerique-<ID conseiller>"
for a Conseiller Numérique, so the import finds a conseiller whose email changed

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-11 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agent") as batch:
        batch.add_column(sa.Column("external_id", sa.String(), nullable=True))
        batch.create_unique_constraint(batch.f("uq_agent_external_id"), ["external_id"])


def downgrade() -> None:
    with op.batch_alter_table("agent") as batch:
        batch.drop_constraint(batch.f("uq_agent_external_id"), type_="unique")
        batch.drop_column("external_id")
