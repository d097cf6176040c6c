"""Benchmark of "Vos usagers" (issue 18): 200,000 usagers on each database, half of them in the agent's
organisation, and the list's search (`list_usagers`: rights, count, first page of 25) for four kinds of
text: the start of a name, an accented name, the start of an email, a phone number typed with spaces.

`make bench`, or `.venv/bin/pytest tests/bench/test_bench_usager_search.py --benchmark-only -s`.
Measured, not asserted: the 95th percentile of each kind, for a target of 30 ms; each call is a whole use
case (a unit of work, the rights, the count, the page). The data is written by bulk inserts, with the
words of the index computed as the models compute them (`usager_search.search_terms`).
"""

from __future__ import annotations

import os
import random
import statistics
from datetime import UTC, datetime
from itertools import cycle

import pytest
import sqlalchemy as sa
from factories import insert_rows
from pg import Cluster

from rdv_app.db.engine import get_engine
from rdv_app.db.migrate import upgrade
from rdv_app.db.models import Agent, AgentRole, Organisation, Territory, Usager
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.usager_search import search_terms
from rdv_app.services.usagers.usager_list import list_usagers

USAGERS = 200_000
BATCH = 10_000
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
TARGET_MS = 30
FIRST = ["Éloïse", "Zoé", "Jean-Marc", "Marc", "Anaïs", "Chloé", "Noël", "Hélène", "Jérôme", "Mathis", "Ali", "Léa",
         "Maëlle", "Lucas", "Inès", "Hugo", "Emma", "Louis", "Jade", "Nathan", "Camille", "Sarah", "Yanis", "Manon",
         "Gabriel", "Raphaël", "Léo", "Arthur", "Jules", "Adam", "Maël", "Paul", "Noah", "Ethan", "Sacha", "Tom",
         "Louise", "Alice", "Ambre", "Lina", "Rose", "Chloé", "Mia", "Anna", "Julia", "Romy", "Lou", "Agathe",
         "Céline", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Françoise", "Valérie", "Sandrine", "Stéphanie",
         "Philippe", "Michel", "Alain", "Patrick", "Nicolas", "Christophe", "Pierre", "Frédéric", "Éric", "Laurent",
         "Thierry", "Olivier", "Sébastien", "Julien", "David", "Aurélie", "Émilie", "Mélanie", "Élodie", "Karim",
         "Fatima", "Mohamed", "Aïcha", "Nadia", "Youssef", "Amine", "Sofiane", "Inaya", "Wassim", "Océane"]
LAST = ["Durand", "Dupont", "Lefèvre", "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Dubois",
        "Moreau", "Laurent", "Simon", "Michel", "Garcia", "Müller", "N'Diaye", "Lœuvre", "Bénard", "Fontaine",
        "Rousseau", "Vincent", "Muller", "Lefebvre", "Mercier", "Boyer", "Blanc", "Guérin", "Faure", "André"]
QUERIES = {
    "name prefix": ["dup", "mor", "lefe", "fonta", "rous", "ber", "guer", "vinc", "dur mar", "simon lu"],
    "accented": ["éloï", "hélè", "guérin", "lœu", "zoé", "bénard ché", "anaï", "jérô", "maël", "inès"],
    "email prefix": ["jean-marc.dupont1", "zoe.mar", "lea.durand12", "hugo.b", "emma.simon3", "sarah.f",
                     "ali.ndiaye4", "ines.bl", "louis.ro", "jade.mo"],
    "phone with spaces": ["06 12 34", "07 55 1", "06 98 7", "+33 6 12 3", "06 01 02", "07 11 22 3", "06 45",
                          "06 77 88 9", "07 00 1", "+33 7 45 6"],
}


_CONSONANTS, _VOWELS = "bcdfghjlmnprstv", "aeiouéè"
_ENDINGS = ("and", "ont", "ard", "ier", "ette", "eau", "in", "ot", "ez", "oux", "ais", "elle", "on", "ault", "ic",
            "ère", "y", "ès", "aud", "enne")


