"""Sectorisation of a territory (domain.md section 10, admin-domain.md "Sectorisation"): its territorial
admins define sectors, each a set of zones (whole communes, or streets, named by the Base Adresse
Nationale), and attribute them to organisations or to agents of an organisation. Motifs choose their level
(département, organisation, agent: the motif form); the rules of which sector covers an address are in
rdv_app.domain.sectorisation, and the public search applies them (`address_coverage`).

Rights: territorial admins of the territory of the organisation shown only (rdv_app.services.rights). Ids
sent by the browser are checked to be the territory's here; every change is audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from rdv_app.db.models import (
    Agent,
    AgentRole,
    Motif,
    Organisation,
    PlageOuverture,
    PlageOuvertureMotif,
    Rdv,
    RdvAgent,
    Sector,
    SectorAttribution,
    SectorZone,
    Usager,
)
from rdv_app.db.rows import require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, names, sectorisation, zone_import
from rdv_app.domain.enums import CANCELLED_STATUSES, AttributionLevel, SectorisationLevel, ZoneLevel
from rdv_app.domain.sectorisation import Attribution, Coverage, SectorAddress, Zone
from rdv_app.services import audit
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError, NotFound
from rdv_app.services.integrations.addresses import AddressSuggestion
from rdv_app.services.organisation import zone_files
from rdv_app.services.rights import require_territorial_admin, territory_of

ENTITY = "sector"
SECTOR_NOT_FOUND = "Ce secteur n'existe pas dans ce territoire."
_HUMAN_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class ZoneLine:
    zone_id: int
    level: str
    label: str  # "Arras (62041) — toute la commune", "Rue de la Paix, Arras"


@dataclass(frozen=True)
class AttributionLine:
    attribution_id: int
    label: str  # "Organisation : Mairie d'Arras", "Agent : Camille Martin (Mairie d'Arras)"


@dataclass(frozen=True)
class SectorLine:
    sector_id: int
    name: str
    human_id: str
    zones: tuple[ZoneLine, ...]
    attributions: tuple[AttributionLine, ...]


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class TerritorySectors:
    sectors: tuple[SectorLine, ...]
    organisations: tuple[Option, ...]  # value: organisation id
    agents: tuple[Option, ...]  # value: "<organisation id>:<agent id>"


@dataclass(frozen=True)
class ZoneChoice:
    """A commune or a street found in the Base Adresse Nationale, to add to a sector."""

    level: str
    city_code: str
    city_name: str
    street_ban_id: str
    street_name: str

    @property
    def label(self) -> str:
        if self.level == ZoneLevel.STREET.value:
            return f"Rue : {self.street_name}, {self.city_name} ({self.city_code})"
        return f"Commune entière : {self.city_name} ({self.city_code})"


# --------------------------------------------------------------------------- what covers an address


def address_coverage(uow: UnitOfWork, territory_id: int, address: SectorAddress) -> Coverage:
    """The sectors of the territory covering the address, and what they are attributed to (no rights: the
    public search's; active agents only); once per page load, which asks it for each list of motifs and for
    the week's agents."""
    return uow.remembered(("address coverage", territory_id, address),
                          lambda: _address_coverage(uow, territory_id, address))


def _address_coverage(uow: UnitOfWork, territory_id: int, address: SectorAddress) -> Coverage:
    zones_statement, attributions_statement = _coverage_statements()
    zones = [Zone(z.sector_id, z.level, z.city_code, z.street_ban_id) for z in uow.session.exec(
        zones_statement, params={"territory_id": territory_id, "city_code": address.city_code})]
    covering = sectorisation.covering_sectors(address, zones)
    rows = uow.session.exec(attributions_statement, params={"sector_ids": list(covering)}).all()
    return sectorisation.coverage(address, zones, [Attribution(a.sector_id, a.organisation_id, a.agent_id)
                                                   for a in rows])


@cache
def _coverage_statements() -> tuple[Any, Any]:
    """The zones of the territory's sectors in a commune, and the attributions of some sectors (active agents
    only): built once, as every page load of a sectorised territory asks them."""
    sector_ids = select(Sector.id).where(Sector.territory_id == sa.bindparam("territory_id"))
    zones = select(SectorZone).where(col(SectorZone.sector_id).in_(sector_ids),
                                     SectorZone.city_code == sa.bindparam("city_code"))
    attributions = (select(SectorAttribution).outerjoin(Agent, col(Agent.id) == SectorAttribution.agent_id)
                    .where(col(SectorAttribution.sector_id).in_(sa.bindparam("sector_ids", expanding=True)),
                           sa.or_(col(SectorAttribution.agent_id).is_(None), col(Agent.deleted_at).is_(None))))
    return zones, attributions


def territory_sectorised(uow: UnitOfWork, territory_id: int) -> bool:
    """Whether addresses matter in the territory: it has attributed sectors and an active motif sectorised
    at organisation or agent level (domain.md, Territory `sectorized?`)."""
    attributed, sectorised = _sectorised_statements()
    params = {"territory_id": territory_id}
    if uow.session.exec(attributed, params=params).first() is None:
        return False
    return uow.session.exec(sectorised, params=params).first() is not None


@cache
def _sectorised_statements() -> tuple[Any, Any]:
    """`territory_sectorised`'s statements for a `:territory_id`, built once (asked at every page load)."""
    organisations = select(Organisation.id).where(Organisation.territory_id == sa.bindparam("territory_id"))
    attributed = select(SectorAttribution.id).where(col(SectorAttribution.organisation_id).in_(organisations)).limit(1)
    sectorised = select(Motif.id).where(
        col(Motif.organisation_id).in_(organisations), col(Motif.deleted_at).is_(None),
        Motif.sectorisation_level != SectorisationLevel.DEPARTEMENT.value).limit(1)
    return attributed, sectorised


def zone_choices(found: list[AddressSuggestion]) -> list[ZoneChoice]:
    """The communes and streets of Base Adresse Nationale suggestions, each once, communes first."""
    towns: dict[str, ZoneChoice] = {}
    streets: dict[str, ZoneChoice] = {}
    for suggestion in found:
        if not sectorisation.valid_city_code(suggestion.city_code):
            continue
        towns.setdefault(suggestion.city_code, ZoneChoice(ZoneLevel.CITY.value, suggestion.city_code,
                                                          suggestion.city_name, "", ""))
        street = sectorisation.street_id_of(suggestion.ban_id)
        if street and suggestion.street_name and street.startswith(suggestion.city_code.lower() + "_"):
            streets.setdefault(street, ZoneChoice(ZoneLevel.STREET.value, suggestion.city_code, suggestion.city_name,
                                                  street, suggestion.street_name))
    return [*towns.values(), *streets.values()]


# --------------------------------------------------------------------------- admin screen


def _territory(uow: UnitOfWork, actor_agent_id: int, organisation_id: int) -> int:
    territory_id = territory_of(uow, organisation_id)
    require_territorial_admin(uow, actor_agent_id, territory_id)
    return territory_id


def _sector(uow: UnitOfWork, territory_id: int, sector_id: int) -> Sector:
    sector = uow.session.get(Sector, sector_id)
    if sector is None or sector.territory_id != territory_id:
        raise NotFound(SECTOR_NOT_FOUND)
    return sector


def _zone_label(zone: SectorZone) -> str:
    if zone.level == ZoneLevel.STREET.value:
        return f"{zone.street_name}, {zone.city_name} ({zone.city_code})"
    return f"{zone.city_name} ({zone.city_code}) — toute la commune"


def _agent_name(agent: Agent) -> str:
    return names.agent_name(agent.first_name, agent.last_name) or agent.email or "—"


@boundary
def list_sectors(uow: UnitOfWork, actor_agent_id: int, organisation_id: int) -> TerritorySectors:
    """The territory's sectors by name with their zones and attributions, and what they may be attributed to."""
    territory_id = _territory(uow, actor_agent_id, organisation_id)
    organisations = {require_id(o): o.name for o in uow.session.exec(
        select(Organisation).where(Organisation.territory_id == territory_id).order_by(col(Organisation.name)))}
    roles = uow.session.exec(
        select(AgentRole.organisation_id, Agent).join(Agent, col(Agent.id) == AgentRole.agent_id)
        .where(col(AgentRole.organisation_id).in_(list(organisations)), col(Agent.deleted_at).is_(None))).all()
    agent_names = {require_id(agent): _agent_name(agent) for _, agent in roles}
    agent_options = sorted(((f"{org_id}:{require_id(agent)}", f"{_agent_name(agent)} ({organisations[org_id]})")
                            for org_id, agent in roles), key=lambda option: names.plain_text(option[1]))
    sectors = uow.session.exec(select(Sector).where(Sector.territory_id == territory_id)).all()
    ids = [require_id(s) for s in sectors]
    zones: dict[int, list[SectorZone]] = {}
    for zone in uow.session.exec(select(SectorZone).where(col(SectorZone.sector_id).in_(ids))):
        zones.setdefault(zone.sector_id, []).append(zone)
    attributions: dict[int, list[AttributionLine]] = {}
    for row in uow.session.exec(select(SectorAttribution).where(col(SectorAttribution.sector_id).in_(ids))
                                .order_by(col(SectorAttribution.id))):
        label = (f"Agent : {agent_names.get(row.agent_id, '—')} ({organisations.get(row.organisation_id, '')})"
                 if row.agent_id is not None else f"Organisation : {organisations.get(row.organisation_id, '')}")
        attributions.setdefault(row.sector_id, []).append(AttributionLine(require_id(row), label))
    lines = [SectorLine(require_id(s), s.name, s.human_id,
                        tuple(ZoneLine(require_id(z), z.level, _zone_label(z)) for z in sorted(
                            zones.get(require_id(s), []), key=lambda z: (z.city_name, z.level, z.street_name))),
                        tuple(attributions.get(require_id(s), [])))
             for s in sorted(sectors, key=lambda s: names.plain_text(s.name))]
    return TerritorySectors(tuple(lines), tuple(Option(str(i), n) for i, n in organisations.items()),
                            tuple(Option(v, label) for v, label in agent_options))


@boundary
def create_sector(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, name: str, human_id: str) -> int:
    """A new sector of the territory; its id. `human_id`: a short code unique in the territory ("arras-nord")."""
    territory_id = _territory(uow, actor_agent_id, organisation_id)
    cleaned = " ".join((name or "").split())
    code = (human_id or "").strip().lower()
    errors = {}
    if not cleaned:
        errors["name"] = "Indiquez le nom du secteur."
    if not _HUMAN_ID.match(code):
        errors["human_id"] = ("Indiquez un identifiant fait de lettres minuscules sans accent, de chiffres et de "
                              "tirets (par exemple arras-nord).")
    elif uow.session.exec(select(Sector.id).where(Sector.territory_id == territory_id,
                                                  Sector.human_id == code)).first() is not None:
        errors["human_id"] = f"Un secteur d'identifiant « {code} » existe déjà dans ce territoire."
    if errors:
        field, message = next(iter(errors.items()))
        raise DomainError(message, field=field)
    sector = Sector(territory_id=territory_id, name=cleaned, human_id=code)
    uow.session.add(sector)
    uow.session.flush()
    sector_id = require_id(sector)
    audit.record(uow.session, action="create", entity_type=ENTITY, entity_id=sector_id,
                 organisation_id=organisation_id, actor_agent_id=actor_agent_id,
                 changes={"name": [None, cleaned], "human_id": [None, code]})
    uow.commit()
    return sector_id


@boundary
def delete_sector(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, sector_id: int) -> str:
    """Removes the sector with its zones and attributions."""
    territory_id = _territory(uow, actor_agent_id, organisation_id)
    sector = _sector(uow, territory_id, sector_id)
    name = sector.name
    uow.session.exec(sa.delete(SectorZone).where(col(SectorZone.sector_id) == sector_id))
    uow.session.exec(sa.delete(SectorAttribution).where(col(SectorAttribution.sector_id) == sector_id))
    uow.session.delete(sector)
    audit.record(uow.session, action="delete", entity_type=ENTITY, entity_id=sector_id,
                 organisation_id=organisation_id, actor_agent_id=actor_agent_id, changes={"name": [name, None]})
    uow.commit()
    return f"Le secteur « {name} » a été supprimé."


@boundary
def add_zone(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, sector_id: int, city_code: str,
             city_name: str, street_ban_id: str = "", street_name: str = "") -> str:
    """Adds a commune (no street) or one of its streets to the sector; the French notice."""
    territory_id = _territory(uow, actor_agent_id, organisation_id)
    sector = _sector(uow, territory_id, sector_id)
    code = (city_code or "").strip().upper()
    town = " ".join((city_name or "").split())
    if not sectorisation.valid_city_code(code) or not town:
        raise DomainError("Choisissez une commune parmi les adresses proposées.", field="city_code")
    street = ""
    if street_ban_id:
        street = sectorisation.street_id_of(street_ban_id)
        if not street or not street.startswith(code.lower() + "_") or not " ".join((street_name or "").split()):
            raise DomainError("Choisissez une rue parmi les adresses proposées.", field="street_ban_id")
    level = ZoneLevel.STREET.value if street else ZoneLevel.CITY.value
    exists = uow.session.exec(select(SectorZone.id).where(
        SectorZone.sector_id == sector_id, SectorZone.level == level, SectorZone.city_code == code,
        SectorZone.street_ban_id == street)).first()
    zone = SectorZone(sector_id=sector_id, level=level, city_code=code, city_name=town, street_ban_id=street,
                      street_name=" ".join((street_name or "").split()) if street else "")
    if exists is not None:
        raise DomainError(f"« {_zone_label(zone)} » est déjà dans le secteur « {sector.name} ».", field="city_code")
    uow.session.add(zone)
    audit.record(uow.session, action="update", entity_type=ENTITY, entity_id=sector_id,
                 organisation_id=organisation_id, actor_agent_id=actor_agent_id,
                 changes={"zones": [None, _zone_label(zone)]})
    uow.commit()
    return f"« {_zone_label(zone)} » a été ajouté au secteur « {sector.name} »."


@boundary
def remove_zone(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, zone_id: int) -> str:
    territory_id = _territory(uow, actor_agent_id, organisation_id)
    zone = uow.session.get(SectorZone, zone_id)
    if zone is None:
        raise NotFound(SECTOR_NOT_FOUND)
    sector = _sector(uow, territory_id, zone.sector_id)
    label = _zone_label(zone)
    uow.session.delete(zone)
    audit.record(uow.session, action="update", entity_type=ENTITY, entity_id=require_id(sector),
                 organisation_id=organisation_id, actor_agent_id=actor_agent_id, changes={"zones": [label, None]})
    uow.commit()
    return f"« {label} » a été retiré du secteur « {sector.name} »."


@boundary
def attribute_sector(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, sector_id: int,
                     attributed_organisation_id: int, agent_id: int | None = None) -> str:
    """Attributes the sector to an organisation of the territory, or to one of its agents."""
    territory_id = _territory(uow, actor_agent_id, organisation_id)
    sector = _sector(uow, territory_id, sector_id)
    organisation = uow.session.get(Organisation, attributed_organisation_id)
    if organisation is None or organisation.territory_id != territory_id:
        raise NotFound("Cette organisation n'existe pas dans ce territoire.")
    agent = None
    if agent_id is not None:
        agent = uow.session.exec(select(Agent).join(AgentRole, col(AgentRole.agent_id) == Agent.id).where(
            Agent.id == agent_id, AgentRole.organisation_id == attributed_organisation_id,
            col(Agent.deleted_at).is_(None))).first()
        if agent is None:
            raise NotFound("Cet agent n'existe pas dans cette organisation.")
    exists = uow.session.exec(select(SectorAttribution.id).where(
        SectorAttribution.sector_id == sector_id, SectorAttribution.organisation_id == attributed_organisation_id,
        col(SectorAttribution.agent_id).is_(None) if agent_id is None
        else col(SectorAttribution.agent_id) == agent_id)).first()
    whom = f"{_agent_name(agent)} ({organisation.name})" if agent is not None else organisation.name
    if exists is not None:
        raise DomainError(f"Le secteur « {sector.name} » est déjà attribué à {whom}.", field="attributed_to")
    level = AttributionLevel.AGENT.value if agent_id is not None else AttributionLevel.ORGANISATION.value
    uow.session.add(SectorAttribution(sector_id=sector_id, organisation_id=attributed_organisation_id,
                                      agent_id=agent_id, level=level))
    audit.record(uow.session, action="update", entity_type=ENTITY, entity_id=sector_id,
                 organisation_id=organisation_id, actor_agent_id=actor_agent_id,
                 changes={"attributions": [None, whom]})
    uow.commit()
    return f"Le secteur « {sector.name} » est attribué à {whom}."


@boundary
def remove_attribution(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, attribution_id: int) -> str:
    territory_id = _territory(uow, actor_agent_id, organisation_id)
    row = uow.session.get(SectorAttribution, attribution_id)
    if row is None:
        raise NotFound(SECTOR_NOT_FOUND)
    sector = _sector(uow, territory_id, row.sector_id)
    uow.session.delete(row)
    audit.record(uow.session, action="update", entity_type=ENTITY, entity_id=require_id(sector),
                 organisation_id=organisation_id, actor_agent_id=actor_agent_id,
                 changes={"attributions": [attribution_id, None]})
    uow.commit()
    return f"L'attribution du secteur « {sector.name} » a été retirée."


@dataclass(frozen=True)
class AddressMatch:
    """"Tester la sectorisation": what an address matches (admin-domain.md section 10's test page)."""

    by_street: bool  # a street zone decided (else the commune's zones)
    sectors: tuple[str, ...]  # "Arras ville (arras)", by name
    organisations: tuple[str, ...]  # attributed at organisation level, by name
    agents: tuple[str, ...]  # "Paul Petit (PMI Arras)", attributed at agent level, by name

    @property
    def covered(self) -> bool:
        return bool(self.organisations or self.agents)


@boundary
def match_address(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, city_code: str,
                  street_ban_id: str = "") -> AddressMatch:
    """The territory's sectors covering an address (a commune's INSEE code, and a street's or a number's
    Base Adresse Nationale id), and the organisations and agents they are attributed to, as the public
    search applies them."""
    territory_id = _territory(uow, actor_agent_id, organisation_id)
    address = sectorisation.address_of(city_code, street_ban_id)
    if address is None:
        raise DomainError("Choisissez une adresse parmi les adresses proposées.", field="city_code")
    covered = address_coverage(uow, territory_id, address)
    streets = uow.session.exec(select(SectorZone.id).where(
        col(SectorZone.sector_id).in_(list(covered.sector_ids)), SectorZone.level == ZoneLevel.STREET.value,
        SectorZone.street_ban_id == address.street_ban_id).limit(1)).first() if address.street_ban_id else None
    found = uow.session.exec(select(Sector).where(col(Sector.id).in_(list(covered.sector_ids)))).all()
    organisations = {require_id(o): o.name for o in uow.session.exec(select(Organisation).where(
        Organisation.territory_id == territory_id))}
    agent_ids = {a for ids in covered.agent_ids_by_organisation.values() for a in ids}
    agents = {require_id(a): a for a in uow.session.exec(select(Agent).where(col(Agent.id).in_(list(agent_ids))))}
    agent_lines = [f"{_agent_name(agents[a])} ({organisations.get(o, '')})"
                   for o, ids in covered.agent_ids_by_organisation.items() for a in ids if a in agents]

    def by_name(lines: list[str]) -> tuple[str, ...]:
        return tuple(sorted(lines, key=names.plain_text))

    return AddressMatch(streets is not None, by_name([f"{s.name} ({s.human_id})" for s in found]),
                        by_name([organisations.get(o, "") for o in covered.organisation_ids]), by_name(agent_lines))


class ZoneImportRefused(DomainError):
    """The zone file has wrong lines: nothing was imported; `problems` are "Ligne 4 : ..." in French."""

    def __init__(self, problems: tuple[str, ...]) -> None:
        count = len(problems)
        super().__init__(f"Aucune zone n'a été importée : {count} ligne{'s' if count > 1 else ''} à corriger.",
                         field="zone_file")
        self.problems = problems


@dataclass(frozen=True)
class ZoneImport:
    added: int
    already_there: int

    @property
    def notice(self) -> str:
        def zones(count: int) -> str:
            return f"{count} zone{'s' if count > 1 else ''}"
        if not self.added and not self.already_there:
            return "Le fichier ne contient aucune zone."
        told = f"{zones(self.added)} importée{'s' if self.added > 1 else ''}"
        if self.already_there:
            told += f", {zones(self.already_there)} déjà présente{'s' if self.already_there > 1 else ''}"
        return told + "."


@boundary
def import_zones(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, file_name: str,
                 zone_file: bytes) -> ZoneImport:
    """Adds the zones of a CSV or XLSX file (columns of rdv_app.domain.zone_import) to the territory's
    sectors, all or nothing: one wrong line and nothing is written (ZoneImportRefused lists every wrong
    line). Zones already in their sector are left as they are, so importing a file again changes nothing."""
    territory_id = _territory(uow, actor_agent_id, organisation_id)
    rows = zone_files.read_rows(file_name, zone_file)
    by_human_id = {s.human_id: s for s in uow.session.exec(select(Sector).where(Sector.territory_id == territory_id))}
    checked = zone_import.check_lines(rows, by_human_id)
    if checked.problems:
        raise ZoneImportRefused(checked.problems)
    existing = {(z.sector_id, z.level, z.city_code, z.street_ban_id) for z in uow.session.exec(
        select(SectorZone).where(col(SectorZone.sector_id).in_([require_id(s) for s in by_human_id.values()])))}
    added: dict[int, int] = {}
    for line in checked.zones:
        sector_id = require_id(by_human_id[line.sector_human_id])
        if (sector_id, line.level, line.city_code, line.street_ban_id) in existing:
            continue
        uow.session.add(SectorZone(sector_id=sector_id, level=line.level, city_code=line.city_code,
                                   city_name=line.city_name, street_ban_id=line.street_ban_id,
                                   street_name=line.street_name))
        added[sector_id] = added.get(sector_id, 0) + 1
    for sector_id, count in added.items():
        audit.record(uow.session, action="update", entity_type=ENTITY, entity_id=sector_id,
                     organisation_id=organisation_id, actor_agent_id=actor_agent_id,
                     changes={"zones": [None, f"{count} zone(s) importée(s) de {file_name}"]})
    uow.commit()
    total = sum(added.values())
    return ZoneImport(total, len(checked.zones) - total)


def usager_address(uow: UnitOfWork, territory_id: int, usager: Usager) -> SectorAddress | None:
    """The address an agent's search for this usager uses (prescription): their commune, as their record
    holds it (INSEE code); UNKNOWN_ADDRESS without one; None where the territory is not sectorised."""
    if not territory_sectorised(uow, territory_id):
        return None
    return sectorisation.address_of(usager.city_code or "") or sectorisation.UNKNOWN_ADDRESS


def offered_in_sectors(uow: UnitOfWork, territory_id: int, motifs: list[Motif],
                       address: SectorAddress | None, now: datetime | None = None) -> list[Motif]:
    """The motifs that may be offered at the address (all of them without an address): those open to the
    whole département, those of an organisation a covering sector is attributed to, and those sectorised by
    agent whose covering agents have plages of them."""
    if address is None:
        return motifs
    covered = address_coverage(uow, territory_id, address)
    return [m for m in motifs if covered.offers(m.sectorisation_level, m.organisation_id)
            and _has_plages_of(uow, m, covered.agents_for(m.sectorisation_level, m.organisation_id), now)]


def _has_plages_of(uow: UnitOfWork, motif: Motif, agent_ids: frozenset[int] | None,
                   now: datetime | None) -> bool:
    """Whether these agents offer the motif: plages of it, or for a collective motif a session to come
    that one of them leads."""
    if agent_ids is None:
        return True
    if motif.collectif:
        return uow.session.exec(select(Rdv.id).join(RdvAgent, col(RdvAgent.rdv_id) == Rdv.id).where(
            Rdv.motif_id == motif.id, col(RdvAgent.agent_id).in_(list(agent_ids)), col(Rdv.starts_at) > (now or clock.now()),
            col(Rdv.status).not_in([s.value for s in CANCELLED_STATUSES])).limit(1)).first() is not None
    return uow.session.exec(select(PlageOuverture.id).join(
        PlageOuvertureMotif, col(PlageOuvertureMotif.plage_ouverture_id) == PlageOuverture.id).where(
        PlageOuvertureMotif.motif_id == motif.id, col(PlageOuverture.agent_id).in_(list(agent_ids))).limit(1)
    ).first() is not None
