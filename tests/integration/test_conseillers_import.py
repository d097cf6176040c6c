"""The "embauches.csv" import of the Conseillers Numériques, on SQLite and PostgreSQL, with the loopback Base
Adresse Nationale: good rows, duplicates and broken rows; a second run changes nothing; the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from db_snapshot import snapshot
from fakes.ban_server import FakeBan
from sqlmodel import col, select
from test_super_admin_accounts import super_admin

from rdv_app.config import Settings
from rdv_app.db.models import (
    Agent,
    AgentRole,
    AgentTerritorialAccessRight,
    Lieu,
    Motif,
    Organisation,
    OutboxMessage,
    Territory,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.errors import DomainError
from rdv_app.services.integrations import addresses
from rdv_app.services.integrations.conseillers_numeriques import import_conseillers

HEADER = ("ID conseiller;prenom;nom;email;email professionnel;email professionnel secondaire;Compte activé;"
          "ID long Structure;Dénomination;Adresse de la structure")
STRUCTURE_A = "5f0c1a2b3c4d5e6f7a8b9c0d"
STRUCTURE_B = "6a0c1a2b3c4d5e6f7a8b9c0d"
STRUCTURE_C = "7b0c1a2b3c4d5e6f7a8b9c0d"
CSV = "\n".join([
    HEADER,
    f"101;Léa;Martin;lea@perso.test;;lea.martin@cnfs.test;oui;{STRUCTURE_A};Médiathèque;1 Rue de la Paix 62000 Arras",
    f"102;Paul;Roux;;paul.roux@cnfs.test;;oui;{STRUCTURE_A};Médiathèque;1 Rue de la Paix 62000 Arras",
    f"103;Inès;Petit;;;ines.petit@cnfs.test;oui;{STRUCTURE_B};Médiathèque;2 Rue de Paris 62300 Lens",
    f"101;Léa;Martin;;;lea.martin@cnfs.test;oui;{STRUCTURE_A};Médiathèque;1 Rue de la Paix 62000 Arras",
    f"104;Jean;Blanc;;;jean.blanc@cnfs.test;non;{STRUCTURE_C};Maison France Services;3 rue X 62000 Arras",
    f"105;Zoé;Noir;;;pas-une-adresse;oui;{STRUCTURE_C};Maison France Services;3 rue X 62000 Arras",
    "106;Yves;Gris;;;yves.gris@cnfs.test;oui;12345;Maison France Services;3 rue X 62000 Arras",
    f"107;Anne;;;;anne@cnfs.test;oui;{STRUCTURE_C};Maison France Services;3 rue X 62000 Arras",
]) + "\n"


@pytest.fixture
def ban(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBan]:
    with FakeBan() as server:
        monkeypatch.setenv("RDV_BAN_URL", server.url)
        monkeypatch.setattr(addresses, "settings", Settings())
        yield server


def test_good_rows_are_imported_and_every_other_is_reported(db_url: str, uow: UnitOfWork, ban: FakeBan) -> None:
    super_admin(uow)
    report = import_conseillers(uow, CSV)
    assert report.organisations_created == ["Médiathèque", "Médiathèque - Lens"]
    assert sorted(report.agents_invited) == ["ines.petit@cnfs.test", "lea.martin@cnfs.test", "paul.roux@cnfs.test"]
    assert report.problems == [
        (5, "conseiller déjà présent ligne 2 : ligne ignorée"),
        (6, "compte non activé : ligne ignorée"),
        (7, "adresse email absente ou invalide"),
        (8, "« ID long Structure » n'est pas un identifiant de 24 caractères hexadécimaux"),
        (9, "valeur manquante : nom"),
    ]
    s = uow.session
    cn = s.exec(select(Territory).where(Territory.departement_number == "CN")).one()
    organisations = s.exec(select(Organisation).where(Organisation.territory_id == cn.id)
                           .order_by(col(Organisation.id))).all()
    assert [(o.name, o.external_id, o.verticale) for o in organisations] == [
        ("Médiathèque", STRUCTURE_A, "rdv_aide_numerique"), ("Médiathèque - Lens", STRUCTURE_B, "rdv_aide_numerique")]
    first = organisations[0]
    assert [(m.name, m.default_duration_in_min, m.collectif) for m in s.exec(
        select(Motif).where(Motif.organisation_id == first.id).order_by(col(Motif.id)))] == [
        ("Accompagnement individuel", 60, False), ("Atelier collectif", 120, True)]
    lieu = s.exec(select(Lieu).where(Lieu.organisation_id == first.id)).one()
    assert (lieu.address, lieu.longitude, lieu.latitude) == ("1 Rue de la Paix 62000 Arras", 2.78, 50.29)
    assert len(s.exec(select(AgentRole).where(AgentRole.organisation_id == first.id,
                                              AgentRole.access_level == "admin")).all()) == 2
    # Each conseiller reaches the territory, as an agent invited into one of its organisations does.
    assert sorted(s.exec(select(Agent.email).join(AgentTerritorialAccessRight,
                                                  col(AgentTerritorialAccessRight.agent_id) == Agent.id)
                         .where(AgentTerritorialAccessRight.territory_id == cn.id)).all()) == sorted(
        report.agents_invited)
    invitations = [m for m in s.exec(select(OutboxMessage)) if m.payload.get("subject", "").startswith("Invitation")]
    assert sorted(m.payload["to"] for m in invitations) == sorted(report.agents_invited)

    before = snapshot(db_url)
    again = import_conseillers(uow, CSV)
    assert (again.organisations_created, again.agents_invited, again.agents_kept) == ([], [], 3)
    assert snapshot(db_url, {"audit_log": {"*"}}) == {k: v for k, v in before.items() if k != "audit_log"}


def test_a_conseiller_is_known_by_their_id_when_their_email_changes(db_url: str, uow: UnitOfWork,
                                                                     ban: FakeBan) -> None:
    super_admin(uow)
    s = uow.session
    # Paul already had an account made by hand, under the address the export now gives as his former one.
    s.add(Agent(email="paul.roux@cnfs.test", last_name="Roux"))
    s.add(Agent(email="ines@mairie.test", last_name="Petit"))
    uow.commit()
    import_conseillers(uow, "\n".join([
        HEADER,
        f"101;Léa;Martin;;;lea.martin@cnfs.test;oui;{STRUCTURE_A};Médiathèque;1 Rue de la Paix 62000 Arras",
        f"102;Paul;Roux;;paul.roux@cnfs.test;;oui;{STRUCTURE_A};Médiathèque;1 Rue de la Paix 62000 Arras",
    ]) + "\n")
    ids = {a.email: a.id for a in s.exec(select(Agent))}
    invitations = len([m for m in s.exec(select(OutboxMessage)) if m.payload.get("to") in ids])

    report = import_conseillers(uow, "\n".join([
        HEADER,
        f"101;Léa;Martin;;;lea.martin@numerique.test;oui;{STRUCTURE_A};Médiathèque;1 Rue de la Paix 62000 Arras",
        f"102;Paul;Roux;;paul.roux@cnfs.test;paul.roux@numerique.test;oui;{STRUCTURE_A};Médiathèque;"
        "1 Rue de la Paix 62000 Arras",
        f"103;Inès;Petit;;;ines@mairie.test;oui;{STRUCTURE_B};Médiathèque;2 Rue de Paris 62300 Lens",
        f"101;Léa;Martin;;;lea.martin@numerique.test;oui;{STRUCTURE_B};Médiathèque;2 Rue de Paris 62300 Lens",
    ]) + "\n")
    assert report.emails_changed == ["lea.martin@cnfs.test → lea.martin@numerique.test",
                                     "paul.roux@cnfs.test → paul.roux@numerique.test"]
    assert report.agents_invited == ["ines@mairie.test"]
    assert report.problems == [(5, "conseiller déjà présent ligne 2 : ligne ignorée")]
    s.expire_all()
    accounts = {a.email: (a.id, a.external_id) for a in s.exec(select(Agent).where(col(Agent.external_id).is_not(None)))}
    assert accounts == {
        "lea.martin@numerique.test": (ids["lea.martin@cnfs.test"], "conseiller-numerique-101"),
        "paul.roux@numerique.test": (ids["paul.roux@cnfs.test"], "conseiller-numerique-102"),
        "ines@mairie.test": (ids["ines@mairie.test"], "conseiller-numerique-103"),
    }
    assert len([m for m in s.exec(select(OutboxMessage)) if m.payload.get("to") in ids]) == invitations + 1

    # An address already taken by another account is not given to a conseiller: the row is left aside.
    before = snapshot(db_url)
    taken = import_conseillers(uow, "\n".join([
        HEADER,
        f"103;Inès;Petit;;;lea.martin@numerique.test;oui;{STRUCTURE_B};Médiathèque;2 Rue de Paris 62300 Lens",
    ]) + "\n")
    assert taken.problems == [(2, "l'adresse lea.martin@numerique.test est déjà celle d'un autre compte : "
                                  "ligne ignorée")]
    assert snapshot(db_url, {"audit_log": {"*"}}) == {k: v for k, v in before.items() if k != "audit_log"}


def test_without_a_super_admin_nothing_is_written(db_url: str, uow: UnitOfWork, ban: FakeBan) -> None:
    before = snapshot(db_url)
    with pytest.raises(DomainError, match="Aucun super administrateur"):
        import_conseillers(uow, CSV)
    assert snapshot(db_url) == before


def test_the_command_line_prints_its_report(db_url: str, uow: UnitOfWork, ban: FakeBan, tmp_path: Path) -> None:
    super_admin(uow)
    uow.commit()
    file = tmp_path / "embauches.csv"
    file.write_text(CSV, encoding="utf-8")
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "REFLEX_DB_URL": db_url, "RDV_BAN_URL": ban.url, "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-m", "rdv_app.cli", "import-conseillers", str(file)], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Organisations créées : 2 (Médiathèque, Médiathèque - Lens)" in done.stdout
    assert "Conseillers invités : 3" in done.stdout
    assert "Ligne 7 : adresse email absente ou invalide" in done.stdout
