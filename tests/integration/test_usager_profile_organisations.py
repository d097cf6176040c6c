"""The organisations an usager belongs to, copied by the database into their row for the searches
(`usager.profile_organisations`, rdv_app.db.search_index), on SQLite and PostgreSQL: "Vos usagers" lists an
usager while they have a profile in the organisation, whatever writes the profiles (the ORM, plain SQL, a
merge moving them), and two organisations adding the same usager at the same moment both keep them."""

from __future__ import annotations

import threading

import factories as make
import pytest
import sqlalchemy as sa
from sqlmodel import select

from rdv_app.db.engine import get_engine
from rdv_app.db.models import Usager, UsagerProfile
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.usagers.usager_list import list_usagers


def _organisations_of(uow: UnitOfWork, usager_id: int) -> set[int]:
    listed = uow.session.exec(select(Usager.profile_organisations).where(Usager.id == usager_id)).one()
    return {int(part) for part in listed.split()}


def _listed(uow: UnitOfWork, agent_id: int, organisation_id: int, query: str) -> list[str]:
    return [line.name for line in list_usagers(uow, agent_id, organisation_id, query=query).lines]


def test_the_list_follows_every_change_of_profiles(uow: UnitOfWork) -> None:
    s = uow.session
    territory = make.territory(s)
    arras, lens = make.organisation(s, territory), make.organisation(s, territory, "MDS Lens", "mds-lens")
    in_arras = make.agent(s, "arras@demo.test", "Camille", "Martin", organisation=arras)
    in_lens = make.agent(s, "lens@demo.test", "Marc", "Blanc", organisation=lens)
    eloise = make.usager(s, "Éloïse", "Durand", organisations=[arras])
    other = make.usager(s, "Éloïse", "Duval", organisations=[])
    uow.commit()
    assert _listed(uow, in_arras.id, arras.id, "elo") == ["DURAND Éloïse"]
    assert _listed(uow, in_lens.id, lens.id, "elo") == []

    s.add(UsagerProfile(organisation_id=lens.id, usager_id=eloise.id))
    uow.commit()
    assert _organisations_of(uow, eloise.id) == {arras.id, lens.id}
    assert _listed(uow, in_lens.id, lens.id, "elo") == ["DURAND Éloïse"]

    # Plain SQL, as a bulk import would write: the database keeps the list, not the ORM.
    s.connection().execute(sa.text("DELETE FROM usager_profile WHERE usager_id = :u AND organisation_id = :o"),
                           {"u": eloise.id, "o": arras.id})
    uow.commit()
    assert _organisations_of(uow, eloise.id) == {lens.id}
    assert _listed(uow, in_arras.id, arras.id, "elo") == []

    # A merge moves profiles from one usager to the other.
    s.connection().execute(sa.text("UPDATE usager_profile SET usager_id = :to WHERE usager_id = :u"),
                           {"to": other.id, "u": eloise.id})
    uow.commit()
    assert _organisations_of(uow, eloise.id) == set()
    assert _organisations_of(uow, other.id) == {lens.id}
    assert _listed(uow, in_lens.id, lens.id, "elo") == ["DUVAL Éloïse"]


@pytest.mark.parametrize("migrated_url", ["postgresql"], indirect=True)
def test_two_organisations_adding_the_same_usager_at_once_both_keep_them(db_url: str) -> None:
    """Two transactions each add a profile of the same usager; the second waits on the usager's row
    while the first is open, then adds its organisation to the list the first committed."""
    with UnitOfWork(db_url) as uow:
        s = uow.session
        territory = make.territory(s)
        arras, lens = make.organisation(s, territory), make.organisation(s, territory, "MDS Lens", "mds-lens")
        usager_id = make.usager(s, "Éloïse", "Durand").id
        uow.commit()
        organisation_ids = (arras.id, lens.id)
    engine = get_engine(db_url)
    first = engine.connect()
    first.begin()
    first.execute(sa.text("INSERT INTO usager_profile (organisation_id, usager_id, created_at) "
                          "VALUES (:o, :u, now())"), {"o": organisation_ids[0], "u": usager_id})
    second_done = threading.Event()

    def second() -> None:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO usager_profile (organisation_id, usager_id, created_at) "
                                 "VALUES (:o, :u, now())"), {"o": organisation_ids[1], "u": usager_id})
        second_done.set()

    thread = threading.Thread(target=second)
    thread.start()
    assert not second_done.wait(0.5)  # waiting on the usager's row, held by the first
    first.commit()
    first.close()
    thread.join(10)
    assert second_done.is_set()
    with UnitOfWork(db_url, read_only=True) as uow:
        assert _organisations_of(uow, usager_id) == set(organisation_ids)
