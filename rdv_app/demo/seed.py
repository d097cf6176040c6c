"""Demo data (issue 2): a realistic French demo, identical on every install for a given day.

`seed_demo` fills an empty database and leaves alone any database that already has a territory, so
`make run` can call it on every start. `reset_demo` empties every table and seeds again (`make seed`).

Everything random comes from one `random.Random(2026)` and every date is relative to `today`, so two
seeds on the same day give the same content. Times of day are local to the organisation's time zone
and stored as aware UTC instants. RDVs are laid out the way the booking engine would place them: on
the motif's slot grid inside an occurrence of one of the agent's plages, outside French public
holidays and the agent's absences, never overlapping another RDV of the same agent.
"""

from __future__ import annotations

import random
import secrets
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

import holidays
import phonenumbers
from sqlmodel import Session, SQLModel, col, func, select

from rdv_app.auth.passwords import hash_password
from rdv_app.auth.tokens import hash_token, new_token
from rdv_app.db.models import (
    Absence,
    Agent,
    AgentInvitation,
    AgentRole,
    AgentService,
    AgentTeam,
    AgentTerritorialAccessRight,
    AgentTerritorialRole,
    Lieu,
    Motif,
    Organisation,
    Participation,
    PlageOuverture,
    PlageOuvertureMotif,
    Rdv,
    RdvAgent,
    ReferentAssignation,
    Sector,
    SectorAttribution,
    SectorZone,
    Service,
    Team,
    Territory,
    TerritoryService,
    Usager,
    UsagerProfile,
)
from rdv_app.db.rows import require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain.enums import (
    CANCELLED_STATUSES,
    AccessLevel,
    AuthorType,
    BookableBy,
    CreatedThrough,
    LieuAvailability,
    LocationType,
    NoticeLevel,
    RdvNotificationLevel,
    RdvStatus,
    SectorisationLevel,
    VisibilityType,
    ZoneLevel,
)
from rdv_app.domain.recurrence import Recurrence, nth_weekday
from rdv_app.services.agents import webcal

# Public on purpose: printed by `make run` and in the README, for demo databases only.
DEMO_PASSWORD = "RdvDemo-2026!"  # noqa: S105
PUBLIC_ORGANISATION_NAME = "PMI Arras"

_SEED = 2026
_PAST_WEEKS = 8  # history for the agenda, the "à renseigner" list and the exports
_HORIZON_DAYS = 91  # recurring plages run three months ahead
_TARGET_RDVS = 300
_PARIS = "Europe/Paris"
_REUNION = "Indian/Reunion"
_ONE_DAY = 86_400
_THREE_MONTHS = 7_889_238

ADMIN, BASIC, INTERVENANT = AccessLevel.ADMIN.value, AccessLevel.BASIC.value, AccessLevel.INTERVENANT.value
PUBLIC_OFFICE, PHONE, HOME = (LocationType.PUBLIC_OFFICE.value, LocationType.PHONE.value,
                              LocationType.HOME.value)
EVERYONE, AGENTS = BookableBy.EVERYONE.value, BookableBy.AGENTS.value
MON, TUE, WED, THU, FRI, SAT = range(6)


@dataclass(frozen=True)
class SeedSummary:
    created: bool
    logins: tuple[tuple[str, str, str], ...]  # (French label, email, password)
    demo_password: str
    public_organisation_id: int | None
    public_organisation_name: str | None
    organisations: int
    agents: int
    usagers: int
    rdvs: int
    plages: int

    def counts_text(self) -> str:
        return (f"{self.organisations} organisations, {self.agents} agents, {self.usagers} usagers, "
                f"{self.rdvs} RDV, {self.plages} plages d'ouverture")


# --------------------------------------------------------------------------- the demo's content


class _TerritorySpec(NamedTuple):
    number: str
    name: str
    timezone: str
    phone: str
    holiday_subdiv: str | None  # overseas départements have their own public holidays
    services: tuple[str, ...]


class _OrganisationSpec(NamedTuple):
    key: str
    territory: str
    name: str
    slug: str
    phone: str
    email: str
    website: str
    horaires: str
    verticale: str = "rdv_solidarites"


class _ServiceSpec(NamedTuple):
    key: str
    name: str
    short_name: str
    is_secretariat: bool = False
    is_social: bool = False


class _AgentSpec(NamedTuple):
    key: str
    first_name: str
    last_name: str
    email: str | None
    label: str | None  # shown next to the login; None for an intervenant, who cannot log in
    services: tuple[str, ...]
    roles: tuple[tuple[str, str], ...]  # (organisation key, access level)
    territorial_admin_of: str | None = None
    display_saturdays: bool = False
    invited: bool = False  # invited by the organisation's admin, has not activated the account yet


class _LieuSpec(NamedTuple):
    key: str
    organisation: str
    name: str
    address: str
    phone: str | None
    latitude: float
    longitude: float
    availability: str = LieuAvailability.ENABLED.value


class _MotifSpec(NamedTuple):
    key: str
    organisation: str
    service: str
    name: str
    location_type: str
    duration: int
    color: str
    bookable_by: str
    instruction: str
    min_delay: int = 1800
    max_delay: int = _THREE_MONTHS
    collectif: bool = False
    visibility: str = VisibilityType.VISIBLE_AND_NOTIFIED.value
    restriction: str | None = None
    cancel_warning: str | None = None


class _PlageSpec(NamedTuple):
    agent: str
    organisation: str
    title: str
    lieu: str | None
    motifs: tuple[str, ...]
    start: time
    end: time
    weekdays: tuple[int, ...] = ()  # weekly plage on these days...
    interval: int = 1  # ...every `interval` weeks
    monthly: tuple[int, int] | None = None  # (weekday, ordinal): "2e mardi" is (TUE, 2)
    one_off_in_days: int | None = None  # one-off plage on the first `weekdays[0]` at least this far ahead


class _AbsenceSpec(NamedTuple):
    agent: str
    title: str
    start: time
    end: time
    weekday: int
    days_from_today: int  # the absence starts on the first `weekday` at or after today + this
    length_in_days: int = 1
    weekly: bool = False


_TERRITORIES = (
    _TerritorySpec("62", "Pas-de-Calais", _PARIS, "03 21 21 62 62", None,
                   ("pmi", "social", "secretariat", "mairie")),
    _TerritorySpec("974", "La Réunion", _REUNION, "02 62 90 30 30", "974", ("pmi", "social", "secretariat")),
)

