"""outlook sync: agents' Microsoft 365 connections and their Outlook events; `outlook` outbox channel (issue 22)

`outlook_connection` holds an agent's Graph tokens, sealed with RDV_SECRET_KEY, and a disconnection's
progress; `outlook_event` one agent's Outlook event of one RDV, keyed by the RDV's uuid so that a
deleted RDV's event can still be removed. Outbox messages and receipts gain the `outlook` channel.

Revision ID: 0016
Revises: 0018
Create Date: 2026-12-09 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from rdv_app.db.types import UTCDateTime

revision: str = "0016"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_CHANNELS = "channel IN ('sms', 'mail', 'webhook', 'ants')"
_NEW_CHANNELS = "channel IN ('sms', 'mail', 'webhook', 'ants', 'outlook')"


def _channels(check: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" and bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError("SQLite's foreign keys must be off while tables are rebuilt (see alembic/env.py).")
    for table in ("outbox_message", "receipt"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"ck_{table}_channel"), type_="check")
            batch.create_check_constraint(op.f(f"ck_{table}_channel"), check)


def upgrade() -> None:
    op.create_table(
        "outlook_connection",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("access_token_sealed", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("refresh_token_sealed", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("access_expires_at", UTCDateTime(), nullable=True),
        sa.Column("connected_at", UTCDateTime(), nullable=False),
        sa.Column("refresh_issued_at", UTCDateTime(), nullable=True),
        sa.Column("broken_at", UTCDateTime(), nullable=True),
        sa.Column("broken_notified_at", UTCDateTime(), nullable=True),
        sa.Column("disconnect_started_at", UTCDateTime(), nullable=True),
        sa.Column("disconnect_total", sa.Integer(), nullable=False),
        sa.Column("disconnect_done", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"], name=op.f("fk_outlook_connection_agent_id_agent"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_outlook_connection")),
    )
    op.create_table(
        "outlook_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("rdv_uuid", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("rdv_id", sa.Integer(), nullable=True),
        sa.Column("outlook_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("creating", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("lock_token", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("lock_worker_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"], name=op.f("fk_outlook_event_agent_id_agent"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outlook_event")),
        sa.UniqueConstraint("agent_id", "rdv_uuid", name="uq_outlook_event_agent_rdv"),
    )
    op.create_index(op.f("ix_outlook_event_rdv_id"), "outlook_event", ["rdv_id"], unique=False)
    _channels(_NEW_CHANNELS)


def downgrade() -> None:
    op.execute("DELETE FROM receipt WHERE channel = 'outlook'")
    op.execute("DELETE FROM outbox_message WHERE channel = 'outlook'")
    _channels(_OLD_CHANNELS)
    op.drop_index(op.f("ix_outlook_event_rdv_id"), table_name="outlook_event")
    op.drop_table("outlook_event")
    op.drop_table("outlook_connection")
