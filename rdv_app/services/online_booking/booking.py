"""Online booking by an usager: one transaction from the confirmed slot to the RDV and its notifications.

`book_rdv` is the last step of the public booking flow ("Confirmer mon RDV"):

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
   profile, the audit row and the notification outbox rows are written, then committed together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from limits import parse
from sqlmodel import col, select

from rdv_app.auth import rate_limit
from rdv_app.auth.tokens import hash_token
from rdv_app.db.engine import begin_write
from rdv_app.db.models import (
    Agent,
    Lieu,
    Motif,
    Organisation,
    Participation,
    PlageOuverture,
    PlageOuvertureMotif,
    Rdv,
    RdvAgent,
    Usager,
    UsagerProfile,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, datefmt
from rdv_app.domain.enums import (
    AuthorType,
    BookableBy,
    LieuAvailability,
    LocationType,
    NotificationEvent,
    RdvStatus,
    VisibilityType,
    WebhookSubscription,
)
from rdv_app.domain.labels import LOCATION_TYPE_LABELS
from rdv_app.domain.slots import Searcher, validate_slot
from rdv_app.notify.events import notify_rdv_change
from rdv_app.services import audit
from rdv_app.services.availability.slot_inputs import load_search, motif_context
from rdv_app.services.errors import DomainError, NotFound
from rdv_app.services.integrations import webhooks
from rdv_app.services.integrations.webhooks import WebhookEvent
from rdv_app.services.rdv.rdvs import RdvChange

SLOT_TAKEN = "Ce créneau n'est plus disponible. Choisissez un autre horaire."
# More online bookings than this in a day is not a person booking for their family.
BOOKINGS_PER_USAGER = parse("10/day")
TOO_MANY_BOOKINGS = ("Vous avez déjà pris beaucoup de rendez-vous aujourd'hui. Pour un autre rendez-vous, "
                     "contactez directement l'organisation.")
MAX_BOOKING_KEY_LENGTH = 100


class SlotTaken(DomainError):
    """The slot was booked by someone else (or closed) since it was shown: choose another one."""

    def __init__(self) -> None:
        super().__init__(SLOT_TAKEN, "slot")


@dataclass(frozen=True)
class Booked:
    rdv_id: int
    uuid: str
    created: bool  # False: this booking key had already booked the RDV (double click, resubmission)
    outbox_ids: tuple[int, ...] = ()  # messages to deliver right after the commit


def is_public_motif(motif: Motif) -> bool:
    """Open to usagers online: "Ouvert aux agents et aux usagers", individual, not archived."""
    return motif.bookable_by == BookableBy.EVERYONE.value and not motif.collectif and motif.deleted_at is None


def book_rdv(uow: UnitOfWork, usager_id: int, *, motif_id: int, starts_at: datetime, lieu_id: int | None,
             booking_key: str, for_usager_id: int | None = None, accepted_conditions: bool = False,
             now: datetime | None = None) -> Booked:
    """Books the slot starting at `starts_at` for the signed-in usager (or one of their relatives) and
    commits. Raises SlotTaken when the slot is gone, DomainError for anything the person must fix."""
    now = now or clock.now()
    key = (booking_key or "").strip()
    if not key or len(key) > MAX_BOOKING_KEY_LENGTH:
        raise DomainError("La demande de réservation est incomplète. Rechargez la page et réessayez.")
    if starts_at.utcoffset() is None:
        raise ValueError("starts_at must be an aware datetime")
    key_hash = hash_token(f"{usager_id}:{key}")
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

    participant = holder if for_usager_id in (None, usager_id) else _relative(uow, holder, for_usager_id)  # type: ignore[arg-type]
    context = motif_context(uow, motif_id, motif.organisation_id)
    _check_informations(motif, holder, participant)
    if (motif.restriction_for_rdv or "").strip() and not accepted_conditions:
        raise DomainError("Veuillez lire et accepter les conditions de ce rendez-vous.", "accepted_conditions")

    day = starts_at.astimezone(context.time_zone).date()
    search = load_search(uow, context, day, day, searcher=Searcher.USAGER, now=now, lieu_id=lieu_id)
    slot = validate_slot(search, starts_at, lieu_id=lieu_id)
    if slot is None:
        raise SlotTaken

    rdv = Rdv(organisation_id=motif.organisation_id, motif_id=motif_id, lieu_id=lieu_id,
              starts_at=slot.starts_at, ends_at=slot.ends_at, status=RdvStatus.UNKNOWN.value, users_count=1,
              created_by_type=AuthorType.USAGER.value, created_by_usager_id=usager_id,
              booking_key_hash=key_hash, created_at=now, updated_at=now)
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
    rdv_id: int = rdv.id  # type: ignore[assignment]
    notify = motif.visibility_type == VisibilityType.VISIBLE_AND_NOTIFIED.value
    uow.session.add(RdvAgent(rdv_id=rdv_id, agent_id=slot.agent_id))
    uow.session.add(Participation(rdv_id=rdv_id, usager_id=participant.id, status=RdvStatus.UNKNOWN.value,  # type: ignore[arg-type]
                                  send_lifecycle_notifications=notify, send_reminder_notification=notify,
                                  created_by_type=AuthorType.USAGER.value))
    _add_profiles(uow, motif.organisation_id, {holder.id, participant.id}, usager_id)  # type: ignore[arg-type]
    audit.record(uow.session, action="created", entity_type="rdv", entity_id=rdv_id,
                 changes=audit.diff({}, {"motif_id": motif_id, "lieu_id": lieu_id, "starts_at": slot.starts_at,
                                         "ends_at": slot.ends_at, "agent_ids": [slot.agent_id],
                                         "usager_ids": [participant.id]}),
                 organisation_id=motif.organisation_id, actor_usager_id=usager_id)
    change = RdvChange(rdv_id=rdv_id, event=NotificationEvent.RDV_CREATED, status=RdvStatus.UNKNOWN,
                       starts_at=slot.starts_at, old_starts_at=None, time_or_lieu_changed=False, old_agent_ids=(),
                       new_agent_ids=(slot.agent_id,), usager_ids=(participant.id,),  # type: ignore[arg-type]
                       author_agent_id=None, author_type=AuthorType.USAGER)
    outbox_ids = notify_rdv_change(uow.session, change, now=now)
    webhooks.emit(uow.session, WebhookSubscription.RDV, rdv_id, WebhookEvent.CREATED, now=now)
    uuid = rdv.uuid
    uow.commit()
    rate_limit.record(BOOKINGS_PER_USAGER, limit_key)
    return Booked(rdv_id=rdv_id, uuid=uuid, created=True, outbox_ids=tuple(outbox_ids))


# --------------------------------------------------------------------------- locking


def _lock_agents(uow: UnitOfWork, motif_id: int, lieu_id: int | None) -> None:
    """PostgreSQL: row locks on every agent who may take the slot (SQLite is already locked whole)."""
    if uow.session.get_bind().dialect.name != "postgresql":
        return
    candidates = (select(PlageOuverture.agent_id)
                  .join(PlageOuvertureMotif, col(PlageOuvertureMotif.plage_ouverture_id) == PlageOuverture.id)
                  .where(PlageOuvertureMotif.motif_id == motif_id))
    if lieu_id is not None:
        candidates = candidates.where(PlageOuverture.lieu_id == lieu_id)
    uow.session.exec(select(Agent.id).where(col(Agent.id).in_(candidates)).order_by(Agent.id)
                     .with_for_update()).all()


def _booked_with_key(uow: UnitOfWork, key_hash: str) -> Booked | None:
    row = uow.session.exec(select(Rdv.id, Rdv.uuid).where(Rdv.booking_key_hash == key_hash)).first()
    return None if row is None else Booked(rdv_id=row[0], uuid=row[1], created=False)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- checks


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


def _add_profiles(uow: UnitOfWork, organisation_id: int, usager_ids: set[int], actor_usager_id: int) -> None:
    present = set(uow.session.exec(select(UsagerProfile.usager_id).where(
        UsagerProfile.organisation_id == organisation_id, col(UsagerProfile.usager_id).in_(usager_ids))).all())
    for usager_id in sorted(usager_ids - present):
        profile = UsagerProfile(organisation_id=organisation_id, usager_id=usager_id)
        uow.session.add(profile)
        uow.session.flush()
        webhooks.emit(uow.session, WebhookSubscription.USER_PROFILE, profile.id, WebhookEvent.CREATED)  # type: ignore[arg-type]
        audit.record(uow.session, action="profile_added", entity_type="usager", entity_id=usager_id,
                     changes={"organisation_id": [None, organisation_id]}, organisation_id=organisation_id,
                     actor_usager_id=actor_usager_id)



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
    organisation_email: str | None


def booked_rdv(uow: UnitOfWork, usager_id: int, rdv_id: int) -> BookedRdv:
    """An RDV of the usager or of one of their relatives; NotFound for anyone else's."""
    row = uow.session.exec(
        select(Rdv, Motif, Organisation, Usager)
        .join(Motif, col(Motif.id) == Rdv.motif_id)
        .join(Organisation, col(Organisation.id) == Rdv.organisation_id)
        .join(Participation, col(Participation.rdv_id) == Rdv.id)
        .join(Usager, col(Usager.id) == Participation.usager_id)
        .where(Rdv.id == rdv_id, sa.or_(Usager.id == usager_id, Usager.responsible_id == usager_id))
    ).first()
    if row is None:
        raise NotFound("Ce rendez-vous est introuvable depuis votre compte.")
    rdv, motif, organisation, participant = row
    lieu = uow.session.get(Lieu, rdv.lieu_id) if rdv.lieu_id is not None else None
    place = f"{lieu.name}, {lieu.address}" if lieu else LOCATION_TYPE_LABELS[LocationType(motif.location_type)]
    phone = (lieu.phone_number if lieu else None) or organisation.phone_number
    return BookedRdv(id=rdv_id, when=datefmt.long_datetime(rdv.starts_at, organisation.timezone or "Europe/Paris"),
                     motif_name=motif.name, location_type=motif.location_type, place=place,
                     participant=f"{participant.first_name} {participant.last_name}",
                     instruction=(motif.instruction_for_rdv or "").strip() or None,
                     organisation_name=organisation.name, organisation_phone=phone,
                     organisation_email=organisation.email)
