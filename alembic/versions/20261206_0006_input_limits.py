"""input limits: free texts bounded by CHECK constraints on their length (issue 16, item 5)

Values already longer than their limit are cut to it first; an email address that long cannot be
anyone's, and is cleared instead (two cut addresses could clash on the unique index).

SQLite rebuilds each table to add the constraints (alembic's batch mode): foreign keys must be off
while it does, or dropping the old table would delete the rows that refer to it (alembic/env.py turns
them off around the migrations); they are checked before the commit.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 08:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The numbers of rdv_app.domain.limits on the day of this revision.
MAX_LENGTHS: dict[str, dict[str, int]] = {
    "territory": {"name": 160, "phone_number": 30},
    "organisation": {"name": 160, "phone_number": 30, "email": 254, "website": 2000, "horaires": 2000},
    "agent": {"email": 254, "first_name": 100, "last_name": 100},
    "team": {"name": 160},
    "lieu": {"name": 160, "address": 300, "phone_number": 30},
    "motif": {"name": 160, "color": 64, "restriction_for_rdv": 5000, "instruction_for_rdv": 5000,
              "custom_cancel_warning_message": 5000},
    "plage_ouverture": {"title": 160},
    "absence": {"title": 160},
    "usager": {"first_name": 100, "last_name": 100, "birth_name": 100, "email": 254, "phone_number": 30,
               "phone_number_formatted": 30, "address": 300, "address_details": 300, "post_code": 64,
               "city_name": 160, "city_code": 64, "case_number": 64, "notes": 2000},
    "usager_profile": {"notes": 2000},
    "prescripteur": {"first_name": 100, "last_name": 100, "email": 254, "phone_number": 30},
    "rdv": {"context": 2000, "name": 160},
    "webhook_endpoint": {"target_url": 2000},
}
CLEARED = {("agent", "email"), ("usager", "email")}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" and bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError("SQLite's foreign keys must be off while tables are rebuilt (see alembic/env.py).")
    for table, columns in MAX_LENGTHS.items():
        for column, maximum in columns.items():
            shortened = "NULL" if (table, column) in CLEARED else f"substr({column}, 1, {maximum})"
            op.execute(f"UPDATE {table} SET {column} = {shortened} WHERE length({column}) > {maximum}")  # noqa: S608
        with op.batch_alter_table(table) as batch:
            for column, maximum in columns.items():
                batch.create_check_constraint(op.f(f"ck_{table}_{column}_length"), f"length({column}) <= {maximum}")
    if bind.dialect.name == "sqlite":
        broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"Rebuilt tables left rows whose foreign keys point nowhere: {broken[:5]}")


def downgrade() -> None:
    for table, columns in MAX_LENGTHS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.drop_constraint(op.f(f"ck_{table}_{column}_length"), type_="check")
