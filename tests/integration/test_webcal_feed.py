"""The agent's webcal feed (rdv_app.services.webcal) on SQLite and PostgreSQL, read back by icalendar and
vobject as calendar software would."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import factories as make
import icalendar
import pytest
import sqlalchemy as sa
from calendar_apps import read_with_vobject
from sqlmodel import select

from rdv_app.auth.sealed import seal
from rdv_app.config import settings
from rdv_app.db.models import (
    Agent,
    AgentRole,
    Motif,
    Organisation,
    Participation,
    Rdv,
    RdvAgent,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.enums import LieuAvailability
from rdv_app.services.agents import webcal
from rdv_app.services.errors import DomainError, NotFound

PARIS = ZoneInfo("Europe/Paris")
REUNION = ZoneInfo("Indian/Reunion")
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
# Built on fixed days: the clock stands at NOW for every test here, whatever the day they run.
pytestmark = pytest.mark.clock(NOW, tick=False)


def _at(zone: ZoneInfo, day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), zone).astimezone(UTC)


@dataclass
class Feed:
    agent: int
    other_agent: int
    office: str  # uuid of an RDV at the lieu, Paris
    cancelled: str
    home: str
    reunion: str
    collectif: str
    old: str  # started more than a month ago
    not_mine: str
    office_id: int


def _secret(secret: str) -> dict[str, str]:
    calendar_uid_hash, calendar_uid_sealed = webcal.stored_secret(secret)
    return {"calendar_uid_hash": calendar_uid_hash, "calendar_uid_sealed": calendar_uid_sealed}


@pytest.fixture
def feed(uow: UnitOfWork) -> Feed:
    s = uow.session
    t62 = make.territory(s)
    t974 = make.territory(s, "974", "La Réunion", timezone="Indian/Reunion")
    pmi = make.service(s)
    arras = make.organisation(s, t62, timezone="Europe/Paris")
    st_denis = make.organisation(s, t974, "PMI Saint-Denis", "pmi-saint-denis")
    agent = make.agent(s, "julien@demo.test", "Julien", "Petit", organisation=arras, **_secret("a" * 32))
    other = make.agent(s, "ines@demo.test", "Inès", "Roux", **_secret("b" * 32))
    s.add(AgentRole(agent_id=agent.id, organisation_id=st_denis.id))
    lieu = make.lieu(s, arras)
    consultation = make.motif(s, arras, pmi, "Consultation; suivi, bébé")
    domicile = make.motif(s, arras, pmi, "Visite à domicile", location_type="home")
    atelier = make.motif(s, arras, pmi, "Atelier", collectif=True)
    reunion_motif = make.motif(s, st_denis, pmi, "Pesée", location_type="phone")
    usager = make.usager(s, "Jeanne", "Dupont", phone_number="06 12 34 56 78",
                         address="12 rue des Lilas, 62000 Arras", notes="Très confidentiel")

    def rdv(org: Organisation, motif: Motif, starts_at: datetime, agent_ids: list[int], **fields) -> Rdv:
        item = Rdv(organisation_id=org.id, motif_id=motif.id, starts_at=starts_at,
                   ends_at=starts_at + timedelta(minutes=30), updated_at=NOW - timedelta(days=1), **fields)
        s.add(item)
        s.flush()
        s.add_all([RdvAgent(rdv_id=item.id, agent_id=a) for a in agent_ids])
        s.add(Participation(rdv_id=item.id, usager_id=usager.id))
        return item

    office = rdv(arras, consultation, _at(PARIS, date(2026, 12, 7), 9), [agent.id, other.id], lieu_id=lieu.id,
                 ics_sequence=2, context="Contexte privé de Jeanne")
    cancelled = rdv(arras, consultation, _at(PARIS, date(2026, 12, 8), 9), [agent.id], lieu_id=lieu.id,
                    status="revoked", cancelled_at=NOW, ics_sequence=1)
    home = rdv(arras, domicile, _at(PARIS, date(2026, 12, 9), 14), [agent.id])
    reunion = rdv(st_denis, reunion_motif, _at(REUNION, date(2026, 12, 10), 8), [agent.id])
    collectif = rdv(arras, atelier, _at(PARIS, date(2026, 12, 11), 10), [agent.id], lieu_id=lieu.id,
                    name="Massage bébé", users_count=3, max_participants_count=8)
    old = rdv(arras, consultation, NOW - timedelta(days=40), [agent.id], lieu_id=lieu.id)
    not_mine = rdv(arras, consultation, _at(PARIS, date(2026, 12, 7), 11), [other.id], lieu_id=lieu.id)
    uow.commit()
    return Feed(agent.id, other.id, office.uuid, cancelled.uuid, home.uuid, reunion.uuid,  # type: ignore[arg-type]
                collectif.uuid, old.uuid, not_mine.uuid, office.id)  # type: ignore[arg-type]


def _events(body: bytes) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(body)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def test_an_rdv_at_a_lieu_ponctuel_says_so_in_the_feed(uow: UnitOfWork, feed: Feed) -> None:
    """A place typed for one RDV (domain.md section 1): its name and address, then "(Lieu ponctuel)"."""
    office = uow.session.get(Rdv, feed.office_id)
    ponctuel = make.lieu(uow.session, uow.session.get(Organisation, office.organisation_id),  # type: ignore[union-attr]
                         name="Salle des fêtes", address="2 place du Marché, 62000 Arras",
                         availability=LieuAvailability.SINGLE_USE.value)
    office.lieu_id = ponctuel.id  # type: ignore[union-attr]
    uow.commit()
    events = _events(webcal.agent_feed(uow, "a" * 32, now=NOW).body)
    assert events[feed.office]["LOCATION"] == "Salle des fêtes (2 place du Marché, 62000 Arras) (Lieu ponctuel)"
    assert events[feed.collectif]["LOCATION"] == "Centre Arras (1 rue A, 62000 Arras)"


def test_the_feed_holds_the_agents_rdvs_of_every_organisation_from_one_month_ago(uow: UnitOfWork, feed: Feed) -> None:
    result = webcal.agent_feed(uow, "a" * 32, now=NOW)
    calendar = icalendar.Calendar.from_ical(result.body)
    assert calendar["METHOD"] == "PUBLISH"
    assert calendar["X-WR-CALNAME"] == "Julien Petit sur RDV Services Publics"
    events = _events(result.body)
    assert set(events) == {feed.office, feed.cancelled, feed.home, feed.reunion, feed.collectif}
    starts = [e.decoded("DTSTART") for e in calendar.walk("VEVENT")]
    assert starts == sorted(starts, reverse=True)  # newest first

    office = events[feed.office]
    assert office["SUMMARY"] == "Consultation; suivi, bébé"
    assert office["LOCATION"] == "Centre Arras (1 rue A, 62000 Arras)"
    assert office["SEQUENCE"] == 2
    assert office["STATUS"] == "CONFIRMED"
    assert office.decoded("DTSTART") == datetime(2026, 12, 7, 9, 0, tzinfo=PARIS)
    assert office["DTSTART"].params["TZID"] == "Europe/Paris"
    assert office.decoded("DTEND") - office.decoded("DTSTART") == timedelta(minutes=30)
    link = f"{settings.public_url}/agenda/rdv/{feed.office_id}"
    assert office["URL"] == link and link in office["DESCRIPTION"]

    assert events[feed.cancelled]["STATUS"] == "CANCELLED"
    assert events[feed.home]["LOCATION"] == "À domicile"
    assert events[feed.reunion]["DTSTART"].params["TZID"] == "Indian/Reunion"
    assert events[feed.reunion].decoded("DTSTART") == datetime(2026, 12, 10, 8, 0, tzinfo=REUNION)
    assert events[feed.collectif]["SUMMARY"] == "Atelier : Massage bébé (3/8)"
    assert {str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")} == {"Europe/Paris", "Indian/Reunion"}


def test_the_feed_carries_no_personal_data(uow: UnitOfWork, feed: Feed) -> None:
    text = webcal.agent_feed(uow, "a" * 32, now=NOW).body.decode()
    unfolded = text.replace("\r\n ", "")
    for private in ("Jeanne", "Dupont", "06 12 34 56 78", "Lilas", "confidentiel", "Contexte privé"):
        assert private not in unfolded


def test_vobject_reads_the_same_events(uow: UnitOfWork, feed: Feed) -> None:
    body = webcal.agent_feed(uow, "a" * 32, now=NOW).body.decode()
    calendar = read_with_vobject(body)
    events = {e.uid.value: e for e in calendar.vevent_list}
    assert set(events) == {feed.office, feed.cancelled, feed.home, feed.reunion, feed.collectif}
    office = events[feed.office]
    assert office.summary.value == "Consultation; suivi, bébé"
    assert office.dtstart.value == datetime(2026, 12, 7, 9, 0, tzinfo=PARIS)
    assert office.dtstart.value.utcoffset() == timedelta(hours=1)
    assert events[feed.reunion].dtstart.value.utcoffset() == timedelta(hours=4)
    assert events[feed.cancelled].status.value == "CANCELLED"
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))


def test_the_same_data_gives_the_same_etag_and_a_change_another(uow: UnitOfWork, feed: Feed) -> None:
    first = webcal.agent_feed(uow, "a" * 32, now=NOW)
    assert webcal.agent_feed(uow, "a" * 32, now=NOW).etag == first.etag
    rdv = uow.session.exec(select(Rdv).where(Rdv.uuid == feed.office)).one()
    rdv.starts_at += timedelta(hours=1)
    rdv.ends_at += timedelta(hours=1)
    rdv.ics_sequence += 1
    rdv.updated_at = NOW
    uow.session.add(rdv)
    uow.commit()
    changed = webcal.agent_feed(uow, "a" * 32, now=NOW)
    assert changed.etag != first.etag
    assert changed.last_modified == NOW
    assert _events(changed.body)[feed.office]["SEQUENCE"] == 3


def test_an_unknown_secret_is_not_found(uow: UnitOfWork, feed: Feed) -> None:
    for secret in ("c" * 32, "", "../../etc/passwd", "a" * 31 + "é"):
        with pytest.raises(NotFound):
            webcal.agent_feed(uow, secret, now=NOW)


def test_resetting_the_link_makes_the_old_address_unknown(uow: UnitOfWork, feed: Feed) -> None:
    before = webcal.feed_links(uow, feed.agent)
    assert before.https_url == f"{settings.public_url}/calendrier/{'a' * 32}.ics"
    assert before.webcal_url == "webcal://" + before.https_url.split("://", 1)[1]
    after = webcal.reset_feed(uow, feed.agent)
    assert after.https_url != before.https_url
    with pytest.raises(NotFound):
        webcal.agent_feed(uow, "a" * 32, now=NOW)
    new_secret = after.https_url.rsplit("/", 1)[1].removesuffix(".ics")
    # The agent's name comes first so that they tell their feeds apart; 192 random bits follow.
    assert new_secret.startswith("julien-petit-") and len(new_secret.removeprefix("julien-petit-")) >= 32
    assert set(_events(webcal.agent_feed(uow, new_secret, now=NOW).body)) >= {feed.office}
    assert webcal.feed_links(uow, feed.agent) == after
    # The name grants nothing: alone, or with another secret, or the secret without the name.
    random_part = new_secret.removeprefix("julien-petit-")
    for guess in ("julien-petit", "julien-petit-" + "a" * 32, random_part, "ines-roux-" + random_part):
        with pytest.raises(NotFound):
            webcal.agent_feed(uow, guess, now=NOW)


def test_an_agent_without_a_link_gets_one_on_first_visit(uow: UnitOfWork, feed: Feed) -> None:
    agent = uow.session.get(Agent, feed.other_agent)
    agent.calendar_uid_hash = agent.calendar_uid_sealed = None
    uow.session.add(agent)
    uow.commit()
    links = webcal.feed_links(uow, feed.other_agent)
    secret = links.https_url.rsplit("/", 1)[1].removesuffix(".ics")
    assert secret.startswith("ines-roux-")
    assert set(_events(webcal.agent_feed(uow, secret, now=NOW).body)) == {feed.office, feed.not_mine}


def test_the_database_keeps_no_feed_secret_in_clear(uow: UnitOfWork, feed: Feed) -> None:
    links = webcal.reset_feed(uow, feed.agent)
    secret = links.https_url.rsplit("/", 1)[1].removesuffix(".ics")
    with uow.session.connection().engine.connect() as conn:
        row = conn.execute(sa.select(Agent.__table__).where(Agent.__table__.c.id == feed.agent)).one()
    assert all(secret not in str(value) for value in row)
    assert "calendar_uid" not in row._mapping  # the column of the secrets in clear is gone
    # The agent still sees and copies the same address, and it still works.
    assert webcal.feed_links(uow, feed.agent) == links
    assert set(_events(webcal.agent_feed(uow, secret, now=NOW).body)) >= {feed.office}


def test_an_address_sealed_under_another_key_still_works_but_is_not_shown(uow: UnitOfWork, feed: Feed) -> None:
    agent = uow.session.get(Agent, feed.agent)
    assert agent is not None
    agent.calendar_uid_sealed = seal("a" * 32, key="une-autre-cle-secrete-d-au-moins-32-caracteres")
    uow.session.add(agent)
    uow.commit()
    with pytest.raises(DomainError, match="ne peut plus être affichée"):
        webcal.feed_links(uow, feed.agent)
    assert set(_events(webcal.agent_feed(uow, "a" * 32, now=NOW).body)) >= {feed.office}
    assert webcal.reset_feed(uow, feed.agent) == webcal.feed_links(uow, feed.agent)  # a new one shows again
