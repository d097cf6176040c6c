"""The public links feed of the Conseillers Numériques map, on SQLite and PostgreSQL, served on loopback:
each status and body, which organisations are listed, the one-minute cache, the per-address limit, the
legacy alias, the short link by external id, and the Rés'In network's link into the prescripteurs' search."""

from __future__ import annotations

import csv
import io
import re
import threading
import time as wall_time
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import factories as make
import httpx
import pytest
import time_machine
import uvicorn
from pg import free_port
from reflex.config import reload_config
from sqlmodel import select

from rdv_app import routes
from rdv_app.api import public_links as feed
from rdv_app.api.http import http_routes
from rdv_app.auth import rate_limit
from rdv_app.config import settings
from rdv_app.db.models import Lieu, Organisation, Service, Territory
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain import mediation_numerique as mediation
from rdv_app.domain.off_days import holidays_between
from rdv_app.services.errors import NotFound
from rdv_app.services.online_booking import public_prescripteur, public_search
from rdv_app.services.online_booking.public_search import PublicScope
from rdv_app.state.public_booking import Recap
from rdv_app.state.public_prescripteur import PrescripteurSearch

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def orgs(uow: UnitOfWork) -> dict[str, int]:
    s = uow.session
    cn = make.territory(s, "CN", "Conseillers Numériques")
    service = make.service(s, "Conseiller Numérique", "CNFS")
    public = {"bookable_by": "everyone"}
    today = datetime.now(PARIS).date()
    made: dict[str, int] = {}
    for key, external_id in (("bookable", "5f0c1a2b3c4d5e6f7a8b9c0d"), ("collective", "6a0c1a2b3c4d5e6f7a8b9c0d"),
                             ("past_only", "7b0c1a2b3c4d5e6f7a8b9c0d"), ("no_external_id", None),
                             ("agents_only", "8c0c1a2b3c4d5e6f7a8b9c0d")):
        org = make.organisation(s, cn, f"Médiathèque {key}", f"mediatheque-{key}", external_id=external_id)
        agent = make.agent(s, f"{key}@cn.test", "Camille", key, organisation=org, role="admin", services=[service])
        lieu = make.lieu(s, org, f"Médiathèque {key}", "1 rue A, 62000 Arras")
        made[key] = org.id  # type: ignore[assignment]
        if key == "collective":
            atelier = make.motif(s, org, service, "Atelier collectif", collectif=True, **public)
            make.rdv(s, org, atelier, datetime.combine(today + timedelta(days=5), time(14), PARIS).astimezone(UTC),
                     agents=[agent], lieu=lieu, duration_in_min=120)
            continue
        motif = make.motif(s, org, service, "Accompagnement individuel",
                           **({} if key == "agents_only" else public))
        first_day = today - timedelta(days=30) if key == "past_only" else today + timedelta(days=2)
        make.plage(s, agent, org, lieu, [motif], title="Permanence", first_day=first_day, start_time=time(9),
                   end_time=time(12))
    other = make.territory(s, "62", "Pas-de-Calais")
    make.organisation(s, other, "PMI Arras", "pmi-arras", external_id="9d0c1a2b3c4d5e6f7a8b9c0d")
    uow.commit()
    return made


