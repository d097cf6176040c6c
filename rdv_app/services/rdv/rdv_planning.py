"""The agents' "Planifier un RDV" flow: what the form offers and prefills, and its confirmation
(issue 4; domain.md sections 1, 3.1, 6.5 and 8).

The flow starts from a slot of "Trouver un RDV" or from an empty time of the agenda, with a motif and
some of: a local start, agents, a lieu, a duration, usagers. `draft` turns these into what the page
shows: the choices the motif allows (agents of its service, lieux when it takes place in one), the
defaults for what was not given (the motif's duration, the actor, the lieu of the plage d'ouverture that
holds the start), and each participant with what the agent may see of them and whether they can be
notified. `plan` checks the date and time fields, then hands over to `lifecycle.plan_rdv`, which owns the
rights, warnings and the duplicate check. Nothing here writes, except `plan` through `plan_rdv`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from rdv_app.db.models import (
    Agent,
    AgentService,
    Lieu,
    Motif,
    Organisation,
    PlageOuverture,
    PlageOuvertureMotif,
    Service,
    Territory,
    Usager,
    UsagerProfile,
)
from rdv_app.db.rows import require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import datefmt
from rdv_app.domain.enums import LieuAvailability, LocationType, VisibilityType
from rdv_app.domain.labels import LOCATION_TYPE_LABELS
from rdv_app.domain.masking import mask_birth_date, mask_email, mask_phone, reverse_full_name
from rdv_app.domain.names import agent_name
from rdv_app.domain.recipients import phone_region, sms_number
from rdv_app.domain.recurrence import Recurrence
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError, NotFound, PermissionDenied
from rdv_app.services.organisation import local_time
from rdv_app.services.organisation.admin_lieux import SingleUseLieu
from rdv_app.services.rdv import lifecycle, queries
from rdv_app.services.rights import AgentScope, agent_scope, visible_agent_ids, visible_motifs
from rdv_app.services.usagers import usagers as usagers_service


@dataclass(frozen=True)
class Choice:
    id: int
    label: str


@dataclass(frozen=True)
class PlanningParticipant:
    """An usager of the RDV being planned, as the agent may see them, with their notification means."""

    id: int
    name: str  # "DUPONT Jeanne"
    details: list[str]  # birth date, phone, email: in full for the organisation's usagers, masked otherwise
    from_other_organisation: bool  # joins the organisation when the RDV is saved
    notified_through: str  # "Jeanne DUPONT (responsable)" when a relative's messages go to their responsible
    by_sms: bool
    by_email: bool
    notification_note: str  # why a channel is missing, or why nothing can be sent
    send_lifecycle_notifications: bool  # the defaults for this motif
    send_reminder_notification: bool

    @property
    def can_be_notified(self) -> bool:
        return self.by_sms or self.by_email


@dataclass(frozen=True)
class PlanningDraft:
    motif_id: int
    motif_name: str
    motif_colour: str
    service_name: str
    location_type: str
    place_label: str  # where the RDV takes place when the motif needs no lieu ("Par téléphone")
    needs_lieu: bool
    timezone: str
    day: date | None  # local
    start_time: time | None  # local
    duration_in_min: int
    agent_ids: list[int]
    lieu_id: int | None
    agents: list[Choice]  # those the form offers: the motif's service, and any agent already chosen
    lieux: list[Choice]  # enabled lieux of the organisation, when the motif takes place in one
    participants: list[PlanningParticipant]
    contact_warning: str  # a phone or visio RDV nobody can be reached for


@boundary
def draft(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, *, motif_id: int,
          day: date | None = None, start_time: time | None = None, agent_ids: Sequence[int] = (),
          lieu_id: int | None = None, duration_in_min: int | None = None,
          usager_ids: Sequence[int] = ()) -> PlanningDraft:
    """What the planning page shows for these choices; unknown or unusable agents and lieux are left
    out (the defaults take their place), an unusable motif or usager is refused."""
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    motif = _motif(uow, scope, motif_id)
    tz = local_time.time_zone(uow, organisation_id)
    allowed = visible_agent_ids(uow, scope)
    wanted = [a for a in dict.fromkeys(agent_ids) if a in allowed]
    agents = _agent_choices(uow, motif, allowed, wanted)
    offered = {a.id for a in agents}
    chosen = [a for a in wanted if a in offered] or ([actor_agent_id] if actor_agent_id in offered else [])
    needs_lieu = motif.location_type == LocationType.PUBLIC_OFFICE
    lieux = _lieu_choices(uow, organisation_id) if needs_lieu else []
    lieu = None
    if needs_lieu:
        lieu = lieu_id if lieu_id in {c.id for c in lieux} else _default_lieu(uow, motif, chosen, day, start_time,
                                                                              [c.id for c in lieux])
    duration = duration_in_min if duration_in_min and 0 < duration_in_min <= lifecycle.MAX_DURATION_IN_MIN \
        else motif.default_duration_in_min
    people = participants(uow, actor_agent_id, organisation_id, motif_id=motif_id, usager_ids=usager_ids)
    service_name = uow.session.exec(select(Service.name).where(Service.id == motif.service_id)).one()
    return PlanningDraft(
        motif_id=motif_id, motif_name=motif.name, motif_colour=motif.color, service_name=service_name,
        location_type=motif.location_type, place_label=LOCATION_TYPE_LABELS[LocationType(motif.location_type)],
        needs_lieu=needs_lieu, timezone=tz, day=day, start_time=start_time, duration_in_min=duration,
        agent_ids=chosen, lieu_id=lieu, agents=agents, lieux=lieux, participants=people,
        contact_warning=contact_warning(motif.location_type, people))


@boundary
def participants(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, *, motif_id: int,
                 usager_ids: Sequence[int]) -> list[PlanningParticipant]:
    """The usagers in the given order, each as the organisation may see them; NotFound or
    PermissionDenied as `usagers.usagers_for_rdv` says."""
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    motif = _motif(uow, scope, motif_id)
    ids = list(dict.fromkeys(usager_ids))
    if not ids:
        return []
    found = usagers_service.usagers_for_rdv(uow, organisation_id, ids)
    own = set(uow.session.exec(select(UsagerProfile.usager_id).where(
        UsagerProfile.organisation_id == organisation_id, col(UsagerProfile.usager_id).in_(ids))).all())
    territory_wide, departement = uow.session.exec(
        select(Territory.visible_users_throughout_the_territory, Territory.departement_number)
        .join(Organisation, col(Organisation.territory_id) == Territory.id)
        .where(Organisation.id == organisation_id)).one()
    responsible_ids = {u.responsible_id for u in found.values() if u.responsible_id is not None}
    responsibles = {u.id: u for u in uow.session.exec(
        select(Usager).where(col(Usager.id).in_(responsible_ids), col(Usager.deleted_at).is_(None))).all()}
    region = phone_region(departement)
    notified = motif.visibility_type == VisibilityType.VISIBLE_AND_NOTIFIED
    result = []
    for usager_id in ids:
        usager = found[usager_id]
        in_full = territory_wide or usager_id in own
        responsible = responsibles.get(usager.responsible_id) if usager.responsible_id else None
        recipient = responsible or usager
        by_sms = recipient.notify_by_sms and sms_number(recipient.phone_number_formatted or recipient.phone_number,
                                                        region) is not None
        by_email = recipient.notify_by_email and bool((recipient.email or "").strip())
        result.append(PlanningParticipant(
            id=usager_id, name=reverse_full_name(usager.first_name, usager.last_name),
            details=_details(usager, in_full), from_other_organisation=usager_id not in own,
            notified_through=(f"{reverse_full_name(responsible.first_name, responsible.last_name)} (responsable)"
                              if responsible else ""),
            by_sms=by_sms, by_email=by_email, notification_note=_notification_note(recipient, by_sms, by_email),
            send_lifecycle_notifications=notified and (by_sms or by_email),
            send_reminder_notification=notified and (by_sms or by_email)))
    return result


def contact_warning(location_type: str, people: Collection[PlanningParticipant]) -> str:
    """A phone RDV needs someone to call, a visio RDV someone to send the link to (domain.md 6.5)."""
    if not people:
        return ""
    if location_type == LocationType.PHONE and not any(p.by_sms for p in people):
        return "Ce RDV a lieu par téléphone : aucun participant n'a de numéro de téléphone mobile enregistré."
    if location_type == LocationType.VISIO and not any(p.can_be_notified for p in people):
        return ("Ce RDV a lieu en visioconférence : aucun participant n'a d'email ni de numéro de mobile pour "
                "recevoir le lien.")
    return ""


@boundary
def plan(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, *, motif_id: int, day: date | None,
         start_time: time | None, duration_in_min: int | None, agent_ids: Sequence[int], lieu_id: int | None,
         usager_ids: Sequence[int], notify: Mapping[int, tuple[bool, bool]],
         single_use_lieu: SingleUseLieu | None = None, confirm_warnings: bool = False,
         now: datetime | None = None) -> int:
    """Creates the RDV from the form's local date and time; the RDV's id. Errors name the form's fields
    ("day", "start_time", "duration_in_min", "agent_ids", "lieu_id", "single_use_name",
    "single_use_address", "usager_ids"). `single_use_lieu`: the address typed for this RDV only, instead
    of one of the organisation's lieux."""
    if day is None:
        raise DomainError("Indiquez la date du RDV (jj/mm/aaaa).", "day")
    if start_time is None:
        raise DomainError("Indiquez l'heure de début du RDV (hh:mm).", "start_time")
    if duration_in_min is None:
        raise DomainError("Indiquez la durée du RDV en minutes.", "duration_in_min")
    tz = ZoneInfo(local_time.time_zone(uow, organisation_id))
    starts_at = local_start(day, start_time, tz)
    if starts_at is None:
        raise DomainError("Cette heure n'existe pas ce jour-là (changement d'heure) : choisissez-en une autre.",
                          "start_time")
    return lifecycle.plan_rdv(uow, actor_agent_id, organisation_id, motif_id=motif_id, starts_at=starts_at,
                         duration_in_min=duration_in_min, agent_ids=agent_ids, lieu_id=lieu_id,
                         usager_ids=usager_ids, notify=notify, single_use_lieu=single_use_lieu,
                         confirm_warnings=confirm_warnings, now=now)


