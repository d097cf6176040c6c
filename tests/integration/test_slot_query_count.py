"""A week of slots for an usager costs at most 4 SQL queries, on SQLite and PostgreSQL, whatever the
number of agents, plages, RDVs and absences: the motif with its organisation, the plages, the agents'
absences, their busy RDVs. A query per agent, per plage or per occurrence would make the counts differ."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from rdv_app import routes
from rdv_app.db.models import (
    Absence,
    Agent,
    Lieu,
    Motif,
    Organisation,
    PlageOuverture,
    PlageOuvertureMotif,
    Rdv,
    RdvAgent,
    Sector,
    SectorAttribution,
    SectorZone,
    Service,
    Territory,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.sectorisation import UNKNOWN_ADDRESS, SectorAddress
from rdv_app.services.online_booking import public_search
from rdv_app.state.public_booking import BookingPage

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # Friday 4 December 2026
MONDAY = date(2026, 12, 7)
WEEKDAYS = {"every": "week", "on": ["monday", "tuesday", "wednesday", "thursday", "friday"]}


@contextmanager
def _queries(uow: UnitOfWork) -> Iterator[list[str]]:
    """The SQL statements sent to the database inside the block, except transaction control (the
    BEGIN that our SQLite engine sends itself, where PostgreSQL's driver begins implicitly)."""
    sent: list[str] = []

    def record(_conn, _cursor, statement, _parameters, _context, _executemany) -> None:
        if statement.split(None, 1)[0].upper() not in {"BEGIN", "COMMIT", "ROLLBACK"}:
            sent.append(statement)

    engine = uow.session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def _add(uow: UnitOfWork, *rows: object) -> None:
    uow.session.add_all(rows)
    uow.session.flush()


def _lieu_with_agents(uow: UnitOfWork, org: int, motif: int, name: str, agents: int) -> int:
    """A lieu where `agents` agents each hold two weekly plages, some RDVs and an absence in the week."""
    lieu = Lieu(organisation_id=org, name=name, address="1 rue A, 62000 Arras")
    _add(uow, lieu)
    for n in range(agents):
        agent = Agent(last_name=f"{name} {n}")
        _add(uow, agent)
        for start, end in ((9, 12), (14, 17)):
            plage = PlageOuverture(agent_id=agent.id, organisation_id=org, lieu_id=lieu.id, title="Permanence",
                                   first_day=date(2026, 11, 2), start_time=time(start), end_time=time(end),
                                   recurrence=WEEKDAYS)
            _add(uow, plage)
            _add(uow, PlageOuvertureMotif(plage_ouverture_id=plage.id, motif_id=motif))
        for offset in range(5):
            starts_at = datetime.combine(MONDAY + timedelta(days=offset), time(10), PARIS)
            rdv = Rdv(organisation_id=org, motif_id=motif, lieu_id=lieu.id, starts_at=starts_at,
                      ends_at=starts_at + timedelta(minutes=30))
            _add(uow, rdv)
            _add(uow, RdvAgent(rdv_id=rdv.id, agent_id=agent.id))
        _add(uow, Absence(agent_id=agent.id, title="Formation", first_day=MONDAY + timedelta(days=n % 5),
                          start_time=time(14), end_day=MONDAY + timedelta(days=n % 5), end_time=time(16)))
    return lieu.id  # type: ignore[return-value]


def _counted_week(url: str, motif: int, lieu: int) -> tuple[int, public_search.PublicWeek]:
    """One week for an usager, from a fresh unit of work: nothing left in a session saves a query."""
    with UnitOfWork(url, read_only=True) as uow, _queries(uow) as sent:
        week = public_search.week(uow, motif, lieu, MONDAY, NOW)
        return len(sent), week


def test_a_week_of_slots_for_an_usager_costs_four_queries(uow: UnitOfWork, db_url: str) -> None:
    territory = Territory(departement_number="62", name="Pas-de-Calais")
    service = Service(name="PMI", short_name="PMI")
    _add(uow, territory, service)
    org = Organisation(territory_id=territory.id, name="PMI Arras", slug="pmi-arras")
    _add(uow, org)
    motif = Motif(organisation_id=org.id, service_id=service.id, name="Consultation", bookable_by="everyone")
    _add(uow, motif)
    small = _lieu_with_agents(uow, org.id, motif.id, "Petit centre", 1)  # type: ignore[arg-type]
    large = _lieu_with_agents(uow, org.id, motif.id, "Grand centre", 6)  # type: ignore[arg-type]
    uow.commit()

    one_agent, small_week = _counted_week(db_url, motif.id, small)  # type: ignore[arg-type]
    six_agents, large_week = _counted_week(db_url, motif.id, large)  # type: ignore[arg-type]

    small_times = [t for day in small_week.days for t in day.times]
    large_times = [t for day in large_week.days for t in day.times]
    assert small_times and len(large_times) > len(small_times)
    # RDVs and absences were read: nobody is free on Monday at 10:00, nor at 14:00 with one agent only.
    monday = [label for _, label in small_week.days[0].times]
    assert "10h00" not in monday and "14h00" not in monday and "09h00" in monday
    assert one_agent == six_agents <= 4


def test_the_booking_week_page_reads_its_motif_once(uow: UnitOfWork, db_url: str) -> None:
    """The page shows the motif's details and its week: in one read-only unit of work (a page load) the
    motif with its organisation is read once."""
    territory = Territory(departement_number="62", name="Pas-de-Calais")
    service = Service(name="PMI", short_name="PMI")
    _add(uow, territory, service)
    org = Organisation(territory_id=territory.id, name="PMI Arras", slug="pmi-arras")
    _add(uow, org)
    motif = Motif(organisation_id=org.id, service_id=service.id, name="Consultation", bookable_by="everyone")
    _add(uow, motif)
    lieu = _lieu_with_agents(uow, org.id, motif.id, "Centre", 1)  # type: ignore[arg-type]
    uow.commit()

    with UnitOfWork(db_url, read_only=True) as page, _queries(page) as sent:
        details = public_search.motif_details(page, motif.id)  # type: ignore[arg-type]
        after_details = len(sent)
        week = public_search.week(page, motif.id, lieu, MONDAY, NOW)  # type: ignore[arg-type]
        assert details.name == "Consultation" and any(day.times for day in week.days)
        assert not any("FROM motif JOIN organisation" in statement for statement in sent[after_details:])



def test_a_week_at_the_usagers_address_costs_the_same_unless_its_motif_is_sectorised_by_agent(
        uow: UnitOfWork, db_url: str) -> None:
    """In a sectorised territory the booking page passes the usager's address (or the unknown one) to the
    week: the sectors covering it are read only for a motif sectorised by agent, the one that needs them."""
    territory = Territory(departement_number="62", name="Pas-de-Calais")
    service = Service(name="PMI", short_name="PMI")
    _add(uow, territory, service)
    org = Organisation(territory_id=territory.id, name="PMI Arras", slug="pmi-arras")
    sector = Sector(territory_id=territory.id, name="Arras", human_id="arras")
    _add(uow, org, sector)
    _add(uow, SectorZone(sector_id=sector.id, level="city", city_code="62041", city_name="Arras"),
         SectorAttribution(sector_id=sector.id, organisation_id=org.id, level="organisation"))
    motif = Motif(organisation_id=org.id, service_id=service.id, name="Consultation", bookable_by="everyone",
                  sectorisation_level="organisation")
    _add(uow, motif)
    lieu = _lieu_with_agents(uow, org.id, motif.id, "Centre", 2)  # type: ignore[arg-type]
    uow.commit()

    for address in (SectorAddress("62041"), UNKNOWN_ADDRESS):
        with UnitOfWork(db_url, read_only=True) as page, _queries(page) as sent:
            week = public_search.week(page, motif.id, lieu, MONDAY, NOW, sector=address)  # type: ignore[arg-type]
            assert "09h00" in [label for _, label in week.days[0].times]
            assert len(sent) <= 4


def test_a_page_load_of_the_booking_week_reads_the_motifs_open_online_once(uow: UnitOfWork, db_url: str) -> None:
    """A page load walks the whole page (place, motif, lieu, week) in one read-only unit of work: the motifs
    open online are read once for the usager's choices and for the link to the prescripteurs' search (are
    any open to them here?), and the motif's service comes with the motif and its organisation."""
    territory = Territory(departement_number="62", name="Pas-de-Calais")
    service = Service(name="PMI", short_name="PMI")
    _add(uow, territory, service)
    org = Organisation(territory_id=territory.id, name="PMI Arras", slug="pmi-arras")
    _add(uow, org)
    motif = Motif(organisation_id=org.id, service_id=service.id, name="Consultation", bookable_by="everyone")
    referred = Motif(organisation_id=org.id, service_id=service.id, name="Bilan orienté",
                     bookable_by="agents_and_prescripteurs")
    _add(uow, motif, referred)
    lieu = _lieu_with_agents(uow, org.id, motif.id, "Centre", 2)  # type: ignore[arg-type]
    _add(uow, *(PlageOuvertureMotif(plage_ouverture_id=p, motif_id=referred.id) for p in uow.session.exec(
        sa.select(PlageOuverture.id).where(PlageOuverture.lieu_id == lieu)).scalars()))  # type: ignore[call-overload]
    uow.commit()

    def load(params: dict[str, str]) -> tuple[BookingPage, list[str]]:
        page = BookingPage(params=params, base=routes.PUBLIC_BOOKING, usager_id=None)
        with UnitOfWork(db_url, read_only=True) as unit, _queries(unit) as sent:
            page.open(unit, routes.PUBLIC_BOOKING)
            return page, list(sent)

    choosing, _ = load({"departement": "62"})
    assert choosing.step == "motif" and [c.label for c in choosing.choices] == ["Consultation"]
    assert choosing.prescripteur_href == f"{routes.PUBLIC_PRESCRIPTEUR}?departement=62"

    week, sent = load({"departement": "62", "motif": str(motif.id), "lieu": str(lieu)})
    assert week.step == "creneau" and any(day.times for day in week.days)
    assert [r.value for r in week.summary] == ["Consultation (sur place)", "Centre, 1 rue A, 62000 Arras"]
    assert week.prescripteur_href
    from_motif = [s for s in sent if " ".join(s.split()).startswith("SELECT motif.id, motif.organisation_id")
                  and "FROM motif WHERE" in " ".join(s.split())]
    assert len(from_motif) == 1, from_motif
    assert not any("FROM service" in s for s in sent)
    assert len(sent) <= 9
