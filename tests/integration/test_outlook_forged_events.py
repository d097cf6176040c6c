"""Forged events of "Synchronisation avec Outlook" (rdv_app.state.calendar_sync.OutlookState), sent the way the
server processes them (tests/integration/test_rights_forged_events.py): the handlers take no id, so an
agent can only ever act on their own connection; a disconnection sent before the page has loaded does
nothing; "S'identifier avec Microsoft" leads nowhere when the instance has no Azure application. On
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from db_snapshot import snapshot
from sqlmodel import select
from test_rights_forged_events import _open, world  # noqa: F401 - the fixture, used by name

from rdv_app import routes
from rdv_app.auth.sealed import seal
from rdv_app.db.models import Agent, OutboxMessage, OutlookConnection
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain.enums import Channel
from rdv_app.state.calendar_sync import OutlookState

AZURE = {"RDV_MICROSOFT_CLIENT_ID": "azure-app-id", "RDV_MICROSOFT_CLIENT_SECRET": "azure-secret-0123456789"}


def _connected(db_url: str, *agent_ids: int) -> None:
    with UnitOfWork(db_url) as uow:
        for agent_id in agent_ids:
            uow.session.add(OutlookConnection(agent_id=agent_id, access_token_sealed=seal("at"),
                                              refresh_token_sealed=seal(f"rt-{agent_id}"),
                                              access_expires_at=clock.now(), refresh_issued_at=clock.now()))
        uow.commit()


def _connections(db_url: str) -> dict[int, bool]:
    """agent id -> disconnecting."""
    with UnitOfWork(db_url) as uow:
        return {row.agent_id: row.disconnect_started_at is not None
                for row in uow.session.exec(select(OutlookConnection))}


def test_disconnect_acts_on_the_signed_in_agent_only(db_url: str, world: dict[str, int],  # noqa: F811
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in AZURE.items():
        monkeypatch.setenv(name, value)
    _connected(db_url, world["admin"], world["agent_b"])

    async def scenario() -> str:
        tab = await _open(db_url, routes.ACCOUNT, None)
        await tab.send(OutlookState, "load_outlook")
        await tab.send(OutlookState, "ask_disconnect")
        await tab.send(OutlookState, "disconnect")
        return tab.state()

    state = asyncio.run(scenario())
    assert _connections(db_url) == {world["admin"]: True, world["agent_b"]: False}
    with UnitOfWork(db_url) as uow:
        queued = uow.session.exec(select(OutboxMessage.payload)
                                  .where(OutboxMessage.channel == Channel.OUTLOOK.value)).all()
        email_b = uow.session.get(Agent, world["agent_b"]).email  # type: ignore[union-attr]
    assert queued == [{"agent_id": world["admin"]}]
    assert email_b not in state


def test_a_disconnection_sent_before_the_page_loaded_does_nothing(db_url: str, world: dict[str, int],  # noqa: F811
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in AZURE.items():
        monkeypatch.setenv(name, value)
    _connected(db_url, world["admin"])

    async def scenario() -> None:
        tab = await _open(db_url, routes.ACCOUNT, None)
        before = snapshot(db_url, {"agent_session": {"last_seen_at"}})
        await tab.send(OutlookState, "disconnect")
        assert snapshot(db_url, {"agent_session": {"last_seen_at"}}) == before

    asyncio.run(scenario())


def test_connect_leads_nowhere_without_an_azure_application(db_url: str, world: dict[str, int],  # noqa: F811
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    for name in AZURE:
        monkeypatch.delenv(name, raising=False)

    async def scenario() -> str:
        tab = await _open(db_url, routes.ACCOUNT, None)
        await tab.send(OutlookState, "load_outlook")
        tab.forget()
        await tab.send(OutlookState, "connect")
        return tab.sent()

    sent = asyncio.run(scenario())
    assert routes.OUTLOOK_START not in sent
