"""A territory with its own OVH account (set in the super admins' back office) has its SMS sent through it,
with its service name, keys and sender; every other SMS goes through the instance's account, and so do the
territory's again once a super admin switches it back. Two loopback OVH servers, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import factories as make
import pytest
from factories import at_paris
from fakes.ovh_server import FakeOvh
from sqlmodel import select

from rdv_app.db.models import OutboxMessage, Receipt, Territory, UsagerProfile
from rdv_app.db.uow import UnitOfWork
from rdv_app.notify.territory_sms import open_ovh_account, seal_ovh_account
from rdv_app.notify.worker import deliver_now
from rdv_app.services.instance.backoffice import SMS_INSTANCE, SMS_OVH, SmsChange, save_sms_settings
from rdv_app.services.rdv import lifecycle

MONDAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # the Friday before
pytestmark = pytest.mark.clock(NOW)


@dataclass(frozen=True)
class Place:
    """An organisation of one territory, with what planning an RDV there takes."""
    territory: int
    organisation: int
    agent: int
    motif: int
    lieu: int
    usager: int


@dataclass(frozen=True)
class World:
    super_admin: int
    arras: Place  # territory 62, which gets its own OVH account
    saint_denis: Place  # territory 974, on the instance's provider


def _place(uow: UnitOfWork, departement: str, name: str, slug: str, email: str, phone: str) -> Place:
    s = uow.session
    territory = make.territory(s, departement, name)
    pmi = make.service(s, f"PMI {departement}", f"PMI{departement}")
    organisation = make.organisation(s, territory, f"PMI {name}", slug, timezone="Europe/Paris")
    agent = make.agent(s, email, "Julien", "Petit", organisation=organisation, role="admin", services=[pmi],
                       rdv_notifications_level="none")
    lieu, motif = make.lieu(s, organisation), make.motif(s, organisation, pmi)
    usager = make.usager(s, "Jeanne", "Dupont", phone_number=phone)
    s.add(UsagerProfile(organisation_id=organisation.id, usager_id=usager.id))  # type: ignore[arg-type]
    return Place(territory.id, organisation.id, agent.id, motif.id, lieu.id, usager.id)  # type: ignore[arg-type]


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    root = make.agent(uow.session, "root@demo.test", "Aline", "Roche", super_admin=True)
    arras = _place(uow, "62", "Pas-de-Calais", "pmi-arras", "julien@demo.test", "06 12 34 56 78")
    saint_denis = _place(uow, "974", "La Réunion", "pmi-saint-denis", "julien@demo.re", "06 92 12 34 56")
    uow.commit()
    return World(root.id, arras, saint_denis)  # type: ignore[arg-type]


@pytest.fixture
def instance_ovh(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOvh]:
    """The instance's account, configured from the environment as on a server."""
    with FakeOvh() as server:
        for name, value in (("OVH_ENDPOINT", server.endpoint), ("OVH_APPLICATION_KEY", server.application_key),
                            ("OVH_APPLICATION_SECRET", server.application_secret),
                            ("OVH_CONSUMER_KEY", server.consumer_key), ("RDV_OVH_SMS_SERVICE", server.service_name),
                            ("RDV_SMS_SENDER", "RDV S.P.")):
            monkeypatch.setenv(name, value)
        yield server


@pytest.fixture
def territory_ovh() -> Iterator[FakeOvh]:
    with FakeOvh(application_key="ak-62", application_secret="as-62-secret", consumer_key="ck-62",
                 service_name="sms-cd62000-1") as server:
        yield server


