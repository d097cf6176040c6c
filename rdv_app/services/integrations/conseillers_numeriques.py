"""The public links that the Conseillers Numériques map reads (integrations.md section 2): for a territory
(`CN` for the Conseillers Numériques), its organisations known to the map by their `external_id` (the
structure's id on the CN side) that usagers can book now, each with its public booking link.

"Can book now": a plage d'ouverture still to come open to a motif bookable by everyone, or a collective RDV
to come of such a motif. The map's job reads the list periodically and removes the button of a structure
that left it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlmodel import col, select

from rdv_app import routes
from rdv_app.config import settings
from rdv_app.db.models import (
    Agent,
    AgentRole,
    AgentService,
    AgentTerritorialAccessRight,
    Lieu,
    Motif,
    Organisation,
    PlageOuverture,
    PlageOuvertureMotif,
    Rdv,
    Service,
    Territory,
    TerritoryService,
)
from rdv_app.db.rows import require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, contact
from rdv_app.domain import conseillers_numeriques as cn
from rdv_app.domain import mediation_numerique as mediation
from rdv_app.domain.enums import CANCELLED_STATUSES, AccessLevel, BookableBy, LieuAvailability, LocationType
from rdv_app.domain.mediation_numerique import LieuMediation
from rdv_app.services import audit
from rdv_app.services.agents import invitations
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError
from rdv_app.services.integrations import addresses


@dataclass(frozen=True)
class PublicLink:
    external_id: str
    public_link: str


@boundary
def public_links(uow: UnitOfWork, territory: str, now: datetime | None = None) -> list[PublicLink] | None:
    """The territory's bookable organisations with an external id, by id; None for an unknown territory."""
    now = now or clock.now()
    territory_id = uow.session.exec(select(Territory.id).where(Territory.departement_number == territory)).first()
    if territory_id is None:
        return None
    today = now.date() - timedelta(days=1)  # a day of margin for every time zone
    public = sa.and_(col(Motif.bookable_by) == BookableBy.EVERYONE.value, col(Motif.deleted_at).is_(None))
    plage_to_come = (
        select(Motif.organisation_id)
        .join(PlageOuvertureMotif, col(PlageOuvertureMotif.motif_id) == Motif.id)
        .join(PlageOuverture, col(PlageOuverture.id) == PlageOuvertureMotif.plage_ouverture_id)
        .where(public, col(Motif.collectif).is_(False), sa.or_(
            sa.and_(col(PlageOuverture.recurrence).is_(None), col(PlageOuverture.first_day) >= today),
            sa.and_(col(PlageOuverture.recurrence).is_not(None),
                    sa.or_(col(PlageOuverture.recurrence_until).is_(None),
                           col(PlageOuverture.recurrence_until) >= today)))))
    collective_to_come = (
        select(Rdv.organisation_id).join(Motif, col(Motif.id) == Rdv.motif_id)
        .where(public, col(Motif.collectif).is_(True), col(Rdv.starts_at) > now,
               col(Rdv.status).not_in([s.value for s in CANCELLED_STATUSES])))
    rows = uow.session.exec(
        select(Organisation.id, Organisation.external_id)
        .where(Organisation.territory_id == territory_id, col(Organisation.external_id).is_not(None),
               sa.or_(col(Organisation.id).in_(plage_to_come), col(Organisation.id).in_(collective_to_come)))
        .order_by(col(Organisation.id))).all()
    return [PublicLink(external_id or "", f"{settings.public_url}/org/{organisation_id}")
            for organisation_id, external_id in rows]


@boundary
def organisation_by_external_id(uow: UnitOfWork, territory: str, external_id: str) -> tuple[int, str] | None:
    """(id, slug) of the organisation of that territory known by that external id, for the short link
    `/org/ext/<territory>/<external_id>`."""
    row = uow.session.exec(
        select(Organisation.id, Organisation.slug).join(Territory, col(Territory.id) == Organisation.territory_id)
        .where(Territory.departement_number == territory, Organisation.external_id == external_id)).first()
    if row is None or row[0] is None:
        return None
    return row[0], row[1]


# --------------------------------------------------------------------------- the "embauches.csv" import


@dataclass
class ImportReport:
    """What an import did; `problems` are (line, message)."""

    organisations_created: list[str] = field(default_factory=list)
    organisations_kept: int = 0
    agents_invited: list[str] = field(default_factory=list)
    agents_added: list[str] = field(default_factory=list)
    agents_kept: int = 0
    emails_changed: list[str] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"Organisations créées : {len(self.organisations_created)}"
            + (f" ({', '.join(self.organisations_created)})" if self.organisations_created else ""),
            f"Organisations déjà présentes : {self.organisations_kept}",
            f"Conseillers invités : {len(self.agents_invited)}",
            f"Conseillers ajoutés comme administrateurs : {len(self.agents_added)}",
            f"Conseillers déjà en place : {self.agents_kept}",
            *(f"Adresse email changée : {change}" for change in self.emails_changed),
            *(f"Ligne {line} : {message}" for line, message in self.problems),
        ]


