"""From an RDV change to outbox rows: the handler of `RdvChanged` events (rdv_app.wiring), run in the
transaction of the change when its unit of work commits.

`notify_rdv_change(session, change, now=...)` loads what the messages need in a few set-based queries,
lets `rdv_app.domain.recipients` decide who hears what, renders the SMS (`rdv_app.domain.sms`), the usager
emails with their PUBLISH/CANCEL calendar and the agent emails with their REQUEST/CANCEL calendar
(`rdv_app.notify.ics`), and enqueues everything (`rdv_app.notify.outbox.enqueue`) in the caller's
transaction. It returns the ids of the new outbox rows, for a delivery right after the commit.

- Idempotency: every key holds the event, the RDV's uuid, its `ics_sequence`, the channel and the
  recipient (agent keys also hold the RDV's agents after the change, since a change of agents alone does
  not bump the sequence), so replaying the same change queues nothing new.
- "Infos et annulation" (decision 6): each participation messaged gets a fresh token (72 random bits);
  only its SHA-256 is stored, with its expiry: 12 weeks after sending, or one day after the RDV,
  whichever comes first. A new token replaces the previous one, so only the latest link works. A replay
  whose messages are all already queued leaves the tokens alone (the queued links keep working).
- Nothing for RDVs that have started, nothing on "absence non excusée", nothing to usagers about a motif
  invisible to them (the recipients rules).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from typing import Any

from sqlmodel import Session, col, select

from rdv_app.auth.tokens import hash_token, new_link_token
from rdv_app.config import settings
from rdv_app.db.models import (
    Agent,
    Lieu,
    Motif,
    Organisation,
    OutboxMessage,
    Participation,
    Rdv,
    Service,
    Territory,
    Usager,
)
from rdv_app.db.rows import require_id
from rdv_app.domain import datefmt, recipients
from rdv_app.domain.enums import (
    CANCELLED_STATUSES,
    AuthorType,
    Channel,
    LocationType,
    NotificationEvent,
    RdvNotificationLevel,
    RdvStatus,
)
from rdv_app.domain.events import RdvChanged
from rdv_app.domain.names import agent_name
from rdv_app.domain.sms import SmsRdv, agent_short_name, info_url, person_name, rdv_sms
from rdv_app.domain.usager_link import token_expiry
from rdv_app.notify import mailer
from rdv_app.notify.email_html import with_html
from rdv_app.notify.ics import Audience, IcsFile, IcsPerson, IcsRdv, rdv_ics
from rdv_app.notify.outbox import enqueue

_SMS_SENDER_MAX = 11
_PRODUCTION_NAMES = frozenset({"", "production", "prod"})

_USAGER_INTROS = {
    NotificationEvent.RDV_CREATED: "Votre rendez-vous est confirmé.",
    NotificationEvent.RDV_UPDATED: "Votre rendez-vous a été modifié.",
    NotificationEvent.RDV_CANCELLED: "Votre rendez-vous a été annulé.",
    NotificationEvent.RDV_UPCOMING_REMINDER: "Nous vous rappelons votre rendez-vous.",
}
_AGENT_VERBS = {
    NotificationEvent.RDV_CREATED: "créé",
    NotificationEvent.RDV_UPDATED: "modifié",
    NotificationEvent.RDV_CANCELLED: "annulé",
}


@dataclass(frozen=True)
class _Context:
    rdv: Rdv
    motif: Motif
    service: Service
    lieu: Lieu | None
    organisation: Organisation
    territory: Territory

    @property
    def time_zone(self) -> str:
        return self.organisation.time_zone

    @property
    def location_type(self) -> LocationType:
        return LocationType(self.motif.location_type)


def on_rdv_changed(session: Session, change: RdvChanged) -> None:
    """Handler of `RdvChanged`: the messages of the change, if it is one people hear of."""
    if change.event is not None:
        notify_rdv_change(session, change, now=change.occurred_at)


def notify_rdv_change(session: Session, change: RdvChanged, *, now: datetime) -> list[int]:
    """Queues the SMS and emails of one RDV change in `session`'s transaction; returns the new outbox ids."""
    context = _load_context(session, change.rdv_id)
    if context is None or change.event is None:
        return []
    rdv = context.rdv
    occasion = recipients.Occasion.of_change(change, now)
    if change.starts_at <= now or change.status == RdvStatus.NOSHOW:
        return []

    participations, usagers = _load_participations(session, require_id(rdv), change.usager_ids)
    targets = _targets(context, participations, usagers)
    usager_messages = recipients.usager_messages(occasion, targets, context.territory.departement_number)

    agent_ids = tuple(dict.fromkeys((*change.old_agent_ids, *change.new_agent_ids)))
    agents = _load_agents(session, agent_ids)
    agent_messages = recipients.agent_messages(
        occasion,
        [recipients.AgentContact(require_id(a), a.email, RdvNotificationLevel(a.rdv_notifications_level))
         for a in agents.values()],
        change.old_agent_ids, change.new_agent_ids, change.old_starts_at, context.time_zone)

    usager_keys = {_usager_key(occasion.event, rdv, m): m for m in usager_messages}
    agent_tag = "-".join(str(a) for a in sorted(set(change.new_agent_ids))) or "none"
    agent_keys = {_agent_key(m.event, rdv, m.agent_id, agent_tag): m for m in agent_messages}
    existing = _existing_keys(session, [*usager_keys, *agent_keys])

    ids: list[int] = []
    stamp = now
    by_participation = {p.usager_id: p for p in participations}
    links = _fresh_links(session, rdv, by_participation,
                         [m for key, m in usager_keys.items() if key not in existing], now)
    usager_ics: IcsFile | None = None
    for key, message in usager_keys.items():
        if key in existing:
            continue
        link = links[message.usager_id]
        if message.channel == Channel.SMS:
            payload: dict[str, Any] = {"to": message.address,
                                       "text": rdv_sms(occasion.event, _sms_rdv(context, message, usagers,
                                                                                agents, occasion, link))}
            sender = (context.territory.sms_sender or "").strip()
            if 0 < len(sender) <= _SMS_SENDER_MAX:
                payload["sender"] = sender
        else:
            if usager_ics is None:
                usager_ics = rdv_ics(_ics_rdv(context, occasion, agents, Audience.USAGER), Audience.USAGER, stamp)
            payload = _usager_email(context, occasion, message, usagers, link, usager_ics)
        outbox_id = enqueue(session, channel=message.channel, event=occasion.event, idempotency_key=key,
                            payload=payload, organisation_id=rdv.organisation_id, rdv_id=rdv.id,
                            rdv_version=rdv.ics_sequence, usager_id=message.usager_id, expires_at=rdv.starts_at)
        if outbox_id is not None:
            ids.append(outbox_id)

    agent_ics: dict[bool, IcsFile] = {}
    for key, agent_message in agent_keys.items():
        if key in existing:
            continue
        # A participant leaving a collective session that goes on: the agents' calendars keep the session.
        cancelled = agent_message.event == NotificationEvent.RDV_CANCELLED and not _seat_given_up(context, occasion)
        if cancelled not in agent_ics:
            agent_ics[cancelled] = rdv_ics(_ics_rdv(context, occasion, agents, Audience.AGENT, cancelled=cancelled),
                                           Audience.AGENT, stamp)
        payload = _agent_email(context, occasion, agent_message.event, agent_message.address, agent_ics[cancelled])
        outbox_id = enqueue(session, channel=Channel.MAIL, event=agent_message.event, idempotency_key=key,
                            payload=payload, organisation_id=rdv.organisation_id, rdv_id=rdv.id,
                            rdv_version=rdv.ics_sequence, agent_id=agent_message.agent_id,
                            expires_at=rdv.starts_at)
        if outbox_id is not None:
            ids.append(outbox_id)
    return ids


