"""Microsoft 365 (Outlook) sync on SQLite and PostgreSQL, against a loopback Microsoft identity platform
and Graph (tests/fakes/microsoft_graph.py), delivered by the real outbox worker: the scenarios of
admin-domain.md 11.6, coalescing and ordering, time zones, retries, refresh, connect and disconnect."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import factories as make
import httpx
import pytest
from fakes.microsoft_graph import FakeMicrosoft
from sqlmodel import col, select

from rdv_app.auth import microsoft
from rdv_app.auth.sealed import unseal
from rdv_app.db.engine import get_engine
from rdv_app.db.models import OutboxMessage, OutlookConnection, OutlookEvent, Rdv
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain import outlook as outlook_domain
from rdv_app.domain.enums import Channel, LocationType, NotificationEvent, OutboxStatus
from rdv_app.notify import outlook as sync
from rdv_app.notify.worker import Worker
from rdv_app.services.agents import organisation_agents, outlook
from rdv_app.services.rdv import lifecycle

REDIRECT_URI = "http://127.0.0.1:9/_auth/outlook/retour"


@dataclass
class World:
    org: int
    admin: int
    agent: int
    other: int
    motif: int
    lieu: int
    usager: int


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeMicrosoft]:
    with FakeMicrosoft(redirect_uris=(REDIRECT_URI,)) as server:
        for name, value in server.environment().items():
            monkeypatch.setenv(name, value)
        yield server


def _world(uow: UnitOfWork, timezone: str = "Europe/Paris") -> World:
    s = uow.session
    territory = make.territory(s)
    pmi = make.service(s)
    org = make.organisation(s, territory, timezone=timezone)
    admin = make.agent(s, "camille@demo.test", "Camille", "Martin", organisation=org, role="admin", services=[pmi])
    agent = make.agent(s, "julien@demo.test", "Julien", "Petit", organisation=org, role="basic", services=[pmi])
    other = make.agent(s, "lea@demo.test", "Léa", "Durand", organisation=org, role="basic", services=[pmi])
    lieu = make.lieu(s, org, name="Centre Arras", address="1 rue A, 62000 Arras")
    motif = make.motif(s, org, pmi, name="Consultation prénatale", location_type=LocationType.PUBLIC_OFFICE.value)
    usager = make.usager(s, "Jeanne", "Dupont", email="jeanne@example.fr", organisations=[org])
    uow.commit()
    return World(org.id, admin.id, agent.id, other.id, motif.id, lieu.id, usager.id)  # type: ignore[arg-type]


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    return _world(uow)


def _connect(db_url: str, fake: FakeMicrosoft, agent_id: int, email: str = "julien@demo.test") -> int:
    """The authorization code flow with PKCE as the HTTP routes run it, then the service."""
    settings = microsoft.MicrosoftSettings.from_env()
    assert settings is not None
    flow = microsoft.Flow.start(agent_id)
    page = httpx.get(microsoft.authorize_url(settings, flow, REDIRECT_URI, email))
    assert page.status_code == 200, page.text
    assert fake.authorize_requests[-1]["login_hint"] == email
    target = unescape(re.search(r'href="([^"]+)"', page.text).group(1))  # type: ignore[union-attr]
    query = dict(httpx.URL(target).params)
    tokens = microsoft.exchange_code(settings, microsoft.Flow.loads(flow.dumps()), code=query.get("code"),
                                     state=query.get("state"), error=None, redirect_uri=REDIRECT_URI)
    with UnitOfWork(db_url) as uow:
        return outlook.connect_outlook(uow, agent_id, tokens.access_token, tokens.refresh_token or "",
                                       tokens.expires_at)


def _next_day_at(hour: int, tz: str = "Europe/Paris", days: int = 3) -> datetime:
    zone = ZoneInfo(tz)
    day = datetime.now(zone).date() + timedelta(days=days)
    return datetime.combine(day, time(hour), zone).astimezone(UTC)


def _plan(db_url: str, world: World, starts_at: datetime, agents: list[int]) -> int:
    with UnitOfWork(db_url) as uow:
        return lifecycle.plan_rdv(uow, world.admin, world.org, motif_id=world.motif, starts_at=starts_at,
                                  duration_in_min=30, agent_ids=agents, lieu_id=world.lieu,
                                  usager_ids=[world.usager], confirm_warnings=True)


def _outlook_rows(db_url: str, status: str | None = None) -> list[OutboxMessage]:
    with UnitOfWork(db_url) as uow:
        query = select(OutboxMessage).where(OutboxMessage.channel == Channel.OUTLOOK.value)
        if status:
            query = query.where(OutboxMessage.status == status)
        rows = list(uow.session.exec(query.order_by(col(OutboxMessage.id))))
        uow.session.expunge_all()
        return rows


def _run(db_url: str, later: timedelta = timedelta()) -> int:
    worker = Worker(db_url)
    try:
        return worker.run_once(now=clock.now() + later, limit=500)
    finally:
        worker.retire()


def _connection(db_url: str, agent_id: int) -> OutlookConnection | None:
    with UnitOfWork(db_url) as uow:
        row = uow.session.get(OutlookConnection, agent_id)
        if row is not None:
            uow.session.expunge(row)
        return row


# --------------------------------------------------------------------------- connect, queue, deliver


def test_connecting_sends_rdvs_from_one_month_back_without_personal_data(db_url: str, world: World,
                                                                        fake: FakeMicrosoft) -> None:
    recent = _plan(db_url, world, _next_day_at(10, days=-20), [world.agent])
    upcoming = _plan(db_url, world, _next_day_at(10, days=5), [world.agent])
    _plan(db_url, world, _next_day_at(10, days=-40), [world.agent])
    cancelled = _plan(db_url, world, _next_day_at(15, days=6), [world.agent])
    with UnitOfWork(db_url) as uow:
        lifecycle.cancel_rdv(uow, world.admin, world.org, cancelled)
    _plan(db_url, world, _next_day_at(11, days=7), [world.other])

    assert _connect(db_url, fake, world.agent) == 2
    _run(db_url)
    calendar = fake.calendar()
    assert len(calendar) == 2
    with UnitOfWork(db_url) as uow:
        starts = {rdv_id: uow.session.get(Rdv, rdv_id).starts_at for rdv_id in (recent, upcoming)}
    assert [e["instant"] for e in calendar] == [starts[recent], starts[upcoming]]
    event = calendar[1]
    assert event["subject"] == "Consultation prénatale"
    assert event["location"] == {"displayName": "Centre Arras (1 rue A, 62000 Arras)"}
    assert event["attendees"] == []
    assert f"/agenda/rdv/{upcoming}" in event["body"]["content"]
    assert "ne modifiez pas cet évènement directement dans Outlook" in event["body"]["content"]
    text = str(event)
    assert "Jeanne" not in text and "Dupont" not in text and "jeanne@example.fr" not in text
    assert event["transactionId"].startswith("rdv-")
    connection = _connection(db_url, world.agent)
    assert connection is not None
    assert unseal(connection.refresh_token_sealed) == fake.refresh_token
    assert fake.refresh_token not in (connection.refresh_token_sealed or "")  # sealed at rest


def test_changes_update_then_cancel_delete_the_one_event(db_url: str, world: World, fake: FakeMicrosoft) -> None:
    _connect(db_url, fake, world.agent)
    starts_at = _next_day_at(9)
    rdv_id = _plan(db_url, world, starts_at, [world.agent])
    _run(db_url)
    [created] = fake.calendar()
    with UnitOfWork(db_url) as uow:
        lifecycle.update_rdv(uow, world.admin, world.org, rdv_id, starts_at=starts_at + timedelta(hours=2),
                             duration_in_min=45, lieu_id=world.lieu, agent_ids=[world.agent], confirm_warnings=True)
    _run(db_url)
    [moved] = fake.calendar()
    assert moved["id"] == created["id"]
    assert moved["instant"] == starts_at + timedelta(hours=2)
    assert moved["end_instant"] == starts_at + timedelta(hours=2, minutes=45)
    with UnitOfWork(db_url) as uow:
        lifecycle.cancel_rdv(uow, world.admin, world.org, rdv_id)
    _run(db_url)
    assert fake.calendar() == []
    with UnitOfWork(db_url) as uow:
        row = uow.session.exec(select(OutlookEvent)).one()
        assert row.outlook_id is None
    assert {r.status for r in _outlook_rows(db_url)} == {OutboxStatus.SENT.value}


def test_agent_removed_or_rdv_deleted_removes_the_event(db_url: str, world: World, fake: FakeMicrosoft) -> None:
    _connect(db_url, fake, world.agent)
    _connect(db_url, fake, world.other, "lea@demo.test")  # the fake's single mailbox holds both agents' events
    starts_at = _next_day_at(9)
    rdv_id = _plan(db_url, world, starts_at, [world.agent, world.other])
    _run(db_url)
    assert len(fake.calendar()) == 2
    with UnitOfWork(db_url) as uow:
        lifecycle.update_rdv(uow, world.admin, world.org, rdv_id, starts_at=starts_at, duration_in_min=30,
                             lieu_id=world.lieu, agent_ids=[world.other], confirm_warnings=True)
    _run(db_url)
    assert len(fake.calendar()) == 1
    with UnitOfWork(db_url) as uow:
        lifecycle.delete_rdv(uow, world.admin, world.org, rdv_id)
    _run(db_url)
    assert fake.calendar() == []
    with UnitOfWork(db_url) as uow:
        assert uow.session.exec(select(OutlookEvent)).all() == []


def test_one_row_per_connected_agent_and_changes_before_delivery_coalesce(db_url: str, world: World,
                                                                            fake: FakeMicrosoft) -> None:
    _connect(db_url, fake, world.agent)
    starts_at = _next_day_at(9)
    rdv_id = _plan(db_url, world, starts_at, [world.agent, world.other])  # `other` is not connected
    rows = _outlook_rows(db_url)
    assert [(r.agent_id, r.event, r.payload["agent_id"]) for r in rows] == [
        (world.agent, NotificationEvent.OUTLOOK_SYNC.value, world.agent)]
    with UnitOfWork(db_url) as uow:
        lifecycle.update_rdv(uow, world.admin, world.org, rdv_id, starts_at=starts_at + timedelta(hours=1),
                             duration_in_min=30, lieu_id=world.lieu, agent_ids=[world.agent, world.other],
                             confirm_warnings=True)
    assert len(_outlook_rows(db_url)) == 1  # the waiting row carries the change
    _run(db_url)
    [event] = fake.calendar()
    assert event["instant"] == starts_at + timedelta(hours=1)
    assert [r for r in fake.requests if r[0] in ("POST", "PATCH")] and \
        [m for m, *_ in fake.requests] == ["POST"]


def test_an_update_queued_behind_its_create_never_overtakes_it(db_url: str, world: World,
                                                                fake: FakeMicrosoft) -> None:
    """The create is in flight (its row claimed, the pair leased) when the RDV moves: the update's row
    waits for the lease instead of running beside it; then the create makes the event as the RDV is now,
    and the update finds it made: one event, at the new time."""
    _connect(db_url, fake, world.agent)
    starts_at = _next_day_at(9)
    rdv_id = _plan(db_url, world, starts_at, [world.agent])
    [first] = _outlook_rows(db_url)
    engine = get_engine(db_url)
    token = sync._lease(engine, world.agent, first.payload["rdv_uuid"])
    assert token is not None
    with UnitOfWork(db_url) as uow:  # a worker holds the create
        claimed = uow.session.get(OutboxMessage, first.id)
        claimed.status, claimed.locked_until = OutboxStatus.SENDING.value, clock.now() + timedelta(minutes=5)
        uow.session.add(claimed)
        uow.commit()
    with UnitOfWork(db_url) as uow:
        lifecycle.update_rdv(uow, world.admin, world.org, rdv_id, starts_at=starts_at + timedelta(hours=3),
                             duration_in_min=30, lieu_id=world.lieu, agent_ids=[world.agent], confirm_warnings=True)
    _run(db_url)
    assert fake.calendar() == []
    assert [r.status for r in _outlook_rows(db_url)] == [OutboxStatus.SENDING.value, OutboxStatus.PENDING.value]
    sync._release(engine, world.agent, first.payload["rdv_uuid"], token)
    _run(db_url, later=timedelta(minutes=10))  # the create's lease has run out: it runs, then the update
    [event] = fake.calendar()
    assert event["instant"] == starts_at + timedelta(hours=3)
    assert [m for m, *_ in fake.requests] == ["POST", "PATCH"]
    assert {r.status for r in _outlook_rows(db_url)} == {OutboxStatus.SENT.value}


def test_a_not_connected_agent_triggers_nothing(db_url: str, world: World, fake: FakeMicrosoft) -> None:
    _plan(db_url, world, _next_day_at(9), [world.agent])
    assert _outlook_rows(db_url) == []
    assert fake.requests == []


# --------------------------------------------------------------------------- time zones


@pytest.mark.parametrize(("timezone", "windows"), [("Indian/Reunion", "Mauritius Standard Time"),
                                                   ("America/Cayenne", "SA Eastern Standard Time"),
                                                   ("Europe/Paris", "Romance Standard Time")])
def test_the_organisation_time_zone_lands_at_the_right_instant(db_url: str, uow: UnitOfWork, fake: FakeMicrosoft,
                                                               timezone: str, windows: str) -> None:
    world = _world(uow, timezone)
    _connect(db_url, fake, world.agent)
    starts_at = _next_day_at(8, timezone)
    _plan(db_url, world, starts_at, [world.agent])
    _run(db_url)
    [event] = fake.calendar()
    assert event["start"]["timeZone"] == windows
    assert event["start"]["dateTime"].endswith("T08:00:00")
    assert event["instant"] == starts_at
    assert outlook_domain.windows_zone(timezone) == windows


# --------------------------------------------------------------------------- errors


def test_429_and_5xx_are_retried_not_before_retry_after(db_url: str, world: World, fake: FakeMicrosoft) -> None:
    _connect(db_url, fake, world.agent)
    _plan(db_url, world, _next_day_at(9), [world.agent])
    fake.failures.extend([(429, "TooManyRequests", "3600"), (503, "ServiceUnavailable", None)])
    before = clock.now()
    _run(db_url)
    [row] = _outlook_rows(db_url)
    assert row.status == OutboxStatus.PENDING.value
    assert row.next_attempt_at >= before + timedelta(seconds=3600)
    assert fake.calendar() == []
    _run(db_url, later=timedelta(hours=1, minutes=1))
    [row] = _outlook_rows(db_url)
    assert row.status == OutboxStatus.PENDING.value and "503" in (row.last_error or "")
    _run(db_url, later=timedelta(hours=2))
    assert len(fake.calendar()) == 1
    assert _outlook_rows(db_url)[0].status == OutboxStatus.SENT.value


def test_an_expired_access_token_is_refreshed_and_the_new_refresh_token_kept(db_url: str, world: World,
                                                                            fake: FakeMicrosoft) -> None:
    _connect(db_url, fake, world.agent)
    first_refresh = fake.refresh_token
    fake.expire_access_tokens()
    _plan(db_url, world, _next_day_at(9), [world.agent])
    _run(db_url)
    assert len(fake.calendar()) == 1
    assert [m for m, *_ in fake.requests] == ["POST", "POST"]  # 401, refresh, the same call again
    assert fake.requests[0][2] != fake.requests[1][2] == fake.access_token
    assert fake.refresh_token != first_refresh
    connection = _connection(db_url, world.agent)
    assert connection is not None and unseal(connection.refresh_token_sealed) == fake.refresh_token
    fake.expire_access_tokens()  # the rotated refresh token works: the old one would be refused
    _plan(db_url, world, _next_day_at(14), [world.agent])
    _run(db_url)
    assert len(fake.calendar()) == 2


def test_a_401_storm_refreshes_once_per_attempt_and_does_not_loop(db_url: str, world: World,
                                                                 fake: FakeMicrosoft) -> None:
    _connect(db_url, fake, world.agent)
    _plan(db_url, world, _next_day_at(9), [world.agent])
    fake.unauthorized_next = 1000
    token_calls = len(fake.token_requests)
    _run(db_url)
    assert len(fake.requests) == 2
    assert len(fake.token_requests) == token_calls + 1
    [row] = _outlook_rows(db_url)
    assert row.status == OutboxStatus.PENDING.value and row.attempts == 1


def test_a_refused_refresh_marks_the_connection_broken_and_emails_the_agent_once(db_url: str, world: World,
                                                                                 fake: FakeMicrosoft) -> None:
    _connect(db_url, fake, world.agent)
    fake.refuse_refresh = True
    fake.expire_access_tokens()
    _plan(db_url, world, _next_day_at(9), [world.agent])
    _plan(db_url, world, _next_day_at(14), [world.agent])
    _run(db_url)
    first, second = _outlook_rows(db_url)
    assert first.status == OutboxStatus.FAILED.value and "renouveler" in (first.last_error or "")
    assert second.status == OutboxStatus.SENT.value  # nothing to do on a broken connection
    assert fake.calendar() == []
    with UnitOfWork(db_url) as uow:
        emails = uow.session.exec(select(OutboxMessage).where(OutboxMessage.channel == Channel.MAIL.value,
                                                              OutboxMessage.agent_id == world.agent,
                                                              OutboxMessage.event == NotificationEvent.ACCOUNT.value)).all()
        subjects = [email.payload["subject"] for email in emails]
        status = outlook.outlook_status(uow, world.agent)
    assert subjects == ["Votre agenda Outlook n'est plus synchronisé"]
    assert status.connected and status.broken
    _plan(db_url, world, _next_day_at(16), [world.agent])
    assert len(_outlook_rows(db_url)) == 2  # a broken connection queues nothing more


def test_a_create_whose_answer_was_lost_gives_one_event(db_url: str, world: World, fake: FakeMicrosoft) -> None:
    """A worker killed after Microsoft created the event but before its id was recorded: the next attempt
    finds the event by its transactionId instead of making a second one."""
    _connect(db_url, fake, world.agent)
    _plan(db_url, world, _next_day_at(9), [world.agent])
    _run(db_url)
    with UnitOfWork(db_url) as uow:  # the state a crash right after the POST leaves
        row = uow.session.exec(select(OutlookEvent)).one()
        row.creating, row.outlook_id = outlook_domain.transaction_id(row.rdv_uuid, world.agent, 0), None
        uow.session.add(row)
        rdv_uuid = row.rdv_uuid
        uow.commit()
    with UnitOfWork(db_url) as uow:
        sync.queue_sync(uow.session, world.agent, rdv_uuid, None, "replay")
        uow.commit()
    _run(db_url)
    assert len(fake.calendar()) == 1
    with UnitOfWork(db_url) as uow:
        row = uow.session.exec(select(OutlookEvent)).one()
        assert row.outlook_id == fake.calendar()[0]["id"] and row.creating is None
    with UnitOfWork(db_url) as uow:  # the create was recorded as not started: Graph refuses the duplicate
        row = uow.session.exec(select(OutlookEvent)).one()
        row.creating = row.outlook_id = None
        uow.session.add(row)
        sync.queue_sync(uow.session, world.agent, rdv_uuid, None, "replay-2")
        uow.commit()
    _run(db_url)
    assert len(fake.calendar()) == 1


def test_deleting_an_event_already_gone_is_silent(db_url: str, world: World, fake: FakeMicrosoft) -> None:
    _connect(db_url, fake, world.agent)
    rdv_id = _plan(db_url, world, _next_day_at(9), [world.agent])
    _run(db_url)
    fake.events.clear()  # deleted in Outlook by the agent
    with UnitOfWork(db_url) as uow:
        lifecycle.cancel_rdv(uow, world.admin, world.org, rdv_id)
    _run(db_url)
    assert {r.status for r in _outlook_rows(db_url)} == {OutboxStatus.SENT.value}


# --------------------------------------------------------------------------- disconnect


def test_disconnecting_removes_every_event_then_the_tokens(db_url: str, world: World, fake: FakeMicrosoft) -> None:
    _connect(db_url, fake, world.agent)
    for hour in (9, 11, 14):
        _plan(db_url, world, _next_day_at(hour), [world.agent])
    _run(db_url)
    assert len(fake.calendar()) == 3
    with UnitOfWork(db_url) as uow:
        status = outlook.disconnect_outlook(uow, world.agent)
    assert status.disconnecting and status.to_remove == 3 and status.removed == 0
    _run(db_url)
    assert fake.calendar() == []
    assert _connection(db_url, world.agent) is None
    with UnitOfWork(db_url) as uow:
        assert not outlook.outlook_status(uow, world.agent).connected
    _plan(db_url, world, _next_day_at(16), [world.agent])
    assert len([r for r in _outlook_rows(db_url) if r.event == NotificationEvent.OUTLOOK_SYNC.value]) == 3


def test_disconnecting_clears_the_tokens_even_when_deletes_fail(db_url: str, world: World,
                                                               fake: FakeMicrosoft) -> None:
    _connect(db_url, fake, world.agent)
    _plan(db_url, world, _next_day_at(9), [world.agent])
    _plan(db_url, world, _next_day_at(11), [world.agent])
    _run(db_url)
    fake.fail_deletes = True
    with UnitOfWork(db_url) as uow:
        outlook.disconnect_outlook(uow, world.agent)
    _run(db_url)
    assert len(fake.calendar()) == 2  # Microsoft refused the deletes
    assert _connection(db_url, world.agent) is None
    with UnitOfWork(db_url) as uow:
        assert uow.session.exec(select(OutlookEvent)).all() == []


def test_a_closed_account_loses_its_outlook_events_then_its_tokens(db_url: str, world: World,
                                                                   fake: FakeMicrosoft) -> None:
    """An admin removes the agent (no RDV to come) from their only organisation: the account closes, and
    the past RDVs it had sent leave the agent's Outlook calendar, then the tokens are cleared, as a
    disconnection does."""
    _connect(db_url, fake, world.agent)
    _plan(db_url, world, _next_day_at(9, days=-3), [world.agent])
    _plan(db_url, world, _next_day_at(11, days=-2), [world.agent])
    _run(db_url)
    assert len(fake.calendar()) == 2
    with UnitOfWork(db_url) as uow:
        organisation_agents.remove_agent(uow, world.admin, world.org, world.agent)
    _run(db_url)
    assert fake.calendar() == []
    assert _connection(db_url, world.agent) is None


def test_other_graph_errors_are_retried_with_the_outbox_backoff(db_url: str, world: World,
                                                                 fake: FakeMicrosoft) -> None:
    _connect(db_url, fake, world.agent)
    _plan(db_url, world, _next_day_at(9), [world.agent])
    fake.failures.append((403, "ErrorAccountSuspend", None))
    before = clock.now()
    _run(db_url)
    [row] = _outlook_rows(db_url)
    assert row.status == OutboxStatus.PENDING.value and "ErrorAccountSuspend" in (row.last_error or "")
    assert before + timedelta(seconds=20) <= row.next_attempt_at <= clock.now() + timedelta(minutes=1)
    assert fake.calendar() == []
    _run(db_url, later=timedelta(minutes=2))
    assert len(fake.calendar()) == 1
