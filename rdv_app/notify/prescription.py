"""The prescripteur's confirmation: an agent who booked an RDV by prescription (admin-domain.md 10.3), in
another organisation of the territory as in their own, or an external prescripteur who booked it on the
public pages (domain.md 6.4), gets "RDV confirmé le <date>" by email, since they are not one of its agents
and the RDV's own messages do not reach them.

A handler of `RdvChanged` (rdv_app.wiring), in the transaction of the booking: an RDV created, or a seat of
a collective session taken ("participant_added"), by an agent whose participation says it was prescribed by
that agent, or by a prescripteur. The key holds the RDV's uuid, the participant and the RDV's version: once
per booking, and again for a participant registered anew after cancelling.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from rdv_app.db.models import Agent, Lieu, Motif, Organisation, Participation, Prescripteur, Rdv, Usager
from rdv_app.domain import datefmt
from rdv_app.domain.enums import AuthorType, Channel, LocationType, NotificationEvent
from rdv_app.domain.events import Change, RdvChanged
from rdv_app.domain.labels import LOCATION_TYPE_LABELS
from rdv_app.domain.names import usager_name
from rdv_app.notify.email_html import with_html
from rdv_app.notify.outbox import enqueue


def on_rdv_changed(session: Session, change: RdvChanged) -> None:
    if change.change != Change.CREATED and change.action != "participant_added":
        return
    if change.actor.type == AuthorType.PRESCRIPTEUR:
        _to_prescripteur(session, change)
        return
    agent_id = change.actor.agent_id
    if change.actor.type != AuthorType.AGENT or agent_id is None:
        return
    prescribed = session.exec(
        select(Usager).join(Participation, col(Participation.usager_id) == Usager.id)
        .where(Participation.rdv_id == change.rdv_id, col(Participation.usager_id).in_(change.usager_ids),
               col(Participation.created_by_agent_prescripteur).is_(True),
               Participation.created_by_agent_id == agent_id)).first()
    agent = session.get(Agent, agent_id)
    if prescribed is None or agent is None or not agent.email or agent.deleted_at is not None:
        return
    rdv = session.get(Rdv, change.rdv_id)
    if rdv is None:
        return
    _confirm(session, rdv, prescribed, to=agent.email, key=_key(rdv, f"agent:{agent_id}", prescribed),
             agent_id=agent_id)


def _to_prescripteur(session: Session, change: RdvChanged) -> None:
    row = session.exec(
        select(Rdv, Prescripteur, Usager)
        .join(Participation, col(Participation.rdv_id) == Rdv.id)
        .join(Prescripteur, col(Prescripteur.id) == Participation.prescripteur_id)
        .join(Usager, col(Usager.id) == Participation.usager_id)
        .where(Rdv.id == change.rdv_id, col(Participation.usager_id).in_(change.usager_ids))).first()
    if row is None:
        return
    rdv, prescripteur, prescribed = row
    _confirm(session, rdv, prescribed, to=prescripteur.email,
             key=_key(rdv, f"prescripteur:{prescripteur.id}", prescribed), agent_id=None)


def _key(rdv: Rdv, booker: str, prescribed: Usager) -> str:
    return f"prescription_confirmed:{rdv.uuid}:{booker}:{prescribed.id}:{rdv.ics_sequence}"


def _confirm(session: Session, rdv: Rdv, prescribed: Usager, *, to: str, key: str, agent_id: int | None) -> None:
    motif = session.get(Motif, rdv.motif_id)
    organisation = session.get(Organisation, rdv.organisation_id)
    if motif is None or organisation is None:
        return
    title = rdv.name or motif.name
    lieu = session.get(Lieu, rdv.lieu_id) if rdv.lieu_id is not None else None
    when = datefmt.long_datetime(rdv.starts_at, organisation.time_zone)
    name = usager_name(prescribed.first_name, prescribed.last_name)
    place = (f"{lieu.name} ({lieu.address})" if lieu
             else LOCATION_TYPE_LABELS[LocationType(motif.location_type)])
    contact = ", ".join(p for p in (organisation.name, (lieu.phone_number if lieu else None)
                                    or organisation.phone_number, organisation.email) if p)
    lines = ["Bonjour,", "", f"Nous vous confirmons le rendez-vous que vous avez réservé pour {name}.", "",
             f"Date : {when}", f"Motif : {title}", f"Lieu : {place}", f"Organisation : {contact}"]
    instruction = (motif.instruction_for_rdv or "").strip()
    if instruction:
        lines += ["", f"Informations supplémentaires : {instruction}"]
    lines += ["", f"Besoin de déplacer le rendez-vous ou de corriger un détail ? Contactez {organisation.name}."]
    enqueue(session, channel=Channel.MAIL, event=NotificationEvent.RDV_CREATED,
            idempotency_key=key,
            payload=with_html({"to": to, "subject": f"RDV confirmé le {when}",
                               "text": "\n".join(lines) + "\n"}),
            organisation_id=rdv.organisation_id, rdv_id=rdv.id, rdv_version=rdv.ics_sequence, agent_id=agent_id,
            expires_at=rdv.starts_at)
