"""External prescripteurs, "Je suis un prescripteur" (domain.md section 6.4, issue 20), on SQLite and
PostgreSQL: the motifs offered, the forms' checks, the booking through the usagers' own path (the
Prescripteur row, author and origin, the bénéficiaire found or created, the profile, the notifications and
the prescripteur's "RDV confirmé"), the refusals leaving the database as it was, and a race of several
prescripteurs for the last slot."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import factories as make
import pytest
from db_snapshot import snapshot
from factories import at_paris
from sqlmodel import func, select

from rdv_app.auth import rate_limit
from rdv_app.db.models import OutboxMessage, Participation, Prescripteur, Rdv, Usager, UsagerProfile
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.errors import DomainError, NotFound
from rdv_app.services.online_booking import public_prescripteur
from rdv_app.services.online_booking.public_prescripteur import BeneficiaireEntry, PrescripteurEntry
from rdv_app.services.online_booking.public_search import PublicScope
from rdv_app.services.rdv import queries
from rdv_app.services.rdv.lifecycle import (
    BOOKINGS_PER_PRESCRIPTEUR_ADDRESS,
    SLOT_TAKEN,
    Booked,
    SlotTaken,
    book_by_prescripteur,
)

MONDAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # the Friday before
ALICE = PrescripteurEntry("Alice", "Leroy", "alice.leroy@asso.test", "03 21 11 22 33")


@pytest.fixture(autouse=True)
def fresh_limits() -> Iterator[None]:
    rate_limit.reset_all()
    yield
    rate_limit.reset_all()


@dataclass
class World:
    territory: int
    arras: int
    julien: int
    lieu: int
    motif: int  # open to prescripteurs only
    agents_only: int
    paul: int  # usager of PMI Arras


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    s = uow.session
    pdc = make.territory(s)
    pmi = make.service(s, "PMI")
    arras = make.organisation(s, pdc, "PMI Arras", "pmi-arras", phone_number="03 21 00 00 00")
    julien = make.agent(s, "julien.petit@demo.test", "Julien", "Petit", organisation=arras, services=[pmi])
    lieu = make.lieu(s, arras, "Centre PMI d'Arras", "12 Rue Gambetta, 62000 Arras")
    motif = make.motif(s, arras, pmi, "Consultation PMI", bookable_by="agents_and_prescripteurs",
                       min_public_booking_delay=2 * 3600, max_public_booking_delay=30 * 86400)
    agents_only = make.motif(s, arras, pmi, "Visite interne", bookable_by="agents")
    make.plage(s, julien, arras, lieu, [motif, agents_only], title="Permanence", first_day=NOW.date(),
               start_time=time(9), end_time=time(12),
               recurrence={"every": "week", "on": ["monday", "tuesday", "wednesday", "thursday", "friday"]},
               created_at=NOW - timedelta(days=10))
    paul = make.usager(s, "Paul", "Martin", organisations=[arras], phone_number="06 11 22 33 44",
                      phone_number_formatted="+33611223344")
    uow.commit()
    return World(pdc.id, arras.id, julien.id, lieu.id, motif.id, agents_only.id, paul.id)  # type: ignore[arg-type]


def _book(db_url: str, world: World, starts_at: datetime, key: str, *,
          beneficiaire: BeneficiaireEntry | None = None, prescripteur: PrescripteurEntry = ALICE,
          motif: int | None = None) -> Booked:
    with UnitOfWork(db_url) as unit:
        return book_by_prescripteur(
            unit, motif_id=motif or world.motif, starts_at=starts_at, lieu_id=world.lieu, booking_key=key,
            prescripteur=prescripteur,
            beneficiaire=beneficiaire or BeneficiaireEntry("Zoé", "Petit", "06 98 76 54 32", "zoe@demo.test"),
            ip="192.0.2.10", now=NOW)


def test_the_motifs_offered_are_those_open_to_prescripteurs(uow: UnitOfWork, world: World) -> None:
    scope = PublicScope(world.territory)
    assert [c.name for c in public_prescripteur.motifs(uow, scope, now=NOW)] == ["Consultation PMI"]
    week = public_prescripteur.week(uow, world.motif, world.lieu, NOW.date(), now=NOW)
    times = {d.day: [t for _, t in d.times] for d in week.days}
    assert times[NOW.date()] == [] and times[MONDAY][:2] == ["09h00", "09h30"]
    with pytest.raises(NotFound):
        public_prescripteur.week(uow, world.agents_only, world.lieu, now=NOW)


@pytest.mark.parametrize(("entry", "field", "message"), [
    (PrescripteurEntry("", "Leroy", "a@b.fr"), "first_name", "Le prénom est obligatoire."),
    (PrescripteurEntry("Alice", "Leroy", ""), "email",
     "L'adresse email est obligatoire : vous y recevrez la confirmation."),
    (PrescripteurEntry("Alice", "Leroy", "pas-un-email"), "email",
     "L'adresse email n'est pas valide (exemple : prenom.nom@exemple.fr)."),
    (PrescripteurEntry("Alice", "Leroy", "a@b.fr", "12"), "phone_number",
     "Le numéro de téléphone n'est pas valide (numéro français ou d'outre-mer)."),
])
def test_the_prescripteur_form_says_what_to_fix(entry: PrescripteurEntry, field: str, message: str) -> None:
    with pytest.raises(DomainError) as refused:
        public_prescripteur.check_prescripteur(entry)
    assert (refused.value.field, refused.value.message) == (field, message)


def test_the_beneficiaire_phone_must_be_a_mobile(uow: UnitOfWork, world: World) -> None:
    with pytest.raises(DomainError) as refused:
        public_prescripteur.check_beneficiaire(uow, world.motif, BeneficiaireEntry("Zoé", "Petit", "03 21 00 00 00"))
    assert (refused.value.field, refused.value.message) == ("phone_number", public_prescripteur.NOT_MOBILE)
    clean = public_prescripteur.check_beneficiaire(uow, world.motif, BeneficiaireEntry(" Zoé ", "Petit"))
    assert (clean.first_name, clean.phone_number) == ("Zoé", None)


def test_a_prescripteur_books_for_a_new_beneficiaire(db_url: str, world: World) -> None:
    booked = _book(db_url, world, at_paris(MONDAY, 9), "k-1")

    with UnitOfWork(db_url) as check:
        rdv = check.session.get(Rdv, booked.rdv_id)
        assert rdv is not None
        prescripteur = check.session.get(Prescripteur, rdv.created_by_prescripteur_id)
        assert prescripteur is not None
        assert (prescripteur.first_name, prescripteur.last_name, prescripteur.email) == (
            "Alice", "Leroy", "alice.leroy@asso.test")
        assert (rdv.organisation_id, rdv.created_by_type) == (world.arras, "prescripteur")
        participation = check.session.exec(select(Participation).where(Participation.rdv_id == rdv.id)).one()
        assert (participation.created_by_type, participation.prescripteur_id) == ("prescripteur", prescripteur.id)
        zoe = check.session.get(Usager, participation.usager_id)
        assert zoe is not None
        assert (zoe.first_name, zoe.last_name, zoe.created_through, zoe.phone_number_formatted) == (
            "Zoé", "Petit", "prescripteur", "+33698765432")
        assert check.session.exec(select(UsagerProfile.organisation_id)
                                  .where(UsagerProfile.usager_id == zoe.id)).all() == [world.arras]
        outbox = check.session.exec(select(OutboxMessage).where(OutboxMessage.rdv_id == rdv.id)).all()
        assert sorted((m.channel, m.payload["to"]) for m in outbox) == [
            ("mail", "alice.leroy@asso.test"), ("mail", "julien.petit@demo.test"), ("mail", "zoe@demo.test"),
            ("sms", "+33698765432")]
        alice_mail = next(m.payload for m in outbox if m.payload["to"] == "alice.leroy@asso.test")
        assert alice_mail["subject"] == "RDV confirmé le lundi 7 décembre 2026 à 09h00"
        assert "Nous vous confirmons le rendez-vous que vous avez réservé pour Zoé PETIT." in alice_mail["text"]
        # PMI Arras' side: the RDV page says who booked it and how to reach them.
        shown = queries.get_rdv(check, world.julien, world.arras, rdv.id, now=NOW)
        assert shown.created_by == "Un prescripteur"
        assert shown.prescribed_by == queries.Prescriber("Alice Leroy", "", "alice.leroy@asso.test", "03 21 11 22 33")


def test_a_known_beneficiaire_is_found_by_names_and_mobile(db_url: str, world: World) -> None:
    booked = _book(db_url, world, at_paris(MONDAY, 10), "k-paul",
                   beneficiaire=BeneficiaireEntry("paul", "MARTIN", "+33 6 11 22 33 44"))
    again = _book(db_url, world, at_paris(MONDAY, 10), "k-paul",
                  beneficiaire=BeneficiaireEntry("paul", "MARTIN", "+33 6 11 22 33 44"))
    assert (again.rdv_id, again.created) == (booked.rdv_id, False)
    with UnitOfWork(db_url) as check:
        assert check.session.exec(select(Participation.usager_id)
                                  .where(Participation.rdv_id == booked.rdv_id)).one() == world.paul
        assert check.session.exec(select(func.count()).select_from(Usager)).one() == 1
        assert check.session.exec(select(func.count()).select_from(Prescripteur)).one() == 1


@pytest.mark.parametrize("case", ["agents_only", "no_email", "bad_phone", "delay", "email_of_someone_else",
                                  "too_many_from_one_address"])
def test_refusals_change_nothing(db_url: str, world: World, case: str) -> None:
    before = snapshot(db_url)
    start = at_paris(MONDAY, 9)
    kwargs: dict = {}
    error: type[Exception] = DomainError
    if case == "agents_only":
        kwargs["motif"], error = world.agents_only, NotFound
    elif case == "no_email":
        kwargs["prescripteur"] = PrescripteurEntry("Alice", "Leroy", " ")
    elif case == "bad_phone":
        kwargs["beneficiaire"] = BeneficiaireEntry("Zoé", "Petit", "0123")
    elif case == "delay":
        start, error = at_paris(NOW.date(), 13), SlotTaken
    elif case == "email_of_someone_else":
        _book(db_url, world, at_paris(MONDAY, 11), "first")
        before = snapshot(db_url)
        kwargs["beneficiaire"] = BeneficiaireEntry("Léon", "Autre", "", "zoe@demo.test")
    elif case == "too_many_from_one_address":
        for _ in range(30):  # thirty RDVs booked from this address today
            rate_limit.record(BOOKINGS_PER_PRESCRIPTEUR_ADDRESS, "booking:prescripteur:192.0.2.10")
    with pytest.raises(error):
        _book(db_url, world, start, f"refused-{case}", **kwargs)
    assert snapshot(db_url) == before


def test_several_prescripteurs_for_the_last_slot_give_exactly_one_rdv(db_url: str, world: World) -> None:
    start = at_paris(MONDAY, 11, 30)
    count = 8
    barrier = threading.Barrier(count)
    results: list[Booked | str] = [""] * count

    def confirm(index: int) -> None:
        barrier.wait()
        try:
            results[index] = _book(db_url, world, start, f"race-{index}",
                                   beneficiaire=BeneficiaireEntry(f"Bénéficiaire{index}", "Durand"),
                                   prescripteur=PrescripteurEntry("P", f"Nom{index}", f"p{index}@asso.test"))
        except SlotTaken as taken:
            results[index] = taken.message
        except Exception as error:  # noqa: BLE001 - reported in the assertion below
            results[index] = f"unexpected: {error!r}"

    threads = [threading.Thread(target=confirm, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len([r for r in results if isinstance(r, Booked)]) == 1, results
    assert [r for r in results if not isinstance(r, Booked)] == [SLOT_TAKEN] * (count - 1)
    with UnitOfWork(db_url) as check:
        assert check.session.exec(select(func.count()).select_from(Rdv)).one() == 1
        # The losers' Prescripteur and bénéficiaire rows went with their transactions.
        assert check.session.exec(select(func.count()).select_from(Prescripteur)).one() == 1
        assert check.session.exec(select(func.count()).select_from(Usager)).one() == 2