def _first_super_admin(uow: UnitOfWork) -> Agent:
    inviter = uow.session.exec(select(Agent).where(col(Agent.super_admin).is_(True), col(Agent.deleted_at).is_(None),
                                                   col(Agent.password_hash).is_not(None))
                               .order_by(col(Agent.id))).first()
    if inviter is None:
        raise DomainError("Aucun super administrateur : créez-le d'abord (python -m rdv_app.cli bootstrap), "
                          "les invitations partent en son nom.")
    return inviter


def _get_or_add(uow: UnitOfWork, model: type, where: Any, **values: Any) -> Any:
    found = uow.session.exec(select(model).where(where)).first()
    if found is None:
        found = model(**values)
        uow.session.add(found)
        uow.session.flush()
    return found


def _known_conseiller(uow: UnitOfWork, row: cn.ConseillerRow) -> tuple[Agent | None, str]:
    """The conseiller's account (by their id, else their email, else their former one) or None, and the
    reason to leave the row aside ("" when none)."""
    external_id = cn.agent_external_id(row.conseiller_id)
    agent = uow.session.exec(select(Agent).where(Agent.external_id == external_id)).first()
    for email in (row.email, row.former_email):
        if agent is None and email:
            agent = uow.session.exec(select(Agent).where(sa.func.lower(Agent.email) == email)).first()
    if agent is None:
        return None, ""
    if agent.external_id not in (None, external_id):
        return None, f"l'adresse {agent.email} est celle d'un autre conseiller : ligne ignorée"
    if agent.deleted_at is not None:
        return None, f"le compte {row.email} a été supprimé : ligne ignorée"
    if (agent.email or "").lower() != row.email and uow.session.exec(select(Agent.id).where(
            sa.func.lower(Agent.email) == row.email, col(Agent.id) != agent.id)).first() is not None:
        return None, f"l'adresse {row.email} est déjà celle d'un autre compte : ligne ignorée"
    return agent, ""


def _update_conseiller(uow: UnitOfWork, agent: Agent, row: cn.ConseillerRow, report: ImportReport,
                       now: datetime) -> None:
    """A known conseiller keeps their account: it takes their id, and their new email when it changed."""
    agent.external_id = cn.agent_external_id(row.conseiller_id)
    former = agent.email or ""
    if former.lower() != row.email:
        agent.email, agent.updated_at = row.email, now
        audit.record(uow.session, action="update", entity_type="agent", entity_id=require_id(agent),
                     actor_agent_id=None, changes={"email": [former, row.email]})
        report.emails_changed.append(f"{former} → {row.email}")
    uow.session.flush()


