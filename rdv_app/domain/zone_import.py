"""Zones of sectors imported from a table (domain.md section 10: "zones are imported from CSV or XLS"),
with RDV Service Public's columns so that its files can be reused:

| column          | content                                                                  |
|-----------------|--------------------------------------------------------------------------|
| `sector_id`     | the identifier (`human_id`) of a sector of the territory, "arras-nord"   |
| `city_code`     | the commune's INSEE code, "62041"                                        |
| `city_name`     | the commune's name, "Arras"                                              |
| `street_name`   | for a street zone only: the street's name, "Rue de la Paix"              |
| `street_ban_id` | for a street zone only: its Base Adresse Nationale id, "62041_0570"      |

A line without a street covers the whole commune. Every line is checked before anything is written; the
problems are given by line number (the header is line 1), in French.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rdv_app.domain import sectorisation
from rdv_app.domain.enums import ZoneLevel

COLUMNS = ("sector_id", "city_code", "city_name", "street_name", "street_ban_id")
REQUIRED_COLUMNS = ("sector_id", "city_code", "city_name")
MAX_LINES = 20_000
MAX_NAME = 160  # rdv_app.domain.limits.LABEL: a town's or a street's name


@dataclass(frozen=True)
class ZoneLine:
    line: int
    sector_human_id: str
    level: str  # ZoneLevel
    city_code: str
    city_name: str
    street_ban_id: str = ""
    street_name: str = ""

    @property
    def place(self) -> tuple[str, str, str, str]:
        """What makes two zones the same (with their sector)."""
        return self.sector_human_id, self.level, self.city_code, self.street_ban_id


@dataclass(frozen=True)
class CheckedLines:
    zones: tuple[ZoneLine, ...]  # each place once, in the file's order
    problems: tuple[str, ...]  # "Ligne 4 : ...", empty when every line is right


def missing_columns(header: Iterable[str]) -> list[str]:
    found = {normalised_column(name) for name in header}
    return [name for name in REQUIRED_COLUMNS if name not in found]


def normalised_column(name: str) -> str:
    return (name or "").strip().lower().lstrip("\ufeff")


def _clean(value: object) -> str:
    return " ".join(str(value if value is not None else "").split())


def check_lines(rows: Iterable[tuple[int, Mapping[str, object]]], sector_ids: Iterable[str]) -> CheckedLines:
    """Each (line number, {column: value}) row as a zone, or the French problems of the wrong lines.
    `sector_ids`: the identifiers of the territory's sectors."""
    known = set(sector_ids)
    zones: dict[tuple[str, str, str, str], ZoneLine] = {}
    problems: list[str] = []
    for line, row in rows:
        values = {normalised_column(k): _clean(v) for k, v in row.items() if k is not None}
        if not any(values.get(name) for name in COLUMNS):
            continue  # a blank line
        found = _check_line(line, values, known)
        if isinstance(found, str):
            problems.append(f"Ligne {line} : {found}")
        else:
            zones.setdefault(found.place, found)
    return CheckedLines(tuple(zones.values()), tuple(problems))


def _check_line(line: int, values: Mapping[str, str], known: set[str]) -> ZoneLine | str:
    human_id = values.get("sector_id", "").lower()
    city_code = values.get("city_code", "").upper()
    if len(city_code) == 4 and city_code.isdigit():  # a spreadsheet dropped the leading zero of "01004"
        city_code = "0" + city_code
    city_name, street_name = values.get("city_name", ""), values.get("street_name", "")
    street_ban_id = values.get("street_ban_id", "")
    if not human_id:
        return "l'identifiant du secteur (colonne sector_id) manque."
    if human_id not in known:
        return f"aucun secteur du territoire n'a l'identifiant « {human_id} » : créez-le d'abord."
    if not sectorisation.valid_city_code(city_code):
        return (f"« {city_code} » n'est pas un code INSEE de commune (colonne city_code, cinq caractères, "
                "par exemple 62041).") if city_code else "le code INSEE de la commune (colonne city_code) manque."
    if not city_name:
        return "le nom de la commune (colonne city_name) manque."
    if len(city_name) > MAX_NAME or len(street_name) > MAX_NAME:
        return f"un nom dépasse {MAX_NAME} caractères."
    if not street_ban_id and not street_name:
        return ZoneLine(line, human_id, ZoneLevel.CITY.value, city_code, city_name)
    if not street_ban_id:
        return "l'identifiant de la rue dans la Base Adresse Nationale (colonne street_ban_id) manque."
    if not street_name:
        return "le nom de la rue (colonne street_name) manque."
    street = sectorisation.street_id_of(street_ban_id)
    if not street:
        return (f"« {street_ban_id} » n'est pas un identifiant de rue de la Base Adresse Nationale "
                "(par exemple 62041_0570).")
    if not street.startswith(city_code.lower() + "_"):
        return f"la rue « {street_ban_id} » n'est pas dans la commune {city_code}."
    return ZoneLine(line, human_id, ZoneLevel.STREET.value, city_code, city_name, street, street_name)