_ORGANISATIONS = (
    _OrganisationSpec("pmi_arras", "62", "PMI Arras", "pmi-arras", "03 21 23 45 67", "pmi.arras@demo.test",
                      "https://www.pasdecalais.fr/solidarite-sante/enfance-et-famille",
                      "Du lundi au vendredi, de 8 h 30 à 12 h et de 13 h 30 à 17 h"),
    _OrganisationSpec("mds_lens", "62", "Maison Départementale des Solidarités de Lens", "mds-lens",
                      "03 21 13 40 00", "mds.lens@demo.test", "https://www.pasdecalais.fr",
                      "Du lundi au vendredi, de 9 h à 12 h et de 13 h 30 à 17 h"),
    _OrganisationSpec("mairie_bethune", "62", "Mairie de Béthune", "mairie-bethune", "03 21 63 00 00",
                      "etat-civil.bethune@demo.test", "https://www.bethune.fr",
                      "Du lundi au vendredi, de 8 h 30 à 12 h et de 13 h 30 à 17 h 30 ; "
                      "un samedi sur deux, de 9 h à 12 h", "rdv_mairie"),
    _OrganisationSpec("pmi_saint_denis", "974", "PMI Saint-Denis", "pmi-saint-denis", "02 62 90 87 00",
                      "pmi.saint-denis@demo.test", "https://www.departement974.fr",
                      "Du lundi au vendredi, de 7 h 45 à 12 h et de 13 h à 16 h"),
)

_SERVICES = (
    _ServiceSpec("pmi", "PMI (Protection Maternelle Infantile)", "PMI"),
    _ServiceSpec("social", "Service social", "Service social", is_social=True),
    _ServiceSpec("secretariat", "Secrétariat", "Secrétariat", is_secretariat=True),
    _ServiceSpec("mairie", "Mairie", "Mairie"),
)

_AGENTS = (
    _AgentSpec("camille", "Camille", "Martin", "camille.martin@demo.test", "Administratrice, PMI Arras",
               ("pmi",), (("pmi_arras", ADMIN),), territorial_admin_of="62"),
    _AgentSpec("julien", "Julien", "Petit", "julien.petit@demo.test", "Agent PMI, PMI Arras",
               ("pmi",), (("pmi_arras", BASIC),), display_saturdays=True),
    _AgentSpec("sophie", "Sophie", "Bernard", "sophie.bernard@demo.test", "Secrétaire, PMI Arras",
               ("secretariat",), (("pmi_arras", BASIC),)),
    # Three organisations in two territories: after signing in, he picks one, grouped by territory.
    _AgentSpec("karim", "Karim", "Haddad", "karim.haddad@demo.test",
               "Travailleur social, MDS Lens, PMI Arras et PMI Saint-Denis (La Réunion)", ("social",),
               (("mds_lens", BASIC), ("pmi_arras", BASIC), ("pmi_saint_denis", BASIC))),
    _AgentSpec("nathalie", "Nathalie", "Lefebvre", "nathalie.lefebvre@demo.test",
               "Administratrice, MDS Lens", ("social",), (("mds_lens", ADMIN),)),
    _AgentSpec("thomas", "Thomas", "Dubois", "thomas.dubois@demo.test", "Administrateur, Mairie de Béthune",
               ("mairie",), (("mairie_bethune", ADMIN),), display_saturdays=True),
    _AgentSpec("marie", "Marie", "Payet", "marie.payet@demo.test",
               "Administratrice, PMI Saint-Denis (La Réunion)", ("pmi",), (("pmi_saint_denis", ADMIN),),
               territorial_admin_of="974"),
    _AgentSpec("helene", "Hélène", "Roussel", None, None, ("pmi",), (("pmi_arras", INTERVENANT),)),
    _AgentSpec("lucas", "", "", "lucas.morel@demo.test", None, ("pmi",), (("pmi_arras", BASIC),), invited=True),
)

_LIEUX = (
    _LieuSpec("arras_centre", "pmi_arras", "Centre PMI d'Arras", "12 Rue Gambetta, 62000 Arras",
              "03 21 23 45 67", 50.2889, 2.7779),
    _LieuSpec("arras_saint_michel", "pmi_arras", "Antenne PMI Saint-Michel",
              "20 Rue Paul Doumer, 62000 Arras", "03 21 23 45 70", 50.2801, 2.7905),
    _LieuSpec("arras_baudimont", "pmi_arras", "Ancienne antenne PMI Baudimont",
              "4 Rue de Baudimont, 62000 Arras", None, 50.2935, 2.7660, LieuAvailability.DISABLED.value),
    _LieuSpec("lens", "mds_lens", "MDS de Lens", "25 Rue Émile Zola, 62300 Lens", "03 21 13 40 00",
              50.4318, 2.8275),
    _LieuSpec("bethune", "mairie_bethune", "Hôtel de Ville de Béthune",
              "Place Georges Clemenceau, 62400 Béthune", "03 21 63 00 00", 50.5297, 2.6400),
    _LieuSpec("saint_denis", "pmi_saint_denis", "Centre PMI de Saint-Denis",
              "2 Rue de Paris, 97400 Saint-Denis", "02 62 90 87 00", -20.8789, 55.4481),
)

_MOTIFS = (
    _MotifSpec(
        "consultation", "pmi_arras", "pmi", "Consultation pédiatrique", PUBLIC_OFFICE, 30, "#2e7d32",
        EVERYONE,
        "Apportez le carnet de santé de votre enfant et votre carte Vitale. Prévoyez une couche et un body "
        "de rechange.",
        min_delay=2 * 3600,
    ),
    _MotifSpec(
        "pesee", "pmi_arras", "pmi", "Pesée et conseils de puériculture", PUBLIC_OFFICE, 20, "#66bb6a",
        EVERYONE,
        "Apportez le carnet de santé. Habillez votre enfant d'une tenue facile à retirer pour la pesée.",
        max_delay=42 * _ONE_DAY,
    ),
    _MotifSpec(
        "visite", "pmi_arras", "pmi", "Visite à domicile après la naissance", HOME, 60, "#8e24aa", AGENTS,
        "La puéricultrice vient chez vous. Préparez le carnet de santé et notez vos questions sur "
        "l'allaitement, le sommeil ou les soins.",
    ),
    _MotifSpec(
        "telephone_pmi", "pmi_arras", "pmi", "Conseil de puériculture par téléphone", PHONE, 20, "#0288d1",
        EVERYONE,
        "Nous vous appelons au numéro indiqué à l'heure du rendez-vous. Gardez le carnet de santé à portée "
        "de main.",
        min_delay=3600,
    ),
    _MotifSpec(
        "atelier", "pmi_arras", "pmi", "Atelier massage bébé", PUBLIC_OFFICE, 60, "#f9a825", EVERYONE,
        "Apportez une serviette, une huile végétale sans parfum et une tenue confortable.",
        min_delay=_ONE_DAY, max_delay=60 * _ONE_DAY, collectif=True,
        restriction="L'atelier accueille les bébés de moins d'un an, avec un seul adulte par enfant.",
    ),
    _MotifSpec(
        "permanence", "pmi_arras", "social", "Permanence sociale à la PMI", PUBLIC_OFFICE, 45, "#c62828",
        AGENTS,
        "Apportez vos justificatifs de ressources (CAF, bulletins de salaire, avis d'imposition) et vos "
        "factures en cours.",
        visibility=VisibilityType.VISIBLE_AND_NOT_NOTIFIED.value,
    ),
    _MotifSpec(
        "accueil", "mds_lens", "social", "Entretien avec un travailleur social", PUBLIC_OFFICE, 30, "#6d4c41",
        EVERYONE,
        "Présentez-vous à l'accueil de la MDS cinq minutes avant l'heure du rendez-vous, avec une pièce "
        "d'identité.",
        min_delay=3600,
        restriction="Ce rendez-vous est réservé aux habitants de Lens, Liévin et de l'agglomération.",
    ),
    _MotifSpec(
        "telephone_social", "mds_lens", "social", "Entretien social par téléphone", PHONE, 30, "#00897b",
        BookableBy.AGENTS_AND_PRESCRIPTEURS.value,
        "L'assistante sociale vous appelle au numéro indiqué. Si vous n'êtes pas disponible, prévenez la MDS "
        "au 03 21 13 40 00.",
        min_delay=2 * 3600, max_delay=28 * _ONE_DAY,
    ),
    _MotifSpec(
        "titres", "mairie_bethune", "mairie", "Carte d'identité et passeport", PUBLIC_OFFICE, 20, "#1565c0",
        EVERYONE,
        "Apportez votre numéro de pré-demande ANTS, une photo d'identité de moins de six mois, un "
        "justificatif de domicile et l'ancien titre. La personne concernée doit être présente, même mineure.",
        min_delay=_ONE_DAY, max_delay=60 * _ONE_DAY,
        cancel_warning="Annuler ce rendez-vous libère le créneau pour une autre personne. "
        "Voulez-vous vraiment annuler ?",
    ),
    _MotifSpec(
        "nourrisson", "pmi_saint_denis", "pmi", "Consultation de nourrisson", PUBLIC_OFFICE, 30, "#ef6c00",
        EVERYONE, "Apportez le carnet de santé de l'enfant. Le centre est accessible en poussette.",
    ),
)

