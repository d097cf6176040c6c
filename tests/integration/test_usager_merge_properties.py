"""Whatever agents do to usagers (create them, change their responsible, put them on RDVs, merge them),
the merges keep the records sound: no cycle of responsibles, one participation per usager and RDV, no
participation or relative left on a deleted record. On SQLite, with a modest number of examples."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import factories as make
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlmodel import SQLModel, col, select

from rdv_app.db.migrate import upgrade
from rdv_app.db.models import Organisation, Participation, Usager, UsagerProfile
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.services.usagers import merge

NAMES = ("Anna", "Ana", "Léo", "Lea")
create = st.tuples(st.just("create"), st.integers(0, 30), st.booleans(), st.booleans(), st.sampled_from(NAMES))
responsible = st.tuples(st.just("responsible"), st.integers(0, 30), st.integers(-1, 30))
rdv = st.tuples(st.just("rdv"), st.lists(st.integers(0, 30), min_size=1, max_size=3), st.booleans())
fusion = st.tuples(st.just("merge"), st.integers(0, 30), st.integers(0, 30), st.integers(0, 2**12))
# A few usagers first, then anything, merges as often as the rest.
operations = st.tuples(st.lists(create, min_size=2, max_size=5),
                       st.lists(st.one_of(create, responsible, rdv, fusion, fusion), min_size=1, max_size=12)
                       ).map(lambda parts: parts[0] + parts[1])


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('merge_properties') / 'rdv.db'}"
    upgrade(url)
    yield url
    Path(url.removeprefix("sqlite:///")).unlink()


def _empty(url: str) -> None:
    with UnitOfWork(url) as uow:
        for table in reversed(SQLModel.metadata.sorted_tables):
            uow.session.exec(sa.delete(table))  # type: ignore[call-overload]
        uow.commit()


def _chain_reaches(uow: UnitOfWork, start: int | None, target: int) -> bool:
    seen: set[int] = set()
    while start is not None and start not in seen:
        if start == target:
            return True
        seen.add(start)
        start = uow.session.exec(select(Usager.responsible_id).where(Usager.id == start)).one()
    return False


def _check_invariants(uow: UnitOfWork) -> None:
    usagers = {u.id: u for u in uow.session.exec(select(Usager)).all()}
    for usager in usagers.values():
        seen, current = {usager.id}, usager.responsible_id
        while current is not None:
            assert current not in seen, f"responsible cycle through {usager.id}"
            seen.add(current)
            current = usagers[current].responsible_id
        if usager.deleted_at is None and usager.responsible_id is not None:
            assert usagers[usager.responsible_id].deleted_at is None, "a relative of a deleted record"
    pairs = uow.session.exec(select(Participation.rdv_id, Participation.usager_id)).all()
    assert len(pairs) == len(set(pairs)), "two participations of one usager in one RDV"
    for _, usager_id in pairs:
        assert usager_id in usagers and usagers[usager_id].deleted_at is None, "a participation of a deleted record"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=operations)
def test_merges_keep_responsibles_participations_and_records_sound(sqlite_url: str,
                                                                   steps: list[tuple]) -> None:
    _empty(sqlite_url)
    with UnitOfWork(sqlite_url) as uow:
        s = uow.session
        territory = make.territory(s)
        org = make.organisation(s, territory)
        other = make.organisation(s, territory, "MDS Lens", "mds-lens")
        service = make.service(s)
        agent = make.agent(s, "agent@demo.test", "Camille", "Martin", organisation=org, services=[service])
        motifs = {org.id: make.motif(s, org, service), other.id: make.motif(s, other, service)}
        uow.commit()
        org_id, other_id, agent_id = org.id, other.id, agent.id
    assert org_id and other_id and agent_id

    def live(uow: UnitOfWork) -> list[int]:
        """The usagers the organisation follows (a merged record may live on in the other one only)."""
        followed = select(UsagerProfile.usager_id).where(UsagerProfile.organisation_id == org_id)
        return list(uow.session.exec(select(Usager.id).where(col(Usager.deleted_at).is_(None),
                                                             col(Usager.id).in_(followed))
                                     .order_by(col(Usager.id))).all())  # type: ignore[arg-type]

    for step in steps:
        with UnitOfWork(sqlite_url) as uow:
            ids = live(uow)
            kind = step[0]
            if kind == "create":
                _, index, with_responsible, elsewhere, name = step
                organisations = [uow.session.get(Organisation, org_id)]
                if elsewhere:
                    organisations.append(uow.session.get(Organisation, other_id))
                make.usager(uow.session, name, "Swan", organisations=organisations,  # type: ignore[arg-type]
                            responsible_id=ids[index % len(ids)] if ids and with_responsible else None)
            elif kind == "responsible" and ids:
                _, index, target = step
                usager = uow.session.get(Usager, ids[index % len(ids)])
                assert usager is not None and usager.id is not None
                new = None if target < 0 else ids[target % len(ids)]
                # The usager form refuses a cycle (admin-domain.md 1.4): only changes it accepts are made.
                if new is not None and _chain_reaches(uow, new, usager.id):
                    continue
                usager.responsible_id = new
                uow.session.add(usager)
            elif kind == "rdv" and ids:
                _, indexes, there = step
                organisation = other_id if there else org_id
                make.rdv(uow.session, organisation, motifs[organisation].id,  # type: ignore[arg-type]
                         clock.now() + timedelta(days=len(indexes)), agents=[agent_id],
                         usagers=sorted({ids[i % len(ids)] for i in indexes}))
            elif kind == "merge" and len(ids) >= 2:
                _, first, second, bits = step
                a = ids[first % len(ids)]
                b = ids[(first + 1 + second % (len(ids) - 1)) % len(ids)]
                preview = merge.merge_preview(uow, agent_id, org_id, a, b)
                choices = {field: 1 + (bits >> index & 1) for index, field in enumerate(preview.choices_needed)}
                outcome = merge.merge_usagers(uow, agent_id, org_id, a, b, choices)
                assert {outcome.kept_usager_id, outcome.merged_usager_id} == {a, b}
                event("merged, record " + ("anonymised" if outcome.anonymised else "kept elsewhere"))
            uow.commit()
        with UnitOfWork(sqlite_url, read_only=True) as check:
            _check_invariants(check)
