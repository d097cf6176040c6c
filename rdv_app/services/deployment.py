"""What a real (non-demo) instance checks before it serves: no demo account, and whether it still awaits
its first super admin (`python -m rdv_app.cli bootstrap --email ...`)."""

from __future__ import annotations

from sqlmodel import col, select

from rdv_app.db.models import Agent
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.deployment import DEMO_EMAIL_DOMAIN
from rdv_app.services.boundary import boundary

BOOTSTRAP_COMMAND = "python -m rdv_app.cli bootstrap --email votre.adresse@exemple.fr"


@boundary
def demo_accounts(uow: UnitOfWork, limit: int = 5) -> list[str]:
    """Accounts of the demo (their password is published in the README): a real instance must have none."""
    return [email or "" for email in uow.session.exec(
        select(Agent.email).where(col(Agent.email).endswith(f"@{DEMO_EMAIL_DOMAIN}"), col(Agent.deleted_at).is_(None))
        .order_by(col(Agent.email)).limit(limit)
    )]


@boundary
def needs_bootstrap(uow: UnitOfWork) -> bool:
    """No one can sign in yet: no agent has chosen a password."""
    return uow.session.exec(select(Agent.id).where(col(Agent.password_hash).is_not(None),
                                                   col(Agent.deleted_at).is_(None)).limit(1)).first() is None
