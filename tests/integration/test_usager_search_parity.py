"""The usager search gives the same usagers, in the same order, on SQLite (FTS5) and PostgreSQL (tsvector):
one data set written to both, the same queries, compared with each other and with the rule written
plainly in Python over the same words (rdv_app.domain.usager_search)."""

from __future__ import annotations

import random
from pathlib import Path

import factories as make
from pg import Cluster
from sqlmodel import select

from rdv_app.db.migrate import upgrade
from rdv_app.db.models import Usager, UsagerProfile
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.usager_search import parse_query
from rdv_app.services.usagers.usager_list import PAGE_SIZE, list_usagers

FIRST = ["Éloïse", "Eloise", "Zoé", "Jean-Marc", "Marc", "Anaïs", "Chloé", "Noël", "Cœur", "Ève", "Hélène",
         "Jérôme", "Mathis", "Ali", "O'Neil", "Maëlle", "Jean", "Marie-Thérèse", "Léa", "Lou"]
LAST = ["Durand", "Dupont", "Dupond", "Lefèvre", "Lefebvre", "Martin", "Martín", "Müller", "Lœuvre", "N'Diaye",
        "D'Artagnan", "De La Tour", "Ça Va", "Åberg", "Østergaard", "Lambert", "Marchand", "Ngô", "Zúñiga", "Berger"]
DOMAINS = ["exemple.fr", "mail.fr", "orange.fr", "laposte.net"]
QUERIES = ["dur", "DUR", "dup", "dupon", "lef", "lefe", "mar", "marc", "martin", "mart", "elo", "éLo", "zoe", "jean",
           "jean marc", "marc jean", "coeur", "lœu", "oeu", "ndiaye", "n'd", "d art", "de la", "la tour", "ca va",
           "aberg", "oster", "muller", "ngo", "zuniga", "ma", "m", "e", "a b", "berger e",
           "jean.dupont@", "marie@1", "j", "lea.martin@", "%", "_@", "@", "06 12", "0612345", "+33 6 1",
           "+336", "07", "01 45", "33612", "0590 12", "z", "x", "12345", "l'", "'"]


def _dataset(count: int) -> list[dict[str, object]]:
    chance = random.Random(18)
    rows = []
    for n in range(count):
        first, last = chance.choice(FIRST), chance.choice(LAST)
        email = None
        if chance.random() < 0.6:
            local = chance.choice([f"{first}.{last}", f"{first[0]}{last}", "marie", "jean.dupont"])
            email = f"{local.lower().replace(' ', '').replace(chr(39), '')}@{n}.{chance.choice(DOMAINS)}"
        phone = None
        if chance.random() < 0.7:
            prefix = chance.choice(["6", "7", "1", "590"])
            phone = f"+33{prefix}{n % 30:02d}{chance.randrange(10**6, 10**7)}"[:12]
        rows.append({"first_name": first, "last_name": last, "email": email, "phone_number": phone,
                     "phone_number_formatted": phone,
                     "birth_name": chance.choice([None, None, "Dupuis", "Lefèvre"])})
    return rows


def _fill(url: str, rows: list[dict[str, object]]) -> tuple[int, int]:
    upgrade(url)
    with UnitOfWork(url) as uow:
        s = uow.session
        organisation = make.organisation(s, make.territory(s))
        agent = make.agent(s, "agent@demo.test", "Camille", "Martin", organisation=organisation)
        s.add_all([Usager(**row) for row in rows])
        s.flush()
        s.add_all([UsagerProfile(organisation_id=organisation.id, usager_id=u.id)
                   for u in s.exec(select(Usager)).all() if u.id % 7])  # some belong elsewhere
        uow.commit()
        return agent.id, organisation.id  # type: ignore[return-value]


def _results(url: str, who: tuple[int, int]) -> dict[str, list[int]]:
    found = {}
    with UnitOfWork(url, read_only=True) as uow:
        for query in QUERIES:
            first = list_usagers(uow, *who, query=query)
            ids = [line.id for line in first.lines]
            for page in range(2, first.page_count + 1):
                ids += [line.id for line in list_usagers(uow, *who, query=query, page=page).lines]
            assert len(ids) == first.total
            found[query] = ids
    return found


def _by_rule(url: str) -> dict[str, list[int]]:
    """The rule in plain Python over the stored words, for the usagers of the organisation."""
    with UnitOfWork(url, read_only=True) as uow:
        usagers = [(u.id, u.search_terms, u.email) for u in uow.session.exec(select(Usager)).all() if u.id % 7]
    ordered = sorted(usagers, key=lambda u: (u[1], u[0]))
    expected = {}
    for query in QUERIES:
        parsed = parse_query(query)
        if parsed.is_empty:
            expected[query] = []
        elif parsed.email_prefix is not None:
            expected[query] = [i for i, _terms, email in ordered if (email or "").startswith(parsed.email_prefix)]
        else:
            expected[query] = [i for i, terms, _email in ordered if all(
                any(word.startswith(prefix) for word in terms.split()) for prefix in parsed.prefixes)]
    return expected


def test_sqlite_and_postgresql_find_the_same_usagers(tmp_path: Path, pg_cluster: Cluster) -> None:
    rows = _dataset(1000)
    sqlite_url = f"sqlite:///{tmp_path / 'parity.db'}"
    postgresql_url = pg_cluster.create_database("usager_search_parity")
    who = _fill(sqlite_url, rows)
    assert _fill(postgresql_url, rows) == who
    on_sqlite, on_postgresql = _results(sqlite_url, who), _results(postgresql_url, who)
    expected = _by_rule(sqlite_url)
    assert expected == _by_rule(postgresql_url)
    for query in QUERIES:
        assert on_sqlite[query] == on_postgresql[query] == expected[query], query
    # The queries are not all empty: they exercise names, emails, phones, and several pages.
    assert sum(1 for ids in expected.values() if len(ids) > PAGE_SIZE) >= 5
    assert expected["06 12"] and expected["jean.dupont@"] and expected["coeur"] and expected["aberg"]
    assert set(expected["elo"]) == set(expected["éLo"])