def _last_name(chance: random.Random) -> str:
    """Three in ten usagers carry one of the 30 common names, the others one of about 30,000 names made of
    syllables: the spread of a real population, where a three-letter prefix finds a few hundred people,
    and a common name a few thousand."""
    if chance.random() < 0.3:
        return chance.choice(LAST)
    start = chance.choice(_CONSONANTS).upper() + chance.choice(_VOWELS) + chance.choice(_CONSONANTS)
    return start + chance.choice(_VOWELS) + chance.choice(_ENDINGS)


def _fold_email(first: str, last: str, n: int) -> str:
    plain = search_terms(first_name=first, last_name="", birth_name=None, email=None, phone_number_formatted=None)
    name = search_terms(first_name=last, last_name="", birth_name=None, email=None, phone_number_formatted=None)
    return f"{'-'.join(plain.split())}.{''.join(name.split())}{n}@exemple.fr"


def _usager_rows(start: int, count: int, chance: random.Random) -> list[dict[str, object]]:
    rows = []
    for n in range(start, start + count):
        first, last = chance.choice(FIRST), _last_name(chance)
        email = _fold_email(first, last, n) if n % 3 else None
        phone = f"+33{chance.choice('67')}{chance.randrange(10**7, 10**8)}" if n % 4 else None
        rows.append({"first_name": first, "last_name": last, "email": email, "phone_number": phone,
                     "phone_number_formatted": phone, "notify_by_sms": True, "notify_by_email": True,
                     "logged_once_with_franceconnect": False, "created_through": "agent_creation",
                     "created_at": NOW, "updated_at": NOW,
                     "search_terms": search_terms(first_name=first, last_name=last, birth_name=None, email=email,
                                                  phone_number_formatted=phone)})
    return rows


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, int, int]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('bench_usagers') / 'bench.db'}"
    else:
        cluster: Cluster = request.getfixturevalue("pg_cluster")
        url = cluster.create_database("rdv_bench_usager_search")
    upgrade(url)
    with UnitOfWork(url) as uow:
        territory = Territory(departement_number="62", name="Pas-de-Calais")
        uow.session.add(territory)
        uow.session.flush()
        here, elsewhere = (Organisation(territory_id=territory.id, name=name, slug=name.lower())
                           for name in ("Ici", "Ailleurs"))
        agent = Agent(email="agent@demo.test", first_name="Camille", last_name="Martin")
        uow.session.add_all([here, elsewhere, agent])
        uow.session.flush()
        uow.session.add(AgentRole(agent_id=agent.id, organisation_id=here.id))
        uow.commit()
        who = (agent.id, here.id, elsewhere.id)
    chance = random.Random(18)
    engine = get_engine(url)
    with engine.begin() as conn:
        for start in range(0, USAGERS, BATCH):
            insert_rows(conn, Usager, _usager_rows(start, BATCH, chance))
        # Every other usager in the agent's organisation, the others elsewhere.
        for organisation_id, parity in ((who[1], 0), (who[2], 1)):
            conn.execute(sa.text("INSERT INTO usager_profile (organisation_id, usager_id, created_at) "
                                 "SELECT :org, id, :now FROM usager WHERE id % 2 = :parity"),
                         {"org": organisation_id, "now": NOW, "parity": parity})
    if request.param == "postgresql":  # as autovacuum leaves a table after a bulk load (the profiles' triggers
        # rewrote every usager's row)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
    return request.param, url, who[0], who[1]


@pytest.mark.parametrize("kind", list(QUERIES))
def test_bench_usager_list_search(benchmark, database: tuple[str, str, int, int], kind: str) -> None:
    name, url, agent_id, organisation_id = database
    queries = cycle(QUERIES[kind])
    found: list[int] = []

    def search() -> None:
        with UnitOfWork(url, read_only=True) as uow:
            found.append(list_usagers(uow, agent_id, organisation_id, query=next(queries)).total)

    benchmark.pedantic(search, rounds=100, iterations=1, warmup_rounds=len(QUERIES[kind]))
    timings = sorted(benchmark.stats.stats.data)
    p95 = statistics.quantiles(timings, n=20)[-1] * 1000
    assert sum(found) > 0
    print(f"\nusager list search, {kind} ({name}, {USAGERS} usagers): p95 {p95:.1f} ms, "
          f"median {benchmark.stats['median'] * 1000:.1f} ms, target {TARGET_MS} ms; "
          f"{min(found)}–{max(found)} usagers found; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
