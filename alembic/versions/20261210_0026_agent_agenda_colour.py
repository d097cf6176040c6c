"""agent agenda colour (issue 25): the colour an agent chose in "Mon compte" for their events in a team
agenda; NULL keeps the palette's colour given by their id

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-10 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agent") as batch:
        batch.add_column(sa.Column("agenda_colour", sa.String(), nullable=True))
        batch.create_check_constraint(op.f("ck_agent_agenda_colour_length"), "length(agenda_colour) <= 7")


def downgrade() -> None:
    with op.batch_alter_table("agent") as batch:
        batch.drop_constraint(op.f("ck_agent_agenda_colour_length"), type_="check")
        batch.drop_column("agenda_colour")
