"""usagers' records: social fields and the territory toggles that show them (issue 18)

The usager gets its social information (caisse d'affiliation, numéro d'allocataire, situation familiale,
nombre d'enfants, logement), closed vocabularies guarded by CHECK constraints; the territory gets one
toggle per optional field of the records, all off (the fields stay hidden until a territorial admin shows
them; hiding one never deletes its data).

SQLite rebuilds the usager table to add the constraints (alembic's batch mode), foreign keys off as
alembic/env.py leaves them during the migrations; they are checked before the commit.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The values of rdv_app.domain.enums on the day of this revision.
VOCABULARIES = {
    "caisse_affiliation": ("aucune", "caf", "msa"),
    "family_situation": ("single", "in_a_relationship", "divorced"),
    "logement": ("sdf", "heberge", "en_accession_propriete", "proprietaire", "autre", "locataire"),
}
TOGGLES = ("enable_logement_field", "enable_caisse_affiliation_field", "enable_affiliation_number_field",
           "enable_family_situation_field", "enable_number_of_children_field", "enable_case_number",
           "enable_address_details")
AFFILIATION_NUMBER_LENGTH = 64  # rdv_app.domain.limits.CODE


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" and bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError("SQLite's foreign keys must be off while tables are rebuilt (see alembic/env.py).")
    with op.batch_alter_table("territory") as batch:
        for toggle in TOGGLES:
            batch.add_column(sa.Column(toggle, sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("usager") as batch:
        for column in VOCABULARIES:
            batch.add_column(sa.Column(column, sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch.add_column(sa.Column("affiliation_number", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch.add_column(sa.Column("number_of_children", sa.Integer(), nullable=True))
    with op.batch_alter_table("usager") as batch:
        for column, values in VOCABULARIES.items():
            allowed = ", ".join(f"'{value}'" for value in values)
            batch.create_check_constraint(op.f(f"ck_usager_{column}"), f"{column} IN ({allowed})")
        batch.create_check_constraint(op.f("ck_usager_number_of_children"), "number_of_children >= 0")
        batch.create_check_constraint(op.f("ck_usager_affiliation_number_length"),
                                      f"length(affiliation_number) <= {AFFILIATION_NUMBER_LENGTH}")
    if bind.dialect.name == "sqlite":
        broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"Rebuilt tables left rows whose foreign keys point nowhere: {broken[:5]}")


def downgrade() -> None:
    with op.batch_alter_table("usager") as batch:
        for column in (*VOCABULARIES, "number_of_children", "affiliation_number_length"):
            batch.drop_constraint(op.f(f"ck_usager_{column}"), type_="check")
    with op.batch_alter_table("usager") as batch:
        for column in (*VOCABULARIES, "affiliation_number", "number_of_children"):
            batch.drop_column(column)
    with op.batch_alter_table("territory") as batch:
        for toggle in TOGGLES:
            batch.drop_column(toggle)
