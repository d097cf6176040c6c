"""Sectorisation (domain.md sections 2.2, 6.2 and 10): which organisations and agents an usager's address
is offered, motif by motif.

An address is known by its commune (INSEE code) and, when the usager chose a numbered address or a
street, its street's Base Adresse Nationale id ("<city_code>_<4 chars>", the first ten characters of a
housenumber id). The sectors covering it are those with a zone on that street; only when no street zone
matches, those with a zone on the whole commune: a street zone is more precise than its city's.

Each motif has a level: "departement" motifs are offered to every address of the territory;
"organisation" motifs only by organisations a covering sector is attributed to; "agent" motifs only with
the agents a covering sector is attributed to, in the motif's organisation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rdv_app.domain.enums import AttributionLevel, SectorisationLevel, ZoneLevel

_CITY_CODE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")
_STREET_ID = re.compile(r"^(?:\d{5}|2[ab]\d{3})_[0-9a-z]{4}$")  # lower case, as stored
STREET_ID_LENGTH = 10


@dataclass(frozen=True)
class SectorAddress:
    """Where the usager lives, as the Base Adresse Nationale names it."""

    city_code: str
    street_ban_id: str = ""  # "" when only the commune is known


# An address not given (yet): no sector covers it, so only motifs open to the whole département are offered.
UNKNOWN_ADDRESS = SectorAddress("")


@dataclass(frozen=True)
class Zone:
    sector_id: int
    level: str  # ZoneLevel
    city_code: str
    street_ban_id: str = ""


@dataclass(frozen=True)
class Attribution:
    sector_id: int
    organisation_id: int
    agent_id: int | None = None  # set when level is agent

    @property
    def level(self) -> str:
        return AttributionLevel.AGENT.value if self.agent_id is not None else AttributionLevel.ORGANISATION.value


@dataclass(frozen=True)
class Coverage:
    """What the sectors covering an address are attributed to."""

    sector_ids: frozenset[int]
    organisation_ids: frozenset[int]  # attributions at organisation level
    agent_ids_by_organisation: dict[int, frozenset[int]]  # attributions at agent level

    @property
    def covered(self) -> bool:
        return bool(self.organisation_ids or self.agent_ids_by_organisation)

    def offers(self, level: str, organisation_id: int) -> bool:
        """Whether a motif of this level and organisation may be offered at the address."""
        if level == SectorisationLevel.ORGANISATION.value:
            return organisation_id in self.organisation_ids
        if level == SectorisationLevel.AGENT.value:
            return bool(self.agent_ids_by_organisation.get(organisation_id))
        return True

    def agents_for(self, level: str, organisation_id: int) -> frozenset[int] | None:
        """The agents whose plages a motif of this level may offer; None: no restriction."""
        if level == SectorisationLevel.AGENT.value:
            return self.agent_ids_by_organisation.get(organisation_id, frozenset())
        return None


def valid_city_code(value: str) -> bool:
    return bool(_CITY_CODE.match(value))


def departement_of(city_code: str) -> str:
    """The département number of a commune's INSEE code: "62041" gives "62", "97411" "974", "2A004" "2A"."""
    return city_code[:3] if city_code.startswith("97") else city_code[:2]


def street_id_of(ban_id: str) -> str:
    """The street id of a Base Adresse Nationale id: a housenumber's "62041_0570_00001" gives
    "62041_0570"; a street's id is itself; a commune's (5 characters) gives ""."""
    street = (ban_id or "").strip().lower()[:STREET_ID_LENGTH]
    return street if _STREET_ID.match(street) else ""


def address_of(city_code: str, street_ban_id: str = "") -> SectorAddress | None:
    """The address of query values, None when the commune code is not one; a street that is not of that
    commune is dropped (the commune alone then decides)."""
    city = (city_code or "").strip().upper()
    if not valid_city_code(city):
        return None
    street = street_id_of(street_ban_id)
    return SectorAddress(city, street if street.startswith(city.lower() + "_") else "")


def covering_sectors(address: SectorAddress, zones: Iterable[Zone]) -> frozenset[int]:
    """Sectors with a zone on the address's street; failing that, those with a zone on its commune."""
    zones = list(zones)
    if address.street_ban_id:
        streets = frozenset(z.sector_id for z in zones if z.level == ZoneLevel.STREET.value
                            and z.street_ban_id == address.street_ban_id)
        if streets:
            return streets
    return frozenset(z.sector_id for z in zones if z.level == ZoneLevel.CITY.value
                     and z.city_code == address.city_code)


def coverage(address: SectorAddress, zones: Iterable[Zone], attributions: Iterable[Attribution]) -> Coverage:
    sectors = covering_sectors(address, zones)
    organisations: set[int] = set()
    agents: dict[int, set[int]] = {}
    for attribution in attributions:
        if attribution.sector_id not in sectors:
            continue
        if attribution.agent_id is None:
            organisations.add(attribution.organisation_id)
        else:
            agents.setdefault(attribution.organisation_id, set()).add(attribution.agent_id)
    return Coverage(sectors, frozenset(organisations), {o: frozenset(a) for o, a in agents.items()})
