"""The public links that the Conseillers Numériques map reads (integrations.md section 2): for a territory
(`CN` for the Conseillers Numériques), its organisations known to the map by their `external_id` (the
structure's id on the CN side) that usagers can book now, each with its public booking link.

"Can book now": a plage d'ouverture still to come open to a motif bookable by everyone, or a collective RDV
to come of such a motif. The map's job reads the list periodically and removes the button of a structure
that left it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col, select

from rdv_app.config import settings
from rdv_app.db.models import Motif, Organisation, PlageOuverture, PlageOuvertureMotif, Rdv, Territory
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain.enums import CANCELLED_STATUSES, BookableBy
from rdv_app.services.boundary import boundary


@dataclass(frozen=True)
class PublicLink:
    external_id: str
    public_link: str


@boundary
def public_links(uow: UnitOfWork, territory: str, now: datetime | None = None) -> list[PublicLink] | None:
    """The territory's bookable organisations with an external id, by id; None for an unknown territory."""
    now = now or clock.now()
    territory_id = uow.session.exec(select(Territory.id).where(Territory.departement_number == territory)).first()
    if territory_id is None:
        return None
    today = now.date() - timedelta(days=1)  # a day of margin for every time zone
    public = sa.and_(col(Motif.bookable_by) == BookableBy.EVERYONE.value, col(Motif.deleted_at).is_(None))
    plage_to_come = (
        select(Motif.organisation_id)
        .join(PlageOuvertureMotif, col(PlageOuvertureMotif.motif_id) == Motif.id)
        .join(PlageOuverture, col(PlageOuverture.id) == PlageOuvertureMotif.plage_ouverture_id)
        .where(public, col(Motif.collectif).is_(False), sa.or_(
            sa.and_(col(PlageOuverture.recurrence).is_(None), col(PlageOuverture.first_day) >= today),
            sa.and_(col(PlageOuverture.recurrence).is_not(None),
                    sa.or_(col(PlageOuverture.recurrence_until).is_(None),
                           col(PlageOuverture.recurrence_until) >= today)))))
    collective_to_come = (
        select(Rdv.organisation_id).join(Motif, col(Motif.id) == Rdv.motif_id)
        .where(public, col(Motif.collectif).is_(True), col(Rdv.starts_at) > now,
               col(Rdv.status).not_in([s.value for s in CANCELLED_STATUSES])))
    rows = uow.session.exec(
        select(Organisation.id, Organisation.external_id)
        .where(Organisation.territory_id == territory_id, col(Organisation.external_id).is_not(None),
               sa.or_(col(Organisation.id).in_(plage_to_come), col(Organisation.id).in_(collective_to_come)))
        .order_by(col(Organisation.id))).all()
    return [PublicLink(external_id or "", f"{settings.public_url}/org/{organisation_id}")
            for organisation_id, external_id in rows]


@boundary
def organisation_by_external_id(uow: UnitOfWork, territory: str, external_id: str) -> tuple[int, str] | None:
    """(id, slug) of the organisation of that territory known by that external id, for the short link
    `/org/ext/<territory>/<external_id>`."""
    row = uow.session.exec(
        select(Organisation.id, Organisation.slug).join(Territory, col(Territory.id) == Organisation.territory_id)
        .where(Territory.departement_number == territory, Organisation.external_id == external_id)).first()
    if row is None or row[0] is None:
        return None
    return row[0], row[1]