def _give_own_account(uow: UnitOfWork, world: World, ovh: FakeOvh) -> None:
    """Saved as a super admin does; the back office offers OVH's regions only, so the endpoint is then
    pointed at the loopback server."""
    assert save_sms_settings(uow, world.super_admin, world.arras.territory, SmsChange(
        provider=SMS_OVH, sender="PMI 62", endpoint="ovh-eu", service_name=ovh.service_name,
        application_key=ovh.application_key, application_secret=ovh.application_secret,
        consumer_key=ovh.consumer_key)) == "Les réglages SMS du territoire Pas-de-Calais sont enregistrés."
    territory = uow.session.get(Territory, world.arras.territory)
    assert territory is not None
    territory.sms_configuration = seal_ovh_account({**open_ovh_account(territory.sms_configuration),
                                                    "endpoint": ovh.endpoint})
    uow.session.add(territory)
    uow.commit()


def _plan_and_deliver(uow: UnitOfWork, db_url: str, place: Place, hour: int) -> OutboxMessage:
    """Plans an RDV at `place` (its usager is told by SMS), delivers that SMS and returns its row."""
    rdv_id = lifecycle.plan_rdv(uow, place.agent, place.organisation, motif_id=place.motif,
                                starts_at=at_paris(MONDAY, hour), duration_in_min=30, agent_ids=[place.agent],
                                lieu_id=place.lieu, usager_ids=[place.usager], confirm_warnings=True, now=NOW)
    [sms_id] = uow.session.exec(select(OutboxMessage.id).where(OutboxMessage.rdv_id == rdv_id,
                                                               OutboxMessage.channel == "sms")).all()
    uow.session.rollback()  # what the worker writes is read in a new transaction
    assert deliver_now([sms_id], db_url) == 1  # type: ignore[list-item]
    row = uow.session.get_one(OutboxMessage, sms_id)
    assert (row.status, row.last_error, row.organisation_id) == ("sent", None, place.organisation)
    return row


def _receipt(uow: UnitOfWork, row: OutboxMessage) -> Receipt:
    return uow.session.exec(select(Receipt).where(Receipt.outbox_message_id == row.id)).one()


def test_a_territory_with_its_own_account_sends_its_sms_through_it_until_switched_back(
        uow: UnitOfWork, db_url: str, world: World, instance_ovh: FakeOvh, territory_ovh: FakeOvh) -> None:
    _give_own_account(uow, world, territory_ovh)

    own = _plan_and_deliver(uow, db_url, world.arras, 9)
    [received] = territory_ovh.received
    assert (received.service, received.receivers, received.sender, received.message) == (
        "sms-cd62000-1", ["+33612345678"], "PMI 62", own.payload["text"])
    assert instance_ovh.received == [] and territory_ovh.refused_calls == []
    receipt = _receipt(uow, own)
    assert (receipt.result, receipt.sms_provider, receipt.provider_message_id) == (
        "sent", "ovh:sms-cd62000-1", str(received.id))

    # Another territory's SMS, in the same process: the instance's account, as before.
    other = _plan_and_deliver(uow, db_url, world.saint_denis, 9)
    [instance_sms] = instance_ovh.received
    assert (instance_sms.service, instance_sms.receivers, instance_sms.sender) == (
        "sms-ab12345-1", ["+262692123456"], "RDV S.P.")
    assert len(territory_ovh.received) == 1
    assert _receipt(uow, other).sms_provider == "ovh"

    # A second SMS of the territory reuses its provider (and its OVH clock, fetched once).
    again = _plan_and_deliver(uow, db_url, world.arras, 10)
    assert [sms.message for sms in territory_ovh.received] == [own.payload["text"], again.payload["text"]]

    # Switched back to the instance's provider: the next SMS of the territory leaves through the instance's
    # account, with no restart.
    assert save_sms_settings(uow, world.super_admin, world.arras.territory, SmsChange(provider=SMS_INSTANCE)) == \
        "Les réglages SMS du territoire Pas-de-Calais sont enregistrés."
    back = _plan_and_deliver(uow, db_url, world.arras, 11)
    assert len(territory_ovh.received) == 2
    assert [(sms.receivers, sms.sender, sms.message) for sms in instance_ovh.received][-1] == (
        ["+33612345678"], "RDV S.P.", back.payload["text"])
    assert _receipt(uow, back).sms_provider == "ovh"