# --------------------------------------------------------------------------- loading


def _load_context(session: Session, rdv_id: int) -> _Context | None:
    row = session.exec(
        # sqlmodel types select() for at most 4 entities.
        select(Rdv, Motif, Service, Organisation, Territory)  # type: ignore[call-overload]
        .join(Motif, col(Motif.id) == Rdv.motif_id)
        .join(Service, col(Service.id) == Motif.service_id)
        .join(Organisation, col(Organisation.id) == Rdv.organisation_id)
        .join(Territory, col(Territory.id) == Organisation.territory_id)
        .where(Rdv.id == rdv_id)
    ).first()
    if row is None:
        return None
    rdv, motif, service, organisation, territory = row
    lieu = session.get(Lieu, rdv.lieu_id) if rdv.lieu_id is not None else None
    return _Context(rdv, motif, service, lieu, organisation, territory)


def _load_participations(session: Session, rdv_id: int,
                         usager_ids: Sequence[int]) -> tuple[list[Participation], dict[int, Usager]]:
    """The participations concerned by the change, and their usagers with their responsible persons."""
    if not usager_ids:
        return [], {}
    participations = list(session.exec(
        select(Participation).where(Participation.rdv_id == rdv_id, col(Participation.usager_id).in_(usager_ids))
        .order_by(col(Participation.id))))
    usagers = {require_id(u): u for u in session.exec(
        select(Usager).where(col(Usager.id).in_([p.usager_id for p in participations]),
                             col(Usager.deleted_at).is_(None)))}
    responsible_ids = {u.responsible_id for u in usagers.values() if u.responsible_id} - set(usagers)
    if responsible_ids:
        usagers.update({require_id(u): u for u in session.exec(
            select(Usager).where(col(Usager.id).in_(responsible_ids), col(Usager.deleted_at).is_(None)))})
    return participations, usagers