def local_start(day: date, start_time: time, tz: ZoneInfo) -> datetime | None:
    """The UTC instant of a local wall-clock time; None for a time skipped by the spring change."""
    instant = datetime.combine(day, start_time, tz)
    if instant.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != instant.replace(tzinfo=None):
        return None
    return instant.astimezone(UTC)


@boundary
def created_summary(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, rdv_id: int) -> str:
    """What the agenda says of an RDV just created, when the actor may see it."""
    details = queries.get_rdv(uow, actor_agent_id, organisation_id, rdv_id)
    return f"Le RDV « {details.motif_name} » du {details.day} à {details.time} a été créé."


@boundary
def created_rdv_agents(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, rdv_id: int) -> list[int]:
    """The agents of an RDV just created, when the actor may see it: the agenda shows them, so that the
    RDV is in sight whoever it was planned for."""
    queries.visible_rdv(uow, actor_agent_id, organisation_id, rdv_id)
    return queries.agent_ids_of(uow, rdv_id)


def describe(day: date, start_time: time) -> str:
    """'lundi 7 décembre 2026 à 09h00'."""
    return f"{datefmt.long_date(day)} à {datefmt.hour(datetime.combine(day, start_time))}"


# --------------------------------------------------------------------------- helpers


def _motif(uow: UnitOfWork, scope: AgentScope, motif_id: int) -> Motif:
    motif = next((m for m in visible_motifs(uow, scope) if m.id == motif_id), None)
    if motif is None:
        exists = uow.session.get(Motif, motif_id)
        if exists is not None and exists.organisation_id == scope.organisation_id and exists.deleted_at is None:
            raise PermissionDenied("Ce motif n'est pas accessible depuis votre compte.")
        raise NotFound("Ce motif n'existe pas ou a été archivé.")
    if motif.collectif:
        raise DomainError("Un RDV collectif se crée depuis la page des RDV collectifs.", "motif_id")
    return motif


