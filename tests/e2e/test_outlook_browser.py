"""Outlook (Microsoft 365) sync in the browser: an agent connects through the loopback Microsoft's
authorization page, sees their RDVs arrive in the fake mailbox's calendar, an RDV planned afterwards too,
then disconnects and watches the removal's progress until the page offers to connect again."""

from __future__ import annotations

import re
import time as wall_time
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fakes.microsoft_graph import FakeMicrosoft
from playwright.sync_api import Page, expect
from sqlmodel import col, select

from rdv_app.db.models import (
    Agent,
    AgentRole,
    AgentService,
    Lieu,
    Motif,
    OutboxMessage,
    OutlookConnection,
    UsagerProfile,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.enums import Channel, LocationType, NotificationEvent, OutboxStatus
from rdv_app.services.rdv import lifecycle

JULIEN = "julien.petit@demo.test"
PARIS = ZoneInfo("Europe/Paris")


def _until(condition: Callable[[], bool], what: str, seconds: float = 30.0) -> None:
    """Waits for what the agent would see in Outlook (the worker delivers within seconds)."""
    deadline = wall_time.monotonic() + seconds
    while not condition():
        assert wall_time.monotonic() < deadline, what
        wall_time.sleep(0.2)


def _syncs(database_url: str) -> list[str]:
    """The statuses of the Outlook syncs queued (everything of the demo is Julien's here)."""
    with UnitOfWork(database_url) as uow:
        return list(uow.session.exec(select(OutboxMessage.status).where(
            OutboxMessage.channel == Channel.OUTLOOK.value,
            OutboxMessage.event == NotificationEvent.OUTLOOK_SYNC.value)))


def _all_synced(database_url: str) -> bool:
    statuses = _syncs(database_url)
    return bool(statuses) and set(statuses) == {OutboxStatus.SENT.value}


def _plan_for_julien(database_url: str) -> tuple[int, datetime]:
    """An RDV of Julien next week, planned as another agent of the organisation would."""
    with UnitOfWork(database_url) as uow:
        s = uow.session
        julien = s.exec(select(Agent).where(Agent.email == JULIEN)).one()
        organisation_id = s.exec(select(AgentRole.organisation_id).where(AgentRole.agent_id == julien.id)
                                 .order_by(col(AgentRole.id))).first()
        motif = s.exec(select(Motif).where(Motif.organisation_id == organisation_id, col(Motif.collectif).is_(False),
                                           Motif.location_type == LocationType.PUBLIC_OFFICE.value,
                                           col(Motif.service_id).in_(select(AgentService.service_id)
                                                                     .where(AgentService.agent_id == julien.id)),
                                           col(Motif.deleted_at).is_(None)).order_by(col(Motif.id))).first()
        lieu = s.exec(select(Lieu).where(Lieu.organisation_id == organisation_id).order_by(col(Lieu.id))).first()
        usager_id = s.exec(select(UsagerProfile.usager_id).where(UsagerProfile.organisation_id == organisation_id)
                           .order_by(col(UsagerProfile.id))).first()
        assert motif is not None and lieu is not None and usager_id is not None and organisation_id is not None
        day = datetime.now(PARIS).date() + timedelta(days=8)
        starts_at = datetime.combine(day, time(18, 10), PARIS).astimezone(UTC)
        rdv_id = lifecycle.plan_rdv(uow, julien.id, organisation_id, motif_id=motif.id, starts_at=starts_at,
                                    duration_in_min=20, agent_ids=[julien.id], lieu_id=lieu.id,
                                    usager_ids=[usager_id], confirm_warnings=True)
    return rdv_id, starts_at


def test_an_agent_connects_outlook_sees_rdvs_arrive_then_disconnects(page: Page, login_as, assert_accessible,
                                                                     app_url: str, app_database_url: str,
                                                                     microsoft: FakeMicrosoft) -> None:
    login_as(JULIEN)
    page.goto(f"{app_url}/mon-compte")
    section = page.get_by_role("region", name="Synchronisation avec Outlook (Microsoft 365)")
    expect(section).to_contain_text("jamais les informations des usagers")
    connect = section.get_by_role("button", name="S'identifier avec Microsoft")
    expect(connect).to_be_enabled()
    assert_accessible(page)

    connect.click()
    expect(page.get_by_role("heading", name="Autoriser l'accès à votre calendrier")).to_be_visible()
    expect(page.get_by_text(f"Compte : {JULIEN}")).to_be_visible()  # login_hint: the agent's email
    page.get_by_role("link", name="Accepter").click()

    page.wait_for_url(re.compile(r"/mon-compte/?\?outlook=connecte"))
    expect(section.get_by_role("status")).to_contain_text("Votre compte Outlook a bien été connecté")
    expect(section).to_contain_text("la connexion est à renouveler avant le")
    expect(section.get_by_role("button", name="Déconnecter votre compte Outlook")).to_be_enabled()
    assert_accessible(page)
    with UnitOfWork(app_database_url) as uow:
        julien_id = uow.session.exec(select(Agent.id).where(Agent.email == JULIEN)).one()
        stored = uow.session.get(OutlookConnection, julien_id)
        assert stored is not None and microsoft.refresh_token not in (stored.refresh_token_sealed or "")
    _until(lambda: _all_synced(app_database_url), "the demo RDVs of the last month reach Outlook")
    backfilled = len(microsoft.calendar())
    assert backfilled == len(_syncs(app_database_url)) > 0

    rdv_id, starts_at = _plan_for_julien(app_database_url)
    _until(lambda: any(e["instant"] == starts_at for e in microsoft.calendar()) and _all_synced(app_database_url),
           "the planned RDV reaches Outlook")
    [planned] = [e for e in microsoft.calendar() if e["instant"] == starts_at]
    assert f"/agenda/rdv/{rdv_id}" in planned["body"]["content"]
    assert planned["start"]["timeZone"] == "Romance Standard Time"
    assert len(microsoft.calendar()) == backfilled + 1

    microsoft.delete_delay = 0.3  # a slow mailbox: the removal takes a while
    section.get_by_role("button", name="Déconnecter votre compte Outlook").click()
    expect(section).to_contain_text("Tous vos rendez-vous seront retirés de votre agenda Outlook")
    assert_accessible(page)
    section.get_by_role("button", name="Oui, déconnecter mon compte Outlook").click()
    progress = section.get_by_role("progressbar")
    expect(progress).to_be_visible()
    expect(section).to_contain_text(re.compile(r"\d+ sur \d+ rendez-vous retirés"))
    assert_accessible(page)
    expect(section.get_by_role("status")).to_contain_text("Votre compte Outlook a été déconnecté", timeout=60_000)
    expect(section.get_by_role("button", name="S'identifier avec Microsoft")).to_be_enabled()
    microsoft.delete_delay = 0.0
    assert microsoft.calendar() == []
    with UnitOfWork(app_database_url) as uow:
        assert uow.session.get(OutlookConnection, julien_id) is None
