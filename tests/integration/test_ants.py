"""ANTS end to end on SQLite and PostgreSQL, against the loopback hub of tests/fakes/ants_hub.py:

- the editor API served on loopback and called as the hub calls it (lower-case token header, repeated
  parameters): refusals, meeting points, slots from the slot engine, errors;
- RDV changes declared to the coordination API by the real outbox worker: create, move, cancel, delete,
  numbers not validated left alone, an outage then recovery losing and duplicating nothing;
- forged events for the new handlers, and the check of a pre-demande number.
"""

from __future__ import annotations

import os
import threading
import time as wall_time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import factories as make
import pytest
import uvicorn
from db_snapshot import snapshot
from fakes.ants_hub import TOKEN, FakeAntsHub, call_editor
from pg import free_port
from reflex.config import reload_config
from sqlmodel import Session, col, select

from rdv_app import routes
from rdv_app.api.http import http_routes
from rdv_app.db.engine import get_engine
from rdv_app.db.models import MotifCategory, OutboxMessage, Rdv, Receipt, Usager
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import ants, clock
from rdv_app.domain.enums import Channel, OutboxStatus, RdvStatus, WebhookSubscription
from rdv_app.domain.events import Actor, Change, RdvChanged, RecordChanged
from rdv_app.domain.off_days import holidays_between
from rdv_app.notify import ants as ants_sync
from rdv_app.notify.worker import Worker
from rdv_app.services.errors import NotFound, PermissionDenied
from rdv_app.services.integrations import ants as ants_service
from rdv_app.services.online_booking import public_search
from rdv_app.services.organisation import admin_lieux
from rdv_app.services.organisation.admin_lieux import LieuInput
from rdv_app.services.rdv import lifecycle
from rdv_app.services.usagers import usager_form
from rdv_app.state.public_booking import BookingPage, Recap

PARIS = ZoneInfo("Europe/Paris")
EDITOR_TOKEN = "jeton-du-hub-de-test"


def _working_day(departement: str) -> date:
    """A weekday at least three days ahead that is not a public holiday (whatever today is)."""
    day = datetime.now(PARIS).date() + timedelta(days=3)
    holidays = holidays_between(departement, day, day + timedelta(days=30))
    while day.weekday() >= 5 or day in holidays:
        day += timedelta(days=1)
    return day


def _category(s: Session, reason: ants.Reason) -> int:
    found = s.exec(select(MotifCategory).where(MotifCategory.name == ants.CATEGORY_NAMES[reason])).first()
    if found is None:
        found = MotifCategory(name=ants.CATEGORY_NAMES[reason], short_name=ants.CATEGORY_SHORT_NAMES[reason])
        s.add(found)
        s.flush()
    return found.id  # type: ignore[return-value]


@dataclass
class Mairies:
    day: date
    org: int
    admin: int
    seclin: int  # lieu, CNI motif 30 min, plage 9:00-10:00 (twice)
    lille: int  # lieu, CNI motif 15 min in another mairie, plage 12:00-13:00
    closed: int  # lieu of the Mairies territory without plage
    other_lieu: int  # lieu of another territory
    cni: int
    passport: int
    plain_motif: int
    usager: int


@pytest.fixture
def mairies(uow: UnitOfWork) -> Mairies:
    s = uow.session
    territory = make.territory(s, "MA", ants.MAIRIES_TERRITORY)
    service = make.service(s, "Mairie", "Mairie")
    org = make.organisation(s, territory, "Mairie de Seclin", "mairie-de-seclin", timezone="Europe/Paris")
    org2 = make.organisation(s, territory, "Mairie de Lille", "mairie-de-lille", timezone="Europe/Paris")
    admin = make.agent(s, "maire@seclin.test", "Paul", "Maire", organisation=org, role="admin", services=[service])
    agent2 = make.agent(s, "agent@lille.test", "Léa", "Agent", organisation=org2, role="admin", services=[service])
    seclin = make.lieu(s, org, "Mairie de Seclin", "89 rue Roger Bouvry, Seclin, 59113", latitude=50.55,
                       longitude=3.03)
    closed = make.lieu(s, org, "Annexe de Seclin", "2 place du Général de Gaulle, 59113 Seclin")
    lille = make.lieu(s, org2, "Mairie de Lille", "Place Augustin Laurent, 59000 Lille")
    other = make.territory(s, "62", "Pas-de-Calais")
    other_org = make.organisation(s, other, "PMI Arras", "pmi-arras")
    other_lieu = make.lieu(s, other_org, "Centre Arras", "1 rue A, 62000 Arras")
    public = {"bookable_by": "everyone", "min_public_booking_delay": 1800, "max_public_booking_delay": 7_889_238}
    cni = make.motif(s, org, service, "Carte d'identité", default_duration_in_min=30,
                     motif_category_id=_category(s, ants.Reason.CNI), **public)
    passport = make.motif(s, org, service, "Passeport", default_duration_in_min=30,
                          motif_category_id=_category(s, ants.Reason.PASSPORT), **public)
    plain = make.motif(s, org, service, "Mariage", default_duration_in_min=30, **public)
    cni2 = make.motif(s, org2, service, "Carte d'identité", default_duration_in_min=15,
                      motif_category_id=_category(s, ants.Reason.CNI), **public)
    day = _working_day("MA")
    for _ in range(2):  # two identical plages: no slot twice
        make.plage(s, admin, org, seclin, [cni, passport, plain], title="Titres", first_day=day, start_time=time(9),
                   end_time=time(10))
    make.plage(s, agent2, org2, lille, [cni2], title="Titres", first_day=day, start_time=time(12), end_time=time(13))
    usager = make.usager(s, "Jeanne", "Dupont", organisations=[org], ants_pre_demande_number="ABCDE12345")
    uow.commit()
    return Mairies(day, org.id, admin.id, seclin.id, lille.id, closed.id, other_lieu.id, cni.id,  # type: ignore[arg-type]
                   passport.id, plain.id, usager.id)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the editor API


