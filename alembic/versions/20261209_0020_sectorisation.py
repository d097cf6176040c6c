"""sectorisation (issue 28): sectors of a territory, their zones (communes or streets of the Base Adresse
Nationale) and their attributions to organisations or agents

Revision ID: 0020
Revises: 0012
Create Date: 2026-12-09 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import rdv_app.db.types

revision: str = "0020"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sector',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('territory_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('human_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', rdv_app.db.types.UTCDateTime(), nullable=False),
    sa.CheckConstraint('length(human_id) <= 64', name=op.f('ck_sector_human_id_length')),
    sa.CheckConstraint('length(name) <= 160', name=op.f('ck_sector_name_length')),
    sa.ForeignKeyConstraint(['territory_id'], ['territory.id'], name=op.f('fk_sector_territory_id_territory'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sector')),
    sa.UniqueConstraint('territory_id', 'human_id', name='uq_sector_territory_human_id')
    )
    with op.batch_alter_table('sector', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sector_territory_id'), ['territory_id'], unique=False)

    op.create_table('sector_attribution',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sector_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.CheckConstraint("(level = 'agent') = (agent_id IS NOT NULL)", name=op.f('ck_sector_attribution_agent_of_level')),
    sa.CheckConstraint("level IN ('organisation', 'agent')", name=op.f('ck_sector_attribution_level')),
    sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], name=op.f('fk_sector_attribution_agent_id_agent'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_sector_attribution_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sector_id'], ['sector.id'], name=op.f('fk_sector_attribution_sector_id_sector'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sector_attribution'))
    )
    with op.batch_alter_table('sector_attribution', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sector_attribution_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sector_attribution_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sector_attribution_sector_id'), ['sector_id'], unique=False)

    op.create_table('sector_zone',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sector_id', sa.Integer(), nullable=False),
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('city_code', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('city_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('street_ban_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('street_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.CheckConstraint("(level = 'city') = (street_ban_id = '')", name=op.f('ck_sector_zone_street_of_level')),
    sa.CheckConstraint("level IN ('city', 'street')", name=op.f('ck_sector_zone_level')),
    sa.CheckConstraint('length(city_code) <= 64', name=op.f('ck_sector_zone_city_code_length')),
    sa.CheckConstraint('length(city_name) <= 160', name=op.f('ck_sector_zone_city_name_length')),
    sa.CheckConstraint('length(street_ban_id) <= 64', name=op.f('ck_sector_zone_street_ban_id_length')),
    sa.CheckConstraint('length(street_name) <= 160', name=op.f('ck_sector_zone_street_name_length')),
    sa.ForeignKeyConstraint(['sector_id'], ['sector.id'], name=op.f('fk_sector_zone_sector_id_sector'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sector_zone')),
    sa.UniqueConstraint('sector_id', 'level', 'city_code', 'street_ban_id', name='uq_sector_zone_place')
    )
    with op.batch_alter_table('sector_zone', schema=None) as batch_op:
        batch_op.create_index('ix_sector_zone_city_street', ['city_code', 'street_ban_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sector_zone_sector_id'), ['sector_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sector_zone', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sector_zone_sector_id'))
        batch_op.drop_index('ix_sector_zone_city_street')

    op.drop_table('sector_zone')
    with op.batch_alter_table('sector_attribution', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sector_attribution_sector_id'))
        batch_op.drop_index(batch_op.f('ix_sector_attribution_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_sector_attribution_agent_id'))

    op.drop_table('sector_attribution')
    with op.batch_alter_table('sector', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sector_territory_id'))

    op.drop_table('sector')