def _agent_choices(uow: UnitOfWork, motif: Motif, allowed: set[int], wanted: Collection[int]) -> list[Choice]:
    """Agents the actor may see who work in the motif's service (or in the secrétariat, for a motif open
    to it), and the agents already chosen."""
    services = select(Service.id).where(Service.id == motif.service_id)
    if motif.for_secretariat:
        services = select(Service.id).where((col(Service.id) == motif.service_id) | col(Service.is_secretariat))
    in_service = select(AgentService.agent_id).where(col(AgentService.service_id).in_(services))
    rows = uow.session.exec(
        select(Agent).where(col(Agent.id).in_(allowed), col(Agent.deleted_at).is_(None),
                            col(Agent.id).in_(in_service) | col(Agent.id).in_(list(wanted)))
        .order_by(col(Agent.last_name), col(Agent.first_name), col(Agent.id))
    ).all()
    return [Choice(require_id(a), agent_name(a.first_name, a.last_name)) for a in rows]


def _lieu_choices(uow: UnitOfWork, organisation_id: int) -> list[Choice]:
    rows = uow.session.exec(select(Lieu).where(Lieu.organisation_id == organisation_id,
                                               Lieu.availability == LieuAvailability.ENABLED)
                            .order_by(col(Lieu.name), col(Lieu.id))).all()
    return [Choice(require_id(lieu), lieu.name) for lieu in rows]


