"""Statistiques (issue 19) on SQLite and PostgreSQL, against a hand-built data set: every status, origin,
service and location type, two organisations of a territory and one overseas. The period crosses the end
of summer time (25 October 2026): an RDV created at 00:30 on a Monday of summer time and one created at
23:30 on the Sunday of the change each land in their local week."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import factories as make
import pytest
import time_machine
from openpyxl import load_workbook
from sqlmodel import Session, select

from rdv_app import routes
from rdv_app.db.models import (
    Agent,
    AgentInvitation,
    AgentRole,
    Export,
    Motif,
    Organisation,
    OutlookConnection,
    Participation,
    Rdv,
    Receipt,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.services import stats
from rdv_app.services.errors import DomainError, NotFound, PermissionDenied
from rdv_app.services.rdv import rdv_export

pytestmark = pytest.mark.clock(datetime(2026, 11, 4, 11, 0, tzinfo=UTC), tick=False)

PARIS = ZoneInfo("Europe/Paris")
REUNION = ZoneInfo("Indian/Reunion")
FIRST, LAST = date(2026, 10, 19), date(2026, 11, 8)  # three weeks, Monday to Sunday


def paris(day: int, month: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(date(2026, month, day), time(hour, minute), PARIS).astimezone(UTC)


@dataclass
class World:
    admin: int
    paul: int  # basic agent, PMI, in both organisations of the territory
    bea: int  # basic agent, social service
    arras: int
    lens: int
    reunion: int
    pas_de_calais: int
    la_reunion: int


def _rdv(s: Session, org: object, motif: object, starts_at: datetime, created_at: datetime, status: str, origin: str,
         agents: list[object], usagers: list[object]) -> Rdv:
    cancelled = {"cancelled_at": created_at} if status in ("excused", "revoked", "noshow") else {}
    rdv = make.rdv(s, org, motif, starts_at, agents=agents, usagers=usagers, status=status,  # type: ignore[arg-type]
                   created_by_type=origin, created_at=created_at, **cancelled)
    for participation in s.exec(select(Participation).where(Participation.rdv_id == rdv.id)).all():
        participation.status = status
    return rdv


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    s = uow.session
    pas_de_calais = make.territory(s)
    la_reunion = make.territory(s, "974", "La Réunion", timezone="Indian/Reunion")
    arras = make.organisation(s, pas_de_calais)
    lens = make.organisation(s, pas_de_calais, "MDS Lens", "mds-lens")
    reunion = make.organisation(s, la_reunion, "PMI Saint-Denis", "pmi-saint-denis")
    pmi, social, _ = make.pmi_social_secretariat(s)
    admin = make.agent(s, "admin@exemple.fr", "Alice", "Admin", organisation=arras, role="admin", services=[pmi])
    paul = make.agent(s, "paul@exemple.fr", "Paul", "Martin", organisation=arras, services=[pmi])
    make.agent(s, "bea-lens@exemple.fr", "Zoé", "Lens", organisation=lens, services=[pmi])
    s.add(AgentRole(agent_id=paul.id, organisation_id=lens.id))  # type: ignore[arg-type]
    bea = make.agent(s, "bea@exemple.fr", "Béa", "Durand", organisation=arras, services=[social])
    office = make.motif(s, arras, pmi, "Consultation")
    phone = make.motif(s, arras, pmi, "Appel", location_type="phone")
    home = make.motif(s, arras, social, "Visite", location_type="home")
    visio = make.motif(s, arras, social, "Visio", location_type="visio")
    lens_motif = make.motif(s, lens, pmi, "Consultation Lens")
    reunion_motif = make.motif(s, reunion, pmi, "Consultation Réunion")
    marie = make.usager(s, "Marie", "Dupont", organisations=[arras, lens, reunion])
    jean = make.usager(s, "Jean", "Dupont", organisations=[arras, reunion])
    # 1 seen, created Monday 19 October 00:30 in summer time (Sunday 22:30 UTC).
    _rdv(s, arras, office, paris(20, 10, 10), paris(19, 10, 0, 30), "seen", "agent", [paul], [marie])
    # 2 excused, created on the Sunday of the change at 23:30, winter time (22:30 UTC): week of 19 October.
    _rdv(s, arras, phone, paris(27, 10, 10), paris(25, 10, 23, 30), "excused", "usager", [paul], [marie])
    _rdv(s, arras, home, paris(28, 10, 10), paris(26, 10, 9), "revoked", "prescripteur", [bea], [jean])
    _rdv(s, arras, visio, paris(3, 11, 9), paris(2, 11, 9), "noshow", "system", [bea], [jean])
    _rdv(s, arras, office, paris(3, 11, 10), paris(3, 11, 8), "unknown", "agent", [paul], [marie])  # to fill
    _rdv(s, arras, home, paris(6, 11, 10), paris(4, 11, 8), "unknown", "usager", [bea, paul], [jean])  # to come
    _rdv(s, arras, visio, paris(21, 10, 10), paris(12, 10, 9), "seen", "agent", [bea], [jean])  # created before
    _rdv(s, arras, office, paris(20, 11, 10), paris(20, 10, 9), "unknown", "agent", [paul], [marie])  # starts after
    _rdv(s, lens, lens_motif, paris(21, 10, 10), paris(20, 10, 9), "seen", "agent", [paul], [marie])
    reunion_start = datetime(2026, 10, 21, 9, tzinfo=REUNION).astimezone(UTC)
    _rdv(s, reunion, reunion_motif, reunion_start, reunion_start.replace(day=20), "seen", "usager", [admin],
         [marie, jean])
    for org, event, channel, result in ((arras, "rdv_created", "sms", "delivered"),
                                        (arras, "rdv_cancelled", "mail", "sent"),
                                        (reunion, "rdv_upcoming_reminder", "sms", "failure")):
        s.add(Receipt(organisation_id=org.id, event=event, channel=channel, result=result,
                      created_at=paris(27, 10, 12)))
    uow.commit()
    return World(admin.id, paul.id, bea.id, arras.id, lens.id, reunion.id,  # type: ignore[arg-type]
                 pas_de_calais.id, la_reunion.id)  # type: ignore[arg-type]


def _counters(found: list[stats.Counter]) -> dict[str, int]:
    return {counter.key: counter.count for counter in found}


def _chart(chart: stats.WeeklyCounts) -> dict[str, dict[str, int]]:
    """{series label: {week label: count}}, without the zeros."""
    return {series.label: {bucket.label: row[index] for bucket, row in zip(chart.buckets, chart.counts, strict=True)
                           if row[index]}
            for index, series in enumerate(chart.series) if any(row[index] for row in chart.counts)}


W19, W26, W02 = "Semaine du 19/10/2026", "Semaine du 26/10/2026", "Semaine du 02/11/2026"


def test_an_admin_sees_the_whole_organisation(db_url: str, world: World) -> None:
    with UnitOfWork(db_url, read_only=True) as uow:
        found = stats.organisation_stats(uow, world.admin, world.arras, FIRST, LAST)
    assert found.whole_organisation
    assert [bucket.label for bucket in found.by_origin.buckets] == [W19, W26, W02]
    assert _counters(found.counters) == {"seen": 2, "excused": 1, "revoked": 1, "noshow": 1, "unknown_past": 1,
                                         "unknown_future": 1}
    assert [(series.label, total) for series, total in zip(found.by_origin.series, found.by_origin.series_totals,
                                                            strict=True)] == [
        ("Agent", 3), ("Usager", 2), ("File d'attente", 1), ("Prescripteur", 1)]
    assert _chart(found.by_origin) == {"Agent": {W19: 2, W02: 1}, "Usager": {W19: 1, W02: 1},
                                       "File d'attente": {W02: 1}, "Prescripteur": {W26: 1}}
    assert _chart(found.by_service) == {"PMI": {W19: 3, W02: 1}, "Service social": {W26: 1, W02: 2}}
    assert _chart(found.by_location_type) == {"Sur place": {W19: 2, W02: 1}, "Par téléphone": {W19: 1},
                                              "À domicile": {W26: 1, W02: 1}, "Par visioconférence": {W02: 1}}
    assert found.by_origin.total == 7


def test_a_basic_agent_counts_their_services_and_their_own_rdvs_only(db_url: str, world: World) -> None:
    with UnitOfWork(db_url, read_only=True) as uow:
        found = stats.organisation_stats(uow, world.paul, world.arras, FIRST, LAST)
    assert not found.whole_organisation
    # The social service's RDVs are out, except the one Paul is on ("À venir").
    assert _counters(found.counters) == {"seen": 1, "excused": 1, "revoked": 0, "noshow": 0, "unknown_past": 1,
                                         "unknown_future": 1}
    assert _chart(found.by_origin) == {"Agent": {W19: 2, W02: 1}, "Usager": {W19: 1, W02: 1}}
    assert _chart(found.by_service) == {"PMI": {W19: 3, W02: 1}, "Service social": {W02: 1}}


def test_the_personal_page_counts_the_agents_rdvs_in_every_organisation(db_url: str, world: World) -> None:
    with UnitOfWork(db_url, read_only=True) as uow:
        found = stats.personal_stats(uow, world.paul, world.arras, FIRST, LAST)
    assert found.agent_name == "Paul Martin"
    assert found.organisation_ids == sorted([world.arras, world.lens])
    assert _counters(found.counters) == {"seen": 2, "excused": 1, "revoked": 0, "noshow": 0, "unknown_past": 1,
                                         "unknown_future": 1}
    assert _chart(found.by_origin) == {"Agent": {W19: 3, W02: 1}, "Usager": {W19: 1, W02: 1}}


def test_an_agent_of_another_organisation_and_a_bad_period_are_refused(db_url: str, world: World) -> None:
    with UnitOfWork(db_url, read_only=True) as uow:
        with pytest.raises(PermissionDenied):
            stats.organisation_stats(uow, world.bea, world.reunion, FIRST, LAST)
        with pytest.raises(DomainError, match="La date de fin doit être le même jour ou après la date de début"):
            stats.organisation_stats(uow, world.admin, world.arras, LAST, FIRST)
        with pytest.raises(DomainError, match="deux ans"):
            stats.organisation_stats(uow, world.admin, world.arras, date(2024, 1, 1), LAST)


def test_the_public_page_counts_everything_or_one_territory(db_url: str, world: World) -> None:
    with UnitOfWork(db_url, read_only=True) as uow:
        everything = stats.public_stats(uow, None, date(2026, 11, 4))
        reunion = stats.public_stats(uow, world.la_reunion, date(2026, 11, 4))
        with pytest.raises(NotFound):
            stats.public_stats(uow, world.la_reunion + 100, date(2026, 11, 4))
    assert everything.last_day == date(2026, 11, 8) and everything.first_day.weekday() == 0
    # The RDV starting on 20 November is after the page's last week.
    assert _counters(everything.counters) == {"seen": 4, "excused": 1, "revoked": 1, "noshow": 1,
                                              "unknown_past": 1, "unknown_future": 1}
    assert _counters(everything.participation_counters) == {"seen": 5, "excused": 1, "revoked": 1, "noshow": 1,
                                                            "unknown_past": 1, "unknown_future": 1}
    assert everything.by_origin.total == 10
    assert everything.by_territory is not None
    assert [(s.label, t) for s, t in zip(everything.by_territory.series, everything.by_territory.series_totals,
                                         strict=True)] == [("La Réunion", 1), ("Pas-de-Calais", 9)]
    # "RDV par statut": past RDVs by week of start (the one to come is not there).
    assert _chart(everything.status_by_week) == {"Vu(s)": {W19: 4}, "Excusé(s)": {W26: 1},
                                                 "Annulé(s) par un agent": {W26: 1}, "Non excusé(s)": {W02: 1},
                                                 "À renseigner": {W02: 1}}
    assert everything.activity.agents == 4 and everything.activity.with_rdv == 3

    assert reunion.territory_name == "La Réunion" and reunion.by_territory is None
    assert _counters(reunion.counters) == {"seen": 1, "excused": 0, "revoked": 0, "noshow": 0, "unknown_past": 0,
                                           "unknown_future": 0}
    assert _counters(reunion.participation_counters)["seen"] == 2
    assert _chart(reunion.by_origin) == {"Usager": {"Semaine du 19/10/2026": 1}}
    assert (reunion.activity.agents, reunion.activity.with_rdv) == (0, 0)
    assert _chart(reunion.active_agents_by_month) == {"Agents actifs": {"octobre 2026": 1}}


def test_the_counters_speak_the_lists_statuses(db_url: str, world: World) -> None:
    assert [key for key, _ in stats.STATUS_COUNTERS] == list(routes.RDV_LIST_STATUSES)


def test_the_public_page_is_computed_once_a_day_per_territory(db_url: str, world: World) -> None:
    first = stats.public_stats_of_the_day(world.la_reunion, db_url)
    with UnitOfWork(db_url) as uow:
        org = uow.session.get(Organisation, world.reunion)
        motif = uow.session.exec(select(Motif).where(Motif.organisation_id == world.reunion)).one()
        make.rdv(uow.session, org, motif, paris(3, 11, 9), agents=[world.admin], status="seen")  # type: ignore[arg-type]
        uow.commit()
    again = stats.public_stats_of_the_day(world.la_reunion, db_url)
    assert _counters(again.counters)["seen"] == _counters(first.counters)["seen"] == 1
    # Another territory is computed on its own; the next local day (Réunion time) computes anew.
    assert _counters(stats.public_stats_of_the_day(world.pas_de_calais, db_url).counters)["seen"] == 3
    with time_machine.travel(datetime(2026, 11, 4, 20, 1, tzinfo=UTC), tick=False):  # 5 November, 00:01 there
        tomorrow = stats.public_stats_of_the_day(world.la_reunion, db_url)
    assert tomorrow.computed_on == date(2026, 11, 5)
    assert _counters(tomorrow.counters)["seen"] == 2


def test_the_notifications_sub_page_counts_each_day(db_url: str, world: World) -> None:
    with UnitOfWork(db_url) as uow:  # a receipt at 23:30 in Paris on 3 November: that day there, the 4th in Réunion
        uow.session.add(Receipt(organisation_id=world.reunion, event="rdv_created", channel="mail", result="processed",
                                created_at=paris(3, 11, 23, 30)))
        uow.commit()
    with UnitOfWork(db_url, read_only=True) as uow:
        everything = stats.public_notifications(uow, None, date(2026, 11, 4))
        reunion = stats.public_notifications(uow, world.la_reunion, date(2026, 11, 4))
    assert (everything.first_day, everything.last_day) == (date(2026, 10, 6), date(2026, 11, 4))
    assert len(everything.by_channel.buckets) == 30 and everything.by_channel.buckets[0].label == "06/10/2026"
    assert _chart(everything.by_channel) == {"SMS": {"27/10/2026": 2}, "Email": {"27/10/2026": 1, "03/11/2026": 1}}
    assert _chart(everything.by_result) == {"Traité": {"03/11/2026": 1}, "Envoyé": {"27/10/2026": 1},
                                            "Délivré": {"27/10/2026": 1}, "Échec": {"27/10/2026": 1}}
    assert _chart(everything.by_event) == {"RDV créé": {"27/10/2026": 1, "03/11/2026": 1},
                                           "RDV annulé": {"27/10/2026": 1}, "Rappel": {"27/10/2026": 1}}
    assert reunion.territory_name == "La Réunion"
    assert _chart(reunion.by_event) == {"RDV créé": {"04/11/2026": 1}, "Rappel": {"27/10/2026": 1}}
    assert _chart(reunion.by_result) == {"Traité": {"04/11/2026": 1}, "Échec": {"27/10/2026": 1}}


def test_the_agents_activity_today_and_30_days_ago(db_url: str, uow: UnitOfWork) -> None:
    """Now is 4 November 2026 at 12:00 in Paris; 30 days ago, 5 October."""
    s = uow.session
    nord = make.territory(s, "59", "Nord")
    lille = make.organisation(s, nord, "MDS Lille", "mds-lille")
    pmi = make.service(s)
    old, recent = paris(1, 9, 9), paris(20, 10, 9)
    everyone = {"bookable_by": "everyone"}
    office = make.motif(s, lille, pmi, "Consultation", **everyone)
    atelier = make.motif(s, lille, pmi, "Atelier", collectif=True, **everyone)
    internal = make.motif(s, lille, pmi, "Réunion interne", collectif=True)  # booked by agents only
    usager = make.usager(s, "Marie", "Dupont", organisations=[lille])

    def agent(name: str, created_at: datetime, role: str | None = None, **fields: object) -> Agent:
        found = make.agent(s, f"{name}@exemple.fr", name.title(), "Nord", organisation=lille, role=role,
                           services=[pmi], created_at=created_at, **fields)
        s.exec(select(AgentRole).where(AgentRole.agent_id == found.id)).one().created_at = created_at
        return found

    def invitation(who: Agent, used_at: datetime | None) -> None:
        s.add(AgentInvitation(agent_id=who.id, token_hash=f"hash-{who.id}", expires_at=paris(1, 12, 9),  # type: ignore[arg-type]
                              used_at=used_at, created_at=old))

    ana = agent("ana", old, password_hash="x")
    invitation(ana, paris(2, 9, 9))
    make.rdv(s, lille, office, paris(15, 9, 9), agents=[ana], usagers=[usager], created_at=paris(10, 9, 9))
    make.plage(s, ana, lille, None, [office], title="Permanence", first_day=date(2026, 10, 6), start_time=time(9),
               end_time=time(12), created_at=old)  # one day, after 5 October, over by now
    ben = agent("ben", old, password_hash="x")
    invitation(ben, paris(20, 10, 9))
    make.rdv(s, lille, atelier, paris(10, 11, 14), agents=[ben], created_at=paris(25, 10, 9),
             max_participants_count=8)  # a collective session to come
    s.add(OutlookConnection(agent_id=ben.id, access_token_sealed="a", refresh_token_sealed="r"))  # type: ignore[arg-type]
    cid = agent("cid", recent)
    invitation(cid, None)
    make.rdv(s, lille, internal, paris(12, 11, 14), agents=[cid], created_at=paris(25, 10, 9))
    make.rdv(s, lille, atelier, paris(13, 11, 14), agents=[cid], created_at=paris(25, 10, 9), status="revoked",
             cancelled_at=paris(30, 10, 9))
    s.add(OutlookConnection(agent_id=cid.id, access_token_sealed=None, refresh_token_sealed=None))  # type: ignore[arg-type]
    fay = agent("fay", old, password_hash="x")  # never invited: made with a password
    make.plage(s, fay, lille, None, [office], title="Chaque semaine", first_day=date(2026, 9, 1), start_time=time(9),
               end_time=time(12), recurrence={"every": "week"}, created_at=recent)
    agent("eve", old, deleted_at=recent)
    agent("dan", old, role="intervenant", password_hash="x")
    uow.commit()
    nord_id = nord.id
    with UnitOfWork(db_url, read_only=True) as read:
        found = stats.public_stats(read, nord_id, date(2026, 11, 4))
    assert found.activity == stats.AgentActivity(agents=4, accepted=3, with_rdv=3, with_recent_rdv=2,
                                                 open_to_the_public=2)
    assert found.activity_month_ago == stats.AgentActivity(agents=4, accepted=2, with_rdv=1, with_recent_rdv=1,
                                                           open_to_the_public=1)
    assert found.outlook_agents == 1


def _exported(db_url: str, ask: object, agent: int, organisation: int, export_type: str = "rdv_export") -> list[tuple]:
    """The rows (after the header) of the file the worker builds for an export asked from a statistics page."""
    with UnitOfWork(db_url) as uow:
        requested = ask(uow, agent, organisation, FIRST, LAST, export_type, "xlsx")  # type: ignore[operator]
    assert rdv_export.build_next_export(db_url)
    with UnitOfWork(db_url, read_only=True) as uow:
        content = rdv_export.export_file(uow, agent, requested.id).content
    return list(load_workbook(io.BytesIO(content), read_only=True).active.iter_rows(values_only=True))[1:]


def test_the_statistics_export_the_rdvs_they_count(db_url: str, world: World) -> None:
    """An admin's file has the 7 RDVs of the period counted on the page ("Tous"), not the one starting after it
    nor the other organisations'; Paul's has the RDVs of his services and his own only; his personal page's
    file has the RDVs he is on in both of his organisations."""
    motif, organisation = 7, 16  # the columns "motif" and "Organisation" (0-based)
    admin = _exported(db_url, stats.export_organisation_stats, world.admin, world.arras)
    assert len(admin) == 7 and {row[organisation] for row in admin} == {"PMI Arras"}
    assert sorted(row[motif] for row in admin) == ["Appel", "Consultation", "Consultation", "Visio", "Visio",
                                                   "Visite", "Visite"]
    paul = _exported(db_url, stats.export_organisation_stats, world.paul, world.arras)
    assert sorted(row[motif] for row in paul) == ["Appel", "Consultation", "Consultation", "Visite"]
    with UnitOfWork(db_url, read_only=True) as uow:
        counted = stats.organisation_stats(uow, world.paul, world.arras, FIRST, LAST)
    assert len(paul) == sum(counter.count for counter in counted.counters)
    personal = _exported(db_url, stats.export_personal_stats, world.paul, world.arras)
    assert sorted((row[organisation], row[motif]) for row in personal) == [
        ("MDS Lens", "Consultation Lens"), ("PMI Arras", "Appel"), ("PMI Arras", "Consultation"),
        ("PMI Arras", "Consultation"), ("PMI Arras", "Visite")]
    by_usager = _exported(db_url, stats.export_personal_stats, world.paul, world.arras, "participations_export")
    assert len(by_usager) == 5


def test_a_statistics_export_is_refused_outside_the_agents_organisations(db_url: str, world: World) -> None:
    with UnitOfWork(db_url) as uow:
        with pytest.raises(PermissionDenied):
            stats.export_organisation_stats(uow, world.bea, world.reunion, FIRST, LAST, "rdv_export", "xlsx")
        with pytest.raises(DomainError, match="La date de fin doit être le même jour ou après"):
            stats.export_personal_stats(uow, world.paul, world.arras, LAST, FIRST, "rdv_export", "xlsx")
    with UnitOfWork(db_url, read_only=True) as uow:
        assert uow.session.exec(select(Export)).all() == []
