"""The ANTS pre-demande number in the prescription flows (issue 20; integrations.md 1d, domain.md 6.4 step 3),
on SQLite and PostgreSQL, with the loopback ANTS hub of tests/fakes/ants_hub.py: a motif of an ANTS category
asks for the number in the agents' prescription and on the external prescripteur's bénéficiaire step, as
the usagers' booking does (ANTS's word on it first, then the format again in the booking), and the number
is stored upper-cased on the usager the RDV is for; a missing or malformed number changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import factories as make
import pytest
from db_snapshot import snapshot
from factories import at_paris
from fakes.ants_hub import TOKEN, FakeAntsHub
from sqlmodel import select

from rdv_app.auth import rate_limit
from rdv_app.db.models import MotifCategory, Participation, Rdv, Usager
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import ants
from rdv_app.services.errors import DomainError
from rdv_app.services.integrations import ants as ants_service
from rdv_app.services.online_booking import prescription, public_prescripteur
from rdv_app.services.online_booking.public_prescripteur import BeneficiaireEntry, PrescripteurEntry
from rdv_app.services.rdv import lifecycle

MONDAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # the Friday before
pytestmark = pytest.mark.clock(NOW)
PRESCRIPTEUR = PrescripteurEntry("Amélie", "Roux", "amelie.roux@asso.test")


@dataclass
class World:
    lens: int
    karim: int  # agent of MDS Lens
    lieu: int
    passport: int  # the mairie's passport motif, open to prescripteurs
    plain: int  # a motif of no ANTS category, open to prescripteurs
    lea: int  # usager of MDS Lens, with an old number
    paul: int  # usager of the mairie only: masked for Karim


@pytest.fixture(autouse=True)
def fresh_rate_limits() -> Iterator[None]:
    rate_limit.reset_all()
    yield
    rate_limit.reset_all()


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAntsHub]:
    with FakeAntsHub() as server:
        monkeypatch.setenv("RDV_ANTS_API_URL", server.url)
        monkeypatch.setenv("RDV_ANTS_API_TOKEN", TOKEN)
        yield server


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    s = uow.session
    pdc = make.territory(s)
    etat_civil, social = make.service(s, "État civil", "EC"), make.service(s, "Service social", "Social")
    lens = make.organisation(s, pdc, "MDS Lens", "mds-lens")
    mairie = make.organisation(s, pdc, "Mairie d'Arras", "mairie-arras")
    karim = make.agent(s, "karim.haddad@demo.test", "Karim", "Haddad", organisation=lens,
                       services=[social, etat_civil])
    guichet = make.agent(s, "guichet@arras.test", "Marc", "Guichet", organisation=mairie, services=[etat_civil])
    lieu = make.lieu(s, mairie, "Mairie d'Arras", "1 place des Héros, 62000 Arras")
    category = MotifCategory(name=ants.CATEGORY_NAMES[ants.Reason.PASSPORT],
                             short_name=ants.CATEGORY_SHORT_NAMES[ants.Reason.PASSPORT])
    s.add(category)
    s.flush()
    passport = make.motif(s, mairie, etat_civil, "Passeport", bookable_by="agents_and_prescripteurs",
                          motif_category_id=category.id, default_duration_in_min=15)
    plain = make.motif(s, mairie, etat_civil, "Livret de famille", bookable_by="agents_and_prescripteurs",
                       default_duration_in_min=15)
    make.plage(s, guichet, mairie, lieu, [passport, plain], title="Guichet", first_day=NOW.date(),
               start_time=time(9), end_time=time(12),
               recurrence={"every": "week", "on": ["monday", "tuesday", "wednesday", "thursday", "friday"]},
               created_at=NOW - timedelta(days=10))
    lea = make.usager(s, "Léa", "Durand", organisations=[lens], ants_pre_demande_number="OLDNUMBER1")
    paul = make.usager(s, "Paul", "Martin", organisations=[mairie], ants_pre_demande_number="PAULNUMBR1")
    uow.commit()
    return World(lens.id, karim.id, lieu.id, passport.id, plain.id, lea.id, paul.id)  # type: ignore[arg-type]


def _prescribe(db_url: str, world: World, number: str, *, motif: int | None = None, usager: int | None = None,
               hour: int = 9) -> lifecycle.Booked:
    with UnitOfWork(db_url) as unit:
        return lifecycle.prescribe_rdv(unit, world.karim, world.lens, usager_id=usager or world.lea,
                                       motif_id=motif or world.passport, starts_at=at_paris(MONDAY, hour),
                                       lieu_id=world.lieu, booking_key=f"key-{hour}-{number}", now=NOW,
                                       ants_pre_demande_number=number)


def _number_of(db_url: str, usager_id: int) -> str | None:
    with UnitOfWork(db_url, read_only=True) as unit:
        usager = unit.session.get(Usager, usager_id)
        assert usager is not None
        return usager.ants_pre_demande_number


def test_the_agents_prescription_asks_the_number_checks_it_and_stores_it(db_url: str, world: World,
                                                                         hub: FakeAntsHub) -> None:
    with UnitOfWork(db_url, read_only=True) as unit:
        # Léa is followed by Karim's organisation: her number is shown to be checked again; Paul's is not.
        assert prescription.ants_number_need(unit, world.karim, world.lens, world.passport, world.lea) == \
            ants_service.NumberNeed(True, "OLDNUMBER1")
        assert prescription.ants_number_need(unit, world.karim, world.lens, world.passport, world.paul) == \
            ants_service.NumberNeed(True, "")
        assert not prescription.ants_number_need(unit, world.karim, world.lens, world.plain, world.lea).required

    # As the page does: ANTS's word first (the status), then the booking (the format again).
    hub.numbers |= {"CONSUMED12": "consumed", "ABCDE12345": "validated"}
    assert ants_service.check_number("consumed12").error == \
        "Ce numéro de pré-demande ANTS correspond à un dossier déjà instruit."
    assert ants_service.check_number(" abcde12345 ") == ants_service.NumberVerdict("ABCDE12345")

    before = snapshot(db_url)
    for typed, message in (("", "Renseignez le numéro de pré-demande ANTS."), ("abc", ants.FORMAT_ERROR)):
        with pytest.raises(DomainError) as refused:
            _prescribe(db_url, world, typed)
        assert (refused.value.message, refused.value.field) == (message, "ants_pre_demande_number")
    assert snapshot(db_url) == before

    booked = _prescribe(db_url, world, " abcde12345 ")
    assert booked.created
    assert _number_of(db_url, world.lea) == "ABCDE12345"
    # A motif of no ANTS category asks nothing and leaves the number alone.
    assert _prescribe(db_url, world, "", motif=world.plain, hour=10).created
    assert _number_of(db_url, world.lea) == "ABCDE12345"


def test_the_external_prescripteur_gives_the_beneficiaires_number(db_url: str, world: World) -> None:
    with UnitOfWork(db_url, read_only=True) as unit:
        assert public_prescripteur.requirements(unit, world.passport) == public_prescripteur.BeneficiaireNeeds(
            phone=False, address=False, ants_number=True)
        assert not public_prescripteur.requirements(unit, world.plain).ants_number
        with pytest.raises(DomainError) as refused:
            public_prescripteur.check_beneficiaire(unit, world.passport, BeneficiaireEntry("Malik", "Benali"))
        assert refused.value.field == "ants_pre_demande_number"
        with pytest.raises(DomainError, match="10 chiffres et lettres"):
            public_prescripteur.check_beneficiaire(unit, world.passport, BeneficiaireEntry(
                "Malik", "Benali", ants_pre_demande_number="12345"))

    before = snapshot(db_url)
    with UnitOfWork(db_url) as unit, pytest.raises(DomainError):
        lifecycle.book_by_prescripteur(unit, motif_id=world.passport, starts_at=at_paris(MONDAY, 9),
                                       lieu_id=world.lieu, booking_key="sans-numero", prescripteur=PRESCRIPTEUR,
                                       beneficiaire=BeneficiaireEntry("Malik", "Benali"), ip="192.0.2.1", now=NOW)
    assert snapshot(db_url) == before

    with UnitOfWork(db_url) as unit:
        booked = lifecycle.book_by_prescripteur(
            unit, motif_id=world.passport, starts_at=at_paris(MONDAY, 9), lieu_id=world.lieu,
            booking_key="avec-numero", prescripteur=PRESCRIPTEUR, ip="192.0.2.1", now=NOW,
            beneficiaire=BeneficiaireEntry("Malik", "Benali", ants_pre_demande_number="zyxwv98765"))
    with UnitOfWork(db_url, read_only=True) as unit:
        usager = unit.session.exec(select(Usager).join(Participation, Participation.usager_id == Usager.id)
                                   .join(Rdv, Rdv.id == Participation.rdv_id)
                                   .where(Rdv.id == booked.rdv_id)).one()
        assert (usager.first_name, usager.ants_pre_demande_number) == ("Malik", "ZYXWV98765")
