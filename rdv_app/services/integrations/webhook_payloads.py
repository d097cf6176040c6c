"""The `data` of webhook payloads, per model, as RDV Service Public's blueprints shape it (domain.md
section 5), and the organisations whose endpoints hear of a record.

Everything is read again from the database (the caller's session, flushed), so a payload shows the
record as its transaction leaves it; for "destroyed" the caller asks before deleting. Values are JSON
ready: instants in ISO 8601 with their offset, days as YYYY-MM-DD, times as HH:MM:SS.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit

from icalendar import vRecur
from sqlmodel import Session, col, select

from rdv_app.config import settings
from rdv_app.db.models import (
    Absence,
    Agent,
    AgentRole,
    Lieu,
    Motif,
    MotifCategory,
    Organisation,
    Participation,
    PlageOuverture,
    PlageOuvertureMotif,
    Rdv,
    RdvAgent,
    ReferentAssignation,
    Territory,
    Usager,
    UsagerProfile,
)
from rdv_app.db.rows import referenced, require_id
from rdv_app.domain.enums import AuthorType, LocationType, WebhookSubscription
from rdv_app.domain.names import agent_name
from rdv_app.domain.recurrence import Recurrence
from rdv_app.notify import mailer
from rdv_app.notify.ics import (
    AvailabilityNotice,
    IcsPerson,
    NoticeKind,
    notice_ics,
    notice_sequence,
    recurrence_rule,
)

# meta.model, as RDV Service Public names its classes.
MODEL_NAMES = {
    WebhookSubscription.RDV: "Rdv",
    WebhookSubscription.ABSENCE: "Absence",
    WebhookSubscription.PLAGE_OUVERTURE: "PlageOuverture",
    WebhookSubscription.USER: "User",
    WebhookSubscription.USER_PROFILE: "UserProfile",
    WebhookSubscription.ORGANISATION: "Organisation",
    WebhookSubscription.MOTIF: "Motif",
    WebhookSubscription.LIEU: "Lieu",
    WebhookSubscription.AGENT: "Agent",
    WebhookSubscription.AGENT_ROLE: "AgentRole",
    WebhookSubscription.REFERENT_ASSIGNATION: "ReferentAssignation",
}


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return value


def _fields(record: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: _value(getattr(record, name)) for name in names}


# --------------------------------------------------------------------------- organisations concerned


def organisation_ids(session: Session, model: WebhookSubscription, record_id: int) -> list[int]:
    """The organisations whose endpoints receive this record (an absence: all of its agent's; a user:
    all where they have a profile)."""
    direct: dict[WebhookSubscription, Any] = {
        WebhookSubscription.RDV: Rdv, WebhookSubscription.PLAGE_OUVERTURE: PlageOuverture,
        WebhookSubscription.MOTIF: Motif, WebhookSubscription.LIEU: Lieu,
        WebhookSubscription.AGENT_ROLE: AgentRole, WebhookSubscription.USER_PROFILE: UsagerProfile,
    }
    if model in direct:
        record = session.get(direct[model], record_id)
        return [record.organisation_id] if record is not None else []
    if model == WebhookSubscription.ORGANISATION:
        return [record_id] if session.get(Organisation, record_id) is not None else []
    if model == WebhookSubscription.ABSENCE:
        absence = session.get(Absence, record_id)
        return _agent_organisations(session, absence.agent_id) if absence is not None else []
    if model == WebhookSubscription.AGENT:
        return _agent_organisations(session, record_id)
    if model == WebhookSubscription.USER:
        return _usager_organisations(session, record_id)
    assignation = session.get(ReferentAssignation, record_id)
    if assignation is None:
        return []
    usager_organisations = set(_usager_organisations(session, assignation.usager_id))
    return [o for o in _agent_organisations(session, assignation.agent_id) if o in usager_organisations]


def _agent_organisations(session: Session, agent_id: int) -> list[int]:
    return list(session.exec(select(AgentRole.organisation_id).where(AgentRole.agent_id == agent_id)
                             .order_by(col(AgentRole.organisation_id))))


def _usager_organisations(session: Session, usager_id: int) -> list[int]:
    return list(session.exec(select(UsagerProfile.organisation_id).where(UsagerProfile.usager_id == usager_id)
                             .order_by(col(UsagerProfile.organisation_id))))


# --------------------------------------------------------------------------- blueprints


def data_for(session: Session, model: WebhookSubscription, record_id: int) -> dict[str, Any] | None:
    """The `data` of the payload; None when the record does not exist (any more)."""
    return _BUILDERS[model](session, record_id)


def _organisation(organisation: Organisation) -> dict[str, Any]:
    return _fields(organisation, ("id", "name", "phone_number", "email", "verticale"))


def _lieu(lieu: Lieu | None) -> dict[str, Any] | None:
    if lieu is None:
        return None
    data = _fields(lieu, ("id", "name", "address", "phone_number", "organisation_id"))
    data["single_use"] = lieu.availability == "single_use"
    return data


def _motif(session: Session, motif: Motif) -> dict[str, Any]:
    data = _fields(motif, ("id", "name", "location_type", "deleted_at", "bookable_by", "service_id",
                           "organisation_id", "collectif", "follow_up", "instruction_for_rdv"))
    data["bookable_publicly"] = motif.bookable_by != "agents"
    category = session.get(MotifCategory, motif.motif_category_id) if motif.motif_category_id else None
    data["motif_category"] = _fields(category, ("id", "name", "short_name")) if category else None
    return data


def _agent(agent: Agent) -> dict[str, Any]:
    data = _fields(agent, ("id", "first_name", "last_name", "email"))
    data["inclusion_connect_open_id_sub"] = None
    return data


_USER_FIELDS = ("id", "first_name", "last_name", "birth_name", "birth_date", "email", "address", "address_details",
                "post_code", "city_name", "city_code", "phone_number", "phone_number_formatted", "responsible_id",
                "notify_by_sms", "notify_by_email", "created_at", "case_number", "notes", "created_through", "logement")


def _user(session: Session, usager: Usager, *, nested: bool = True) -> dict[str, Any]:
    data = _fields(usager, _USER_FIELDS)
    data.update(user_profiles=None, invitation_created_at=None, invitation_accepted_at=None)
    if nested:
        responsible = session.get(Usager, usager.responsible_id) if usager.responsible_id else None
        data["responsible"] = _user(session, responsible, nested=False) if responsible else None
    return data


def _rdv(session: Session, rdv_id: int) -> dict[str, Any] | None:
    rdv = session.get(Rdv, rdv_id)
    if rdv is None:
        return None
    organisation = session.get(Organisation, rdv.organisation_id)
    motif = session.get(Motif, rdv.motif_id)
    lieu = session.get(Lieu, rdv.lieu_id) if rdv.lieu_id else None
    rows = session.exec(select(Participation, Usager).join(Usager, col(Usager.id) == Participation.usager_id)
                        .where(col(Participation.rdv_id) == rdv_id).order_by(col(Participation.id))).all()
    agents = session.exec(select(Agent).join(RdvAgent, col(RdvAgent.agent_id) == Agent.id)
                          .where(col(RdvAgent.rdv_id) == rdv_id).order_by(col(Agent.id))).all()
    assert organisation is not None and motif is not None
    created_by_id = {AuthorType.AGENT.value: rdv.created_by_agent_id, AuthorType.USAGER.value: rdv.created_by_usager_id,
                     AuthorType.PRESCRIPTEUR.value: rdv.created_by_prescripteur_id}.get(rdv.created_by_type)
    data = _fields(rdv, ("id", "uuid", "status", "starts_at", "ends_at", "context", "cancelled_at",
                         "max_participants_count", "users_count", "name", "created_by_type"))
    data.update(
        duration_in_min=int((rdv.ends_at - rdv.starts_at).total_seconds() // 60),
        address=_rdv_address(session, motif, lieu, [usager for _, usager in rows]),
        collectif=motif.collectif,
        created_by_id=created_by_id,
        created_by=rdv.created_by_type,
        organisation=_organisation(organisation),
        motif=_motif(session, motif),
        users=[_user(session, usager) for _, usager in rows],
        participations=[{
            **_fields(participation, ("id", "status", "send_lifecycle_notifications", "send_reminder_notification",
                                      "created_by_type", "created_by_agent_prescripteur")),
            "created_by_id": participation.created_by_agent_id or participation.prescripteur_id,
            "user": _user(session, usager),
        } for participation, usager in rows],
        agents=[_agent(agent) for agent in agents],
        lieu=_lieu(lieu),
    )
    return data


def _rdv_address(session: Session, motif: Motif, lieu: Lieu | None, usagers: list[Usager]) -> str:
    if motif.location_type == LocationType.PUBLIC_OFFICE.value and lieu is not None:
        return lieu.address
    if motif.location_type == LocationType.HOME.value:
        for usager in usagers:
            holder = session.get(Usager, usager.responsible_id) if usager.responsible_id else usager
            if holder is not None and holder.address:
                return holder.address
    return ""


def _organisation_zone(session: Session, organisation_id: int | None) -> str:
    if organisation_id is None:
        return "Europe/Paris"
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        return "Europe/Paris"
    territory = session.get(Territory, organisation.territory_id)
    return organisation.timezone or (territory.timezone if territory else "Europe/Paris")


def _availability(session: Session, kind: NoticeKind, record: PlageOuverture | Absence, agent: Agent,
                  organisation_id: int | None, location: str | None) -> dict[str, Any]:
    """Fields shared by plages and absences: the calendar of the record, as its agent's email carries it."""
    recurrence = Recurrence.from_json(record.recurrence, record.first_day)
    zone = _organisation_zone(session, organisation_id)
    uid_domain = urlsplit(settings.public_url).hostname or "localhost"
    notice = AvailabilityNotice(
        kind=kind, record_id=require_id(record), title=record.title, first_day=record.first_day,
        start_time=record.start_time, end_time=record.end_time, time_zone=zone,
        agent=IcsPerson(agent.email or "", agent_name(agent.first_name, agent.last_name)),
        organizer_email=parseaddr(mailer.SmtpSettings.from_env().mail_from)[1] or "ne-pas-repondre@localhost",
        uid_domain=uid_domain, sequence=notice_sequence(record.created_at, record.updated_at),
        recurrence=recurrence, end_day=getattr(record, "end_day", None), location=location)
    rrule = None
    if recurrence is not None:
        rrule = vRecur(recurrence_rule(recurrence, record.first_day, zone)).to_ical().decode()
    data = _fields(record, ("id", "title", "first_day", "start_time", "end_time", "recurrence_until"))
    data.update(ical_uid=f"{kind.value}_{record.id}@{uid_domain}", recurrence=record.recurrence,
                rrule=rrule, ical=notice_ics(notice, record.updated_at).content.decode("utf-8"),
                agent=_agent(agent))
    return data