_PLAGES = (
    _PlageSpec("camille", "pmi_arras", "Consultations pédiatriques", "arras_centre",
               ("consultation", "pesee"), time(9), time(12), weekdays=(TUE, THU)),
    _PlageSpec("camille", "pmi_arras", "Atelier massage bébé", "arras_centre", ("atelier",),
               time(14), time(15), monthly=(TUE, 2)),
    _PlageSpec("julien", "pmi_arras", "Consultations et pesées", "arras_centre",
               ("consultation", "pesee", "telephone_pmi"), time(9), time(12), weekdays=(MON, WED, FRI)),
    _PlageSpec("julien", "pmi_arras", "Visites à domicile", None, ("visite",), time(14), time(17),
               weekdays=(TUE,)),
    _PlageSpec("julien", "pmi_arras", "Permanence exceptionnelle du samedi", "arras_saint_michel",
               ("consultation", "pesee"), time(9), time(12), weekdays=(SAT,), one_off_in_days=10),
    _PlageSpec("helene", "pmi_arras", "Pesées à l'antenne Saint-Michel", "arras_saint_michel", ("pesee",),
               time(13, 30), time(16, 30), weekdays=(MON,), interval=2),
    _PlageSpec("helene", "pmi_arras", "Visites à domicile", None, ("visite",), time(13, 30), time(17, 30),
               weekdays=(THU,), interval=2),
    _PlageSpec("karim", "mds_lens", "Accueil social", "lens", ("accueil", "telephone_social"), time(9),
               time(12), weekdays=(MON, TUE, THU)),
    _PlageSpec("karim", "mds_lens", "Entretiens téléphoniques", None, ("telephone_social",), time(14),
               time(17), weekdays=(WED,)),
    _PlageSpec("karim", "pmi_arras", "Permanence sociale à la PMI", "arras_centre", ("permanence",),
               time(13, 30), time(16, 30), weekdays=(FRI,), interval=2),
    _PlageSpec("nathalie", "mds_lens", "Accueil social de l'après-midi", "lens",
               ("accueil", "telephone_social"), time(13, 30), time(17), weekdays=(MON, TUE, WED, THU, FRI)),
    _PlageSpec("thomas", "mairie_bethune", "Titres d'identité", "bethune", ("titres",), time(8, 30),
               time(12), weekdays=(MON, TUE, WED, THU, FRI)),
    _PlageSpec("thomas", "mairie_bethune", "Titres d'identité du samedi", "bethune", ("titres",), time(9),
               time(12), weekdays=(SAT,), interval=2),
    _PlageSpec("marie", "pmi_saint_denis", "Consultations de nourrissons", "saint_denis", ("nourrisson",),
               time(8), time(11, 30), weekdays=(MON, TUE, THU, FRI)),
)

_ABSENCES = (
    _AbsenceSpec("julien", "Formation allaitement", time(9), time(12), WED, 9),
    _AbsenceSpec("camille", "Congés", time(8), time(18), MON, 35, length_in_days=5),
    _AbsenceSpec("karim", "Réunion d'équipe", time(9), time(10), MON, -7 * _PAST_WEEKS, weekly=True),
    _AbsenceSpec("marie", "Formation continue", time(8), time(12), THU, -16),
    _AbsenceSpec("nathalie", "Rendez-vous médical", time(14), time(16), TUE, 3),
)


class _City(NamedTuple):
    post_code: str
    name: str
    insee: str
    streets: tuple[str, ...]


_CITIES = {
    "arras": _City("62000", "Arras", "62041", (
        "Rue Gambetta", "Rue Saint-Aubert", "Boulevard Faidherbe", "Rue Ernestale",
        "Avenue Winston Churchill", "Rue d'Amiens", "Rue Méaulens", "Rue de Cambrai")),
    "lens": _City("62300", "Lens", "62498", (
        "Rue de la Gare", "Avenue Alfred Maës", "Rue René Lanoy", "Boulevard Émile Basly", "Rue Paul Bert",
        "Route de Béthune")),
    "lievin": _City("62800", "Liévin", "62510", (
        "Rue Édouard Vaillant", "Avenue Jean Jaurès", "Rue de Riaumont")),
    "bethune": _City("62400", "Béthune", "62119", (
        "Rue Sadi Carnot", "Boulevard Victor Hugo", "Rue d'Arras", "Rue Louis Blanc", "Boulevard Poincaré")),
    "saint_denis": _City("97400", "Saint-Denis", "97411", (
        "Rue Jean Chatel", "Boulevard Lancastel", "Rue Juliette Dodu", "Rue du Maréchal Leclerc",
        "Chemin de la Bretagne")),
}