def import_conseillers(uow: UnitOfWork, text: str, *, locate: Any = addresses.locate) -> ImportReport:
    """Reads the export and writes it in one transaction (nothing half-written): a structure not met yet
    becomes an organisation of the CN territory (unique name, its two motifs, its lieu geocoded before
    anything is written), each conseiller its admin with access to the territory (as any agent invited into
an organisation), invited by email. A second run changes nothing."""
    rows, problems = cn.read_embauches(text)
    report = ImportReport(problems=[(p.line, p.message) for p in problems])
    if not rows:
        return report
    inviter = _first_super_admin(uow)
    now = clock.now()
    territory = _get_or_add(uow, Territory, Territory.departement_number == cn.TERRITORY_NUMBER,
                            departement_number=cn.TERRITORY_NUMBER, name=cn.TERRITORY_NAME, created_at=now)
    service = _get_or_add(uow, Service, Service.name == cn.SERVICE_NAME, name=cn.SERVICE_NAME,
                          short_name=cn.SERVICE_SHORT_NAME)
    territory_id, service_id = require_id(territory), require_id(service)
    _get_or_add(uow, TerritoryService, sa.and_(col(TerritoryService.territory_id) == territory_id,
                                               col(TerritoryService.service_id) == service_id),
                territory_id=territory_id, service_id=service_id)
    existing = {o.external_id: o for o in uow.session.exec(
        select(Organisation).where(Organisation.territory_id == territory_id, col(Organisation.external_id).in_(
            [r.structure_id for r in rows])))}
    new_structures = {r.structure_id: r for r in rows if r.structure_id not in existing}
    places = {sid: locate(r.structure_address) for sid, r in new_structures.items()}  # before any write
    taken = {n.lower() for n in uow.session.exec(select(Organisation.name).where(
        Organisation.territory_id == territory_id))}
    for structure_id, row in new_structures.items():
        name = cn.unique_name(row.structure_name, row.city, taken)
        taken.add(name.lower())
        organisation = Organisation(territory_id=territory_id, name=name, slug=contact.slug(name),
                                    external_id=structure_id, timezone=territory.timezone, verticale=cn.VERTICALE,
                                    created_at=now, updated_at=now)
        uow.session.add(organisation)
        uow.session.flush()
        organisation_id = require_id(organisation)
        place = places[structure_id]
        uow.session.add(Lieu(organisation_id=organisation_id, name=name,
                             address=place.label if place else row.structure_address,
                             latitude=place.latitude if place else None,
                             longitude=place.longitude if place else None, created_at=now))
        for motif_name, minutes, collective in cn.MOTIFS:
            uow.session.add(Motif(organisation_id=organisation_id, service_id=service_id, name=motif_name,
                                  default_duration_in_min=minutes, collectif=collective,
                                  location_type=LocationType.PUBLIC_OFFICE.value,
                                  bookable_by=BookableBy.EVERYONE.value, created_at=now, updated_at=now))
        existing[structure_id] = organisation
        report.organisations_created.append(name)
    report.organisations_kept = len({r.structure_id for r in rows}) - len(new_structures)
    for row in rows:
        organisation = existing[row.structure_id]
        organisation_id = require_id(organisation)
        agent, problem = _known_conseiller(uow, row)
        if problem:
            report.problems.append((row.line, problem))
            continue
        new = agent is None
        if agent is None:
            agent = Agent(email=row.email, first_name=row.first_name or None, last_name=row.last_name,
                          external_id=cn.agent_external_id(row.conseiller_id), created_at=now, updated_at=now)
            uow.session.add(agent)
            uow.session.flush()
        else:
            _update_conseiller(uow, agent, row, report, now)
        agent_id = require_id(agent)
        has_role = uow.session.exec(select(AgentRole.id).where(AgentRole.agent_id == agent_id,
                                                               AgentRole.organisation_id == organisation_id)).first()
        if has_role is not None:
            report.agents_kept += 1
            continue
        uow.session.add(AgentRole(agent_id=agent_id, organisation_id=organisation_id,
                                  access_level=AccessLevel.ADMIN.value, created_at=now))
        _get_or_add(uow, AgentService, sa.and_(col(AgentService.agent_id) == agent_id,
                                               col(AgentService.service_id) == service_id),
                    agent_id=agent_id, service_id=service_id)
        _get_or_add(uow, AgentTerritorialAccessRight,
                    sa.and_(col(AgentTerritorialAccessRight.agent_id) == agent_id,
                            col(AgentTerritorialAccessRight.territory_id) == territory_id),
                    agent_id=agent_id, territory_id=territory_id)
        if new or agent.password_hash is None:
            invitations.send_invitation(uow, agent, inviter, f"la structure {organisation.name} "
                                        f"({cn.TERRITORY_NAME})", now)
            report.agents_invited.append(row.email)
        else:
            report.agents_added.append(row.email)
    audit.record(uow.session, action="import_conseillers", entity_type="territory", entity_id=territory_id,
                 actor_agent_id=None, changes={"organisations": [None, len(report.organisations_created)],
                                               "agents": [None, len(report.agents_invited) + len(report.agents_added)]})
    uow.commit()
    return report


# --------------------------------------------------------------------------- the permanences JSON import


@dataclass
class PermanencesReport:
    """What an import of permanences did; `problems` are (entry, message), entry 0 being the file."""

    lieux_created: list[str] = field(default_factory=list)
    lieux_updated: list[str] = field(default_factory=list)
    lieux_kept: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"Lieux créés : {len(self.lieux_created)}"
            + (f" ({', '.join(self.lieux_created)})" if self.lieux_created else ""),
            f"Lieux mis à jour : {len(self.lieux_updated)}"
            + (f" ({', '.join(self.lieux_updated)})" if self.lieux_updated else ""),
            f"Lieux déjà à jour : {self.lieux_kept}",
            *(f"Fichier : {message}" if entry == 0 else f"Entrée {entry} : {message}"
              for entry, message in self.problems),
        ]