def _plage_ouverture(session: Session, plage_id: int) -> dict[str, Any] | None:
    plage = session.get(PlageOuverture, plage_id)
    if plage is None:
        return None
    agent = session.get(Agent, plage.agent_id)
    organisation = session.get(Organisation, plage.organisation_id)
    lieu = session.get(Lieu, plage.lieu_id) if plage.lieu_id else None
    motifs = session.exec(select(Motif).join(PlageOuvertureMotif, col(PlageOuvertureMotif.motif_id) == Motif.id)
                          .where(col(PlageOuvertureMotif.plage_ouverture_id) == plage_id).order_by(col(Motif.id))).all()
    assert agent is not None and organisation is not None
    data = _availability(session, NoticeKind.PLAGE_OUVERTURE, plage, agent, plage.organisation_id,
                         f"{lieu.name} ({lieu.address})" if lieu else None)
    data.update(organisation=_organisation(organisation), lieu=_lieu(lieu),
                motifs=[_motif(session, motif) for motif in motifs])
    return data


def _absence(session: Session, absence_id: int) -> dict[str, Any] | None:
    absence = session.get(Absence, absence_id)
    if absence is None:
        return None
    agent = session.get(Agent, absence.agent_id)
    assert agent is not None
    organisations = _agent_organisations(session, require_id(agent))
    data = _availability(session, NoticeKind.ABSENCE, absence, agent, organisations[0] if organisations else None,
                         None)
    data["end_day"] = _value(absence.end_day)
    return data


