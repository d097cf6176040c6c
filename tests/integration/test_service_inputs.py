"""Bad input at the services' boundary (issue 16, item 5), on SQLite and PostgreSQL: every finding of the
review gets a clear French error and changes nothing (a snapshot of every table proves it), and a
hypothesis test gives the use cases of agents and usagers anything at all."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import factories as make
import pytest
import sqlalchemy as sa
from db_snapshot import refused, snapshot
from factories import at_paris
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from rdv_app.auth import rate_limit
from rdv_app.db.models import Absence, Participation
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import limits
from rdv_app.domain.motif_rules import MotifFields
from rdv_app.services.availability import absences, plages
from rdv_app.services.boundary import REFUSED, boundary
from rdv_app.services.errors import DomainError, InvalidInput, NotFound
from rdv_app.services.organisation import admin_lieux, admin_motifs, local_time
from rdv_app.services.organisation.admin_lieux import LieuInput
from rdv_app.services.rdv import lifecycle, rdv_planning
from rdv_app.services.usagers import usager_auth, usager_link, usager_rdvs

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # a Tuesday
MONDAY = date(2026, 12, 7)
MEGABYTE = "x" * 1_000_000
STEP = "/prendre-rdv"
EXAMPLES = 20  # per use case and database: the whole test stays under a minute on each database

pytestmark = pytest.mark.clock(NOW)


@dataclass(frozen=True)
class World:
    org: int
    admin: int
    service: int
    lieu: int
    motif: int  # open online, on site, 30 minutes
    holder: int  # an usager with an account: email, phone
    child: int  # the holder's relative
    rdv: int  # the holder's RDV, planned by the admin
    participation: int
    plage: int
    absence: int

    def access(self) -> usager_link.LinkAccess:
        return usager_link.LinkAccess(rdv_id=self.rdv, participation_id=self.participation, usager_id=self.holder,
                                      expires_at=NOW + timedelta(minutes=10))


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    rate_limit.reset_all()
    yield
    rate_limit.reset_all()


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    s = uow.session
    territory = make.territory(s)
    pmi = make.service(s)
    org = make.organisation(s, territory, phone_number="03 21 00 00 00")
    admin = make.agent(s, "camille.martin@demo.test", "Camille", "Martin", organisation=org, role="admin",
                       services=[pmi])
    lieu = make.lieu(s, org)
    motif = make.motif(s, org, pmi, bookable_by="everyone", min_public_booking_delay=1800,
                       max_public_booking_delay=60 * 86400)
    plage = make.plage(s, admin, org, lieu, [motif], title="Permanence", first_day=MONDAY, start_time=time(9),
               end_time=time(12), recurrence={"every": "week", "on": ["monday", "tuesday", "wednesday",
                                                                     "thursday", "friday"]},
               created_at=NOW - timedelta(days=30))
    holder = make.usager(s, "Jeanne", "Dupont", email="jeanne@exemple.fr", phone_number="06 12 34 56 78",
                         email_verified_at=NOW, created_through="user_sign_up", organisations=[org])
    child = make.usager(s, "Léo", "Dupont", responsible_id=holder.id, created_through="user_relative_creation")
    absence = Absence(agent_id=admin.id, title="Formation", first_day=MONDAY, start_time=time(14),  # type: ignore[arg-type]
                      end_day=MONDAY, end_time=time(17))
    s.add(absence)
    uow.commit()
    rdv = lifecycle.plan_rdv(uow, admin.id, org.id, motif_id=motif.id,  # type: ignore[arg-type]
                             starts_at=at_paris(MONDAY + timedelta(days=7), 10), duration_in_min=30,
                             agent_ids=[admin.id], lieu_id=lieu.id, usager_ids=[holder.id],  # type: ignore[list-item]
                             confirm_warnings=True, now=NOW)
    participation = uow.session.exec(select(Participation.id).where(Participation.rdv_id == rdv)).one()
    uow.rollback()
    return World(org.id, admin.id, pmi.id, lieu.id, motif.id, holder.id, child.id, rdv, participation,  # type: ignore[arg-type]
                 plage.id, absence.id)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- 1 MB strings


def test_a_megabyte_of_rdv_context_is_refused(db_url: str, world: World) -> None:
    error = refused(db_url, lambda uow: lifecycle.plan_rdv(
        uow, world.admin, world.org, motif_id=world.motif, starts_at=at_paris(MONDAY, 9), duration_in_min=30,
        agent_ids=[world.admin], lieu_id=world.lieu, usager_ids=[world.holder], context=MEGABYTE,
        confirm_warnings=True), "Le champ « contexte » est trop long : 2\u00a0000 caractères au plus.")
    assert error.field == "context"


def test_a_megabyte_of_usager_address_is_refused(db_url: str, world: World) -> None:
    error = refused(db_url, lambda uow: usager_auth.update_informations(
        uow, world.holder, first_name="Jeanne", last_name="Dupont", phone_number=None, address=MEGABYTE),
        "Le champ « adresse » est trop long : 300 caractères au plus.")
    assert error.field == "address"


def test_a_megabyte_of_absence_title_is_refused_and_no_notice_is_queued(db_url: str, world: World) -> None:
    error = refused(db_url, lambda uow: absences.create_absence(
        uow, world.admin, world.org, agent_id=world.admin, title=MEGABYTE, first_day=MONDAY, start_time=time(14),
        end_time=time(16)), "Le champ « titre » est trop long : 160 caractères au plus.")
    assert error.field == "title"


def test_the_database_refuses_a_megabyte_written_around_the_services(uow: UnitOfWork, world: World) -> None:
    """The schema holds the same limits: a title written straight into the table does not land either."""
    uow.session.add(Absence(agent_id=world.admin, title=MEGABYTE, first_day=MONDAY, start_time=time(14),
                            end_day=MONDAY, end_time=time(16)))
    with pytest.raises(sa.exc.IntegrityError):
        uow.session.flush()


@boundary
def _absence_around_the_checks(uow: UnitOfWork, agent_id: int, title: Any) -> int:
    """A use case whose text the boundary cannot check (`Any`): the database refuses it."""
    absence = Absence(agent_id=agent_id, title=title, first_day=MONDAY, start_time=time(14), end_day=MONDAY,
                      end_time=time(16))
    uow.session.add(absence)
    uow.session.flush()
    uow.commit()
    return absence.id  # type: ignore[return-value]


def test_what_the_database_refuses_becomes_invalid_input_after_a_rollback(db_url: str, world: World) -> None:
    before = snapshot(db_url)
    with UnitOfWork(db_url) as uow:
        with pytest.raises(InvalidInput) as caught:
            _absence_around_the_checks(uow, world.admin, MEGABYTE)
        assert (caught.value.message, caught.value.field) == (REFUSED, None)
        assert not uow.session.in_transaction()  # rolled back: the unit of work goes on
        assert _absence_around_the_checks(uow, world.admin, "Formation") > world.absence
    assert len(snapshot(db_url)["absence"]) == len(before["absence"]) + 1
    with UnitOfWork(db_url) as uow, pytest.raises(NotFound):
        local_time.time_zone(uow, world.org + 1000)  # a row the query expected


# --------------------------------------------------------------------------- wrong types


def _book(uow: UnitOfWork, world: World, **changes: Any) -> object:
    values: dict[str, Any] = {"motif_id": world.motif, "starts_at": at_paris(MONDAY, 9), "lieu_id": world.lieu,
                              "booking_key": "cle-1", "now": NOW, **changes}
    return lifecycle.book_rdv(uow, world.holder, **values)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("booking_key", 12345, "Le champ « clé de réservation » doit être un texte."),
    ("starts_at", "2026-12-07T09:00:00+01:00", "Le champ « date et heure du rendez-vous » doit être une date et une "
                                               "heure, avec son fuseau horaire."),
    ("starts_at", datetime(2026, 12, 7, 9), "Le champ « date et heure du rendez-vous » doit être une date et une "
                                            "heure, avec son fuseau horaire."),
    ("motif_id", "1", "Le champ « motif » doit être un nombre entier."),
    ("motif_id", 2**40, "Le champ « motif » ne désigne aucun élément."),
])
def test_booking_refuses_values_of_the_wrong_type(db_url: str, world: World, field: str, value: object,
                                                  message: str) -> None:
    error = refused(db_url, lambda uow: _book(uow, world, **{field: value}), message)
    assert error.field == field
    with UnitOfWork(db_url) as uow:
        assert _book(uow, world).created  # type: ignore[attr-defined]


def test_the_link_refuses_a_missing_answer(db_url: str, world: World) -> None:
    error = refused(db_url, lambda uow: usager_link.check_initials(uow, world.access(), None, "192.0.2.1"),  # type: ignore[arg-type]
                    "Le champ « trois premières lettres du nom » est obligatoire.")
    assert error.field == "lettres"


@pytest.mark.parametrize("use_case", ["request_account", "update_informations"])
def test_accounts_refuse_a_phone_number_that_is_not_text(db_url: str, world: World, use_case: str) -> None:
    def call(uow: UnitOfWork) -> object:
        if use_case == "request_account":
            return usager_auth.request_account(uow, first_name="Zoé", last_name="Petit", email="zoe@exemple.fr",
                                               phone_number=612345678, next_path=STEP, ip="192.0.2.2")  # type: ignore[arg-type]
        return usager_auth.update_informations(uow, world.holder, first_name="Jeanne", last_name="Dupont",
                                               phone_number=612345678, address=None)  # type: ignore[arg-type]

    error = refused(db_url, call, "Le champ « téléphone » doit être un texte.")
    assert error.field == "phone_number"


def test_a_relative_of_an_unknown_usager_is_refused(db_url: str, world: World) -> None:
    refused(db_url, lambda uow: usager_auth.add_relative(uow, world.child + 1000, first_name="Léa",
                                                         last_name="Dupont", birth_date=date(2020, 5, 1)),
            "Votre compte est introuvable. Reconnectez-vous.")


def test_a_relative_named_by_a_number_is_refused_under_the_forms_field(db_url: str, world: World) -> None:
    error = refused(db_url, lambda uow: usager_auth.add_relative(uow, world.holder, first_name=42,  # type: ignore[arg-type]
                                                                 last_name="Dupont", birth_date=None),
                    "Le champ « prénom » doit être un texte.")
    assert error.field == "relative_first_name"


@pytest.mark.parametrize("participation", ["1", "abc", 1.0, None])
def test_mes_rendez_vous_refuses_an_id_that_is_not_a_number(db_url: str, world: World, participation: object) -> None:
    error = refused(db_url, lambda uow: usager_rdvs.cancel(uow, world.holder, participation),  # type: ignore[arg-type]
                    "Le champ « rendez-vous » ")
    assert error.field == "participation_id"
    with UnitOfWork(db_url) as uow:
        assert usager_rdvs.cancel(uow, world.holder, world.participation).rdv_id == world.rdv


# --------------------------------------------------------------------------- anything at all


HUGE = ("x" * 1_000_000, "é" * (limits.INSTRUCTIONS + 1), " " * 10_000, "0" * 400, list(range(5_000)), 10**100,
        -(10**100), 2**31, 2**63)
JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=40), st.binary(max_size=8),
    st.sampled_from(HUGE), st.datetimes(), st.datetimes(timezones=st.just(UTC)), st.dates(), st.times(),
    st.lists(st.integers(), max_size=4), st.dictionaries(st.text(max_size=6), st.integers(), max_size=3),
)
TEXT = st.text(max_size=60)
SLOTS = [at_paris(MONDAY + timedelta(days=d), h, m) for d in range(5) for h in (9, 10, 11) for m in (0, 30)]
RECURRENCES = st.one_of(st.none(), st.sampled_from([
    {"every": "week", "on": ["monday", "thursday"]}, {"every": "week", "interval": 2, "until": "2027-03-01"},
    {"every": "month", "day": {"tuesday": 2}}, {"every": "month", "day": {"friday": -1}, "interval": 3},
]), st.dictionaries(st.sampled_from(["every", "on", "interval", "day", "until"]), JUNK, max_size=4))
# The link's wrong answers are counted, and the link locked, by design: the one write of a refusal.
# A wrong answer on an RDV link is counted and goes to the security log, on purpose: nothing else is written.
LINK_ATTEMPTS = {"participation": {"link_failed_attempts", "link_last_failed_at", "link_locked_until"},
                 "security_event": {"*"}}
NOT_FRENCH = re.compile(r"Error|Exception|Traceback|sqlalchemy|psycopg|sqlite|object|NoneType|\bNone\b")


def _anything(data: st.DataObject, values: dict[str, st.SearchStrategy[Any]]) -> dict[str, Any]:
    """A value of each parameter: a plausible one (of the right type, often wrong for the rules), or junk of
    any type or size for up to three of them (in half of the calls)."""
    corrupted = data.draw(st.one_of(st.just(set()), st.sets(st.sampled_from(sorted(values)), min_size=1, max_size=3)),
                          label="corrupted")
    return {name: data.draw(JUNK if name in corrupted else strategy, label=name) for name, strategy in values.items()}


USE_CASES = ("book_rdv", "plan_rdv", "plan", "check_initials", "link_cancel", "request_account", "add_relative",
             "update_informations", "mes_rdv", "mes_rdv_cancel", "create_plage", "update_plage", "create_absence",
             "update_absence", "create_motif", "update_motif", "create_lieu", "update_lieu")


def _operations(world: World) -> dict[str, tuple[Callable[..., Any], dict[str, st.SearchStrategy[Any]]]]:
    usagers = st.sampled_from([world.holder, world.child])
    days = st.one_of(st.sampled_from([MONDAY + timedelta(days=n) for n in range(0, 60, 3)]),
                     st.dates(min_value=NOW.date() - timedelta(days=400), max_value=NOW.date() + timedelta(days=2000)))
    hours = st.one_of(st.sampled_from([time(8), time(9, 30), time(12), time(14), time(17, 45)]),
                      st.times().map(lambda moment: moment.replace(second=0, microsecond=0)))
    ids = st.one_of(st.integers(min_value=1, max_value=2**31 - 1), st.just(world.org))
    agent = {"actor_agent_id": st.just(world.admin), "organisation_id": st.just(world.org)}
    plage = {**agent, "title": TEXT, "agent_id": st.just(world.admin), "lieu_id": st.sampled_from([world.lieu, None]),
             "motif_ids": st.lists(st.sampled_from([world.motif, world.motif + 1]), max_size=2), "first_day": days,
             "start_time": hours, "end_time": hours, "recurrence": RECURRENCES, "confirm_warnings": st.booleans()}
    absence = {**agent, "agent_id": st.just(world.admin), "title": TEXT, "first_day": days, "start_time": hours,
               "end_day": st.one_of(st.none(), days), "end_time": hours, "recurrence": RECURRENCES}
    motif = st.builds(MotifFields, name=TEXT, service_id=st.sampled_from([world.service, world.service + 1]),
                      color=st.sampled_from(["#123456", "bleu", ""]), default_duration_in_min=st.integers(-5, 800),
                      location_type=st.sampled_from(["public_office", "phone", "ailleurs"]),
                      bookable_by=st.sampled_from(["everyone", "agents"]), instruction_for_rdv=st.none() | TEXT,
                      restriction_for_rdv=st.none() | TEXT, custom_cancel_warning_message=st.none() | TEXT)
    lieu = st.builds(LieuInput, name=TEXT, address=TEXT, phone_number=st.sampled_from(["", "03 21 00 00 00", "12"]),
                     latitude=st.sampled_from(["", "50,29", "nan", "91"]), longitude=st.sampled_from(["", "2.78"]))
    account = {"first_name": TEXT, "last_name": TEXT, "phone_number": st.none() | TEXT}
    return {
        "book_rdv": (lifecycle.book_rdv, {
            "usager_id": usagers, "motif_id": st.just(world.motif), "starts_at": st.sampled_from(SLOTS),
            "lieu_id": st.just(world.lieu), "booking_key": TEXT, "for_usager_id": st.none() | usagers,
            "accepted_conditions": st.booleans(), "now": st.just(NOW)}),
        "plan_rdv": (lifecycle.plan_rdv, {
            **agent, "motif_id": st.just(world.motif), "starts_at": st.sampled_from(SLOTS),
            "duration_in_min": st.integers(-10, 2000), "agent_ids": st.lists(st.just(world.admin), max_size=2),
            "lieu_id": st.just(world.lieu), "usager_ids": st.lists(usagers, max_size=2),
            "notify": st.dictionaries(usagers, st.tuples(st.booleans(), st.booleans()), max_size=2),
            "context": st.none() | TEXT, "confirm_warnings": st.booleans()}),
        "plan": (rdv_planning.plan, {
            **agent, "motif_id": st.just(world.motif), "day": days, "start_time": hours,
            "duration_in_min": st.none() | st.integers(-10, 2000), "agent_ids": st.lists(st.just(world.admin), max_size=2),
            "lieu_id": st.just(world.lieu), "usager_ids": st.lists(usagers, max_size=2), "notify": st.just({}),
            "confirm_warnings": st.booleans()}),
        "check_initials": (usager_link.check_initials, {
            "access": st.just(world.access()), "answer": st.sampled_from(["DUP", "dup", "xyz", ""]) | TEXT,
            "ip": st.sampled_from(["192.0.2.1", "2001:db8::1"])}),
        "link_cancel": (usager_link.cancel, {"access": st.just(world.access()), "actor_usager_id": st.none() | usagers}),
        "request_account": (usager_auth.request_account, {
            **account, "email": st.emails() | TEXT, "next_path": st.sampled_from([STEP, "//ailleurs", ""]) | TEXT,
            "ip": st.just("192.0.2.3")}),
        "add_relative": (usager_auth.add_relative, {
            "usager_id": usagers, "first_name": TEXT, "last_name": TEXT, "birth_date": st.none() | days}),
        "update_informations": (usager_auth.update_informations, {
            "usager_id": usagers, **account, "address": st.none() | TEXT, "phone_required": st.booleans(),
            "address_required": st.booleans()}),
        "mes_rdv": (usager_rdvs.list_rdvs, {"usager_id": usagers}),
        "mes_rdv_cancel": (usager_rdvs.cancel, {
            "usager_id": usagers, "participation_id": st.one_of(st.just(world.participation), ids)}),
        "create_plage": (plages.create_plage, plage),
        "update_plage": (plages.update_plage, {**plage, "plage_id": st.one_of(st.just(world.plage), ids)}),
        "create_absence": (absences.create_absence, absence),
        "update_absence": (absences.update_absence, {**absence, "absence_id": st.one_of(st.just(world.absence), ids)}),
        "create_motif": (admin_motifs.create_motif, {**agent, "data": motif}),
        "update_motif": (admin_motifs.update_motif, {**agent, "motif_id": st.one_of(st.just(world.motif), ids),
                                                     "data": motif}),
        "create_lieu": (admin_lieux.create_lieu, {**agent, "data": lieu}),
        "update_lieu": (admin_lieux.update_lieu, {**agent, "lieu_id": st.one_of(st.just(world.lieu), ids),
                                                  "data": lieu}),
    }


@pytest.fixture
def last_seen() -> dict[str, Any]:
    """The database as the previous example of a hypothesis test left it (examples share fixtures)."""
    return {}


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(data=st.data())
@pytest.mark.parametrize("name", USE_CASES)
def test_any_input_succeeds_or_gets_a_french_refusal_that_writes_nothing(db_url: str, world: World, name: str,
                                                                        last_seen: dict[str, Any],
                                                                        data: st.DataObject) -> None:
    """Strings of any kind and size, integers of any size, None and values of the wrong type, given to the
    use cases of agents and usagers: each call succeeds, or raises the project's DomainError with a French
    message and leaves the database as it was."""
    use_case, values = _operations(world)[name]
    arguments = _anything(data, values)
    rate_limit.reset_all()
    ignored = LINK_ATTEMPTS if name == "check_initials" else {}
    before = last_seen.get("snapshot") or snapshot(db_url, ignored)
    refusal: DomainError | None = None
    try:
        with UnitOfWork(db_url) as uow:
            use_case(uow, **arguments)
    except DomainError as error:
        refusal = error
    finally:
        after = last_seen["snapshot"] = snapshot(db_url, ignored)
    event(f"{name}: {type(refusal).__name__ if refusal else 'done'}")  # --hypothesis-show-statistics
    if refusal is not None:
        assert refusal.message.strip() and not NOT_FRENCH.search(refusal.message), refusal.message
        assert after == before
