"""ANTS: the usager's pre-demande number, the outbox channel of the coordination API, the three categories (issue 21)

The usager gets `ants_pre_demande_number` (10 letters and digits, upper-cased); the outbox and its
receipts accept the channel `ants` (calls to the ANTS coordination API, delivered by the worker); the
three motif categories of the ANTS titles are created when missing, under the exact names the hub's
editors share.

SQLite rebuilds outbox_message and receipt to change their CHECK (alembic's batch mode), foreign keys
off as alembic/env.py leaves them during the migrations.

Revision ID: 0015
Revises: 0011
Create Date: 2026-12-09 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0015"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The values of rdv_app.domain.enums.Channel and rdv_app.domain.ants on the day of this revision.
CHANNELS_BEFORE = ("sms", "mail", "webhook")
CHANNELS_AFTER = (*CHANNELS_BEFORE, "ants")
CATEGORIES = (
    ("Carte d'identité disponible sur le site de l'ANTS", "ants_cni"),
    ("Passeport disponible sur le site de l'ANTS", "ants_passeport"),
    ("Carte d'identité et passeport disponible sur le site de l'ANTS", "ants_cni_passeport"),
)


def _channels(table: str, channels: tuple[str, ...]) -> None:
    allowed = ", ".join(f"'{channel}'" for channel in channels)
    with op.batch_alter_table(table) as batch:
        batch.drop_constraint(op.f(f"ck_{table}_channel"), type_="check")
    with op.batch_alter_table(table) as batch:
        batch.create_check_constraint(op.f(f"ck_{table}_channel"), f"channel IN ({allowed})")


def upgrade() -> None:
    with op.batch_alter_table("usager") as batch:
        batch.add_column(sa.Column("ants_pre_demande_number", sqlmodel.sql.sqltypes.AutoString(length=10),
                                   nullable=True))
    for table in ("outbox_message", "receipt"):
        _channels(table, CHANNELS_AFTER)
    category = sa.table("motif_category", sa.column("name", sa.String), sa.column("short_name", sa.String))
    connection = op.get_bind()
    for name, short_name in CATEGORIES:
        taken = connection.execute(sa.select(sa.func.count()).select_from(category).where(
            sa.or_(category.c.name == name, category.c.short_name == short_name))).scalar_one()
        if not taken:
            connection.execute(category.insert().values(name=name, short_name=short_name))


def downgrade() -> None:
    op.execute("DELETE FROM outbox_message WHERE channel = 'ants'")
    op.execute("DELETE FROM receipt WHERE channel = 'ants'")
    for table in ("outbox_message", "receipt"):
        _channels(table, CHANNELS_BEFORE)
    with op.batch_alter_table("usager") as batch:
        batch.drop_column("ants_pre_demande_number")
