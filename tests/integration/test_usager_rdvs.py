""""Mes rendez-vous" (rdv_app.services.usager_rdvs) on SQLite and PostgreSQL: what a signed-in usager sees,
the rights (their own and their relatives' RDVs only), the cancellation shared with the link, and the
webhooks queued when usagers are created."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel, col, select

from rdv_app.auth import rate_limit
from rdv_app.auth.franceconnect import FranceConnectIdentity
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
    Service,
    Territory,
    Usager,
    UsagerProfile,
    WebhookEndpoint,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.enums import NotificationEvent
from rdv_app.services.errors import DomainError, NotFound
from rdv_app.services.rdv import lifecycle
from rdv_app.services.usagers import usager_auth, usager_rdvs, usagers

PARIS = ZoneInfo("Europe/Paris")
REUNION = ZoneInfo("Indian/Reunion")


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    rate_limit.reset_all()
    yield
    rate_limit.reset_all()


def _in(days: int, hh: int = 10, zone: ZoneInfo = PARIS) -> datetime:
    day = datetime.now(zone).date() + timedelta(days=days)
    return datetime.combine(day, time(hh, 0), zone).astimezone(UTC)


@dataclass
class World:
    org: int
    reunion_org: int
    loud: int  # notified of everything
    quiet: int  # notified of nothing
    motif: int
    phone_motif: int
    hidden_motif: int  # invisible to usagers
    reunion_motif: int
    lieu: int
    holder: int  # signed in
    child: int  # the holder's relative
    stranger: int  # someone else


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    s = uow.session
    paris = Territory(departement_number="62", name="Pas-de-Calais")
    reunion = Territory(departement_number="974", name="La Réunion", timezone="Indian/Reunion")
    pmi = Service(name="Protection maternelle et infantile", short_name="PMI")
    s.add_all([paris, reunion, pmi])
    s.flush()
    org = Organisation(territory_id=paris.id, name="PMI Arras", slug="pmi-arras", phone_number="03 21 00 00 00",
                       email="pmi.arras@demo.test")
    reunion_org = Organisation(territory_id=reunion.id, name="PMI Saint-Denis", slug="pmi-saint-denis",
                               phone_number="02 62 00 00 00")
    loud = Agent(email="loud@demo.test", first_name="Julien", last_name="Petit", rdv_notifications_level="all")
    quiet = Agent(email="quiet@demo.test", first_name="Karim", last_name="Haddad", rdv_notifications_level="none")
    s.add_all([org, reunion_org, loud, quiet])
    s.flush()
    for organisation in (org, reunion_org):
        s.add_all([AgentRole(agent_id=agent.id, organisation_id=organisation.id, access_level="admin")
                   for agent in (loud, quiet)])
    s.add_all([AgentService(agent_id=agent.id, service_id=pmi.id) for agent in (loud, quiet)])
    lieu = Lieu(organisation_id=org.id, name="Centre Arras", address="1 rue A, 62000 Arras")
    reunion_lieu = Lieu(organisation_id=reunion_org.id, name="Centre Saint-Denis", address="2 rue B, 97400 Saint-Denis")
    motif = Motif(organisation_id=org.id, service_id=pmi.id, name="Consultation",
                  instruction_for_rdv="Apportez le carnet de santé.")
    phone_motif = Motif(organisation_id=org.id, service_id=pmi.id, name="Conseil par téléphone",
                        location_type="phone", visibility_type="visible_and_not_notified")
    hidden_motif = Motif(organisation_id=org.id, service_id=pmi.id, name="Information préoccupante",
                         visibility_type="invisible")
    reunion_motif = Motif(organisation_id=reunion_org.id, service_id=pmi.id, name="Pesée")
    holder = Usager(first_name="Élodie", last_name="Durand", email="elodie@example.fr", phone_number="06 12 34 56 78",
                    email_verified_at=datetime.now(UTC) - timedelta(days=30))
    stranger = Usager(first_name="Paul", last_name="Martin", email="paul@example.fr")
    s.add_all([lieu, reunion_lieu, motif, phone_motif, hidden_motif, reunion_motif, holder, stranger])
    s.flush()
    child = Usager(first_name="Léo", last_name="Durand", responsible_id=holder.id)
    s.add(child)
    s.flush()
    for organisation in (org, reunion_org):
        s.add_all([UsagerProfile(organisation_id=organisation.id, usager_id=u.id) for u in (holder, stranger, child)])
    uow.commit()
    return World(org.id, reunion_org.id, loud.id, quiet.id, motif.id, phone_motif.id, hidden_motif.id,  # type: ignore[arg-type]
                 reunion_motif.id,
                 lieu.id, holder.id, child.id, stranger.id)  # type: ignore[arg-type]


def _plan(uow: UnitOfWork, world: World, usager: int, starts_at: datetime, *, motif: int | None = None,
          org: int | None = None) -> int:
    motif_id = motif or world.motif
    location = uow.session.get(Motif, motif_id)
    assert location is not None
    lieu = None
    if location.location_type == "public_office":
        lieu = uow.session.exec(select(Lieu.id).where(Lieu.organisation_id == (org or world.org))).first()
    return lifecycle.plan_rdv(uow, world.loud, org or world.org, motif_id=motif_id, starts_at=starts_at,
                         duration_in_min=30, agent_ids=[world.loud, world.quiet], lieu_id=lieu, usager_ids=[usager],
                         confirm_warnings=True)


def _past(uow: UnitOfWork, world: World, usager: int, starts_at: datetime) -> int:
    rdv = Rdv(organisation_id=world.org, motif_id=world.motif, lieu_id=world.lieu, starts_at=starts_at,
              ends_at=starts_at + timedelta(minutes=30), status="seen", users_count=1)
    uow.session.add(rdv)
    uow.session.flush()
    uow.session.add_all([RdvAgent(rdv_id=rdv.id, agent_id=world.loud),  # type: ignore[arg-type]
                         Participation(rdv_id=rdv.id, usager_id=usager, status="seen")])  # type: ignore[arg-type]
    uow.commit()
    return rdv.id  # type: ignore[return-value]


def _participation(uow: UnitOfWork, rdv_id: int) -> int:
    return uow.session.exec(select(Participation.id).where(Participation.rdv_id == rdv_id)).one()  # type: ignore[return-value]


def _shown(uow: UnitOfWork, usager: int, participation: int) -> usager_rdvs.UsagerRdv:
    return next(i for i in usager_rdvs.list_rdvs(uow, usager).upcoming if i.participation_id == participation)


def _dump(url: str) -> dict[str, list[tuple]]:
    with get_engine(url).connect() as conn:
        return {table.name: sorted(tuple(str(v) for v in row) for row in conn.execute(sa.select(table)))
                for table in SQLModel.metadata.sorted_tables}


def _endpoint(uow: UnitOfWork, org: int, *subscriptions: str) -> int:
    endpoint = WebhookEndpoint(organisation_id=org, target_url=f"https://hooks.example.fr/{org}", secret="s3cret",
                               subscriptions=list(subscriptions))
    uow.session.add(endpoint)
    uow.commit()
    return endpoint.id  # type: ignore[return-value]


def _webhooks(uow: UnitOfWork, endpoint_id: int) -> list[tuple[str, str, int]]:
    """(model, event, record id) of the webhooks queued for this endpoint, in order."""
    uow.rollback()
    rows = uow.session.exec(select(OutboxMessage).where(OutboxMessage.webhook_endpoint_id == endpoint_id)
                            .order_by(col(OutboxMessage.id))).all()
    bodies = [json.loads(row.payload["body"]) for row in rows]
    return [(b["meta"]["model"], b["meta"]["event"], b["data"]["id"]) for b in bodies]


# --------------------------------------------------------------------------- the list


def test_the_usager_sees_their_rdvs_and_their_relatives_in_the_organisations_time_zone(uow: UnitOfWork,
                                                                                      world: World) -> None:
    later = _plan(uow, world, world.holder, _in(9, 14))
    sooner = _plan(uow, world, world.child, _in(2, 9))
    by_phone = _plan(uow, world, world.holder, _in(5, 11), motif=world.phone_motif)
    reunion = _plan(uow, world, world.holder, _in(7, 8, REUNION), motif=world.reunion_motif, org=world.reunion_org)
    old = _past(uow, world, world.holder, _in(-30, 9))
    older = _past(uow, world, world.child, _in(-60, 9))
    _plan(uow, world, world.stranger, _in(3, 10))
    _past(uow, world, world.stranger, _in(-10, 9))

    found = usager_rdvs.list_rdvs(uow, world.holder)

    upcoming = {item.summary.rdv_id: item for item in found.upcoming}
    assert [item.summary.rdv_id for item in found.upcoming] == [sooner, by_phone, reunion, later]
    assert [item.summary.rdv_id for item in found.past] == [old, older]
    child_rdv = upcoming[sooner]
    assert child_rdv.summary.participants == ("Léo DURAND",)
    assert upcoming[later].summary.participants == ()
    assert child_rdv.summary.when.endswith("à 09h00")
    assert (child_rdv.summary.title, child_rdv.summary.lieu_name) == ("Consultation", "Centre Arras")
    assert child_rdv.summary.instructions == "Apportez le carnet de santé."
    assert (child_rdv.summary.contact_phone, child_rdv.summary.contact_email) == ("03 21 00 00 00",
                                                                                  "pmi.arras@demo.test")
    assert child_rdv.summary.can_cancel
    # A motif visible but not notified is shown; the agent calls the holder's number.
    phone = upcoming[by_phone].summary
    assert (phone.title, phone.location_type, phone.phone_number_called, phone.lieu_name) == (
        "Conseil par téléphone", "phone", "06 12 34 56 78", None)
    # 08h00 in Saint-Denis de La Réunion, whatever the server's zone.
    assert upcoming[reunion].summary.when.endswith("à 08h00")
    assert upcoming[reunion].summary.contact_phone == "02 62 00 00 00"
    assert all(item.summary.past and not item.summary.can_cancel for item in found.past)

    # The relative's own list (were they ever signed in) holds only their RDVs; a stranger's holds theirs.
    assert [i.summary.rdv_id for i in usager_rdvs.list_rdvs(uow, world.child).upcoming] == [sooner]
    assert all(i.summary.rdv_id not in {later, sooner, by_phone, reunion}
               for i in usager_rdvs.list_rdvs(uow, world.stranger).upcoming)


def test_an_invisible_motif_is_neither_listed_nor_cancellable(uow: UnitOfWork, world: World, db_url: str) -> None:
    """A child-protection RDV of a relative stays out of the parent's space, and their own too."""
    childs = _plan(uow, world, world.child, _in(3), motif=world.hidden_motif)
    own = _plan(uow, world, world.holder, _in(4), motif=world.hidden_motif)
    old = _past(uow, world, world.child, _in(-5, 9))
    rdv = uow.session.get(Rdv, old)
    rdv.motif_id = world.hidden_motif  # type: ignore[union-attr]
    uow.session.add(rdv)
    uow.commit()
    shown = usager_rdvs.list_rdvs(uow, world.holder)
    assert shown.upcoming == () and shown.past == ()
    assert usager_rdvs.list_rdvs(uow, world.child).upcoming == ()
    before = _dump(db_url)
    for rdv_id in (childs, own):
        with pytest.raises(NotFound, match="introuvable depuis votre compte"):
            usager_rdvs.cancel(uow, world.holder, _participation(uow, rdv_id))
    assert _dump(db_url) == before


