"""Prescription by agents, "Élargir la recherche" (issue 20), on SQLite and PostgreSQL: the search's scope
(the territory, the agent's services), the booking delays, the usagers reachable, the booking through the
usagers' own path (author, origin, profiles, the agent chosen, the prescribing agent's email, a race of 20
prescriptions for one slot) and the refusals, each leaving the database as it was."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import factories as make
import pytest
from db_snapshot import snapshot
from factories import at_paris
from sqlmodel import col, func, select

from rdv_app.db.models import (
    Motif,
    Organisation,
    OutboxMessage,
    Participation,
    PlageOuverture,
    Rdv,
    RdvAgent,
    UsagerProfile,
    WebhookEndpoint,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.errors import NotFound, PermissionDenied
from rdv_app.services.online_booking import prescription
from rdv_app.services.rdv import queries
from rdv_app.services.rdv.lifecycle import SLOT_TAKEN, Booked, SlotTaken, prescribe_rdv

MONDAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # the Friday before


@dataclass
class World:
    lens: int  # MDS Lens, where Karim works
    arras: int  # PMI Arras, which opens a motif to prescripteurs
    lille: int  # another territory
    karim: int  # basic agent of MDS Lens, services social and PMI
    nathalie: int  # basic agent of MDS Lens, service social only
    julien: int  # agent of PMI Arras, with the plages
    sophie: int  # agent of PMI Arras, a plage created later
    lieu: int
    motif: int  # "Consultation PMI", open to prescripteurs
    agents_only: int  # PMI Arras motif for its agents only
    lille_motif: int
    lens_motif: int  # MDS Lens' own motif open to prescripteurs (service social)
    lea: int  # usager of MDS Lens
    paul: int  # usager of PMI Arras only: masked for Karim
    nord: int  # usager of the other territory only
    usagers: list[int]


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    s = uow.session
    pdc = make.territory(s)
    nord = make.territory(s, "59", "Nord")
    pmi, social = make.service(s, "PMI"), make.service(s, "Service social", "Social")
    lens = make.organisation(s, pdc, "MDS Lens", "mds-lens")
    arras = make.organisation(s, pdc, "PMI Arras", "pmi-arras", phone_number="03 21 00 00 00")
    lille = make.organisation(s, nord, "PMI Lille", "pmi-lille")
    karim = make.agent(s, "karim.haddad@demo.test", "Karim", "Haddad", organisation=lens, services=[social, pmi])
    nathalie = make.agent(s, "nathalie@demo.test", "Nathalie", "Lefebvre", organisation=lens, services=[social])
    julien = make.agent(s, "julien.petit@demo.test", "Julien", "Petit", organisation=arras, services=[pmi])
    sophie = make.agent(s, "sophie@demo.test", "Sophie", "Bernard", organisation=arras, services=[pmi])
    lieu = make.lieu(s, arras, "Centre PMI d'Arras", "12 Rue Gambetta, 62000 Arras")
    lens_lieu = make.lieu(s, lens, "MDS de Lens", "25 Rue Émile Zola, 62300 Lens")
    lille_lieu = make.lieu(s, lille, "Centre PMI de Lille", "1 rue de Lille, 59000 Lille")
    delays = dict(min_public_booking_delay=2 * 3600, max_public_booking_delay=30 * 86400)
    motif = make.motif(s, arras, pmi, "Consultation PMI", bookable_by="agents_and_prescripteurs",
                       instruction_for_rdv="Apportez le carnet de santé.", **delays)
    agents_only = make.motif(s, arras, pmi, "Visite interne", bookable_by="agents")
    lille_motif = make.motif(s, lille, pmi, "Consultation PMI Lille", bookable_by="agents_and_prescripteurs")
    lens_motif = make.motif(s, lens, social, "Entretien social", bookable_by="everyone")
    weekdays = {"every": "week", "on": ["monday", "tuesday", "wednesday", "thursday", "friday"]}
    for agent, org, place, motifs, created in ((julien, arras, lieu, [motif, agents_only], 10),
                                               (sophie, arras, lieu, [motif], 5),
                                               (julien, lille, lille_lieu, [lille_motif], 10),
                                               (nathalie, lens, lens_lieu, [lens_motif], 10)):
        make.plage(s, agent, org, place, motifs, title="Permanence", first_day=NOW.date(), start_time=time(9),
                   end_time=time(12), recurrence=weekdays, created_at=NOW - timedelta(days=created))
    lea = make.usager(s, "Léa", "Durand", organisations=[lens], phone_number="06 12 34 56 78",
                      email="lea@demo.test")
    paul = make.usager(s, "Paul", "Martin", organisations=[arras], phone_number="06 11 22 33 44")
    nord_usager = make.usager(s, "Nina", "Nord", organisations=[lille])
    usagers = [make.usager(s, f"Usager{i}", "Durand", organisations=[lens]) for i in range(20)]
    uow.commit()
    ids = [r.id for r in (lens, arras, lille, karim, nathalie, julien, sophie, lieu, motif, agents_only, lille_motif,
                          lens_motif, lea, paul, nord_usager)]
    return World(*ids, usagers=[u.id for u in usagers])  # type: ignore[arg-type]


def _prescribe(db_url: str, world: World, starts_at: datetime, key: str, *, usager: int | None = None,
               agent: int | None = None, motif: int | None = None) -> Booked:
    with UnitOfWork(db_url) as unit:
        return prescribe_rdv(unit, agent or world.karim, world.lens, usager_id=usager or world.lea,
                             motif_id=motif or world.motif, starts_at=starts_at, lieu_id=world.lieu,
                             booking_key=key, now=NOW)


def test_the_search_covers_the_territorys_prescription_motifs_within_the_agents_services(
        uow: UnitOfWork, world: World) -> None:
    karim = {m.name for s in prescription.services(uow, world.karim, world.lens, now=NOW)
             for m in prescription.motifs(uow, world.karim, world.lens, s.id, now=NOW)}
    nathalie = {m.name for s in prescription.services(uow, world.nathalie, world.lens, now=NOW)
                for m in prescription.motifs(uow, world.nathalie, world.lens, s.id, now=NOW)}

    # Own organisation included; agents-only motifs and the other territory's left out.
    assert karim == {"Consultation PMI", "Entretien social"}
    # A basic agent sees the motifs of their services only.
    assert nathalie == {"Entretien social"}
    assert prescription.is_offered(uow, world.karim, world.lens)
    cards = prescription.lieux(uow, world.karim, world.lens, "public_office:Consultation PMI", now=NOW)
    assert [(c.organisation_name, c.name) for c in cards] == [("PMI Arras", "Centre PMI d'Arras")]
    with pytest.raises(NotFound):
        prescription.lieux(uow, world.nathalie, world.lens, "public_office:Consultation PMI", now=NOW)
    with pytest.raises(NotFound):
        prescription.week(uow, world.karim, world.lens, world.agents_only, world.lieu, now=NOW)
    with pytest.raises(PermissionDenied):
        prescription.services(uow, world.julien, world.lens, now=NOW)


def test_a_territory_without_prescription_motifs_offers_nothing(uow: UnitOfWork, world: World) -> None:
    for motif in uow.session.exec(select(Motif).where(col(Motif.bookable_by) != "agents")).all():
        motif.bookable_by = "agents"
        uow.session.add(motif)
    uow.commit()
    assert not prescription.is_offered(uow, world.karim, world.lens)
    assert prescription.services(uow, world.karim, world.lens, now=NOW) == []


def test_the_week_applies_the_motifs_booking_delays(uow: UnitOfWork, world: World) -> None:
    shown = prescription.week(uow, world.karim, world.lens, world.motif, world.lieu, NOW.date(), now=NOW)
    times = {d.day: [t for _, t in d.times] for d in shown.days}

    # Friday 12:00 plus two hours of minimum delay: nothing left that day; Monday from 09h00.
    assert times[NOW.date()] == []
    assert times[MONDAY][:2] == ["09h00", "09h30"]
    later = prescription.week(uow, world.karim, world.lens, world.motif, world.lieu, NOW.date() + timedelta(days=35),
                              now=NOW)
    assert later.is_empty and all(d.closed for d in later.days)


def test_the_next_availability_leads_to_the_week_of_its_local_day(uow: UnitOfWork, world: World) -> None:
    """Overseas (Tahiti, UTC−10) a Friday 15h00 slot is a Saturday in UTC: « Prochaine disponibilité » leads
    to the week of that Friday, where the slot is, not to the Saturday after it."""
    arras = uow.session.get(Organisation, world.arras)
    assert arras is not None
    arras.timezone = "Pacific/Tahiti"
    friday = MONDAY + timedelta(days=11)
    for plage in uow.session.exec(select(PlageOuverture).where(PlageOuverture.organisation_id == world.arras)):
        plage.first_day, plage.recurrence = friday, None
        plage.start_time, plage.end_time = time(15), time(17)
    uow.commit()

    empty = prescription.week(uow, world.karim, world.lens, world.motif, world.lieu, NOW.date(), now=NOW)
    assert empty.is_empty and empty.next_availability is not None
    assert empty.next_availability.starts_at.astimezone(UTC).date() == friday + timedelta(days=1)
    assert empty.following_day == friday
    shown = prescription.week(uow, world.karim, world.lens, world.motif, world.lieu, empty.following_day, now=NOW)
    assert {d.day: [t for _, t in d.times] for d in shown.days}[friday][:1] == ["15h00"]


def test_the_usagers_offered_are_the_organisations_and_the_territorys_masked(uow: UnitOfWork, world: World) -> None:
    found = prescription.search_usagers(uow, world.karim, world.lens, "Martin")
    assert found.usagers == []
    assert [(p.id, p.name, p.phone_number) for p in found.other_organisations] == [
        (world.paul, "MARTIN Paul", "06******44")]
    assert [u.name for u in prescription.search_usagers(uow, world.karim, world.lens, "Léa").usagers] == [
        "DURAND Léa"]
    assert prescription.search_usagers(uow, world.karim, world.lens, "Nina").other_organisations == []


def test_a_prescription_books_in_the_motifs_organisation_as_the_prescribing_agent(db_url: str, world: World) -> None:
    booked = _prescribe(db_url, world, at_paris(MONDAY, 9), "k-1")

    with UnitOfWork(db_url) as check:
        rdv = check.session.get(Rdv, booked.rdv_id)
        assert rdv is not None
        assert (rdv.organisation_id, rdv.created_by_type, rdv.created_by_agent_id) == (world.arras, "agent",
                                                                                      world.karim)
        # The plage created first (Julien's) wins, not a random agent.
        assert check.session.exec(select(RdvAgent.agent_id).where(RdvAgent.rdv_id == rdv.id)).all() == [world.julien]
        participation = check.session.exec(select(Participation).where(Participation.rdv_id == rdv.id)).one()
        assert (participation.usager_id, participation.created_by_agent_id,
                participation.created_by_agent_prescripteur) == (world.lea, world.karim, True)
        # Léa keeps her MDS Lens profile and gains one at PMI Arras.
        assert sorted(check.session.exec(select(UsagerProfile.organisation_id)
                                         .where(UsagerProfile.usager_id == world.lea)).all()) == sorted(
            [world.lens, world.arras])
        outbox = check.session.exec(select(OutboxMessage).where(OutboxMessage.rdv_id == rdv.id)).all()
        to = sorted((m.channel, m.payload["to"]) for m in outbox)
        assert to == [("mail", "julien.petit@demo.test"), ("mail", "karim.haddad@demo.test"),
                      ("mail", "lea@demo.test"), ("sms", "+33612345678")]
        karim_mail = next(m.payload for m in outbox if m.payload["to"] == "karim.haddad@demo.test")
        assert karim_mail["subject"] == "RDV confirmé le lundi 7 décembre 2026 à 09h00"
        assert "Nous vous confirmons le rendez-vous que vous avez réservé pour Léa DURAND." in karim_mail["text"]
        # PMI Arras' side: the RDV page says who booked it and how to reach them.
        author = queries.get_rdv(check, world.julien, world.arras, rdv.id, now=NOW).prescribed_by
        assert author == queries.Prescriber("Karim Haddad", "MDS Lens", "karim.haddad@demo.test")
        # Karim has no role at PMI Arras: the RDV stays closed to him, its confirmation does not.
        with pytest.raises(NotFound):
            queries.get_rdv(check, world.karim, world.lens, rdv.id, now=NOW)
        with pytest.raises(PermissionDenied):
            queries.get_rdv(check, world.karim, world.arras, rdv.id, now=NOW)
        confirmation = prescription.prescribed_rdv(check, world.karim, world.lens, booked.rdv_id)
        assert (confirmation.usager_name, confirmation.instruction) == ("DURAND Léa", "Apportez le carnet de santé.")
        with pytest.raises(NotFound):
            prescription.prescribed_rdv(check, world.nathalie, world.lens, booked.rdv_id)
    second = _prescribe(db_url, world, at_paris(MONDAY, 9), "k-2", usager=world.paul)
    with UnitOfWork(db_url) as check:
        assert check.session.exec(select(RdvAgent.agent_id).where(RdvAgent.rdv_id == second.rdv_id)).all() == [
            world.sophie]


def test_a_resubmitted_prescription_returns_the_same_rdv(db_url: str, world: World) -> None:
    first = _prescribe(db_url, world, at_paris(MONDAY, 10), "same")
    again = _prescribe(db_url, world, at_paris(MONDAY, 10), "same")
    assert (again.rdv_id, again.created) == (first.rdv_id, False)
    with UnitOfWork(db_url) as check:
        assert check.session.exec(select(func.count()).select_from(Rdv)).one() == 1


@pytest.mark.parametrize("case", ["agents_only", "other_territory", "outside_usager", "delay", "not_my_org",
                                  "other_service"])
def test_refusals_change_nothing(db_url: str, world: World, case: str) -> None:
    before = snapshot(db_url)
    kwargs: dict[str, int] = {}
    start = at_paris(MONDAY, 9)
    if case == "agents_only":
        kwargs["motif"] = world.agents_only
    elif case == "other_territory":
        kwargs["motif"] = world.lille_motif
    elif case == "outside_usager":
        kwargs["usager"] = world.nord
    elif case == "not_my_org":
        kwargs["agent"] = world.julien
    elif case == "other_service":
        kwargs["agent"] = world.nathalie
    elif case == "delay":
        start = at_paris(NOW.date(), 13)
    error = SlotTaken if case == "delay" else PermissionDenied if case == "not_my_org" else NotFound
    with pytest.raises(error):
        _prescribe(db_url, world, start, f"refused-{case}", **kwargs)
    assert snapshot(db_url) == before


def test_twenty_prescriptions_of_the_last_slot_give_exactly_one_rdv(db_url: str, uow: UnitOfWork,
                                                                    world: World) -> None:
    # Paul takes one of the two agents free at 11h30: the other's is the last slot.
    start = at_paris(MONDAY, 11, 30)
    _prescribe(db_url, world, start, "first", usager=world.paul)
    barrier = threading.Barrier(20)
    results: list[Booked | str] = [""] * 20

    def confirm(index: int) -> None:
        barrier.wait()
        try:
            results[index] = _prescribe(db_url, world, start, f"race-{index}", usager=world.usagers[index])
        except SlotTaken as taken:
            results[index] = taken.message
        except Exception as error:  # noqa: BLE001 - reported in the assertion below
            results[index] = f"unexpected: {error!r}"

    threads = [threading.Thread(target=confirm, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len([r for r in results if isinstance(r, Booked)]) == 1, results
    assert [r for r in results if not isinstance(r, Booked)] == [SLOT_TAKEN] * 19
    with UnitOfWork(db_url) as check:
        at_start = check.session.exec(select(func.count()).select_from(Rdv).where(Rdv.starts_at == start)).one()
    assert at_start == 2  # Paul's, with one of the two agents, and one of the twenty with the other


def test_the_receiving_organisations_webhooks_hear_of_the_prescription(db_url: str, uow: UnitOfWork,
                                                                       world: World) -> None:
    endpoint = WebhookEndpoint(organisation_id=world.arras, target_url="https://hooks.example.fr/arras",
                               secret="s3cret", subscriptions=["rdv", "user_profile"])
    uow.session.add(endpoint)
    uow.commit()
    booked = _prescribe(db_url, world, at_paris(MONDAY, 9), "k-webhooks")

    with UnitOfWork(db_url) as check:
        bodies = [json.loads(row.payload["body"]) for row in check.session.exec(
            select(OutboxMessage).where(OutboxMessage.webhook_endpoint_id == endpoint.id)
            .order_by(col(OutboxMessage.id))).all()]
    assert [(b["meta"]["model"], b["meta"]["event"]) for b in bodies] == [("UserProfile", "created"),
                                                                         ("Rdv", "created")]
    rdv_data = bodies[1]["data"]
    assert (rdv_data["id"], rdv_data["created_by_type"]) == (booked.rdv_id, "agent")
    assert rdv_data["participations"][0]["created_by_agent_prescripteur"] is True
