"""An usager's page for agents (admin-domain.md 1.3, 1.5, 1.6): every field, banners, notifications,
referent agents, relatives, RDVs, history; and what is done from it: referents added or removed, the
account invitation, the removal from the organisation.

Any agent of the organisation may see and act on the usagers it sees in full (`usagers.listed_in`), with
no service restriction; the RDVs shown follow the agent's RDV rule (`rights.visible_rdvs`); the history is
for the organisation's admins. An usager of another organisation or territory, deleted or unknown, is
NotFound, and so is an agent who is not of the organisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import col, func, select

from rdv_app.db.models import (
    Agent,
    AgentRole,
    AgentService,
    AuditLog,
    Motif,
    Organisation,
    Participation,
    Rdv,
    RdvAgent,
    ReferentAssignation,
    Service,
    Territory,
    Usager,
    UsagerProfile,
)
from rdv_app.db.rows import not_null, require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, datefmt
from rdv_app.domain.ages import age_label
from rdv_app.domain.enums import AccessLevel, RdvStatus, WebhookSubscription
from rdv_app.domain.events import Change, RecordChanged
from rdv_app.domain.masking import reverse_full_name
from rdv_app.domain.names import agent_name, usager_name
from rdv_app.domain.rdv_status import CANCELLED_STATUSES, status_label
from rdv_app.domain.recipients import phone_region, sms_number
from rdv_app.services import audit
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError, NotFound, PermissionDenied
from rdv_app.services.retention import anonymise_usager
from rdv_app.services.rights import AgentScope, agent_scope, visible_rdvs
from rdv_app.services.usagers.usager_auth import INVITATION_LIFETIME, queue_invitation
from rdv_app.services.usagers.usager_list import (
    AgentChoice,
    agents_of_organisation,
    organisation_agent,
    usager_ids_sharing_phone,
)
from rdv_app.services.usagers.usagers import listed_in

SITE_NAME = "RDV Services Publics"
NEXT_RDVS = 10
CURRENT_WINDOW = timedelta(hours=1)
HAS_FUTURE_RDVS = "L'usager ou ses proches ont des rendez-vous programmés, vous ne pouvez pas le supprimer."
_ENTITY = "usager"
_STATUS_COUNTERS = (("seen", "Honorés"), ("excused", "Annulés (excusés)"), ("revoked", "Annulés (par le service)"),
                    ("noshow", "Absences non excusées"), ("unknown_future", "À venir"),
                    ("unknown_past", "Passés, statut non renseigné"))
_HISTORY_ACTIONS = {"created": "Fiche créée", "updated": "Fiche modifiée", "profile_added": "Ajouté à l'organisation",
                    "referent_added": "Agent référent ajouté", "referent_removed": "Agent référent retiré",
                    "invited": "Invitation envoyée", "merged": "Fusion", "profile_removed": "Retiré de l'organisation"}
_HISTORY_FIELDS = {"first_name": "Prénom", "last_name": "Nom", "birth_name": "Nom de naissance",
                   "birth_date": "Date de naissance", "email": "Email", "phone_number": "Téléphone",
                   "address": "Adresse", "organisation_id": "Organisation", "referent": "Agent référent",
                   "notify_by_sms": "Notifications par SMS", "notify_by_email": "Notifications par email"}


@dataclass(frozen=True)
class Detail:
    label: str
    value: str


@dataclass(frozen=True)
class Notification:
    label: str  # "Notifications par SMS"
    enabled: bool  # 🟢 or 🔴
    text: str  # "Activées", "pas d'email renseigné"...


@dataclass(frozen=True)
class PersonLine:
    id: int
    name: str
    age: str | None


@dataclass(frozen=True)
class ReferentLine:
    id: int
    name: str
    services: str
    removable: bool  # an agent of this organisation


@dataclass(frozen=True)
class RdvLine:
    id: int
    when: str
    motif: str
    status: str
    agents: str


@dataclass(frozen=True)
class StatusCounter:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class HistoryLine:
    when: str
    author: str
    action: str
    details: tuple[str, ...]


@dataclass(frozen=True)
class UsagerPage:
    id: int
    full_name: str  # "Jeanne DUPONT"
    relative: bool
    details: tuple[Detail, ...]
    notifications: tuple[Notification, ...]
    phone_search: str | None  # the E.164 number, when other usagers of the organisation share it
    not_registered: bool  # "Cet usager ne s'est pas encore créé de compte"
    invitable: bool
    invitation_sent: str | None  # "Invitation envoyée il y a 2 jours"
    franceconnect: bool
    referents: tuple[ReferentLine, ...]
    referent_choices: tuple[AgentChoice, ...]  # the organisation's agents not yet referents
    relatives: tuple[PersonLine, ...]
    responsible: PersonLine | None
    responsible_details: tuple[Detail, ...]
    responsible_referents: tuple[str, ...]
    current_rdvs: tuple[RdvLine, ...]
    next_rdvs: tuple[RdvLine, ...]
    rdv_count: int
    counters: tuple[StatusCounter, ...]
    history: tuple[HistoryLine, ...] | None  # None: not an admin of the organisation


@dataclass(frozen=True)
class Removal:
    message: str
    anonymised: tuple[int, ...]  # the usagers left without organisation


def visible_usager(uow: UnitOfWork, organisation_id: int, usager_id: int) -> Usager:
    """An usager the organisation's agents see in full; NotFound otherwise."""
    usager = uow.session.exec(select(Usager).where(Usager.id == usager_id, col(Usager.deleted_at).is_(None),
                                                   listed_in(uow, organisation_id))).first()
    if usager is None:
        raise NotFound("Cet usager n'existe pas ou n'est pas suivi par cette organisation.")
    return usager


