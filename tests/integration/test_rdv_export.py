"""Exports of the RDV list on SQLite and PostgreSQL, built by the worker's job and read back as a person
would: the `.xlsx` opened with openpyxl (columns in RDV Service Public's order, a row per RDV or per
participation, real date and time cells in the organisation's time zone), the `.csv` as text; a basic
agent's file holds no RDV of another service; only its creator downloads it, while its link is valid;
the email goes out once; an export whose worker died is built again, once."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import factories as make
import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from sqlmodel import select

from rdv_app.db.models import AgentRole, Export, OutboxMessage, Receipt
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain.rdv_export import PARTICIPATION_COLUMNS, RDV_COLUMNS
from rdv_app.domain.rdv_list import RdvFilters
from rdv_app.services.errors import DomainError, NotFound, PermissionDenied
from rdv_app.services.rdv import rdv_export

PARIS = ZoneInfo("Europe/Paris")
CAYENNE = ZoneInfo("America/Cayenne")


@dataclass
class World:
    org: int
    cayenne: int
    far: int
    admin: int
    pmi_agent: int
    outsider: int


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    s = uow.session
    territory = make.territory(s)
    pmi, social, _secretariat = make.pmi_social_secretariat(s)
    org = make.organisation(s, territory)
    cayenne = make.organisation(s, territory, "MDS Cayenne", "mds-cayenne", timezone="America/Cayenne")
    far = make.organisation(s, make.territory(s, "59", "Nord"), "PMI Lille", "pmi-lille")
    admin = make.agent(s, "admin@demo.test", "Alice", "Admin", organisation=org, role="admin", services=[pmi])
    s.add(AgentRole(agent_id=admin.id, organisation_id=cayenne.id, access_level="admin"))
    pmi_agent = make.agent(s, "pmi@demo.test", "Paul", "Pmi", organisation=org, services=[pmi])
    social_agent = make.agent(s, "social@demo.test", "Sophie", "Social", organisation=org, services=[social])
    outsider = make.agent(s, "out@demo.test", "Olga", "Out", organisation=far, services=[pmi])
    lieu = make.lieu(s, org, "Centre Arras", "1 rue A, 62000 Arras")
    pmi_motif = make.motif(s, org, pmi, "Consultation PMI")
    social_motif = make.motif(s, org, social, "Entretien social")
    home_motif = make.motif(s, org, pmi, "Visite à domicile", location_type="home")
    cayenne_motif = make.motif(s, cayenne, pmi, "Consultation Cayenne")
    mother = make.usager(s, "Jeanne", "Dupont", organisations=[org], birth_date=date(1990, 3, 14),
                         address="3 rue des Lilas 62000 Arras", city_name="Arras", post_code="62000")
    today = clock.now().astimezone(PARIS).date()
    child = make.usager(s, "Léo", "Dupont", organisations=[org], responsible_id=mother.id,
                        birth_date=date(today.year - 4, 1, 10))
    other = make.usager(s, "Marc", "Lambert", organisations=[org], city_name="Lens", address="8 place Jean Jaurès 62300 Lens")
    future = make.at_paris(today + timedelta(days=2), 9, 30)
    first = make.rdv(s, org, pmi_motif, future, agents=[pmi_agent, admin], usagers=[mother, child], lieu=lieu,
                     context="Pesée", created_by_agent_id=admin.id)
    s.add_all([Receipt(rdv_id=first.id, usager_id=mother.id, organisation_id=org.id, event="rdv_created",
                       channel="sms", result="sent"),
               Receipt(rdv_id=first.id, usager_id=child.id, organisation_id=org.id, event="rdv_created",
                       channel="mail", result="failure")])
    make.rdv(s, org, home_motif, make.at_paris(today - timedelta(days=3), 14), agents=[pmi_agent], usagers=[other],
             created_by_type="usager", created_by_usager_id=other.id)
    make.rdv(s, org, social_motif, make.at_paris(today + timedelta(days=1), 10), agents=[social_agent],
             usagers=[other], status="seen")
    # 23:30 in Cayenne on a day is 02:30 UTC the next day.
    cayenne_start = datetime.combine(today + timedelta(days=5), time(23, 30), CAYENNE).astimezone(UTC)
    make.rdv(s, cayenne, cayenne_motif, cayenne_start, agents=[admin])
    uow.commit()
    return World(org.id, cayenne.id, far.id, admin.id, pmi_agent.id, outsider.id)


def _built(db_url: str, agent: int, organisation: int, filters: RdvFilters = RdvFilters(),
           export_type: str = "rdv_export", export_format: str = "xlsx") -> tuple[str, bytes, str]:
    with UnitOfWork(db_url) as uow:
        requested = rdv_export.request_export(uow, agent, organisation, filters, export_type, export_format)
    assert rdv_export.build_next_export(db_url)
    with UnitOfWork(db_url, read_only=True) as uow:
        file = rdv_export.export_file(uow, agent, requested.id)
    return requested.id, file.content, file.file_name


def _sheet(content: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(content), read_only=True).active.iter_rows(values_only=True))


def test_an_admin_file_has_the_rdv_sp_columns_and_real_dates(db_url: str, world: World) -> None:
    _, content, name = _built(db_url, world.admin, world.org)
    rows = _sheet(content)
    assert rows[0] == RDV_COLUMNS
    assert len(rows[0]) == 21 and rows[0][11] == "professionnel.le(s)"
    body = {row[7]: dict(zip(RDV_COLUMNS, row, strict=True)) for row in rows[1:]}
    assert set(body) == {"Consultation PMI", "Visite à domicile", "Entretien social"}
    pesee = body["Consultation PMI"]
    today = clock.now().astimezone(PARIS).date()
    assert pesee["date rdv"] == datetime.combine(today + timedelta(days=2), time(0))  # a date cell
    assert pesee["heure rdv"] == time(9, 30)  # a time cell
    assert isinstance(pesee["date prise rdv"], datetime) and isinstance(pesee["heure prise rdv"], time)
    assert pesee["statut"] == "Rendez-vous à venir"
    assert pesee["lieu"] == "Centre Arras (1 rue A, 62000 Arras)"
    assert pesee["professionnel.le(s)"] == "Alice Admin, Paul Pmi"
    assert pesee["usager(s)"] == "DUPONT Jeanne, DUPONT Léo"
    assert pesee["au moins un usager mineur ?"] == "oui"
    assert pesee["commune du premier responsable"] == "Arras"
    assert pesee["code postal du premier responsable"] == "62000"
    assert pesee["résultat des notifications"] == "Échec"
    assert pesee["contexte"] == "Pesée"
    assert pesee["créé par"] == "Alice Admin"
    assert pesee["origine"] == "Créé par un agent"
    assert pesee["Organisation"] == "PMI Arras"
    assert pesee["email(s) professionnel.le(s)"] == "admin@demo.test, pmi@demo.test"
    home = body["Visite à domicile"]
    assert home["lieu"] == "À domicile (62300 Lens)" and "Jaurès" not in str(home.values())
    assert (home["statut"], home["origine"]) == ("À renseigner", "RDV Pris sur internet")
    assert body["Entretien social"]["statut"] == "Rendez-vous honoré"
    day = clock.now().astimezone(PARIS).date().isoformat()
    assert name == f"export-rdv-{day}-org-{world.org:06d}.xlsx"


def test_several_organisations_in_one_file_each_in_its_time_zone(db_url: str, world: World) -> None:
    _, content, name = _built(db_url, world.admin, world.org, RdvFilters(organisation_ids=(world.org, world.cayenne)))
    rows = [dict(zip(RDV_COLUMNS, row, strict=True)) for row in _sheet(content)[1:]]
    cayenne = [row for row in rows if row["Organisation"] == "MDS Cayenne"]
    today = clock.now().astimezone(PARIS).date()
    assert len(rows) == 4 and len(cayenne) == 1
    assert (cayenne[0]["date rdv"], cayenne[0]["heure rdv"]) == (
        datetime.combine(today + timedelta(days=5), time(0)), time(23, 30))
    # Latest start first.
    assert [row["date rdv"] for row in rows] == sorted((row["date rdv"] for row in rows), reverse=True)
    assert name == f"export-rdv-{today.isoformat()}.xlsx"


def test_a_basic_agents_file_has_no_rdv_of_another_service(db_url: str, world: World) -> None:
    _, content, _ = _built(db_url, world.pmi_agent, world.org)
    motifs = sorted(row[7] for row in _sheet(content)[1:])
    assert motifs == ["Consultation PMI", "Visite à domicile"]


def test_by_usager_a_row_per_participation(db_url: str, world: World) -> None:
    _, content, name = _built(db_url, world.admin, world.org, export_type="participations_export")
    rows = _sheet(content)
    assert rows[0] == PARTICIPATION_COLUMNS and rows[0][1] == "rdv_id"
    people = {row[0]: dict(zip(PARTICIPATION_COLUMNS, row, strict=True)) for row in rows[1:]}
    assert sorted(people) == ["DUPONT Jeanne", "DUPONT Léo", "LAMBERT Marc"]
    assert len(rows) == 1 + 4  # Jeanne and Léo in one RDV, Marc in two
    leo = people["DUPONT Léo"]
    assert (leo["usager mineur ?"], leo["commune du responsable"], leo["résultat des notifications"]) == (
        "oui", "Arras", "Échec")
    assert people["DUPONT Jeanne"]["date naissance"] == datetime(1990, 3, 14)
    assert name.startswith("export-rdvs-user-")


def test_csv_for_people_without_a_spreadsheet_program(db_url: str, world: World) -> None:
    _, content, name = _built(db_url, world.admin, world.org, RdvFilters(status="seen"), export_format="csv")
    assert content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    today = clock.now().astimezone(PARIS).date()
    assert rows[0] == list(RDV_COLUMNS)
    assert len(rows) == 2
    assert (rows[1][4], rows[1][5], rows[1][9]) == ((today + timedelta(days=1)).strftime("%d/%m/%Y"), "10:00",
                                                    "Rendez-vous honoré")
    assert name.endswith(".csv")


def test_only_its_creator_downloads_it_while_valid(db_url: str, world: World) -> None:
    export_id, _, _ = _built(db_url, world.admin, world.org)
    with UnitOfWork(db_url, read_only=True) as uow:
        for agent in (world.pmi_agent, world.outsider):
            with pytest.raises(NotFound, match="ne vous appartient pas"):
                rdv_export.export_file(uow, agent, export_id)
        later = clock.now() + timedelta(hours=6, minutes=1)
        with pytest.raises(NotFound, match="expiré"):
            rdv_export.export_file(uow, world.admin, export_id, now=later)
        lines = rdv_export.list_exports(uow, world.admin)
        assert [(line.state, line.progress, line.total) for line in lines] == [("available", 100, 3)]
        assert lines[0].title.startswith("Export de RDV du ") and lines[0].organisations == "PMI Arras"
        assert rdv_export.list_exports(uow, world.admin, now=later)[0].state == "expired"
        assert rdv_export.list_exports(uow, world.pmi_agent) == ()


def test_refusals_change_nothing(db_url: str, world: World) -> None:
    with UnitOfWork(db_url) as uow:
        with pytest.raises(PermissionDenied):
            rdv_export.request_export(uow, world.pmi_agent, world.org, RdvFilters(organisation_ids=(world.far,)),
                                      "rdv_export", "xlsx")
        with pytest.raises(DomainError, match="format"):
            rdv_export.request_export(uow, world.admin, world.org, RdvFilters(), "rdv_export", "pdf")
        with pytest.raises(DomainError, match="rien à exporter"):
            rdv_export.request_export(uow, world.admin, world.org, RdvFilters(status="noshow"), "rdv_export", "xlsx")
        assert uow.session.exec(select(Export)).all() == []
    assert not rdv_export.build_next_export(db_url)


def test_the_email_is_queued_once_and_a_dead_workers_export_is_built_again(db_url: str, world: World) -> None:
    with UnitOfWork(db_url) as uow:
        requested = rdv_export.request_export(uow, world.admin, world.org, RdvFilters(), "rdv_export", "xlsx")
    # A worker claims it and dies: its lease ends (here at once), another worker builds the file.
    claimed = rdv_export._claim(db_url, timedelta(0))
    assert claimed is not None and claimed[0] == requested.id
    with UnitOfWork(db_url, read_only=True) as uow:
        assert rdv_export.list_exports(uow, world.admin)[0].download_path == ""
    assert rdv_export.build_next_export(db_url)
    assert not rdv_export.build_next_export(db_url)
    with UnitOfWork(db_url, read_only=True) as uow:
        export = uow.session.get(Export, requested.id)
        assert export is not None and (export.status, export.attempts) == ("available", 2)
        mails = uow.session.exec(select(OutboxMessage.payload).where(OutboxMessage.channel == "mail")).all()
    assert len(mails) == 1
    assert mails[0]["to"] == "admin@demo.test"
    assert mails[0]["subject"].startswith("Export des RDVs du ")
    assert "Votre export est prêt" in mails[0]["text"]
    # The dead worker's late writes change nothing: its claim is gone.
    with pytest.raises(rdv_export.ClaimLost):
        rdv_export._update(db_url, requested.id, claimed[1], progress=50)


def test_an_export_failing_again_and_again_says_so(db_url: str, world: World) -> None:
    with UnitOfWork(db_url) as uow:
        rdv_export.request_export(uow, world.admin, world.org, RdvFilters(), "rdv_export", "xlsx")
    for _ in range(rdv_export.MAX_ATTEMPTS):
        assert rdv_export._claim(db_url, timedelta(0)) is not None
    assert rdv_export.build_next_export(db_url)
    with UnitOfWork(db_url, read_only=True) as uow:
        line = rdv_export.list_exports(uow, world.admin)[0]
    assert (line.state, line.error) == ("failed", rdv_export.FAILED)


def test_purge_empties_expired_files_and_forgets_old_exports(db_url: str, world: World) -> None:
    export_id, _, _ = _built(db_url, world.admin, world.org)
    with UnitOfWork(db_url) as uow:
        uow.session.execute(sa.update(Export).values(expires_at=clock.now() - timedelta(minutes=1)))
        uow.commit()
        assert rdv_export.purge_exports(uow, clock.now().date()) == 1
        export = uow.session.get(Export, export_id)
        assert export is not None and export.content is None
        uow.session.execute(sa.update(Export).values(created_at=clock.now() - timedelta(days=15)))
        uow.commit()
        assert rdv_export.purge_exports(uow, clock.now().date()) == 1
        assert uow.session.exec(select(Export)).all() == []
