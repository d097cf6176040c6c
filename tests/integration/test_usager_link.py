"""The usager's "Infos et annulation" link (issue 7), on SQLite and PostgreSQL: the service, the HTTP
routes (Starlette's test client on the real routes and database), and the worker delivering the
cancellation to a loopback SMTP server and the loopback OVH API."""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
import sqlalchemy as sa
import time_machine
from fakes.ovh_server import FakeOvh
from fakes.smtp_server import SmtpServer
from sqlmodel import SQLModel, col, select
from starlette.applications import Starlette
from starlette.exceptions import StarletteDeprecationWarning

from rdv_app import routes
from rdv_app.api import client_address
from rdv_app.api.http import security_headers
from rdv_app.api.usager_link import ROUTES
from rdv_app.auth import rate_limit
from rdv_app.auth.tokens import hash_token
from rdv_app.config import Settings, settings
from rdv_app.db.engine import get_engine
from rdv_app.db.models import (
    Agent,
    AgentRole,
    AgentService,
    AuditLog,
    Lieu,
    Motif,
    Organisation,
    OutboxMessage,
    Participation,
    Rdv,
    RdvAgent,
    SecurityEvent,
    Service,
    Territory,
    Usager,
    UsagerProfile,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, datefmt
from rdv_app.domain.enums import Channel, NotificationEvent
from rdv_app.notify.sms import OvhSmsProvider
from rdv_app.notify.worker import Worker
from rdv_app.services.errors import DomainError, NotFound
from rdv_app.services.rdv import lifecycle
from rdv_app.services.usagers import usager_link as service

with warnings.catch_warnings():
    # Starlette would rather use httpx2; the project pins httpx, with which its test client works the same.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
PARIS = ZoneInfo("Europe/Paris")
KEY = "test-key"


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    rate_limit.reset_all()
    yield
    rate_limit.reset_all()


def _soon(days: int, hh: int = 10, zone: ZoneInfo = PARIS) -> datetime:
    day = datetime.now(zone).date() + timedelta(days=days)
    return datetime.combine(day, time(hh, 0), zone).astimezone(UTC)


@dataclass
class World:
    org: int
    loud: int  # agent level "all"
    colleague: int  # level "others"
    quiet: int  # level "none"
    motif: int
    lieu: int
    jeanne: int  # email and mobile


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    s = uow.session
    territory = Territory(departement_number="62", name="Pas-de-Calais")
    pmi = Service(name="Protection maternelle et infantile", short_name="PMI")
    s.add_all([territory, pmi])
    s.flush()
    org = Organisation(territory_id=territory.id, name="PMI Arras", slug="pmi-arras", phone_number="03 21 00 00 00",
                       email="pmi.arras@demo.test", timezone="Europe/Paris")
    agents = [Agent(email="loud@demo.test", first_name="Julien", last_name="Petit", rdv_notifications_level="all"),
              Agent(email="colleague@demo.test", first_name="Inès", last_name="Roux"),
              Agent(email="quiet@demo.test", first_name="Karim", last_name="Haddad", rdv_notifications_level="none")]
    s.add_all([org, *agents])
    s.flush()
    for agent in agents:
        s.add_all([AgentRole(agent_id=agent.id, organisation_id=org.id, access_level="admin"),
                   AgentService(agent_id=agent.id, service_id=pmi.id)])
    lieu = Lieu(organisation_id=org.id, name="Centre Arras", address="1 rue A, 62000 Arras",
                latitude=50.29, longitude=2.78)
    motif = Motif(organisation_id=org.id, service_id=pmi.id, name="Consultation",
                  instruction_for_rdv="Apportez le carnet de santé.",
                  custom_cancel_warning_message="Pensez à prévenir la puéricultrice.")
    jeanne = Usager(first_name="Élodie", last_name="De La Fontaine", email="jeanne@example.fr",
                    phone_number="06 12 34 56 78")
    s.add_all([lieu, motif, jeanne])
    s.flush()
    s.add(UsagerProfile(organisation_id=org.id, usager_id=jeanne.id))
    uow.commit()
    return World(org.id, agents[0].id, agents[1].id, agents[2].id, motif.id, lieu.id, jeanne.id)  # type: ignore[arg-type]


def _plan(uow: UnitOfWork, world: World, starts_at: datetime | None = None) -> int:
    return lifecycle.plan_rdv(uow, world.colleague, world.org, motif_id=world.motif, starts_at=starts_at or _soon(3),
                         duration_in_min=30, agent_ids=[world.loud, world.colleague, world.quiet],
                         lieu_id=world.lieu, usager_ids=[world.jeanne], confirm_warnings=True)


def _sms_token(uow: UnitOfWork, rdv_id: int) -> str:
    """The token of the latest SMS queued for the RDV, as the usager reads it."""
    row = uow.session.exec(select(OutboxMessage).where(OutboxMessage.rdv_id == rdv_id,
                                                       OutboxMessage.channel == Channel.SMS.value)
                           .order_by(OutboxMessage.id.desc())).first()  # type: ignore[union-attr]
    assert row is not None
    match = re.search(rf"{re.escape(settings.public_url)}/r/{rdv_id}/([A-Za-z0-9_-]+)", row.payload["text"])
    assert match is not None, row.payload["text"]
    return match.group(1)


def _access(uow: UnitOfWork, rdv_id: int, token: str, **kwargs: Any) -> service.LinkAccess:
    cookie = service.open_link(uow, rdv_id, token, "10.0.0.1", key=KEY, **kwargs)
    assert cookie is not None
    access = service.read_access(rdv_id, cookie, key=KEY, now=kwargs.get("now"))
    assert access is not None
    return access


def _dump(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order."""
    engine = get_engine(url)
    with engine.connect() as conn:
        return {table.name: sorted(tuple(str(v) for v in row) for row in conn.execute(sa.select(table)))
                for table in SQLModel.metadata.sorted_tables}


# --------------------------------------------------------------------------- the link


def test_the_latest_token_opens_a_ten_minute_access_to_its_rdv_only(uow: UnitOfWork, world: World) -> None:
    rdv_id = _plan(uow, world)
    other_rdv = _plan(uow, world, _soon(4))
    token = _sms_token(uow, rdv_id)
    now = datetime.now(UTC)
    access = _access(uow, rdv_id, token, now=now)
    assert (access.rdv_id, access.usager_id) == (rdv_id, world.jeanne)
    assert access.expires_at == datetime.fromtimestamp(int((now + timedelta(minutes=10)).timestamp()), UTC)
    cookie = service.open_link(uow, rdv_id, token, "10.0.0.1", key=KEY, now=now)
    assert service.read_access(rdv_id, cookie, key=KEY, now=now + timedelta(minutes=9, seconds=59)) is not None
    assert service.read_access(rdv_id, cookie, key=KEY, now=now + timedelta(minutes=10, seconds=1)) is None
    assert service.read_access(other_rdv, cookie, key=KEY, now=now) is None
    assert service.read_access(rdv_id, cookie, key="another-key", now=now) is None
    # The right token with another RDV's id, a wrong token, an empty one.
    assert service.open_link(uow, other_rdv, token, "10.0.0.1", key=KEY) is None
    assert service.open_link(uow, rdv_id, token[:-1] + ("A" if token[-1] != "A" else "B"), "10.0.0.1") is None
    assert service.open_link(uow, rdv_id, "", "10.0.0.1") is None


def test_the_token_of_an_earlier_notification_no_longer_works(uow: UnitOfWork, world: World) -> None:
    rdv_id = _plan(uow, world)
    first = _sms_token(uow, rdv_id)
    lifecycle.update_rdv(uow, world.colleague, world.org, rdv_id, starts_at=_soon(5), duration_in_min=30,
                    lieu_id=world.lieu, agent_ids=[world.loud, world.colleague, world.quiet], confirm_warnings=True)
    second = _sms_token(uow, rdv_id)
    assert second != first
    assert service.open_link(uow, rdv_id, first, "10.0.0.1", key=KEY) is None
    assert service.open_link(uow, rdv_id, second, "10.0.0.1", key=KEY) is not None


def test_a_token_expires_one_day_after_the_rdv(uow: UnitOfWork, world: World) -> None:
    starts_at = _soon(3)
    rdv_id = _plan(uow, world, starts_at)
    token = _sms_token(uow, rdv_id)
    ends_at = starts_at + timedelta(minutes=30)
    assert service.open_link(uow, rdv_id, token, "10.0.0.1", key=KEY, now=ends_at + timedelta(hours=23)) is not None
    assert service.open_link(uow, rdv_id, token, "10.0.0.1", key=KEY, now=ends_at + timedelta(days=1)) is None


# --------------------------------------------------------------------------- the 3-letter check


def test_five_wrong_answers_lock_the_link_for_fifteen_minutes(uow: UnitOfWork, world: World) -> None:
    rdv_id = _plan(uow, world)
    now = datetime.now(UTC)
    access = _access(uow, rdv_id, _sms_token(uow, rdv_id), now=now)
    remaining = []
    for _ in range(4):
        with pytest.raises(service.WrongInitials) as wrong:
            service.check_initials(uow, access, "DUP", "10.0.0.1", key=KEY, now=now)
        remaining.append(wrong.value.remaining)
    assert remaining == [4, 3, 2, 1]
    assert "Il vous reste 1 essai" in wrong.value.message
    with pytest.raises(service.LinkLocked) as locked:
        service.check_initials(uow, access, "DUP", "10.0.0.1", key=KEY, now=now)
    assert "bloqué pendant 15 minutes" in locked.value.message
    # Locked: even the right answer is refused, until 15 minutes have passed.
    with pytest.raises(service.LinkLocked):
        service.check_initials(uow, access, "DEL", "10.0.0.1", key=KEY, now=now + timedelta(minutes=14))
    assert service.locked_until(uow, access, now=now + timedelta(minutes=14)) == locked.value.until
    later = now + timedelta(minutes=15, seconds=1)
    assert service.locked_until(uow, access, now=later) is None
    proof = service.check_initials(uow, access, "del", "10.0.0.1", key=KEY, now=later)
    assert service.is_verified(access, proof, key=KEY, now=later + timedelta(minutes=9))
    assert not service.is_verified(access, proof, key=KEY, now=later + timedelta(minutes=10, seconds=1))
    # The security log of the territory has each wrong answer and the lockout, with the organisation.
    events = uow.session.exec(select(SecurityEvent.kind, SecurityEvent.organisation_id, SecurityEvent.ip)
                              .order_by(col(SecurityEvent.id))).all()
    assert events == [("usager_initials_failed", world.org, "10.0.0.1")] * 5 + [
        ("usager_link_locked", world.org, "10.0.0.1")]


def test_a_right_answer_resets_the_count_and_old_failures_are_forgotten(uow: UnitOfWork, world: World) -> None:
    rdv_id = _plan(uow, world)
    now = datetime.now(UTC)
    access = _access(uow, rdv_id, _sms_token(uow, rdv_id), now=now)
    for _ in range(4):
        with pytest.raises(service.WrongInitials):
            service.check_initials(uow, access, "ABC", "10.0.0.1", key=KEY, now=now)
    service.check_initials(uow, access, "D E L", "10.0.0.1", key=KEY, now=now)
    with pytest.raises(service.WrongInitials) as wrong:
        service.check_initials(uow, access, "ABC", "10.0.0.1", key=KEY, now=now)
    assert wrong.value.remaining == 4
    for _ in range(3):
        with pytest.raises(service.WrongInitials):
            service.check_initials(uow, access, "ABC", "10.0.0.1", key=KEY, now=now)
    with pytest.raises(service.WrongInitials) as wrong:
        service.check_initials(uow, access, "ABC", "10.0.0.1", key=KEY, now=now + timedelta(minutes=16))
    assert wrong.value.remaining == 4


def test_an_empty_answer_does_not_count(uow: UnitOfWork, world: World) -> None:
    rdv_id = _plan(uow, world)
    access = _access(uow, rdv_id, _sms_token(uow, rdv_id))
    for _ in range(6):
        with pytest.raises(DomainError) as error:
            service.check_initials(uow, access, "  ", "10.0.0.1", key=KEY)
        assert not isinstance(error.value, service.WrongInitials | service.LinkLocked)
    assert uow.session.exec(select(Participation.link_failed_attempts)
                            .where(Participation.rdv_id == rdv_id)).one() == 0


_OTHER_PROCESS = """
import sys
from datetime import UTC, datetime
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.usagers import usager_link as service
url, rdv_id, participation_id, usager_id = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
access = service.LinkAccess(rdv_id, participation_id, usager_id, datetime.now(UTC))
for _ in range(3):
    with UnitOfWork(url) as uow:
        try:
            service.check_initials(uow, access, "ZZZ", "10.0.0.2")
        except service.WrongInitials as wrong:
            print(wrong.remaining)
"""


def test_the_lockout_counts_wrong_answers_from_every_process(uow: UnitOfWork, world: World, db_url: str) -> None:
    rdv_id = _plan(uow, world)
    access = _access(uow, rdv_id, _sms_token(uow, rdv_id))
    uow.rollback()  # the other process writes: no transaction of this one may stay open meanwhile
    result = subprocess.run([sys.executable, "-c", _OTHER_PROCESS, db_url, str(rdv_id), str(access.participation_id),
                             str(access.usager_id)], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.split() == ["4", "3", "2"]
    with pytest.raises(service.WrongInitials) as wrong:
        service.check_initials(uow, access, "ZZZ", "10.0.0.1", key=KEY)
    assert wrong.value.remaining == 1
    with pytest.raises(service.LinkLocked):
        service.check_initials(uow, access, "ZZZ", "10.0.0.1", key=KEY)


# --------------------------------------------------------------------------- summary and cancellation


def test_the_summary_is_in_the_organisations_time_zone_and_a_hidden_motif_is_not_found(uow: UnitOfWork,
                                                                                world: World) -> None:
    organisation = uow.session.get(Organisation, world.org)
    assert organisation is not None
    organisation.timezone = "Indian/Reunion"
    uow.session.add(organisation)
    uow.commit()
    reunion = ZoneInfo("Indian/Reunion")
    starts_at = _soon(3, 9, reunion)
    rdv_id = _plan(uow, world, starts_at)
    access = _access(uow, rdv_id, _sms_token(uow, rdv_id))
    summary = service.summary(uow, access)
    assert summary.when.endswith("à 09h00")
    assert summary.title == "Consultation"
    assert (summary.lieu_name, summary.lieu_address) == ("Centre Arras", "1 rue A, 62000 Arras")
    assert summary.map_url is not None and "mlat=50.29" in summary.map_url
    assert summary.instructions == "Apportez le carnet de santé."
    assert (summary.contact_phone, summary.contact_email) == ("03 21 00 00 00", "pmi.arras@demo.test")
    assert summary.can_cancel and summary.cancel_warning == "Pensez à prévenir la puéricultrice."
    motif = uow.session.get(Motif, world.motif)
    assert motif is not None
    motif.visibility_type = "invisible"
    uow.session.add(motif)
    uow.commit()
    with pytest.raises(NotFound):
        service.summary(uow, access)


@pytest.mark.parametrize(("location_type", "place"), [
    ("phone", "Rendez-vous par téléphone. Un agent vous appellera au 06 12 34 56 78."),
    ("home", "À votre domicile : 3 rue des Lilas, 62000 Arras, 2e étage"),
])
def test_phone_and_home_rdvs_say_where_instead_of_a_lieu(uow: UnitOfWork, world: World, client: TestClient,
                                                        location_type: str, place: str) -> None:
    s = uow.session
    motif = Motif(organisation_id=world.org, service_id=s.get(Motif, world.motif).service_id,  # type: ignore[union-attr]
                  name="Entretien", location_type=location_type)
    jeanne = s.get(Usager, world.jeanne)
    assert jeanne is not None
    jeanne.address, jeanne.address_details = "3 rue des Lilas, 62000 Arras", "2e étage"
    s.add_all([motif, jeanne])
    uow.commit()
    starts_at = _soon(3)
    rdv_id = lifecycle.plan_rdv(uow, world.colleague, world.org, motif_id=motif.id, starts_at=starts_at,  # type: ignore[arg-type]
                           duration_in_min=30, agent_ids=[world.colleague], lieu_id=None, usager_ids=[world.jeanne],
                           confirm_warnings=True)
    _open(client, rdv_id, _sms_token(uow, rdv_id))
    csrf = _csrf(client.get(f"/r/{rdv_id}").text)
    client.post(f"/r/{rdv_id}/lettres", data={"lettres": "DEL", "csrf": csrf})
    page = client.get(f"/r/{rdv_id}").text
    assert place in page
    assert "openstreetmap" not in page and "Centre Arras" not in page
    assert ("vers 10h00" in page) == (location_type == "home")


def test_the_calendar_file_is_the_usagers(uow: UnitOfWork, world: World) -> None:
    starts_at = _soon(3)
    rdv_id = _plan(uow, world, starts_at)
    access = _access(uow, rdv_id, _sms_token(uow, rdv_id))
    calendar = icalendar.Calendar.from_ical(service.calendar_file(uow, access).content)
    event = calendar.walk("VEVENT")[0]
    rdv = uow.session.get(Rdv, rdv_id)
    assert rdv is not None
    assert str(event["UID"]) == rdv.uuid
    assert event.decoded("DTSTART") == starts_at
    assert str(event["SUMMARY"]) == "RDV Consultation"
    assert "Élodie" not in calendar.to_ical().decode()


def test_the_usager_cancels_more_than_four_hours_before(uow: UnitOfWork, world: World) -> None:
    rdv_id = _plan(uow, world, _soon(2))
    access = _access(uow, rdv_id, _sms_token(uow, rdv_id))
    before = {row.id for row in uow.session.exec(select(OutboxMessage))}
    change = service.cancel(uow, access)
    uow.rollback()  # a new transaction sees what the requests wrote
    rdv = uow.session.get(Rdv, rdv_id)
    assert rdv is not None and rdv.status == "excused" and rdv.cancelled_at is not None
    assert rdv.users_count == 0
    participation = uow.session.get(Participation, access.participation_id)
    assert participation is not None and participation.status == "excused"
    audit = uow.session.exec(select(AuditLog).where(AuditLog.entity_id == str(rdv_id),
                                                    AuditLog.action == "status_changed")).one()
    assert (audit.actor_type, audit.actor_usager_id, audit.actor_agent_id) == ("usager", world.jeanne, None)
    new = [row for row in uow.session.exec(select(OutboxMessage).order_by(OutboxMessage.id))  # type: ignore[arg-type]
           if row.id not in before]
    assert set(change.outbox_ids) == {row.id for row in new}
    # The usager gets an email and no SMS; the agents by their level ("none" gets nothing).
    assert sorted((row.event, row.channel, row.payload["to"]) for row in new) == [
        (NotificationEvent.RDV_CANCELLED.value, "mail", "colleague@demo.test"),
        (NotificationEvent.RDV_CANCELLED.value, "mail", "jeanne@example.fr"),
        (NotificationEvent.RDV_CANCELLED.value, "mail", "loud@demo.test"),
    ]
    with pytest.raises(DomainError, match="déjà annulé"):
        service.cancel(uow, access)


def test_within_four_hours_or_when_the_motif_forbids_it_nothing_is_cancelled(uow: UnitOfWork, world: World,
                                                                             db_url: str) -> None:
    rdv_id = _plan(uow, world, datetime.now(UTC) + timedelta(hours=3, minutes=50))
    access = _access(uow, rdv_id, _sms_token(uow, rdv_id))
    summary = service.summary(uow, access)
    assert not summary.can_cancel and summary.cancel_refusal == "too_late"
    before = _dump(db_url)
    with pytest.raises(DomainError, match="moins de 4 heures"):
        service.cancel(uow, access)
    assert _dump(db_url) == before

    later = _plan(uow, world, _soon(6))
    motif = uow.session.get(Motif, world.motif)
    assert motif is not None
    motif.rdvs_cancellable_by_user = False
    uow.session.add(motif)
    uow.commit()
    access = _access(uow, later, _sms_token(uow, later))
    before = _dump(db_url)
    with pytest.raises(DomainError, match="ne peut pas être annulé en ligne"):
        service.cancel(uow, access)
    assert _dump(db_url) == before


def test_in_a_collective_rdv_the_usager_leaves_alone(uow: UnitOfWork, world: World) -> None:
    s = uow.session
    workshop = Motif(organisation_id=world.org, service_id=s.get(Motif, world.motif).service_id,  # type: ignore[union-attr]
                     name="Atelier portage", collectif=True)
    paul = Usager(first_name="Paul", last_name="Xi", email="paul@example.fr")
    s.add_all([workshop, paul])
    s.flush()
    starts_at = _soon(3)
    rdv = Rdv(organisation_id=world.org, motif_id=workshop.id, lieu_id=world.lieu, starts_at=starts_at,  # type: ignore[arg-type]
              ends_at=starts_at + timedelta(hours=1), users_count=2, name="Portage bébé")
    s.add(rdv)
    s.flush()
    s.add(RdvAgent(rdv_id=rdv.id, agent_id=world.loud))  # type: ignore[arg-type]
    token = "PaulXiToken1"
    s.add_all([Participation(rdv_id=rdv.id, usager_id=world.jeanne),  # type: ignore[arg-type]
               Participation(rdv_id=rdv.id, usager_id=paul.id, access_token_hash=hash_token(token),  # type: ignore[arg-type]
                             access_token_expires_at=starts_at + timedelta(days=1))])
    uow.commit()
    access = _access(uow, rdv.id, token)  # type: ignore[arg-type]
    service.check_initials(uow, access, "xi", "10.0.0.1", key=KEY)  # a two-letter name is typed whole
    change = service.cancel(uow, access)
    uow.rollback()
    statuses = dict(s.exec(select(Participation.usager_id, Participation.status)
                           .where(Participation.rdv_id == rdv.id)).all())
    assert statuses == {world.jeanne: "unknown", paul.id: "excused"}
    assert s.exec(select(Rdv.status, Rdv.users_count).where(Rdv.id == rdv.id)).one() == ("unknown", 1)
    messages = s.exec(select(OutboxMessage).where(col(OutboxMessage.id).in_(change.outbox_ids))).all()
    # Paul's email, and the agent's: the session goes on without him (RDV-SP's user_can_manage_collective_rdv).
    assert sorted((m.channel, m.payload["to"]) for m in messages) == [
        ("mail", "loud@demo.test"), ("mail", "paul@example.fr")]


def test_the_cancellation_reaches_the_agents_and_the_usager_by_email_and_sends_no_sms(
        uow: UnitOfWork, world: World, db_url: str) -> None:
    rdv_id = _plan(uow, world, _soon(2))
    with FakeOvh() as ovh, SmtpServer() as smtp:
        worker = Worker(db_url, sms=OvhSmsProvider(ovh.settings()), smtp=smtp.settings())
        worker.run_once(limit=100)
        assert len(ovh.received) == 1
        sms_text = ovh.received[0].message
        token = re.search(rf"/r/{rdv_id}/([A-Za-z0-9_-]+)", sms_text).group(1)  # type: ignore[union-attr]
        smtp_before = len(smtp.messages)
        access = _access(uow, rdv_id, token)
        service.cancel(uow, access)
        worker.run_once(limit=100)
        assert len(ovh.received) == 1
        received = {tuple(rcpt): message for rcpt, message in smtp.messages[smtp_before:]}
    assert set(received) == {("loud@demo.test",), ("colleague@demo.test",), ("jeanne@example.fr",)}
    assert received[("loud@demo.test",)]["Subject"].startswith("RDV annulé par l'usager le ")
    assert received[("jeanne@example.fr",)]["Subject"].startswith("RDV annulé le ")


# --------------------------------------------------------------------------- HTTP


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    app = Starlette(routes=ROUTES)
    app.state.database_url = db_url
    with TestClient(security_headers(app), base_url="http://testserver", follow_redirects=False) as test_client:
        yield test_client


def _open(client: TestClient, rdv_id: int, token: str) -> None:
    response = client.get(f"/r/{rdv_id}/{token}")
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/r/{rdv_id}"


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert match is not None, html
    return match.group(1)


def test_the_whole_flow_over_http(uow: UnitOfWork, world: World, client: TestClient) -> None:
    rdv_id = _plan(uow, world, _soon(2))
    token = _sms_token(uow, rdv_id)
    response = client.get(f"/r/{rdv_id}/{token}")
    assert response.status_code == 303
    assert response.headers["location"] == f"/r/{rdv_id}"
    assert response.headers["referrer-policy"] == "no-referrer"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{routes.USAGER_ACCESS_COOKIE}=")
    assert all(part in cookie for part in ("HttpOnly", f"Path=/r/{rdv_id}", "SameSite=lax"))
    # Kept as long as the link works (its 10 minutes are the server's business): about 3 days here.
    max_age = int(re.search(r"Max-Age=(\d+)", cookie).group(1))  # type: ignore[union-attr]
    assert timedelta(days=2) < timedelta(seconds=max_age) < timedelta(days=4)
    assert token not in cookie

    form = client.get(f"/r/{rdv_id}")
    assert form.status_code == 200
    assert "Saisissez les trois premières lettres de votre nom de famille" in form.text
    assert "Consultation" not in form.text and "Centre Arras" not in form.text
    assert form.headers["cache-control"] == "no-store"
    wrong = client.post(f"/r/{rdv_id}/lettres", data={"lettres": "ELO", "csrf": _csrf(form.text)})
    assert wrong.status_code == 422
    assert "Il vous reste 4 essais" in wrong.text
    right = client.post(f"/r/{rdv_id}/lettres", data={"lettres": "del", "csrf": _csrf(wrong.text)})
    assert right.status_code == 303 and right.headers["location"] == f"/r/{rdv_id}"
    assert "HttpOnly" in right.headers["set-cookie"]

    page = client.get(f"/r/{rdv_id}")
    assert page.status_code == 200
    for text in ("Consultation", "Centre Arras", "1 rue A, 62000 Arras", "openstreetmap.org",
                 "Apportez le carnet de santé.", "03 21 00 00 00", "pmi.arras@demo.test", "Ajouter à mon agenda",
                 "Annuler le rendez-vous"):
        assert text in page.text, text
    ics = client.get(f"/r/{rdv_id}/rdv.ics")
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    assert "attachment" in ics.headers["content-disposition"]

    confirm = client.get(f"/r/{rdv_id}/annulation")
    assert confirm.status_code == 200
    assert "Pensez à prévenir la puéricultrice." in confirm.text
    done = client.post(f"/r/{rdv_id}/annulation", data={"csrf": _csrf(confirm.text)})
    assert done.status_code == 303 and done.headers["location"] == f"/r/{rdv_id}?annule=1"
    final = client.get(done.headers["location"])
    assert "Votre rendez-vous est annulé" in final.text
    assert "Reprendre rendez-vous" in final.text and f'href="/org/{world.org}"' in final.text
    assert "Annuler le rendez-vous" not in final.text
    uow.rollback()  # a new transaction sees what the requests wrote
    rdv = uow.session.get(Rdv, rdv_id)
    assert rdv is not None and rdv.status == "excused"


def test_a_motif_made_invisible_closes_every_page_of_its_links(uow: UnitOfWork, world: World, client: TestClient,
                                                               db_url: str) -> None:
    rdv_id = _plan(uow, world, _soon(2))
    token = _sms_token(uow, rdv_id)
    assert client.get(f"/r/{rdv_id}/{token}").status_code == 303
    form = client.get(f"/r/{rdv_id}")
    assert client.post(f"/r/{rdv_id}/lettres", data={"lettres": "DEL", "csrf": _csrf(form.text)}).status_code == 303
    confirm = client.get(f"/r/{rdv_id}/annulation")
    assert confirm.status_code == 200
    motif = uow.session.get(Motif, world.motif)
    motif.visibility_type = "invisible"  # type: ignore[union-attr]
    uow.session.add(motif)
    uow.commit()
    before = _dump(db_url)

    pages = [client.get(f"/r/{rdv_id}"), client.get(f"/r/{rdv_id}/rdv.ics"), client.get(f"/r/{rdv_id}/annulation"),
             client.post(f"/r/{rdv_id}/annulation", data={"csrf": _csrf(confirm.text)})]
    assert [page.status_code for page in pages] == [404, 404, 404, 404]
    assert not any("Consultation" in page.text or "Protection maternelle" in page.text for page in pages)
    anew = TestClient(client.app)
    assert anew.get(f"/r/{rdv_id}/{token}", follow_redirects=False).status_code == 404
    uow.rollback()
    assert _dump(db_url) == before


def test_every_get_of_the_flow_leaves_the_database_unchanged(uow: UnitOfWork, world: World, client: TestClient,
                                                             db_url: str) -> None:
    rdv_id = _plan(uow, world, _soon(2))
    token = _sms_token(uow, rdv_id)
    before = _dump(db_url)
    paths = [f"/r/{rdv_id}", f"/r/{rdv_id}/annulation", f"/r/{rdv_id}/rdv.ics", "/r", f"/r/{rdv_id}/lettres",
             f"/r/{rdv_id + 1}/{token}", f"/r/{rdv_id}/not-a-token", f"/r/{rdv_id}/{token}"]
    anonymous = [client.get(path) for path in paths]
    with_access = [client.get(path) for path in paths]
    form = client.get(f"/r/{rdv_id}")
    assert client.post(f"/r/{rdv_id}/lettres", data={"lettres": "DEL", "csrf": _csrf(form.text)}).status_code == 303
    before_verified = _dump(db_url)
    verified = [client.get(path) for path in paths] + [client.head(f"/r/{rdv_id}/{token}")]
    assert _dump(db_url) == before_verified
    assert [r.status_code for r in anonymous] == [404, 404, 404, 200, 404, 404, 404, 303]
    assert [r.status_code for r in with_access] == [200, 303, 303, 200, 404, 404, 404, 303]
    assert [r.status_code for r in verified] == [200, 200, 200, 200, 404, 404, 404, 303, 303]
    assert "Consultation" in verified[0].text and "Consultation" not in with_access[0].text
    # Only the right answer (a POST) wrote: nothing else changed.
    uow.rollback()  # a new transaction sees what the requests wrote
    assert _dump(db_url) == before


def test_a_right_token_with_another_rdv_id_or_an_earlier_token_gets_the_invalid_page(
        uow: UnitOfWork, world: World, client: TestClient) -> None:
    rdv_id = _plan(uow, world, _soon(2))
    other = _plan(uow, world, _soon(3))
    first = _sms_token(uow, rdv_id)
    lifecycle.update_rdv(uow, world.colleague, world.org, rdv_id, starts_at=_soon(5), duration_in_min=30,
                    lieu_id=world.lieu, agent_ids=[world.loud, world.colleague, world.quiet], confirm_warnings=True)
    for path in (f"/r/{other}/{_sms_token(uow, rdv_id)}", f"/r/{rdv_id}/{first}"):
        response = client.get(path)
        assert response.status_code == 404
        assert "Ce lien n'est plus valide" in response.text
        assert "Prendre un nouveau rendez-vous" in response.text
        assert "set-cookie" not in response.headers
    _open(client, rdv_id, _sms_token(uow, rdv_id))
    # The access of one RDV does not open another.
    assert client.get(f"/r/{other}").status_code == 404


def test_attempts_on_links_are_rate_limited_per_ip(uow: UnitOfWork, world: World, db_url: str) -> None:
    rdv_id = _plan(uow, world, _soon(2))
    token = _sms_token(uow, rdv_id)
    app = Starlette(routes=ROUTES)
    app.state.database_url = db_url
    guesser = TestClient(app, client=("203.0.113.7", 50000), follow_redirects=False)
    neighbour = TestClient(app, client=("203.0.113.8", 50000), follow_redirects=False)
    statuses = [guesser.get(f"/r/{rdv_id}/guess{n:07d}").status_code for n in range(20)]
    assert statuses == [404] * 20
    blocked = guesser.get(f"/r/{rdv_id}/{token}")
    assert blocked.status_code == 429
    assert "Veuillez patienter" in blocked.text
    assert neighbour.get(f"/r/{rdv_id}/{token}").status_code == 303


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(uow: UnitOfWork, world: World, db_url: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """One reverse proxy in front (RDV_TRUSTED_PROXIES=1): every request comes from its address, and the
    client is the last address it appends to X-Forwarded-For (earlier ones are the client's own claims)."""
    monkeypatch.setattr(client_address, "settings", Settings(trusted_proxies=1))
    rdv_id = _plan(uow, world, _soon(2))
    token = _sms_token(uow, rdv_id)
    app = Starlette(routes=ROUTES)
    app.state.database_url = db_url
    proxy = TestClient(app, client=("10.0.0.2", 50000), follow_redirects=False)
    guesser = {"X-Forwarded-For": "198.51.100.20, 203.0.113.7"}
    statuses = [proxy.get(f"/r/{rdv_id}/guess{n:07d}", headers=guesser).status_code for n in range(20)]
    assert statuses == [404] * 20
    assert proxy.get(f"/r/{rdv_id}/{token}", headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 429
    # Claiming another address in front of the proxy's entry changes nothing.
    assert proxy.get(f"/r/{rdv_id}/{token}",
                     headers={"X-Forwarded-For": "203.0.113.8, 203.0.113.7"}).status_code == 429
    assert proxy.get(f"/r/{rdv_id}/{token}", headers={"X-Forwarded-For": "203.0.113.8"}).status_code == 303


def test_a_locked_link_says_so_over_http(uow: UnitOfWork, world: World, client: TestClient) -> None:
    rdv_id = _plan(uow, world, _soon(2))
    _open(client, rdv_id, _sms_token(uow, rdv_id))
    csrf = _csrf(client.get(f"/r/{rdv_id}").text)
    codes = [client.post(f"/r/{rdv_id}/lettres", data={"lettres": "XYZ", "csrf": csrf}).status_code
             for _ in range(5)]
    assert codes == [422, 422, 422, 422, 429]
    locked = client.get(f"/r/{rdv_id}")
    assert "ce lien est bloqué pendant 15 minutes" in locked.text
    assert 'name="lettres"' not in locked.text
    assert client.post(f"/r/{rdv_id}/lettres", data={"lettres": "DEL", "csrf": csrf}).status_code == 429


def test_posts_need_the_pages_token_and_this_origin(uow: UnitOfWork, world: World, client: TestClient) -> None:
    rdv_id = _plan(uow, world, _soon(2))
    _open(client, rdv_id, _sms_token(uow, rdv_id))
    csrf = _csrf(client.get(f"/r/{rdv_id}").text)
    assert client.post(f"/r/{rdv_id}/lettres", data={"lettres": "DEL"}).status_code == 404
    assert client.post(f"/r/{rdv_id}/lettres", data={"lettres": "DEL", "csrf": csrf},
                       headers={"origin": "https://evil.example"}).status_code == 404
    assert client.post(f"/r/{rdv_id}/lettres", data={"lettres": "XYZ", "csrf": csrf},
                       headers={"origin": "null"}).status_code == 422  # what no-referrer pages send
    assert client.post(f"/r/{rdv_id}/lettres", data={"lettres": "DEL", "csrf": csrf},
                       headers={"origin": "http://testserver"}).status_code == 303
    assert client.post(f"/r/{rdv_id}/annulation", data={}).status_code == 404
    uow.rollback()  # a new transaction sees what the requests wrote
    rdv = uow.session.get(Rdv, rdv_id)
    assert rdv is not None and rdv.status == "unknown"


def test_within_four_hours_the_page_gives_the_contact_instead_of_the_button(uow: UnitOfWork, world: World,
                                                                           client: TestClient) -> None:
    rdv_id = _plan(uow, world, datetime.now(UTC) + timedelta(hours=3))
    _open(client, rdv_id, _sms_token(uow, rdv_id))
    csrf = _csrf(client.get(f"/r/{rdv_id}").text)
    client.post(f"/r/{rdv_id}/lettres", data={"lettres": "DEL", "csrf": csrf})
    page = client.get(f"/r/{rdv_id}")
    assert "Annuler le rendez-vous" not in page.text
    assert "ne peut plus être annulé en ligne" in page.text
    assert "03 21 00 00 00" in page.text and "pmi.arras@demo.test" in page.text
    assert client.get(f"/r/{rdv_id}/annulation").status_code == 303
    refused = client.post(f"/r/{rdv_id}/annulation", data={"csrf": csrf})
    assert refused.status_code == 409 and "moins de 4 heures" in refused.text
    uow.rollback()  # a new transaction sees what the requests wrote
    rdv = uow.session.get(Rdv, rdv_id)
    assert rdv is not None and rdv.status == "unknown"



# --------------------------------------------------------------------------- issue 26: never "plus valide" by mistake


def test_after_ten_minutes_the_link_asks_the_three_letters_again(uow: UnitOfWork, world: World, client: TestClient,
                                                                 db_url: str) -> None:
    rdv_id = _plan(uow, world, _soon(3))
    _open(client, rdv_id, _sms_token(uow, rdv_id))
    form = client.get(f"/r/{rdv_id}")
    assert client.post(f"/r/{rdv_id}/lettres", data={"lettres": "DEL", "csrf": _csrf(form.text)}).status_code == 303
    assert "Consultation" in client.get(f"/r/{rdv_id}").text
    before = _dump(db_url)
    with time_machine.travel(clock.now() + timedelta(minutes=11)):
        later = client.get(f"/r/{rdv_id}")
        assert later.status_code == 200
        assert "Pour votre sécurité, saisissez à nouveau les trois premières lettres de votre nom" in later.text
        assert "plus valide" not in later.text and "Consultation" not in later.text
        # The other pages lead back to the 3 letters too, and the cancellation form posted late cancels nothing.
        for path in (f"/r/{rdv_id}/annulation", f"/r/{rdv_id}/rdv.ics"):
            assert client.get(path).headers["location"] == f"/r/{rdv_id}"
        late = client.post(f"/r/{rdv_id}/annulation", data={"csrf": _csrf(later.text)})
        assert (late.status_code, late.headers["location"]) == (303, f"/r/{rdv_id}")
        uow.rollback()
        assert _dump(db_url) == before  # GETs read only; the late POST changed nothing
        again = client.get(f"/r/{rdv_id}")
        right = client.post(f"/r/{rdv_id}/lettres", data={"lettres": "del", "csrf": _csrf(again.text)})
        assert right.status_code == 303
        assert "Annuler le rendez-vous" in client.get(f"/r/{rdv_id}").text


def test_once_the_link_is_replaced_or_expired_the_old_access_is_not_renewed(uow: UnitOfWork, world: World,
                                                                            client: TestClient) -> None:
    starts_at = _soon(3)
    rdv_id = _plan(uow, world, starts_at)
    _open(client, rdv_id, _sms_token(uow, rdv_id))
    with time_machine.travel(starts_at + timedelta(days=1, hours=1)):  # the link expired a day after the RDV
        response = client.get(f"/r/{rdv_id}")
        assert response.status_code == 404 and "Ce lien n'est plus valide" in response.text
    lifecycle.update_rdv(uow, world.colleague, world.org, rdv_id, starts_at=_soon(5), duration_in_min=30,
                         lieu_id=world.lieu, agent_ids=[world.loud, world.colleague, world.quiet], confirm_warnings=True)
    with time_machine.travel(clock.now() + timedelta(minutes=11)):
        response = client.get(f"/r/{rdv_id}")
        assert response.status_code == 404 and "Ce lien n'est plus valide" in response.text


def test_an_older_link_of_a_cancelled_rdv_says_it_was_cancelled(uow: UnitOfWork, world: World, client: TestClient,
                                                                db_url: str) -> None:
    rdv_id = _plan(uow, world, _soon(3))
    sms_token = _sms_token(uow, rdv_id)
    _open(client, rdv_id, sms_token)
    form = client.get(f"/r/{rdv_id}")
    assert client.post(f"/r/{rdv_id}/lettres", data={"lettres": "DEL", "csrf": _csrf(form.text)}).status_code == 303
    confirm = client.get(f"/r/{rdv_id}/annulation")
    assert client.post(f"/r/{rdv_id}/annulation", data={"csrf": _csrf(confirm.text)}).status_code == 303
    uow.rollback()
    rdv = uow.session.get(Rdv, rdv_id)
    assert rdv is not None and rdv.cancelled_at is not None
    cancelled_on = datefmt.long_date(rdv.cancelled_at.astimezone(PARIS).date())
    participation = uow.session.exec(select(Participation).where(Participation.rdv_id == rdv_id)).one()
    assert participation.access_token_hash != hash_token(sms_token)  # the cancellation email carries a newer one
    before = _dump(db_url)

    fresh = TestClient(client.app, follow_redirects=False)  # another phone, the SMS link
    for response in (fresh.get(f"/r/{rdv_id}/{sms_token}"),
                     # the same phone, its access over, from its cookie
                     _later(client, f"/r/{rdv_id}")):
        assert response.status_code == 200, response.text
        assert f"Ce rendez-vous a été annulé le {cancelled_on}" in response.text
        assert "plus valide" not in response.text
        assert 'href="tel:0321000000"' in response.text and 'href="mailto:pmi.arras@demo.test"' in response.text
        assert "Prendre un nouveau rendez-vous" in response.text and f'href="/org/{world.org}"' in response.text
        assert "set-cookie" not in response.headers  # it gives no access
    # It only says so: the summary, the calendar file and a cancellation stay closed.
    assert fresh.get(f"/r/{rdv_id}").status_code == 404
    uow.rollback()
    assert _dump(db_url) == before


def _later(client: TestClient, path: str) -> Any:
    with time_machine.travel(clock.now() + timedelta(minutes=11)):
        return client.get(path)


def test_a_forged_or_foreign_token_of_a_cancelled_rdv_says_nothing_of_it(uow: UnitOfWork, world: World,
                                                                        client: TestClient) -> None:
    rdv_id = _plan(uow, world, _soon(3))
    other = _plan(uow, world, _soon(4))
    sms_token = _sms_token(uow, rdv_id)
    lifecycle.cancel_rdv(uow, world.colleague, world.org, rdv_id)
    forged = sms_token[:12] + ("A" * 8 if sms_token[12:] != "A" * 8 else "B" * 8)
    for path in (f"/r/{rdv_id}/{forged}", f"/r/{other}/{sms_token}", f"/r/{rdv_id}/AAAAAAAAAAAA"):
        response = client.get(path)
        assert response.status_code == 404 and "Ce lien n'est plus valide" in response.text, path
        assert "annulé" not in response.text
    # A link sent before the cancellation says so until it would have expired anyway.
    with time_machine.travel(_soon(4) + timedelta(days=1)):
        response = client.get(f"/r/{rdv_id}/{sms_token}")
        assert response.status_code == 404 and "annulé" not in response.text