@pytest.fixture
def editor(db_url: str, mairies: Mairies, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Our HTTP routes on loopback, on the test's database, with the hub's token configured."""
    monkeypatch.setenv("REFLEX_DB_URL", db_url)
    monkeypatch.setenv("RDV_ANTS_EDITOR_TOKEN", EDITOR_TOKEN)
    reload_config()
    port = free_port()
    served = uvicorn.Server(uvicorn.Config(http_routes, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    deadline = wall_time.monotonic() + 10
    while not served.started and wall_time.monotonic() < deadline:
        wall_time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    served.should_exit = True
    thread.join(timeout=10)
    monkeypatch.undo()
    reload_config()


def _slots(editor: str, ids: list[int], first: date, last: date, reason: str = "CNI",
           documents: int | None = None) -> dict[str, list[dict[str, str]]]:
    params = [("meeting_point_ids", str(i)) for i in ids] + [
        ("start_date", first.isoformat()), ("end_date", last.isoformat()), ("reason", reason)]
    if documents is not None:
        params.append(("documents_number", str(documents)))
    response = call_editor(editor, "availableTimeSlots", params, EDITOR_TOKEN)
    assert response.status_code == 200, response.text
    return response.json()


def _times(found: list[dict[str, str]]) -> list[str]:
    return [slot["datetime"] for slot in found]


def test_every_request_is_refused_without_the_token(editor: str, monkeypatch: pytest.MonkeyPatch) -> None:
    refused = {"error": "X-HUB-RDV-AUTH-TOKEN header is missing or invalid"}
    for token in (None, "", "mauvais-jeton", EDITOR_TOKEN.upper()):
        response = call_editor(editor, "getManagedMeetingPoints", [], token)
        assert (response.status_code, response.json()) == (401, refused)
    monkeypatch.setenv("RDV_ANTS_EDITOR_TOKEN", "")
    for token in (None, ""):
        for endpoint in ("getManagedMeetingPoints", "availableTimeSlots", "searchApplicationIds"):
            response = call_editor(editor, endpoint, [("application_ids", "ABCDE12345")], token)
            assert (response.status_code, response.json()) == (401, refused)


def test_meeting_points_are_the_lieux_of_the_mairies(editor: str, mairies: Mairies) -> None:
    response = call_editor(editor, "getManagedMeetingPoints", [], EDITOR_TOKEN)
    assert response.status_code == 200
    points = {p["id"]: p for p in response.json()}
    assert set(points) == {str(mairies.seclin), str(mairies.closed), str(mairies.lille)}
    assert points[str(mairies.seclin)] == {
        "id": str(mairies.seclin), "name": "Mairie de Seclin", "longitude": 3.03, "latitude": 50.55,
        "public_entry_address": "89 rue Roger Bouvry", "zip_code": "59113", "city_name": "Seclin"}
    assert points[str(mairies.lille)]["zip_code"] == "59000"
    assert points[str(mairies.lille)]["city_name"] == "Lille"


def test_slots_come_from_the_engine_in_local_time_with_the_hubs_literal_z(editor: str, mairies: Mairies) -> None:
    day = mairies.day
    found = _slots(editor, [mairies.seclin, mairies.lille, mairies.closed, mairies.other_lieu, 999_999],
                   day, day + timedelta(days=1))
    assert set(found) == {str(mairies.seclin), str(mairies.lille), str(mairies.closed)}  # others dropped
    local = day.isoformat()
    assert _times(found[str(mairies.seclin)]) == [f"{local}T09:00Z", f"{local}T09:30Z"]  # no duplicates
    assert _times(found[str(mairies.lille)]) == [f"{local}T12:{m}Z" for m in ("00", "15", "30", "45")]
    assert found[str(mairies.closed)] == []
    callback = found[str(mairies.seclin)][0]["callback_url"]
    nine = datetime.combine(day, time(9), PARIS).astimezone(UTC)
    assert f"/org/{mairies.org}?documents=1&motif={mairies.cni}&lieu={mairies.seclin}&creneau=" in callback
    assert datetime.fromisoformat(callback.split("creneau=")[1].replace("%3A", ":").replace("%2B", "+")) == nine


def test_documents_number_multiplies_the_duration(editor: str, mairies: Mairies) -> None:
    found = _slots(editor, [mairies.seclin, mairies.lille], mairies.day, mairies.day, documents=2)
    assert _times(found[str(mairies.seclin)]) == [f"{mairies.day.isoformat()}T09:00Z"]
    assert _times(found[str(mairies.lille)]) == [f"{mairies.day.isoformat()}T12:{m}Z" for m in ("00", "30")]


def _open_callback(db_url: str, callback: str, usager_id: int | None = None) -> BookingPage:
    """The booking page the hub's link opens, worked out as the page's `load` does."""
    address = urlsplit(callback)
    page = BookingPage(params={k: v[-1] for k, v in parse_qs(address.query).items()},
                       base=routes.PUBLIC_BOOKING, usager_id=usager_id)
    with UnitOfWork(db_url, read_only=True) as uow:
        page.open(uow, address.path)
    return page


def test_the_callback_link_books_the_documents_number_times_the_motif(editor: str, mairies: Mairies,
                                                                      db_url: str) -> None:
    """integrations.md 1a: the slot the hub shows for 2 titles opens a booking of 2 × 30 minutes."""
    local = mairies.day.isoformat()
    found = _slots(editor, [mairies.seclin], mairies.day, mairies.day, documents=2)[str(mairies.seclin)]
    assert _times(found) == [f"{local}T09:00Z"]
    page = _open_callback(db_url, found[0]["callback_url"], mairies.usager)
    nine = datetime.combine(mairies.day, time(9), PARIS).astimezone(UTC)
    assert page.starts_at == nine and page.documents_number == 2
    assert Recap("Demandes de titres", "2 (rendez-vous de 60 minutes)") in page.summary
    # 9:30 leaves no time for two titles before the plage ends: the week offers 9:00 only.
    half_past = _slots(editor, [mairies.seclin], mairies.day, mairies.day)[str(mairies.seclin)][1]["callback_url"]
    late = _open_callback(db_url, half_past.replace("documents=1", "documents=2") + f"&semaine={local}",
                          mairies.usager)
    assert (late.step, late.notice, late.starts_at) == ("creneau", public_search.SLOT_NOT_OFFERED, None)
    day_shown = next(d for d in late.days if any(t.label == "09h00" for t in d.times))
    assert [t.label for t in day_shown.times] == ["09h00"]
    with UnitOfWork(db_url) as uow:
        booked = lifecycle.book_rdv(uow, mairies.usager, motif_id=mairies.cni, starts_at=nine, lieu_id=mairies.seclin,
                                    booking_key="cle-ants-2", documents_number=page.documents_number)
    with UnitOfWork(db_url, read_only=True) as uow:
        rdv = uow.session.get(Rdv, booked.rdv_id)
        assert rdv is not None and rdv.ends_at - rdv.starts_at == timedelta(minutes=60)
    # The whole hour is taken: nothing is left that morning, for one title or two.
    assert _slots(editor, [mairies.seclin], mairies.day, mairies.day) == {str(mairies.seclin): []}


def test_documents_are_ignored_for_a_motif_outside_the_ants_categories(mairies: Mairies, db_url: str) -> None:
    nine = datetime.combine(mairies.day, time(9), PARIS).astimezone(UTC)
    with UnitOfWork(db_url, read_only=True) as uow:
        week = public_search.week(uow, mairies.plain_motif, mairies.seclin, mairies.day, documents_number=3)
        assert public_search.motif_details(uow, mairies.plain_motif, 3).duration_in_min == 30
        assert public_search.slot_offered(uow, mairies.passport, mairies.seclin, nine + timedelta(minutes=30),
                                          documents_number=5) is False  # 2 h 30 from 9:30 do not fit
        assert public_search.slot_offered(uow, mairies.passport, mairies.seclin, nine, documents_number=2) is True
    assert [t for d in week.days for _, t in d.times] == ["09h00", "09h30"]
    with UnitOfWork(db_url) as uow:
        booked = lifecycle.book_rdv(uow, mairies.usager, motif_id=mairies.plain_motif, starts_at=nine,
                                    lieu_id=mairies.seclin, booking_key="cle-mariage", documents_number=3)
    with UnitOfWork(db_url, read_only=True) as uow:
        rdv = uow.session.get(Rdv, booked.rdv_id)
        assert rdv is not None and rdv.ends_at - rdv.starts_at == timedelta(minutes=30)


def test_a_booking_for_more_titles_than_the_plage_holds_is_refused(mairies: Mairies, db_url: str) -> None:
    half_past = datetime.combine(mairies.day, time(9, 30), PARIS).astimezone(UTC)
    before = snapshot(db_url)
    with UnitOfWork(db_url) as uow, pytest.raises(lifecycle.SlotTaken) as refused:
        lifecycle.book_rdv(uow, mairies.usager, motif_id=mairies.cni, starts_at=half_past, lieu_id=mairies.seclin,
                           booking_key="cle-trop-long", documents_number=2)
    assert refused.value.message == lifecycle.SLOT_NOT_OFFERED
    assert snapshot(db_url) == before


def test_a_reason_selects_its_category_only(editor: str, mairies: Mairies) -> None:
    day = mairies.day
    assert _times(_slots(editor, [mairies.seclin, mairies.lille], day, day, "PASSPORT")[str(mairies.seclin)]) == [
        f"{day.isoformat()}T09:00Z", f"{day.isoformat()}T09:30Z"]
    assert _slots(editor, [mairies.lille], day, day, "PASSPORT") == {str(mairies.lille): []}
    assert _slots(editor, [mairies.seclin], day, day, "CNI-PASSPORT") == {str(mairies.seclin): []}


def test_a_booked_slot_is_no_longer_offered(editor: str, mairies: Mairies, db_url: str) -> None:
    nine = datetime.combine(mairies.day, time(9), PARIS).astimezone(UTC)
    with UnitOfWork(db_url) as uow:
        lifecycle.plan_rdv(uow, mairies.admin, mairies.org, motif_id=mairies.cni, starts_at=nine, duration_in_min=30,
                           agent_ids=[mairies.admin], lieu_id=mairies.seclin, usager_ids=[mairies.usager],
                           confirm_warnings=True)
    # The two identical plages are the same agent's: one RDV takes 9:00 from both.
    assert _times(_slots(editor, [mairies.seclin], mairies.day, mairies.day)[str(mairies.seclin)]) == [
        f"{mairies.day.isoformat()}T09:30Z"]


_DAY = [("start_date", "2030-01-01"), ("end_date", "2030-01-01")]


@pytest.mark.parametrize(("params", "message"), [
    ([*_DAY, ("reason", "PERMIS")], "Invalid reason param"),
    ([("start_date", "2030-01-02"), ("end_date", "2030-01-01"), ("reason", "CNI")], "start_date is after end_date"),
    ([("start_date", "2030-01-01"), ("reason", "CNI")], "param is missing or the value is empty: end_date"),
    ([*_DAY, ("reason", "CNI"), ("documents_number", "0")], "documents_number must be between 1 and 5"),
    ([*_DAY, ("reason", "CNI"), ("documents_number", "deux")], "documents_number must be an integer"),
])
def test_bad_requests_get_the_hubs_errors(editor: str, mairies: Mairies, params: list[tuple[str, str]],
                                          message: str) -> None:
    query = [("meeting_point_ids", str(mairies.seclin)), *params]
    response = call_editor(editor, "availableTimeSlots", query, EDITOR_TOKEN)
    assert (response.status_code, response.json()) == (400, {"error": {"code": 400, "message": message}})


def test_search_application_ids_answers_each_valid_number_empty(editor: str) -> None:
    response = call_editor(editor, "searchApplicationIds",
                           [("application_ids", "ABCDE12345"), ("application_ids", "abcde67890"),
                            ("application_ids", "TROP-COURT")], EDITOR_TOKEN)
    assert (response.status_code, response.json()) == (200, {"ABCDE12345": [], "abcde67890": []})


# --------------------------------------------------------------------------- declarations to ANTS


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAntsHub]:
    with FakeAntsHub() as server:
        monkeypatch.setenv("RDV_ANTS_API_URL", server.url)
        monkeypatch.setenv("RDV_ANTS_API_TOKEN", TOKEN)
        yield server


def _ants_rows(db_url: str) -> list[OutboxMessage]:
    with UnitOfWork(db_url) as uow:
        rows = list(uow.session.exec(select(OutboxMessage).where(OutboxMessage.channel == Channel.ANTS.value)
                                     .order_by(col(OutboxMessage.id))))
        uow.session.expunge_all()
        return rows


def _deliver(db_url: str, now: datetime | None = None) -> int:
    worker = Worker(db_url)
    try:
        return worker.run_once(now=now, limit=500)
    finally:
        worker.retire()


def _plan(db_url: str, mairies: Mairies, hour: int = 9, motif: int | None = None) -> int:
    starts_at = datetime.combine(mairies.day, time(hour), PARIS).astimezone(UTC)
    with UnitOfWork(db_url) as uow:
        return lifecycle.plan_rdv(uow, mairies.admin, mairies.org, motif_id=motif or mairies.cni, starts_at=starts_at,
                                  duration_in_min=30, agent_ids=[mairies.admin], lieu_id=mairies.seclin,
                                  usager_ids=[mairies.usager], confirm_warnings=True)


def test_an_rdv_is_declared_moved_and_cancelled_at_ants(db_url: str, mairies: Mairies, hub: FakeAntsHub) -> None:
    hub.numbers["ABCDE12345"] = "validated"
    rdv_id = _plan(db_url, mairies)
    _deliver(db_url)
    url = ants_sync.management_url(rdv_id)
    assert hub.declared("ABCDE12345") == [{"meeting_point": "Mairie de Seclin", "meeting_point_id": str(mairies.seclin),
                                           "appointment_date": f"{mairies.day.isoformat()} 09:00:00",
                                           "management_url": url}]
    with UnitOfWork(db_url) as uow:
        lifecycle.update_rdv(uow, mairies.admin, mairies.org, rdv_id,
                             starts_at=datetime.combine(mairies.day, time(9, 30), PARIS).astimezone(UTC),
                             duration_in_min=30, lieu_id=mairies.seclin, agent_ids=[mairies.admin],
                             confirm_warnings=True)
    _deliver(db_url)
    assert [a["appointment_date"] for a in hub.declared("ABCDE12345")] == [f"{mairies.day.isoformat()} 09:30:00"]
    with UnitOfWork(db_url) as uow:
        lifecycle.cancel_rdv(uow, mairies.admin, mairies.org, rdv_id)
    _deliver(db_url)
    assert hub.declared("ABCDE12345") == []
    assert all(row.status == OutboxStatus.SENT.value for row in _ants_rows(db_url))
    assert len(hub.calls_to("POST", "/api/appointments")) == 2


def test_a_deleted_rdv_is_deleted_at_ants(db_url: str, mairies: Mairies, hub: FakeAntsHub) -> None:
    hub.numbers["ABCDE12345"] = "validated"
    rdv_id = _plan(db_url, mairies)
    _deliver(db_url)
    with UnitOfWork(db_url) as uow:
        lifecycle.delete_rdv(uow, mairies.admin, mairies.org, rdv_id)
    _deliver(db_url)
    assert hub.declared("ABCDE12345") == []
    assert _ants_rows(db_url)[-1].status == OutboxStatus.SENT.value


def test_numbers_not_validated_and_other_motifs_are_left_alone(db_url: str, mairies: Mairies,
                                                               hub: FakeAntsHub) -> None:
    hub.numbers["ABCDE12345"] = "consumed"
    _plan(db_url, mairies)
    _deliver(db_url)
    assert hub.calls_to("GET", "/api/status") == [{"application_ids": "ABCDE12345"}]
    assert hub.calls_to("POST", "/api/appointments") == []
    _plan(db_url, mairies, hour=9, motif=mairies.plain_motif)  # not an ANTS category: nothing queued
    assert len(_ants_rows(db_url)) == 1


def test_an_usager_without_number_causes_no_call(db_url: str, mairies: Mairies, hub: FakeAntsHub) -> None:
    with UnitOfWork(db_url) as uow:
        uow.session.get(Usager, mairies.usager).ants_pre_demande_number = None  # type: ignore[union-attr]
        uow.commit()
    rdv_id = _plan(db_url, mairies)
    with UnitOfWork(db_url) as uow:
        lifecycle.cancel_rdv(uow, mairies.admin, mairies.org, rdv_id)
    _deliver(db_url)
    assert hub.calls == []
    assert [row.status for row in _ants_rows(db_url)] == [OutboxStatus.SENT.value] * 2


def test_an_outage_delays_the_declaration_then_nothing_is_lost_or_duplicated(db_url: str, mairies: Mairies,
                                                                              hub: FakeAntsHub) -> None:
    hub.numbers["ABCDE12345"] = "validated"
    hub.fail_next = 1_000
    rdv_id = _plan(db_url, mairies)
    _deliver(db_url)
    row = _ants_rows(db_url)[0]
    assert row.status == OutboxStatus.PENDING.value and "HTTP 500" in (row.last_error or "")
    hub.fail_next = 0
    # The agent and the usager never waited on ANTS: the RDV exists; the retry comes later.
    _deliver(db_url, now=clock.now() + timedelta(hours=1))
    _deliver(db_url, now=clock.now() + timedelta(hours=2))  # nothing due any more: nothing sent twice
    assert [a["management_url"] for a in hub.declared("ABCDE12345")] == [ants_sync.management_url(rdv_id)]
    assert len(hub.calls_to("POST", "/api/appointments")) == 1
    with UnitOfWork(db_url) as uow:
        receipts = uow.session.exec(select(Receipt.result).where(Receipt.channel == Channel.ANTS.value)
                                    .order_by(col(Receipt.id))).all()
    assert receipts == ["failure", "sent"]


def test_a_retry_after_an_answer_lost_does_not_declare_twice(db_url: str, mairies: Mairies,
                                                            hub: FakeAntsHub) -> None:
    """ANTS created the appointment, but the answer was lost: the retry deletes and creates again."""
    hub.numbers["ABCDE12345"] = "validated"
    rdv_id = _plan(db_url, mairies)
    row = _ants_rows(db_url)[0]
    ants_sync.deliver(get_engine(db_url), row.payload)  # the first attempt, whose outcome was never recorded
    _deliver(db_url)
    assert len(hub.declared("ABCDE12345")) == 1
    assert hub.declared("ABCDE12345")[0]["management_url"] == ants_sync.management_url(rdv_id)


def test_one_call_at_a_time_for_an_rdv_whatever_the_workers(db_url: str, mairies: Mairies, hub: FakeAntsHub) -> None:
    """The RDV moved before its creation reached ANTS: while one worker is calling ANTS for it, another
    worker does not take the second row of that RDV; it goes after, and ANTS ends with the new time."""
    hub.numbers["ABCDE12345"] = "validated"
    rdv_id = _plan(db_url, mairies)
    with UnitOfWork(db_url) as uow:
        lifecycle.update_rdv(uow, mairies.admin, mairies.org, rdv_id,
                             starts_at=datetime.combine(mairies.day, time(9, 30), PARIS).astimezone(UTC),
                             duration_in_min=30, lieu_id=mairies.seclin, agent_ids=[mairies.admin],
                             confirm_warnings=True)
    assert len(_ants_rows(db_url)) == 2
    first, second = Worker(db_url), Worker(db_url)
    hub.hold()
    calling = threading.Thread(target=first.run_once, kwargs={"limit": 1})
    calling.start()
    try:
        assert hub.held.wait(20), "the first worker never called ANTS"
        assert second.run_once(limit=500) == 0
    finally:
        hub.release()
        calling.join(30)
        first.retire()
        second.retire()
    _deliver(db_url)
    assert [a["appointment_date"] for a in hub.declared("ABCDE12345")] == [f"{mairies.day.isoformat()} 09:30:00"]
    assert [row.status for row in _ants_rows(db_url)] == [OutboxStatus.SENT.value] * 2


def test_a_changed_number_moves_the_appointment_to_the_new_number(db_url: str, mairies: Mairies,
                                                                  hub: FakeAntsHub) -> None:
    hub.numbers |= {"ABCDE12345": "validated", "ZYXWV98765": "validated"}
    rdv_id = _plan(db_url, mairies)
    _deliver(db_url)
    with UnitOfWork(db_url) as uow:
        uow.session.get(Usager, mairies.usager).ants_pre_demande_number = "ZYXWV98765"  # type: ignore[union-attr]
        uow.record(RecordChanged(model=WebhookSubscription.USER, record_id=mairies.usager, change=Change.UPDATED,
                                 occurred_at=clock.now()))
        uow.commit()
    _deliver(db_url)
    assert hub.declared("ABCDE12345") == []
    assert [a["management_url"] for a in hub.declared("ZYXWV98765")] == [ants_sync.management_url(rdv_id)]


def test_a_renamed_lieu_is_declared_again_under_its_new_name(db_url: str, mairies: Mairies, hub: FakeAntsHub) -> None:
    """ANTS shows the lieu's name (`meeting_point`): a rename declares its RDVs to come again; another change
    of the lieu calls ANTS for nothing."""
    hub.numbers["ABCDE12345"] = "validated"
    rdv_id = _plan(db_url, mairies)
    _deliver(db_url)
    address = "89 rue Roger Bouvry, Seclin, 59113"
    with UnitOfWork(db_url) as uow:
        admin_lieux.update_lieu(uow, mairies.admin, mairies.org, mairies.seclin, LieuInput(
            "Mairie de Seclin", address, phone_number="03 20 62 91 11", latitude="50.55", longitude="3.03"))
    assert len(_ants_rows(db_url)) == 1
    with UnitOfWork(db_url) as uow:
        admin_lieux.update_lieu(uow, mairies.admin, mairies.org, mairies.seclin, LieuInput(
            "Hôtel de ville de Seclin", address, phone_number="03 20 62 91 11", latitude="50.55", longitude="3.03"))
    _deliver(db_url)
    assert hub.declared("ABCDE12345") == [{
        "meeting_point": "Hôtel de ville de Seclin", "meeting_point_id": str(mairies.seclin),
        "appointment_date": f"{mairies.day.isoformat()} 09:00:00", "management_url": ants_sync.management_url(rdv_id)}]
    assert [row.status for row in _ants_rows(db_url)] == [OutboxStatus.SENT.value] * 2


def test_forged_events_queue_nothing_for_what_is_not_ants(db_url: str, mairies: Mairies, hub: FakeAntsHub) -> None:
    """A handler reads the RDV itself: an event naming an unknown RDV, or an RDV of another category,
    queues nothing, whatever else it claims; replaying the same event queues once."""
    plain_rdv = _plan(db_url, mairies, motif=mairies.plain_motif)
    now = clock.now()

    def forged(rdv_id: int) -> RdvChanged:
        return RdvChanged(rdv_id=rdv_id, organisation_id=mairies.org, change=Change.UPDATED, action="updated",
                          actor=Actor.SYSTEM, occurred_at=now, version=7, event=None, status=RdvStatus.UNKNOWN,
                          starts_at=now, old_starts_at=now, time_or_lieu_changed=True, old_agent_ids=(),
                          new_agent_ids=(), usager_ids=(mairies.usager,))

    with UnitOfWork(db_url) as uow:
        for rdv_id in (plain_rdv, 987_654):
            uow.record(forged(rdv_id))
        uow.record(RecordChanged(model=WebhookSubscription.USER, record_id=987_654, change=Change.UPDATED,
                                 occurred_at=now))
        uow.commit()
    assert _ants_rows(db_url) == []
    ants_rdv = _plan(db_url, mairies, hour=9)
    with UnitOfWork(db_url) as uow:
        uow.record(forged(ants_rdv))
        uow.record(forged(ants_rdv))
        uow.commit()
    assert len(_ants_rows(db_url)) == 2  # the creation, and the forged change once


def test_nothing_is_queued_while_ants_is_not_configured(db_url: str, mairies: Mairies) -> None:
    assert not os.environ.get("RDV_ANTS_API_URL")
    _plan(db_url, mairies)
    assert _ants_rows(db_url) == []


# --------------------------------------------------------------------------- pre-demande numbers


def test_a_number_is_checked_for_its_format_then_by_ants(hub: FakeAntsHub) -> None:
    hub.numbers |= {"ABCDE12345": "validated", "CONSUMED12": "consumed", "EXPIRED123": "expired",
                    "USEDAGAIN1": "validated"}
    hub.appointments["USEDAGAIN1"] = [{"meeting_point": "Mairie de Lille", "meeting_point_id": "3",
                                       "appointment_date": "2030-01-01 10:00:00",
                                       "management_url": "https://rdv.exemple.fr/r/42"}]
    assert ants_service.check_number("abc") == ants_service.NumberVerdict("ABC", error=ants.FORMAT_ERROR)
    assert hub.calls == []  # the format first: no call for a number that cannot be one
    assert ants_service.check_number(" abcde12345 ") == ants_service.NumberVerdict("ABCDE12345")
    assert ants_service.check_number("CONSUMED12").error == "Ce numéro de pré-demande ANTS correspond à un dossier déjà instruit."
    assert ants_service.check_number("EXPIRED123").error == "Ce numéro de pré-demande ANTS correspond à un dossier expiré."
    assert ants_service.check_number("UNKNOWN123").error == "Ce numéro de pré-demande ANTS n'est pas reconnu par l'ANTS."
    used = ants_service.check_number("usedagain1")
    assert used.error is None and used.warning_link == "https://rdv.exemple.fr/r/42"
    assert used.warning == ("Ce numéro de pré-demande ANTS est déjà utilisé pour un RDV auprès de Mairie de Lille. "
                            "Veuillez annuler ce RDV avant d'en prendre un nouveau.")
    hub.fail_next = 1
    assert ants_service.check_number("ABCDE12345").error == ants.UNEXPECTED_ERROR


def test_an_unreachable_ants_blocks_with_the_retry_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RDV_ANTS_API_URL", f"http://127.0.0.1:{free_port()}/api")
    assert ants_service.check_number("ABCDE12345").error == ants.UNEXPECTED_ERROR


def test_the_agents_usager_form_checks_the_number_with_ants(db_url: str, mairies: Mairies, hub: FakeAntsHub) -> None:
    hub.numbers |= {"CONSUMED12": "consumed", "USEDAGAIN1": "validated", "PASSE12345": "validated"}
    hub.appointments["USEDAGAIN1"] = [{"meeting_point": "Mairie de Lille", "meeting_point_id": "3",
                                       "appointment_date": "2030-01-01 10:00:00",
                                       "management_url": "https://rdv.exemple.fr/r/42"}]

    def form(number: str) -> usager_form.UsagerForm:
        return usager_form.UsagerForm(kind="responsable", usager=usager_form.UsagerFields(
            first_name="Marc", last_name="Lenoir", ants_pre_demande_number=number))

    with UnitOfWork(db_url) as uow:
        assert usager_form.usager_form(uow, mairies.admin, mairies.org, None).ants
    before = snapshot(db_url)
    for number, message in (("abc", ants.FORMAT_ERROR),
                            ("consumed12", "Ce numéro de pré-demande ANTS correspond à un dossier déjà instruit.")):
        with UnitOfWork(db_url) as uow, pytest.raises(usager_form.UsagerFormInvalid) as refused:
            usager_form.save_usager(uow, mairies.admin, mairies.org, None, form(number))
        assert refused.value.errors == {"ants_pre_demande_number": message}
    with UnitOfWork(db_url) as uow, pytest.raises(usager_form.DuplicateWarnings) as warned:
        usager_form.save_usager(uow, mairies.admin, mairies.org, None, form("usedagain1"))
    assert warned.value.duplicates[0].message.startswith("Ce numéro de pré-demande ANTS est déjà utilisé")
    assert snapshot(db_url) == before
    with UnitOfWork(db_url) as uow:
        saved = usager_form.save_usager(uow, mairies.admin, mairies.org, None, form(" passe12345 "))
        assert uow.session.get(Usager, saved.usager_id).ants_pre_demande_number == "PASSE12345"  # type: ignore[union-attr]
        edited = usager_form.usager_form(uow, mairies.admin, mairies.org, saved.usager_id)
    assert edited.values.ants_pre_demande_number == "PASSE12345"


# --------------------------------------------------------------------------- numbers in the agents' form, relatives


def _used_elsewhere(hub: FakeAntsHub, number: str) -> None:
    hub.numbers[number] = "validated"
    hub.appointments[number] = [{"meeting_point": "Mairie de Lille", "meeting_point_id": "3",
                                 "appointment_date": "2030-01-01 10:00:00",
                                 "management_url": "https://rdv.exemple.fr/r/42"}]


def test_the_agents_form_checks_the_number_live_as_the_booking_does(db_url: str, mairies: Mairies,
                                                                    hub: FakeAntsHub) -> None:
    """RDV-SP's on_rdv_mairie_spec: format, upper case, already used, consumed, API error."""
    hub.numbers |= {"PASSE12345": "validated", "CONSUMED12": "consumed"}
    _used_elsewhere(hub, "USEDAGAIN1")
    before = snapshot(db_url)

    def check(typed: str, usager_id: int | None = None) -> ants_service.NumberVerdict:
        with UnitOfWork(db_url, read_only=True) as uow:
            return usager_form.check_ants_number(uow, mairies.admin, mairies.org, usager_id, typed)

    assert check("abc-12") == ants_service.NumberVerdict("ABC-12", error=ants.FORMAT_ERROR)
    assert hub.calls == []  # the format first
    assert check(" passe12345 ") == ants_service.NumberVerdict("PASSE12345")
    assert check("consumed12").error == "Ce numéro de pré-demande ANTS correspond à un dossier déjà instruit."
    used = check("usedagain1")
    assert used.error is None and used.warning_link == "https://rdv.exemple.fr/r/42"
    assert used.warning is not None and "Mairie de Lille" in used.warning
    hub.fail_next = 1
    assert check("PASSE12345").error == ants.UNEXPECTED_ERROR
    calls = len(hub.calls)
    assert check("abcde12345", mairies.usager) == ants_service.NumberVerdict("ABCDE12345")  # hers: not asked again
    assert len(hub.calls) == calls
    assert check("") == ants_service.NumberVerdict("")
    assert snapshot(db_url) == before  # checking writes nothing


def test_the_live_check_is_refused_outside_the_agents_organisations(db_url: str, mairies: Mairies,
                                                                    hub: FakeAntsHub, uow: UnitOfWork) -> None:
    plain_org = make.organisation(uow.session, make.territory(uow.session, "59", "Nord"), "PMI Lille", "pmi-lille")
    stranger = make.agent(uow.session, "agent@pmi-lille.test", "Max", "Autre", organisation=plain_org, role="admin")
    uow.commit()
    stranger_id = stranger.id
    with UnitOfWork(db_url, read_only=True) as unit, pytest.raises(PermissionDenied):
        usager_form.check_ants_number(unit, stranger_id, mairies.org, mairies.usager, "PASSE12345")  # type: ignore[arg-type]
    assert hub.calls == []


def test_a_relative_has_a_number_of_their_own_in_the_agents_form_and_the_booking(db_url: str, mairies: Mairies,
                                                                                hub: FakeAntsHub) -> None:
    hub.numbers |= {"ENFANT1234": "validated", "CONSUMED12": "consumed", "ENFANT5678": "validated"}
    _used_elsewhere(hub, "USEDAGAIN1")

    def relative(number: str) -> usager_form.UsagerForm:
        return usager_form.UsagerForm(kind="proche", usager=usager_form.UsagerFields(
            first_name="Léo", last_name="Dupont", ants_pre_demande_number=number), responsible_id=mairies.usager)

    before = snapshot(db_url)
    with UnitOfWork(db_url) as uow, pytest.raises(usager_form.UsagerFormInvalid) as refused:
        usager_form.save_usager(uow, mairies.admin, mairies.org, None, relative("consumed12"))
    assert refused.value.errors == {"ants_pre_demande_number":
                                    "Ce numéro de pré-demande ANTS correspond à un dossier déjà instruit."}
    with UnitOfWork(db_url) as uow, pytest.raises(usager_form.DuplicateWarnings) as warned:
        usager_form.save_usager(uow, mairies.admin, mairies.org, None, relative("usedagain1"))
    assert warned.value.duplicates[0].key == "ants_pre_demande_number"
    assert snapshot(db_url) == before
    with UnitOfWork(db_url) as uow:
        relative_id = usager_form.save_usager(uow, mairies.admin, mairies.org, None, relative("enfant1234")).usager_id
    with UnitOfWork(db_url, read_only=True) as uow:
        shown = usager_form.usager_form(uow, mairies.admin, mairies.org, relative_id)
        assert (shown.kind, shown.values.ants_pre_demande_number) == ("proche", "ENFANT1234")
        assert uow.session.get(Usager, mairies.usager).ants_pre_demande_number == "ABCDE12345"  # type: ignore[union-attr]
        assert usager_form.check_ants_number(uow, mairies.admin, mairies.org, relative_id, "ENFANT1234") == \
            ants_service.NumberVerdict("ENFANT1234")
        # The usager booking a passport for her son is asked his number, not hers.
        assert ants_service.booking_number(uow, mairies.usager, relative_id, mairies.passport) == \
            ants_service.NumberNeed(True, "ENFANT1234")
    with UnitOfWork(db_url) as uow:
        assert ants_service.save_booking_number(uow, mairies.usager, relative_id, " enfant5678 ") == "ENFANT5678"
    with UnitOfWork(db_url, read_only=True) as uow:
        assert uow.session.get(Usager, relative_id).ants_pre_demande_number == "ENFANT5678"  # type: ignore[union-attr]
        assert uow.session.get(Usager, mairies.usager).ants_pre_demande_number == "ABCDE12345"  # type: ignore[union-attr]
        # Someone else's relative is nobody to her.
        with pytest.raises(NotFound):
            ants_service.booking_number(uow, relative_id, mairies.usager, mairies.passport)
