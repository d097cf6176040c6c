"""External prescripteurs on the public pages, "Je suis un prescripteur" (domain.md section 6.4).

A professional (a social worker, an association...) books, without an account, for a bénéficiaire: the
same search as usagers over the motifs open to prescripteurs (every setting but "agents only") of the
territory or of one organisation, the week of slots with the prescripteurs' booking delays (for a
collective motif, its open sessions with their seats left: rdv_app.services.online_booking.sessions), then
who they are (`PrescripteurEntry`), then the bénéficiaire (`BeneficiaireEntry`), then "Confirmer le RDV"
through the usagers' own booking path (rdv_app.services.rdv.lifecycle.book_by_prescripteur, or
book_seat_by_prescripteur for a seat of a session). The checks of the two forms are the booking's own:
the page runs them step by step so that each form says what to fix.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import col, select

from rdv_app.db.models import Lieu, Motif, Organisation, Service
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import datefmt, usager_record
from rdv_app.domain.enums import LieuAvailability, LocationType
from rdv_app.domain.labels import LOCATION_TYPE_LABELS
from rdv_app.domain.motif_rules import PRESCRIPTION_BOOKABLE
from rdv_app.domain.sectorisation import SectorAddress
from rdv_app.domain.slots import Searcher
from rdv_app.services.availability.slot_inputs import motif_context
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError, NotFound
from rdv_app.services.integrations import ants as ants_service
from rdv_app.services.online_booking import public_search, sessions
from rdv_app.services.online_booking.public_search import MotifChoice, PublicScope, PublicWeek
from rdv_app.services.usagers.usagers import territory_phone_region

GONE = "Ce motif n'est plus ouvert aux prescripteurs. Choisissez un autre motif."
SESSION_GONE = "Cet atelier est complet ou n'est plus ouvert à la réservation. Choisissez une autre date."
NO_PHONE_WARNING = ("Sans numéro de téléphone portable, le bénéficiaire ne recevra ni confirmation ni rappel "
                    "de son rendez-vous.")
UNKNOWN_STRUCTURES = ("Les structures de ce lien ne proposent pas de rendez-vous en ligne. Vérifiez le lien que "
                      "vous avez reçu, ou contactez directement la structure.")
NOT_MOBILE = "Indiquez un numéro de téléphone portable : le bénéficiaire recevra ses rappels par SMS."


@dataclass(frozen=True)
class PrescripteurEntry:
    """"Vos coordonnées": who books. First name, last name and email are required, the phone optional."""

    first_name: str
    last_name: str
    email: str
    phone_number: str = ""


@dataclass(frozen=True)
class BeneficiaireEntry:
    """"Le bénéficiaire": for whom. First and last names required; a phone, when given, is a mobile."""

    first_name: str
    last_name: str
    phone_number: str = ""
    email: str = ""
    address: str = ""  # required for a motif at home
    ants_pre_demande_number: str = ""  # required for a motif of an ANTS category


@dataclass(frozen=True)
class BeneficiaireNeeds:
    """What the bénéficiaire form requires for the motif."""

    phone: bool  # a motif by phone
    address: bool  # a motif at home
    ants_number: bool  # a motif of an ANTS category (integrations.md 1d)


@dataclass(frozen=True)
class CleanPrescripteur:
    first_name: str
    last_name: str
    email: str
    phone_number: str | None


@dataclass(frozen=True)
class CleanBeneficiaire:
    first_name: str
    last_name: str
    phone_number: str | None  # as typed
    phone_e164: str | None
    email: str | None
    address: str | None
    ants_pre_demande_number: str | None = None  # upper-cased; None for a motif of no ANTS category


@dataclass(frozen=True)
class PrescripteurRecap:
    motif_name: str
    service_name: str
    organisation_name: str
    place: str  # the lieu's name and address, or how the RDV takes place
    when: str  # "lundi 7 décembre 2026 à 09h00", in the organisation's time zone
    instruction: str | None
    organisation_contact: tuple[str, ...]
    time_zone: str


@boundary
def structures_scope(uow: UnitOfWork, scope: PublicScope,
                     external_ids: list[str]) -> tuple[PublicScope, list[public_search.OrganisationInfo]]:
    """The search narrowed to the structures a partner's link names by their external ids (the Rés'In
    network's `/resin/<ids>`, integrations.md section 2): their organisations in the territory, found by
    name. Ids we do not know are left out; NotFound (UNKNOWN_STRUCTURES) when the link names none we know,
    rather than a search of somewhere else."""
    known = public_search.structures(uow, scope.territory_id, external_ids)
    if not known:
        raise NotFound(UNKNOWN_STRUCTURES)
    return dataclasses.replace(scope, organisation_ids=tuple(o.id for o in known)), known


def not_offered_by_structures(motif_key: str, structures: int) -> str:
    """Why a partner's link offers nothing: its structures do not (or no longer) open its motif to
    prescripteurs."""
    name = motif_key.partition(":")[2] or motif_key
    if structures > 1:
        return (f"Ces structures ne proposent pas de rendez-vous « {name} » aux prescripteurs pour le moment. "
                "Contactez-les directement.")
    return (f"Cette structure ne propose pas de rendez-vous « {name} » aux prescripteurs pour le moment. "
            "Contactez-la directement.")


@boundary
def motifs(uow: UnitOfWork, scope: PublicScope, now: datetime | None = None) -> list[MotifChoice]:
    """Every motif open to prescripteurs in the scope, one choice per name and location type."""
    grouped: dict[str, list[Motif]] = {}
    for motif in public_search.open_motifs(uow, scope, now):
        grouped.setdefault(public_search.motif_key(motif), []).append(motif)
    choices = [public_search.choice_of(key, found) for key, found in grouped.items()]
    return sorted(choices, key=lambda c: (c.name.casefold(), c.location_type))


@boundary
def motif_choice(uow: UnitOfWork, scope: PublicScope, motif_key: str, now: datetime | None = None) -> MotifChoice:
    found = [m for m in public_search.open_motifs(uow, scope, now) if public_search.motif_key(m) == motif_key]
    if not found:
        raise NotFound(GONE)
    return public_search.choice_of(motif_key, found)


def open_motif(uow: UnitOfWork, motif_id: int, *, collectif: bool | None = False) -> Motif:
    """One motif open to prescripteurs: individual (the default), collective, or either (None); NotFound
    otherwise."""
    query = select(Motif).where(Motif.id == motif_id, col(Motif.bookable_by).in_(PRESCRIPTION_BOOKABLE),
                                col(Motif.deleted_at).is_(None))
    if collectif is not None:
        query = query.where(col(Motif.collectif).is_(collectif))
    motif = uow.session.exec(query).first()
    if motif is None:
        raise NotFound(GONE)
    return motif


@boundary
def is_collectif(uow: UnitOfWork, motif_id: int) -> bool:
    """Whether the motif open to prescripteurs is booked by sessions rather than slots."""
    return open_motif(uow, motif_id, collectif=None).collectif


@boundary
def open_sessions(uow: UnitOfWork, motif_id: int, lieu_id: int | None, now: datetime | None = None,
                  sector: SectorAddress | None = None) -> list[sessions.OpenSession]:
    """A collective motif's sessions at the lieu that still have a seat, inside the booking delays; with the
    bénéficiaire's address, those of a motif sectorised by agent that its sectors' agents lead."""
    motif = open_motif(uow, motif_id, collectif=True)
    checked_lieu(uow, motif, lieu_id)
    return sessions.open_sessions(uow, motif_id, lieu_id, now=now, sector=sector)


def checked_lieu(uow: UnitOfWork, motif: Motif, lieu_id: int | None) -> Lieu | None:
    if motif.location_type != LocationType.PUBLIC_OFFICE.value:
        return None
    lieu = uow.session.get(Lieu, lieu_id) if lieu_id is not None else None
    if lieu is None or lieu.organisation_id != motif.organisation_id \
            or lieu.availability != LieuAvailability.ENABLED.value:
        raise NotFound("Ce lieu ne propose plus ce motif. Choisissez un autre lieu.")
    return lieu


@boundary
def week(uow: UnitOfWork, motif_id: int, lieu_id: int | None, from_day: date | None = None,
         now: datetime | None = None, sector: SectorAddress | None = None) -> PublicWeek:
    """Seven days of slots of one organisation's motif, with the prescripteurs' booking delays; with the
    bénéficiaire's address, a motif sectorised by agent offers only the plages of its sectors' agents."""
    motif = open_motif(uow, motif_id)
    checked_lieu(uow, motif, lieu_id)
    context = motif_context(uow, motif_id, motif.organisation_id)
    return public_search.motif_week(uow, context, lieu_id, from_day, now, Searcher.PRESCRIPTEUR,
                                    agent_ids=public_search.sector_agents(uow, context, sector))


@boundary
def recap(uow: UnitOfWork, motif_id: int, lieu_id: int | None, starts_at: datetime) -> PrescripteurRecap:
    """What "Confirmer le RDV" will book, and the confirmation's contact details."""
    motif = open_motif(uow, motif_id)
    return _recap(uow, motif, checked_lieu(uow, motif, lieu_id), starts_at)


