"""workspace, notifications, usager link, calendar sync, admin and public booking additions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 00:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401 (used by the sections below as they grow)
from alembic import op

import rdv_app.db.types  # noqa: F401

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # --- notifications (issue 6)
    op.create_index("ix_receipt_sms_phone_number_created_at", "receipt", ["sms_phone_number", "created_at"])
    # --- usager link page (issue 7)
    # --- calendar sync (issue 8)
    # --- admin configuration (issue 9)
    # --- public booking (issue 5)
    # --- agent workspace (issue 4)


def downgrade() -> None:
    # --- agent workspace (issue 4)
    # --- public booking (issue 5)
    # --- admin configuration (issue 9)
    # --- calendar sync (issue 8)
    # --- usager link page (issue 7)
    # --- notifications (issue 6)
    op.drop_index("ix_receipt_sms_phone_number_created_at", table_name="receipt")