def import_permanences(uow: UnitOfWork, text: str, *, locate: Any = addresses.locate) -> PermanencesReport:
    """The Conseillers Numériques' permanences (integrations.md section 2, RDV-SP's `import_cnfs_lieux`) as
    lieux of their structure's organisation (found by `structureId`, its external id in the CN territory),
    in one transaction (nothing half-written), addresses geocoded before anything is written.

    A lieu is the structure's permanence of that name (case aside): created when new, its address and
    coordinates updated when the file gives another address, left alone otherwise, so that a second run
    changes nothing. Entries that cannot be read, or whose structure is unknown (its conseillers not imported
    yet), are reported with their number and left out."""
    entries, problems = cn.read_permanences(text)
    report = PermanencesReport(problems=[(p.line, p.message) for p in problems])
    if not entries:
        return report
    territory_id = uow.session.exec(select(Territory.id).where(
        Territory.departement_number == cn.TERRITORY_NUMBER)).first()
    if territory_id is None:
        raise DomainError(f"Le territoire {cn.TERRITORY_NAME} n'existe pas encore : importez d'abord les "
                          "conseillers (python -m rdv_app.cli import-conseillers embauches.csv).")
    organisations = {o.external_id: o for o in uow.session.exec(
        select(Organisation).where(Organisation.territory_id == territory_id, col(Organisation.external_id).in_(
            [e.structure_id for e in entries])))}
    lieux = {(lieu.organisation_id, lieu.name.casefold()): lieu for lieu in uow.session.exec(
        select(Lieu).where(col(Lieu.organisation_id).in_([require_id(o) for o in organisations.values()])))}
    work: list[tuple[cn.PermanenceEntry, Organisation, Lieu | None]] = []
    for entry in entries:
        organisation = organisations.get(entry.structure_id)
        if organisation is None:
            report.problems.append((entry.entry, f"structure {entry.structure_id} inconnue : importez d'abord ses "
                                                 "conseillers (import-conseillers)"))
            continue
        lieu = lieux.get((require_id(organisation), entry.name.casefold()))
        if lieu is not None and lieu.address.casefold() == entry.address.casefold():
            report.lieux_kept += 1
            continue
        work.append((entry, organisation, lieu))
    report.problems.sort()
    places = {entry.entry: locate(entry.address) for entry, _, _ in work}  # before any write
    now = clock.now()
    for entry, organisation, lieu in work:
        place = places[entry.entry]
        address = place.label if place else entry.address
        latitude, longitude = (place.latitude, place.longitude) if place else (None, None)
        if lieu is None:
            uow.session.add(Lieu(organisation_id=require_id(organisation), name=entry.name, address=address,
                                 latitude=latitude, longitude=longitude, created_at=now))
            report.lieux_created.append(f"{entry.name} ({organisation.name})")
        elif (lieu.address, lieu.latitude, lieu.longitude) == (address, latitude, longitude):
            report.lieux_kept += 1
        else:
            lieu.address, lieu.latitude, lieu.longitude = address, latitude, longitude
            uow.session.add(lieu)
            report.lieux_updated.append(f"{lieu.name} ({organisation.name})")
    uow.session.flush()
    if report.lieux_created or report.lieux_updated:
        audit.record(uow.session, action="import_permanences", entity_type="territory", entity_id=territory_id,
                     actor_agent_id=None, changes={"lieux_created": [None, len(report.lieux_created)],
                                                   "lieux_updated": [None, len(report.lieux_updated)]})
    uow.commit()
    return report


RESIN_MOTIF_KEY = "public_office:Accompagnement individuel"


def resin_target(external_ids: list[str]) -> str:
    """Where the Rés'In network's link `/resin/<ids>` leads (integrations.md section 2): the prescripteurs'
    search of the CN territory over the structures named (`structures`: their external ids), offering
    "Accompagnement individuel" (sur place) only. The search itself says when it knows none of them."""
    params = {"departement": cn.TERRITORY_NUMBER, "structures": ",".join(dict.fromkeys(external_ids)),
              "motif": RESIN_MOTIF_KEY}
    return f"{routes.PUBLIC_PRESCRIPTEUR}?{urlencode({k: v for k, v in params.items() if v})}"


@boundary
def lieux_mediation(uow: UnitOfWork, territory: str) -> list[LieuMediation] | None:
    """The enabled lieux of the territory's organisations with an external id, in the "Lieux de médiation
    numérique" schema, each with its organisation's public booking link; None for an unknown territory."""
    territory_id = uow.session.exec(select(Territory.id).where(Territory.departement_number == territory)).first()
    if territory_id is None:
        return None
    rows = uow.session.exec(
        select(Lieu, Organisation).join(Organisation, col(Organisation.id) == Lieu.organisation_id)
        .where(Organisation.territory_id == territory_id, col(Organisation.external_id).is_not(None),
               Lieu.availability == LieuAvailability.ENABLED.value)
        .order_by(col(Lieu.id))).all()
    found = []
    for lieu, organisation in rows:
        row = mediation.lieu_row(
            lieu_id=require_id(lieu), name=lieu.name, address=lieu.address, latitude=lieu.latitude,
            longitude=lieu.longitude, phone=lieu.phone_number or organisation.phone_number, email=organisation.email,
            website=organisation.website, organisation_name=organisation.name,
            updated=max(lieu.created_at, organisation.updated_at).date(),
            booking_url=f"{settings.public_url}/org/{require_id(organisation)}")
        if row is not None:
            found.append(row)
    return found
