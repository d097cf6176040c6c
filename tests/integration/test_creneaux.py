"""'Trouver un RDV' at the service level, on SQLite and PostgreSQL: inputs, rights, queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import factories as make
import pytest
import sqlalchemy as sa
from factories import at_paris

from rdv_app.db.models import (
    Absence,
    AgentRole,
    Lieu,
    Motif,
    Rdv,
    RdvAgent,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.availability import creneaux
from rdv_app.services.errors import PermissionDenied

MONDAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # the Friday before


@dataclass
class World:
    org: int
    other_org: int
    pmi: int
    social: int
    admin: int
    basic_pmi: int
    basic_social: int
    motif_pmi: int
    motif_social: int
    lieu_a: int
    lieu_b: int


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    s = uow.session
    territory = make.territory(s)
    pmi, social = make.service(s, "PMI"), make.service(s, "Service social", "SOCIAL")
    org = make.organisation(s, territory)
    other = make.organisation(s, territory, "MDS Lens", "mds-lens")
    admin = make.agent(s, "admin@demo.test", "Camille", "Martin", organisation=org, role="admin", services=[pmi])
    basic_pmi = make.agent(s, "pmi@demo.test", "Julien", "Petit", organisation=org, services=[pmi])
    basic_social = make.agent(s, "social@demo.test", "Karim", "Haddad", organisation=org, services=[social])
    s.add(AgentRole(agent_id=basic_social.id, organisation_id=other.id))
    lieu_a = make.lieu(s, org)
    lieu_b = make.lieu(s, org, "Antenne Dainville", "2 rue B, 62000 Dainville")
    motif_pmi = make.motif(s, org, pmi, default_duration_in_min=30)
    motif_social = make.motif(s, org, social, "Entretien social", default_duration_in_min=30)
    uow.commit()
    return World(org.id, other.id, pmi.id, social.id, admin.id, basic_pmi.id, basic_social.id, motif_pmi.id,
                 motif_social.id, lieu_a.id, lieu_b.id)


def _plage(uow: UnitOfWork, world: World, agent: int, lieu: int, motif: int, start: int = 9, end: int = 12,
           first_day: date = MONDAY, weekly: bool = True) -> None:
    make.plage(uow.session, agent, world.org, lieu, [motif], title="Permanence", first_day=first_day,
               start_time=time(start), end_time=time(end),
               recurrence={"every": "week", "on": ["monday", "tuesday", "wednesday", "thursday", "friday"]}
               if weekly else None)
    uow.commit()


def _rdv(uow: UnitOfWork, world: World, agent: int, start: datetime, minutes: int = 30, *, status: str = "unknown",
         organisation: int | None = None, motif: int | None = None) -> None:
    cancelled = start if status in ("excused", "revoked", "noshow") else None
    rdv = Rdv(organisation_id=organisation or world.org, motif_id=motif or world.motif_pmi, lieu_id=world.lieu_a,
              starts_at=start, ends_at=start + timedelta(minutes=minutes), status=status, cancelled_at=cancelled)
    uow.session.add(rdv)
    uow.session.flush()
    uow.session.add(RdvAgent(rdv_id=rdv.id, agent_id=agent))
    uow.commit()


def _times(week: creneaux.Week, day: date) -> list[str]:
    return [f"{s.time} {s.agent.initials}" for d in week.days if d.day == day for s in d.slots]


def test_week_of_slots_skips_rdvs_of_every_organisation_but_not_cancelled_ones(uow: UnitOfWork, world: World) -> None:
    _plage(uow, world, world.basic_pmi, world.lieu_a, world.motif_pmi)
    _rdv(uow, world, world.basic_pmi, at_paris(MONDAY, 9))  # here
    _rdv(uow, world, world.basic_pmi, at_paris(MONDAY, 10), organisation=world.other_org)  # elsewhere: still busy
    _rdv(uow, world, world.basic_pmi, at_paris(MONDAY, 11), status="excused")  # cancelled: free again
    week = creneaux.find_week(uow, world.admin, world.org, world.motif_pmi, MONDAY, now=NOW)
    assert _times(week, MONDAY) == ["09h30 JP", "10h30 JP", "11h00 JP", "11h30 JP"]
    assert len(week.days) == 7 and week.days[5].slots == [] and week.next_availability is None
    assert week.days[0].label == "lundi 7 décembre 2026"


def test_empty_week_gives_the_next_availability(uow: UnitOfWork, world: World) -> None:
    _plage(uow, world, world.basic_pmi, world.lieu_a, world.motif_pmi)
    uow.session.add(Absence(agent_id=world.basic_pmi, title="Congés", first_day=MONDAY, start_time=time(0),
                            end_day=MONDAY + timedelta(days=11), end_time=time(23, 59)))
    uow.commit()
    week = creneaux.find_week(uow, world.admin, world.org, world.motif_pmi, MONDAY, now=NOW)
    assert week.is_empty
    following = week.next_availability
    assert following is not None
    assert following.day == MONDAY + timedelta(days=14) and following.time == "09h00"


def test_lieux_are_listed_by_next_availability(uow: UnitOfWork, world: World) -> None:
    _plage(uow, world, world.basic_pmi, world.lieu_a, world.motif_pmi, first_day=MONDAY + timedelta(days=7))
    _plage(uow, world, world.admin, world.lieu_b, world.motif_pmi)
    lieux = creneaux.lieux_availability(uow, world.admin, world.org, world.motif_pmi, now=NOW)
    assert [(lieu.name, lieu.next_slot.day) for lieu in lieux] == [
        ("Antenne Dainville", MONDAY), ("Centre Arras", MONDAY + timedelta(days=7)),
    ]


def test_agents_have_no_booking_delay(uow: UnitOfWork, world: World) -> None:
    _plage(uow, world, world.basic_pmi, world.lieu_a, world.motif_pmi)
    uow.session.execute(sa.update(Motif).values(min_public_booking_delay=3 * 24 * 3600))
    uow.commit()
    week = creneaux.find_week(uow, world.admin, world.org, world.motif_pmi, MONDAY,
                              now=at_paris(MONDAY, 8))
    assert _times(week, MONDAY)[0] == "09h00 JP"


def test_a_basic_agent_sees_only_their_services(uow: UnitOfWork, world: World) -> None:
    options = creneaux.search_options(uow, world.basic_pmi, world.org)
    assert [m.label for m in options.motifs] == ["Consultation"]
    assert [a.label for a in options.agents] == ["Camille Martin", "Julien Petit"]
    with pytest.raises(PermissionDenied):
        creneaux.find_week(uow, world.basic_pmi, world.org, world.motif_social, MONDAY, now=NOW)
    with pytest.raises(PermissionDenied):
        creneaux.find_week(uow, world.basic_pmi, world.org, world.motif_pmi, MONDAY, agent_ids=[world.basic_social],
                           now=NOW)


def test_a_basic_agent_without_filter_gets_only_colleagues_slots(uow: UnitOfWork, world: World) -> None:
    # A social worker holding a plage for a PMI motif: the PMI agent must not see it.
    _plage(uow, world, world.basic_social, world.lieu_a, world.motif_pmi)
    _plage(uow, world, world.basic_pmi, world.lieu_b, world.motif_pmi, start=14, end=15)
    week = creneaux.find_week(uow, world.basic_pmi, world.org, world.motif_pmi, MONDAY, now=NOW)
    assert _times(week, MONDAY) == ["14h00 JP", "14h30 JP"]
    admin_week = creneaux.find_week(uow, world.admin, world.org, world.motif_pmi, MONDAY, now=NOW)
    assert "09h00 KH" in _times(admin_week, MONDAY)


def test_a_single_service_and_a_single_motif_are_preselected(uow: UnitOfWork, world: World) -> None:
    only_pmi = creneaux.search_options(uow, world.basic_pmi, world.org)
    [pmi] = [s.id for s in only_pmi.services]
    assert only_pmi.preselected() == (pmi, world.motif_pmi)  # nothing to choose
    both = creneaux.search_options(uow, world.admin, world.org)
    assert len(both.services) == 2 and both.preselected() == (None, None)
    social = next(m.group for m in both.motifs if m.id == world.motif_social)
    assert both.preselected(social) == (social, world.motif_social)  # the only motif of the service chosen
    uow.session.add(Motif(organisation_id=world.org, service_id=social, name="Aide administrative"))
    uow.commit()
    assert creneaux.search_options(uow, world.admin, world.org).preselected(social) == (social, None)


def test_admin_sees_everyone_and_an_outsider_nothing(uow: UnitOfWork, world: World) -> None:
    options = creneaux.search_options(uow, world.admin, world.org)
    assert {m.label for m in options.motifs} == {"Consultation", "Entretien social"}
    assert len(options.agents) == 3
    with pytest.raises(PermissionDenied):
        creneaux.search_options(uow, world.admin, world.other_org)


@contextmanager
def _count_queries(url: str) -> Iterator[list[str]]:
    from rdv_app.db.engine import get_engine

    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    engine = get_engine(url)
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def test_the_number_of_queries_does_not_grow_with_the_data(db_url: str, uow: UnitOfWork, world: World) -> None:
    _plage(uow, world, world.basic_pmi, world.lieu_a, world.motif_pmi)
    with _count_queries(db_url) as small:
        creneaux.find_week(uow, world.admin, world.org, world.motif_pmi, MONDAY, now=NOW)
    for hour in (13, 14, 15, 16):
        _plage(uow, world, world.admin, world.lieu_b, world.motif_pmi, start=hour, end=hour + 1)
    for day in range(5):
        for hour in (9, 10, 11):
            _rdv(uow, world, world.basic_pmi, at_paris(MONDAY + timedelta(days=day), hour))
            _rdv(uow, world, world.admin, at_paris(MONDAY + timedelta(days=day), hour + 5))
        uow.session.add(Absence(agent_id=world.admin, title="Réunion", first_day=MONDAY + timedelta(days=day),
                                start_time=time(13), end_day=MONDAY + timedelta(days=day), end_time=time(13, 30)))
    uow.commit()
    with _count_queries(db_url) as large:
        week = creneaux.find_week(uow, world.admin, world.org, world.motif_pmi, MONDAY, now=NOW)
    assert not week.is_empty
    assert len(large) == len(small)


def test_a_disabled_lieu_offers_no_slot(uow: UnitOfWork, world: World) -> None:
    _plage(uow, world, world.basic_pmi, world.lieu_a, world.motif_pmi)
    _plage(uow, world, world.admin, world.lieu_b, world.motif_pmi, start=14, end=15)
    uow.session.execute(sa.update(Lieu).where(Lieu.id == world.lieu_a).values(availability="disabled"))
    uow.commit()
    week = creneaux.find_week(uow, world.admin, world.org, world.motif_pmi, MONDAY, now=NOW)
    assert _times(week, MONDAY) == ["14h00 CM", "14h30 CM"]
