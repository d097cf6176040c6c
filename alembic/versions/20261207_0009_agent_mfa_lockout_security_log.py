"""agents' second factor, escalating lockout and the security event log (issue 15, item 6)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import rdv_app.db.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENT_KINDS = ("sign_in_failed", "second_factor_failed", "account_locked", "password_changed", "mfa_enabled",
               "mfa_disabled", "recovery_code_used", "usager_initials_failed", "usager_link_locked")


def upgrade() -> None:
    op.create_table(
        "agent_recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("used_at", rdv_app.db.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", rdv_app.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"], name=op.f("fk_agent_recovery_code_agent_id_agent"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_recovery_code")),
    )
    with op.batch_alter_table("agent_recovery_code") as batch:
        batch.create_index(batch.f("ix_agent_recovery_code_agent_id"), ["agent_id"], unique=False)

    kinds = ", ".join(f"'{kind}'" for kind in EVENT_KINDS)
    op.create_table(
        "security_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", rdv_app.db.types.UTCDateTime(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("ip", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.CheckConstraint(f"kind IN ({kinds})", name=op.f("ck_security_event_kind")),
        sa.CheckConstraint("length(ip) <= 64", name=op.f("ck_security_event_ip_length")),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"], name=op.f("fk_security_event_agent_id_agent"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"],
                                name=op.f("fk_security_event_organisation_id_organisation"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_event")),
    )
    with op.batch_alter_table("security_event") as batch:
        batch.create_index(batch.f("ix_security_event_agent_id"), ["agent_id"], unique=False)
        batch.create_index(batch.f("ix_security_event_occurred_at"), ["occurred_at"], unique=False)
        batch.create_index(batch.f("ix_security_event_organisation_id"), ["organisation_id"], unique=False)

    with op.batch_alter_table("agent") as batch:
        batch.add_column(sa.Column("totp_secret_sealed", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch.add_column(sa.Column("totp_enabled_at", rdv_app.db.types.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("totp_last_counter", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("failed_sign_ins", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("lockouts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("locked_until", rdv_app.db.types.UTCDateTime(), nullable=True))
    with op.batch_alter_table("agent") as batch:
        batch.alter_column("failed_sign_ins", server_default=None)
        batch.alter_column("lockouts", server_default=None)

    with op.batch_alter_table("agent_login_ticket") as batch:
        batch.add_column(sa.Column("pending_step", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch.create_check_constraint(op.f("ck_agent_login_ticket_pending_step"),
                                      "pending_step IN ('code', 'enrolment')")


def downgrade() -> None:
    with op.batch_alter_table("agent_login_ticket") as batch:
        batch.drop_constraint(op.f("ck_agent_login_ticket_pending_step"), type_="check")
        batch.drop_column("pending_step")
    with op.batch_alter_table("agent") as batch:
        for column in ("locked_until", "lockouts", "failed_sign_ins", "totp_last_counter", "totp_enabled_at",
                       "totp_secret_sealed"):
            batch.drop_column(column)
    op.drop_table("security_event")
    op.drop_table("agent_recovery_code")