def invitable(usager: Usager) -> bool:
    """admin-domain.md 1.6: an email, no account yet, not a relative, never signed in with FranceConnect."""
    return (usager.email is not None and usager.email_verified_at is None and usager.responsible_id is None
            and not usager.logged_once_with_franceconnect)


@boundary
def usager_page(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, usager_id: int,
                now: datetime | None = None) -> UsagerPage:
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    usager = visible_usager(uow, organisation_id, usager_id)
    now = now or clock.now()
    organisation, territory = uow.session.exec(
        select(Organisation, Territory).join(Territory, col(Territory.id) == Organisation.territory_id)
        .where(Organisation.id == organisation_id)).one()
    today = datefmt.local(now, organisation.time_zone).date()
    responsible = uow.session.get(Usager, usager.responsible_id) if usager.responsible_id is not None else None
    if responsible is not None and responsible.deleted_at is not None:
        responsible = None
    contact = responsible or usager
    region = phone_region(territory.departement_number)
    shares_phone = bool(usager_ids_sharing_phone(uow, organisation_id, usager))
    referents = _referents(uow, organisation_id, usager_id)
    taken = {line.id for line in referents}
    choices = tuple(a for a in agents_of_organisation(uow, organisation_id) if a.id not in taken)
    current, upcoming, rdv_count, counters = _rdvs(uow, scope, usager_id, organisation.time_zone, now)
    return UsagerPage(
        id=usager_id, full_name=usager_name(usager.first_name, usager.last_name),
        relative=usager.responsible_id is not None,
        details=_details(usager, contact, today, notes_shown=territory.enable_notes_field),
        notifications=_notifications(usager, contact, region),
        phone_search=usager.phone_number_formatted if shares_phone else None,
        not_registered=usager.email_verified_at is None and not usager.logged_once_with_franceconnect,
        invitable=invitable(usager), invitation_sent=_invitation_sent(uow, usager_id, now),
        franceconnect=usager.logged_once_with_franceconnect,
        referents=referents, referent_choices=choices,
        relatives=_relatives(uow, organisation_id, usager_id, today),
        responsible=None if responsible is None else PersonLine(
            require_id(responsible), usager_name(responsible.first_name, responsible.last_name),
            None if responsible.birth_date is None else age_label(responsible.birth_date, today)),
        responsible_details=() if responsible is None else _details(responsible, responsible, today,
                                                                    notes_shown=False),
        responsible_referents=() if responsible is None else tuple(
            line.name for line in _referents(uow, organisation_id, require_id(responsible))),
        current_rdvs=current, next_rdvs=upcoming, rdv_count=rdv_count, counters=counters,
        history=_history(uow, usager_id, organisation.time_zone) if scope.access_level == AccessLevel.ADMIN else None,
    )


