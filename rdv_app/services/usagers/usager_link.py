"""The usager's "Infos et annulation" page behind the link of every SMS and email (issue 7, decision 6).

Flow, as the HTTP routes drive it (rdv_app/api/usager_link.py):
1. `open_link`: the token of `/r/<rdv id>/<token>` is checked against the stored SHA-256 (the latest one
   sent for a participation of that RDV, not expired) and exchanged for a signed 10-minute access bound
   to the RDV, the participation and its usager. Reading only: link scanners and previews open links,
   so opening one never writes to the database.
2. `check_initials`: the first three letters of the last name (rdv_app.domain.usager_link). Wrong answers
   are counted on the participation with one atomic UPDATE, so the lockout (5 wrong answers, then 15
   minutes) holds across processes; a right answer gives a signed 10-minute proof of it.
3. `summary`: what the page shows, in the organisation's time zone; `calendar_file`: the .ics.
4. `cancel`: "excusé", authored by the usager, while more than 4 hours remain and the motif allows it.
   The notifications go through `notify_rdv_change` with the usager as author: an email to the usager,
   no SMS, and the agents by their preferences.

An RDV whose motif is invisible to usagers has no such page: its links, whenever they were sent, lead
to the invalid-link page (the same "not found" as an unknown link).

Link openings and answers are also rate limited per IP (`limits`, like the agents' login).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parseaddr
from urllib.parse import quote_plus

import sqlalchemy as sa
from limits import parse
from sqlmodel import col, select

from rdv_app import routes
from rdv_app.auth import rate_limit
from rdv_app.auth.signed import sign, unsign
from rdv_app.auth.tokens import hash_token, is_link_token_of
from rdv_app.config import settings
from rdv_app.db.engine import begin_write
from rdv_app.db.models import (
    Lieu,
    Motif,
    Organisation,
    Participation,
    Rdv,
    Service,
    Territory,
    Usager,
)
from rdv_app.db.rows import require_id, table_of
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, datefmt
from rdv_app.domain.enums import (
    CANCELLED_STATUSES,
    LocationType,
    RdvStatus,
    SecurityEventKind,
)
from rdv_app.domain.rdv_move import EditRule, edit_rule, refusal_message
from rdv_app.domain.recipients import usagers_see
from rdv_app.domain.slots import Searcher, validate_slot
from rdv_app.domain.sms import person_name
from rdv_app.domain.usager_link import (
    ACCESS_LIFETIME,
    LOCKOUT,
    MAX_WRONG_ANSWERS,
    VERIFIED_LIFETIME,
    CancelRefusal,
    cancel_rule,
    initials_match,
    locks_the_link,
    says_cancelled,
    token_is_usable,
)
from rdv_app.notify import mailer
from rdv_app.notify.ics import Audience, IcsFile, IcsRdv, rdv_ics
from rdv_app.services import security_log
from rdv_app.services.availability.slot_inputs import load_search, motif_context
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError, NotFound
from rdv_app.services.online_booking.public_search import PublicWeek, motif_week
from rdv_app.services.rdv import lifecycle
from rdv_app.services.rdv.lifecycle import RdvChange

LINK_ATTEMPTS = parse("20/minute")  # per IP: link openings and 3-letter answers together
DEFAULT_CANCEL_WARNING = "Voulez-vous vraiment annuler ce rendez-vous ?"
_ACCESS = "usager-link-access"
_VERIFIED = "usager-link-verified"
_PARTICIPATION = table_of(Participation)
_LINK_PROOF_LENGTH = 16  # hex characters of the link's stored hash kept in the access cookie


class TooManyAttempts(DomainError):
    def __init__(self, wait_seconds: int) -> None:
        minutes = "une minute" if wait_seconds > 30 else f"{wait_seconds} secondes"
        super().__init__(f"Trop de tentatives depuis votre connexion. Veuillez patienter {minutes} avant de "
                         "réessayer.")
        self.wait_seconds = wait_seconds


class LinkLocked(DomainError):
    def __init__(self, until: datetime, time_zone: str) -> None:
        super().__init__(f"Après {MAX_WRONG_ANSWERS} réponses incorrectes, ce lien est bloqué pendant "
                         f"{int(LOCKOUT.total_seconds() // 60)} minutes. Vous pourrez réessayer à partir de "
                         f"{datefmt.hour(datefmt.local(until, time_zone))}.")
        self.until = until


class WrongInitials(DomainError):
    def __init__(self, remaining: int) -> None:
        tries = "1 essai" if remaining == 1 else f"{remaining} essais"
        super().__init__(f"Ces lettres ne correspondent pas au nom de famille. Il vous reste {tries} avant "
                         f"le blocage du lien pendant {int(LOCKOUT.total_seconds() // 60)} minutes.", "lettres")
        self.remaining = remaining


@dataclass(frozen=True)
class ParticipationRef:
    """One usager's participation in one RDV: what the summary and the cancellation work on, whether
    the usager came through a link or is signed in ("Mes rendez-vous", rdv_app.services.usager_rdvs)."""

    rdv_id: int
    participation_id: int
    usager_id: int


@dataclass(frozen=True)
class LinkAccess(ParticipationRef):
    """The 10-minute access a valid link gives, as its signed cookie says."""

    expires_at: datetime


@dataclass(frozen=True)
class LinkProof(LinkAccess):
    """What the access cookie proves even once its 10 minutes are over: which link opened it (the start
    of that link's stored hash) and until when that link works."""

    link_hash: str
    link_expires_at: datetime


@dataclass(frozen=True)
class CancelledNotice:
    """An earlier link of a cancelled RDV: when it was, when it was cancelled, whom to contact."""

    when: str
    cancelled_on: str | None  # "lundi 7 décembre 2026"; None for a participation left in a collective RDV
    organisation_name: str
    contact_phone: str | None
    contact_email: str | None
    book_again_url: str


@dataclass(frozen=True)
class RdvSummary:
    rdv_id: int
    title: str  # the motif
    when: str  # "lundi 7 décembre 2026 à 09h00" in the organisation's time zone ("vers" at home)
    duration_in_min: int
    location_type: str
    participants: tuple[str, ...]  # named when the person manages the RDV of a relative
    lieu_name: str | None
    lieu_address: str | None
    map_url: str | None
    phone_number_called: str | None  # phone RDVs: the number the agent calls
    home_address: str | None  # RDVs at home
    instructions: str | None
    organisation_name: str
    contact_phone: str | None
    contact_email: str | None
    cancelled: bool
    past: bool
    cancel_refusal: str | None  # None: "Annuler le rendez-vous" is offered
    cancel_warning: str
    book_again_url: str
    can_edit: bool = False  # "Changer la date" is offered (`editable_by_user?`)
    edit_notice: str = ""  # otherwise, while the RDV is to come: why not and whom to contact

    @property
    def can_cancel(self) -> bool:
        return self.cancel_refusal is None


def _now(now: datetime | None) -> datetime:
    return now or clock.now()


def _limit(ip: str) -> None:
    key = f"usager-link:ip:{ip}"
    wait = rate_limit.is_blocked(LINK_ATTEMPTS, key)
    if wait:
        raise TooManyAttempts(wait)
    rate_limit.record(LINK_ATTEMPTS, key)


# --------------------------------------------------------------------------- the link and the access


def _access_cookie(rdv_id: int, participation: Participation, now: datetime, key: str | None) -> str:
    """The signed access: the RDV, the participation and its usager, the end of the 10 minutes ("e"), and
    which link opened it ("h", the start of its stored hash) and until when that link works ("k")."""
    assert participation.access_token_hash is not None and participation.access_token_expires_at is not None
    return sign(_ACCESS, {"r": rdv_id, "p": participation.id, "u": participation.usager_id,
                          "e": int((now + ACCESS_LIFETIME).timestamp()),
                          "h": participation.access_token_hash[:_LINK_PROOF_LENGTH],
                          "k": int(participation.access_token_expires_at.timestamp())}, key or settings.secret_key)


@boundary
def open_link(uow: UnitOfWork, rdv_id: int, token: str, ip: str, *, now: datetime | None = None,
              key: str | None = None) -> str | None:
    """The signed access cookie for a valid link, or None (unknown, replaced or expired token, or a token
    of another RDV). Writes nothing to the database."""
    now = _now(now)
    _limit(ip)
    if not token or len(token) > 64:
        return None
    participation = uow.session.exec(
        select(Participation).where(Participation.access_token_hash == hash_token(token))).first()
    if participation is None or participation.rdv_id != rdv_id or not _visible(uow, rdv_id):
        return None
    if not token_is_usable(participation.access_token_expires_at, now):
        return None
    return _access_cookie(rdv_id, participation, now, key)


@boundary
def read_proof(rdv_id: int, cookie: str | None, *, key: str | None = None) -> LinkProof | None:
    """What an access cookie we made proves, whether or not its 10 minutes are over."""
    data = unsign(_ACCESS, cookie, key or settings.secret_key)
    if data is None or data.get("r") != rdv_id:
        return None
    try:
        return LinkProof(rdv_id=rdv_id, participation_id=int(data["p"]), usager_id=int(data["u"]),
                         expires_at=datetime.fromtimestamp(int(data["e"]), UTC), link_hash=str(data.get("h", "")),
                         link_expires_at=datetime.fromtimestamp(int(data.get("k", data["e"])), UTC))
    except (KeyError, TypeError, ValueError):
        return None


@boundary
def read_access(rdv_id: int, cookie: str | None, *, now: datetime | None = None,
                key: str | None = None) -> LinkAccess | None:
    proof = read_proof(rdv_id, cookie, key=key)
    if proof is None or _now(now) >= proof.expires_at:
        return None
    return LinkAccess(rdv_id=rdv_id, participation_id=proof.participation_id, usager_id=proof.usager_id,
                      expires_at=proof.expires_at)


@boundary
def renew_access(uow: UnitOfWork, proof: LinkProof, *, now: datetime | None = None,
                 key: str | None = None) -> str | None:
    """A new 10-minute access once the previous one is over, while the link that opened it is still the
    one that works: the usager then answers the 3 letters again. None when that link was replaced or has
    expired meanwhile. Writes nothing to the database."""
    now = _now(now)
    participation = uow.session.get(Participation, proof.participation_id, populate_existing=True)
    if (participation is None or participation.rdv_id != proof.rdv_id or participation.usager_id != proof.usager_id
            or not proof.link_hash or not (participation.access_token_hash or "").startswith(proof.link_hash)
            or not token_is_usable(participation.access_token_expires_at, now) or not _visible(uow, proof.rdv_id)):
        return None
    return _access_cookie(proof.rdv_id, participation, now, key)


@boundary
def cancelled_notice(uow: UnitOfWork, rdv_id: int, *, token: str | None = None, proof: LinkProof | None = None,
                     now: datetime | None = None) -> CancelledNotice | None:
    """What an earlier link of a cancelled RDV says (`token`: one we sent for it, or `proof`: the access
    cookie it gave), or None: the link is not one of ours for this RDV, the RDV is not cancelled for its
    usager, or that link would have expired anyway. Reading only."""
    now = _now(now)
    if proof is not None:
        participation = uow.session.get(Participation, proof.participation_id)
        if participation is not None and (participation.rdv_id, participation.usager_id) != (rdv_id, proof.usager_id):
            participation = None
    elif token and len(token) <= 64:
        participation = next((p for p in uow.session.exec(select(Participation).where(Participation.rdv_id == rdv_id))
                              if is_link_token_of(token, rdv_id, require_id(p), settings.secret_key)), None)
    else:
        participation = None
    if participation is None or not _visible(uow, rdv_id):
        return None
    loaded = _load(uow, ParticipationRef(rdv_id, require_id(participation), participation.usager_id))
    rdv = loaded.rdv
    if not says_cancelled(status=_status(loaded), cancelled_at=rdv.cancelled_at, rdv_ends_at=rdv.ends_at, now=now):
        return None
    lieu, organisation = loaded.lieu, loaded.organisation
    cancelled_on = (datefmt.long_date(datefmt.local(rdv.cancelled_at, loaded.time_zone).date())
                    if rdv.cancelled_at else None)
    return CancelledNotice(
        when=datefmt.long_datetime(rdv.starts_at, loaded.time_zone), cancelled_on=cancelled_on,
        organisation_name=organisation.name,
        contact_phone=(lieu.phone_number if lieu else None) or organisation.phone_number,
        contact_email=organisation.email,
        book_again_url=settings.frontend_url(routes.organisation_booking(require_id(organisation))))


@boundary
def is_verified(access: LinkAccess, cookie: str | None, *, now: datetime | None = None,
                key: str | None = None) -> bool:
    """Whether the 3-letter check was passed for this participation less than 10 minutes ago."""
    data = unsign(_VERIFIED, cookie, key or settings.secret_key)
    if data is None or data.get("p") != access.participation_id or data.get("u") != access.usager_id:
        return False
    return _now(now).timestamp() < int(data["e"])


# --------------------------------------------------------------------------- the 3-letter check


def _visible(uow: UnitOfWork, rdv_id: int) -> bool:
    """Whether usagers may see this RDV (its motif is not invisible to them)."""
    visibility = uow.session.exec(select(Motif.visibility_type).join(Rdv, col(Rdv.motif_id) == Motif.id)
                                  .where(Rdv.id == rdv_id)).first()
    return visibility is not None and usagers_see(visibility)


def _participation(uow: UnitOfWork, access: ParticipationRef) -> Participation:
    # Fresh from the database: the 3-letter check updates these rows with plain UPDATE statements.
    participation = uow.session.get(Participation, access.participation_id, populate_existing=True)
    if (participation is None or participation.rdv_id != access.rdv_id or participation.usager_id != access.usager_id
            or not _visible(uow, access.rdv_id)):
        raise NotFound("Ce lien n'est plus valide.")
    return participation


def _time_zone(uow: UnitOfWork, rdv_id: int) -> str:
    zone = uow.session.exec(
        select(Organisation.timezone, Territory.timezone)
        .join(Rdv, col(Rdv.organisation_id) == Organisation.id)
        .join(Territory, col(Territory.id) == Organisation.territory_id)
        .where(Rdv.id == rdv_id)).first()
    return (zone[0] or zone[1]) if zone else "Europe/Paris"


@boundary
def locked_until(uow: UnitOfWork, access: LinkAccess, *, now: datetime | None = None) -> datetime | None:
    """The end of the current lockout of this link, if any."""
    until = _participation(uow, access).link_locked_until
    return until if until is not None and until > _now(now) else None


@boundary
def lock_message(uow: UnitOfWork, access: LinkAccess, until: datetime) -> str:
    return LinkLocked(until, _time_zone(uow, access.rdv_id)).message


def _names_accepted(uow: UnitOfWork, usager_id: int) -> tuple[str, ...]:
    """The participant's last name, and their responsible person's: the SMS of a child's RDV goes to
    the parent, who may type either."""
    usager = uow.session.get(Usager, usager_id)
    if usager is None:
        return ()
    names = [usager.last_name, usager.birth_name]
    if usager.responsible_id is not None:
        responsible = uow.session.get(Usager, usager.responsible_id)
        if responsible is not None:
            names += [responsible.last_name, responsible.birth_name]
    return tuple(name for name in names if name and name.strip())


@boundary(form_fields={"answer": "lettres"})
def check_initials(uow: UnitOfWork, access: LinkAccess, answer: str, ip: str, *, now: datetime | None = None,
                   key: str | None = None) -> str:
    """The signed 10-minute proof of a right answer; raises WrongInitials, LinkLocked, TooManyAttempts,
    or DomainError for an empty answer (which does not count)."""
    now = _now(now)
    if not answer.strip():
        raise DomainError("Saisissez les trois premières lettres de votre nom de famille.", "lettres")
    _limit(ip)
    begin_write(uow.session)
    participation = _participation(uow, access)
    table = _PARTICIPATION.c
    not_locked = sa.or_(table.link_locked_until.is_(None), table.link_locked_until <= now)
    if participation.link_locked_until is not None and participation.link_locked_until > now:
        raise LinkLocked(participation.link_locked_until, _time_zone(uow, access.rdv_id))
    if initials_match(answer, _names_accepted(uow, access.usager_id)):
        uow.session.execute(sa.update(_PARTICIPATION).where(table.id == participation.id, not_locked)
                            .values(link_failed_attempts=0, link_last_failed_at=None))
        uow.commit()
        return sign(_VERIFIED, {"p": access.participation_id, "u": access.usager_id,
                                "e": int((now + VERIFIED_LIFETIME).timestamp())}, key or settings.secret_key)
    # One statement counts the failure, so concurrent answers from several processes all count; failures
    # older than the lockout are forgotten.
    recent = sa.and_(table.link_last_failed_at.is_not(None), table.link_last_failed_at > now - LOCKOUT)
    failures = uow.session.execute(
        sa.update(_PARTICIPATION).where(table.id == participation.id, not_locked)
        .values(link_failed_attempts=sa.case((recent, table.link_failed_attempts + 1), else_=1),
                link_last_failed_at=now)
        .returning(table.link_failed_attempts)).scalar()
    organisation_id = uow.session.exec(select(Rdv.organisation_id).where(Rdv.id == access.rdv_id)).first()
    security_log.record(uow.session, SecurityEventKind.USAGER_INITIALS_FAILED, organisation_id=organisation_id,
                        ip=ip, now=now)
    if failures is None or locks_the_link(failures):
        until = now + LOCKOUT
        if failures is not None:
            uow.session.execute(sa.update(_PARTICIPATION).where(table.id == participation.id)
                                .values(link_locked_until=until, link_failed_attempts=0))
            security_log.record(uow.session, SecurityEventKind.USAGER_LINK_LOCKED, organisation_id=organisation_id,
                                ip=ip, now=now)
        else:  # another answer locked the link meanwhile
            until = uow.session.execute(select(Participation.link_locked_until)
                                        .where(Participation.id == participation.id)).scalar_one()
        uow.commit()
        raise LinkLocked(until, _time_zone(uow, access.rdv_id))
    uow.commit()
    raise WrongInitials(MAX_WRONG_ANSWERS - failures)


# --------------------------------------------------------------------------- the summary


@dataclass(frozen=True)
class _Loaded:
    rdv: Rdv
    motif: Motif
    service: Service
    organisation: Organisation
    territory: Territory
    lieu: Lieu | None
    participation: Participation
    usager: Usager
    responsible: Usager | None

    @property
    def time_zone(self) -> str:
        return self.organisation.time_zone


def _load(uow: UnitOfWork, access: ParticipationRef, *, for_update: bool = False) -> _Loaded:
    participation = _participation(uow, access)
    statement = (
        # sqlmodel types select() for at most 4 entities.
        select(Rdv, Motif, Service, Organisation, Territory)  # type: ignore[call-overload]
        .join(Motif, col(Motif.id) == Rdv.motif_id)
        .join(Service, col(Service.id) == Motif.service_id)
        .join(Organisation, col(Organisation.id) == Rdv.organisation_id)
        .join(Territory, col(Territory.id) == Organisation.territory_id)
        .where(Rdv.id == access.rdv_id)
        .execution_options(populate_existing=True))
    if for_update:  # PostgreSQL: two cancellations of one RDV run one after the other
        statement = statement.with_for_update(of=Rdv)
    row = uow.session.exec(statement).first()
    usager = uow.session.get(Usager, access.usager_id)
    if row is None or usager is None or usager.deleted_at is not None:
        raise NotFound("Ce lien n'est plus valide.")
    rdv, motif, service, organisation, territory = row
    lieu = uow.session.get(Lieu, rdv.lieu_id) if rdv.lieu_id is not None else None
    responsible = uow.session.get(Usager, usager.responsible_id) if usager.responsible_id else None
    return _Loaded(rdv, motif, service, organisation, territory, lieu, participation, usager, responsible)


def _map_url(lieu: Lieu) -> str:
    if lieu.latitude is not None and lieu.longitude is not None:
        return (f"https://www.openstreetmap.org/?mlat={lieu.latitude}&mlon={lieu.longitude}"
                f"#map=17/{lieu.latitude}/{lieu.longitude}")
    return f"https://www.openstreetmap.org/search?query={quote_plus(lieu.address)}"


def _status(loaded: _Loaded) -> RdvStatus:
    """The usager's own status: their participation's in a collective RDV, the RDV's otherwise."""
    if loaded.motif.collectif:
        return RdvStatus(loaded.participation.status)
    return RdvStatus(loaded.rdv.status)


def _home_address(usager: Usager) -> str | None:
    parts = [usager.address, usager.address_details]
    text = ", ".join(p.strip() for p in parts if p and p.strip())
    return text or None


@boundary
def summary(uow: UnitOfWork, access: ParticipationRef, *, now: datetime | None = None) -> RdvSummary:
    now = _now(now)
    loaded = _load(uow, access)
    rdv, motif, lieu, organisation = loaded.rdv, loaded.motif, loaded.lieu, loaded.organisation
    location_type = LocationType(motif.location_type)
    when = datefmt.long_datetime(rdv.starts_at, loaded.time_zone)
    if location_type == LocationType.HOME:
        when = when.replace(" à ", " vers ", 1)
    status = _status(loaded)
    rule = cancel_rule(status=status, starts_at=rdv.starts_at, now=now,
                       motif_allows=motif.rdvs_cancellable_by_user)
    edit = _edit_rule(loaded, now)
    contact = loaded.responsible or loaded.usager
    phone_called = None
    if location_type == LocationType.PHONE:
        phone_called = (loaded.usager.phone_number_formatted or loaded.usager.phone_number
                        or contact.phone_number_formatted or contact.phone_number)
    home = None
    if location_type == LocationType.HOME:
        home = _home_address(loaded.usager) or _home_address(contact)
    participants = (person_name(loaded.usager.first_name, loaded.usager.last_name),) if loaded.responsible else ()
    return RdvSummary(
        rdv_id=require_id(rdv),
        title=f"{motif.name} : {rdv.name}" if motif.collectif and rdv.name not in (None, motif.name) else motif.name,
        when=when,
        duration_in_min=int((rdv.ends_at - rdv.starts_at).total_seconds() // 60),
        location_type=location_type.value,
        participants=participants,
        lieu_name=lieu.name if lieu else None,
        lieu_address=lieu.address if lieu else None,
        map_url=_map_url(lieu) if lieu else None,
        phone_number_called=phone_called,
        home_address=home,
        instructions=(motif.instruction_for_rdv or "").strip() or None,
        organisation_name=organisation.name,
        contact_phone=(lieu.phone_number if lieu else None) or organisation.phone_number,
        contact_email=organisation.email,
        cancelled=status in CANCELLED_STATUSES,
        past=rule.refusal == CancelRefusal.PAST,
        cancel_refusal=rule.refusal.value if rule.refusal else None,
        cancel_warning=(motif.custom_cancel_warning_message or "").strip() or DEFAULT_CANCEL_WARNING,
        book_again_url=settings.frontend_url(routes.organisation_booking(require_id(organisation))),
        can_edit=edit.allowed,
        edit_notice="" if edit.refusal is None or status in CANCELLED_STATUSES or rule.refusal == CancelRefusal.PAST
        else refusal_message(edit.refusal, _contact(loaded)),
    )


@boundary
def calendar_file(uow: UnitOfWork, access: ParticipationRef, *, now: datetime | None = None) -> IcsFile:
    """The RDV as an .ics for the usager's calendar (the same content as the emails' attachment)."""
    loaded = _load(uow, access)
    rdv, motif, lieu = loaded.rdv, loaded.motif, loaded.lieu
    location_type = LocationType(motif.location_type)
    organizer = parseaddr(mailer.SmtpSettings.from_env().mail_from)[1] or "ne-pas-repondre@localhost"
    contact = loaded.responsible or loaded.usager
    ics = IcsRdv(uid=rdv.uuid, sequence=rdv.ics_sequence, starts_at=rdv.starts_at, ends_at=rdv.ends_at,
                 time_zone=loaded.time_zone, motif_name=motif.name,
                 location_type=location_type, organizer_email=organizer,
                 link=f"{settings.public_url}{routes.USAGER_LINK}", cancelled=_status(loaded) in CANCELLED_STATUSES,
                 lieu_name=lieu.name if lieu else None, lieu_address=lieu.address if lieu else None,
                 home_address=(_home_address(loaded.usager) or _home_address(contact))
                 if location_type == LocationType.HOME else None)
    return rdv_ics(ics, Audience.USAGER, _now(now))


# --------------------------------------------------------------------------- cancellation


@boundary
def cancel(uow: UnitOfWork, access: ParticipationRef, *, actor_usager_id: int | None = None,
           now: datetime | None = None) -> RdvChange:
    """The usager cancels through the RDV lifecycle (`cancel_by_usager`: "excusé", their participation
    only in a collective RDV, while the rules allow it), once their access to the participation holds.
    `actor_usager_id`: who clicked, when it is not the participant (a parent for their child)."""
    _participation(uow, access)
    usager = uow.session.get(Usager, access.usager_id)
    if usager is None or usager.deleted_at is not None:
        raise NotFound("Ce lien n'est plus valide.")
    return lifecycle.cancel_by_usager(uow, access.rdv_id, access.usager_id, actor_usager_id=actor_usager_id,
                                      now=now)


# --------------------------------------------------------------------------- changing the date


def _edit_rule(loaded: _Loaded, now: datetime) -> EditRule:
    rdv, motif = loaded.rdv, loaded.motif
    return edit_rule(status=_status(loaded), starts_at=rdv.starts_at, now=now, collectif=motif.collectif,
                     motif_allows=motif.rdvs_editable_by_user, bookable_by=motif.bookable_by,
                     created_by_type=rdv.created_by_type)


def _contact(loaded: _Loaded) -> str:
    """Whom the usager calls: "Mairie de Lens au 03 21 00 00 00" (or by email, or the name alone)."""
    organisation = loaded.organisation
    phone = (loaded.lieu.phone_number if loaded.lieu else None) or organisation.phone_number
    if phone:
        return f"{organisation.name} au {phone}"
    return f"{organisation.name} par email à {organisation.email}" if organisation.email else organisation.name


def _editable(uow: UnitOfWork, access: ParticipationRef, now: datetime) -> _Loaded:
    loaded = _load(uow, access)
    rule = _edit_rule(loaded, now)
    if rule.refusal is not None:
        raise DomainError(refusal_message(rule.refusal, _contact(loaded)))
    return loaded


@dataclass(frozen=True)
class MoveChoice:
    """The confirmation of a new date: the RDV as it is, and the slot chosen."""

    title: str
    current_starts_at: datetime
    current_when: str  # "lundi 7 décembre 2026 à 09h00"
    new_when: str | None  # None: this start is not offered (taken meanwhile, or never offered)
    place: str
    time_zone: str


@boundary
def move_week(uow: UnitOfWork, access: ParticipationRef, from_day: date | None = None, *,
              now: datetime | None = None) -> PublicWeek:
    """The week of slots of the RDV's motif and lieu from `from_day`, as online booking shows it (the
    booking delays apply); DomainError with the reason when the date cannot be changed."""
    now = _now(now)
    loaded = _editable(uow, access, now)
    context = motif_context(uow, require_id(loaded.motif), loaded.organisation.id)
    return motif_week(uow, context, loaded.rdv.lieu_id, from_day, now)


@boundary
def move_choice(uow: UnitOfWork, access: ParticipationRef, starts_at: datetime | None, *,
                now: datetime | None = None) -> MoveChoice:
    """What the confirmation step shows for the start `starts_at` (None: none chosen yet), checked with
    the engine that will take it; DomainError when the date cannot be changed."""
    now = _now(now)
    loaded = _editable(uow, access, now)
    rdv, tz = loaded.rdv, loaded.time_zone
    new_when = None
    if starts_at is not None and starts_at != rdv.starts_at:
        context = motif_context(uow, require_id(loaded.motif), loaded.organisation.id)
        day = starts_at.astimezone(context.time_zone).date()
        search = load_search(uow, context, day, day, searcher=Searcher.USAGER, now=now, lieu_id=rdv.lieu_id,
                             exclude_rdv_id=rdv.id)
        if validate_slot(search, starts_at, lieu_id=rdv.lieu_id) is not None:
            new_when = datefmt.long_datetime(starts_at, tz)
    place = f"{loaded.lieu.name}, {loaded.lieu.address}" if loaded.lieu else ""
    return MoveChoice(title=loaded.motif.name, current_starts_at=rdv.starts_at,
                      current_when=datefmt.long_datetime(rdv.starts_at, tz), new_when=new_when, place=place,
                      time_zone=tz)


@boundary
def move(uow: UnitOfWork, access: ParticipationRef, *, starts_at: datetime, from_starts_at: datetime,
         actor_usager_id: int | None = None, now: datetime | None = None) -> RdvChange | None:
    """The usager moves the RDV through its lifecycle (`move_by_usager`), once their access to the
    participation holds; None when this move was already done (a double click)."""
    loaded = _load(uow, access)
    contact = _contact(loaded)
    uow.rollback()  # the move reads everything again under the booking lock
    return lifecycle.move_by_usager(uow, access.rdv_id, access.usager_id, starts_at=starts_at,
                                    from_starts_at=from_starts_at, actor_usager_id=actor_usager_id,
                                    contact=contact, now=now)