_FEMALE_NAMES = (
    "Julie", "Manon", "Léa", "Chloé", "Sarah", "Laura", "Pauline", "Marine", "Émilie", "Céline",
    "Aurélie", "Audrey", "Mélanie", "Élodie", "Amandine", "Justine", "Sandrine", "Nadia", "Fatima", "Inès",
    "Yasmine",
    "Océane", "Morgane", "Christine", "Sylvie", "Valérie",
)
_MALE_NAMES = (
    "Kévin", "Nicolas", "Maxime", "Alexandre", "Romain", "Anthony", "Jérémy", "Mickaël", "Sébastien",
    "Mohamed", "Yacine", "Dylan", "Florian", "Guillaume", "Bruno", "Patrick", "Didier", "Jean-Pierre",
    "Rachid", "Ludovic",
)
_CHILD_NAMES = (
    "Léo", "Jade", "Louise", "Gabriel", "Emma", "Raphaël", "Ambre", "Arthur", "Alice", "Louis", "Rose",
    "Jules", "Mia", "Adam", "Lina", "Noah", "Sacha", "Lou", "Nolan", "Inaya", "Timéo", "Maëlys",
)
_ADDRESS_DETAILS = ("Appartement 12, bâtiment B", "3e étage", "Résidence Les Tilleuls")
_LAST_NAMES_62 = (
    "Lemaire", "Delattre", "Vasseur", "Leclercq", "Deprez", "Caron", "Lecomte", "Delannoy", "Dufour",
    "Lemoine", "Boulanger", "Fiévet", "Dhainaut", "Wattez", "Carpentier", "Duhamel", "Hennebelle", "Bouchez",
    "Delmotte", "Durand", "Moreau", "Benali", "Kaczmarek", "Nowak", "Mercier", "Fontaine", "Lefort",
    "Cuvelier", "Becquart", "Ramdani", "Tison", "Descamps", "Vandenbussche", "Pruvost",
)
_LAST_NAMES_974 = (
    "Hoarau", "Grondin", "Técher", "Rivière", "Boyer", "Lebon", "Maillot", "Nativel", "Dijoux",
)

# Usagers: (territory, home organisation, city, adults, children per adult index). The 60 usagers are
# 39 adults and 21 relatives (young children followed by the PMI, who have no email nor phone).
_USAGER_GROUPS: tuple[tuple[str, str, str, int, dict[int, int]], ...] = (
    ("62", "pmi_arras", "arras", 14, {i: 2 if i < 4 else 1 for i in range(12)}),
    ("62", "mds_lens", "lens", 9, {}),
    ("62", "mds_lens", "lievin", 5, {}),
    ("62", "mairie_bethune", "bethune", 5, {}),
    ("974", "pmi_saint_denis", "saint_denis", 6, {i: 1 for i in range(5)}),
)
# Agents référents: (agent, home organisation of the usagers, index among that organisation's adults).
_REFERENTS = (
    ("karim", "mds_lens", (0, 1, 2, 3)),
    ("nathalie", "mds_lens", (4, 5, 6)),
    ("julien", "pmi_arras", (0, 1)),
    ("marie", "pmi_saint_denis", (0,)),
)


# --------------------------------------------------------------------------- entry points


def seed_demo(uow: UnitOfWork, today: date | None = None) -> SeedSummary:
    """Seed the demo on an empty database; a database with a territory is left untouched."""
    session = uow.session
    if session.exec(select(Territory.id).limit(1)).first() is not None:
        return _summary(session, created=False)
    _DemoBuilder(session, today or clock.today(_PARIS)).build()
    uow.commit()
    return _summary(session, created=True)


def reset_demo(uow: UnitOfWork, today: date | None = None) -> SeedSummary:
    """Delete every row of every table (children first), then seed, in one transaction."""
    for table in reversed(SQLModel.metadata.sorted_tables):
        uow.session.exec(table.delete())
    # The DELETEs bypass the identity map: forget the loaded rows, whose ids the new demo may reuse.
    uow.session.expunge_all()
    return seed_demo(uow, today)


def _summary(session: Session, *, created: bool) -> SeedSummary:
    def count(model: type[SQLModel]) -> int:
        return session.exec(select(func.count()).select_from(model)).one()

    login_emails = {
        email for email in session.exec(
            select(Agent.email).where(col(Agent.password_hash).is_not(None), col(Agent.deleted_at).is_(None))
        )
    }
    public = (session.exec(select(Organisation).where(Organisation.name == PUBLIC_ORGANISATION_NAME)).first()
              or session.exec(select(Organisation).order_by(col(Organisation.id))).first())
    return SeedSummary(
        created=created,
        logins=tuple((spec.label, spec.email, DEMO_PASSWORD) for spec in _AGENTS
                     if spec.label and spec.email is not None and spec.email in login_emails),
        demo_password=DEMO_PASSWORD,
        public_organisation_id=public.id if public else None,
        public_organisation_name=public.name if public else None,
        organisations=count(Organisation),
        agents=count(Agent),
        usagers=count(Usager),
        rdvs=count(Rdv),
        plages=count(PlageOuverture),
    )


# --------------------------------------------------------------------------- building


class _Slot(NamedTuple):
    agent: str
    organisation: str
    motif: str
    lieu: str | None
    day: date
    starts_at: datetime
    ends_at: datetime


# A RDV before insertion, with its slot and its (participant, participation status) pairs.
_Booking = tuple[Rdv, _Slot, list[tuple[Usager, str]]]


@dataclass
class _Family:
    members: list[Usager]  # the responsible first, then their relatives
    organisations: list[str]  # organisations whose UsagerProfile the whole family gets