def _details(usager: Usager, contact: Usager, today: date, *, notes_shown: bool) -> tuple[Detail, ...]:
    """Every field the usager has; a relative's email, phone and address are their responsible's."""
    birth = None
    if usager.birth_date is not None:
        birth = f"{usager.birth_date:%d/%m/%Y} ({age_label(usager.birth_date, today)})"
    city = " ".join(part for part in (contact.post_code, contact.city_name) if part) or None
    values = (("Prénom", usager.first_name), ("Nom d'usage", usager.last_name), ("Nom de naissance", usager.birth_name),
              ("Date de naissance", birth), ("Email", contact.email), ("Téléphone", contact.phone_number),
              ("Adresse", contact.address), ("Complément d'adresse", contact.address_details),
              ("Code postal et commune", city), ("Numéro de dossier", usager.case_number),
              ("Remarques", usager.notes if notes_shown else None))
    return tuple(Detail(label, value) for label, value in values if value)


def _notifications(usager: Usager, contact: Usager, region: str) -> tuple[Notification, ...]:
    if not usager.notify_by_email:
        email = Notification("Notifications par email", False, "Désactivées")
    elif not contact.email:
        email = Notification("Notifications par email", False, "pas d'email renseigné")
    else:
        email = Notification("Notifications par email", True, "Activées")
    if not usager.notify_by_sms:
        sms = Notification("Notifications par SMS", False, "Désactivées")
    elif not contact.phone_number:
        sms = Notification("Notifications par SMS", False, "pas de numéro de téléphone renseigné")
    elif sms_number(contact.phone_number, region) is None:
        sms = Notification("Notifications par SMS", False, "le numéro de téléphone renseigné n'est pas un mobile")
    else:
        sms = Notification("Notifications par SMS", True, "Activées")
    return sms, email


def _referents(uow: UnitOfWork, organisation_id: int, usager_id: int) -> tuple[ReferentLine, ...]:
    agents = uow.session.exec(
        select(Agent).join(ReferentAssignation, col(ReferentAssignation.agent_id) == Agent.id)
        .where(ReferentAssignation.usager_id == usager_id, col(Agent.deleted_at).is_(None))).all()
    ids = [require_id(a) for a in agents]
    services: dict[int, list[str]] = {}
    for agent_id, name in uow.session.exec(
            select(AgentService.agent_id, Service.name).join(Service, col(Service.id) == AgentService.service_id)
            .where(col(AgentService.agent_id).in_(ids)).order_by(col(Service.name))).all():
        services.setdefault(agent_id, []).append(name)
    members = set(uow.session.exec(select(not_null(Agent.id)).where(col(Agent.id).in_(ids), col(Agent.id).in_(
        select(AgentRole.agent_id).where(AgentRole.organisation_id == organisation_id)))).all())
    lines = [ReferentLine(require_id(a), agent_name(a.first_name, a.last_name), ", ".join(services.get(a.id or 0, [])),
                          require_id(a) in members) for a in agents]
    return tuple(sorted(lines, key=lambda line: line.name.casefold()))