def _simple(model: Any, render: Callable[[Session, Any], dict[str, Any] | None]) -> Callable[[Session, int], Any]:
    def build(session: Session, record_id: int) -> dict[str, Any] | None:
        record = session.get(model, record_id)
        return render(session, record) if record is not None else None

    return build



_BUILDERS: dict[WebhookSubscription, Callable[[Session, int], dict[str, Any] | None]] = {
    WebhookSubscription.RDV: _rdv,
    WebhookSubscription.ABSENCE: _absence,
    WebhookSubscription.PLAGE_OUVERTURE: _plage_ouverture,
    WebhookSubscription.USER: _simple(Usager, _user),
    WebhookSubscription.USER_PROFILE: _simple(UsagerProfile, lambda s, p: {
        **_fields(p, ("id", "notes", "created_at")),
        "user": _user(s, referenced(s, Usager, p.usager_id)),
        "organisation": _organisation(referenced(s, Organisation, p.organisation_id))}),
    WebhookSubscription.ORGANISATION: _simple(Organisation, lambda s, o: {
        **_organisation(o), **_fields(o, ("slug", "website", "horaires", "external_id", "timezone"))}),
    WebhookSubscription.MOTIF: _simple(Motif, _motif),
    WebhookSubscription.LIEU: _simple(Lieu, lambda s, lieu: _lieu(lieu)),
    WebhookSubscription.AGENT: _simple(Agent, lambda s, a: _agent(a)),
    WebhookSubscription.AGENT_ROLE: _simple(AgentRole, lambda s, r: {
        **_fields(r, ("id", "access_level")),
        "agent": _agent(referenced(s, Agent, r.agent_id)),
        "organisation": _organisation(referenced(s, Organisation, r.organisation_id))}),
    WebhookSubscription.REFERENT_ASSIGNATION: _simple(ReferentAssignation, lambda s, r: {
        "id": r.id, "user": _user(s, referenced(s, Usager, r.usager_id)),
        "agent": _agent(referenced(s, Agent, r.agent_id))}),
}
