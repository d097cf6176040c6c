"""What a real (non-demo) instance checks before it serves: no demo account, and whether it still awaits
its first super admin (`python -m rdv_app.cli bootstrap --email ...`)."""

from __future__ import annotations

from sqlmodel import col, select

from rdv_app.db.models import Agent
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.deployment import DEMO_EMAIL_DOMAIN
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError

BOOTSTRAP_COMMAND = "python -m rdv_app.cli bootstrap --email votre.adresse@exemple.fr"


@boundary
def demo_accounts(uow: UnitOfWork, limit: int = 5) -> list[str]:
    """Accounts of the demo (their password is published in the README): a real instance must have none."""
    return [email or "" for email in uow.session.exec(
        select(Agent.email).where(col(Agent.email).endswith(f"@{DEMO_EMAIL_DOMAIN}"), col(Agent.deleted_at).is_(None))
        .order_by(col(Agent.email)).limit(limit)
    )]


class DemoDatabaseRefused(DomainError):
    pass


def refuse_demo_database(uow: UnitOfWork) -> None:
    """A real instance does not serve a database holding the demo's accounts: their password is public."""
    if accounts := demo_accounts(uow):
        raise DemoDatabaseRefused(
            "Cette base contient les comptes de la démonstration (" + ", ".join(accounts) + "…), dont le mot de "
            "passe est public : une instance réelle refuse de la servir. Utilisez une base neuve, ou lancez la "
            "démonstration avec RDV_DEMO=1 (make run).")


@boundary
def needs_bootstrap(uow: UnitOfWork) -> bool:
    """No one can sign in yet: no agent has chosen a password."""
    return uow.session.exec(select(Agent.id).where(col(Agent.password_hash).is_not(None),
                                                   col(Agent.deleted_at).is_(None)).limit(1)).first() is None