class _DemoBuilder:
    def __init__(self, session: Session, today: date) -> None:
        self.session = session
        self.today = today
        # One seeded generator: the demo is reproducible, not secret (the webcal uids are demo values).
        self.rng = random.Random(_SEED)  # noqa: S311
        self.window_start = today - timedelta(days=today.weekday(), weeks=_PAST_WEEKS)
        self.horizon = today + timedelta(days=_HORIZON_DAYS)
        # "Now" for the history of the rows (creations, cancellations): the start of `today` in Paris.
        self.reference = datetime.combine(today, time(0), ZoneInfo(_PARIS)).astimezone(UTC)
        self.territories: dict[str, Territory] = {}
        self.organisations: dict[str, Organisation] = {}
        self.services: dict[str, Service] = {}
        self.agents: dict[str, Agent] = {}
        self.lieux: dict[str, Lieu] = {}
        self.motifs: dict[str, Motif] = {}
        self.motif_specs = {spec.key: spec for spec in _MOTIFS}
        self.families: dict[str, list[_Family]] = defaultdict(list)  # by home organisation
        self.adults: dict[str, list[Usager]] = defaultdict(list)  # by home organisation
        self.family_of: dict[int, _Family] = {}  # by id() of the usager: rows compare by value
        self.busy: dict[tuple[str, date], list[tuple[datetime, datetime]]] = defaultdict(list)
        self.absences: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)

    def build(self) -> None:
        self._structure()
        self._agents()
        self._lieux_and_motifs()
        self._absences()
        slots = self._plages()
        self._usagers()
        self._rdvs(slots)
        self._profiles_and_referents()
        self._sectorisation()

    def _add(self, rows: Iterable[SQLModel]) -> None:
        """Add in bulk then flush, so that the next rows can point at the new ids."""
        self.session.add_all(list(rows))
        self.session.flush()

    def _zone(self, organisation: str) -> ZoneInfo:
        return ZoneInfo(self.organisations[organisation].time_zone)

    def _instant(self, organisation: str, day: date, at: time) -> datetime:
        return datetime.combine(day, at, self._zone(organisation)).astimezone(UTC)

    # ----------------------------------------------------------------------- territories and agents

    def _structure(self) -> None:
        self.territories = {
            spec.number: Territory(departement_number=spec.number, name=spec.name, timezone=spec.timezone,
                                   phone_number=spec.phone)
            for spec in _TERRITORIES
        }
        self.services = {
            spec.key: Service(name=spec.name, short_name=spec.short_name, is_secretariat=spec.is_secretariat,
                              is_social=spec.is_social)
            for spec in _SERVICES
        }
        self._add([*self.territories.values(), *self.services.values()])
        self.organisations = {
            spec.key: Organisation(
                territory_id=require_id(self.territories[spec.territory]), name=spec.name, slug=spec.slug,
                phone_number=spec.phone, email=spec.email, website=spec.website, horaires=spec.horaires,
                timezone=self.territories[spec.territory].timezone, verticale=spec.verticale,
            )
            for spec in _ORGANISATIONS
        }
        self._add([
            *self.organisations.values(),
            *(TerritoryService(territory_id=require_id(self.territories[spec.number]),
                               service_id=require_id(self.services[key]))
              for spec in _TERRITORIES for key in spec.services),
        ])

    def _agents(self) -> None:
        # Argon2 is deliberately slow: the demo password is hashed once and shared.
        password_hash = hash_password(DEMO_PASSWORD)
        for spec in _AGENTS:
            can_log_in = spec.email is not None and not spec.invited
            silent = NoticeLevel.NONE.value
            feed_hash, feed_sealed = webcal.stored_secret(secrets.token_hex(16)) if can_log_in else (None, None)
            self.agents[spec.key] = Agent(
                email=spec.email, first_name=spec.first_name or None, last_name=spec.last_name,
                password_hash=password_hash if can_log_in else None,
                password_changed_at=self.reference - timedelta(days=30) if can_log_in else None,
                calendar_uid_hash=feed_hash, calendar_uid_sealed=feed_sealed,
                display_saturdays=spec.display_saturdays,
                # An intervenant cannot log in, so nothing is sent to them.
                rdv_notifications_level=(RdvNotificationLevel.OTHERS.value if can_log_in
                                         else RdvNotificationLevel.NONE.value),
                plage_ouverture_notification_level=NoticeLevel.ALL.value if can_log_in else silent,
                absence_notification_level=NoticeLevel.ALL.value if can_log_in else silent,
            )
        self._add(self.agents.values())
        rows: list[SQLModel] = []
        for spec in _AGENTS:
            agent_id = require_id(self.agents[spec.key])
            rows += [AgentService(agent_id=agent_id, service_id=require_id(self.services[key]))
                     for key in spec.services]
            rows += [AgentRole(agent_id=agent_id, organisation_id=require_id(self.organisations[org]),
                               access_level=level)
                     for org, level in spec.roles]
            territories = dict.fromkeys(_territory_of(org) for org, _ in spec.roles)
            for number in territories:
                admin = spec.territorial_admin_of == number
                rows.append(AgentTerritorialAccessRight(
                    agent_id=agent_id, territory_id=require_id(self.territories[number]), allow_to_manage_teams=admin,
                    allow_to_manage_access_rights=admin, allow_to_invite_agents=admin,
                ))
            if spec.territorial_admin_of:
                rows.append(AgentTerritorialRole(agent_id=agent_id,
                                                 territory_id=require_id(self.territories[spec.territorial_admin_of])))
            if spec.invited:
                # A pending invitation whose link nobody knows: "Renvoyer l'invitation" sends a usable one.
                rows.append(AgentInvitation(agent_id=agent_id, token_hash=hash_token(new_token()),
                                            invited_by_agent_id=require_id(self.agents["camille"]),
                                            created_at=self.reference, expires_at=self.reference + timedelta(days=7)))
        self._add(rows)
        # A team of the Pas-de-Calais: the "Équipes" filter of "Trouver un RDV" offers it.
        team = Team(territory_id=require_id(self.territories["62"]), name="Équipe PMI Arras")
        self._add([team])
        self._add([AgentTeam(agent_id=require_id(self.agents[key]), team_id=require_id(team))
                   for key in ("camille", "julien", "sophie")])

    def _lieux_and_motifs(self) -> None:
        self.lieux = {
            spec.key: Lieu(organisation_id=require_id(self.organisations[spec.organisation]), name=spec.name,
                           address=spec.address, phone_number=spec.phone, latitude=spec.latitude,
                           longitude=spec.longitude, availability=spec.availability)
            for spec in _LIEUX
        }
        self.motifs = {
            spec.key: Motif(
                organisation_id=require_id(self.organisations[spec.organisation]),
                service_id=require_id(self.services[spec.service]), name=spec.name, color=spec.color,
                default_duration_in_min=spec.duration,
                location_type=spec.location_type, collectif=spec.collectif, bookable_by=spec.bookable_by,
                min_public_booking_delay=spec.min_delay, max_public_booking_delay=spec.max_delay,
                visibility_type=spec.visibility, instruction_for_rdv=spec.instruction,
                restriction_for_rdv=spec.restriction, custom_cancel_warning_message=spec.cancel_warning,
            )
            for spec in _MOTIFS
        }
        self._add([*self.lieux.values(), *self.motifs.values()])

    # ----------------------------------------------------------------------- availability

    def _absences(self) -> None:
        absences = []
        for index, spec in enumerate(_ABSENCES):
            organisation = _AGENT_SPECS[spec.agent].roles[0][0]
            first_day = _next_weekday(self.today + timedelta(days=spec.days_from_today), spec.weekday)
            end_day = first_day + timedelta(days=spec.length_in_days - 1)
            recurrence = Recurrence.weekly((spec.weekday,), until=self.horizon) if spec.weekly else None
            created = self.reference - timedelta(weeks=_PAST_WEEKS + 1, minutes=-index)
            absences.append(Absence(
                agent_id=require_id(self.agents[spec.agent]), title=spec.title, first_day=first_day, start_time=spec.start,
                end_day=end_day, end_time=spec.end, recurrence=recurrence.to_json() if recurrence else None,
                created_at=created, updated_at=created,
            ))
            days = recurrence.dates(first_day, self.window_start, self.horizon) if recurrence else [first_day]
            self.absences[spec.agent] += [
                (self._instant(organisation, day, spec.start),
                 self._instant(organisation, day + (end_day - first_day), spec.end))
                for day in days
            ]
        self._add(absences)

    def _plages(self) -> list[_Slot]:
        """Create the plages; return every slot of their occurrences that a RDV could take."""
        holiday_calendars = {
            spec.number: holidays.France(subdiv=spec.holiday_subdiv,
                                         years=range(self.window_start.year, self.horizon.year + 1))
            for spec in _TERRITORIES
        }
        created = self.reference - timedelta(weeks=_PAST_WEEKS + 2)
        plages, slots = [], []
        for index, spec in enumerate(_PLAGES):
            recurrence: Recurrence | None
            if spec.monthly:
                weekday, ordinal = spec.monthly
                first_day = _next_nth_weekday(self.window_start, weekday, ordinal)
                recurrence = Recurrence.monthly(weekday, ordinal, until=self.horizon)
            elif spec.one_off_in_days is not None:
                first_day = _next_weekday(self.today + timedelta(days=spec.one_off_in_days), spec.weekdays[0])
                recurrence = None
            else:
                first_day = self.window_start + timedelta(days=min(spec.weekdays))
                recurrence = Recurrence.weekly(spec.weekdays, spec.interval, until=self.horizon)
            plages.append(PlageOuverture(
                agent_id=require_id(self.agents[spec.agent]), organisation_id=require_id(self.organisations[spec.organisation]),
                lieu_id=self.lieux[spec.lieu].id if spec.lieu else None, title=spec.title,
                first_day=first_day, start_time=spec.start, end_time=spec.end,
                recurrence=recurrence.to_json() if recurrence else None,
                created_at=created + timedelta(minutes=index), updated_at=created + timedelta(minutes=index),
            ))
            holidays_here = holiday_calendars[_territory_of(spec.organisation)]
            days = recurrence.dates(first_day, self.window_start, self.horizon) if recurrence else [first_day]
            for day in days:
                if day in holidays_here:
                    continue
                for motif in spec.motifs:
                    slots += self._slots_of(spec, motif, day)
        self._add(plages)
        self._add(PlageOuvertureMotif(plage_ouverture_id=require_id(plage), motif_id=require_id(self.motifs[motif]))
                  for plage, spec in zip(plages, _PLAGES, strict=True) for motif in spec.motifs)
        return slots

    def _slots_of(self, spec: _PlageSpec, motif: str, day: date) -> list[_Slot]:
        duration = timedelta(minutes=self.motif_specs[motif].duration)
        starts_at = self._instant(spec.organisation, day, spec.start)
        end = self._instant(spec.organisation, day, spec.end)
        lieu = spec.lieu if self.motif_specs[motif].location_type == PUBLIC_OFFICE else None
        slots = []
        while starts_at + duration <= end:
            slots.append(_Slot(spec.agent, spec.organisation, motif, lieu, day, starts_at,
                               starts_at + duration))
            starts_at += duration
        return slots

    def _is_free(self, slot: _Slot) -> bool:
        def overlaps(start: datetime, end: datetime) -> bool:
            return start < slot.ends_at and slot.starts_at < end

        return not any(overlaps(*busy) for busy in self.absences[slot.agent]) and not any(
            overlaps(*busy) for busy in self.busy[slot.agent, slot.day])

    # ----------------------------------------------------------------------- usagers

    def _usagers(self) -> None:
        rng = self.rng
        # Last names are drawn without replacement, so "first.last" emails are unique.
        last_names = {"62": rng.sample(_LAST_NAMES_62, len(_LAST_NAMES_62)),
                      "974": rng.sample(_LAST_NAMES_974, len(_LAST_NAMES_974))}
        groups: list[tuple[str, list[Usager], dict[int, int]]] = []
        for territory, organisation, city_key, adult_count, children in _USAGER_GROUPS:
            city = _CITIES[city_key]
            adults = []
            for index in range(adult_count):
                parent = organisation.startswith("pmi")
                female = rng.random() < (0.85 if parent else 0.55)
                first_name = rng.choice(_FEMALE_NAMES if female else _MALE_NAMES)
                last_name = last_names[territory].pop()
                youngest, oldest = (20, 40) if parent else (19, 82)
                email = None
                if rng.random() < 0.85:
                    email = f"{_ascii(first_name)}.{_ascii(last_name)}@exemple.test"
                phone, phone_e164 = _mobile_phone(rng, territory) if rng.random() < 0.9 else (None, None)
                birth_name = None
                if female and index % 5 == 2:
                    birth_name = rng.choice([name for name in last_names[territory] if name != last_name])
                adults.append(Usager(
                    first_name=first_name, last_name=last_name, birth_name=birth_name,
                    birth_date=self.today - timedelta(days=rng.randint(youngest * 365, oldest * 365)),
                    email=email, phone_number=phone, phone_number_formatted=phone_e164,
                    address=f"{rng.randint(1, 140)} {rng.choice(city.streets)}, {city.post_code} {city.name}",
                    address_details=rng.choice(_ADDRESS_DETAILS) if index % 4 == 1 else None,
                    post_code=city.post_code, city_name=city.name, city_code=city.insee,
                    notify_by_sms=index % 7 != 3, created_through=CreatedThrough.SEED.value,
                    created_at=self.reference - timedelta(days=rng.randint(400, 900)),
                ))
            self.adults[organisation] += adults
            groups.append((organisation, adults, children))
        self._add(adult for _, adults, _ in groups for adult in adults)

        relatives = []
        for organisation, adults, children in groups:
            for index, adult in enumerate(adults):
                kids = []
                # The first child is a baby of 5 to 11 months (old enough for every RDV of the history and
                # for the massage atelier), the second one a toddler.
                for rank, first_name in enumerate(rng.sample(_CHILD_NAMES, children.get(index, 0))):
                    age = rng.randint(150, 330) if rank == 0 else rng.randint(2 * 365, 5 * 365)
                    birth_date = self.today - timedelta(days=age)
                    registered = (datetime.combine(birth_date, time(12), UTC)
                                  + timedelta(days=rng.randint(7, 30)))
                    kids.append(Usager(
                        first_name=first_name, last_name=adult.last_name, birth_date=birth_date,
                        responsible_id=adult.id, created_through=CreatedThrough.SEED.value,
                        created_at=max(adult.created_at, registered),
                    ))
                relatives += kids
                family = _Family([adult, *kids], [organisation])
                self.families[organisation].append(family)
                self.family_of.update((id(member), family) for member in family.members)
        self._add(relatives)

    # ----------------------------------------------------------------------- rendez-vous

    def _rdvs(self, slots: list[_Slot]) -> None:
        rng = self.rng
        collectif = [slot for slot in slots if self.motif_specs[slot.motif].collectif and self._is_free(slot)]
        for slot in collectif:
            self.busy[slot.agent, slot.day].append((slot.starts_at, slot.ends_at))
        # Weighted random order (Efraimidis-Spirakis): the agenda is fuller in the coming two weeks than
        # two months ahead, as in a real service.
        individual = sorted(
            (slot for slot in slots if not self.motif_specs[slot.motif].collectif),
            key=lambda slot: rng.random() ** (1 / self._weight(slot.day)), reverse=True,
        )
        chosen: list[_Slot] = []
        for slot in individual:
            if len(chosen) + len(collectif) == _TARGET_RDVS:
                break
            if self._is_free(slot):
                self.busy[slot.agent, slot.day].append((slot.starts_at, slot.ends_at))
                chosen.append(slot)
        chosen.sort(key=lambda slot: (slot.starts_at, slot.agent))
        statuses = self._statuses(chosen)

        rdvs: list[_Booking] = []
        for slot in chosen:
            participant = self._participant(slot)
            rdvs.append(self._rdv(slot, statuses[slot], [(participant, statuses[slot])]))
        for slot in collectif:
            rdvs.append(self._collectif_rdv(slot))
        self._add(rdv for rdv, _, _ in rdvs)

        rows: list[SQLModel] = []
        for rdv, slot, participants in rdvs:
            motif = self.motif_specs[slot.motif]
            notified = motif.visibility == VisibilityType.VISIBLE_AND_NOTIFIED.value
            rows.append(RdvAgent(rdv_id=require_id(rdv), agent_id=require_id(self.agents[slot.agent])))
            for usager, status in participants:
                by_usager = rdv.created_by_type == AuthorType.USAGER.value
                rows.append(Participation(
                    rdv_id=require_id(rdv), usager_id=require_id(usager), status=status,
                    send_lifecycle_notifications=notified, send_reminder_notification=notified,
                    created_by_type=rdv.created_by_type,
                    created_by_agent_id=None if by_usager else rdv.created_by_agent_id,
                    created_at=rdv.created_at,
                ))
        self._add(rows)

    def _weight(self, day: date) -> float:
        ahead = (day - self.today).days
        if ahead < 14:
            return 1.0
        return 0.6 if ahead < 42 else 0.25

    def _statuses(self, slots: list[_Slot]) -> dict[_Slot, str]:
        """Realistic proportions, drawn by quotas so that every status is present whatever the day."""
        rng = self.rng
        past = [slot for slot in slots if slot.day < self.today]
        future = [slot for slot in slots if slot.day >= self.today]
        statuses = dict.fromkeys(future, RdvStatus.UNKNOWN.value) | dict.fromkeys(past, RdvStatus.SEEN.value)
        # A few recent past RDVs are still "à renseigner": the agent has not recorded the outcome yet.
        recent = [slot for slot in past if (self.today - slot.day).days <= 10]
        to_fill_in = set(rng.sample(recent, min(6, len(recent))))
        statuses |= dict.fromkeys(to_fill_in, RdvStatus.UNKNOWN.value)
        past = [slot for slot in past if slot not in to_fill_in]
        for group, quotas in ((past, ((RdvStatus.NOSHOW, 0.08), (RdvStatus.EXCUSED, 0.10),
                                      (RdvStatus.REVOKED, 0.04))),
                              (future, ((RdvStatus.EXCUSED, 0.06), (RdvStatus.REVOKED, 0.03)))):
            shuffled = rng.sample(group, len(group))
            for status, share in quotas:
                count = max(1, round(share * len(group)))
                statuses |= dict.fromkeys(shuffled[:count], status.value)
                shuffled = shuffled[count:]
        return statuses

    def _participant(self, slot: _Slot) -> Usager:
        """PMI appointments are for the children; social and mairie ones for the adults."""
        motif = self.motif_specs[slot.motif]
        if slot.organisation == "mairie_bethune":
            # Passports and identity cards: anyone of the département, minors included.
            family = self.rng.choice([f for org in ("pmi_arras", "mds_lens", "mairie_bethune")
                                      for f in self.families[org]])
            usager = self.rng.choice(family.members)
        elif motif.service == "pmi":
            children = [child for f in self.families[slot.organisation] for child in f.members[1:]]
            usager = self.rng.choice(children)
        else:
            usager = self.rng.choice(self.adults[slot.organisation])
        family = self.family_of[id(usager)]
        if slot.organisation not in family.organisations:
            family.organisations.append(slot.organisation)
        return usager

    def _rdv(self, slot: _Slot, status: str, participants: list[tuple[Usager, str]]) -> _Booking:
        rng = self.rng
        motif = self.motif_specs[slot.motif]
        created_at = min(slot.starts_at - timedelta(days=rng.randint(2, 30), minutes=rng.randint(0, 600)),
                         self.reference - timedelta(minutes=rng.randint(30, 5 * 24 * 60)))
        account = self._account_holder(participants[0][0])
        online = (motif.bookable_by == EVERYONE and not motif.collectif and account.email is not None
                  and rng.random() < 0.3)
        author = self._author(slot)
        cancelled_at = None
        if status == RdvStatus.NOSHOW.value:
            cancelled_at = slot.ends_at + timedelta(minutes=rng.randint(10, 90))
        elif status in CANCELLED_STATUSES:
            if slot.starts_at < self.reference:
                cancelled_at = slot.starts_at - timedelta(hours=rng.randint(2, 47))
            else:
                cancelled_at = created_at + (self.reference - created_at) * rng.random()
        users_count = sum(1 for _, s in participants if s not in CANCELLED_STATUSES)
        rdv = Rdv(
            organisation_id=require_id(self.organisations[slot.organisation]), motif_id=require_id(self.motifs[slot.motif]),
            lieu_id=self.lieux[slot.lieu].id if slot.lieu else None, starts_at=slot.starts_at,
            ends_at=slot.ends_at, status=status, cancelled_at=cancelled_at, users_count=users_count,
            name=motif.name if motif.collectif else None,
            max_participants_count=8 if motif.collectif else None,
            created_by_type=AuthorType.USAGER.value if online else AuthorType.AGENT.value,
            created_by_agent_id=None if online else self.agents[author].id,
            created_by_usager_id=account.id if online else None,
            # Each notified change (here the cancellation) bumps the ICS SEQUENCE.
            ics_sequence=1 if status in CANCELLED_STATUSES else 0,
            created_at=created_at, updated_at=cancelled_at or created_at,
        )
        return rdv, slot, participants

    def _collectif_rdv(self, slot: _Slot) -> _Booking:
        """One baby per family; a past atelier took place, a coming one is still open."""
        rng = self.rng
        families = [f for f in self.families[slot.organisation] if len(f.members) > 1]
        babies = [family.members[1] for family in rng.sample(families, rng.randint(3, 6))]
        past = slot.day < self.today
        participants = []
        for index, baby in enumerate(babies):
            if past:
                status = RdvStatus.SEEN if index == 0 else rng.choices(
                    (RdvStatus.SEEN, RdvStatus.NOSHOW, RdvStatus.EXCUSED), (75, 10, 15))[0]
            else:
                status = rng.choices((RdvStatus.UNKNOWN, RdvStatus.EXCUSED), (90, 10))[0]
            participants.append((baby, status.value))
        return self._rdv(slot, RdvStatus.SEEN.value if past else RdvStatus.UNKNOWN.value, participants)

    def _account_holder(self, usager: Usager) -> Usager:
        """A relative is booked from the account of their responsible."""
        family = self.family_of[id(usager)]
        return family.members[0] if usager.responsible_id else usager

    def _author(self, slot: _Slot) -> str:
        """The agent who booked: an intervenant cannot log in, so the secretariat books for them."""
        if slot.agent == "helene" or (slot.organisation == "pmi_arras" and self.rng.random() < 0.3):
            return "sophie"
        return slot.agent

    # ----------------------------------------------------------------------- profiles and referents

    def _profiles_and_referents(self) -> None:
        rows: list[SQLModel] = [
            UsagerProfile(organisation_id=require_id(self.organisations[org]), usager_id=require_id(member),
                          created_at=family.members[0].created_at)
            for families in self.families.values() for family in families
            for org in family.organisations for member in family.members
        ]
        rows += [
            ReferentAssignation(agent_id=require_id(self.agents[agent]), usager_id=require_id(self.adults[org][index]))
            for agent, org, indexes in _REFERENTS for index in indexes
        ]
        self._add(rows)

    def _sectorisation(self) -> None:
        """Sectors of communes attributed to organisations and an agent, and the two motifs booked by address
        with their weekly plages; nothing else of the demo depends on them (no random draw)."""
        created = self.reference - timedelta(weeks=_PAST_WEEKS + 2)
        for spec, level, plage_spec in _SECTORISED_MOTIFS:
            motif = Motif(organisation_id=require_id(self.organisations[spec.organisation]),
                          service_id=require_id(self.services[spec.service]), name=spec.name, color=spec.color,
                          default_duration_in_min=spec.duration, location_type=spec.location_type,
                          bookable_by=spec.bookable_by, min_public_booking_delay=spec.min_delay,
                          max_public_booking_delay=spec.max_delay, instruction_for_rdv=spec.instruction,
                          sectorisation_level=level)
            first_day = self.window_start + timedelta(days=min(plage_spec.weekdays))
            plage = PlageOuverture(
                agent_id=require_id(self.agents[plage_spec.agent]),
                organisation_id=require_id(self.organisations[plage_spec.organisation]),
                lieu_id=self.lieux[plage_spec.lieu].id if plage_spec.lieu else None, title=plage_spec.title,
                first_day=first_day, start_time=plage_spec.start, end_time=plage_spec.end,
                recurrence=Recurrence.weekly(plage_spec.weekdays, until=self.horizon).to_json(),
                created_at=created, updated_at=created)
            self._add([motif, plage])
            self.motifs[spec.key] = motif
            self._add([PlageOuvertureMotif(plage_ouverture_id=require_id(plage), motif_id=require_id(motif))])
        territory_id = require_id(self.territories["62"])
        for key, name, towns, organisations, agents in _SECTORS:
            sector = Sector(territory_id=territory_id, name=name, human_id=key)
            self._add([sector])
            sector_id = require_id(sector)
            self._add([
                *(SectorZone(sector_id=sector_id, level=ZoneLevel.CITY.value, city_code=code, city_name=town)
                  for code, town in towns),
                *(SectorAttribution(sector_id=sector_id, organisation_id=require_id(self.organisations[org]),
                                    level="organisation") for org in organisations),
                *(SectorAttribution(sector_id=sector_id, organisation_id=require_id(self.organisations[org]),
                                    agent_id=require_id(self.agents[agent]), level="agent") for org, agent in agents),
            ])


