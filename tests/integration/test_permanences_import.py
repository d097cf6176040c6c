"""The Conseillers Numériques' permanences JSON (integrations.md section 2) imported as lieux of their
structures, on SQLite and PostgreSQL, with the loopback Base Adresse Nationale: good entries, duplicates
and broken ones reported by number, a second run changing nothing, a moved permanence updated, the command
line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from db_snapshot import snapshot
from fakes.ban_server import FakeBan
from sqlmodel import col, select
from test_conseillers_import import CSV, STRUCTURE_A, STRUCTURE_B
from test_super_admin_accounts import super_admin

from rdv_app.config import Settings
from rdv_app.db.models import Lieu, Organisation
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.errors import DomainError
from rdv_app.services.integrations import addresses
from rdv_app.services.integrations.conseillers_numeriques import import_conseillers, import_permanences

UNKNOWN_STRUCTURE = "9e0c1a2b3c4d5e6f7a8b9c0d"


def _permanence(nom: Any, adresse: Any, commune: Any, code_postal: Any, structure: Any) -> dict[str, Any]:
    return {"nom": nom, "adresse": adresse, "commune": commune, "code_postal": code_postal, "structureId": structure,
            "horaires": "lundi 9h-12h"}  # other keys of the export are left alone


PERMANENCES = [
    _permanence("Permanence de l'hôtel de ville", "1 Place des Héros", "Arras", "62000", STRUCTURE_A),
    _permanence("Point numérique de Lens", " 10 Rue de la  Paix ", "Arras", "62000", {"$oid": STRUCTURE_B}),
    _permanence("PERMANENCE DE L'HÔTEL DE VILLE", "1 Place des Héros", "Arras", "62000", STRUCTURE_A),
    _permanence("Maison France Services", "3 rue X", "Arras", "62000", UNKNOWN_STRUCTURE),
    _permanence("Sans commune", "3 rue X", "", "62000", STRUCTURE_A),
    _permanence("Code faux", "3 rue X", "Arras", "6200", STRUCTURE_A),
    "une permanence",
    _permanence("Structure fausse", "3 rue X", "Arras", "62000", "12345"),
    _permanence("Bus numérique", "99 chemin Inconnu", "Nulle-Part", "62999", STRUCTURE_A),
]


@pytest.fixture
def ban(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBan]:
    with FakeBan() as server:
        monkeypatch.setenv("RDV_BAN_URL", server.url)
        monkeypatch.setattr(addresses, "settings", Settings())
        yield server


@pytest.fixture
def structures(uow: UnitOfWork, ban: FakeBan) -> dict[str, int]:
    super_admin(uow)
    import_conseillers(uow, CSV)
    found = uow.session.exec(select(Organisation.external_id, Organisation.id)
                             .where(col(Organisation.external_id).in_([STRUCTURE_A, STRUCTURE_B]))).all()
    return {external_id: organisation_id for external_id, organisation_id in found if external_id and organisation_id}


def _lieux(db_url: str, organisation_id: int) -> list[tuple[str, str, float | None, float | None]]:
    with UnitOfWork(db_url, read_only=True) as uow:
        return [(lieu.name, lieu.address, lieu.latitude, lieu.longitude) for lieu in uow.session.exec(
            select(Lieu).where(Lieu.organisation_id == organisation_id).order_by(col(Lieu.id)))]


def test_good_entries_become_lieux_and_every_other_is_reported(db_url: str, uow: UnitOfWork, ban: FakeBan,
                                                               structures: dict[str, int]) -> None:
    report = import_permanences(uow, json.dumps(PERMANENCES, ensure_ascii=False))
    assert report.lieux_created == ["Permanence de l'hôtel de ville (Médiathèque)",
                                    "Point numérique de Lens (Médiathèque - Lens)",
                                    "Bus numérique (Médiathèque)"]
    assert report.problems == [
        (3, "permanence déjà présente entrée 1 : entrée ignorée"),
        (4, f"structure {UNKNOWN_STRUCTURE} inconnue : importez d'abord ses conseillers (import-conseillers)"),
        (5, "valeur manquante : commune"),
        (6, "« code_postal » doit comporter 5 chiffres"),
        (7, "une permanence doit être un objet JSON"),
        (8, "« structureId » n'est pas un identifiant de 24 caractères hexadécimaux"),
    ]
    assert _lieux(db_url, structures[STRUCTURE_A])[1:] == [
        ("Permanence de l'hôtel de ville", "1 Place des Héros 62000 Arras", 50.29, 2.78),
        ("Bus numérique", "99 chemin Inconnu 62999 Nulle-Part", None, None),  # not found: kept as written
    ]
    assert _lieux(db_url, structures[STRUCTURE_B])[1:] == [
        ("Point numérique de Lens", "10 Rue de la Paix 62000 Arras", 50.29, 2.78)]

    before = snapshot(db_url)
    again = import_permanences(uow, json.dumps(PERMANENCES))
    assert (again.lieux_created, again.lieux_updated, again.lieux_kept) == ([], [], 3)
    assert snapshot(db_url) == before

    moved = [_permanence("permanence de l'hôtel de ville", "10 Rue de la Paix", "Arras", "62000", STRUCTURE_A)]
    report = import_permanences(uow, json.dumps(moved))
    assert (report.lieux_created, report.lieux_updated) == (
        [], ["Permanence de l'hôtel de ville (Médiathèque)"])
    assert _lieux(db_url, structures[STRUCTURE_A])[1] == (
        "Permanence de l'hôtel de ville", "10 Rue de la Paix 62000 Arras", 50.29, 2.78)


@pytest.mark.parametrize(("text", "problem"), [
    ('[{"nom": "A",', "le fichier n'est pas un JSON valide (ligne 1)"),
    ('{"nom": "A"}', "le fichier doit contenir une liste de permanences"),
])
def test_a_file_that_is_no_list_of_permanences_changes_nothing(db_url: str, uow: UnitOfWork,
                                                                structures: dict[str, int], text: str,
                                                                problem: str) -> None:
    before = snapshot(db_url)
    report = import_permanences(uow, text)
    assert report.problems == [(0, problem)] and report.lines()[-1] == f"Fichier : {problem}"
    assert snapshot(db_url) == before


def test_without_the_conseillers_territory_nothing_is_written(db_url: str, uow: UnitOfWork, ban: FakeBan) -> None:
    before = snapshot(db_url)
    with pytest.raises(DomainError, match="importez d'abord les conseillers"):
        import_permanences(uow, json.dumps(PERMANENCES[:1]))
    assert snapshot(db_url) == before


def test_the_command_line_prints_its_report(db_url: str, uow: UnitOfWork, ban: FakeBan, structures: dict[str, int],
                                            tmp_path: Path) -> None:
    uow.commit()
    file = tmp_path / "permanences.json"
    file.write_text(json.dumps(PERMANENCES, ensure_ascii=False), encoding="utf-8")
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "REFLEX_DB_URL": db_url, "RDV_BAN_URL": ban.url, "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-m", "rdv_app.cli", "import-permanences", str(file)], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Lieux créés : 3 (Permanence de l'hôtel de ville (Médiathèque)," in done.stdout
    assert "Entrée 6 : « code_postal » doit comporter 5 chiffres" in done.stdout
