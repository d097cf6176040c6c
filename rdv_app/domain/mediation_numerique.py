"""Our lieux in the "Lieux de médiation numérique" schema (LaMednum `standard-mediation-num` v0.2.0, a
Frictionless table schema on schema.data.gouv.fr), so that the map can show them with their online booking
link (`prise_rdv`), beyond the public links feed that RDV Service Public gives.

What we cannot know is left empty (optional fields) or given the schema's conventions: `pivot` (a SIRET
or RNA we do not hold) is the schema's "unknown" value of 14 zeros.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import asdict, dataclass
from datetime import date

from rdv_app.domain.ants import split_address

FIELDS = ("id", "pivot", "nom", "commune", "code_postal", "code_insee", "adresse", "complement_adresse", "latitude",
          "longitude", "typologie", "telephone", "courriels", "site_web", "horaires", "presentation_resume",
          "presentation_detail", "source", "itinerance", "structure_parente", "date_maj", "services",
          "publics_specifiquement_adresses", "prise_en_charge_specifique", "frais_a_charge",
          "dispositif_programmes_nationaux", "formations_labels", "autres_formations_labels", "modalites_acces",
          "modalites_accompagnement", "fiche_acces_libre", "prise_rdv")
REQUIRED = ("id", "pivot", "nom", "commune", "code_postal", "adresse", "date_maj", "services")
UNKNOWN_PIVOT = "00000000000000"
SOURCE = "RDV Services Publics"
# Values of the schema's own lists: what a conseiller numérique's "Accompagnement individuel" offers.
SERVICES = ("Aide aux démarches administratives", "Maîtrise des outils numériques du quotidien")
DISPOSITIF = "Conseillers numériques"
MODALITES_ACCES = "Prendre un RDV en ligne"
MODALITES_ACCOMPAGNEMENT = "Accompagnement individuel"
# The schema's pattern: an international prefix of France or its overseas territories, no spaces.
_PHONE = re.compile(r"^(\+33|\+590|\+594|\+262|\+596|\+269|\+687|\+689|\+508|\+681)\d{6,9}$")


@dataclass(frozen=True)
class LieuMediation:
    id: str
    pivot: str
    nom: str
    commune: str
    code_postal: str
    code_insee: str
    adresse: str
    complement_adresse: str
    latitude: str
    longitude: str
    typologie: str
    telephone: str
    courriels: str
    site_web: str
    horaires: str
    presentation_resume: str
    presentation_detail: str
    source: str
    itinerance: str
    structure_parente: str
    date_maj: str
    services: str
    publics_specifiquement_adresses: str
    prise_en_charge_specifique: str
    frais_a_charge: str
    dispositif_programmes_nationaux: str
    formations_labels: str
    autres_formations_labels: str
    modalites_acces: str
    modalites_accompagnement: str
    fiche_acces_libre: str
    prise_rdv: str


def telephone(number: str | None) -> str:
    """"+33…" without spaces, as the schema writes it; empty when it is not a phone number."""
    digits = re.sub(r"[\s.\-()]", "", number or "")
    if digits.startswith("0") and len(digits) == 10:
        digits = "+33" + digits[1:]
    return digits if _PHONE.match(digits) else ""


def lieu_row(*, lieu_id: int, name: str, address: str, latitude: float | None, longitude: float | None,
             phone: str | None, email: str | None, website: str | None, organisation_name: str,
             updated: date, booking_url: str) -> LieuMediation | None:
    """One lieu in the schema; None when its address lacks what the schema requires (postcode, town)."""
    parts = split_address(address)
    if not re.fullmatch(r"\d{5}", parts.zip_code) or not parts.city_name or not parts.public_entry_address:
        return None
    return LieuMediation(
        id=f"rdv-services-publics-lieu-{lieu_id}", pivot=UNKNOWN_PIVOT, nom=name, commune=parts.city_name,
        code_postal=parts.zip_code, code_insee="", adresse=parts.public_entry_address, complement_adresse="",
        latitude="" if latitude is None else f"{latitude:.6f}", longitude="" if longitude is None else f"{longitude:.6f}",
        typologie="", telephone=telephone(phone), courriels=email or "", site_web=website or "", horaires="",
        presentation_resume="", presentation_detail="", source=SOURCE, itinerance="",
        structure_parente=organisation_name if organisation_name != name else "", date_maj=updated.isoformat(),
        services=";".join(SERVICES), publics_specifiquement_adresses="", prise_en_charge_specifique="",
        frais_a_charge="", dispositif_programmes_nationaux=DISPOSITIF, formations_labels="",
        autres_formations_labels="", modalites_acces=MODALITES_ACCES, modalites_accompagnement=MODALITES_ACCOMPAGNEMENT,
        fiche_acces_libre="", prise_rdv=booking_url)


def as_csv(rows: list[LieuMediation]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(asdict(row) for row in rows)
    return out.getvalue()


def as_json(rows: list[LieuMediation]) -> list[dict[str, str]]:
    """The rows as the schema's JSON form: empty optional fields left out."""
    return [{key: value for key, value in asdict(row).items() if value != "" or key in REQUIRED} for row in rows]