def _load_agents(session: Session, agent_ids: Sequence[int]) -> dict[int, Agent]:
    if not agent_ids:
        return {}
    found = {a.id: a for a in session.exec(select(Agent).where(col(Agent.id).in_(agent_ids)))}
    return {a: found[a] for a in agent_ids if a in found}


def _existing_keys(session: Session, keys: Sequence[str]) -> set[str]:
    if not keys:
        return set()
    return set(session.exec(select(OutboxMessage.idempotency_key)
                            .where(col(OutboxMessage.idempotency_key).in_(keys))))


# --------------------------------------------------------------------------- recipients and tokens


def _contact(usager: Usager) -> recipients.UsagerContact:
    return recipients.UsagerContact(
        usager_id=require_id(usager), email=usager.email, notify_by_email=usager.notify_by_email,
        phone_number=usager.phone_number_formatted or usager.phone_number, notify_by_sms=usager.notify_by_sms)


def _targets(context: _Context, participations: Sequence[Participation],
             usagers: dict[int, Usager]) -> list[recipients.ParticipationTarget]:
    """The participations whose usagers may hear of the RDV: none when its motif is invisible to them."""
    if not recipients.usagers_see(context.motif.visibility_type):
        return []
    return [_target(p, usagers) for p in participations if p.usager_id in usagers]


def _target(participation: Participation, usagers: dict[int, Usager]) -> recipients.ParticipationTarget:
    usager = usagers[participation.usager_id]
    responsible = usagers.get(usager.responsible_id) if usager.responsible_id else None
    return recipients.ParticipationTarget(
        participant=_contact(usager), responsible=_contact(responsible) if responsible else None,
        status=RdvStatus(participation.status), was_cancelled=False,
        send_lifecycle_notifications=participation.send_lifecycle_notifications,
        send_reminder_notification=participation.send_reminder_notification)


def _usager_key(event: NotificationEvent, rdv: Rdv, message: recipients.UsagerMessage) -> str:
    return f"{event.value}:{rdv.uuid}:{rdv.ics_sequence}:{message.channel.value}:usager:{message.usager_id}"


def _agent_key(event: NotificationEvent, rdv: Rdv, agent_id: int, agent_tag: str) -> str:
    return f"{event.value}:{rdv.uuid}:{rdv.ics_sequence}:mail:agent:{agent_id}:agents:{agent_tag}"


def _fresh_links(session: Session, rdv: Rdv, participations: dict[int, Participation],
                 messages: Sequence[recipients.UsagerMessage], now: datetime) -> dict[int, str]:
    """One new token per participation messaged; each recipient's link uses the first participation its
    messages are about (the usager's own, or their first relative's). Recipient id -> link."""
    expires_at = token_expiry(now, rdv.ends_at)
    tokens: dict[int, str] = {}
    links: dict[int, str] = {}
    for message in messages:
        for participant_id in message.participant_ids:
            if participant_id not in tokens:
                participation = participations[participant_id]
                token = new_link_token(require_id(rdv), require_id(participation), settings.secret_key)
                tokens[participant_id] = token
                participation.access_token_hash = hash_token(token)
                participation.access_token_expires_at = expires_at
                session.add(participation)
        # The link's pages are HTTP routes: in `make dev` they answer on the API's port (RDV_API_URL).
        links.setdefault(message.usager_id, info_url(settings.api_url or settings.public_url, require_id(rdv),
                                                     tokens[message.participant_ids[0]]))
    return links


