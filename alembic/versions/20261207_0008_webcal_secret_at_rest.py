"""webcal secret at rest: the agents' feed secrets leave the database in clear (issue 15, tokens at rest)

`agent.calendar_uid` held the secret of each agent's webcal address. It becomes its SHA-256
(`calendar_uid_hash`, to find the agent from the address) and the secret sealed with RDV_SECRET_KEY
(`calendar_uid_sealed`, to show the agent their address again; rdv_app.auth.sealed), so that a copy of
the database gives no feed. Existing addresses keep working: calendars subscribed to them need nothing.

Sealing needs the application's key: run this revision with the RDV_SECRET_KEY of the application (a
key drawn for the occasion leaves addresses that still work but can no longer be shown; the agent then
resets theirs).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 08:00:00
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rdv_app.auth.sealed import seal, unseal

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agent") as batch:
        batch.add_column(sa.Column("calendar_uid_hash", sa.String(), nullable=True))
        batch.add_column(sa.Column("calendar_uid_sealed", sa.String(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, calendar_uid FROM agent WHERE calendar_uid IS NOT NULL")).all()
    for agent_id, secret in rows:
        bind.execute(sa.text("UPDATE agent SET calendar_uid_hash = :hash, calendar_uid_sealed = :sealed "
                             "WHERE id = :id"),
                     {"hash": hashlib.sha256(secret.encode()).hexdigest(), "sealed": seal(secret), "id": agent_id})
    with op.batch_alter_table("agent") as batch:
        batch.drop_constraint(batch.f("uq_agent_calendar_uid"), type_="unique")
        batch.drop_column("calendar_uid")
        batch.create_unique_constraint(batch.f("uq_agent_calendar_uid_hash"), ["calendar_uid_hash"])


def downgrade() -> None:
    """Back to the secrets in clear, those the key opens (the others' agents get a new address)."""
    with op.batch_alter_table("agent") as batch:
        batch.add_column(sa.Column("calendar_uid", sa.String(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, calendar_uid_sealed FROM agent WHERE calendar_uid_sealed IS NOT NULL")).all()
    for agent_id, sealed in rows:
        bind.execute(sa.text("UPDATE agent SET calendar_uid = :secret WHERE id = :id"),
                     {"secret": unseal(sealed), "id": agent_id})
    with op.batch_alter_table("agent") as batch:
        batch.drop_constraint(batch.f("uq_agent_calendar_uid_hash"), type_="unique")
        batch.drop_column("calendar_uid_sealed")
        batch.drop_column("calendar_uid_hash")
        batch.create_unique_constraint(batch.f("uq_agent_calendar_uid"), ["calendar_uid"])
