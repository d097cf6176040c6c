"""The "embauches.csv" export of the Conseillers Numériques back office (`;`-separated), read row by row
(integrations.md section 2): the columns used, each row checked, every problem with its line number.

A row is kept when its account is active ("Compte activé" = oui), it names its structure (the
structure's id, a 24-hexadecimal ObjectId, the join key with the map; its name; its address) and the
conseiller (id, names, an email: "email professionnel secondaire", else "email professionnel", else
"email"). A conseiller met twice in the file is imported once, the second line reported.

A conseiller is known by their id ("conseiller-numerique-<ID conseiller>" on the agent), else by their
email or their former one ("email professionnel" when the secondary professional address replaced it).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from typing import Any

from rdv_app.domain import limits

COLUMNS = ("ID conseiller", "prenom", "nom", "Compte activé", "ID long Structure", "Dénomination",
           "Adresse de la structure")
EMAIL_COLUMNS = ("email professionnel secondaire", "email professionnel", "email")
_OBJECT_ID = re.compile(r"[0-9a-f]{24}")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_POSTCODE = re.compile(r"\b(\d{5})\b")

TERRITORY_NUMBER = "CN"
TERRITORY_NAME = "Conseillers Numériques"
SERVICE_NAME = "Conseiller Numérique"
SERVICE_SHORT_NAME = "CNFS"
VERTICALE = "rdv_aide_numerique"
# The two motifs of a new structure: (name, minutes, collective).
MOTIFS = (("Accompagnement individuel", 60, False), ("Atelier collectif", 120, True))


def agent_external_id(conseiller_id: str) -> str:
    """The conseiller's id on the agent, as RDV Service Public stores it."""
    return f"conseiller-numerique-{conseiller_id}"


@dataclass(frozen=True)
class ConseillerRow:
    line: int
    conseiller_id: str
    email: str
    first_name: str
    last_name: str
    structure_id: str
    structure_name: str
    structure_address: str
    former_email: str = ""

    @property
    def postcode(self) -> str:
        found = _POSTCODE.search(self.structure_address)
        return found.group(1) if found else ""

    @property
    def city(self) -> str:
        """The words after the postcode ("12 rue X 69001 Lyon" → "Lyon"), for telling namesakes apart."""
        found = _POSTCODE.search(self.structure_address)
        return self.structure_address[found.end():].strip(" ,") if found else ""


@dataclass(frozen=True)
class RowProblem:
    line: int
    message: str


def read_embauches(text: str) -> tuple[list[ConseillerRow], list[RowProblem]]:
    """The rows to import and the problems found (line numbers as a spreadsheet shows them, header = 1)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";")
    missing = [c for c in (*COLUMNS, EMAIL_COLUMNS[0]) if c not in (reader.fieldnames or [])]
    if missing:
        return [], [RowProblem(1, "colonnes manquantes : " + ", ".join(missing))]
    rows: list[ConseillerRow] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(reader, start=2):
        values = {key: (value or "").strip() for key, value in raw.items() if key is not None}
        if values["Compte activé"].lower() != "oui":
            problems.append(RowProblem(index, "compte non activé : ligne ignorée"))
            continue
        email = next((values.get(c, "") for c in EMAIL_COLUMNS if values.get(c, "")), "").lower()
        empty = [c for c in ("ID conseiller", "nom", "Dénomination", "Adresse de la structure") if not values[c]]
        if empty:
            problems.append(RowProblem(index, "valeur manquante : " + ", ".join(empty)))
            continue
        if not _EMAIL.match(email):
            problems.append(RowProblem(index, "adresse email absente ou invalide"))
            continue
        structure_id = values["ID long Structure"].lower()
        if not _OBJECT_ID.fullmatch(structure_id):
            problems.append(RowProblem(index, "« ID long Structure » n'est pas un identifiant de 24 caractères "
                                              "hexadécimaux"))
            continue
        if values["ID conseiller"] in seen:
            problems.append(RowProblem(index, f"conseiller déjà présent ligne {seen[values['ID conseiller']]} : "
                                              "ligne ignorée"))
            continue
        seen[values["ID conseiller"]] = index
        former = values.get("email professionnel", "").lower()
        rows.append(ConseillerRow(index, values["ID conseiller"], email, values["prenom"], values["nom"],
                                  structure_id, values["Dénomination"], values["Adresse de la structure"],
                                  former if former != email and _EMAIL.match(former) else ""))
    return rows, problems


def unique_name(wanted: str, city: str, taken: set[str]) -> str:
    """The structure's name, then "name - city", then "name (2)", "name (3)"... among `taken` (lower case)."""
    for candidate in (wanted, f"{wanted} - {city}" if city else wanted):
        if candidate.lower() not in taken:
            return candidate
    number = 2
    while f"{wanted} ({number})".lower() in taken:
        number += 1
    return f"{wanted} ({number})"