def test_another_usagers_rdv_is_not_found_and_nothing_changes(uow: UnitOfWork, world: World, db_url: str) -> None:
    theirs = _participation(uow, _plan(uow, world, world.stranger, _in(3)))
    holders = _participation(uow, _plan(uow, world, world.holder, _in(4)))
    before = _dump(db_url)
    assert [i.participation_id for i in usager_rdvs.list_rdvs(uow, world.holder).upcoming] == [holders]
    with pytest.raises(NotFound, match="introuvable depuis votre compte"):
        usager_rdvs.cancel(uow, world.holder, theirs)
    with pytest.raises(NotFound):  # a relative cannot act for the person responsible for them
        usager_rdvs.cancel(uow, world.child, holders)
    with pytest.raises(NotFound):
        usager_rdvs.cancel(uow, world.holder, theirs + holders + 1000)
    assert _dump(db_url) == before


# --------------------------------------------------------------------------- cancelling


def test_cancelling_a_relatives_rdv_uses_the_links_rules_and_messages(uow: UnitOfWork, world: World) -> None:
    endpoint = _endpoint(uow, world.org, "rdv")
    rdv_id = _plan(uow, world, world.child, _in(2))
    participation = _participation(uow, rdv_id)
    before = set(uow.session.exec(select(OutboxMessage.id)).all())

    change = usager_rdvs.cancel(uow, world.holder, participation)

    uow.rollback()
    rdv = uow.session.get(Rdv, rdv_id)
    assert rdv is not None and (rdv.status, rdv.users_count) == ("excused", 0) and rdv.cancelled_at is not None
    audit = uow.session.exec(select(AuditLog).where(AuditLog.entity_id == str(rdv_id),
                                                    AuditLog.action == "status_changed")).one()
    assert (audit.actor_type, audit.actor_usager_id) == ("usager", world.holder)
    new = [m for m in uow.session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))) if m.id not in before]
    # The child's messages go to the holder: an email, no SMS; the agents by their preference.
    assert sorted((m.event, m.channel, m.payload.get("to")) for m in new if m.channel != "webhook") == [
        (NotificationEvent.RDV_CANCELLED.value, "mail", "elodie@example.fr"),
        (NotificationEvent.RDV_CANCELLED.value, "mail", "loud@demo.test"),
    ]
    assert set(change.outbox_ids) == {m.id for m in new if m.channel != "webhook"}
    assert _webhooks(uow, endpoint)[-1] == ("Rdv", "updated", rdv_id)
    shown = usager_rdvs.list_rdvs(uow, world.holder).upcoming[0]
    assert shown.participation_id == participation
    assert shown.summary.cancelled and not shown.summary.can_cancel
    with pytest.raises(DomainError, match="déjà annulé"):
        usager_rdvs.cancel(uow, world.holder, participation)