# --------------------------------------------------------------------------- rendering


def _instance_name() -> str | None:
    name = settings.environment_name.strip()
    return None if name.casefold() in _PRODUCTION_NAMES else name


def _sms_rdv(context: _Context, message: recipients.UsagerMessage, usagers: dict[int, Usager],
             agents: dict[int, Agent], occasion: recipients.Occasion, link: str) -> SmsRdv:
    lieu = context.lieu
    names = tuple(person_name(usagers[u].first_name, usagers[u].last_name) for u in message.participant_ids)
    follow_up = tuple(agent_short_name(agents[a].first_name, agents[a].last_name)
                      for a in occasion.agent_ids if a in agents) if context.motif.follow_up else ()
    return SmsRdv(
        service_short_name=context.service.short_name, starts_at=occasion.starts_at, time_zone=context.time_zone,
        location_type=context.location_type, link=link, collectif=context.motif.collectif,
        collectif_name=context.rdv.name, lieu_name=lieu.name if lieu else None,
        lieu_address=lieu.address if lieu else None, lieu_phone_number=lieu.phone_number if lieu else None,
        organisation_phone_number=context.organisation.phone_number,
        participant_names=names if message.for_relatives else (), agent_short_names=follow_up,
        instance_name=_instance_name())


def _organizer_email() -> str:
    address = parseaddr(mailer.SmtpSettings.from_env().mail_from)[1]
    return address or "ne-pas-repondre@localhost"


def _ics_rdv(context: _Context, occasion: recipients.Occasion, agents: dict[int, Agent], audience: Audience, *,
             cancelled: bool | None = None) -> IcsRdv:
    rdv, lieu = context.rdv, context.lieu
    if audience == Audience.USAGER:
        link = f"{settings.public_url}/r"
    else:
        link = f"{settings.public_url}/agenda?rdv={rdv.id}"
    attendees = tuple(IcsPerson(a.email, agent_name(a.first_name, a.last_name))
                      for a_id, a in agents.items() if a_id in occasion.agent_ids and a.email)
    if cancelled is None:
        cancelled = occasion.event == NotificationEvent.RDV_CANCELLED
    return IcsRdv(uid=rdv.uuid, sequence=rdv.ics_sequence, starts_at=rdv.starts_at, ends_at=rdv.ends_at,
                  time_zone=context.time_zone, motif_name=_ics_title(context), location_type=context.location_type,
                  organizer_email=_organizer_email(), link=link, agents=attendees, cancelled=cancelled,
                  lieu_name=lieu.name if lieu else None, lieu_address=lieu.address if lieu else None)


def _ics_title(context: _Context) -> str:
    """The motif, and a collective session's own name: one calendar event per session, named as agents
    and participants know it."""
    motif, name = context.motif, context.rdv.name
    return f"{motif.name} : {name}" if motif.collectif and name and name != motif.name else motif.name


def _ics_payload(ics: IcsFile) -> dict[str, str]:
    return {"content": ics.content.decode("utf-8"), "method": ics.method.value, "filename": ics.filename}


def _when(context: _Context, instant: datetime) -> str:
    text = datefmt.long_datetime(instant, context.time_zone)
    return text.replace(" à ", " vers ", 1) if context.location_type == LocationType.HOME else text


def _place(context: _Context) -> str:
    if context.lieu is not None:
        return f"{context.lieu.name} ({context.lieu.address})"
    return {LocationType.PHONE: "RDV téléphonique", LocationType.HOME: "RDV à votre domicile",
            LocationType.VISIO: "RDV par visioconférence"}.get(context.location_type, "")


def _usager_subject(context: _Context, occasion: recipients.Occasion) -> str:
    when = datefmt.long_datetime(occasion.starts_at, context.time_zone)
    if occasion.event == NotificationEvent.RDV_UPDATED:
        old = datefmt.long_datetime(occasion.old_starts_at or occasion.starts_at, context.time_zone)
        return f"RDV du {old} modifié"
    if occasion.event == NotificationEvent.RDV_CANCELLED:
        return f"RDV annulé le {when} avec {context.organisation.name}"
    if occasion.event == NotificationEvent.RDV_UPCOMING_REMINDER:
        return f"[Rappel] RDV le {when}"
    return f"RDV confirmé le {when}"