def _relatives(uow: UnitOfWork, organisation_id: int, usager_id: int, today: date) -> tuple[PersonLine, ...]:
    relatives = uow.session.exec(select(Usager).where(
        Usager.responsible_id == usager_id, col(Usager.deleted_at).is_(None),
        col(Usager.id).in_(select(UsagerProfile.usager_id).where(UsagerProfile.organisation_id == organisation_id)))
    ).all()
    ordered = sorted(relatives, key=lambda u: (u.birth_date is None, u.birth_date or today, u.id))
    return tuple(PersonLine(require_id(u), reverse_full_name(u.first_name, u.last_name),
                            None if u.birth_date is None else age_label(u.birth_date, today)) for u in ordered)


def _rdvs(uow: UnitOfWork, scope: AgentScope, usager_id: int, time_zone: str, now: datetime,
          ) -> tuple[tuple[RdvLine, ...], tuple[RdvLine, ...], int, tuple[StatusCounter, ...]]:
    """The usager's RDVs in the organisation that the agent may see: those around now, the next ones, and
    the count of each status."""
    query = (select(Rdv, Motif, Participation.status)
             .join(Participation, col(Participation.rdv_id) == Rdv.id).join(Motif, col(Motif.id) == Rdv.motif_id)
             .where(Participation.usager_id == usager_id, visible_rdvs(scope)))
    rows = list(uow.session.exec(query.order_by(col(Rdv.starts_at), col(Rdv.id))).all())
    agents: dict[int, list[str]] = {}
    rdv_ids = [require_id(rdv) for rdv, _, _ in rows]
    for rdv_id, first, last in uow.session.exec(
            select(RdvAgent.rdv_id, Agent.first_name, Agent.last_name).join(Agent, col(Agent.id) == RdvAgent.agent_id)
            .where(col(RdvAgent.rdv_id).in_(rdv_ids))).all():
        agents.setdefault(rdv_id, []).append(agent_name(first, last))

    def line(rdv: Rdv, motif: Motif, status: str) -> RdvLine:
        return RdvLine(require_id(rdv), datefmt.long_datetime(rdv.starts_at, time_zone), motif.name,
                       status_label(status, rdv.starts_at, now, time_zone), ", ".join(sorted(agents.get(rdv.id or 0, []))))

    current = tuple(line(*row) for row in rows if now - CURRENT_WINDOW <= row[0].starts_at <= now + CURRENT_WINDOW)
    upcoming = tuple(line(*row) for row in rows if row[0].starts_at > now and row[2] not in CANCELLED_STATUSES)
    counts = dict.fromkeys((key for key, _ in _STATUS_COUNTERS), 0)
    for rdv, _, status in rows:
        if status == RdvStatus.UNKNOWN:
            counts["unknown_future" if rdv.starts_at >= now else "unknown_past"] += 1
        else:
            counts[status] += 1
    return (current, upcoming[:NEXT_RDVS], len(rows),
            tuple(StatusCounter(key, label, counts[key]) for key, label in _STATUS_COUNTERS))


def _invitation_sent(uow: UnitOfWork, usager_id: int, now: datetime) -> str | None:
    sent = uow.session.exec(select(func.max(AuditLog.occurred_at)).where(
        AuditLog.entity_type == _ENTITY, AuditLog.entity_id == str(usager_id), AuditLog.action == "invited")).one()
    if sent is None:
        return None
    days = (now - sent).days
    return "Invitation envoyée aujourd'hui" if days < 1 else f"Invitation envoyée il y a {days} jour{'s' if days > 1 else ''}"