def test_within_four_hours_or_when_the_motif_forbids_it_the_rdv_stays(uow: UnitOfWork, world: World,
                                                                      db_url: str) -> None:
    soon = _plan(uow, world, world.holder, datetime.now(UTC) + timedelta(hours=3, minutes=50))
    participation = _participation(uow, soon)
    assert _shown(uow, world.holder, participation).summary.cancel_refusal == "too_late"
    before = _dump(db_url)
    with pytest.raises(DomainError, match="moins de 4 heures"):
        usager_rdvs.cancel(uow, world.holder, participation)
    assert _dump(db_url) == before

    later = _plan(uow, world, world.holder, _in(6))
    motif = uow.session.get(Motif, world.motif)
    assert motif is not None
    motif.rdvs_cancellable_by_user = False
    uow.session.add(motif)
    uow.commit()
    participation = _participation(uow, later)
    assert _shown(uow, world.holder, participation).summary.cancel_refusal == "motif"
    before = _dump(db_url)
    with pytest.raises(DomainError, match="ne peut pas être annulé en ligne"):
        usager_rdvs.cancel(uow, world.holder, participation)
    assert _dump(db_url) == before


# --------------------------------------------------------------------------- webhooks of new usagers


def test_an_agent_creating_an_usager_queues_user_and_user_profile_webhooks(uow: UnitOfWork, world: World) -> None:
    endpoint = _endpoint(uow, world.org, "user", "user_profile")
    other = _endpoint(uow, world.reunion_org, "user", "user_profile")
    usager_id = usagers.create_usager(uow, world.loud, world.org, first_name="Ana", last_name="Lopez")
    profile = uow.session.exec(select(UsagerProfile.id).where(UsagerProfile.usager_id == usager_id)).one()
    assert _webhooks(uow, endpoint) == [("User", "created", usager_id), ("UserProfile", "created", profile)]
    assert _webhooks(uow, other) == []


