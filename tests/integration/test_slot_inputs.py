"""The busy RDVs the slot engine reads come out of SQLite and PostgreSQL as exact integer microseconds,
by agent and start: seconds and microseconds kept, cancelled RDVs left out, other organisations' RDVs
kept, the RDV being moved left out when asked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import factories as f

from rdv_app.db.models import Rdv, RdvAgent
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.slots import microseconds
from rdv_app.services.availability.slot_inputs import busy_times

START = datetime(2026, 3, 29, 0, 30, 7, 123456, tzinfo=UTC)  # the night Paris moves to summer time


def _rdv(uow: UnitOfWork, org: int, motif: int, agent: int, starts_at: datetime, minutes: int,
         status: str = "unknown") -> int:
    rdv = Rdv(organisation_id=org, motif_id=motif, starts_at=starts_at, ends_at=starts_at + timedelta(minutes=minutes),
              status=status, cancelled_at=starts_at if status == "excused" else None)
    uow.session.add(rdv)
    uow.session.flush()
    uow.session.add(RdvAgent(rdv_id=rdv.id, agent_id=agent))  # type: ignore[arg-type]
    uow.session.flush()
    return rdv.id  # type: ignore[return-value]


def test_busy_rdvs_are_exact_microseconds_by_agent_and_start(uow: UnitOfWork) -> None:
    s = uow.session
    territory = f.territory(s)
    service = f.service(s)
    arras, lens = f.organisation(s, territory), f.organisation(s, territory, "PMI Lens", "pmi-lens")
    motif, other_motif = f.motif(s, arras, service), f.motif(s, lens, service)
    first = f.agent(s, "a@demo.test", "Anne", "Petit")
    second = f.agent(s, "b@demo.test", "Bruno", "Haddad")
    later = START + timedelta(hours=5, seconds=1, microseconds=1)
    _rdv(uow, arras.id, motif.id, first.id, later, 30)  # type: ignore[arg-type]
    _rdv(uow, lens.id, other_motif.id, first.id, START, 45)  # type: ignore[arg-type]
    _rdv(uow, arras.id, motif.id, first.id, START + timedelta(hours=1), 30, "excused")  # type: ignore[arg-type]
    moved = _rdv(uow, arras.id, motif.id, second.id, START, 20)  # type: ignore[arg-type]
    _rdv(uow, arras.id, motif.id, second.id, START + timedelta(days=3), 20)  # type: ignore[arg-type]

    window = (START - timedelta(hours=1), START + timedelta(days=1))
    found = busy_times(uow, {first.id, second.id}, *window)  # type: ignore[arg-type]
    assert set(found) == {first.id, second.id}
    assert found[first.id].starts == [microseconds(START), microseconds(later)]
    assert found[first.id].ends == [microseconds(START + timedelta(minutes=45)),
                                    microseconds(later + timedelta(minutes=30))]
    assert found[second.id].starts == [microseconds(START)]
    assert busy_times(uow, {second.id}, *window, exclude_rdv_id=moved) == {}  # type: ignore[arg-type]