def _history(uow: UnitOfWork, usager_id: int, time_zone: str) -> tuple[HistoryLine, ...]:
    rows = uow.session.exec(select(AuditLog).where(AuditLog.entity_type == _ENTITY,
                                                    AuditLog.entity_id == str(usager_id))
                            .order_by(col(AuditLog.occurred_at).desc(), col(AuditLog.id).desc())).all()
    authors = {require_id(a): agent_name(a.first_name, a.last_name) for a in uow.session.exec(select(Agent).where(
        col(Agent.id).in_({row.actor_agent_id for row in rows if row.actor_agent_id is not None}))).all()}
    lines = []
    for row in rows:
        author = authors.get(row.actor_agent_id or 0) or ("L'usager" if row.actor_usager_id else "Automatique")
        details = tuple(f"{_HISTORY_FIELDS.get(field, field)} : {_shown(change[0])} → {_shown(change[1])}"
                        for field, change in row.changes.items()
                        if field in _HISTORY_FIELDS and field != "organisation_id" and isinstance(change, list)
                        and len(change) == 2)
        lines.append(HistoryLine(datefmt.long_datetime(row.occurred_at, time_zone), author,
                                 _HISTORY_ACTIONS.get(row.action, row.action), details))
    return tuple(lines)


def _shown(value: object) -> str:
    return "—" if value in (None, "") else str(value)


# --------------------------------------------------------------------------- referents


@boundary
def add_referent(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, usager_id: int, agent_id: int) -> str:
    """Makes an agent of the organisation a referent of the usager (webhook, history); commits."""
    agent_scope(uow, actor_agent_id, organisation_id)
    visible_usager(uow, organisation_id, usager_id)
    agent = organisation_agent(uow, organisation_id, agent_id)
    name = agent_name(agent.first_name, agent.last_name)
    if uow.session.exec(select(ReferentAssignation.id).where(ReferentAssignation.usager_id == usager_id,
                                                             ReferentAssignation.agent_id == agent_id)).first():
        raise DomainError(f"{name} est déjà agent référent de cet usager.", "agent_id")
    assignation = ReferentAssignation(usager_id=usager_id, agent_id=agent_id)
    uow.session.add(assignation)
    uow.session.flush()
    uow.record(RecordChanged(model=WebhookSubscription.REFERENT_ASSIGNATION, record_id=require_id(assignation),
                             change=Change.CREATED, occurred_at=clock.now()))
    audit.record(uow.session, action="referent_added", entity_type=_ENTITY, entity_id=usager_id,
                 changes={"referent": [None, name]}, organisation_id=organisation_id, actor_agent_id=actor_agent_id)
    uow.commit()
    return f"{name} est maintenant agent référent."


@boundary
def remove_referent(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, usager_id: int,
                    agent_id: int) -> str:
    """Removes a referent who is an agent of the organisation (webhook, history); commits."""
    agent_scope(uow, actor_agent_id, organisation_id)
    visible_usager(uow, organisation_id, usager_id)
    agent = organisation_agent(uow, organisation_id, agent_id)
    assignation = uow.session.exec(select(ReferentAssignation).where(
        ReferentAssignation.usager_id == usager_id, ReferentAssignation.agent_id == agent_id)).first()
    if assignation is None:
        raise NotFound("Cet agent n'est pas référent de cet usager.")
    name = agent_name(agent.first_name, agent.last_name)
    uow.record(RecordChanged(model=WebhookSubscription.REFERENT_ASSIGNATION, record_id=require_id(assignation),
                             change=Change.DELETED, occurred_at=clock.now()))
    uow.publish()  # before the deletion: the webhook still reads the assignation
    uow.session.delete(assignation)
    audit.record(uow.session, action="referent_removed", entity_type=_ENTITY, entity_id=usager_id,
                 changes={"referent": [name, None]}, organisation_id=organisation_id, actor_agent_id=actor_agent_id)
    uow.commit()
    return f"{name} n'est plus agent référent."


# --------------------------------------------------------------------------- invitation and removal