@boundary
def session_recap(uow: UnitOfWork, motif_id: int, rdv_id: int, now: datetime | None = None,
                  sector: SectorAddress | None = None) -> PrescripteurRecap:
    """What "Confirmer le RDV" will book for a seat of a session; NotFound (SESSION_GONE) when the session
    is full, cancelled or out of the booking delays."""
    motif = open_motif(uow, motif_id, collectif=True)
    session = sessions.open_session(uow, motif_id, rdv_id, now=now, sector=sector)
    if session is None:
        raise NotFound(SESSION_GONE)
    lieu = uow.session.get(Lieu, session.lieu_id) if session.lieu_id is not None else None
    return dataclasses.replace(_recap(uow, motif, lieu, session.starts_at), motif_name=session.name)


def _recap(uow: UnitOfWork, motif: Motif, lieu: Lieu | None, starts_at: datetime) -> PrescripteurRecap:
    organisation = uow.session.get(Organisation, motif.organisation_id)
    service = uow.session.get(Service, motif.service_id)
    if organisation is None or service is None:
        raise NotFound(GONE)
    place = f"{lieu.name}, {lieu.address}" if lieu else LOCATION_TYPE_LABELS[LocationType(motif.location_type)]
    phone = (lieu.phone_number if lieu else None) or organisation.phone_number
    return PrescripteurRecap(
        motif_name=motif.name, service_name=service.name, organisation_name=organisation.name, place=place,
        when=datefmt.long_datetime(starts_at, organisation.time_zone),
        instruction=(motif.instruction_for_rdv or "").strip() or None,
        organisation_contact=tuple(p for p in (organisation.name, phone, organisation.email) if p),
        time_zone=organisation.time_zone)