# --------------------------------------------------------------------------- helpers

_AGENT_SPECS = {spec.key: spec for spec in _AGENTS}
_ORGANISATION_SPECS = {spec.key: spec for spec in _ORGANISATIONS}


# Sectorisation of the Pas-de-Calais (issue 28): two motifs booked by address, apart from the motifs
# above (open to the whole département), with their plages and no RDV yet.
_SECTORS = (
    # (key, name, ((INSEE code, commune), ...), organisations attributed, (organisation, agent) attributed)
    ("arras", "Arras", (("62041", "Arras"),), ("pmi_arras",), (("pmi_arras", "julien"),)),
    ("lens-lievin", "Lens et Liévin", (("62498", "Lens"), ("62510", "Liévin")), ("mds_lens",), ()),
)
_SECTORISED_MOTIFS = (
    (_MotifSpec("bilan_4_ans", "pmi_arras", "pmi", "Bilan de santé des 4 ans", PUBLIC_OFFICE, 30, "#5e35b1",
                EVERYONE, "Apportez le carnet de santé et les lunettes de votre enfant s'il en porte."),
     SectorisationLevel.AGENT.value,
     _PlageSpec("julien", "pmi_arras", "Bilans des 4 ans", "arras_centre", ("bilan_4_ans",), time(14), time(17),
                weekdays=(THU,))),
    (_MotifSpec("demarches", "mds_lens", "social", "Aide aux démarches administratives", PUBLIC_OFFICE, 30,
                "#455a64", EVERYONE, "Apportez vos courriers et vos identifiants CAF, impots.gouv et ameli."),
     SectorisationLevel.ORGANISATION.value,
     _PlageSpec("karim", "mds_lens", "Aide aux démarches", "lens", ("demarches",), time(9), time(12),
                weekdays=(FRI,))),
)


