"""Public search services on SQLite and PostgreSQL: place, services, motifs, lieux, organisations, week."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from rdv_app.db.models import (
    Agent,
    Lieu,
    Motif,
    Organisation,
    PlageOuverture,
    PlageOuvertureMotif,
    Rdv,
    RdvAgent,
    Service,
    Territory,
    Usager,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.errors import DomainError, NotFound
from rdv_app.services.online_booking import public_search
from rdv_app.services.online_booking.public_search import PublicScope
from rdv_app.services.rdv.lifecycle import book_rdv

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # Friday 4 December 2026, 13:00 in Paris
MONDAY = date(2026, 12, 7)


@dataclass
class World:
    territory: int
    arras: int
    lens: int
    pmi: int
    social: int
    consult_arras: int
    consult_lens: int
    phone_arras: int
    phone_lens: int
    lieu_arras: int
    lieu_lens: int
    lieu_closed: int
    usager: int


def _add(uow: UnitOfWork, *rows: object) -> None:
    uow.session.add_all(rows)
    uow.session.flush()


def _plage(uow: UnitOfWork, org: int, agent: int, lieu: int | None, motif: int, first_day: date, start: int,
           end: int, *, weekly: bool = False) -> None:
    plage = PlageOuverture(agent_id=agent, organisation_id=org, lieu_id=lieu, title="Permanence",
                           first_day=first_day, start_time=time(start), end_time=time(end),
                           recurrence={"every": "week", "on": ["monday", "tuesday", "wednesday", "thursday",
                                                               "friday"]} if weekly else None)
    _add(uow, plage)
    _add(uow, PlageOuvertureMotif(plage_ouverture_id=plage.id, motif_id=motif))  # type: ignore[arg-type]


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    t62 = Territory(departement_number="62", name="Pas-de-Calais")
    t974 = Territory(departement_number="974", name="La Réunion", timezone="Indian/Reunion")
    pmi, social = Service(name="PMI", short_name="PMI"), Service(name="Service social", short_name="SOCIAL")
    _add(uow, t62, t974, pmi, social)
    arras = Organisation(territory_id=t62.id, name="PMI Arras", slug="pmi-arras")
    lens = Organisation(territory_id=t62.id, name="PMI Lens", slug="pmi-lens", phone_number="03 21 11 11 11")
    reunion = Organisation(territory_id=t974.id, name="PMI Saint-Denis", slug="pmi-saint-denis",
                           timezone="Indian/Reunion")
    agent_a, agent_b, agent_c = (Agent(last_name=n) for n in ("Petit", "Haddad", "Payet"))
    _add(uow, arras, lens, reunion, agent_a, agent_b, agent_c)
    lieu_arras = Lieu(organisation_id=arras.id, name="Centre Arras", address="1 rue A, 62000 Arras")
    lieu_lens = Lieu(organisation_id=lens.id, name="Centre Lens", address="2 rue B, 62300 Lens")
    lieu_closed = Lieu(organisation_id=lens.id, name="Antenne fermée", address="3 rue C, 62300 Lens",
                       availability="disabled")
    lieu_reunion = Lieu(organisation_id=reunion.id, name="Centre Saint-Denis", address="97400 Saint-Denis")

    def motif(org: Organisation, name: str, **kw: object) -> Motif:
        values = {"service_id": pmi.id, "bookable_by": "everyone", "default_duration_in_min": 30, **kw}
        return Motif(organisation_id=org.id, name=name, **values)  # type: ignore[arg-type]

    consult_arras, consult_lens = motif(arras, "Consultation"), motif(lens, "Consultation")
    phone_arras = motif(arras, "Conseil", location_type="phone")
    phone_lens = motif(lens, "Conseil", location_type="phone")
    agents_only = motif(arras, "Suivi interne", bookable_by="agents")
    no_plage = motif(arras, "Vaccination")
    expired = motif(lens, "Bilan", service_id=social.id)
    reunion_motif = motif(reunion, "Consultation")
    usager = Usager(first_name="Alice", last_name="Durand", email="alice@demo.test", phone_number="0612345678")
    _add(uow, lieu_arras, lieu_lens, lieu_closed, lieu_reunion, consult_arras, consult_lens, phone_arras, phone_lens,
         agents_only, no_plage, expired, reunion_motif, usager)
    _plage(uow, arras.id, agent_a.id, lieu_arras.id, consult_arras.id, MONDAY, 9, 11, weekly=True)  # type: ignore[arg-type]
    _plage(uow, lens.id, agent_b.id, lieu_lens.id, consult_lens.id, MONDAY - timedelta(days=3), 14, 15)  # type: ignore[arg-type]
    _plage(uow, lens.id, agent_b.id, lieu_closed.id, consult_lens.id, MONDAY, 9, 12, weekly=True)  # type: ignore[arg-type]
    _plage(uow, arras.id, agent_a.id, None, phone_arras.id, MONDAY + timedelta(days=2), 14, 16)  # type: ignore[arg-type]
    _plage(uow, lens.id, agent_b.id, None, phone_lens.id, MONDAY, 16, 17)  # type: ignore[arg-type]
    _plage(uow, arras.id, agent_a.id, lieu_arras.id, agents_only.id, MONDAY, 13, 15, weekly=True)  # type: ignore[arg-type]
    _plage(uow, lens.id, agent_b.id, lieu_lens.id, expired.id, MONDAY - timedelta(days=30), 9, 12)  # type: ignore[arg-type]
    _plage(uow, reunion.id, agent_c.id, lieu_reunion.id, reunion_motif.id, MONDAY, 9, 12, weekly=True)  # type: ignore[arg-type]
    uow.commit()
    return World(t62.id, arras.id, lens.id, pmi.id, social.id, consult_arras.id, consult_lens.id,  # type: ignore[arg-type]
                 phone_arras.id, phone_lens.id, lieu_arras.id, lieu_lens.id, lieu_closed.id, usager.id)  # type: ignore[arg-type]


def test_a_place_is_a_departement_number_or_a_postcode(uow: UnitOfWork, world: World) -> None:
    assert public_search.find_place(uow, "62").territory_id == world.territory
    assert public_search.find_place(uow, " 62 000 ").name == "Pas-de-Calais"
    assert public_search.find_place(uow, "97400").departement_number == "974"
    with pytest.raises(DomainError) as bad:
        public_search.find_place(uow, "Arras")
    assert (bad.value.message, bad.value.field) == (public_search.PLACE_ERROR, "place")
    with pytest.raises(DomainError) as closed:
        public_search.find_place(uow, "75011")
    assert "département 75" in closed.value.message


def test_only_public_motifs_with_plages_to_come_are_offered_grouped_across_organisations(
        uow: UnitOfWork, world: World) -> None:
    territory = PublicScope(world.territory)
    assert [s.name for s in public_search.services(uow, territory, NOW)] == ["PMI"]
    choices = public_search.motifs(uow, territory, world.pmi, NOW)
    assert [(c.name, c.location_label, c.motif_ids) for c in choices] == [
        ("Conseil", "Par téléphone", (world.phone_arras, world.phone_lens)),
        ("Consultation", "Sur place", (world.consult_arras, world.consult_lens)),
    ]
    lens_only = PublicScope(world.territory, world.lens)
    assert [c.motif_ids for c in public_search.motifs(uow, lens_only, world.pmi, NOW)] == [
        (world.phone_lens,), (world.consult_lens,)]
    assert public_search.motifs(uow, territory, world.social, NOW) == []


def test_lieux_show_their_next_availability_soonest_first_and_skip_disabled_ones(uow: UnitOfWork,
                                                                                 world: World) -> None:
    choice = public_search.motif_choice(uow, PublicScope(world.territory), "public_office:Consultation", NOW)
    cards = public_search.lieux(uow, choice, NOW)

    assert [(c.name, c.organisation_name, c.motif_id) for c in cards] == [
        ("Centre Lens", "PMI Lens", world.consult_lens), ("Centre Arras", "PMI Arras", world.consult_arras)]
    assert [c.next_availability.label for c in cards if c.next_availability] == [
        "vendredi 4 décembre 2026 à 14h00", "lundi 7 décembre 2026 à 09h00"]
    with pytest.raises(NotFound):
        public_search.motif_choice(uow, PublicScope(world.territory), "public_office:Suivi interne", NOW)


def test_phone_motifs_choose_an_organisation(uow: UnitOfWork, world: World) -> None:
    choice = public_search.motif_choice(uow, PublicScope(world.territory), "phone:Conseil", NOW)
    cards = public_search.organisations(uow, choice, NOW)
    assert [(c.name, c.next_availability.label if c.next_availability else None) for c in cards] == [
        ("PMI Lens", "lundi 7 décembre 2026 à 16h00"), ("PMI Arras", "mercredi 9 décembre 2026 à 14h00")]
    assert cards[0].phone_number == "03 21 11 11 11"


def test_a_week_has_one_button_per_start_closed_days_and_the_next_availability(db_url: str, uow: UnitOfWork,
                                                                               world: World) -> None:
    with uow.session.begin():
        motif = uow.session.get(Motif, world.consult_arras)
        motif.max_public_booking_delay = 10 * 86400  # type: ignore[union-attr]  # until Monday 14 at 13:00
    following = public_search.week(uow, world.consult_arras, world.lieu_arras, MONDAY, NOW)
    monday = following.days[0]
    assert monday.label == "lundi 7 décembre 2026"
    assert [t for _, t in monday.times] == ["09h00", "09h30", "10h00", "10h30"]
    assert monday.times[0][0] == "2026-12-07T08:00:00+00:00"
    assert [d.closed for d in following.days] == [False] * 7
    assert following.has_previous and following.has_next

    last = public_search.week(uow, world.consult_arras, world.lieu_arras, MONDAY + timedelta(days=7), NOW)
    assert [d.closed for d in last.days] == [False] + [True] * 6
    assert [t for _, t in last.days[0].times] == ["09h00", "09h30", "10h00", "10h30"]
    assert not last.has_next

    with UnitOfWork(db_url) as unit:
        book_rdv(unit, world.usager, motif_id=world.consult_arras, starts_at=datetime.fromisoformat(monday.times[1][0]),
                 lieu_id=world.lieu_arras, booking_key="k", now=NOW)
    with UnitOfWork(db_url) as unit:
        after = public_search.week(unit, world.consult_arras, world.lieu_arras, MONDAY, NOW)
    assert [t for _, t in after.days[0].times] == ["09h00", "10h00", "10h30"]

    uow.rollback()
    with uow.session.begin():
        motif = uow.session.get(Motif, world.consult_arras)
        motif.min_public_booking_delay = 7 * 86400  # type: ignore[union-attr]  # from Friday 11 at 13:00
    with UnitOfWork(db_url) as unit:
        too_soon = public_search.week(unit, world.consult_arras, world.lieu_arras, None, NOW)
    assert too_soon.is_empty and not too_soon.has_previous
    assert [d.closed for d in too_soon.days] == [True] * 7
    assert too_soon.next_availability is not None
    assert too_soon.next_availability.label == "lundi 14 décembre 2026 à 09h00"


def test_details_for_the_recap_and_lieux_of_another_organisation_are_refused(uow: UnitOfWork, world: World) -> None:
    with uow.session.begin():
        motif = uow.session.get(Motif, world.consult_arras)
        motif.restriction_for_rdv = "Réservé aux enfants de moins de 6 ans."  # type: ignore[union-attr]
        motif.instruction_for_rdv = "Apportez le carnet de santé."  # type: ignore[union-attr]
    details = public_search.motif_details(uow, world.consult_arras)
    assert (details.restriction, details.instruction, details.organisation.name, details.service_name) == (
        "Réservé aux enfants de moins de 6 ans.", "Apportez le carnet de santé.", "PMI Arras", "PMI")
    assert public_search.lieu_card(uow, world.consult_arras, world.lieu_arras) == (
        "Centre Arras", "1 rue A, 62000 Arras")
    with pytest.raises(NotFound):
        public_search.lieu_card(uow, world.consult_arras, world.lieu_lens)
    assert public_search.organisation_info(uow, world.lens).slug == "pmi-lens"
    with pytest.raises(NotFound):
        public_search.organisation_info(uow, 999_999)


def test_overseas_week_is_in_the_organisations_time_zone(uow: UnitOfWork, world: World) -> None:
    choice = public_search.motif_choice(uow, PublicScope(public_search.find_place(uow, "974").territory_id),
                                        "public_office:Consultation", NOW)
    card = public_search.lieux(uow, choice, NOW)[0]
    assert card.next_availability is not None
    assert card.next_availability.label == "lundi 7 décembre 2026 à 09h00"
    assert card.next_availability.starts_at == datetime(2026, 12, 7, 5, 0, tzinfo=UTC)


def test_a_deep_link_names_one_organisations_motif(uow: UnitOfWork, world: World) -> None:
    lens = PublicScope(world.territory, world.lens)
    assert public_search.motif_key_of(uow, lens, world.phone_lens, NOW) == ("phone:Conseil", world.phone_lens)
    with pytest.raises(NotFound):
        public_search.motif_key_of(uow, lens, world.phone_arras, NOW)


def test_the_next_availability_looks_past_two_busy_weeks(db_url: str, uow: UnitOfWork, world: World) -> None:
    with uow.session.begin():
        motif = Motif(organisation_id=world.arras, service_id=world.social, name="Bilan social",
                      bookable_by="everyone", default_duration_in_min=30)
        agent = Agent(last_name="Lefebvre")
        uow.session.add_all([motif, agent])
    # Taken on the 15th (inside the first two weeks searched) and on the 22nd (after them): a search that
    # looked past the days it loaded would offer the 22nd.
    busy_days = (date(2026, 12, 15), date(2026, 12, 22))  # then free on Tuesday 29 December
    plage = PlageOuverture(agent_id=agent.id, organisation_id=world.arras, lieu_id=world.lieu_arras,  # type: ignore[arg-type]
                           title="Bilan", first_day=busy_days[0], start_time=time(9), end_time=time(9, 30),
                           recurrence={"every": "week", "on": ["tuesday"]})
    uow.session.add(plage)
    uow.session.flush()
    uow.session.add(PlageOuvertureMotif(plage_ouverture_id=plage.id, motif_id=motif.id))  # type: ignore[arg-type]
    for day in busy_days:
        taken = datetime.combine(day, time(9), PARIS).astimezone(UTC)
        rdv = Rdv(organisation_id=world.arras, motif_id=motif.id, lieu_id=world.lieu_arras,  # type: ignore[arg-type]
                  starts_at=taken, ends_at=taken + timedelta(minutes=30))
        uow.session.add(rdv)
        uow.session.flush()
        uow.session.add(RdvAgent(rdv_id=rdv.id, agent_id=agent.id))  # type: ignore[arg-type]
    uow.commit()

    choice = public_search.motif_choice(uow, PublicScope(world.territory), "public_office:Bilan social", NOW)
    [card] = public_search.lieux(uow, choice, NOW)
    assert card.next_availability is not None
    assert card.next_availability.label == "mardi 29 décembre 2026 à 09h00"


def test_only_a_start_the_engine_offers_is_a_slot_for_the_recap(db_url: str, uow: UnitOfWork, world: World) -> None:
    monday = public_search.week(uow, world.consult_arras, world.lieu_arras, MONDAY, NOW).days[0]
    offered = datetime.fromisoformat(monday.times[0][0])  # Monday 09:00 in Paris
    assert public_search.slot_offered(uow, world.consult_arras, world.lieu_arras, offered, NOW)
    never_offered = {
        "past": offered - timedelta(days=7),
        "03:00": datetime.combine(MONDAY, time(3, 0), PARIS),
        "a year ahead": offered + timedelta(days=364),
        "off the grid": offered + timedelta(minutes=1),
    }
    for why, start in never_offered.items():
        assert not public_search.slot_offered(uow, world.consult_arras, world.lieu_arras, start, NOW), why
    uow.rollback()
    with UnitOfWork(db_url) as unit:
        book_rdv(unit, world.usager, motif_id=world.consult_arras, starts_at=offered, lieu_id=world.lieu_arras,
                 booking_key="recap", now=NOW)
    with UnitOfWork(db_url) as unit:
        assert not public_search.slot_offered(unit, world.consult_arras, world.lieu_arras, offered, NOW)