def test_sign_ups_reach_the_organisations_that_know_the_usager(uow: UnitOfWork, world: World) -> None:
    endpoint = _endpoint(uow, world.org, "user", "user_profile")
    # A new account belongs to no organisation yet: no endpoint hears of it (booking adds the profile).
    usager_auth.request_account(uow, first_name="Zoé", last_name="Blanc", email="zoe@example.fr", phone_number=None,
                                next_path="/prendre_rdv", ip="192.0.2.1")
    usager_auth.add_relative(uow, world.holder, first_name="Lina", last_name="Durand", birth_date=date(2020, 1, 2))
    assert _webhooks(uow, endpoint) == []
    # A known usager signing in with FranceConnect gets certified names: an update for their organisations.
    usager_auth.sign_in_with_franceconnect(
        uow, FranceConnectIdentity(sub="fc-elodie", given_name="Élodie", family_name="DURAND", birthdate=None,
                                   email="elodie@example.fr"), "id-token", "/mes-rdv")
    assert _webhooks(uow, endpoint) == [("User", "updated", world.holder)]
    created = usager_auth.sign_in_with_franceconnect(
        uow, FranceConnectIdentity(sub="fc-new", given_name="Nour", family_name="ALI", birthdate=None,
                                   email="nour@example.fr"), "id-token", "/mes-rdv")
    assert uow.session.get(Usager, created.usager_id) is not None
    assert _webhooks(uow, endpoint) == [("User", "updated", world.holder)]
