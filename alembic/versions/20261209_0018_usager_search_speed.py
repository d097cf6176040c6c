"""usager search speed (issue 18): the organisations of each usager's profiles in `usager.profile_organisations`,
kept by triggers on both databases; FTS5 prefix indexes of one and two letters on SQLite

Revision ID: 0018
Revises: 0015
Create Date: 2026-12-09 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rdv_app.db import search_index

revision: str = "0018"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    connection = op.get_bind()
    with op.batch_alter_table("usager") as batch:
        batch.add_column(sa.Column("profile_organisations", sa.String(), server_default="", nullable=False))
    search_index.fill_profile_organisations(connection)
    search_index.create_profile_triggers(connection)
    if connection.dialect.name != "postgresql":
        # The batch rebuild of `usager` dropped its triggers; the FTS5 table is made again with its prefixes.
        search_index.drop_sqlite_table(connection)
        search_index.create_sqlite_table(connection)


def downgrade() -> None:
    connection = op.get_bind()
    search_index.drop_profile_triggers(connection)
    if connection.dialect.name != "postgresql":
        search_index.drop_sqlite_table(connection)
    with op.batch_alter_table("usager") as batch:
        batch.drop_column("profile_organisations")
    if connection.dialect.name != "postgresql":
        search_index.create_sqlite_table(connection, prefixes=None)
