"""The RDV lifecycle: one function per transition, used by every channel (domain.md sections 1, 3.1, 8).

| transition                              | who                | channels                                   |
|-----------------------------------------|--------------------|--------------------------------------------|
| `book_rdv`                              | an usager          | public booking                             |
| `prescribe_rdv`                         | an agent, for an usager of the territory | "Élargir la recherche" |
| `book_by_prescripteur`                  | an external prescripteur, for a bénéficiaire | "Je suis un prescripteur" |
| `book_seat`, `prescribe_seat`, `book_seat_by_prescripteur` | the same three, a seat of a collective session | |
| `plan_rdv`                              | an agent           | "Planifier un RDV"                         |
| `update_rdv` (move: time, lieu, agents) | an agent           | the RDV page                               |
| `change_status`, `change_participation_status`, `cancel_rdv` | an agent | the RDV page             |
| `cancel_by_usager`                      | an usager (parent) | the SMS link, "Mes rendez-vous"            |
| `move_by_usager` ("Changer la date")    | an usager (parent) | the SMS link, "Mes rendez-vous"            |
| `change_participant_by_usager`          | an usager (parent) | "Mes rendez-vous"                          |
| `delete_rdv`                            | an admin           | the RDV page                               |

Every transition ends in `_record`: the audit row and the domain event `RdvChanged` in the change's
transaction. The handlers registered for that event (rdv_app.wiring: notifications to the outbox,
webhooks, and any later reaction) run when the unit of work commits; a transition never calls them.

Rights (domain.md section 8, "RDV scope"): an agent acts on an RDV of an organisation where they hold a
role when they are on it, when its motif belongs to one of their services, or when they are an admin or
a secrétaire. Another organisation's RDV is NotFound, one outside the agent's scope PermissionDenied;
the motif, lieu, agents and usagers of a new RDV are checked the same way. Nothing is written before
every check has passed.

Planning and moving raise `NeedsConfirmation` for benign warnings (an agent busy elsewhere or absent, no
plage d'ouverture of the agents for the motif, a start in the past, the same usager with the same motif
that day); the agent confirms by calling again with `confirm_warnings=True`. An exact duplicate (same
organisation, lieu, start, end, motif and usagers, not cancelled) is refused outright.

Online booking (`book_rdv`), the model use case:
1. **Lock.** On SQLite the transaction starts `BEGIN IMMEDIATE` (the database's single writer lock, taken
   before anything is read); on PostgreSQL the agents who have plages for the motif (at the lieu) are
   locked with `SELECT ... FOR UPDATE`, in id order so that two bookings never wait on each other in a
   cycle. Two confirmations that could take the same agent's time therefore run one after the other,
   and the second reads what the first committed.
2. **Idempotency.** The client generates a booking key once per confirmation screen; a double click or a
   resubmitted form sends the same key. After the lock the RDV already booked with this key (for this
   usager) is returned as it is: one RDV, one set of notifications. A unique index on the key's hash is
   the last line if two transactions with the same key ever got past the lock together.
3. **Final check.** The slot engine's `validate_slot` runs on inputs loaded inside the lock, with the
   motif's booking delays; a slot gone in the meantime raises `SlotTaken` ("Ce créneau n'est plus
   disponible"), and the page goes back to the slot choice. Among several agents free at that time, the
   plage created first wins (the engine's rule).
4. **Writes.** The RDV (`created_by_type` usager), its agent, the participation, the organisation
   profile, the audit row and the event, committed together.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from limits import parse
from sqlmodel import col, select

from rdv_app import metrics
from rdv_app.auth import rate_limit
from rdv_app.auth.tokens import hash_token
from rdv_app.db.engine import begin_write
from rdv_app.db.models import (
    Agent,
    Lieu,
    Motif,
    OutboxMessage,
    Participation,
    PlageOuverture,
    PlageOuvertureMotif,
    Prescripteur,
    Rdv,
    RdvAgent,
    Usager,
    UsagerProfile,
)
from rdv_app.db.rows import not_null, require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, collectifs, rdv_status
from rdv_app.domain.booking_rules import (
    AGENT_POLICY,
    USAGER_POLICY,
    InsideOpening,
    NoAbsenceOverlap,
    NoRdvOverlap,
    NotInThePast,
    Proposal,
    SameMotifSameDay,
)
from rdv_app.domain.enums import (
    CANCELLED_STATUSES,
    AccessLevel,
    AuthorType,
    CreatedThrough,
    LieuAvailability,
    LocationType,
    NotificationEvent,
    RdvStatus,
    VisibilityType,
    WebhookSubscription,
)
from rdv_app.domain.events import Actor, Change, RdvChanged, RecordChanged
from rdv_app.domain.names import usager_name
from rdv_app.domain.rdv_move import edit_rule, refusal_message
from rdv_app.domain.sectorisation import SectorAddress
from rdv_app.domain.slots import Searcher, SlotSearch, conflicts, validate_slot
from rdv_app.domain.usager_link import CancelRefusal, cancel_rule
from rdv_app.services import audit, versions
from rdv_app.services.availability.slot_inputs import for_documents, load_search, motif_context
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError, NeedsConfirmation, NotFound, PermissionDenied
from rdv_app.services.integrations import ants as ants_service
from rdv_app.services.online_booking import public_prescripteur
from rdv_app.services.online_booking.booking import is_public_collectif, is_public_motif
from rdv_app.services.online_booking.public_prescripteur import (
    BeneficiaireEntry,
    CleanBeneficiaire,
    PrescripteurEntry,
)
from rdv_app.services.organisation import local_time, sectors
from rdv_app.services.organisation.admin_lieux import (
    SingleUseLieu,
    add_single_use_lieu,
    checked_single_use_lieu,
)
from rdv_app.services.rdv.queries import (
    agent_ids_of,
    agent_names,
    page_values,
    usager_names,
    visible_in_scope,
)
from rdv_app.services.rights import (
    AgentScope,
    agent_scope,
    prescribable_motif,
    prescription_usager,
    territory_of,
    visible_agent_ids,
)
from rdv_app.services.usagers import usagers as usagers_service

MAX_DURATION_IN_MIN = 24 * 60
SLOT_TAKEN = "Ce créneau n'est plus disponible. Choisissez un autre horaire."
# The usager takes again a seat they (or the relative chosen) already hold: nothing changes, nobody is told
# again (RDV-SP: "Vous êtes déjà inscrit pour cet atelier").
ALREADY_REGISTERED = "Déjà inscrit à cet atelier : l'inscription est inchangée, aucune nouvelle confirmation n'est envoyée."
SERVICE_BUSY = ("Le service est momentanément indisponible : votre rendez-vous n'a pas été enregistré. "
                "Réessayez dans un instant.")
SLOT_NOT_OFFERED = "Ce créneau n'est pas proposé à la réservation en ligne. Choisissez un horaire parmi ceux affichés."
NOT_IN_SECTOR = ("Ce motif n'est pas proposé à cette adresse : aucun des secteurs qui la couvrent n'est attribué à "
                 "cette organisation. Choisissez un autre motif.")
# More online bookings than this in a day is not a person booking for their family.
BOOKINGS_PER_USAGER = parse("10/day")
TOO_MANY_BOOKINGS = ("Vous avez déjà pris beaucoup de rendez-vous aujourd'hui. Pour un autre rendez-vous, "
                     "contactez directement l'organisation.")
# An office books for many people, but not the whole agenda: more than this from one address is a robot.
BOOKINGS_PER_PRESCRIPTEUR_ADDRESS = parse("30/day")
TOO_MANY_PRESCRIPTIONS = ("Beaucoup de rendez-vous ont déjà été pris depuis votre connexion aujourd'hui. Pour un "
                          "autre rendez-vous, contactez directement l'organisation.")
MAX_BOOKING_KEY_LENGTH = 100
_CANCELLED = [s.value for s in CANCELLED_STATUSES]
_ENTITY = "rdv"
_USAGER_REFUSALS = {
    CancelRefusal.ALREADY_CANCELLED: "Ce rendez-vous est déjà annulé.",
    CancelRefusal.PAST: "Ce rendez-vous est passé : il ne peut plus être annulé.",
    CancelRefusal.TOO_LATE: "Ce rendez-vous a lieu dans moins de 4 heures : il ne peut plus être annulé en "
                            "ligne. Contactez directement le service.",
    CancelRefusal.MOTIF: "Ce rendez-vous ne peut pas être annulé en ligne. Contactez directement le service.",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class RdvChange(RdvChanged):
    """A committed change: its event, and the SMS and emails queued for it, to deliver right after."""

    outbox_ids: tuple[int, ...] = ()


class SlotTaken(DomainError):
    """The slot cannot be booked: taken by someone else since it was shown (SLOT_TAKEN), or never offered
    (SLOT_NOT_OFFERED, with the usager policy's reason): choose another one."""

    def __init__(self, message: str = SLOT_TAKEN, reason: str | None = None) -> None:
        super().__init__(message, "slot")
        self.reason = reason


@dataclass(frozen=True)
class Booked:
    rdv_id: int
    uuid: str
    created: bool  # False: this booking key had already booked the RDV (double click, resubmission)
    outbox_ids: tuple[int, ...] = ()  # messages to deliver right after the commit


@dataclass(frozen=True)
class _Planned:
    """An RDV as it would be saved, for the checks shared by planning and moving."""

    organisation_id: int
    time_zone: str
    motif: Motif
    starts_at: datetime
    ends_at: datetime
    lieu_id: int | None
    agents: dict[int, str]  # id -> name, in the chosen order
    usagers: dict[int, str]
    exclude_rdv_id: int | None = None


# --------------------------------------------------------------------------- booking (usagers)


@boundary
def book_rdv(uow: UnitOfWork, usager_id: int, *, motif_id: int, starts_at: datetime, lieu_id: int | None,
             booking_key: str, for_usager_id: int | None = None, accepted_conditions: bool = False,
             now: datetime | None = None, sector: SectorAddress | None = None, documents_number: int = 1) -> Booked:
    """Books the slot starting at `starts_at` for the signed-in usager (or one of their relatives) and
    commits. Raises SlotTaken when the slot is gone, DomainError for anything the person must fix. With
    the usager's address (`sector`), a motif sectorised by agent is booked with the sector's agents only.

    When the database refuses the transaction (SQLite's lock held past its timeout, PostgreSQL restarting
    or a connection cut), nothing was written: the booking is tried once more, safely since the same key
    finds an RDV the first try may have committed; a second refusal says so in French.

    `documents_number`: the ANTS titles booked at once (from the hub's link): for a motif of an ANTS
    category, the RDV lasts the motif's duration times that number (`slot_inputs.for_documents`)."""
    return _counted(uow, lambda: _book(uow, usager_id, motif_id=motif_id, starts_at=starts_at, lieu_id=lieu_id,
                                       booking_key=booking_key, for_usager_id=for_usager_id,
                                       accepted_conditions=accepted_conditions, now=now, sector=sector,
                                       documents_number=documents_number))


@boundary
def prescribe_rdv(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, *, usager_id: int, motif_id: int,
                  starts_at: datetime, lieu_id: int | None, booking_key: str,
                  now: datetime | None = None, by_address: bool = False, ants_pre_demande_number: str = "") -> Booked:
    """An agent of `organisation_id` books, for an usager of the territory, a slot of a motif open to
    prescripteurs in any organisation of the territory (admin-domain.md section 10): the same path as an
    usager's booking (lock, booking key, final check with the booking delays, the plage created first
    wins), with the prescribing agent as author. The RDV belongs to the motif's organisation, where the
    usager gains a profile; the agent gains no right on it. `by_address`: the slot was searched for the
    usager's address (rdv_app.services.online_booking.prescription), which the final check keeps to. A motif
    of an ANTS category needs the usager's pre-demande number (`ants_pre_demande_number`, its status asked
    to ANTS before by `ants.check_number`), stored on them."""
    return _counted(uow, lambda: _prescribe(uow, actor_agent_id, organisation_id, usager_id=usager_id,
                                            motif_id=motif_id, starts_at=starts_at, lieu_id=lieu_id,
                                            booking_key=booking_key, now=now, by_address=by_address,
                                            ants_number=ants_pre_demande_number))


@boundary
def book_by_prescripteur(uow: UnitOfWork, *, motif_id: int, starts_at: datetime, lieu_id: int | None,
                         booking_key: str, prescripteur: PrescripteurEntry, beneficiaire: BeneficiaireEntry,
                         ip: str, now: datetime | None = None, sector: SectorAddress | None = None) -> Booked:
    """An external prescripteur ("Je suis un prescripteur", domain.md section 6.4) books, without an
    account, a slot of a motif open to prescripteurs for a bénéficiaire: the usagers' path (lock, booking
    key, final check with the prescripteurs' booking delays, the plage created first wins), then in the
    same transaction the Prescripteur row, the bénéficiaire found (same names and mobile, or same names and
    email) or created, their profile in the motif's organisation, the RDV and its participation authored
    by the prescripteur. The bénéficiaire hears of it as of any RDV; the prescripteur gets "RDV confirmé"
    (rdv_app.notify.prescription). Without an account, bookings are counted by the client's address `ip`.
    With the bénéficiaire's address (`sector`, a sectorised territory), the sectors decide as for usagers."""
    return _counted(uow, lambda: _book_by_prescripteur(
        uow, motif_id=motif_id, starts_at=starts_at, lieu_id=lieu_id, booking_key=booking_key,
        prescripteur=prescripteur, beneficiaire=beneficiaire, ip=ip, now=now, sector=sector))


def _counted(uow: UnitOfWork, attempt: Callable[[], Booked]) -> Booked:
    try:
        booked = _once_more_if_refused(uow, attempt)
    except SlotTaken:
        metrics.BOOKINGS.labels(result=metrics.SLOT_TAKEN).inc()
        raise
    except DomainError:
        metrics.BOOKINGS.labels(result=metrics.REFUSED).inc()
        raise
    except Exception:
        metrics.BOOKINGS.labels(result=metrics.ERROR).inc()
        raise
    metrics.BOOKINGS.labels(result=metrics.BOOKED).inc()
    return booked


_T = TypeVar("_T")


def _once_more_if_refused(uow: UnitOfWork, attempt: Callable[[], _T]) -> _T:
    try:
        return attempt()
    except sa.exc.OperationalError:
        uow.rollback()
    try:
        return attempt()
    except sa.exc.OperationalError:
        uow.rollback()
        raise DomainError(SERVICE_BUSY) from None


def _key_hash(booker: str, booking_key: str) -> str:
    key = (booking_key or "").strip()
    if not key or len(key) > MAX_BOOKING_KEY_LENGTH:
        raise DomainError("La demande de réservation est incomplète. Rechargez la page et réessayez.")
    return hash_token(f"{booker}:{key}")


def _book(uow: UnitOfWork, usager_id: int, *, motif_id: int, starts_at: datetime, lieu_id: int | None,
          booking_key: str, for_usager_id: int | None, accepted_conditions: bool, now: datetime | None,
          sector: SectorAddress | None = None, documents_number: int = 1) -> Booked:
    now = now or clock.now()
    key_hash = _key_hash(str(usager_id), booking_key)
    limit_key = f"booking:usager:{usager_id}"
    begin_write(uow.session)

    holder = _usager(uow, usager_id)
    motif = uow.session.get(Motif, motif_id)
    if motif is None or not is_public_motif(motif):
        raise NotFound("Ce motif n'est pas ouvert à la réservation en ligne.")
    lieu_id = _checked_lieu(uow, motif, lieu_id)
    _lock_agents(uow, motif_id, lieu_id)
    existing = _booked_with_key(uow, key_hash)
    if existing is not None:
        return existing
    if rate_limit.is_blocked(BOOKINGS_PER_USAGER, limit_key):
        raise DomainError(TOO_MANY_BOOKINGS)

    participant = holder if for_usager_id in (None, usager_id) else _relative(uow, holder, for_usager_id)
    _check_informations(motif, holder, participant)
    if (motif.restriction_for_rdv or "").strip() and not accepted_conditions:
        raise DomainError("Veuillez lire et accepter les conditions de ce rendez-vous.", "accepted_conditions")
    booked = _take_slot(uow, motif, lieu_id, starts_at, key_hash, now, searcher=Searcher.USAGER,
                        participant=participant, profiles=[holder, participant], actor=Actor.usager(usager_id),
                        author=dict(created_by_type=AuthorType.USAGER.value, created_by_usager_id=usager_id),
                        participation_author=dict(created_by_type=AuthorType.USAGER.value), sector=sector,
                        documents_number=documents_number)
    rate_limit.record(BOOKINGS_PER_USAGER, limit_key)
    return booked


def _prescribe(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, *, usager_id: int, motif_id: int,
               starts_at: datetime, lieu_id: int | None, booking_key: str, now: datetime | None,
               by_address: bool = False, ants_number: str = "") -> Booked:
    now = now or clock.now()
    # The key is the agent's: the same confirmation screen sent twice finds its RDV, whoever it was for.
    key_hash = _key_hash(f"agent:{actor_agent_id}", booking_key)
    begin_write(uow.session)

    scope = agent_scope(uow, actor_agent_id, organisation_id)
    motif = prescribable_motif(uow, scope, motif_id)
    participant = prescription_usager(uow, scope, usager_id)
    lieu_id = _checked_lieu(uow, motif, lieu_id)
    _lock_agents(uow, motif_id, lieu_id)
    existing = _booked_with_key(uow, key_hash)
    if existing is not None:
        return existing
    _check_informations(motif, participant, participant)
    ants_service.keep_number(uow, participant, ants_service.required_number(uow, motif_id, ants_number), now)
    author = dict(created_by_type=AuthorType.AGENT.value, created_by_agent_id=actor_agent_id)
    sector = sectors.usager_address(uow, territory_of(uow, organisation_id), participant) if by_address else None
    return _take_slot(uow, motif, lieu_id, starts_at, key_hash, now, searcher=Searcher.PRESCRIPTEUR,
                      participant=participant, profiles=[participant], actor=Actor.agent(actor_agent_id),
                      author=author, participation_author=dict(author, created_by_agent_prescripteur=True),
                      sector=sector)


def _book_by_prescripteur(uow: UnitOfWork, *, motif_id: int, starts_at: datetime, lieu_id: int | None,
                          booking_key: str, prescripteur: PrescripteurEntry, beneficiaire: BeneficiaireEntry,
                          ip: str, now: datetime | None, sector: SectorAddress | None) -> Booked:
    now = now or clock.now()
    limit_key = f"booking:prescripteur:{ip}"
    # No account: the key alone names the confirmation screen (random, generated once per screen).
    key_hash = _key_hash("prescripteur", booking_key)
    who = public_prescripteur.check_prescripteur(prescripteur)
    begin_write(uow.session)

    motif = public_prescripteur.open_motif(uow, motif_id)
    person = public_prescripteur.check_beneficiaire(uow, motif_id, beneficiaire)
    lieu_id = _checked_lieu(uow, motif, lieu_id)
    _lock_agents(uow, motif_id, lieu_id)
    existing = _booked_with_key(uow, key_hash)
    if existing is not None:
        return existing
    if rate_limit.is_blocked(BOOKINGS_PER_PRESCRIPTEUR_ADDRESS, limit_key):
        raise DomainError(TOO_MANY_PRESCRIPTIONS)
    row = Prescripteur(first_name=who.first_name, last_name=who.last_name, email=who.email,
                       phone_number=who.phone_number, created_at=now)
    uow.session.add(row)
    participant = _beneficiaire(uow, motif.organisation_id, person, now)
    _check_informations(motif, participant, participant)
    uow.session.flush()
    prescripteur_id = require_id(row)
    booked = _take_slot(uow, motif, lieu_id, starts_at, key_hash, now, searcher=Searcher.PRESCRIPTEUR,
                        participant=participant, profiles=[participant], actor=Actor(AuthorType.PRESCRIPTEUR),
                        author=dict(created_by_type=AuthorType.PRESCRIPTEUR.value,
                                    created_by_prescripteur_id=prescripteur_id),
                        participation_author=dict(created_by_type=AuthorType.PRESCRIPTEUR.value,
                                                  prescripteur_id=prescripteur_id), sector=sector)
    rate_limit.record(BOOKINGS_PER_PRESCRIPTEUR_ADDRESS, limit_key)
    return booked


def _beneficiaire(uow: UnitOfWork, organisation_id: int, person: CleanBeneficiaire, now: datetime) -> Usager:
    """The usager the RDV is for: one followed by the motif's organisation with the same names and mobile,
    or anyone with the same names and email; else a new usager (created through a prescripteur, without
    any confirmation email). An email already used by someone else is refused: it names another person.
    The pre-demande number of an ANTS motif is stored on them."""
    same_names = sa.and_(sa.func.lower(Usager.first_name) == person.first_name.lower(),
                         sa.func.lower(Usager.last_name) == person.last_name.lower(),
                         col(Usager.deleted_at).is_(None))
    if person.email is not None:
        owner = uow.session.exec(select(Usager).where(Usager.email == person.email)).first()
        if owner is not None:
            if owner.deleted_at is None and owner.first_name.lower() == person.first_name.lower() \
                    and owner.last_name.lower() == person.last_name.lower():
                ants_service.keep_number(uow, owner, person.ants_pre_demande_number, now)
                return owner
            raise DomainError("Cette adresse email est celle d'une autre personne : vérifiez-la ou laissez ce "
                              "champ vide.", "email")
    if person.phone_e164 is not None:
        followed = select(UsagerProfile.usager_id).where(UsagerProfile.organisation_id == organisation_id)
        found = uow.session.exec(select(Usager).where(
            same_names, Usager.phone_number_formatted == person.phone_e164, col(Usager.id).in_(followed))
            .order_by(col(Usager.id))).first()
        if found is not None:
            ants_service.keep_number(uow, found, person.ants_pre_demande_number, now)
            return found
    usager = Usager(first_name=person.first_name, last_name=person.last_name, email=person.email,
                    phone_number=person.phone_number, phone_number_formatted=person.phone_e164,
                    address=person.address, ants_pre_demande_number=person.ants_pre_demande_number,
                    created_through=CreatedThrough.PRESCRIPTEUR.value)
    uow.session.add(usager)
    uow.session.flush()
    uow.record(RecordChanged(model=WebhookSubscription.USER, record_id=require_id(usager), change=Change.CREATED,
                             occurred_at=now))
    return usager


def _take_slot(uow: UnitOfWork, motif: Motif, lieu_id: int | None, starts_at: datetime, key_hash: str,
               now: datetime, *, searcher: Searcher, participant: Usager, profiles: list[Usager], actor: Actor,
               author: dict[str, Any], participation_author: dict[str, Any],
               sector: SectorAddress | None = None, documents_number: int = 1) -> Booked:
    """The steps every online booking shares, once the agents are locked and the key is new: the final
    check with the slot engine on data read inside the lock (with the agents of the usager's sectors only,
    for a motif sectorised by agent), then the writes and the event."""
    motif_id = require_id(motif)
    context = for_documents(uow, motif_context(uow, motif_id, motif.organisation_id), documents_number)
    day = starts_at.astimezone(context.time_zone).date()
    agent_ids = None
    if sector is not None:
        covered = sectors.address_coverage(uow, context.organisation.territory_id, sector)
        if not covered.offers(motif.sectorisation_level, motif.organisation_id):
            raise NotFound(NOT_IN_SECTOR)
        agent_ids = covered.agents_for(motif.sectorisation_level, motif.organisation_id)
    search = load_search(uow, context, day, day, searcher=searcher, now=now, lieu_id=lieu_id, agent_ids=agent_ids)
    slot = validate_slot(search, starts_at, lieu_id=lieu_id)
    if slot is None:
        raise _refusal(search, motif, starts_at, lieu_id, now)

    rdv = Rdv(organisation_id=motif.organisation_id, motif_id=motif_id, lieu_id=lieu_id,
              starts_at=slot.starts_at, ends_at=slot.ends_at, status=RdvStatus.UNKNOWN.value, users_count=1,
              booking_key_hash=key_hash, created_at=now, updated_at=now, **author)
    uow.session.add(rdv)
    try:
        uow.session.flush()
    except sa.exc.IntegrityError:
        # Another transaction with the same key got past the lock (different agents locked): it won.
        uow.rollback()
        found = _booked_with_key(uow, key_hash)
        if found is None:
            raise
        return found
    rdv_id: int = require_id(rdv)
    notify = motif.visibility_type == VisibilityType.VISIBLE_AND_NOTIFIED.value
    uow.session.add(RdvAgent(rdv_id=rdv_id, agent_id=slot.agent_id, slot_starts_at=slot.starts_at,
                             slot_ends_at=slot.ends_at))
    try:
        uow.session.flush()
    except sa.exc.IntegrityError:
        # PostgreSQL's exclusion constraint: another online booking of this agent's time got past the
        # lock (it cannot while every path takes it; this is the last line of defence).
        uow.rollback()
        raise SlotTaken() from None
    uow.session.add(Participation(rdv_id=rdv_id, usager_id=require_id(participant), status=RdvStatus.UNKNOWN.value,
                                  send_lifecycle_notifications=notify, send_reminder_notification=notify,
                                  **participation_author))
    usagers_service.add_to_organisation(uow, motif.organisation_id, profiles, actor, now=now)
    change = _record(uow, rdv, RdvChanged(
        rdv_id=rdv_id, organisation_id=motif.organisation_id, change=Change.CREATED, action="created",
        actor=actor, occurred_at=now, version=rdv.ics_sequence, event=NotificationEvent.RDV_CREATED,
        status=RdvStatus.UNKNOWN, starts_at=slot.starts_at, old_starts_at=None, time_or_lieu_changed=False,
        old_agent_ids=(), new_agent_ids=(slot.agent_id,), usager_ids=(require_id(participant),),
        changes=audit.diff({}, {"motif_id": motif_id, "lieu_id": lieu_id, "starts_at": slot.starts_at,
                                "ends_at": slot.ends_at, "agent_ids": [slot.agent_id],
                                "usager_ids": [participant.id]})))
    return Booked(rdv_id=rdv_id, uuid=rdv.uuid, created=True, outbox_ids=change.outbox_ids)


# --------------------------------------------------------------------------- planning and moving (agents)


@boundary
def plan_rdv(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, *, motif_id: int, starts_at: datetime,
             duration_in_min: int, agent_ids: Sequence[int], lieu_id: int | None, usager_ids: Sequence[int],
             notify: Mapping[int, tuple[bool, bool]] | None = None, context: str | None = None,
             single_use_lieu: SingleUseLieu | None = None, confirm_warnings: bool = False,
             now: datetime | None = None) -> int:
    """Creates an individual RDV and returns its id; at `single_use_lieu`, a lieu ponctuel created with
    it, when it takes place at none of the organisation's lieux (then `lieu_id` is None).

    `notify` maps an usager id to (lifecycle notifications, reminder); usagers left out get the motif's
    default (on when the motif is visible and notified). Usagers of another organisation of the
    territory are added to this one.
    """
    now = now or clock.now()
    begin_write(uow.session)
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    motif = _usable_motif(uow, scope, motif_id)
    if motif.collectif:
        raise DomainError("Un RDV collectif se crée depuis la page des RDV collectifs.", "motif_id")
    ends_at = _ends_at(starts_at, duration_in_min)
    agents = _usable_agents(uow, scope, agent_ids)
    _lock_agent_rows(uow, agents)
    # A lieu ponctuel is written once every check has passed; until then the checks see no lieu.
    single_use = (checked_single_use_lieu(single_use_lieu) if single_use_lieu is not None and lieu_id is None
                  and motif.location_type == LocationType.PUBLIC_OFFICE else None)
    lieu_id = None if single_use else _usable_lieu(uow, organisation_id, motif, lieu_id)
    if not usager_ids:
        raise DomainError("Ajoutez au moins un usager.", "usager_ids")
    usagers = usagers_service.usagers_for_rdv(uow, organisation_id, usager_ids)
    ordered_usagers = {u: usager_name(usagers[u].first_name, usagers[u].last_name) for u in dict.fromkeys(usager_ids)}
    flags = _notification_flags(motif, ordered_usagers, notify)
    planned = _Planned(organisation_id, local_time.time_zone(uow, organisation_id), motif, starts_at, ends_at,
                       lieu_id, agents, ordered_usagers)
    _refuse_duplicate(uow, planned)
    if not confirm_warnings:
        _raise_warnings(uow, planned, now)
    if single_use is not None:
        lieu_id = add_single_use_lieu(uow, organisation_id, single_use)
        planned = dataclasses.replace(planned, lieu_id=lieu_id)

    rdv = Rdv(organisation_id=organisation_id, motif_id=require_id(motif), lieu_id=lieu_id,
              starts_at=starts_at, ends_at=ends_at, status=RdvStatus.UNKNOWN.value,
              context=(context or "").strip() or None, users_count=len(ordered_usagers),
              created_by_type=AuthorType.AGENT.value, created_by_agent_id=actor_agent_id,
              created_at=now, updated_at=now)
    uow.session.add(rdv)
    uow.session.flush()
    rdv_id: int = require_id(rdv)
    uow.session.add_all([RdvAgent(rdv_id=rdv_id, agent_id=agent_id) for agent_id in agents])
    uow.session.add_all([
        Participation(rdv_id=rdv_id, usager_id=usager_id, status=RdvStatus.UNKNOWN.value,
                      send_lifecycle_notifications=flags[usager_id][0],
                      send_reminder_notification=flags[usager_id][1],
                      created_by_type=AuthorType.AGENT.value, created_by_agent_id=actor_agent_id)
        for usager_id in ordered_usagers
    ])
    actor = Actor.agent(actor_agent_id)
    usagers_service.add_to_organisation(uow, organisation_id, list(usagers.values()), actor, now=now)
    _record(uow, rdv, RdvChanged(
        rdv_id=rdv_id, organisation_id=organisation_id, change=Change.CREATED, action="created", actor=actor,
        occurred_at=now, version=rdv.ics_sequence, event=NotificationEvent.RDV_CREATED,
        status=RdvStatus.UNKNOWN, starts_at=starts_at, old_starts_at=None, time_or_lieu_changed=False,
        old_agent_ids=(), new_agent_ids=tuple(agents), usager_ids=tuple(ordered_usagers),
        changes=audit.diff({}, _facts(planned))))
    return rdv_id


@dataclass(frozen=True)
class SessionSettings:
    """What an agent edits of a collective session besides its time, lieu and agents."""

    name: str | None
    max_participants_count: int | None  # None: unlimited


@boundary
def update_rdv(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, rdv_id: int, *, starts_at: datetime,
               duration_in_min: int, lieu_id: int | None, agent_ids: Sequence[int],
               session: SessionSettings | None = None, single_use_lieu: SingleUseLieu | None = None,
               confirm_warnings: bool = False, expected_version: str | None = None,
               now: datetime | None = None) -> RdvChange | None:
    """Moves an RDV: its time, duration, lieu and agents, and for a collective session its name and seats
    (`session`, never fewer than its participants); None when nothing changed. At `single_use_lieu` (with
    no `lieu_id`), a new lieu ponctuel is written for it once every check has passed, as in planning.

    Warnings are those of planning that the change can cause: the agents' time when the time or the
    agents change (a session needs no plage d'ouverture), the past when the start changes, the same motif
    that day when the day changes. Participants and agents hear of a new time or lieu (agents also of
    being added or taken off); any change of a session raises its calendar SEQUENCE, since its agents'
    calendars (the webcal feed) show its name and fill.
    """
    now = now or clock.now()
    begin_write(uow.session)
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    rdv, motif = visible_in_scope(uow, scope, rdv_id)
    if session is not None:
        rdv = _locked_session(uow, rdv_id)  # its participants counted after any seat taken meanwhile
    _check_version(uow, rdv, expected_version)
    settings = _session_settings(rdv, motif, session)
    ends_at = _ends_at(starts_at, duration_in_min)
    old_agents = agent_ids_of(uow, rdv_id)
    agents = _usable_agents(uow, scope, agent_ids, keep=old_agents)
    _lock_agent_rows(uow, set(agents) | set(old_agents))
    single_use = (checked_single_use_lieu(single_use_lieu) if single_use_lieu is not None and lieu_id is None
                  and motif.location_type == LocationType.PUBLIC_OFFICE else None)
    lieu_id = None if single_use else _usable_lieu(uow, organisation_id, motif, lieu_id, keep=rdv.lieu_id)
    participations = _participations(uow, rdv_id)
    names = usager_names(uow, [p.usager_id for p in participations])
    planned = _Planned(organisation_id, local_time.time_zone(uow, organisation_id), motif, starts_at, ends_at,
                       lieu_id, agents, {p.usager_id: names[p.usager_id] for p in participations},
                       exclude_rdv_id=rdv_id)
    before = _facts(_Planned(organisation_id, planned.time_zone, motif, rdv.starts_at, rdv.ends_at, rdv.lieu_id,
                             dict.fromkeys(old_agents, ""), planned.usagers))
    after = _facts(planned)
    if motif.collectif:
        before |= {"name": rdv.name, "max_participants_count": rdv.max_participants_count}
        after |= dataclasses.asdict(settings)
    changes = audit.diff(before, after)
    if not changes:
        return None
    time_changed = rdv.starts_at != starts_at or rdv.ends_at != ends_at
    if time_changed or rdv.lieu_id != lieu_id:
        _refuse_duplicate(uow, planned)
    if not confirm_warnings:
        rules: set[type] = set()
        if time_changed or set(old_agents) != set(agents):
            rules |= {NoRdvOverlap, NoAbsenceOverlap} | (set() if motif.collectif else {InsideOpening})
        if rdv.starts_at != starts_at:
            rules.add(NotInThePast)
        tz = ZoneInfo(planned.time_zone)
        if rdv.starts_at.astimezone(tz).date() != starts_at.astimezone(tz).date():
            rules.add(SameMotifSameDay)
        _raise_warnings(uow, planned, now, only=rules)

    if single_use is not None:
        lieu_id = add_single_use_lieu(uow, organisation_id, single_use)
        changes["lieu_id"] = [rdv.lieu_id, lieu_id]
    old_starts_at, old_lieu_id = rdv.starts_at, rdv.lieu_id
    if time_changed or rdv.lieu_id != lieu_id or motif.collectif:
        rdv.ics_sequence += 1  # calendars that hold the event must see a newer version
    rdv.starts_at, rdv.ends_at, rdv.lieu_id, rdv.updated_at = starts_at, ends_at, lieu_id, now
    rdv.name, rdv.max_participants_count = settings.name, settings.max_participants_count
    uow.session.add(rdv)
    for agent_id in set(old_agents) - set(agents):
        uow.session.delete(uow.session.get(RdvAgent, (rdv_id, agent_id)))
    uow.session.add_all([RdvAgent(rdv_id=rdv_id, agent_id=a) for a in agents if a not in old_agents])
    _release_online_slot(uow, rdv_id)  # moved by an agent: their decision, no longer an online booking's slot
    return _record(uow, rdv, RdvChanged(
        rdv_id=rdv_id, organisation_id=organisation_id, change=Change.UPDATED, action="updated",
        actor=Actor.agent(actor_agent_id), occurred_at=now, version=rdv.ics_sequence,
        event=NotificationEvent.RDV_UPDATED, status=RdvStatus(rdv.status), starts_at=starts_at,
        old_starts_at=old_starts_at, time_or_lieu_changed=old_starts_at != starts_at or old_lieu_id != lieu_id,
        old_agent_ids=tuple(old_agents), new_agent_ids=tuple(agents),
        usager_ids=tuple(p.usager_id for p in participations if p.status not in CANCELLED_STATUSES),
        changes=changes))


def _session_settings(rdv: Rdv, motif: Motif, session: SessionSettings | None) -> SessionSettings:
    """The session's name and seats after the edit (kept when not edited), checked: never fewer seats
    than participants. An individual RDV has neither."""
    if session is None:
        return SessionSettings(rdv.name, rdv.max_participants_count)
    if not motif.collectif:
        raise DomainError("Seul un RDV collectif a un nom et un nombre de places.")
    try:
        seats = collectifs.check_seats(session.max_participants_count)
    except collectifs.SessionError as error:
        raise DomainError(str(error), "max_participants_count") from None
    if seats is not None and seats < rdv.users_count:
        raise DomainError(collectifs.too_few_seats(rdv.users_count), "max_participants_count")
    return SessionSettings(collectifs.check_name(session.name), seats)


# --------------------------------------------------------------------------- statuses (agents)


@boundary
def change_status(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, rdv_id: int, status: str, *,
                  confirm_warnings: bool = False, expected_version: str | None = None,
                  now: datetime | None = None) -> RdvChange | None:
    """Sets the RDV's status; its participations follow (domain.md section 1). Returns the change to
    notify, if any: a cancellation, or a cancelled RDV set back to "à venir" (it counts as re-created).
    An RDV not begun yet said "honoré" or "absence non excusée" needs `confirm_warnings` (NeedsConfirmation)."""
    now = now or clock.now()
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    rdv, motif = visible_in_scope(uow, scope, rdv_id)
    _check_version(uow, rdv, expected_version)
    new = _parse_status(status)
    warning = rdv_status.future_status_warning(new, rdv.starts_at, now)
    if warning and not confirm_warnings:
        raise NeedsConfirmation([warning])
    participations = _participations(uow, rdv_id)
    try:
        outcome = rdv_status.change_rdv_status(
            current=RdvStatus(rdv.status), cancelled_at=rdv.cancelled_at, new=new,
            participations={p.usager_id: RdvStatus(p.status) for p in participations},
            collectif=motif.collectif, now=now)
    except rdv_status.StatusError as error:
        raise DomainError(str(error), "status") from None
    return _apply_status(uow, rdv, participations, outcome, Actor.agent(actor_agent_id), now, tell_agents=True)


@boundary
def change_participation_status(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, rdv_id: int,
                                usager_id: int, status: str, *, expected_version: str | None = None,
                                now: datetime | None = None) -> RdvChange | None:
    """Sets one participant's status; the RDV's status follows (domain.md section 1)."""
    now = now or clock.now()
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    rdv, motif = visible_in_scope(uow, scope, rdv_id)
    _check_version(uow, rdv, expected_version)
    new = _parse_status(status)
    participations = _participations(uow, rdv_id)
    try:
        outcome = rdv_status.change_participation_status(
            rdv_status=RdvStatus(rdv.status), cancelled_at=rdv.cancelled_at,
            participations={p.usager_id: RdvStatus(p.status) for p in participations}, key=usager_id, new=new,
            collectif=motif.collectif, is_past=rdv.starts_at <= now, now=now)
    except rdv_status.StatusError as error:
        raise DomainError(str(error), "status") from None
    return _apply_status(uow, rdv, participations, outcome, Actor.agent(actor_agent_id), now, tell_agents=True)


@boundary
def cancel_rdv(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, rdv_id: int, *,
               excused: bool = False, expected_version: str | None = None,
               now: datetime | None = None) -> RdvChange | None:
    """Cancels an RDV: by the service (revoked), or for the usager (excused)."""
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    rdv, _ = visible_in_scope(uow, scope, rdv_id)
    _check_version(uow, rdv, expected_version)
    if rdv.status in CANCELLED_STATUSES:
        raise DomainError("Ce RDV est déjà annulé.", "status")
    status = RdvStatus.EXCUSED if excused else RdvStatus.REVOKED
    return change_status(uow, actor_agent_id, organisation_id, rdv_id, status.value, now=now)


# --------------------------------------------------------------------------- cancelling (usagers)


@boundary
def cancel_by_usager(uow: UnitOfWork, rdv_id: int, participant_id: int, *, actor_usager_id: int | None = None,
                     now: datetime | None = None) -> RdvChange:
    """The usager cancels their participation `participant_id` of the RDV: it becomes "excusé" (their
    participation only, in a collective RDV), while the rules of domain.md allow it (more than 4 hours
    before, the motif allows it). `actor_usager_id`: who clicked, when not the participant (a parent for
    their child). The caller has checked the person's access to that participation."""
    now = now or clock.now()
    begin_write(uow.session)
    row = uow.session.exec(
        select(Rdv, Motif).join(Motif, col(Motif.id) == Rdv.motif_id).where(Rdv.id == rdv_id)
        .with_for_update(of=Rdv)  # PostgreSQL: two cancellations one after the other
        .execution_options(populate_existing=True)).first()
    if row is None:
        raise NotFound("Ce rendez-vous est introuvable.")
    rdv, motif = row
    participations = _participations(uow, rdv_id)
    statuses = {p.usager_id: RdvStatus(p.status) for p in participations}
    if participant_id not in statuses:
        raise NotFound("Ce rendez-vous est introuvable.")
    own = statuses[participant_id] if motif.collectif else RdvStatus(rdv.status)
    rule = cancel_rule(status=own, starts_at=rdv.starts_at, now=now, motif_allows=motif.rdvs_cancellable_by_user)
    if rule.refusal is not None:
        raise DomainError(_USAGER_REFUSALS[rule.refusal])
    if motif.collectif:
        outcome = rdv_status.change_participation_status(
            rdv_status=RdvStatus(rdv.status), cancelled_at=rdv.cancelled_at, participations=statuses,
            key=participant_id, new=RdvStatus.EXCUSED, collectif=True, is_past=False, now=now)
    else:
        outcome = rdv_status.change_rdv_status(current=RdvStatus(rdv.status), cancelled_at=rdv.cancelled_at,
                                               new=RdvStatus.EXCUSED, participations=statuses, collectif=False,
                                               now=now)
    # One participant leaving a collective session does not cancel it, but its agents hear of it as they do of
    # a seat booked (RDV-SP's user_can_manage_collective_rdv), their calendars keeping the session.
    change = _apply_status(uow, rdv, participations, outcome, Actor.usager(actor_usager_id or participant_id), now,
                           tell_agents=True)
    assert change is not None  # a cancellation, which the rule allowed
    return change


# --------------------------------------------------------------------------- changing the participant (usagers)


@boundary
def change_participant_by_usager(uow: UnitOfWork, rdv_id: int, participant_id: int, *, new_participant_id: int,
                                 actor_usager_id: int, now: datetime | None = None) -> RdvChange | None:
    """The signed-in usager `actor_usager_id` changes whom their RDV to come is for, between themself and
    their relatives (domain.md 8; never in token mode, which has no account): the participation of
    `participant_id` becomes `new_participant_id`'s, with its status and notification choices. In a
    collective session, one member of a family only takes part: any other participation of the family is
    removed (told as an agent's removal is). The RDV's calendar SEQUENCE goes up; nobody is notified, the
    recipient of the messages (the usager) being the same. None when the RDV is already for that person.
    Both people must be the usager or one of their relatives: anyone else is NotFound."""
    now = now or clock.now()
    begin_write(uow.session)
    holder = _usager(uow, actor_usager_id)
    family = {actor_usager_id} | set(uow.session.exec(select(not_null(Usager.id)).where(
        Usager.responsible_id == actor_usager_id, col(Usager.deleted_at).is_(None))).all())
    if participant_id not in family:
        raise NotFound("Ce rendez-vous est introuvable.")
    if new_participant_id not in family:
        raise DomainError("Choisissez la personne concernée parmi vos proches.", "new_participant_id")
    rdv = _locked_session(uow, rdv_id)
    motif = uow.session.get(Motif, rdv.motif_id)
    assert motif is not None
    participations = {p.usager_id: p for p in _participations(uow, rdv_id)}
    participation = participations.get(participant_id)
    if participation is None:
        raise NotFound("Ce rendez-vous est introuvable.")
    if new_participant_id == participant_id:
        return None
    if rdv.status in CANCELLED_STATUSES or participation.status in CANCELLED_STATUSES:
        raise DomainError("Ce rendez-vous est annulé : il ne peut plus changer de participant.")
    if rdv.starts_at <= now:
        raise DomainError("Ce rendez-vous est passé : il ne peut plus changer de participant.")
    actor = Actor.usager(actor_usager_id)
    if motif.collectif:
        for usager_id in sorted((_family_ids(uow, holder) & set(participations)) - {participant_id}):
            _drop_participation(uow, rdv, participations.pop(usager_id), actor, now)
    if new_participant_id in participations:
        raise DomainError("Cette personne participe déjà à ce rendez-vous.", "new_participant_id")
    participation.usager_id = new_participant_id
    uow.session.add(participation)
    rdv.ics_sequence += 1
    rdv.updated_at = now
    uow.session.add(rdv)
    new_participant = _usager(uow, new_participant_id)
    usagers_service.add_to_organisation(uow, rdv.organisation_id, [holder, new_participant], actor, now=now)
    return _record(uow, rdv, RdvChanged(
        rdv_id=rdv_id, organisation_id=rdv.organisation_id, change=Change.UPDATED, action="participant_changed",
        actor=actor, occurred_at=now, version=rdv.ics_sequence, event=None, status=RdvStatus(rdv.status),
        starts_at=rdv.starts_at, old_starts_at=rdv.starts_at, time_or_lieu_changed=False, old_agent_ids=(),
        new_agent_ids=(), usager_ids=(new_participant_id,),
        changes={f"participation:{participant_id}": [participation.status, None],
                 f"participation:{new_participant_id}": [None, participation.status]}))


# --------------------------------------------------------------------------- moving (usagers)


MOVED_MEANWHILE = ("Ce rendez-vous a été modifié entre-temps : vérifiez sa nouvelle date avant d'en choisir "
                   "une autre.")


@boundary
def move_by_usager(uow: UnitOfWork, rdv_id: int, participant_id: int, *, starts_at: datetime,
                   from_starts_at: datetime, actor_usager_id: int | None = None, contact: str | None = None,
                   now: datetime | None = None) -> RdvChange | None:
    """The usager moves their RDV to the slot starting at `starts_at`, of the same motif and lieu, while
    `editable_by_user?` holds (rdv_app.domain.rdv_move); commits. The RDV stays the same (same id and
    uuid, its calendar event's SEQUENCE + 1): its old slot is released and the new one taken in one
    transaction, under the booking lock, with `book_rdv`'s final check.

    `from_starts_at` is the start the usager saw when choosing: a double click or a resubmitted
    confirmation finds the RDV already at `starts_at` and returns None (nothing done twice, nobody told
    twice); an RDV moved meanwhile by someone else is refused (MOVED_MEANWHILE). A slot gone raises
    SlotTaken. `contact` names whom to call in a refusal ("Mairie de Lens au 03 21 ..."). The caller
    has checked the person's access to that participation."""
    return _once_more_if_refused(uow, lambda: _move_by_usager(
        uow, rdv_id, participant_id, starts_at=starts_at, from_starts_at=from_starts_at,
        actor_usager_id=actor_usager_id, contact=contact, now=now or clock.now()))


def _move_by_usager(uow: UnitOfWork, rdv_id: int, participant_id: int, *, starts_at: datetime,
                    from_starts_at: datetime, actor_usager_id: int | None, contact: str | None,
                    now: datetime) -> RdvChange | None:
    begin_write(uow.session)
    found = uow.session.exec(select(Rdv.motif_id, Rdv.lieu_id).where(Rdv.id == rdv_id)).first()
    if found is None:
        raise NotFound("Ce rendez-vous est introuvable.")
    _lock_agents(uow, found[0], found[1])  # the booking lock, taken before the RDV's row as booking does
    row = uow.session.exec(
        select(Rdv, Motif).join(Motif, col(Motif.id) == Rdv.motif_id).where(Rdv.id == rdv_id)
        .with_for_update(of=Rdv).execution_options(populate_existing=True)).first()
    if row is None:
        raise NotFound("Ce rendez-vous est introuvable.")
    rdv, motif = row
    participations = _participations(uow, rdv_id)
    if participant_id not in {p.usager_id for p in participations}:
        raise NotFound("Ce rendez-vous est introuvable.")
    if rdv.starts_at == starts_at and rdv.status not in CANCELLED_STATUSES:
        return None  # this move is already done: a double click or a retry
    if rdv.starts_at != from_starts_at:
        raise DomainError(MOVED_MEANWHILE)
    rule = edit_rule(status=RdvStatus(rdv.status), starts_at=rdv.starts_at, now=now, collectif=motif.collectif,
                     motif_allows=motif.rdvs_editable_by_user, bookable_by=motif.bookable_by,
                     created_by_type=rdv.created_by_type)
    if rule.refusal is not None:
        raise DomainError(refusal_message(rule.refusal, contact))

    context = motif_context(uow, require_id(motif), motif.organisation_id)
    day = starts_at.astimezone(context.time_zone).date()
    search = load_search(uow, context, day, day, searcher=Searcher.USAGER, now=now, lieu_id=rdv.lieu_id,
                         exclude_rdv_id=rdv_id)
    slot = validate_slot(search, starts_at, lieu_id=rdv.lieu_id)
    if slot is None:
        raise _refusal(search, motif, starts_at, rdv.lieu_id, now)

    old_agents = agent_ids_of(uow, rdv_id)
    old_starts_at = rdv.starts_at
    rdv.starts_at, rdv.ends_at, rdv.updated_at = slot.starts_at, slot.ends_at, now
    rdv.ics_sequence += 1  # calendars that hold the event must see a newer version
    uow.session.add(rdv)
    mine = col(RdvAgent.rdv_id) == rdv_id
    try:
        # The old slot is released and the new one taken: the engine may give the time to another agent.
        uow.session.exec(sa.delete(RdvAgent).where(mine, col(RdvAgent.agent_id) != slot.agent_id))
        if slot.agent_id in old_agents:
            uow.session.exec(sa.update(RdvAgent).where(mine, col(RdvAgent.agent_id) == slot.agent_id)
                             .values(slot_starts_at=slot.starts_at, slot_ends_at=slot.ends_at))
        else:
            uow.session.add(RdvAgent(rdv_id=rdv_id, agent_id=slot.agent_id, slot_starts_at=slot.starts_at,
                                     slot_ends_at=slot.ends_at))
        uow.session.flush()
    except sa.exc.IntegrityError:
        # PostgreSQL's exclusion constraint, the last line behind the lock (see `_take_slot`).
        uow.rollback()
        raise SlotTaken() from None
    # The history's fields (`_facts`): the duration stays the motif's.
    changes = audit.diff({"starts_at": old_starts_at.astimezone(UTC), "agent_ids": sorted(old_agents)},
                         {"starts_at": slot.starts_at.astimezone(UTC), "agent_ids": [slot.agent_id]})
    return _record(uow, rdv, RdvChanged(
        rdv_id=rdv_id, organisation_id=rdv.organisation_id, change=Change.UPDATED, action="updated",
        actor=Actor.usager(actor_usager_id or participant_id), occurred_at=now, version=rdv.ics_sequence,
        event=NotificationEvent.RDV_UPDATED, status=RdvStatus(rdv.status), starts_at=slot.starts_at,
        old_starts_at=old_starts_at, time_or_lieu_changed=True, old_agent_ids=tuple(old_agents),
        new_agent_ids=(slot.agent_id,),
        usager_ids=tuple(p.usager_id for p in participations if p.status not in CANCELLED_STATUSES),
        changes=changes))


# --------------------------------------------------------------------------- deleting (admins)


@boundary
def delete_rdv(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, rdv_id: int, *,
               now: datetime | None = None) -> None:
    """Deletes an RDV entered by mistake (admins only; participants are not notified: cancel instead to
    tell them). The event is published before the deletion, so that its handlers still read the RDV
    (the webhook "destroyed" describes it)."""
    now = now or clock.now()
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    if scope.access_level != AccessLevel.ADMIN:
        raise PermissionDenied("Seuls les administrateurs de l'organisation peuvent supprimer un RDV.")
    rdv, _ = visible_in_scope(uow, scope, rdv_id)
    agents = tuple(agent_ids_of(uow, rdv_id))
    _record(uow, rdv, RdvChanged(
        rdv_id=rdv_id, organisation_id=organisation_id, change=Change.DELETED, action="deleted",
        actor=Actor.agent(actor_agent_id), occurred_at=now, version=rdv.ics_sequence, event=None,
        status=RdvStatus(rdv.status), starts_at=rdv.starts_at, old_starts_at=rdv.starts_at,
        time_or_lieu_changed=False, old_agent_ids=agents, new_agent_ids=(), usager_ids=(),
        changes={"starts_at": [rdv.starts_at.isoformat(), None]}), commit=False)
    uow.publish()
    uow.session.exec(sa.delete(Participation).where(col(Participation.rdv_id) == rdv_id))
    uow.session.exec(sa.delete(RdvAgent).where(col(RdvAgent.rdv_id) == rdv_id))
    uow.session.delete(rdv)
    uow.commit()


# --------------------------------------------------------------------------- the one way out


def _record(uow: UnitOfWork, rdv: Rdv, event: RdvChanged, *, commit: bool = True,
            known: set[int] | None = None) -> RdvChange:
    """Writes the audit row and records the event; commits unless asked not to. The returned change
    carries the ids of the SMS and emails its handlers queued for the RDV's people (and those queued
    earlier in the transaction, when `known` lists the RDV's messages from before it)."""
    actor = event.actor
    audit.record(uow.session, action=event.action, entity_type=_ENTITY, entity_id=event.rdv_id,
                 changes=dict(event.changes), organisation_id=event.organisation_id,
                 actor_agent_id=actor.agent_id, actor_usager_id=actor.usager_id)
    uow.record(event)
    outbox_ids: tuple[int, ...] = ()
    if commit:
        known = _outbox_ids(uow, event.rdv_id) if known is None else known
        uow.publish()
        outbox_ids = tuple(i for i in sorted(_outbox_ids(uow, event.rdv_id)) if i not in known)
        uow.commit()
    return RdvChange(**{f.name: getattr(event, f.name) for f in dataclasses.fields(RdvChanged)},
                     outbox_ids=outbox_ids)


def _outbox_ids(uow: UnitOfWork, rdv_id: int) -> set[int]:
    return set(uow.session.exec(select(not_null(OutboxMessage.id)).where(col(OutboxMessage.rdv_id) == rdv_id)).all())


def _apply_status(uow: UnitOfWork, rdv: Rdv, participations: list[Participation],
                  outcome: rdv_status.StatusOutcome[int], actor: Actor, now: datetime, *,
                  tell_agents: bool) -> RdvChange | None:
    """Writes a status outcome (the RDV's and its participations'); returns the change when people are
    told of it, None when nothing changed or the change is silent (a status noted after the RDV)."""
    old_status = RdvStatus(rdv.status)
    before = {p.usager_id: RdvStatus(p.status) for p in participations}
    changes: dict[str, Any] = {}
    if outcome.status != old_status:
        changes["status"] = [old_status.value, outcome.status.value]
    for participation in participations:
        new = outcome.participations[participation.usager_id]
        if new != before[participation.usager_id]:
            changes[f"participation:{participation.usager_id}"] = [participation.status, new.value]
            participation.status = new.value
            uow.session.add(participation)
    if not changes:
        return None
    rdv.status, rdv.cancelled_at, rdv.updated_at = outcome.status.value, outcome.cancelled_at, now
    rdv.users_count = sum(1 for s in outcome.participations.values() if s not in CANCELLED_STATUSES)
    cancelled = tuple(u for u, s in outcome.participations.items()
                      if s in CANCELLED_STATUSES and before[u] not in CANCELLED_STATUSES)
    restored = tuple(u for u, s in outcome.participations.items()
                     if s == RdvStatus.UNKNOWN and before[u] in CANCELLED_STATUSES)
    event: NotificationEvent | None = None
    concerned: tuple[int, ...] = ()
    if cancelled or (outcome.status in CANCELLED_STATUSES and old_status not in CANCELLED_STATUSES):
        event, concerned = NotificationEvent.RDV_CANCELLED, cancelled
    elif restored or (old_status in CANCELLED_STATUSES and outcome.status == RdvStatus.UNKNOWN):
        event, concerned = NotificationEvent.RDV_CREATED, restored
    if event is not None:
        rdv.ics_sequence += 1  # a cancellation or a re-creation replaces the event in calendars
    if outcome.status in CANCELLED_STATUSES:
        _release_online_slot(uow, require_id(rdv))
    uow.session.add(rdv)
    agents = tuple(agent_ids_of(uow, require_id(rdv))) if tell_agents else ()
    change = _record(uow, rdv, RdvChanged(
        rdv_id=require_id(rdv), organisation_id=rdv.organisation_id, change=Change.UPDATED,
        action="status_changed", actor=actor, occurred_at=now, version=rdv.ics_sequence, event=event,
        status=outcome.status, starts_at=rdv.starts_at, old_starts_at=rdv.starts_at, time_or_lieu_changed=False,
        old_agent_ids=agents, new_agent_ids=agents, usager_ids=concerned, changes=changes))
    return change if event is not None else None


def _check_version(uow: UnitOfWork, rdv: Rdv, expected: str | None) -> None:
    """The RDV page's changes give the version of the RDV they were shown (`queries.rdv_version`): one
    changed since, by another agent or an usager, is refused with `versions.STALE` and nothing is written.
    The RDV's row is locked first, so that two changes check their versions one after the other."""
    if expected is None:
        return
    versions.lock(uow, rdv)
    versions.check_version(expected, page_values(uow, rdv))


def _parse_status(value: str) -> RdvStatus:
    try:
        return rdv_status.parse_status(value)
    except rdv_status.StatusError as error:
        raise DomainError(str(error), "status") from None


def _participations(uow: UnitOfWork, rdv_id: int) -> list[Participation]:
    return list(uow.session.exec(select(Participation).where(Participation.rdv_id == rdv_id)
                                 .order_by(col(Participation.id))))


# --------------------------------------------------------------------------- booking: locks and checks


def _refusal(search: SlotSearch, motif: Motif, starts_at: datetime, lieu_id: int | None, now: datetime) -> SlotTaken:
    """Why the engine refused the slot, in the usager policy's words: taken when every agent who could
    have taken it is now busy or absent, not offered otherwise (outside the delays, a holiday, off the
    grid of slots)."""
    candidates = {p.agent_id for p in search.plages if lieu_id is None or p.lieu_id == lieu_id}
    ends_at = starts_at + timedelta(minutes=search.motif.duration_in_min)
    found = conflicts(search, starts_at, ends_at, candidates, lieu_id=lieu_id)
    verdicts = USAGER_POLICY.verdicts(Proposal(
        starts_at=starts_at, ends_at=ends_at, now=now, agents=dict.fromkeys(candidates, ""),
        booked_agents=found.booked_agents, absent_agents=found.absent_agents, inside_opening=found.inside_opening,
        on_holiday=found.on_holiday, min_notice=timedelta(seconds=motif.min_public_booking_delay),
        max_notice=timedelta(seconds=motif.max_public_booking_delay) if motif.max_public_booking_delay else None))
    closed = [v.message for v in verdicts if v.rule not in (NoRdvOverlap.__name__, NoAbsenceOverlap.__name__)]
    if candidates and not closed and candidates <= found.booked_agents | found.absent_agents:
        return SlotTaken()
    return SlotTaken(SLOT_NOT_OFFERED, reason=closed[0] if closed else None)


def _lock_agents(uow: UnitOfWork, motif_id: int, lieu_id: int | None) -> None:
    """PostgreSQL: row locks on every agent who may take the slot (SQLite is already locked whole)."""
    if uow.session.get_bind().dialect.name != "postgresql":
        return
    candidates = (select(PlageOuverture.agent_id)
                  .join(PlageOuvertureMotif, col(PlageOuvertureMotif.plage_ouverture_id) == PlageOuverture.id)
                  .where(PlageOuvertureMotif.motif_id == motif_id))
    if lieu_id is not None:
        candidates = candidates.where(PlageOuverture.lieu_id == lieu_id)
    uow.session.exec(select(col(Agent.id)).where(col(Agent.id).in_(candidates)).order_by(col(Agent.id))
                     .with_for_update()).all()


def _lock_agent_rows(uow: UnitOfWork, agent_ids: Collection[int]) -> None:
    """PostgreSQL: the same row locks on agents as online booking takes, in id order, so that an agent
    planning or moving an RDV and an usager booking the same agent's time run one after the other
    (SQLite's write lock, taken at BEGIN, already serialises them)."""
    if uow.session.get_bind().dialect.name == "postgresql":
        uow.session.exec(select(col(Agent.id)).where(col(Agent.id).in_(sorted(agent_ids))).order_by(col(Agent.id))
                         .with_for_update()).all()


def _release_online_slot(uow: UnitOfWork, rdv_id: int) -> None:
    uow.session.exec(sa.update(RdvAgent).where(col(RdvAgent.rdv_id) == rdv_id)
                     .values(slot_starts_at=None, slot_ends_at=None))


def _booked_with_key(uow: UnitOfWork, key_hash: str) -> Booked | None:
    row = uow.session.exec(select(not_null(Rdv.id), Rdv.uuid).where(Rdv.booking_key_hash == key_hash)).first()
    return None if row is None else Booked(rdv_id=row[0], uuid=row[1], created=False)


def _usager(uow: UnitOfWork, usager_id: int) -> Usager:
    usager = uow.session.get(Usager, usager_id)
    if usager is None or usager.deleted_at is not None:
        raise NotFound("Votre compte est introuvable. Reconnectez-vous.")
    return usager


def _relative(uow: UnitOfWork, holder: Usager, relative_id: int) -> Usager:
    relative = uow.session.get(Usager, relative_id)
    if relative is None or relative.deleted_at is not None or relative.responsible_id != holder.id:
        raise DomainError("Choisissez la personne concernée parmi vos proches.", "for_usager_id")
    return relative


def _checked_lieu(uow: UnitOfWork, motif: Motif, lieu_id: int | None) -> int | None:
    if motif.location_type != LocationType.PUBLIC_OFFICE.value:
        return None
    lieu = uow.session.get(Lieu, lieu_id) if lieu_id is not None else None
    if lieu is None or lieu.organisation_id != motif.organisation_id \
            or lieu.availability == LieuAvailability.DISABLED.value:
        raise DomainError("Choisissez un lieu de rendez-vous.", "lieu_id")
    return lieu.id


def _check_informations(motif: Motif, holder: Usager, participant: Usager) -> None:
    if motif.location_type == LocationType.PHONE.value and not (participant.phone_number or holder.phone_number):
        raise DomainError("Indiquez un numéro de téléphone : l'agent vous appellera à ce numéro.", "phone_number")
    if motif.location_type == LocationType.HOME.value and not (participant.address or holder.address):
        raise DomainError("Indiquez votre adresse : l'agent se déplace à votre domicile.", "address")


# --------------------------------------------------------------------------- planning: rights and inputs


def _usable_motif(uow: UnitOfWork, scope: AgentScope, motif_id: int) -> Motif:
    motif = uow.session.get(Motif, motif_id)
    if motif is None or motif.organisation_id != scope.organisation_id or motif.deleted_at is not None:
        raise NotFound("Ce motif n'existe pas ou a été archivé.")
    if not scope.sees_whole_organisation and motif.service_id not in scope.service_ids:
        raise PermissionDenied("Ce motif n'est pas accessible depuis votre compte.")
    return motif


def _ends_at(starts_at: datetime, duration_in_min: int) -> datetime:
    if not 0 < duration_in_min <= MAX_DURATION_IN_MIN:
        raise DomainError("La durée doit être comprise entre 1 minute et 24 heures.", "duration_in_min")
    return starts_at + timedelta(minutes=duration_in_min)


def _usable_agents(uow: UnitOfWork, scope: AgentScope, agent_ids: Sequence[int],
                   keep: Collection[int] = ()) -> dict[int, str]:
    """The chosen agents by name, each visible to the actor (an agent already on the RDV may stay)."""
    wanted = list(dict.fromkeys(agent_ids))
    if not wanted:
        raise DomainError("Choisissez au moins un agent.", "agent_ids")
    allowed = visible_agent_ids(uow, scope) | set(keep)
    active = set(uow.session.exec(select(Agent.id).where(col(Agent.id).in_(wanted),
                                                         col(Agent.deleted_at).is_(None))).all())
    if not set(wanted) <= allowed or not set(wanted) <= active:
        raise PermissionDenied("Vous ne pouvez pas planifier de RDV pour cet agent.")
    names = agent_names(uow, wanted)
    return {agent_id: names[agent_id] for agent_id in wanted}


def _usable_lieu(uow: UnitOfWork, organisation_id: int, motif: Motif, lieu_id: int | None,
                 keep: int | None = None) -> int | None:
    if motif.location_type != LocationType.PUBLIC_OFFICE:
        if lieu_id is not None:
            raise DomainError("Ce motif ne se déroule pas dans un lieu : n'en choisissez pas.", "lieu_id")
        return None
    if lieu_id is None:
        raise DomainError("Choisissez un lieu.", "lieu_id")
    lieu = uow.session.get(Lieu, lieu_id)
    if lieu is None or lieu.organisation_id != organisation_id:
        raise NotFound("Ce lieu n'existe pas.")
    if lieu.availability == LieuAvailability.DISABLED and lieu_id != keep:
        raise DomainError("Ce lieu n'est plus ouvert : choisissez-en un autre.", "lieu_id")
    if lieu.availability == LieuAvailability.SINGLE_USE and lieu_id != keep:
        raise DomainError("Ce lieu ponctuel est celui d'un autre RDV : choisissez un lieu ou saisissez une "
                          "adresse.", "lieu_id")
    return lieu_id


def _notification_flags(motif: Motif, usagers: Mapping[int, str],
                        notify: Mapping[int, tuple[bool, bool]] | None) -> dict[int, tuple[bool, bool]]:
    notify = notify or {}
    if not set(notify) <= set(usagers):
        raise DomainError("Les notifications ne concernent que les participants du RDV.", "notify")
    default = motif.visibility_type == VisibilityType.VISIBLE_AND_NOTIFIED
    return {u: (bool(notify[u][0]), bool(notify[u][1])) if u in notify else (default, default) for u in usagers}


def _facts(planned: _Planned) -> dict[str, Any]:
    """What the history follows of an RDV; ids are turned into names when the history is read."""
    return {
        "starts_at": planned.starts_at.astimezone(UTC),
        "duration_in_min": int((planned.ends_at - planned.starts_at).total_seconds() // 60),
        "lieu_id": planned.lieu_id,
        "agent_ids": sorted(planned.agents),
        "usager_ids": sorted(planned.usagers),
    }


# --------------------------------------------------------------------------- planning: checks and warnings


def _refuse_duplicate(uow: UnitOfWork, planned: _Planned) -> None:
    lieu = (col(Rdv.lieu_id).is_(None) if planned.lieu_id is None else col(Rdv.lieu_id) == planned.lieu_id)
    query = select(not_null(Rdv.id)).where(Rdv.organisation_id == planned.organisation_id, Rdv.motif_id == planned.motif.id,
                                 lieu, Rdv.starts_at == planned.starts_at, Rdv.ends_at == planned.ends_at,
                                 col(Rdv.status).not_in(_CANCELLED))
    if planned.exclude_rdv_id is not None:
        query = query.where(Rdv.id != planned.exclude_rdv_id)
    candidates = list(uow.session.exec(query).all())
    if not candidates:
        return
    participants: dict[int, set[int]] = {c: set() for c in candidates}
    for rdv_id, usager_id in uow.session.exec(select(Participation.rdv_id, Participation.usager_id)
                                              .where(col(Participation.rdv_id).in_(candidates))).all():
        participants[rdv_id].add(usager_id)
    if set(planned.usagers) in participants.values():
        raise DomainError("Un RDV identique existe déjà : même motif, lieu, horaire et participants.")


def _raise_warnings(uow: UnitOfWork, planned: _Planned, now: datetime, *,
                    only: Collection[type] | None = None) -> None:
    """The agent policy's warnings about `planned` (every rule, or those of `only`): NeedsConfirmation."""
    if only is not None and not only:
        return
    context = motif_context(uow, require_id(planned.motif), planned.organisation_id, archived_too=True)
    tz = ZoneInfo(planned.time_zone)
    first_day, last_day = planned.starts_at.astimezone(tz).date(), planned.ends_at.astimezone(tz).date()
    search = load_search(uow, context, first_day, last_day, searcher=Searcher.AGENT, now=now,
                         agent_ids=list(planned.agents), lieu_id=planned.lieu_id,
                         exclude_rdv_id=planned.exclude_rdv_id)
    found = conflicts(search, planned.starts_at, planned.ends_at, planned.agents, lieu_id=planned.lieu_id)
    proposal = Proposal(starts_at=planned.starts_at, ends_at=planned.ends_at, now=now, agents=planned.agents,
                        booked_agents=found.booked_agents, absent_agents=found.absent_agents,
                        inside_opening=found.inside_opening, on_holiday=found.on_holiday,
                        same_motif_same_day=_same_motif_same_day(uow, planned, tz, first_day))
    warnings = [verdict.message for verdict in AGENT_POLICY.verdicts(proposal, only=only)]
    if warnings:
        raise NeedsConfirmation(list(dict.fromkeys(warnings)))


def _same_motif_same_day(uow: UnitOfWork, planned: _Planned, tz: ZoneInfo, day: date) -> tuple[str, ...]:
    """The participants already booked for the motif on the RDV's local day."""
    day_start = datetime.combine(day, time(0), tz)
    day_end = datetime.combine(day + timedelta(days=1), time(0), tz)
    query = (select(Participation.usager_id).join(Rdv, col(Rdv.id) == Participation.rdv_id)
             .where(Rdv.motif_id == planned.motif.id, col(Participation.usager_id).in_(list(planned.usagers)),
                    col(Rdv.starts_at) >= day_start, col(Rdv.starts_at) < day_end,
                    col(Rdv.status).not_in(_CANCELLED), col(Participation.status).not_in(_CANCELLED)))
    if planned.exclude_rdv_id is not None:
        query = query.where(Rdv.id != planned.exclude_rdv_id)
    booked = set(uow.session.exec(query).all())
    return tuple(name for usager_id, name in planned.usagers.items() if usager_id in booked)


# --------------------------------------------------------------------------- collective sessions


@boundary
def create_collectif_rdv(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, *, motif_id: int,
                         name: str | None, starts_at: datetime, duration_in_min: int, agent_ids: Sequence[int],
                         lieu_id: int | None, max_participants_count: int | None, weekly_count: int = 1,
                         context: str | None = None, now: datetime | None = None) -> list[int]:
    """Creates a collective session of a collective motif ("atelier"), or `weekly_count` of them one week
    apart at the same local time; returns their ids. A session starts without participants; its agents
    are told as of any RDV created for them (no usager is). `max_participants_count` None: unlimited."""
    now = now or clock.now()
    begin_write(uow.session)
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    motif = _usable_motif(uow, scope, motif_id)
    if not motif.collectif:
        raise DomainError("Choisissez un motif collectif.", "motif_id")
    try:
        seats = collectifs.check_seats(max_participants_count)
        starts = collectifs.weekly_starts(starts_at, weekly_count, local_time.time_zone(uow, organisation_id))
    except collectifs.SessionError as error:
        raise DomainError(str(error), "max_participants_count" if "places" in str(error) else "weekly_count") \
            from None
    duration = timedelta(minutes=duration_in_min)
    _ends_at(starts_at, duration_in_min)
    agents = _usable_agents(uow, scope, agent_ids)
    _lock_agent_rows(uow, agents)
    lieu_id = _usable_lieu(uow, organisation_id, motif, lieu_id)
    actor = Actor.agent(actor_agent_id)
    ids: list[int] = []
    for start in starts:
        rdv = Rdv(organisation_id=organisation_id, motif_id=motif_id, lieu_id=lieu_id, starts_at=start,
                  ends_at=start + duration, status=RdvStatus.UNKNOWN.value, name=collectifs.check_name(name),
                  max_participants_count=seats, users_count=0, context=(context or "").strip() or None,
                  created_by_type=AuthorType.AGENT.value, created_by_agent_id=actor_agent_id,
                  created_at=now, updated_at=now)
        uow.session.add(rdv)
        uow.session.flush()
        rdv_id = require_id(rdv)
        uow.session.add_all([RdvAgent(rdv_id=rdv_id, agent_id=agent_id) for agent_id in agents])
        ids.append(rdv_id)
        _record(uow, rdv, RdvChanged(
            rdv_id=rdv_id, organisation_id=organisation_id, change=Change.CREATED, action="created", actor=actor,
            occurred_at=now, version=rdv.ics_sequence, event=NotificationEvent.RDV_CREATED,
            status=RdvStatus.UNKNOWN, starts_at=start, old_starts_at=None, time_or_lieu_changed=False,
            old_agent_ids=(), new_agent_ids=tuple(agents), usager_ids=(),
            changes=audit.diff({}, {"motif_id": motif_id, "name": rdv.name, "starts_at": start,
                                    "ends_at": rdv.ends_at, "lieu_id": lieu_id, "agent_ids": sorted(agents),
                                    "max_participants_count": seats})), commit=False)
    uow.publish()
    uow.commit()
    return ids


@boundary
def duplicate_collectif_rdv(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, rdv_id: int, *,
                            starts_at: datetime, now: datetime | None = None) -> int:
    """A new session like the collective session `rdv_id` (motif, name, duration, lieu, agents, seats and
    notes) starting at `starts_at`, without its participants; returns its id. The checks and messages of
    `create_collectif_rdv`: a lieu closed since, or an agent who left, is refused in French."""
    begin_write(uow.session)
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    rdv, motif = visible_in_scope(uow, scope, rdv_id)
    if not motif.collectif:
        raise DomainError("Seul un RDV collectif se duplique.")
    (new_id,) = create_collectif_rdv(
        uow, actor_agent_id, organisation_id, motif_id=require_id(motif), name=rdv.name, starts_at=starts_at,
        duration_in_min=int((rdv.ends_at - rdv.starts_at).total_seconds() // 60),
        agent_ids=agent_ids_of(uow, rdv_id), lieu_id=rdv.lieu_id,
        max_participants_count=rdv.max_participants_count, context=rdv.context, now=now)
    return new_id


@boundary
def add_participant(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, rdv_id: int, usager_id: int, *,
                    notify: tuple[bool, bool] | None = None, expected_version: str | None = None,
                    now: datetime | None = None) -> RdvChange:
    """An agent adds an usager to a collective session (or takes back one who had cancelled): the usager
    hears "RDV confirmé" if their lifecycle notifications are on; the session's agents are not told
    (domain.md 3.1). `notify`: (lifecycle notifications, reminder), default the motif's. A full or
    cancelled session refuses, and so does an usager already registered."""
    now = now or clock.now()
    begin_write(uow.session)
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    rdv, motif = visible_in_scope(uow, scope, rdv_id)
    rdv = _locked_session(uow, rdv_id)
    _check_version(uow, rdv, expected_version)
    if not motif.collectif:
        raise DomainError("Les participants se modifient ainsi seulement pour un RDV collectif.")
    usager = usagers_service.usagers_for_rdv(uow, organisation_id, [usager_id])[usager_id]
    flags = _notification_flags(motif, {usager_id: ""}, {usager_id: notify} if notify else None)[usager_id]
    if rdv.status in CANCELLED_STATUSES:
        raise DomainError("Cet atelier est annulé : on ne peut plus y inscrire personne.")
    actor = Actor.agent(actor_agent_id)
    return _take_seat(uow, rdv, motif, usager, [usager], flags, actor, now,
                      author=dict(created_by_type=AuthorType.AGENT.value, created_by_agent_id=actor_agent_id),
                      tell_agents=False, already="Cet usager est déjà inscrit à cet atelier.")


@boundary
def remove_participant(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, rdv_id: int, usager_id: int,
                       *, expected_version: str | None = None, now: datetime | None = None) -> None:
    """An agent removes a participant from a collective session (`_drop_participation`)."""
    now = now or clock.now()
    begin_write(uow.session)
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    _, motif = visible_in_scope(uow, scope, rdv_id)
    rdv = _locked_session(uow, rdv_id)
    _check_version(uow, rdv, expected_version)
    if not motif.collectif:
        raise DomainError("Les participants se modifient ainsi seulement pour un RDV collectif.")
    participation = uow.session.exec(select(Participation).where(
        Participation.rdv_id == rdv_id, Participation.usager_id == usager_id)).first()
    if participation is None:
        raise NotFound("Cet usager ne participe pas à cet atelier.")
    _drop_participation(uow, rdv, participation, Actor.agent(actor_agent_id), now)
    uow.commit()


def _drop_participation(uow: UnitOfWork, rdv: Rdv, participation: Participation, actor: Actor,
                        now: datetime) -> None:
    """Takes a participant out of a collective session: one who had not cancelled hears "RDV annulé" (if
    their notifications are on); the session's agents are not told. The event is published before the
    participation is deleted, so that its handlers still read it. Does not commit."""
    rdv_id, usager_id = require_id(rdv), participation.usager_id
    old_status = participation.status
    active = old_status not in CANCELLED_STATUSES
    if active:
        rdv.users_count = max(rdv.users_count - 1, 0)
        rdv.ics_sequence += 1
        # Cancelled for the messages' handlers (who hear "RDV annulé" is decided on the status), then deleted.
        participation.status = RdvStatus.REVOKED.value
        uow.session.add(participation)
    rdv.updated_at = now
    uow.session.add(rdv)
    _record(uow, rdv, RdvChanged(
        rdv_id=rdv_id, organisation_id=rdv.organisation_id, change=Change.UPDATED, action="participant_removed",
        actor=actor, occurred_at=now, version=rdv.ics_sequence,
        event=NotificationEvent.RDV_CANCELLED if active else None, status=RdvStatus(rdv.status),
        starts_at=rdv.starts_at, old_starts_at=rdv.starts_at, time_or_lieu_changed=False, old_agent_ids=(),
        new_agent_ids=(), usager_ids=(usager_id,) if active else (),
        changes={f"participation:{usager_id}": [old_status, None]}), commit=False)
    uow.publish()
    uow.session.delete(participation)
    uow.session.flush()


def _family_ids(uow: UnitOfWork, usager: Usager) -> set[int]:
    """The usager's family, of which one member only may take part in a collective session (domain.md 1,
    Participation): themself, their responsible (and the responsible's own), and the relatives of each."""
    heads = {require_id(usager)} | ({usager.responsible_id} if usager.responsible_id is not None else set())
    above = uow.session.exec(select(Usager.responsible_id).where(col(Usager.id).in_(heads),
                                                                 col(Usager.responsible_id).is_not(None))).all()
    heads |= {i for i in above if i is not None}
    relatives = uow.session.exec(select(not_null(Usager.id)).where(col(Usager.responsible_id).in_(heads))).all()
    return heads | set(relatives)


@boundary
def book_seat(uow: UnitOfWork, usager_id: int, *, rdv_id: int, for_usager_id: int | None = None,
              accepted_conditions: bool = False, now: datetime | None = None,
              sector: SectorAddress | None = None) -> Booked:
    """The signed-in usager takes a seat of a collective session for themself or a relative, and commits.

    The online booking's path: the session's row is locked (PostgreSQL `SELECT ... FOR UPDATE`; SQLite's
    write lock is taken at BEGIN), then the seats are counted on what the lock lets through, so twenty
    usagers racing for the last two seats make exactly two participations; the others get SlotTaken ("Cet
    atelier est complet"). Idempotent by person: a participant already registered gets their seat back
    as it is (`created` False, nothing sent twice); one who had cancelled is registered again. The
    participant hears "RDV confirmé", with the Infos et annulation link; the session's agents are told as
    for any online booking. With the usager's address (`sector`), a sectorised motif's session only where
    its sectors cover it (a motif sectorised by agent: a session one of its sectors' agents leads). One
    member of a family only takes part: a seat taken for a relative (or for oneself) replaces the seat
    another member of the family held, who hears "RDV annulé"."""
    return _counted(uow, lambda: _book_seat(uow, usager_id, rdv_id=rdv_id, for_usager_id=for_usager_id,
                                            accepted_conditions=accepted_conditions, now=now, sector=sector))


def _book_seat(uow: UnitOfWork, usager_id: int, *, rdv_id: int, for_usager_id: int | None,
               accepted_conditions: bool, now: datetime | None, sector: SectorAddress | None) -> Booked:
    now = now or clock.now()
    limit_key = f"booking:usager:{usager_id}"
    begin_write(uow.session)
    holder = _usager(uow, usager_id)
    rdv = _locked_session(uow, rdv_id)
    motif = uow.session.get(Motif, rdv.motif_id)
    if motif is None or not is_public_collectif(motif):
        raise NotFound("Cet atelier n'est pas ouvert à la réservation en ligne.")
    if sector is not None:
        _check_session_sector(uow, rdv, motif, sector)
    participant = holder if for_usager_id in (None, usager_id) else _relative(uow, holder, for_usager_id)
    existing = uow.session.exec(select(Participation).where(
        Participation.rdv_id == rdv_id, Participation.usager_id == require_id(participant))).first()
    if existing is not None and existing.status not in CANCELLED_STATUSES:
        return Booked(rdv_id=rdv_id, uuid=rdv.uuid, created=False)
    if rate_limit.is_blocked(BOOKINGS_PER_USAGER, limit_key):
        raise DomainError(TOO_MANY_BOOKINGS)
    if (motif.restriction_for_rdv or "").strip() and not accepted_conditions:
        raise DomainError("Veuillez lire et accepter les conditions de ce rendez-vous.", "accepted_conditions")
    # A relative's seat is the participant's to take (one member of a family only, `_take_seat`).
    family_seats = len(uow.session.exec(select(Participation.id).where(
        Participation.rdv_id == rdv_id, col(Participation.status).not_in(_CANCELLED),
        col(Participation.usager_id).in_(_family_ids(uow, participant) - {require_id(participant)}))).all())
    _refuse_seat(rdv, motif, now, family_seats)
    notify = motif.visibility_type == VisibilityType.VISIBLE_AND_NOTIFIED.value
    change = _take_seat(uow, rdv, motif, participant, [holder, participant], (notify, notify),
                        Actor.usager(usager_id), now, author=dict(created_by_type=AuthorType.USAGER.value),
                        tell_agents=True, already=None)
    rate_limit.record(BOOKINGS_PER_USAGER, limit_key)
    return Booked(rdv_id=rdv_id, uuid=rdv.uuid, created=True, outbox_ids=change.outbox_ids)


def _check_session_sector(uow: UnitOfWork, rdv: Rdv, motif: Motif, sector: SectorAddress) -> None:
    covered = sectors.address_coverage(uow, territory_of(uow, motif.organisation_id), sector)
    if not covered.offers(motif.sectorisation_level, motif.organisation_id):
        raise NotFound(NOT_IN_SECTOR)
    agent_ids = covered.agents_for(motif.sectorisation_level, motif.organisation_id)
    if agent_ids is not None and not agent_ids & set(uow.session.exec(
            select(RdvAgent.agent_id).where(RdvAgent.rdv_id == rdv.id)).all()):
        raise NotFound(NOT_IN_SECTOR)


@boundary
def prescribe_seat(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, *, usager_id: int, rdv_id: int,
                   now: datetime | None = None, ants_pre_demande_number: str = "") -> Booked:
    """An agent of `organisation_id` takes, for an usager of the territory, a seat of a session of a
    collective motif open to prescripteurs ("Élargir la recherche", admin-domain.md 10.2 step 4): the
    usagers' seat path (the session's row locked, the seats counted under the lock, the booking delays),
    the participation authored by the prescribing agent. Idempotent by person: the same agent sending the
    same usager twice gets the seat back (`created` False); an usager already registered by someone else is
    refused. The usager hears "RDV confirmé", the session's agents are told, the agent gets their email.
    A motif of an ANTS category needs the usager's pre-demande number, as for `prescribe_rdv`."""
    return _counted(uow, lambda: _prescribe_seat(uow, actor_agent_id, organisation_id, usager_id=usager_id,
                                                 rdv_id=rdv_id, now=now, ants_number=ants_pre_demande_number))


def _prescribe_seat(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, *, usager_id: int, rdv_id: int,
                    now: datetime | None, ants_number: str) -> Booked:
    now = now or clock.now()
    begin_write(uow.session)
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    rdv = _locked_session(uow, rdv_id)
    motif = prescribable_motif(uow, scope, rdv.motif_id)
    if not motif.collectif:
        raise NotFound("Cet atelier est introuvable.")
    participant = prescription_usager(uow, scope, usager_id)
    existing = _participation(uow, rdv_id, usager_id)
    if existing is not None and existing.status not in CANCELLED_STATUSES:
        if existing.created_by_agent_prescripteur and existing.created_by_agent_id == actor_agent_id:
            return Booked(rdv_id=rdv_id, uuid=rdv.uuid, created=False)
        raise DomainError("Cet usager est déjà inscrit à cet atelier.", "usager_id")
    _check_informations(motif, participant, participant)
    number = ants_service.required_number(uow, rdv.motif_id, ants_number)
    _refuse_seat(rdv, motif, now)
    ants_service.keep_number(uow, participant, number, now)
    notify = motif.visibility_type == VisibilityType.VISIBLE_AND_NOTIFIED.value
    change = _take_seat(uow, rdv, motif, participant, [participant], (notify, notify), Actor.agent(actor_agent_id),
                        now, author=dict(created_by_type=AuthorType.AGENT.value, created_by_agent_id=actor_agent_id,
                                         created_by_agent_prescripteur=True),
                        tell_agents=True, already="Cet usager est déjà inscrit à cet atelier.")
    return Booked(rdv_id=rdv_id, uuid=rdv.uuid, created=True, outbox_ids=change.outbox_ids)


@boundary
def book_seat_by_prescripteur(uow: UnitOfWork, *, rdv_id: int, prescripteur: PrescripteurEntry,
                              beneficiaire: BeneficiaireEntry, ip: str, now: datetime | None = None,
                              sector: SectorAddress | None = None) -> Booked:
    """An external prescripteur ("Je suis un prescripteur", domain.md 6.4 step 4) takes, for a bénéficiaire,
    a seat of a session of a collective motif open to prescripteurs: the usagers' seat path (the session's
    row locked, the seats counted under the lock, the booking delays), then in the same transaction the
    Prescripteur row, the bénéficiaire found or created as for an individual RDV, their profile in the
    organisation and the participation authored by the prescripteur. Idempotent by person: a bénéficiaire
    already registered in the session (same names, and the same mobile or email when given) gets the seat
    back (`created` False). Bookings are counted by the client's address `ip`. With the bénéficiaire's
    address (`sector`), a sectorised motif's session only where its sectors cover it, as for usagers."""
    return _counted(uow, lambda: _book_seat_by_prescripteur(uow, rdv_id=rdv_id, prescripteur=prescripteur,
                                                            beneficiaire=beneficiaire, ip=ip, now=now, sector=sector))


def _book_seat_by_prescripteur(uow: UnitOfWork, *, rdv_id: int, prescripteur: PrescripteurEntry,
                               beneficiaire: BeneficiaireEntry, ip: str, now: datetime | None,
                               sector: SectorAddress | None) -> Booked:
    now = now or clock.now()
    limit_key = f"booking:prescripteur:{ip}"
    who = public_prescripteur.check_prescripteur(prescripteur)
    begin_write(uow.session)
    rdv = _locked_session(uow, rdv_id)
    motif = public_prescripteur.open_motif(uow, rdv.motif_id, collectif=True)
    if sector is not None:
        _check_session_sector(uow, rdv, motif, sector)
    person = public_prescripteur.check_beneficiaire(uow, rdv.motif_id, beneficiaire)
    if _registered(uow, rdv_id, person):
        return Booked(rdv_id=rdv_id, uuid=rdv.uuid, created=False)
    if rate_limit.is_blocked(BOOKINGS_PER_PRESCRIPTEUR_ADDRESS, limit_key):
        raise DomainError(TOO_MANY_PRESCRIPTIONS)
    _refuse_seat(rdv, motif, now)
    row = Prescripteur(first_name=who.first_name, last_name=who.last_name, email=who.email,
                       phone_number=who.phone_number, created_at=now)
    uow.session.add(row)
    participant = _beneficiaire(uow, motif.organisation_id, person, now)
    _check_informations(motif, participant, participant)
    uow.session.flush()
    notify = motif.visibility_type == VisibilityType.VISIBLE_AND_NOTIFIED.value
    change = _take_seat(uow, rdv, motif, participant, [participant], (notify, notify), Actor(AuthorType.PRESCRIPTEUR),
                        now, author=dict(created_by_type=AuthorType.PRESCRIPTEUR.value, prescripteur_id=require_id(row)),
                        tell_agents=True, already="Le bénéficiaire est déjà inscrit à cet atelier.")
    rate_limit.record(BOOKINGS_PER_PRESCRIPTEUR_ADDRESS, limit_key)
    return Booked(rdv_id=rdv_id, uuid=rdv.uuid, created=True, outbox_ids=change.outbox_ids)


def _registered(uow: UnitOfWork, rdv_id: int, person: CleanBeneficiaire) -> bool:
    """Whether the bénéficiaire already holds a seat of the session: same names, and the same mobile or
    email when the form gave one (a confirmation sent twice, or a second prescripteur for the same person)."""
    query = (select(Usager.id).join(Participation, col(Participation.usager_id) == Usager.id)
             .where(Participation.rdv_id == rdv_id, col(Participation.status).not_in(_CANCELLED),
                    sa.func.lower(Usager.first_name) == person.first_name.lower(),
                    sa.func.lower(Usager.last_name) == person.last_name.lower()))
    if person.phone_e164 is not None:
        query = query.where(Usager.phone_number_formatted == person.phone_e164)
    if person.email is not None:
        query = query.where(Usager.email == person.email)
    return uow.session.exec(query.limit(1)).first() is not None


def _participation(uow: UnitOfWork, rdv_id: int, usager_id: int) -> Participation | None:
    return uow.session.exec(select(Participation).where(Participation.rdv_id == rdv_id,
                                                        Participation.usager_id == usager_id)).first()


def _refuse_seat(rdv: Rdv, motif: Motif, now: datetime, family_seats: int = 0) -> None:
    """SlotTaken, with the French reason, when a seat of the session cannot be taken online now
    (`family_seats`: the seats the participant's family holds, theirs to take)."""
    refusal = collectifs.seat_refusal(
        status=rdv.status, starts_at=rdv.starts_at, users_count=rdv.users_count - family_seats,
        max_participants_count=rdv.max_participants_count, now=now,
        window=collectifs.BookingWindow(motif.min_public_booking_delay, motif.max_public_booking_delay))
    if refusal is not None:
        raise SlotTaken(refusal)


def _locked_session(uow: UnitOfWork, rdv_id: int) -> Rdv:
    """The session's row, read again under a row lock (PostgreSQL; SQLite holds its write lock)."""
    rdv = uow.session.exec(select(Rdv).where(Rdv.id == rdv_id).with_for_update()
                           .execution_options(populate_existing=True)).first()
    if rdv is None:
        raise NotFound("Cet atelier est introuvable.")
    return rdv


def _take_seat(uow: UnitOfWork, rdv: Rdv, motif: Motif, participant: Usager, profiles: list[Usager],
               flags: tuple[bool, bool], actor: Actor, now: datetime, *, author: dict[str, Any],
               tell_agents: bool, already: str | None) -> RdvChange:
    """The participation written (or a cancelled one taken back) once the session is locked and checked,
    the seat counted, then the audit row and the event "created" for this participant.

    One member of a family only takes part (domain.md 1, Participation): the participations of the
    participant's relatives or responsible are removed first, each told as an agent's removal is, and
    the seat they held is the participant's to take."""
    rdv_id, participant_id = require_id(rdv), require_id(participant)
    existing = uow.session.exec(select(Participation).where(
        Participation.rdv_id == rdv_id, Participation.usager_id == participant_id)).first()
    if existing is not None and existing.status not in CANCELLED_STATUSES:
        raise DomainError(already or "Vous êtes déjà inscrit à cet atelier.", "usager_id")
    known = _outbox_ids(uow, rdv_id)
    family = _family_ids(uow, participant) - {participant_id}
    for relative in uow.session.exec(select(Participation).where(
            Participation.rdv_id == rdv_id, col(Participation.usager_id).in_(family))
            .order_by(col(Participation.id))).all():
        _drop_participation(uow, rdv, relative, actor, now)
    left = collectifs.seats_left(rdv.users_count, rdv.max_participants_count)
    if left is not None and left <= 0:
        raise SlotTaken(collectifs.FULL)
    if existing is None:
        existing = Participation(rdv_id=rdv_id, usager_id=participant_id)
    # Who registered them this time (a participant who had cancelled may come back through someone else).
    existing.created_by_agent_id, existing.created_by_agent_prescripteur, existing.prescripteur_id = None, False, None
    for name, value in author.items():
        setattr(existing, name, value)
    existing.status = RdvStatus.UNKNOWN.value
    existing.send_lifecycle_notifications, existing.send_reminder_notification = flags
    uow.session.add(existing)
    rdv.users_count += 1
    # A new version of the session (its fill changed): messages about it are new ones, even for a person
    # who registers again after cancelling, and calendars update the one event of the session.
    rdv.ics_sequence += 1
    rdv.updated_at = now
    uow.session.add(rdv)
    usagers_service.add_to_organisation(uow, rdv.organisation_id, profiles, actor, now=now)
    agents = tuple(agent_ids_of(uow, rdv_id)) if tell_agents else ()
    return _record(uow, rdv, RdvChanged(
        rdv_id=rdv_id, organisation_id=rdv.organisation_id, change=Change.UPDATED, action="participant_added",
        actor=actor, occurred_at=now, version=rdv.ics_sequence, event=NotificationEvent.RDV_CREATED,
        status=RdvStatus(rdv.status), starts_at=rdv.starts_at, old_starts_at=rdv.starts_at,
        time_or_lieu_changed=False, old_agent_ids=agents, new_agent_ids=agents, usager_ids=(participant_id,),
        changes={f"participation:{participant_id}": [None, RdvStatus.UNKNOWN.value]}), known=known)