def _default_lieu(uow: UnitOfWork, motif: Motif, agent_ids: Sequence[int], day: date | None,
                  start_time: time | None, lieu_ids: Sequence[int]) -> int | None:
    """The lieu of the first plage d'ouverture of the agents that holds the motif at that time, or the
    organisation's only lieu."""
    if day is not None and start_time is not None and agent_ids:
        plages = uow.session.exec(
            select(PlageOuverture)
            .join(PlageOuvertureMotif, col(PlageOuvertureMotif.plage_ouverture_id) == PlageOuverture.id)
            .where(PlageOuvertureMotif.motif_id == motif.id, col(PlageOuverture.agent_id).in_(list(agent_ids)),
                   col(PlageOuverture.lieu_id).in_(list(lieu_ids)), col(PlageOuverture.first_day) <= day,
                   col(PlageOuverture.start_time) <= start_time, col(PlageOuverture.end_time) > start_time)
            .order_by(col(PlageOuverture.created_at), col(PlageOuverture.id))
        ).all()
        for plage in plages:
            rule = Recurrence.from_json(plage.recurrence, plage.first_day)
            if (plage.first_day == day) if rule is None else any(rule.dates(plage.first_day, day, day)):
                return plage.lieu_id
    return lieu_ids[0] if len(lieu_ids) == 1 else None


def _details(usager: Usager, in_full: bool) -> list[str]:
    if in_full:
        birth = usager.birth_date.strftime("%d/%m/%Y") if usager.birth_date else None
        phone, email = usager.phone_number, usager.email
    else:
        birth, phone, email = mask_birth_date(usager.birth_date), mask_phone(usager.phone_number), \
            mask_email(usager.email)
    return [text for text in (f"Né(e) le {birth}" if birth else "", f"Tél. {phone}" if phone else "",
                              email or "") if text]


def _notification_note(recipient: Usager, by_sms: bool, by_email: bool) -> str:
    if by_sms and by_email:
        return "Notifications par SMS et par email."
    if not by_sms and not by_email:
        return "Aucune notification possible : ni numéro de mobile ni email (ou l'usager les a refusées)."
    if by_sms:
        why = "pas d'email" if not (recipient.email or "").strip() else "l'usager a refusé les emails"
        return f"Notifications par SMS uniquement ({why})."
    phone = (recipient.phone_number or "").strip()
    why = ("pas de numéro de téléphone" if not phone
           else "l'usager a refusé les SMS" if not recipient.notify_by_sms
           else "le numéro n'est pas un mobile")
    return f"Notifications par email uniquement ({why})."
