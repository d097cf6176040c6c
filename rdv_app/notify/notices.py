"""Plage d'ouverture and indisponibilité notices: the email (with its calendar) an agent gets when one of
their plages or absences is created, changed or deleted, by a colleague or by themselves (domain.md
sections 1 and 3.5; "Mon compte" preferences `plage_ouverture_notification_level` and
`absence_notification_level`, all or none).

`on_availability_changed` handles the `AvailabilityChanged` events the services of plages and absences
record (rdv_app.wiring registers it), in the transaction of the change (for a deletion, before the row
is deleted), and queues the emails in the outbox. When a change gives the plage or absence to another agent, the previous one gets the deletion
(METHOD:CANCEL, which removes it from their calendar) and the new one the creation (METHOD:REQUEST).

The calendar has a stable UID per plage or absence (`plage_ouverture_<id>@<host>`) and a SEQUENCE that
grows with each change (`rdv_app.notify.ics.notice_sequence`). The purge of expired plages sends
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from rdv_app import routes
from rdv_app.config import settings
from rdv_app.db.models import Absence, Agent, Lieu, Motif, Organisation, PlageOuverture, PlageOuvertureMotif
from rdv_app.db.rows import require_id
from rdv_app.domain import clock
from rdv_app.domain.availability_text import describe_absence, describe_plage
from rdv_app.domain.enums import Channel, NoticeLevel, NotificationEvent
from rdv_app.domain.events import AvailabilityChanged, Change
from rdv_app.domain.names import agent_name
from rdv_app.domain.recurrence import Recurrence
from rdv_app.notify.email_html import with_html
from rdv_app.notify.events import _organizer_email
from rdv_app.notify.ics import AvailabilityNotice, IcsPerson, NoticeKind, notice_ics, notice_sequence
from rdv_app.notify.outbox import enqueue


class NoticeAction(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


_NOUNS = {NoticeKind.PLAGE_OUVERTURE: "plage d'ouverture", NoticeKind.ABSENCE: "indisponibilité"}
_PAGES = {NoticeKind.PLAGE_OUVERTURE: routes.PLAGES, NoticeKind.ABSENCE: routes.ABSENCES}
_PAGE_LABELS = {NoticeKind.PLAGE_OUVERTURE: "Voir vos plages d'ouverture",
                NoticeKind.ABSENCE: "Voir vos indisponibilités"}
_EVENTS = {NoticeKind.PLAGE_OUVERTURE: NotificationEvent.PLAGE_NOTICE, NoticeKind.ABSENCE: NotificationEvent.ABSENCE_NOTICE}
_PARTICIPLES = {NoticeAction.CREATED: "créée", NoticeAction.UPDATED: "modifiée", NoticeAction.DELETED: "supprimée"}


@dataclass(frozen=True)
class _Recipient:
    agent: Agent
    action: NoticeAction
    moved_to: Agent | None = None  # the record went to this other agent


_ACTIONS = {Change.CREATED: NoticeAction.CREATED, Change.UPDATED: NoticeAction.UPDATED,
            Change.DELETED: NoticeAction.DELETED}
_MODELS: dict[str, type[PlageOuverture] | type[Absence]] = {"plage_ouverture": PlageOuverture, "absence": Absence}


def on_availability_changed(session: Session, change: AvailabilityChanged) -> None:
    """Handler of `AvailabilityChanged`: the notices of the change, when the agents are to hear of it."""
    record = session.get(_MODELS[change.model], change.record_id)
    if not change.notify or not isinstance(record, PlageOuverture | Absence) or change.actor.agent_id is None:
        return
    notify_availability_change(session, record, _ACTIONS[change.change], organisation_id=change.organisation_id,
                               author_agent_id=change.actor.agent_id, previous_agent_id=change.previous_agent_id)


def notify_availability_change(session: Session, record: PlageOuverture | Absence, action: NoticeAction, *,
                               organisation_id: int, author_agent_id: int,
                               previous_agent_id: int | None = None) -> list[int]:
    """Queues the notices of one change in `session`'s transaction; returns the new outbox ids.

    `organisation_id` is where the change is made (an absence's times are read in its time zone);
    `previous_agent_id` is the record's agent before an update.
    """
    kind = NoticeKind.PLAGE_OUVERTURE if isinstance(record, PlageOuverture) else NoticeKind.ABSENCE
    agent_ids = {record.agent_id, author_agent_id} | ({previous_agent_id} if previous_agent_id else set())
    agents = {a.id: a for a in session.exec(select(Agent).where(col(Agent.id).in_(agent_ids)))}
    recipients = _recipients(kind, record, action, agents, previous_agent_id)
    if not recipients:
        return []
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        return []
    time_zone = organisation.time_zone
    place, motifs = _plage_details(session, record) if isinstance(record, PlageOuverture) else (None, [])
    stamp = clock.now()
    sequence = 0 if action is NoticeAction.CREATED else max(0, notice_sequence(record.created_at, stamp))
    facts = [("Quand", _describe(kind, record)), ("Lieu", place),
             ("Motifs", ", ".join(motifs) or None), ("Organisation", organisation.name)]
    author = agents.get(author_agent_id)
    ids = []
    for recipient in recipients:
        email = recipient.agent.email
        if not email:  # never: _recipients keeps only agents with an email
            continue
        cancelled = recipient.action is NoticeAction.DELETED
        notice = AvailabilityNotice(
            kind=kind, record_id=require_id(record), title=record.title, first_day=record.first_day,
            start_time=record.start_time, end_time=record.end_time, time_zone=time_zone,
            agent=IcsPerson(email, agent_name(recipient.agent.first_name, recipient.agent.last_name)),
            organizer_email=_organizer_email(), uid_domain=urlsplit(settings.public_url).hostname or "localhost",
            sequence=sequence, recurrence=Recurrence.from_json(record.recurrence, record.first_day),
            end_day=record.end_day if isinstance(record, Absence) else None, location=place, cancelled=cancelled)
        ics = notice_ics(notice, stamp)
        payload = with_html({**_email(kind, record.title, recipient, author, facts, cancelled),
                             "to": recipient.agent.email,
                             "ics": {"content": ics.content.decode("utf-8"), "method": ics.method.value,
                                     "filename": ics.filename}})
        key = (f"{kind.value}_notice:{record.id}:{stamp.isoformat()}:{recipient.action.value}"
               f":agent:{recipient.agent.id}")
        outbox_id = enqueue(session, channel=Channel.MAIL, event=_EVENTS[kind], idempotency_key=key,
                            payload=payload, organisation_id=organisation_id, agent_id=recipient.agent.id)
        if outbox_id is not None:
            ids.append(outbox_id)
    return ids


def _recipients(kind: NoticeKind, record: PlageOuverture | Absence, action: NoticeAction, agents: dict[Any, Agent],
                previous_agent_id: int | None) -> list[_Recipient]:
    current = agents.get(record.agent_id)
    if action is NoticeAction.UPDATED and previous_agent_id and previous_agent_id != record.agent_id:
        previous = agents.get(previous_agent_id)
        found = [_Recipient(previous, NoticeAction.DELETED, moved_to=current) if previous else None,
                 _Recipient(current, NoticeAction.CREATED) if current else None]
    else:
        found = [_Recipient(current, action) if current else None]
    return [r for r in found if r is not None and _wants(r.agent, kind)]


def _wants(agent: Agent, kind: NoticeKind) -> bool:
    level = (agent.plage_ouverture_notification_level if kind is NoticeKind.PLAGE_OUVERTURE
             else agent.absence_notification_level)
    return level == NoticeLevel.ALL and bool(agent.email) and agent.deleted_at is None


def _plage_details(session: Session, plage: PlageOuverture) -> tuple[str | None, list[str]]:
    lieu = session.get(Lieu, plage.lieu_id) if plage.lieu_id is not None else None
    motifs = list(session.exec(
        select(Motif.name).join(PlageOuvertureMotif, col(PlageOuvertureMotif.motif_id) == Motif.id)
        .where(PlageOuvertureMotif.plage_ouverture_id == plage.id).order_by(col(Motif.name))))
    return (f"{lieu.name} ({lieu.address})" if lieu else None), motifs


def _describe(kind: NoticeKind, record: PlageOuverture | Absence) -> str:
    recurrence = Recurrence.from_json(record.recurrence, record.first_day)
    if isinstance(record, Absence):
        return describe_absence(record.first_day, record.start_time, record.end_day, record.end_time, recurrence)
    return describe_plage(record.first_day, record.start_time, record.end_time, recurrence)


def _email(kind: NoticeKind, title: str, recipient: _Recipient, author: Agent | None,
           facts: list[tuple[str, str | None]], cancelled: bool) -> dict[str, Any]:
    noun = _NOUNS[kind]
    by = f" par {agent_name(author.first_name, author.last_name)}" if author is not None and author.id != recipient.agent.id else ""
    if recipient.moved_to is not None:
        what = f"a été attribuée à {agent_name(recipient.moved_to.first_name, recipient.moved_to.last_name)}{by}"
    else:
        what = f"a été {_PARTICIPLES[recipient.action]}{by}"
    calendar = ("Le fichier joint la retire de votre agenda." if cancelled
                else "Le fichier joint l'ajoute à votre agenda ou l'y met à jour.")
    lines = ["Bonjour,", "", f"Votre {noun} « {title} » {what}.", ""]
    lines += [f"{label} : {value}" for label, value in facts if value]
    lines += ["", calendar, f"{_PAGE_LABELS[kind]} : {settings.public_url}{_PAGES[kind]}"]
    participle = "retirée" if recipient.moved_to is not None else _PARTICIPLES[recipient.action]
    subject = f"{noun[0].upper()}{noun[1:]} {participle} : {title}"
    return {"subject": subject, "text": "\n".join(lines) + "\n"}
