"""What an usager's online booking shows around the booking itself (`book_rdv` is a transition of the RDV
lifecycle, rdv_app.services.rdv.lifecycle): which motifs are open online, and the confirmation page."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import col, select

from rdv_app.db.models import Lieu, Motif, Organisation, Participation, Rdv, Usager
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import datefmt
from rdv_app.domain.contact import tel_uri
from rdv_app.domain.enums import BookableBy, LocationType
from rdv_app.domain.labels import LOCATION_TYPE_LABELS
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import NotFound


def is_public_motif(motif: Motif) -> bool:
    """Open to usagers online: "Ouvert aux agents et aux usagers", individual, not archived."""
    return motif.bookable_by == BookableBy.EVERYONE.value and not motif.collectif and motif.deleted_at is None


def is_public_collectif(motif: Motif) -> bool:
    """A collective motif whose sessions usagers book online (one seat at a time)."""
    return motif.bookable_by == BookableBy.EVERYONE.value and motif.collectif and motif.deleted_at is None


@dataclass(frozen=True)
class BookedRdv:
    """The confirmation page of an RDV the usager booked (for themselves or a relative)."""

    id: int
    when: str  # "lundi 7 décembre 2026 à 09h00" in the organisation's time zone
    motif_name: str
    location_type: str
    place: str  # the lieu's name and address, or how the RDV takes place
    participant: str
    instruction: str | None
    organisation_name: str
    organisation_phone: str | None
    organisation_phone_href: str | None  # "tel:+33-3-21-23-45-67"
    organisation_email: str | None


@boundary
def booked_rdv(uow: UnitOfWork, usager_id: int, rdv_id: int) -> BookedRdv:
    """An RDV of the usager or of one of their relatives; NotFound for anyone else's."""
    row = uow.session.exec(
        select(Rdv, Motif, Organisation, Usager)
        .join(Motif, col(Motif.id) == Rdv.motif_id)
        .join(Organisation, col(Organisation.id) == Rdv.organisation_id)
        .join(Participation, col(Participation.rdv_id) == Rdv.id)
        .join(Usager, col(Usager.id) == Participation.usager_id)
        .where(col(Rdv.id) == rdv_id, sa.or_(col(Usager.id) == usager_id, col(Usager.responsible_id) == usager_id))
    ).first()
    if row is None:
        raise NotFound("Ce rendez-vous est introuvable depuis votre compte.")
    rdv, motif, organisation, participant = row
    lieu = uow.session.get(Lieu, rdv.lieu_id) if rdv.lieu_id is not None else None
    place = f"{lieu.name}, {lieu.address}" if lieu else LOCATION_TYPE_LABELS[LocationType(motif.location_type)]
    phone = (lieu.phone_number if lieu else None) or organisation.phone_number
    return BookedRdv(id=rdv_id, when=datefmt.long_datetime(rdv.starts_at, organisation.time_zone),
                     motif_name=motif.name, location_type=motif.location_type, place=place,
                     participant=f"{participant.first_name} {participant.last_name}",
                     instruction=(motif.instruction_for_rdv or "").strip() or None,
                     organisation_name=organisation.name, organisation_phone=phone,
                     organisation_phone_href=tel_uri(phone) if phone else None,
                     organisation_email=organisation.email)
