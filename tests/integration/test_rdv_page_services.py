"""What an RDV's page reads and writes, at the service level, on SQLite and PostgreSQL: where the RDV takes
place, relatives with their responsible person, how messages reach each participant, the receipts of
the notifications actually delivered (real worker, real SMTP on loopback), the edit form in the
organisation's local time, and the tenancy matrix of every entry point of the page."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import factories as make
import pytest
import sqlalchemy as sa
from factories import at_paris
from fakes.smtp_server import SmtpServer
from sqlmodel import SQLModel, select

from rdv_app.db.models import (
    AgentRole,
    Participation,
    Rdv,
    RdvAgent,
    UsagerProfile,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.notify.sms import ConsoleSmsProvider
from rdv_app.notify.worker import Worker
from rdv_app.services.errors import DomainError, FieldErrors, NeedsConfirmation, NotFound, PermissionDenied
from rdv_app.services.rdv import lifecycle, queries, rdv_follow

MONDAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
# Built on fixed days: the clock starts at NOW for every test here, whatever the day they run.
pytestmark = pytest.mark.clock(NOW)


@dataclass
class World:
    org: int
    other_org: int
    admin: int
    basic_pmi: int
    colleague_pmi: int
    basic_social: int
    secretary: int
    outsider: int  # admin of the other organisation only
    both: int  # basic PMI agent of both organisations
    motif: int
    motif_phone: int
    motif_home: int
    motif_visio: int
    motif_other: int
    lieu: int
    lieu_closed: int
    lieu_other: int
    marie: int  # mobile and email
    leo: int  # Marie's son, no contact of his own
    paul: int  # a landline only
    lena: int  # of the other organisation


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    s = uow.session
    territory = make.territory(s)
    pmi, social, secretariat = make.pmi_social_secretariat(s)
    org = make.organisation(s, territory)
    other = make.organisation(s, territory, "MDS Lens", "mds-lens")
    people = {key: make.agent(s, f"{key}@demo.test", first, last, organisation=home, role=role, services=[service])
              for key, first, last, home, role, service in [
                  ("admin", "Camille", "Martin", org, "admin", pmi), ("basic_pmi", "Julien", "Petit", org, None, pmi),
                  ("colleague_pmi", "Inès", "Roux", org, None, pmi),
                  ("basic_social", "Karim", "Haddad", org, None, social),
                  ("secretary", "Sofia", "Leroy", org, None, secretariat),
                  ("outsider", "Marc", "Blanc", other, "admin", pmi), ("both", "Nora", "Vidal", other, None, pmi)]}
    ids = {key: agent.id for key, agent in people.items()}
    s.add(AgentRole(agent_id=ids["both"], organisation_id=org.id))
    lieux = [make.lieu(s, org, phone_number="03 21 00 00 00"),
             make.lieu(s, org, "Ancien centre", "3 rue C", availability="disabled"),
             make.lieu(s, other, "MDS Lens", "4 rue D, 62300 Lens")]
    motifs = [make.motif(s, org, pmi, color="#aa3377"), make.motif(s, org, pmi, "Rappel", location_type="phone"),
              make.motif(s, org, pmi, "Visite", location_type="home"),
              make.motif(s, org, pmi, "Entretien", location_type="visio"),
              make.motif(s, other, pmi, "Consultation Lens")]
    marie = make.usager(s, "Marie", "Lefort", email="marie@example.fr", phone_number="06 12 34 56 78",
                        address="5 rue des Lilas, 62000 Arras", address_details="2e étage")
    paul = make.usager(s, "Paul", "Durand", phone_number="03 21 45 67 89")
    lena = make.usager(s, "Léna", "Morel", email="lena@example.fr")
    leo = make.usager(s, "Léo", "Lefort", responsible_id=marie.id)
    s.add_all([UsagerProfile(organisation_id=org.id, usager_id=u.id) for u in (marie, leo, paul)]
              + [UsagerProfile(organisation_id=other.id, usager_id=lena.id)])
    uow.commit()
    return World(org.id, other.id, ids["admin"], ids["basic_pmi"], ids["colleague_pmi"], ids["basic_social"],
                 ids["secretary"], ids["outsider"], ids["both"], *(m.id for m in motifs),
                 *(lieu.id for lieu in lieux), marie.id, leo.id, paul.id, lena.id)


def _plan(uow: UnitOfWork, world: World, **overrides: Any) -> int:
    values: dict[str, Any] = dict(motif_id=world.motif, starts_at=at_paris(MONDAY, 9), duration_in_min=30,
                                  agent_ids=[world.basic_pmi], lieu_id=world.lieu, usager_ids=[world.marie],
                                  confirm_warnings=True, now=NOW)
    values.update(overrides)
    return lifecycle.plan_rdv(uow, world.admin, world.org, **values)


def _foreign_rdv(uow: UnitOfWork, world: World) -> int:
    rdv = Rdv(organisation_id=world.other_org, motif_id=world.motif_other, lieu_id=world.lieu_other,
              starts_at=at_paris(MONDAY, 9), ends_at=at_paris(MONDAY, 9, 30))
    uow.session.add(rdv)
    uow.session.flush()
    uow.session.add_all([RdvAgent(rdv_id=rdv.id, agent_id=world.both),
                         Participation(rdv_id=rdv.id, usager_id=world.lena)])
    uow.commit()
    return rdv.id  # type: ignore[return-value]


def _snapshot(uow: UnitOfWork) -> dict[str, list[tuple[str, ...]]]:
    tables = ("rdv", "rdv_agent", "participation", "audit_log", "outbox_message", "receipt")
    return {table.name: sorted(tuple(map(str, row)) for row in uow.session.execute(sa.select(table)))
            for table in SQLModel.metadata.sorted_tables if table.name in tables}


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


# --------------------------------------------------------------------------- details


def test_details_tell_where_who_and_how_each_participant_is_reached(uow: UnitOfWork, world: World) -> None:
    rdv_id = _plan(uow, world, usager_ids=[world.marie, world.leo, world.paul], duration_in_min=45)
    details = queries.get_rdv(uow, world.admin, world.org, rdv_id, now=NOW)
    assert (details.organisation_name, details.time, details.end_time) == ("PMI Arras", "09h00", "09h45")
    assert details.where == ("Centre Arras", "1 rue A, 62000 Arras", "Téléphone du lieu : 03 21 00 00 00")
    assert details.created_when == "vendredi 4 décembre 2026 à 13h00"  # NOW, in Paris
    rows = {p.name: (p.responsible_name, p.reaches) for p in details.participants}
    assert rows == {
        "Paul DURAND": (None, ("Pas d'adresse email", "Numéro non mobile : pas de SMS")),
        "Léo LEFORT": ("Marie LEFORT", ("Email à marie@example.fr", "SMS au 06 12 34 56 78")),
        "Marie LEFORT": (None, ("Email à marie@example.fr", "SMS au 06 12 34 56 78")),
    }


def test_where_for_phone_home_and_visio_rdvs(uow: UnitOfWork, world: World) -> None:
    phone = _plan(uow, world, motif_id=world.motif_phone, lieu_id=None, usager_ids=[world.paul, world.leo])
    home = _plan(uow, world, motif_id=world.motif_home, lieu_id=None, usager_ids=[world.leo],
                 starts_at=at_paris(MONDAY, 14))
    visio = _plan(uow, world, motif_id=world.motif_visio, lieu_id=None, starts_at=at_paris(MONDAY, 16))
    assert queries.get_rdv(uow, world.admin, world.org, phone, now=NOW).where == (
        "Par téléphone", "Numéros des participants : Paul DURAND : 03 21 45 67 89")
    # Léo has no address: the RDV takes place at his responsible's.
    assert queries.get_rdv(uow, world.admin, world.org, home, now=NOW).where == (
        "À domicile", "5 rue des Lilas, 62000 Arras 2e étage")
    details = queries.get_rdv(uow, world.admin, world.org, visio, now=NOW)
    assert details.where == ("Par visioconférence",
                             queries.VISIO_BASE_URL + details.uuid.replace("-", ""))


# --------------------------------------------------------------------------- receipts


def test_receipts_of_the_notifications_delivered_for_an_rdv(uow: UnitOfWork, world: World, db_url: str,
                                                             smtp: SmtpServer) -> None:
    smtp.refuse["marie@example.fr"] = "550 5.1.1 Boîte inconnue"
    rdv_id = _plan(uow, world)
    other = _plan(uow, world, usager_ids=[world.paul], starts_at=at_paris(MONDAY, 11))
    assert rdv_follow.list_receipts(uow, world.admin, world.org, rdv_id) == []
    worker = Worker(db_url, sms=ConsoleSmsProvider(), smtp=smtp.settings())
    assert worker.run_once() > 0
    uow.rollback()  # end the read transaction opened before the worker wrote

    receipts = rdv_follow.list_receipts(uow, world.basic_pmi, world.org, rdv_id)
    seen = sorted((r.channel, r.event, r.result, r.failed, r.recipient, r.destination, r.sms_count)
                  for r in receipts)
    assert seen == [
        ("Email", "Confirmation du RDV", "Envoyé", False, "Julien Petit", "basic_pmi@demo.test", None),
        ("Email", "Confirmation du RDV", "Échec", True, "Marie LEFORT", "marie@example.fr", None),
        ("SMS", "Confirmation du RDV", "Traité", False, "Marie LEFORT", "+33612345678", 1),
    ]
    failed = next(r for r in receipts if r.failed)
    assert failed.error and "550" in failed.error
    assert all(r.when.startswith(("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"))
               for r in receipts)
    # Newest first, and only this RDV's: the other RDV's agent email is not listed here.
    assert [r.created_at for r in receipts] == sorted((r.created_at for r in receipts), reverse=True)
    assert {r.recipient for r in rdv_follow.list_receipts(uow, world.admin, world.org, other)} == {"Julien Petit"}


# --------------------------------------------------------------------------- editing


def test_edit_reads_the_day_and_time_in_the_organisations_zone(uow: UnitOfWork, world: World) -> None:
    rdv_id = _plan(uow, world)
    summer = date(2027, 6, 14)
    change = rdv_follow.edit_rdv(uow, world.admin, world.org, rdv_id, day=summer, start_time=time(10, 15),
                                 duration_in_min=20, lieu_id=world.lieu, agent_ids=[world.basic_pmi],
                                 confirm_warnings=True, now=NOW)
    assert change is not None and change.starts_at == datetime(2027, 6, 14, 8, 15, tzinfo=UTC)
    details = queries.get_rdv(uow, world.admin, world.org, rdv_id, now=NOW)
    assert (details.day, details.time, details.end_time) == ("lundi 14 juin 2027", "10h15", "10h35")


@pytest.mark.parametrize(("day", "start", "duration", "field"), [
    (None, time(10), 30, "day"),
    (MONDAY, None, 30, "start_time"),
    (date(2027, 3, 28), time(2, 30), 30, "start_time"),  # skipped by the change to summer time
    (MONDAY, time(10), "trente", "duration_in_min"),
    (MONDAY, time(10), 0, "duration_in_min"),
])
def test_edit_errors_name_their_field_and_change_nothing(uow: UnitOfWork, world: World, day: date | None,
                                                         start: time | None, duration: Any, field: str) -> None:
    rdv_id = _plan(uow, world)
    before = _snapshot(uow)
    with pytest.raises(DomainError) as caught:
        rdv_follow.edit_rdv(uow, world.admin, world.org, rdv_id, day=day, start_time=start, duration_in_min=duration,
                            lieu_id=world.lieu, agent_ids=[world.basic_pmi], confirm_warnings=True, now=NOW)
    assert caught.value.field == field
    assert caught.value.message
    assert _snapshot(uow) == before



def test_an_edit_form_emptied_names_every_required_field_and_changes_nothing(uow: UnitOfWork, world: World) -> None:
    rdv_id = _plan(uow, world)
    before = _snapshot(uow)
    with pytest.raises(FieldErrors) as caught:
        rdv_follow.edit_rdv(uow, world.admin, world.org, rdv_id, day=None, start_time=None, duration_in_min=None,
                            lieu_id=world.lieu, agent_ids=[], confirm_warnings=True, now=NOW)
    assert caught.value.errors == {"day": "Indiquez la date du rendez-vous.",
                                   "start_time": "Indiquez l'heure de début.",
                                   "duration_in_min": "Indiquez la durée du rendez-vous, en minutes.",
                                   "agent_ids": "Choisissez au moins un agent."}
    assert _snapshot(uow) == before

def test_edit_warnings_wait_for_confirmation(uow: UnitOfWork, world: World) -> None:
    rdv_id = _plan(uow, world)
    _plan(uow, world, usager_ids=[world.paul], starts_at=at_paris(MONDAY, 10))
    before = _snapshot(uow)
    with pytest.raises(NeedsConfirmation) as caught:
        rdv_follow.edit_rdv(uow, world.admin, world.org, rdv_id, day=MONDAY, start_time=time(10),
                            duration_in_min=30, lieu_id=world.lieu, agent_ids=[world.basic_pmi], now=NOW)
    assert "Julien Petit a déjà un RDV sur ce créneau." in caught.value.warnings
    assert _snapshot(uow) == before
    rdv_follow.edit_rdv(uow, world.admin, world.org, rdv_id, day=MONDAY, start_time=time(10), duration_in_min=30,
                        lieu_id=world.lieu, agent_ids=[world.basic_pmi], confirm_warnings=True, now=NOW)
    assert queries.get_rdv(uow, world.admin, world.org, rdv_id, now=NOW).time == "10h00"


def test_edit_choices_follow_the_rights_and_keep_what_the_rdv_has(uow: UnitOfWork, world: World) -> None:
    rdv_id = _plan(uow, world, agent_ids=[world.basic_pmi, world.basic_social])
    uow.session.execute(sa.update(Rdv.__table__).where(Rdv.__table__.c.id == rdv_id)
                        .values(lieu_id=world.lieu_closed))
    uow.commit()
    choices = rdv_follow.edit_choices(uow, world.basic_pmi, world.org, rdv_id)
    # A basic agent plans for the colleagues of their service; Karim (social) stays, being on the RDV.
    assert [c.label for c in choices.agents] == ["Karim Haddad", "Camille Martin", "Julien Petit", "Inès Roux",
                                                 "Nora Vidal"]
    assert [c.label for c in choices.lieux] == ["Ancien centre", "Centre Arras"]
    admin = rdv_follow.edit_choices(uow, world.admin, world.org, rdv_id)
    assert "Sofia Leroy" in [c.label for c in admin.agents] and "Marc Blanc" not in [c.label for c in admin.agents]
    phone = _plan(uow, world, motif_id=world.motif_phone, lieu_id=None, starts_at=at_paris(MONDAY, 15))
    assert rdv_follow.edit_choices(uow, world.admin, world.org, phone).lieux == []


# --------------------------------------------------------------------------- links and tenancy


def test_a_link_opens_the_rdv_in_its_own_organisation(uow: UnitOfWork, world: World) -> None:
    mine = _plan(uow, world)
    foreign = _foreign_rdv(uow, world)
    assert rdv_follow.rdv_organisation(uow, world.both, mine) == world.org
    assert rdv_follow.rdv_organisation(uow, world.both, foreign) == world.other_org
    for actor, rdv_id in ((world.admin, foreign), (world.outsider, mine), (world.admin, 987654)):
        with pytest.raises(NotFound) as caught:
            rdv_follow.rdv_organisation(uow, actor, rdv_id)
        assert caught.value.message == rdv_follow.NOT_FOUND  # the same words whether it exists or not


def _operations(world: World) -> dict[str, Callable[[UnitOfWork, int, int, int], Any]]:
    """Every entry point of the RDV page: (uow, actor, organisation, rdv) -> result."""
    return {
        "open": lambda uow, actor, org, rdv_id: queries.get_rdv(uow, actor, org, rdv_id, now=NOW),
        "receipts": lambda uow, actor, org, rdv_id: rdv_follow.list_receipts(uow, actor, org, rdv_id),
        "edit choices": lambda uow, actor, org, rdv_id: rdv_follow.edit_choices(uow, actor, org, rdv_id),
        "edit": lambda uow, actor, org, rdv_id: rdv_follow.edit_rdv(
            uow, actor, org, rdv_id, day=MONDAY, start_time=time(11), duration_in_min=30, lieu_id=world.lieu,
            agent_ids=[world.basic_pmi], confirm_warnings=True, now=NOW),
        "status": lambda uow, actor, org, rdv_id: lifecycle.change_status(uow, actor, org, rdv_id, "seen",
                                                                          confirm_warnings=True, now=NOW),
        "participant status": lambda uow, actor, org, rdv_id: lifecycle.change_participation_status(
            uow, actor, org, rdv_id, world.marie, "excused", now=NOW),
        "cancel": lambda uow, actor, org, rdv_id: lifecycle.cancel_rdv(uow, actor, org, rdv_id, now=NOW),
    }


OPERATIONS = ["open", "receipts", "edit choices", "edit", "status", "participant status", "cancel"]
# Who asks, through which of their organisations, and what they get.
REFUSED: dict[str, tuple[str, str, type[Exception]]] = {
    "agent of another organisation, through their own": ("outsider", "other_org", NotFound),
    "agent of another organisation, through this one": ("outsider", "org", PermissionDenied),
    "basic agent outside the service": ("basic_social", "org", PermissionDenied),
}
ALLOWED = ["basic_pmi", "colleague_pmi", "secretary", "admin"]


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("who", list(REFUSED))
def test_tenancy_matrix_refusals_change_nothing(uow: UnitOfWork, world: World, who: str, operation: str) -> None:
    rdv_id = _plan(uow, world)
    actor, organisation, error = REFUSED[who]
    before = _snapshot(uow)
    with pytest.raises(error):
        _operations(world)[operation](uow, getattr(world, actor), getattr(world, organisation), rdv_id)
    assert _snapshot(uow) == before


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("who", ALLOWED)
def test_tenancy_matrix_secretaries_admins_and_the_service_may(uow: UnitOfWork, world: World, who: str,
                                                              operation: str) -> None:
    rdv_id = _plan(uow, world)
    _operations(world)[operation](uow, getattr(world, who), world.org, rdv_id)
    row = uow.session.execute(sa.select(Rdv.__table__).where(Rdv.__table__.c.id == rdv_id)).one()
    participation = uow.session.exec(select(Participation.status).where(Participation.rdv_id == rdv_id)).one()
    expected = {"edit": ("unknown", "unknown", at_paris(MONDAY, 11)), "status": ("seen", "seen", at_paris(MONDAY, 9)),
                "participant status": ("excused", "excused", at_paris(MONDAY, 9)),
                "cancel": ("revoked", "revoked", at_paris(MONDAY, 9))}
    assert (row.status, participation, row.starts_at.replace(tzinfo=UTC)) == expected.get(
        operation, ("unknown", "unknown", at_paris(MONDAY, 9)))


@pytest.mark.parametrize("operation", OPERATIONS)
def test_another_organisations_rdv_id_is_not_found_through_ones_own(uow: UnitOfWork, world: World,
                                                                   operation: str) -> None:
    foreign = _foreign_rdv(uow, world)
    before = _snapshot(uow)
    with pytest.raises(NotFound):
        _operations(world)[operation](uow, world.admin, world.org, foreign)
    assert _snapshot(uow) == before


STALE_CHANGES: dict[str, Callable[[UnitOfWork, World, int, str], Any]] = {
    "edit": lambda uow, w, rdv_id, version: rdv_follow.edit_rdv(
        uow, w.admin, w.org, rdv_id, day=MONDAY, start_time=time(11), duration_in_min=30, lieu_id=w.lieu,
        agent_ids=[w.basic_pmi, w.colleague_pmi], confirm_warnings=True, expected_version=version, now=NOW),
    "status": lambda uow, w, rdv_id, version: lifecycle.change_status(
        uow, w.admin, w.org, rdv_id, "excused", expected_version=version, now=NOW),
    "participant status": lambda uow, w, rdv_id, version: lifecycle.change_participation_status(
        uow, w.admin, w.org, rdv_id, w.marie, "excused", expected_version=version, now=NOW),
    "cancel": lambda uow, w, rdv_id, version: lifecycle.cancel_rdv(
        uow, w.admin, w.org, rdv_id, expected_version=version, now=NOW),
}


@pytest.mark.parametrize("change", list(STALE_CHANGES))
def test_a_change_from_an_rdv_page_loaded_before_a_colleagues_is_refused_and_changes_nothing(
        uow: UnitOfWork, world: World, change: str) -> None:
    """Issue 25: two agents show the same RDV; a colleague adds an agent to it; the first agent's change,
    made on the RDV as their page loaded it, is refused instead of undoing or ignoring what the colleague
    did; reloaded, it goes through."""
    w = world
    rdv_id = _plan(uow, w, usager_ids=[w.marie, w.paul])
    loaded = queries.get_rdv(uow, w.admin, w.org, rdv_id, now=NOW).version
    rdv_follow.edit_rdv(uow, w.secretary, w.org, rdv_id, day=MONDAY, start_time=time(9), duration_in_min=30,
                        lieu_id=w.lieu, agent_ids=[w.basic_pmi, w.colleague_pmi], confirm_warnings=True, now=NOW)
    before = _snapshot(uow)

    with pytest.raises(DomainError) as refused:
        STALE_CHANGES[change](uow, w, rdv_id, loaded)

    assert refused.value.message == "Ces informations ont été modifiées entre-temps. Rechargez la page."
    assert _snapshot(uow) == before
    reloaded = queries.get_rdv(uow, w.admin, w.org, rdv_id, now=NOW)
    assert [a.name for a in reloaded.agents] == ["Julien Petit", "Inès Roux"]
    STALE_CHANGES[change](uow, w, rdv_id, reloaded.version)
    after = queries.get_rdv(uow, w.admin, w.org, rdv_id, now=NOW)
    assert after.version != reloaded.version
    assert [a.name for a in after.agents] == ["Julien Petit", "Inès Roux"]


def test_an_usager_who_cancels_meanwhile_makes_the_agents_page_stale(uow: UnitOfWork, world: World) -> None:
    """The page's version is that of what it shows: Marie cancels from her SMS link while the agent's page
    shows her as coming; the agent's change of her status, made on that page, is refused and her
    cancellation stands."""
    w = world
    rdv_id = _plan(uow, w, usager_ids=[w.marie, w.paul])
    loaded = queries.get_rdv(uow, w.admin, w.org, rdv_id, now=NOW).version
    lifecycle.cancel_by_usager(uow, rdv_id, w.marie, actor_usager_id=w.marie, now=NOW)
    before = _snapshot(uow)

    with pytest.raises(DomainError) as refused:
        lifecycle.change_participation_status(uow, w.admin, w.org, rdv_id, w.marie, "unknown",
                                              expected_version=loaded, now=NOW)

    assert refused.value.message == "Ces informations ont été modifiées entre-temps. Rechargez la page."
    assert _snapshot(uow) == before
    marie = next(p for p in queries.get_rdv(uow, w.admin, w.org, rdv_id, now=NOW).participants
                 if p.usager_id == w.marie)
    assert marie.status == "excused"
