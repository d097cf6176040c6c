"""Collective sessions in the prescription flows (issue 20; admin-domain.md 10.2, domain.md 6.4; RDV-SP's
`can_add_a_user_to_a_rdv_collectif_spec.rb`), on SQLite and PostgreSQL: the open sessions listed instead of
a week of slots (seats left, booking delays), the seat taken through the usagers' locked seat path by an
agent of another organisation or by an external prescripteur (author, origin, profiles, the confirmation
emails, "Rendez-vous pris par"), a resubmission giving the same seat, a race of twenty prescripteurs for the
last two seats giving exactly two, and the refusals, each leaving the database as it was."""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import factories as make
import pytest
from db_snapshot import snapshot
from factories import at_paris
from openpyxl import load_workbook
from sqlmodel import func, select

from rdv_app.auth import rate_limit
from rdv_app.db.models import (
    Motif,
    Organisation,
    OutboxMessage,
    Participation,
    Prescripteur,
    Rdv,
    Service,
    Usager,
    UsagerProfile,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.collectifs import FULL
from rdv_app.domain.rdv_list import RdvFilters
from rdv_app.services.errors import DomainError, NotFound
from rdv_app.services.online_booking import prescription, public_prescripteur
from rdv_app.services.online_booking.public_prescripteur import BeneficiaireEntry, PrescripteurEntry
from rdv_app.services.online_booking.public_search import PublicScope
from rdv_app.services.rdv import lifecycle, queries, rdv_export
from rdv_app.services.rdv.lifecycle import Booked, SlotTaken

MONDAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # the Friday before
pytestmark = pytest.mark.clock(NOW)
FULL_MESSAGE = FULL + " Choisissez une autre date."


@dataclass
class World:
    territory: int
    lens: int  # MDS Lens, where Karim works
    arras: int  # PMI Arras, which holds the workshops
    lille: int  # another territory
    karim: int
    julien: int  # agent of PMI Arras, on the sessions
    lieu: int
    atelier: int  # collective motif open to prescripteurs
    internal: int  # collective motif for agents only
    session: int  # Monday 14h, 8 seats
    too_soon: int  # tomorrow morning: inside the 2-day minimum delay
    internal_session: int
    lea: int  # usager of MDS Lens
    nord: int  # usager of the other territory only
    usagers: list[int]


@pytest.fixture(autouse=True)
def fresh_rate_limits() -> Iterator[None]:
    rate_limit.reset_all()
    yield
    rate_limit.reset_all()


@pytest.fixture
def world(db_url: str, uow: UnitOfWork) -> World:
    s = uow.session
    pdc, nord = make.territory(s), make.territory(s, "59", "Nord")
    pmi, social = make.service(s, "PMI"), make.service(s, "Service social", "Social")
    lens = make.organisation(s, pdc, "MDS Lens", "mds-lens")
    arras = make.organisation(s, pdc, "PMI Arras", "pmi-arras", phone_number="03 21 00 00 00")
    lille = make.organisation(s, nord, "PMI Lille", "pmi-lille")
    karim = make.agent(s, "karim.haddad@demo.test", "Karim", "Haddad", organisation=lens, services=[social, pmi])
    julien = make.agent(s, "julien.petit@demo.test", "Julien", "Petit", organisation=arras, services=[pmi])
    lieu = make.lieu(s, arras, "Centre PMI d'Arras", "12 Rue Gambetta, 62000 Arras")
    delays = dict(min_public_booking_delay=2 * 86400, max_public_booking_delay=30 * 86400)
    atelier = make.motif(s, arras, pmi, "Atelier portage", collectif=True, bookable_by="agents_and_prescripteurs",
                         default_duration_in_min=90, **delays)
    internal = make.motif(s, arras, pmi, "Réunion interne", collectif=True, bookable_by="agents", **delays)
    lea = make.usager(s, "Léa", "Durand", organisations=[lens], phone_number="06 12 34 56 78",
                      email="lea@demo.test")
    nord_usager = make.usager(s, "Nina", "Nord", organisations=[lille])
    usagers = [make.usager(s, f"Usager{i}", "Durand", organisations=[lens]) for i in range(16)]
    uow.commit()
    ids = {}
    for name, motif, starts_at in (("session", atelier, at_paris(MONDAY, 14)),
                                   ("too_soon", atelier, at_paris(NOW.date() + timedelta(days=1), 10)),
                                   ("internal", internal, at_paris(MONDAY, 10))):
        with UnitOfWork(db_url) as unit:
            (ids[name],) = lifecycle.create_collectif_rdv(
                unit, julien.id, arras.id, motif_id=motif.id, name="Bien porter bébé" if motif is atelier else None,
                starts_at=starts_at, duration_in_min=90, agent_ids=[julien.id], lieu_id=lieu.id,
                max_participants_count=8, now=NOW)
    return World(pdc.id, lens.id, arras.id, lille.id, karim.id, julien.id, lieu.id,  # type: ignore[arg-type]
                 atelier.id, internal.id, ids["session"], ids["too_soon"], ids["internal"], lea.id, nord_usager.id,  # type: ignore[arg-type]
                 [u.id for u in usagers])  # type: ignore[misc]


def _prescribe(db_url: str, world: World, usager: int, rdv_id: int | None = None, agent: int | None = None) -> Booked:
    with UnitOfWork(db_url) as unit:
        return lifecycle.prescribe_seat(unit, agent or world.karim, world.lens, usager_id=usager,
                                        rdv_id=rdv_id or world.session, now=NOW)


PRESCRIPTEUR = PrescripteurEntry("Amélie", "Roux", "amelie.roux@asso.test", "06 99 88 77 66")


def _external(db_url: str, world: World, first_name: str = "Malik", phone: str = "06 55 44 33 22",
              rdv_id: int | None = None, ip: str = "192.0.2.1") -> Booked:
    with UnitOfWork(db_url) as unit:
        return lifecycle.book_seat_by_prescripteur(
            unit, rdv_id=rdv_id or world.session, prescripteur=PRESCRIPTEUR,
            beneficiaire=BeneficiaireEntry(first_name, "Benali", phone_number=phone), ip=ip, now=NOW)


def _fill(db_url: str, rdv_id: int) -> int:
    with UnitOfWork(db_url) as unit:
        rdv = unit.session.get(Rdv, rdv_id)
        assert rdv is not None
        count = unit.session.exec(select(func.count()).select_from(Participation)
                                  .where(Participation.rdv_id == rdv_id)).one()
        assert count == rdv.users_count
        return rdv.users_count


def _mails_to(db_url: str, address: str) -> list[str]:
    with UnitOfWork(db_url) as unit:
        return [m.payload["subject"] for m in unit.session.exec(select(OutboxMessage).where(
            OutboxMessage.channel == "mail")).all() if m.payload["to"] == address]


def _take_seats(db_url: str, world: World, count: int, first: int = 0) -> None:
    """Julien registers `count` usagers from `first` on."""
    for usager in world.usagers[first:first + count]:
        with UnitOfWork(db_url) as unit:
            lifecycle.add_participant(unit, world.julien, world.arras, world.session, usager, now=NOW)


def test_both_flows_list_the_open_sessions_with_their_seats_within_the_delays(uow: UnitOfWork,
                                                                              world: World) -> None:
    # The agents' search: the collective motif is offered, at its lieu, with its next session.
    services = prescription.services(uow, world.karim, world.lens, now=NOW)
    names = {m.name for s in services for m in prescription.motifs(uow, world.karim, world.lens, s.id, now=NOW)}
    assert names == {"Atelier portage"}  # the agents-only workshop is not
    cards = prescription.lieux(uow, world.karim, world.lens, "public_office:Atelier portage", now=NOW)
    assert [(c.name, c.motif_id) for c in cards] == [("Centre PMI d'Arras", world.atelier)]
    assert cards[0].next_availability is not None
    assert cards[0].next_availability.label.startswith("lundi 7 décembre 2026")
    shown = prescription.open_sessions(uow, world.karim, world.lens, world.atelier, world.lieu, now=NOW)
    # The session of tomorrow is inside the motif's minimum delay of two days: not offered.
    assert [(s.rdv_id, s.label, s.seats) for s in shown] == [
        (world.session, "lundi 7 décembre 2026 à 14h00", "8 places restantes")]
    with pytest.raises(NotFound):
        prescription.open_sessions(uow, world.karim, world.lens, world.internal, world.lieu, now=NOW)

    # The external prescripteurs' search: the same sessions.
    choices = public_prescripteur.motifs(uow, PublicScope(world.territory), now=NOW)
    assert [c.name for c in choices] == ["Atelier portage"]
    assert public_prescripteur.is_collectif(uow, world.atelier)
    assert [s.rdv_id for s in public_prescripteur.open_sessions(uow, world.atelier, world.lieu, now=NOW)] == [
        world.session]
    recap = public_prescripteur.session_recap(uow, world.atelier, world.session, now=NOW)
    assert (recap.motif_name, recap.when) == ("Bien porter bébé", "lundi 7 décembre 2026 à 14h00")
    with pytest.raises(NotFound, match="complet ou n'est plus ouvert"):
        public_prescripteur.session_recap(uow, world.atelier, world.too_soon, now=NOW)


def test_a_full_session_is_no_longer_listed(db_url: str, world: World) -> None:
    _take_seats(db_url, world, 7)
    with UnitOfWork(db_url, read_only=True) as unit:
        shown = prescription.open_sessions(unit, world.karim, world.lens, world.atelier, world.lieu, now=NOW)
    assert [s.seats for s in shown] == ["1 place restante"]
    _take_seats(db_url, world, 1, first=7)
    with UnitOfWork(db_url, read_only=True) as unit:
        assert prescription.open_sessions(unit, world.karim, world.lens, world.atelier, world.lieu, now=NOW) == []
        assert public_prescripteur.motifs(unit, PublicScope(world.territory), now=NOW) == []


def test_an_agent_prescribes_a_seat_authored_by_them_in_the_sessions_organisation(db_url: str,
                                                                                  world: World) -> None:
    with UnitOfWork(db_url, read_only=True) as unit:
        recap = prescription.session_recap(unit, world.karim, world.lens, rdv_id=world.session, usager_id=world.lea,
                                           now=NOW)
    assert (recap.motif_name, recap.organisation_name, recap.when, recap.usager_name) == (
        "Bien porter bébé", "PMI Arras", "lundi 7 décembre 2026 à 14h00", "DURAND Léa")

    booked = _prescribe(db_url, world, world.lea)

    assert booked.created and booked.rdv_id == world.session
    assert _fill(db_url, world.session) == 1
    with UnitOfWork(db_url, read_only=True) as unit:
        participation = unit.session.exec(select(Participation).where(Participation.rdv_id == world.session)).one()
        assert (participation.usager_id, participation.created_by_type, participation.created_by_agent_id,
                participation.created_by_agent_prescripteur) == (world.lea, "agent", world.karim, True)
        orgs = set(unit.session.exec(select(UsagerProfile.organisation_id)
                                     .where(UsagerProfile.usager_id == world.lea)).all())
        assert orgs == {world.lens, world.arras}  # kept in hers, added to the session's
        by = queries.prescriber(unit, world.session)
        assert by is not None and (by.name, by.organisation_name) == ("Karim Haddad", "MDS Lens")
        done = prescription.prescribed_rdv(unit, world.karim, world.lens, world.session, usager_id=world.lea)
        assert (done.motif_name, done.usager_name) == ("Bien porter bébé", "DURAND Léa")
    assert _mails_to(db_url, "karim.haddad@demo.test") == ["RDV confirmé le lundi 7 décembre 2026 à 14h00"]
    assert any(s.startswith("RDV confirmé") for s in _mails_to(db_url, "lea@demo.test"))

    # The same confirmation sent again gives the same seat, and nothing is sent twice.
    again = _prescribe(db_url, world, world.lea)
    assert (again.rdv_id, again.created) == (world.session, False)
    assert _fill(db_url, world.session) == 1
    assert len(_mails_to(db_url, "karim.haddad@demo.test")) == 1


def test_an_external_prescripteur_books_a_seat_for_a_beneficiaire(db_url: str, world: World) -> None:
    booked = _external(db_url, world)

    assert booked.created
    assert _fill(db_url, world.session) == 1
    with UnitOfWork(db_url, read_only=True) as unit:
        participation = unit.session.exec(select(Participation).where(Participation.rdv_id == world.session)).one()
        prescripteur = unit.session.exec(select(Prescripteur)).one()
        usager = unit.session.get(Usager, participation.usager_id)
        assert usager is not None
        assert (usager.first_name, usager.last_name, usager.created_through) == ("Malik", "Benali", "prescripteur")
        assert (participation.created_by_type, participation.prescripteur_id) == ("prescripteur", prescripteur.id)
        assert unit.session.exec(select(UsagerProfile.organisation_id)
                                 .where(UsagerProfile.usager_id == usager.id)).all() == [world.arras]
        by = queries.prescriber(unit, world.session)
        assert by is not None and (by.name, by.email) == ("Amélie Roux", "amelie.roux@asso.test")
    assert _mails_to(db_url, "amelie.roux@asso.test") == ["RDV confirmé le lundi 7 décembre 2026 à 14h00"]

    # Sent twice (a double click, a second tab): the same seat, one confirmation.
    again = _external(db_url, world)
    assert (again.rdv_id, again.created) == (world.session, False)
    assert _fill(db_url, world.session) == 1
    assert len(_mails_to(db_url, "amelie.roux@asso.test")) == 1


def test_twenty_prescripteurs_racing_for_the_last_two_seats_make_exactly_two_participations(
        db_url: str, world: World) -> None:
    _take_seats(db_url, world, 6)
    barrier = threading.Barrier(20)
    results: list[Booked | str] = [""] * 20

    def take(index: int) -> None:
        barrier.wait()
        try:
            if index % 2:  # half of them agents of MDS Lens, half external prescripteurs
                results[index] = _prescribe(db_url, world, world.usagers[6 + index // 2])
            else:
                results[index] = _external(db_url, world, first_name=f"Bénéficiaire{index}", phone="",
                                           ip=f"192.0.2.{index + 1}")
        except SlotTaken as taken:
            results[index] = taken.message
        except Exception as error:  # noqa: BLE001 - reported in the assertion below
            results[index] = f"unexpected: {error!r}"

    threads = [threading.Thread(target=take, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len([r for r in results if isinstance(r, Booked) and r.created]) == 2, results
    assert [r for r in results if not isinstance(r, Booked)] == [FULL_MESSAGE] * 18
    assert _fill(db_url, world.session) == 8


@pytest.mark.parametrize("case", ["full", "too_soon", "agents_only", "outside_usager", "already_registered"])
def test_refusals_change_nothing(db_url: str, world: World, case: str) -> None:
    if case == "full":
        _take_seats(db_url, world, 8)
    if case == "already_registered":
        with UnitOfWork(db_url) as unit:
            lifecycle.add_participant(unit, world.julien, world.arras, world.session, world.lea, now=NOW)
    before = snapshot(db_url)
    rdv_id = {"too_soon": world.too_soon, "agents_only": world.internal_session}.get(case, world.session)
    usager = world.nord if case == "outside_usager" else world.lea
    error: type[Exception] = {"full": SlotTaken, "too_soon": SlotTaken, "already_registered": DomainError}.get(
        case, NotFound)
    with pytest.raises(error) as refused:
        _prescribe(db_url, world, usager, rdv_id)
    if case == "full":
        assert refused.value.message == FULL_MESSAGE  # type: ignore[attr-defined]
    if case in ("full", "too_soon", "agents_only"):
        with pytest.raises(error):
            _external(db_url, world, rdv_id=rdv_id)
    assert snapshot(db_url) == before


def test_the_rdv_exports_tell_an_external_prescripteurs_booking_by_its_origin(db_url: str, world: World) -> None:
    _external(db_url, world)
    with UnitOfWork(db_url) as unit:
        s = unit.session
        prescripteur = s.exec(select(Prescripteur)).one()
        atelier = s.get(Motif, world.atelier)
        assert atelier is not None
        motif = make.motif(s, s.get(Organisation, world.arras), s.get(Service, atelier.service_id),  # type: ignore[arg-type]
                           "Consultation", bookable_by="agents_and_prescripteurs")
        make.rdv(s, world.arras, motif, at_paris(MONDAY, 9), agents=[world.julien], usagers=[world.lea],
                 lieu=world.lieu, created_by_type="prescripteur", created_by_prescripteur_id=prescripteur.id)
        unit.commit()
    files = {}
    for export_format in ("xlsx", "csv"):
        with UnitOfWork(db_url) as unit:
            requested = rdv_export.request_export(unit, world.julien, world.arras, RdvFilters(), "rdv_export",
                                                  export_format)
        assert rdv_export.build_next_export(db_url)
        with UnitOfWork(db_url, read_only=True) as unit:
            files[export_format] = rdv_export.export_file(unit, world.julien, requested.id).content
    sheet = list(load_workbook(io.BytesIO(files["xlsx"]), read_only=True).active.iter_rows(values_only=True))
    text = list(csv.reader(io.StringIO(files["csv"].decode("utf-8-sig")), delimiter=";"))
    for rows in (sheet, text):
        assert tuple(rows[0])[3] == "origine"  # the fourth column, as in RDV Service Public
        by_motif = {row[7]: (row[3], row[19]) for row in rows[1:]}
        # The session is the agent's who created it; the individual RDV the prescripteur's.
        assert by_motif == {"Atelier portage": ("Créé par un agent", "Julien Petit"),
                            "Réunion interne": ("Créé par un agent", "Julien Petit"),
                            "Consultation": ("Rdv pris par un prescripteur", "ROUX Amélie")}
