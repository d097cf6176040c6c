"""A super admin opens a mairie's account (admin-domain.md 12, "Mairie comptes"), on SQLite and PostgreSQL,
with the loopback Base Adresse Nationale: the mairie is at once a meeting point of the ANTS editor API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from db_snapshot import refused
from fakes.ban_server import FakeBan
from pg import free_port
from sqlmodel import col, select
from test_super_admin_accounts import super_admin

from rdv_app.config import Settings
from rdv_app.db.models import Lieu, Motif, MotifCategory, Organisation, OutboxMessage, Territory
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import ants
from rdv_app.services.errors import PermissionDenied
from rdv_app.services.instance.mairie_accounts import NewMairie, open_mairie_account
from rdv_app.services.integrations import addresses
from rdv_app.services.integrations import ants as ants_service


@pytest.fixture
def ban(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBan]:
    with FakeBan() as server:
        monkeypatch.setenv("RDV_BAN_URL", server.url)
        monkeypatch.setattr(addresses, "settings", Settings())
        yield server


def test_a_mairie_is_opened_with_its_lieu_motifs_and_invited_admin(uow: UnitOfWork, ban: FakeBan) -> None:
    actor, _services = super_admin(uow)
    opened = open_mairie_account(uow, actor, NewMairie(" Mairie d'Arras ", "1 place des héros arras",
                                                       "Maire@Arras.test"))
    assert opened.invited and opened.geocoded
    s = uow.session
    organisation = s.get(Organisation, opened.organisation_id)
    territory = s.get(Territory, organisation.territory_id)  # type: ignore[union-attr]
    assert (organisation.name, organisation.verticale, territory.name) == (  # type: ignore[union-attr]
        "Mairie d'Arras", "rdv_mairie", ants.MAIRIES_TERRITORY)
    lieu = s.get(Lieu, opened.lieu_id)
    assert (lieu.address, lieu.longitude, lieu.latitude) == ("1 Place des Héros 62000 Arras", 2.78, 50.29)  # type: ignore[union-attr]
    motifs = s.exec(select(Motif.name, MotifCategory.name, Motif.default_duration_in_min, Motif.bookable_by)
                    .join(MotifCategory, col(MotifCategory.id) == Motif.motif_category_id)
                    .where(Motif.organisation_id == opened.organisation_id).order_by(col(Motif.id))).all()
    assert motifs == [(name, ants.CATEGORY_NAMES[reason], 15, "everyone") for name, reason in ants.MAIRIE_MOTIFS]
    invitation = [m.payload for m in s.exec(select(OutboxMessage)) if m.payload.get("to") == "maire@arras.test"]
    assert len(invitation) == 1 and "la mairie Mairie d'Arras (territoire Mairies)" in invitation[0]["text"]
    points = ants_service.meeting_points(uow)
    assert [(p.id, p.zip_code, p.city_name) for p in points] == [(str(opened.lieu_id), "62000", "Arras")]

    second = open_mairie_account(uow, actor, NewMairie("Mairie de Lens", "2 rue de paris lens", "maire@lens.test"))
    assert s.get(Organisation, second.organisation_id).territory_id == territory.id  # type: ignore[union-attr]


def test_a_mairie_opened_twice_or_by_an_agent_changes_nothing(db_url: str, uow: UnitOfWork, ban: FakeBan) -> None:
    actor, _services = super_admin(uow)
    open_mairie_account(uow, actor, NewMairie("Mairie d'Arras", "1 place des héros arras", "maire@arras.test"))
    uow.commit()
    refused(db_url, lambda u: open_mairie_account(u, actor, NewMairie("MAIRIE D'ARRAS", "1 rue", "autre@arras.test")),
            "existe déjà")
    refused(db_url, lambda u: open_mairie_account(u, actor, NewMairie("Mairie de Lens", "", "maire@lens.test")),
            "adresse de la mairie")
    refused(db_url, lambda u: open_mairie_account(u, actor, NewMairie("Mairie de Lens", "2 rue", "pas-un-email")),
            "adresse email n'est pas valide")
    with UnitOfWork(db_url) as other, pytest.raises(PermissionDenied):
        open_mairie_account(other, 987_654, NewMairie("Mairie de Lens", "2 rue de paris lens", "maire@lens.test"))


def test_without_the_address_service_the_lieu_keeps_the_typed_address(uow: UnitOfWork,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RDV_BAN_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setattr(addresses, "settings", Settings())
    actor, _services = super_admin(uow)
    opened = open_mairie_account(uow, actor, NewMairie("Mairie de Seclin", "89 rue Roger Bouvry, Seclin, 59113",
                                                       "maire@seclin.test"))
    lieu = uow.session.get(Lieu, opened.lieu_id)
    assert not opened.geocoded
    assert (lieu.address, lieu.latitude) == ("89 rue Roger Bouvry, Seclin, 59113", None)  # type: ignore[union-attr]