@boundary
def requirements(uow: UnitOfWork, motif_id: int) -> BeneficiaireNeeds:
    """What the bénéficiaire form requires: a phone for a motif by phone, an address for one at home, the
    pre-demande number for one of an ANTS category."""
    motif = open_motif(uow, motif_id, collectif=None)
    return BeneficiaireNeeds(phone=motif.location_type == LocationType.PHONE.value,
                             address=motif.location_type == LocationType.HOME.value,
                             ants_number=ants_service.motif_needs_number(uow, motif_id))


@boundary
def check_prescripteur(prescripteur: PrescripteurEntry) -> CleanPrescripteur:
    """The prescripteur's details cleaned; DomainError naming the field to fix."""
    try:
        first = usager_record.clean_name(prescripteur.first_name, "first_name", "prénom")
        last = usager_record.clean_name(prescripteur.last_name, "last_name", "nom")
        email = usager_record.clean_email(prescripteur.email)
        if email is None:
            raise usager_record.FieldRefused("L'adresse email est obligatoire : vous y recevrez la confirmation.",
                                             "email")
        phone = usager_record.parse_phone(prescripteur.phone_number)
    except usager_record.FieldRefused as refused:
        raise DomainError(refused.message, refused.field) from None
    return CleanPrescripteur(first, last, email, phone.typed if phone else None)


@boundary
def check_beneficiaire(uow: UnitOfWork, motif_id: int, beneficiaire: BeneficiaireEntry) -> CleanBeneficiaire:
    """The bénéficiaire's details cleaned (the phone read in the motif's territory first); DomainError
    naming the field to fix. A phone motif needs the phone the agent will call; a motif of an ANTS category
    the pre-demande number, in its format (ANTS's word on it is asked before, by `ants.check_number`)."""
    motif = open_motif(uow, motif_id, collectif=None)
    try:
        first = usager_record.clean_name(beneficiaire.first_name, "first_name", "prénom")
        last = usager_record.clean_name(beneficiaire.last_name, "last_name", "nom")
        phone = usager_record.parse_phone(beneficiaire.phone_number,
                                          territory_phone_region(uow, motif.organisation_id))
        email = usager_record.clean_email(beneficiaire.email)
        address = usager_record.clean_text(beneficiaire.address)
    except usager_record.FieldRefused as refused:
        raise DomainError(refused.message, refused.field) from None
    if phone is not None and not phone.mobile:
        raise DomainError(NOT_MOBILE, "phone_number")
    if phone is None and motif.location_type == LocationType.PHONE.value:
        raise DomainError("Indiquez le numéro de téléphone du bénéficiaire : l'agent l'appellera à ce numéro.",
                          "phone_number")
    if address is None and motif.location_type == LocationType.HOME.value:
        raise DomainError("Indiquez l'adresse du bénéficiaire : l'agent se déplace à son domicile.", "address")
    number = ants_service.required_number(uow, motif_id, beneficiaire.ants_pre_demande_number)
    return CleanBeneficiaire(first, last, phone.typed if phone else None, phone.e164 if phone else None, email,
                             address, number)