@pytest.fixture
def server(db_url: str, orgs: dict[str, int], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("REFLEX_DB_URL", db_url)
    reload_config()
    rate_limit.reset_all()
    feed.forget_cache()
    port = free_port()
    served = uvicorn.Server(uvicorn.Config(http_routes, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    deadline = wall_time.monotonic() + 10
    while not served.started and wall_time.monotonic() < deadline:
        wall_time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    served.should_exit = True
    thread.join(timeout=10)
    rate_limit.reset_all()
    feed.forget_cache()
    monkeypatch.undo()
    reload_config()


def test_the_feed_lists_the_bookable_organisations_with_an_external_id(server: str, orgs: dict[str, int]) -> None:
    for path in ("/api/v1/public_links", "/public_api/public_links"):
        response = httpx.get(f"{server}{path}", params={"territory": "CN"})
        assert response.status_code == 200
        assert response.json() == {"public_links": [
            {"external_id": "5f0c1a2b3c4d5e6f7a8b9c0d", "public_link": f"{settings.public_url}/org/{orgs['bookable']}"},
            {"external_id": "6a0c1a2b3c4d5e6f7a8b9c0d",
             "public_link": f"{settings.public_url}/org/{orgs['collective']}"},
        ]}


def test_a_missing_or_unknown_territory(server: str) -> None:
    assert (lambda r: (r.status_code, r.json()))(httpx.get(f"{server}/api/v1/public_links")) == (
        400, {"missing": "territory"})
    assert (lambda r: (r.status_code, r.json()))(httpx.get(f"{server}/api/v1/public_links",
                                                          params={"territory": "XX"})) == (
        404, {"not_found": "territory"})


def test_the_answer_is_kept_one_minute(server: str, db_url: str, orgs: dict[str, int]) -> None:
    first = httpx.get(f"{server}/api/v1/public_links", params={"territory": "CN"}).json()
    with UnitOfWork(db_url) as uow:
        uow.session.get(Organisation, orgs["bookable"]).external_id = "0e0c1a2b3c4d5e6f7a8b9c0d"  # type: ignore[union-attr]
        uow.commit()
    assert httpx.get(f"{server}/api/v1/public_links", params={"territory": "CN"}).json() == first
    with time_machine.travel(clock.now() + timedelta(seconds=61)):
        later = httpx.get(f"{server}/api/v1/public_links", params={"territory": "CN"}).json()
    assert later["public_links"][0]["external_id"] == "0e0c1a2b3c4d5e6f7a8b9c0d"


def test_over_the_limit_a_client_waits(server: str) -> None:
    with httpx.Client(base_url=server) as client:
        answers = [client.get("/api/v1/public_links", params={"territory": "CN"}) for _ in range(feed.REQUESTS)]
        assert {a.status_code for a in answers} == {200}
        refused = client.get("/public_api/public_links", params={"territory": "CN"})
    assert refused.status_code == 429
    assert refused.json() == {"errors": ["Limite d'appels API atteinte. Merci de patienter.\n"]}
    assert refused.headers["RateLimit-Limit"] == str(feed.REQUESTS)
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert 1 <= int(refused.headers["Retry-After"]) <= 61


def test_the_short_link_by_external_id(server: str, orgs: dict[str, int]) -> None:
    found = httpx.get(f"{server}/org/ext/CN/5f0c1a2b3c4d5e6f7a8b9c0d/un-nom", follow_redirects=False)
    assert (found.status_code, found.headers["location"]) == (302, f"/org/{orgs['bookable']}/mediatheque-bookable")
    assert httpx.get(f"{server}/org/ext/CN/5f0c1a2b3c4d5e6f7a8b9c0d", follow_redirects=False).headers[
        "location"] == f"/org/{orgs['bookable']}/mediatheque-bookable"
    unknown = httpx.get(f"{server}/org/ext/62/5f0c1a2b3c4d5e6f7a8b9c0d", follow_redirects=False)
    assert (unknown.status_code, unknown.headers["location"]) == (302, "/prendre_rdv")


RESIN_MOTIF = "motif=public_office%3AAccompagnement+individuel"


def _working_day() -> date:
    """A weekday at least three days ahead that is not a public holiday (whatever today is)."""
    day = datetime.now(PARIS).date() + timedelta(days=3)
    off = holidays_between("CN", day, day + timedelta(days=30))
    while day.weekday() >= 5 or day in off:
        day += timedelta(days=1)
    return day


def _search(db_url: str, location: str) -> PrescripteurSearch:
    """The prescripteurs' search that an address opens, worked out as the page's `load` does."""
    address = urlsplit(location)
    assert address.path == routes.PUBLIC_PRESCRIPTEUR
    search = PrescripteurSearch(params={k: v[-1] for k, v in parse_qs(address.query).items()})
    with UnitOfWork(db_url, read_only=True) as uow:
        search.walk(uow)
    return search


def _lyon_structures(uow: UnitOfWork) -> None:
    """Two structures of the Rés'In network, each with individual support (sur place) on a working day; the
    Centre social also with a permanence and a workshop open to prescripteurs, which the link does not offer."""
    s = uow.session
    cn = s.exec(select(Territory).where(Territory.departement_number == "CN")).one()
    service = s.exec(select(Service).where(Service.name == "Conseiller Numérique")).one()
    day = _working_day()
    for name, external_id in (("Centre social Gerland", "1c0c1a2b3c4d5e6f7a8b9c0d"),
                              ("Maison de quartier", "2d0c1a2b3c4d5e6f7a8b9c0d")):
        org = make.organisation(s, cn, name, name.lower().replace(" ", "-"), external_id=external_id)
        agent = make.agent(s, f"{external_id}@cn.test", "Camille", name, organisation=org, role="admin",
                           services=[service])
        lieu = make.lieu(s, org, name, "2 rue B, 69007 Lyon")
        motifs = [make.motif(s, org, service, "Accompagnement individuel", bookable_by="everyone")]
        if name == "Centre social Gerland":
            motifs.append(make.motif(s, org, service, "Permanence administrative", bookable_by="everyone"))
            atelier = make.motif(s, org, service, "Atelier collectif", collectif=True, bookable_by="everyone")
            make.rdv(s, org, atelier, datetime.combine(day, time(14), PARIS).astimezone(UTC), agents=[agent],
                     lieu=lieu, duration_in_min=120)
        make.plage(s, agent, org, lieu, motifs, title="Permanence", first_day=day, start_time=time(9),
                   end_time=time(12))
    uow.commit()


def test_the_resin_link_leads_to_the_prescripteurs_search(server: str) -> None:
    one = httpx.get(f"{server}/resin/5f0c1a2b3c4d5e6f7a8b9c0d", follow_redirects=False)
    assert (one.status_code, one.headers["location"]) == (
        302, f"/prescripteur?departement=CN&structures=5f0c1a2b3c4d5e6f7a8b9c0d&{RESIN_MOTIF}")
    several = httpx.get(f"{server}/resin/1c0c1a2b3c4d5e6f7a8b9c0d,%205f0c1a2b3c4d5e6f7a8b9c0d,,1c0c1a2b3c4d5e6f7a8b9c0d",
                        follow_redirects=False)
    assert several.headers["location"] == (
        f"/prescripteur?departement=CN&structures=1c0c1a2b3c4d5e6f7a8b9c0d%2C5f0c1a2b3c4d5e6f7a8b9c0d&{RESIN_MOTIF}")


def test_the_resin_link_offers_individual_support_at_its_structures_only(server: str, db_url: str, uow: UnitOfWork,
                                                                         orgs: dict[str, int]) -> None:
    _lyon_structures(uow)
    response = httpx.get(f"{server}/resin/5f0c1a2b3c4d5e6f7a8b9c0d,1c0c1a2b3c4d5e6f7a8b9c0d,0a0c1a2b3c4d5e6f7a8b9c0d",
                         follow_redirects=False)
    search = _search(db_url, response.headers["location"])
    # Individual support at the two structures named; not at the Maison de quartier, nor the unknown id; no
    # way back to the other motifs of the Centre social.
    assert (search.step, search.page_error, search.notice, search.change_href) == ("lieu", "", "", "")
    assert sorted(choice.label for choice in search.choices) == ["Centre social Gerland", "Médiathèque bookable"]
    assert search.summary == [Recap("Structures", "Centre social Gerland, Médiathèque bookable"),
                              Recap("Motif", "Accompagnement individuel (sur place)")]
    gerland = next(choice for choice in search.choices if choice.label == "Centre social Gerland")
    week = _search(db_url, gerland.href)
    for _ in range(6):  # the working day may be beyond the first week (around a public holiday)
        if not week.week_is_empty:
            break
        week = _search(db_url, week.next_href)
    assert week.step == "creneau"
    times = [button for day in week.days for button in day.times]
    assert times[0].label == "09h00"
    chosen = _search(db_url, week.slot_base_href + times[0].value)
    assert chosen.step == "prescripteur"
    assert Recap("Lieu", "Centre social Gerland, 2 rue B, 69007 Lyon") in chosen.summary
    # A link of these structures without its motif lists their motifs open to prescripteurs, no other's.
    theirs = _search(db_url, "/prescripteur?departement=CN&structures=1c0c1a2b3c4d5e6f7a8b9c0d")
    assert (theirs.step, [c.label for c in theirs.choices]) == ("motif", [
        "Accompagnement individuel (sur place)", "Atelier collectif (sur place)",
        "Permanence administrative (sur place)"])


def test_a_resin_link_to_unknown_or_closed_structures_says_so(server: str, db_url: str,
                                                              orgs: dict[str, int]) -> None:
    for ids in ("0a0c1a2b3c4d5e6f7a8b9c0d,0b0c1a2b3c4d5e6f7a8b9c0d",
                "9d0c1a2b3c4d5e6f7a8b9c0d",  # a structure of another territory is none of the CN's
                "a" * 300, "0a0c%00"):  # nothing that can be an id
        search = _search(db_url, httpx.get(f"{server}/resin/{ids}", follow_redirects=False).headers["location"])
        assert (search.step, search.page_error, search.choices) == ("error", public_prescripteur.UNKNOWN_STRUCTURES, [])
    # Known, but individual support is open to agents only, or has no plage to come.
    closed = _search(db_url, httpx.get(f"{server}/resin/8c0c1a2b3c4d5e6f7a8b9c0d",
                                       follow_redirects=False).headers["location"])
    assert (closed.step, closed.page_error) == ("error", "Cette structure ne propose pas de rendez-vous « Accompagnement "
                                                         "individuel » aux prescripteurs pour le moment. Contactez-la "
                                                         "directement.")
    both = _search(db_url, httpx.get(f"{server}/resin/8c0c1a2b3c4d5e6f7a8b9c0d,7b0c1a2b3c4d5e6f7a8b9c0d",
                                     follow_redirects=False).headers["location"])
    assert both.page_error.startswith("Ces structures ne proposent pas de rendez-vous « Accompagnement individuel »")


def test_the_prescripteurs_search_of_some_structures(uow: UnitOfWork, orgs: dict[str, int]) -> None:
    """The service: only the motifs of the structures' organisations are offered, with their lieux."""
    _lyon_structures(uow)
    cn = uow.session.exec(select(Territory).where(Territory.departement_number == "CN")).one()
    scope, known = public_prescripteur.structures_scope(uow, PublicScope(cn.id),
                                                        ["2d0c1a2b3c4d5e6f7a8b9c0d", "5f0c1a2b3c4d5e6f7a8b9c0d"])
    assert [o.name for o in known] == ["Maison de quartier", "Médiathèque bookable"]
    assert [c.key for c in public_prescripteur.motifs(uow, scope)] == ["public_office:Accompagnement individuel"]
    choice = public_prescripteur.motif_choice(uow, scope, "public_office:Accompagnement individuel")
    assert sorted(card.name for card in public_search.lieux(uow, choice)) == ["Maison de quartier",
                                                                              "Médiathèque bookable"]
    with pytest.raises(NotFound):
        public_prescripteur.motif_choice(uow, scope, "public_office:Permanence administrative")
    with pytest.raises(NotFound, match="Les structures de ce lien ne proposent pas de rendez-vous en ligne"):
        public_prescripteur.structures_scope(uow, PublicScope(cn.id), ["9d0c1a2b3c4d5e6f7a8b9c0d"])


# The rules of the "Lieux de médiation numérique" schema (v0.2.0, LaMednum/standard-mediation-num
# schema.json) that our rows must follow: its patterns, and its lists of values (`;`-separated).
SCHEMA_PATTERNS = {"code_postal": r"\d{5}", "code_insee": r"([013-9]\d|2[AB1-9])\d{3}",
                   "date_maj": r"\d{4}-\d{2}-\d{2}",
                   "telephone": r"(\+33|\+590|\+594|\+262|\+596|\+269|\+687|\+689|\+508|\+681)\d{6,9}",
                   "pivot": r"\d{14}|W\d{9}", "prise_rdv": r"https?://\S+"}
SCHEMA_LISTS = {
    "services": {"Aide aux démarches administratives", "Maîtrise des outils numériques du quotidien",
                 "Insertion professionnelle via le numérique", "Utilisation sécurisée du numérique",
                 "Parentalité et éducation avec le numérique", "Loisirs et créations numériques",
                 "Compréhension du monde numérique", "Accès internet et matériel informatique",
                 "Acquisition de matériel informatique à prix solidaire"},
    "itinerance": {"Itinérant", "Fixe"},
    "dispositif_programmes_nationaux": {"Aidants Connect", "Bibliothèques numérique de référence",
                                        "Certification PIX", "Conseillers numériques", "Emmaüs Connect",
                                        "France Services", "La Croix Rouge", "Point d'accès numérique CAF"},
    "modalites_acces": {"Se présenter", "Téléphoner", "Contacter par mail", "Prendre un RDV en ligne",
                        "Ce lieu n'accueille pas de public", "Envoyer un mail avec une fiche de prescription"},
    "modalites_accompagnement": {"En autonomie", "Accompagnement individuel",
                                 "Dans un atelier collectif : j'apprends collectivement à utiliser le numérique",
                                 "À distance (par téléphone ou en visioconférence)"},
}


def _check_schema(row: dict[str, str]) -> None:
    for name in mediation.REQUIRED:
        assert row.get(name), f"{name} is required"
    for name, pattern in SCHEMA_PATTERNS.items():
        if row.get(name):
            assert re.fullmatch(pattern, row[name]), (name, row[name])
    for name, values in SCHEMA_LISTS.items():
        if row.get(name):
            assert set(row[name].split(";")) <= values, (name, row[name])
    if row.get("latitude"):
        assert -90 <= float(row["latitude"]) <= 90 and -180 <= float(row["longitude"]) <= 180


def test_our_lieux_in_the_mediation_numerique_schema(server: str, db_url: str, orgs: dict[str, int]) -> None:
    with UnitOfWork(db_url) as uow:
        lieu = uow.session.exec(select(Lieu).where(Lieu.organisation_id == orgs["bookable"])).one()
        lieu.latitude, lieu.longitude, lieu.phone_number = 50.29, 2.78, "03 21 00 00 00"
        uow.commit()
    as_csv = httpx.get(f"{server}/api/v1/lieux_mediation_numerique.csv", params={"territory": "CN"})
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert tuple(rows[0]) == mediation.FIELDS
    # Every organisation with an external id (bookable now or not), none without.
    assert len(rows) == 4
    for row in rows:
        _check_schema(row)
    first = next(r for r in rows if r["nom"] == "Médiathèque bookable")
    assert (first["commune"], first["code_postal"], first["adresse"]) == ("Arras", "62000", "1 rue A")
    assert (first["telephone"], first["latitude"]) == ("+33321000000", "50.290000")
    assert first["prise_rdv"] == f"{settings.public_url}/org/{orgs['bookable']}"
    assert first["modalites_acces"] == "Prendre un RDV en ligne"
    assert first["dispositif_programmes_nationaux"] == "Conseillers numériques"
    assert first["services"] == "Aide aux démarches administratives;Maîtrise des outils numériques du quotidien"
    assert first["modalites_accompagnement"] == "Accompagnement individuel"
    as_json = httpx.get(f"{server}/api/v1/lieux_mediation_numerique.json", params={"territory": "CN"}).json()
    assert len(as_json) == 4
    for item in as_json:
        _check_schema(item)
    assert httpx.get(f"{server}/api/v1/lieux_mediation_numerique.xml", params={"territory": "CN"}).status_code == 404
    assert httpx.get(f"{server}/api/v1/lieux_mediation_numerique.json", params={"territory": "XX"}).status_code == 404
