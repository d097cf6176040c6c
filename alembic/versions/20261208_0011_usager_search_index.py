"""usager search index: folded words in `usager.search_terms`, a tsvector GIN index on PostgreSQL, FTS5 on SQLite (issue 18)

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-08 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rdv_app.db import search_index
from rdv_app.domain.usager_search import search_terms

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000


def upgrade() -> None:
    connection = op.get_bind()
    with op.batch_alter_table("usager") as batch:
        batch.add_column(sa.Column("search_terms", sa.String(), server_default="", nullable=False))
    usager = sa.table("usager", sa.column("id", sa.Integer), sa.column("first_name", sa.String),
                      sa.column("last_name", sa.String), sa.column("birth_name", sa.String),
                      sa.column("email", sa.String), sa.column("phone_number_formatted", sa.String),
                      sa.column("search_terms", sa.String))
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(usager.c.id, usager.c.first_name, usager.c.last_name, usager.c.birth_name, usager.c.email,
                      usager.c.phone_number_formatted)
            .where(usager.c.id > last_id).order_by(usager.c.id).limit(_BATCH)).all()
        if not rows:
            break
        connection.execute(
            sa.update(usager).where(usager.c.id == sa.bindparam("usager_id"))
            .values(search_terms=sa.bindparam("terms")),
            [{"usager_id": row.id, "terms": search_terms(
                first_name=row.first_name, last_name=row.last_name, birth_name=row.birth_name, email=row.email,
                phone_number_formatted=row.phone_number_formatted)} for row in rows])
        last_id = rows[-1].id
    if connection.dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_usager_search_terms ON usager USING gin "
                   "(to_tsvector('simple'::regconfig, search_terms))")
        op.create_index("ix_usager_email_prefix", "usager", ["email"],
                        postgresql_ops={"email": "varchar_pattern_ops"})
    else:
        search_index.create_sqlite_table(connection)


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        op.drop_index("ix_usager_email_prefix", table_name="usager")
        op.drop_index("ix_usager_search_terms", table_name="usager")
    else:
        search_index.drop_sqlite_table(connection)
    with op.batch_alter_table("usager") as batch:
        batch.drop_column("search_terms")