def _usager_email(context: _Context, occasion: recipients.Occasion, message: recipients.UsagerMessage,
                  usagers: dict[int, Usager], link: str, ics: IcsFile) -> dict[str, Any]:
    rdv, motif, organisation = context.rdv, context.motif, context.organisation
    duration = int((rdv.ends_at - rdv.starts_at).total_seconds() // 60)
    names = ", ".join(person_name(usagers[u].first_name, usagers[u].last_name) for u in message.participant_ids)
    lines = ["Bonjour,", "", _USAGER_INTROS[occasion.event], "", "Récapitulatif",
             f"Date : {_when(context, occasion.starts_at)}", f"Participants : {names}",
             f"Motif : {motif.name}" + (f" ({rdv.name})" if motif.collectif and rdv.name else ""),
             f"Service : {context.service.name}", f"Durée : {duration} minutes", f"Lieu : {_place(context)}"]
    if motif.instruction_for_rdv and occasion.event != NotificationEvent.RDV_CANCELLED:
        lines += ["", motif.instruction_for_rdv.strip()]
    phone = (context.lieu.phone_number if context.lieu else None) or organisation.phone_number
    contact = ", ".join(part for part in (organisation.name, phone, organisation.email) if part)
    lines += ["", f"Contact : {contact}"]
    if occasion.event == NotificationEvent.RDV_CANCELLED:
        lines += [f"Reprendre RDV : {link}"]
    else:
        lines += ["Vous pouvez annuler ou modifier ce rendez-vous jusqu'à 4h avant"
                  + (f" en appelant le {phone}" if phone else "") + ".", f"Infos et annulation : {link}"]
    return with_html({"to": message.address, "subject": _usager_subject(context, occasion),
                      "text": "\n".join(lines) + "\n", "ics": _ics_payload(ics)})


def _seat_given_up(context: _Context, occasion: recipients.Occasion) -> bool:
    """A participant cancelled their seat of a collective session, which goes on."""
    return (context.motif.collectif and occasion.event == NotificationEvent.RDV_CANCELLED
            and occasion.status not in CANCELLED_STATUSES)


def _agent_email(context: _Context, occasion: recipients.Occasion, event: NotificationEvent, address: str,
                 ics: IcsFile) -> dict[str, Any]:
    rdv = context.rdv
    # An agent taken off an RDV that was changed (moved to a colleague's time, say) hears "annulé" for the
    # RDV they had, at its old time: the RDV itself was not cancelled, by the usager or anyone.
    taken_off = event == NotificationEvent.RDV_CANCELLED and occasion.event != NotificationEvent.RDV_CANCELLED
    starts_at = (occasion.old_starts_at or occasion.starts_at) if taken_off else occasion.starts_at
    when = datefmt.long_datetime(starts_at, context.time_zone)
    verb = _AGENT_VERBS[event]
    if event == NotificationEvent.RDV_CANCELLED and not taken_off and occasion.author_type == AuthorType.USAGER:
        verb += " par l'usager"
    intro, subject = f"Un RDV de votre agenda a été {verb}.", f"RDV {verb} le {when}"
    if event == NotificationEvent.RDV_CANCELLED and _seat_given_up(context, occasion):
        who = " par l'usager" if occasion.author_type == AuthorType.USAGER else ""
        intro = "Un participant a annulé sa participation à un RDV collectif de votre agenda, qui reste prévu."
        subject = f"Participation annulée{who} le {when}"
    lines = ["Bonjour,", "", intro, "",
             f"Date : {when}", f"Motif : {context.motif.name}" + (f" ({rdv.name})" if rdv.name else ""),
             f"Lieu : {_place(context)}"]
    if event == NotificationEvent.RDV_UPDATED and occasion.old_starts_at and occasion.old_starts_at != occasion.starts_at:
        lines.append(f"Ancienne date : {datefmt.long_datetime(occasion.old_starts_at, context.time_zone)}")
    lines += ["", f"Voir le RDV : {settings.public_url}/agenda?rdv={rdv.id}"]
    return with_html({"to": address, "subject": subject,
                      "text": "\n".join(lines) + "\n", "ics": _ics_payload(ics)})
