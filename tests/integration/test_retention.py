"""Personal data retention (rdv_app.services.retention), on SQLite and PostgreSQL: each rule at its
boundary, a second before and a second after, with the clock frozen; the worker's daily run does them
all once a day."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import factories as make
import pytest
import time_machine
from sqlmodel import col, select

from rdv_app.db.models import (
    Absence,
    Agent,
    AgentLoginTicket,
    AgentSession,
    AuditLog,
    DailyJobRun,
    Organisation,
    OutboxMessage,
    Participation,
    Rdv,
    RdvAgent,
    Receipt,
    SecurityEvent,
    Usager,
    UsagerEmailToken,
    UsagerProfile,
    UsagerSession,
    WebhookEndpoint,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.notify.daily_jobs import run_daily_jobs
from rdv_app.services import retention
from rdv_app.services.usagers import usager_auth

# 10 December 2026 at noon in Paris.
NOW = datetime(2026, 12, 10, 11, 0, tzinfo=UTC)
TODAY = date(2026, 12, 10)
SECOND = timedelta(seconds=1)
TWO_YEARS_AGO = datetime(2024, 12, 10, 11, 0, tzinfo=UTC)
A_YEAR_AGO = datetime(2025, 12, 10, 11, 0, tzinfo=UTC)
pytestmark = pytest.mark.clock(NOW, tick=False)


@dataclass
class World:
    org: int
    agent: int
    motif: int
    lieu: int
    usager: int


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    s = uow.session
    territory = make.territory(s)
    pmi = make.service(s)
    org = make.organisation(s, territory, timezone="Europe/Paris")
    agent = make.agent(s, "agent@demo.test", "Inès", "Roux", organisation=org, role="admin", services=[pmi],
                       last_sign_in_at=NOW)
    lieu = make.lieu(s, org)
    motif = make.motif(s, org, pmi)
    usager = make.usager(s, "Jeanne", "Dupont", email="jeanne@example.fr", organisations=[org])
    s.add(WebhookEndpoint(organisation_id=org.id, target_url="https://si.example/rdv", secret="whsec_x",
                          subscriptions=["rdv", "absence", "user", "user_profile", "agent"]))
    uow.commit()
    return World(org.id, agent.id, motif.id, lieu.id, usager.id)  # type: ignore[arg-type]


def _add(uow: UnitOfWork, *rows: object) -> list[int]:
    uow.session.add_all(rows)
    uow.commit()
    return [row.id for row in rows]  # type: ignore[attr-defined]


def _ids(db_url: str, model: type, *where: object) -> set[int]:
    with UnitOfWork(db_url) as check:
        return set(check.session.exec(select(model.id).where(*where)))  # type: ignore[attr-defined]


def _webhooks(db_url: str) -> list[tuple[str, str, str | None, int]]:
    with UnitOfWork(db_url) as check:
        rows = check.session.exec(select(OutboxMessage.payload).where(OutboxMessage.channel == "webhook")
                                  .order_by(col(OutboxMessage.id))).all()
    metas = [(json.loads(p["body"])["meta"], json.loads(p["body"])["data"]["id"]) for p in rows]
    return [(m["model"], m["event"], m["webhook_reason"], record_id) for m, record_id in metas]


def _rdv(uow: UnitOfWork, world: World, starts_at: datetime) -> int:
    [rdv_id] = _add(uow, Rdv(organisation_id=world.org, motif_id=world.motif, lieu_id=world.lieu, starts_at=starts_at,
                             ends_at=starts_at + timedelta(minutes=30), status="seen", users_count=1))
    _add(uow, Participation(rdv_id=rdv_id, usager_id=world.usager, status="seen"))
    uow.session.add(RdvAgent(rdv_id=rdv_id, agent_id=world.agent))
    uow.commit()
    return rdv_id


# --------------------------------------------------------------------------- RDVs and receipts


def test_rdvs_go_two_years_after_their_start_with_what_hangs_on_them(uow: UnitOfWork, world: World,
                                                                      db_url: str) -> None:
    old = _rdv(uow, world, TWO_YEARS_AGO - SECOND)
    kept = _rdv(uow, world, TWO_YEARS_AGO + SECOND)
    for rdv_id in (old, kept):
        [message] = _add(uow, OutboxMessage(idempotency_key=f"rdv_created:{rdv_id}", channel="sms", event="rdv_created",
                                            payload={}, status="sent", rdv_id=rdv_id))
        _add(uow, Receipt(outbox_message_id=message, rdv_id=rdv_id, event="rdv_created", channel="sms",
                          result="sent", created_at=NOW - timedelta(days=1)))

    assert retention.purge_rdvs(uow, TODAY) == 1

    assert _ids(db_url, Rdv) == {kept}
    assert len(_ids(db_url, Participation)) == 1 == len(_ids(db_url, Participation, Participation.rdv_id == kept))
    assert _ids(db_url, Receipt, col(Receipt.rdv_id).is_(None)) == set() and len(_ids(db_url, Receipt)) == 1
    assert len(_ids(db_url, OutboxMessage, OutboxMessage.channel == "sms")) == 1
    assert _webhooks(db_url) == [("Rdv", "destroyed", "rgpd", old)]


def test_receipts_are_anonymised_after_six_months_and_deleted_after_two_years(uow: UnitOfWork, world: World,
                                                                              db_url: str) -> None:
    def receipt(created_at: datetime) -> Receipt:
        return Receipt(event="rdv_created", channel="sms", result="failure", content="RDV PMI https://x/r/1/abc",
                       sms_phone_number="+33612345678", error_message="Échec pour +33612345678",
                       created_at=created_at)

    six_months = retention.RECEIPT_ANONYMISED_AFTER
    recent, anonymised, kept, gone = _add(uow, receipt(NOW - six_months + SECOND), receipt(NOW - six_months - SECOND),
                                          receipt(TWO_YEARS_AGO + SECOND), receipt(TWO_YEARS_AGO - SECOND))

    assert retention.purge_receipts(uow, TODAY) == 3

    with UnitOfWork(db_url) as check:
        rows = {r.id: r for r in check.session.exec(select(Receipt))}
        check.session.expunge_all()
    assert set(rows) == {recent, anonymised, kept}
    assert rows[recent].content and rows[recent].sms_phone_number and rows[recent].error_message
    for row_id in (anonymised, kept):
        row = rows[row_id]
        assert (row.content, row.sms_phone_number, row.email_address, row.error_message) == (None, None, None, None)
        assert (row.event, row.channel, row.result) == ("rdv_created", "sms", "failure")
    assert retention.purge_receipts(uow, TODAY) == 0


# --------------------------------------------------------------------------- usagers


def test_usagers_without_participation_go_two_years_after_their_creation(uow: UnitOfWork, world: World,
                                                                          db_url: str) -> None:
    s = uow.session
    org = s.get(Organisation, world.org)
    old = make.usager(s, "Ancien", "Usager", organisations=[org], created_at=TWO_YEARS_AGO - SECOND)
    recent = make.usager(s, "Récent", "Usager", organisations=[org], created_at=TWO_YEARS_AGO + SECOND)
    parent = make.usager(s, "Parent", "Ancien", created_at=TWO_YEARS_AGO - SECOND)
    child = make.usager(s, "Enfant", "Récent", responsible_id=parent.id)
    uow.commit()
    taking_part = _rdv(uow, world, NOW - timedelta(days=10))
    usager = s.get(Usager, world.usager)
    usager.created_at = TWO_YEARS_AGO - SECOND  # type: ignore[union-attr]
    s.add(usager)
    uow.commit()
    profile = _ids(db_url, UsagerProfile, UsagerProfile.usager_id == old.id)

    assert retention.purge_usagers(uow, TODAY) == 1

    assert _ids(db_url, Usager) == {recent.id, parent.id, child.id, world.usager}
    assert _ids(db_url, UsagerProfile, UsagerProfile.usager_id == old.id) == set()
    assert taking_part in _ids(db_url, Rdv)
    assert _webhooks(db_url) == [("UserProfile", "destroyed", "rgpd", *profile), ("User", "destroyed", "rgpd", old.id)]


def test_sign_ups_never_verified_go_after_24_hours(uow: UnitOfWork, world: World, db_url: str) -> None:
    day = retention.UNVERIFIED_ACCOUNT_KEPT

    def account(name: str, created_at: datetime, **fields: object) -> Usager:
        return Usager(first_name=name, last_name="Compte", email=f"{name}@example.fr", created_at=created_at,
                      created_through=fields.pop("created_through", "user_sign_up"), **fields)

    squatter, waiting, verified, by_agent = _add(
        uow, account("intrus", NOW - day - SECOND), account("attente", NOW - day + SECOND),
        account("verifie", NOW - day - SECOND, email_verified_at=NOW - day),
        account("agent", NOW - day - SECOND, created_through="agent_creation"))
    _add(uow, UsagerEmailToken(usager_id=squatter, token_hash="h1", expires_at=NOW + day))

    assert retention.purge_unverified_accounts(uow, TODAY) == 1

    assert _ids(db_url, Usager) == {world.usager, waiting, verified, by_agent}
    assert _ids(db_url, UsagerEmailToken) == set()


# --------------------------------------------------------------------------- agents


def test_inactive_agents_are_warned_then_deleted_thirty_days_later(uow: UnitOfWork, world: World,
                                                                    db_url: str) -> None:
    old = TWO_YEARS_AGO - SECOND
    s = uow.session
    idle = make.agent(s, "idle@demo.test", "Idle", "Agent", created_at=old, last_sign_in_at=old,
                      organisation=s.get(Organisation, world.org))
    make.agent(s, "never@demo.test", "Never", "Agent", created_at=old)
    returning = make.agent(s, "back@demo.test", "Back", "Agent", created_at=old, last_sign_in_at=old)
    recent = make.agent(s, "recent@demo.test", "Recent", "Agent", created_at=old,
                        last_sign_in_at=TWO_YEARS_AGO + SECOND)
    with_rdv = make.agent(s, "rdv@demo.test", "Rdv", "Agent", created_at=old, last_sign_in_at=old)
    uow.commit()
    rdv_id = _rdv(uow, world, NOW - timedelta(days=800))
    s.add(RdvAgent(rdv_id=rdv_id, agent_id=with_rdv.id))  # type: ignore[arg-type]
    uow.commit()

    assert retention.purge_inactive_agents(uow, TODAY) == 3
    with UnitOfWork(db_url) as check:
        mails = check.session.exec(select(OutboxMessage).where(OutboxMessage.channel == "mail")).all()
        check.session.expunge_all()
    assert sorted(m.payload["to"] for m in mails) == ["back@demo.test", "idle@demo.test", "never@demo.test"]
    assert all("inactif depuis au moins 2 ans" in m.payload["text"] and "dans 30 jours" in m.payload["text"]
               for m in mails)
    assert retention.purge_inactive_agents(uow, TODAY) == 0  # warned once

    with time_machine.travel(NOW + retention.AGENT_NOTICE - SECOND, tick=False):
        # Nobody deleted yet; the agent last seen a second too recently has now been away 2 years too.
        assert retention.purge_inactive_agents(uow, TODAY) == 1
    with UnitOfWork(db_url) as edit:  # one of them signs in before the deadline
        agent = edit.session.get(Agent, returning.id)
        agent.last_sign_in_at = NOW + timedelta(days=3)  # type: ignore[union-attr]
        edit.session.add(agent)
        edit.commit()
    with time_machine.travel(NOW + retention.AGENT_NOTICE, tick=False):
        assert retention.purge_inactive_agents(uow, TODAY + timedelta(days=30)) == 2

    assert _ids(db_url, Agent) == {world.agent, returning.id, recent.id, with_rdv.id}
    # Only the organisations of the agent hear of it: the one with a role there.
    assert _webhooks(db_url) == [("Agent", "destroyed", "rgpd", idle.id)]


# --------------------------------------------------------------------------- history, messages, sessions


def test_history_of_personal_records_goes_after_a_year_the_rest_loses_its_author(uow: UnitOfWork, world: World,
                                                                                 db_url: str) -> None:
    def entry(entity_type: str, occurred_at: datetime) -> AuditLog:
        return AuditLog(actor_type="agent", actor_agent_id=world.agent, action="update", entity_type=entity_type,
                        entity_id="1", changes={"name": ["a", "b"]}, occurred_at=occurred_at)

    recent_rdv, old_rdv, old_usager, recent_motif, old_motif, ancient_motif = _add(
        uow, entry("rdv", A_YEAR_AGO + SECOND), entry("rdv", A_YEAR_AGO - SECOND), entry("usager", A_YEAR_AGO - SECOND),
        entry("motif", A_YEAR_AGO + SECOND), entry("motif", A_YEAR_AGO - SECOND),
        entry("motif", datetime(2021, 12, 10, 11, 0, tzinfo=UTC) - SECOND))

    assert retention.purge_history(uow, TODAY) == 4

    with UnitOfWork(db_url) as check:
        rows = {row.id: row for row in check.session.exec(select(AuditLog))}
        check.session.expunge_all()
    assert set(rows) == {recent_rdv, recent_motif, old_motif}
    assert rows[old_motif].actor_agent_id is None and rows[old_motif].changes == {"name": ["a", "b"]}
    assert rows[recent_motif].actor_agent_id == world.agent == rows[recent_rdv].actor_agent_id


def test_security_events_go_after_a_year(uow: UnitOfWork, world: World, db_url: str) -> None:
    kept, _gone = _add(uow, SecurityEvent(kind="sign_in_failed", agent_id=world.agent, ip="10.0.0.1",
                                         occurred_at=A_YEAR_AGO + SECOND),
                      SecurityEvent(kind="sign_in_failed", agent_id=world.agent, ip="10.0.0.1",
                                    occurred_at=A_YEAR_AGO - SECOND))

    assert retention.purge_history(uow, TODAY) == 1

    with UnitOfWork(db_url) as check:
        assert check.session.exec(select(SecurityEvent.id)).all() == [kept]


def test_outbox_payloads_are_emptied_thirty_days_after_delivery(uow: UnitOfWork, world: World, db_url: str) -> None:
    kept = retention.OUTBOX_PAYLOAD_KEPT

    def message(key: str, status: str, sent_at: datetime | None, next_attempt_at: datetime) -> OutboxMessage:
        return OutboxMessage(idempotency_key=key, channel="sms", event="rdv_created", status=status,
                             payload={"to": "+33612345678", "text": "Infos et annulation : https://x/r/1/abc"},
                             sent_at=sent_at, next_attempt_at=next_attempt_at)

    old, recent, failed, pending = _add(
        uow, message("old", "sent", NOW - kept - SECOND, NOW - timedelta(days=40)),
        message("recent", "sent", NOW - kept + SECOND, NOW - timedelta(days=40)),
        message("failed", "failed", None, NOW - kept - SECOND),
        message("pending", "pending", None, NOW - timedelta(days=40)))

    assert retention.empty_outbox_payloads(uow, TODAY) == 2
    assert retention.empty_outbox_payloads(uow, TODAY) == 0

    with UnitOfWork(db_url) as check:
        payloads = {row.id: row.payload for row in check.session.exec(select(OutboxMessage))}
    assert payloads[old] == {} == payloads[failed]
    assert payloads[recent]["text"] and payloads[pending]["text"]


def test_expired_sessions_and_tokens_are_deleted(uow: UnitOfWork, world: World, db_url: str) -> None:
    agent_idle, usager_idle = retention.AGENT_SESSION_IDLE_TIMEOUT, retention.USAGER_SESSION_IDLE_TIMEOUT
    agent_sessions = _add(uow, AgentSession(agent_id=world.agent, token_hash="a1", last_seen_at=NOW - agent_idle - SECOND),
                          AgentSession(agent_id=world.agent, token_hash="a2", last_seen_at=NOW - agent_idle + SECOND),
                          AgentSession(agent_id=world.agent, token_hash="a3", last_seen_at=NOW, revoked_at=NOW))
    usager_sessions = _add(uow, UsagerSession(usager_id=world.usager, token_hash="u1",
                                              last_seen_at=NOW - usager_idle - SECOND),
                           UsagerSession(usager_id=world.usager, token_hash="u2", last_seen_at=NOW - usager_idle + SECOND))
    tickets = _add(uow, AgentLoginTicket(agent_id=world.agent, token_hash="t1", expires_at=NOW - SECOND),
                   AgentLoginTicket(agent_id=world.agent, token_hash="t2", expires_at=NOW + SECOND))
    links = _add(uow, UsagerEmailToken(usager_id=world.usager, token_hash="l1", expires_at=NOW - SECOND),
                 UsagerEmailToken(usager_id=world.usager, token_hash="l2", expires_at=NOW + SECOND, used_at=NOW),
                 UsagerEmailToken(usager_id=world.usager, token_hash="l3", expires_at=NOW + SECOND))
    rdv_id = _rdv(uow, world, NOW + timedelta(days=3))
    participation = uow.session.exec(select(Participation).where(Participation.rdv_id == rdv_id)).one()
    participation.access_token_hash, participation.access_token_expires_at = "p1", NOW - SECOND
    uow.session.add(participation)
    uow.commit()

    assert retention.purge_sessions_and_tokens(uow, TODAY) == 7

    assert _ids(db_url, AgentSession) == {agent_sessions[1]}
    assert _ids(db_url, UsagerSession) == {usager_sessions[1]}
    assert _ids(db_url, AgentLoginTicket) == {tickets[1]}
    assert _ids(db_url, UsagerEmailToken) == {links[2]}
    assert _ids(db_url, Participation, col(Participation.access_token_hash).is_not(None)) == set()


def test_a_sign_in_link_asked_after_the_nights_purge_is_sent(uow: UnitOfWork, world: World, db_url: str) -> None:
    """The purge deletes the links used: on SQLite the next link takes the id of the last one deleted,
    and its email must still be queued (it was not, its outbox key being the link's id)."""
    def link_emails() -> list[str]:
        with UnitOfWork(db_url) as check:
            payloads = check.session.exec(select(OutboxMessage.payload).where(OutboxMessage.channel == "mail")
                                          .order_by(col(OutboxMessage.id))).all()
        return [p["text"] for p in payloads if p.get("to") == "jeanne@example.fr"]

    usager_auth.request_sign_in_link(uow, email="jeanne@example.fr", next_path="/mes-rdv", ip="192.0.2.1")
    [first] = link_emails()
    assert usager_auth.open_email_link(uow, re.search(r"jeton=(\S+)", first).group(1)) is not None  # type: ignore[union-attr]
    assert retention.purge_sessions_and_tokens(uow, TODAY) == 1

    usager_auth.request_sign_in_link(uow, email="jeanne@example.fr", next_path="/mes-rdv", ip="192.0.2.1")

    emails = link_emails()
    assert len(emails) == 2 and emails[1] != first
    opened = usager_auth.open_email_link(uow, re.search(r"jeton=(\S+)", emails[1]).group(1))  # type: ignore[union-attr]
    assert opened is not None and opened.usager_id == world.usager


# --------------------------------------------------------------------------- absences


def test_absences_go_a_year_after_they_ended(uow: UnitOfWork, world: World, db_url: str) -> None:
    def absence(title: str, first_day: date, end_day: date, recurrence: dict | None = None) -> Absence:
        return Absence(agent_id=world.agent, title=title, first_day=first_day, start_time=time(9), end_day=end_day,
                       end_time=time(12), recurrence=recurrence)

    gone, kept, series_gone, series_kept, endless = _add(
        uow, absence("ended 9 December 2025", date(2025, 12, 1), date(2025, 12, 9)),
        absence("ended 10 December 2025", date(2025, 12, 10), date(2025, 12, 10)),
        absence("series until 9 December 2025", date(2025, 1, 6), date(2025, 1, 6),
                {"every": "week", "until": "2025-12-09"}),
        absence("series until 10 December 2025", date(2025, 1, 6), date(2025, 1, 6),
                {"every": "week", "until": "2025-12-10"}),
        absence("series without end", date(2020, 1, 6), date(2020, 1, 6), {"every": "week"}))

    assert retention.purge_absences(uow, TODAY) == 2

    assert _ids(db_url, Absence) == {kept, series_kept, endless}
    assert sorted(_webhooks(db_url)) == [("Absence", "destroyed", "rgpd", gone), ("Absence", "destroyed", "rgpd",
                                                                                 series_gone)]


# --------------------------------------------------------------------------- the daily run


def test_the_worker_runs_every_retention_job_once_a_day(uow: UnitOfWork, world: World, db_url: str) -> None:
    old = _rdv(uow, world, TWO_YEARS_AGO - SECOND)
    done = run_daily_jobs(db_url, NOW)
    assert set(retention.DAILY_JOBS) <= set(done)
    assert done["purge_rdvs"] == 1 and old not in _ids(db_url, Rdv)
    assert run_daily_jobs(db_url, NOW + timedelta(hours=1)) == {}
    with UnitOfWork(db_url) as check:
        jobs = set(check.session.exec(select(DailyJobRun.job).where(DailyJobRun.day == TODAY)))
    assert set(retention.DAILY_JOBS) <= jobs