def _territory_of(organisation: str) -> str:
    return _ORGANISATION_SPECS[organisation].territory


def _next_weekday(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _next_nth_weekday(day: date, weekday: int, ordinal: int) -> date:
    """The first "nth weekday of a month" on or after `day`."""
    year, month = day.year, day.month
    while True:
        found = nth_weekday(year, month, weekday, ordinal)
        if found is not None and found >= day:
            return found
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return plain.lower().replace(" ", "-").replace("'", "")


def _mobile_phone(rng: random.Random, territory: str) -> tuple[str, str]:
    """A valid mobile number as typed ("06 12 34 56 78") and in E.164 (+33, or +262 for La Réunion).

    Random numbers may belong to real people: the demo must only ever use the console SMS provider
    (the default when no OVH credentials are configured). ARCEP's fiction block (06 39 98) is not used
    because phonenumbers rightly treats it as unallocated, which would make every demo usager
    unreachable by SMS.
    """
    region = "RE" if territory == "974" else "FR"
    prefixes = ("0692", "0693") if territory == "974" else ("06", "07")
    while True:  # not every block of a mobile prefix is allocated: keep numbers phonenumbers accepts
        prefix = rng.choice(prefixes)
        digits = prefix + f"{rng.randint(0, 10 ** (10 - len(prefix)) - 1):0{10 - len(prefix)}d}"
        number = phonenumbers.parse(digits, region)
        if phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE:
            break
    country = f"+{number.country_code}"
    return " ".join(digits[i:i + 2] for i in range(0, 10, 2)), country + digits[1:]