@boundary
def invite(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, usager_id: int,
           now: datetime | None = None) -> str:
    """Emails the usager an invitation to create their account, valid a week (admin-domain.md 1.6);
    commits (the email is in the outbox)."""
    agent_scope(uow, actor_agent_id, organisation_id)
    usager = visible_usager(uow, organisation_id, usager_id)
    if not invitable(usager):
        raise DomainError("Cet usager ne peut pas être invité : il a déjà un compte, n'a pas d'email, ou est un proche.")
    send_invitation(uow, actor_agent_id, organisation_id, usager, now)
    uow.commit()
    return "L'usager a été invité."


def send_invitation(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, usager: Usager,
                    now: datetime | None = None) -> None:
    """Queues the invitation email of an invitable usager and notes it in their history. No commit: from
    "Inviter", or with the creation of the record when the agent ticked "Inviter l'usager"."""
    now = now or clock.now()
    queue_invitation(uow, usager, now, site_name=SITE_NAME, organisation_id=organisation_id)
    audit.record(uow.session, action="invited", entity_type=_ENTITY, entity_id=require_id(usager),
                 changes={"valid_until": (now + INVITATION_LIFETIME).isoformat()}, organisation_id=organisation_id,
                 actor_agent_id=actor_agent_id)


@boundary
def remove_from_organisation(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, usager_id: int,
                             now: datetime | None = None) -> Removal:
    """Removes the usager and their relatives from the organisation (admin-domain.md 1.5): refused while
    one of them has an RDV to come here that is not cancelled; whoever is left without any organisation
    is anonymised (`retention.anonymise_usager`). Commits."""
    agent_scope(uow, actor_agent_id, organisation_id)
    usager = visible_usager(uow, organisation_id, usager_id)
    now = now or clock.now()
    family = [usager_id, *uow.session.exec(select(not_null(Usager.id)).where(
        Usager.responsible_id == usager_id, col(Usager.deleted_at).is_(None))).all()]
    coming = uow.session.exec(
        select(Rdv.id).join(Participation, col(Participation.rdv_id) == Rdv.id)
        .where(col(Participation.usager_id).in_(family), Rdv.organisation_id == organisation_id,
               col(Rdv.starts_at) > now, col(Rdv.status).not_in([s.value for s in CANCELLED_STATUSES]),
               col(Participation.status).not_in([s.value for s in CANCELLED_STATUSES]))).first()
    if coming is not None:
        raise DomainError(HAS_FUTURE_RDVS)
    profiles = list(uow.session.exec(select(UsagerProfile).where(
        UsagerProfile.organisation_id == organisation_id, col(UsagerProfile.usager_id).in_(family))).all())
    if not any(p.usager_id == usager_id for p in profiles):
        raise PermissionDenied("Cet usager n'est pas membre de cette organisation : il ne peut pas en être retiré.")
    elsewhere = set(uow.session.exec(select(UsagerProfile.usager_id).where(
        col(UsagerProfile.usager_id).in_(family), UsagerProfile.organisation_id != organisation_id)).all())
    anonymised = tuple(member for member in family if member not in elsewhere)
    # Anonymised first, while their profiles still tell the organisation's webhooks about them.
    for member in anonymised:
        anonymise_usager(uow, member, now)
    for profile in profiles:
        uow.record(RecordChanged(model=WebhookSubscription.USER_PROFILE, record_id=require_id(profile),
                                 change=Change.DELETED, occurred_at=now))
    uow.publish()  # before the deletion: the webhooks still read the profiles
    for profile in profiles:
        uow.session.delete(profile)
        if profile.usager_id not in anonymised:
            audit.record(uow.session, action="profile_removed", entity_type=_ENTITY, entity_id=profile.usager_id,
                         changes={"organisation_id": [organisation_id, None]}, organisation_id=organisation_id,
                         actor_agent_id=actor_agent_id)
    uow.commit()
    relatives = len(family) - 1
    message = "L'usager a été supprimé." if usager.responsible_id is not None or not relatives else (
        f"L'usager et {relatives} proche{'s' if relatives > 1 else ''} ont été supprimés de l'organisation.")
    return Removal(message, anonymised)