# --------------------------------------------------------------------------- the permanences JSON


PERMANENCE_KEYS = ("nom", "adresse", "commune", "code_postal", "structureId")
_POSTCODE_ONLY = re.compile(r"\d{5}")


@dataclass(frozen=True)
class PermanenceEntry:
    """One permanence of a structure (integrations.md section 2: `nom`, `adresse`, `commune`,
    `code_postal`, `structureId`), a lieu of its organisation; `entry` counts from 1 in the file."""

    entry: int
    structure_id: str
    name: str
    street: str
    postcode: str
    city: str

    @property
    def address(self) -> str:
        """As the Base Adresse Nationale writes it, and as the lieu keeps it when it is not found there."""
        return f"{self.street} {self.postcode} {self.city}"


def _structure_id(value: Any) -> str:
    """The structure's ObjectId, plain or in MongoDB's extended JSON (`{"$oid": "…"}`)."""
    if isinstance(value, dict):
        value = value.get("$oid", "")
    return str(value).strip().lower() if isinstance(value, str) else ""


def read_permanences(text: str) -> tuple[list[PermanenceEntry], list[RowProblem]]:
    """The permanences to import and the problems found, by entry number (the first entry is 1; 0 is the
    file itself). A permanence met twice (same structure, same name) is imported once."""
    try:
        data = json.loads(text.lstrip("\ufeff"))
    except ValueError as error:
        line = getattr(error, "lineno", None)
        where = f" (ligne {line})" if line else ""
        return [], [RowProblem(0, f"le fichier n'est pas un JSON valide{where}")]
    if not isinstance(data, list):
        return [], [RowProblem(0, "le fichier doit contenir une liste de permanences")]
    entries: list[PermanenceEntry] = []
    problems: list[RowProblem] = []
    seen: dict[tuple[str, str], int] = {}
    for index, raw in enumerate(data, start=1):
        if not isinstance(raw, dict):
            problems.append(RowProblem(index, "une permanence doit être un objet JSON"))
            continue
        values = {key: raw.get(key) for key in PERMANENCE_KEYS}
        texts = {key: " ".join(value.split()) if isinstance(value, str) else "" for key, value in values.items()}
        structure_id = _structure_id(values["structureId"])
        empty = [key for key in PERMANENCE_KEYS[:4] if not texts[key]] + ([] if values["structureId"] else
                                                                        ["structureId"])
        if empty:
            problems.append(RowProblem(index, "valeur manquante : " + ", ".join(empty)))
            continue
        if not _OBJECT_ID.fullmatch(structure_id):
            problems.append(RowProblem(index, "« structureId » n'est pas un identifiant de 24 caractères "
                                              "hexadécimaux"))
            continue
        if not _POSTCODE_ONLY.fullmatch(texts["code_postal"]):
            problems.append(RowProblem(index, "« code_postal » doit comporter 5 chiffres"))
            continue
        if len(texts["nom"]) > limits.LABEL:
            problems.append(RowProblem(index, f"« nom » dépasse {limits.LABEL} caractères"))
            continue
        entry = PermanenceEntry(index, structure_id, texts["nom"], texts["adresse"], texts["code_postal"],
                                texts["commune"])
        if len(entry.address) > limits.ADDRESS:
            problems.append(RowProblem(index, f"l'adresse dépasse {limits.ADDRESS} caractères"))
            continue
        key = (structure_id, entry.name.casefold())
        if key in seen:
            problems.append(RowProblem(index, f"permanence déjà présente entrée {seen[key]} : entrée ignorée"))
            continue
        seen[key] = index
        entries.append(entry)
    return entries, problems
