"""The workspace home lists the agent's own next RDVs, only in organisations where they have a role."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from rdv_app import routes
from rdv_app.db.models import Agent, Organisation
from rdv_app.db.uow import UnitOfWork
from rdv_app.demo.seed import DEMO_PASSWORD, seed_demo
from rdv_app.services.agents import agent_auth
from rdv_app.services.agents.workspace import organisation_choices, upcoming_rdvs
from rdv_app.services.errors import PermissionDenied

TODAY = date(2026, 3, 18)
NOW = datetime(2026, 3, 18, 8, 0, tzinfo=UTC)


def _ids(uow: UnitOfWork, email: str, organisation: str) -> tuple[int, int]:
    agent_id = uow.session.exec(select(Agent.id).where(Agent.email == email)).one()
    org_id = uow.session.exec(select(Organisation.id).where(Organisation.name == organisation)).one()
    return agent_id, org_id


def test_agent_sees_their_next_rdvs_in_order(uow: UnitOfWork) -> None:
    seed_demo(uow, TODAY)
    agent_id, org_id = _ids(uow, "karim.haddad@demo.test", "Maison Départementale des Solidarités de Lens")
    rows = upcoming_rdvs(uow, agent_id, org_id, now=NOW, limit=10)
    assert len(rows) == 10
    assert all(r.status == "À venir" for r in rows)
    assert all(r.usagers != "—" for r in rows)
    assert {r.lieu for r in rows} <= {"MDS de Lens", "Par téléphone"}
    assert rows[0].day.endswith("mars 2026")


def test_an_organisation_without_a_role_is_refused(uow: UnitOfWork) -> None:
    seed_demo(uow, TODAY)
    agent_id, org_id = _ids(uow, "julien.petit@demo.test", "Maison Départementale des Solidarités de Lens")
    with pytest.raises(PermissionDenied):
        upcoming_rdvs(uow, agent_id, org_id, now=NOW)


def test_times_are_shown_in_the_organisation_time_zone(uow: UnitOfWork) -> None:
    seed_demo(uow, TODAY)
    agent_id, org_id = _ids(uow, "marie.payet@demo.test", "PMI Saint-Denis")
    rows = upcoming_rdvs(uow, agent_id, org_id, now=NOW, limit=50)
    assert rows
    # Plages in La Réunion run in local office hours; shown in UTC they would start 4 hours earlier.
    assert all("07h00" <= r.time <= "17h00" for r in rows)


def test_the_organisation_chooser_groups_the_organisations_by_territory(uow: UnitOfWork) -> None:
    seed_demo(uow, TODAY)
    karim, _ = _ids(uow, "karim.haddad@demo.test", "PMI Arras")
    groups = organisation_choices(uow, karim)
    assert [(g.territory, [(o.name, o.level) for o in g.organisations]) for g in groups] == [
        ("62 Pas-de-Calais", [("Maison Départementale des Solidarités de Lens", "Agent"), ("PMI Arras", "Agent")]),
        ("974 La Réunion", [("PMI Saint-Denis", "Agent")]),
    ]
    camille, _ = _ids(uow, "camille.martin@demo.test", "PMI Arras")
    [group] = organisation_choices(uow, camille)
    assert [(o.name, o.is_admin) for o in group.organisations] == [("PMI Arras", True)]


def test_signing_in_without_a_page_to_return_to_leads_to_the_chooser(uow: UnitOfWork) -> None:
    seed_demo(uow, TODAY)
    sign_in = agent_auth.authenticate(uow, "karim.haddad@demo.test", DEMO_PASSWORD, "10.0.0.1")
    opened = agent_auth.open_session(uow, sign_in.ticket)
    assert opened is not None and opened.next_path == routes.ORGANISATION_CHOOSER
