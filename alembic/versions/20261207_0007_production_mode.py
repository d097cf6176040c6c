"""production mode: super admins and one-time agent invitations (issue 15)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sqlmodel

import rdv_app.db.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agent") as batch:
        batch.add_column(sa.Column("super_admin", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "agent_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("invited_by_agent_id", sa.Integer(), nullable=True),
        sa.Column("expires_at", rdv_app.db.types.UTCDateTime(), nullable=False),
        sa.Column("used_at", rdv_app.db.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", rdv_app.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"], name=op.f("fk_agent_invitation_agent_id_agent"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["invited_by_agent_id"], ["agent.id"],
                                name=op.f("fk_agent_invitation_invited_by_agent_id_agent"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_invitation")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_agent_invitation_token_hash")),
    )
    with op.batch_alter_table("agent_invitation") as batch:
        batch.create_index(batch.f("ix_agent_invitation_agent_id"), ["agent_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("agent_invitation") as batch:
        batch.drop_index(batch.f("ix_agent_invitation_agent_id"))
    op.drop_table("agent_invitation")
    with op.batch_alter_table("agent") as batch:
        batch.drop_column("super_admin")
