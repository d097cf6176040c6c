"""Forms are born loaded (issue 25) at the state level, as the browser's events reach them: a form submitted
with the key of no load (what the page rendered before its values arrived, or for another record) saves
nothing and says why in French; sent as loaded, it saves. On SQLite and PostgreSQL, through the tab of
tests/integration/test_rights_forged_events.py."""

from __future__ import annotations

import asyncio

import factories as make
from sqlmodel import select
from test_rights_forged_events import _day, _open, world  # noqa: F401  (`world` is a fixture)

from rdv_app import routes
from rdv_app.db.models import (
    Agent,
    AgentInvitation,
    AgentService,
    AgentTerritorialRole,
    Organisation,
    Rdv,
    SectorAttribution,
    Service,
    Team,
    TerritoryService,
    WebhookEndpoint,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.agents import intervenants
from rdv_app.services.organisation import sectors
from rdv_app.state.admin_agents import AdminAgentsState
from rdv_app.state.admin_webhooks import AdminWebhooksState
from rdv_app.state.collectifs import CollectifsState
from rdv_app.state.loaded import NOT_LOADED
from rdv_app.state.territory_sectors import TerritorySectorsState
from rdv_app.state.territory_teams import TerritoryTeamsState


def _webhooks(db_url: str, organisation_id: int) -> list[str]:
    with UnitOfWork(db_url, read_only=True) as uow:
        return list(uow.session.exec(select(WebhookEndpoint.target_url)
                                     .where(WebhookEndpoint.organisation_id == organisation_id)))


def test_a_webhook_form_sent_before_its_load_saves_nothing(db_url: str, world: dict[str, int]) -> None:  # noqa: F811
    async def scenario() -> None:
        tab = await _open(db_url, "/admin/webhooks", AdminWebhooksState)
        page = await tab.root.get_state(AdminWebhooksState)
        await tab.send(AdminWebhooksState, "open_new")
        form = {"target_url": "https://crm.arras.test/rdv", "abonnement_rdv": "on"}

        await tab.send(AdminWebhooksState, "save", form={**form, "loaded_for": ""})
        assert page.form_error == NOT_LOADED  # type: ignore[attr-defined]
        assert _webhooks(db_url, world["org"]) == []

        await tab.send(AdminWebhooksState, "save", form={**form, "loaded_for": page.loaded_for})  # type: ignore[attr-defined]
        assert page.message.startswith("Webhook ajouté.")  # type: ignore[attr-defined]
        assert _webhooks(db_url, world["org"]) == ["https://crm.arras.test/rdv"]

    asyncio.run(scenario())


def test_a_team_form_sent_for_the_new_team_it_showed_before_an_edit_saves_nothing(
        db_url: str, world: dict[str, int]) -> None:  # noqa: F811
    """The form rendered for a new team, sent after "Modifier" made it another team's form: it would write
    the empty form's values over that team. Refused; sent with the team's key, it saves."""
    with UnitOfWork(db_url) as uow:
        territory_id = uow.session.get(Organisation, world["org"]).territory_id  # type: ignore[union-attr]
        uow.session.add(AgentTerritorialRole(agent_id=world["admin"], territory_id=territory_id))
        team_id = make.team(uow.session, territory_id, "Équipe PMI", [world["admin"], world["colleague"]]).id
        uow.commit()

    async def scenario() -> None:
        tab = await _open(db_url, routes.ADMIN_TERRITORY_TEAMS, TerritoryTeamsState)
        page = await tab.root.get_state(TerritoryTeamsState)
        new_team_key = page.loaded_for  # type: ignore[attr-defined]
        await tab.send(TerritoryTeamsState, "edit", team_id=str(team_id))

        await tab.send(TerritoryTeamsState, "save", form={"name": "", "loaded_for": new_team_key})
        assert page.form_error == NOT_LOADED  # type: ignore[attr-defined]
        await tab.send(TerritoryTeamsState, "save", form={"name": "Équipe PMI Arras", "loaded_for": new_team_key})
        assert page.form_error == NOT_LOADED  # type: ignore[attr-defined]
        with UnitOfWork(db_url, read_only=True) as uow:
            assert uow.session.exec(select(Team.name)).all() == ["Équipe PMI"]

        await tab.send(TerritoryTeamsState, "save", form={"name": "Équipe PMI Arras", f"membre-{world['admin']}": "on",
                                                          "loaded_for": page.loaded_for})  # type: ignore[attr-defined]
        assert page.message == "L'équipe « Équipe PMI Arras » a été modifiée."  # type: ignore[attr-defined]

    asyncio.run(scenario())


def test_the_agents_page_forms_sent_before_their_load_or_for_another_panel_save_nothing(
        db_url: str, world: dict[str, int]) -> None:  # noqa: F811
    with UnitOfWork(db_url) as uow:
        pmi = uow.session.exec(select(AgentService.service_id).where(AgentService.agent_id == world["admin"])).one()
        territory_id = uow.session.get(Organisation, world["org"]).territory_id  # type: ignore[union-attr]
        uow.session.add(TerritoryService(territory_id=territory_id, service_id=pmi))
        intervenants.add_intervenant(uow, world["admin"], world["org"], "Avocat 1", "", (pmi,))
        intervenant_id = uow.session.exec(select(Agent.id).where(Agent.last_name == "Avocat 1")).one()

    async def scenario() -> None:
        tab = await _open(db_url, "/admin/agents", AdminAgentsState)
        page = await tab.root.get_state(AdminAgentsState)
        await tab.send(AdminAgentsState, "invite", form={"email": "nouvel.agent@arras.test", "access_level": "basic",
                                                         "loaded_for": ""})
        assert page.invite_error == NOT_LOADED  # type: ignore[attr-defined]

        page_key = page.loaded_for  # type: ignore[attr-defined]
        await tab.send(AdminAgentsState, "start_editing", agent_id=str(intervenant_id), mode="rename")
        # The invitation form rendered before the panel opened: the page's forms are now the panel's.
        await tab.send(AdminAgentsState, "rename", form={"last_name": "", "loaded_for": page_key})
        assert page.edit_error == NOT_LOADED  # type: ignore[attr-defined]
        with UnitOfWork(db_url, read_only=True) as uow:
            assert uow.session.get(Agent, intervenant_id).last_name == "Avocat 1"  # type: ignore[union-attr]
            assert uow.session.exec(select(AgentInvitation)).all() == []

        await tab.send(AdminAgentsState, "rename", form={"last_name": "Avocate", "first_name": "Inès",
                                                         "loaded_for": page.loaded_for})  # type: ignore[attr-defined]
        assert page.message == "Intervenant modifié avec succès : Inès Avocate."  # type: ignore[attr-defined]

    asyncio.run(scenario())


def test_a_session_form_filled_before_the_page_loaded_creates_nothing(db_url: str, world: dict[str, int]) -> None:  # noqa: F811
    """"Créer un atelier" rendered before the page's on_load ran (the state of an earlier visit, or none): what
    it shows is not this organisation's; a save then creates nothing. Once loaded, the same save creates it."""
    with UnitOfWork(db_url) as uow:
        organisation = uow.session.get(Organisation, world["org"])
        pmi = uow.session.exec(select(Service)).first()
        assert organisation is not None and pmi is not None
        motif_id = make.motif(uow.session, organisation, pmi, "Atelier portage", collectif=True).id
        uow.commit()
    with UnitOfWork(db_url, read_only=True) as uow:
        rdvs = len(uow.session.exec(select(Rdv.id)).all())

    async def fill_and_save(tab) -> None:  # noqa: ANN001 - the Tab of test_rights_forged_events
        for handler, value in (("set_motif", str(motif_id)), ("set_day", _day().isoformat()),
                               ("set_start_time", "14:00"), ("set_duration", "60"), ("set_seats", "8")):
            await tab.send(CollectifsState, handler, value=value)
        await tab.send(CollectifsState, "save")

    async def scenario() -> None:
        tab = await _open(db_url, routes.COLLECTIFS, None)
        page = await tab.root.get_state(CollectifsState)
        await fill_and_save(tab)
        assert page.form_error == NOT_LOADED  # type: ignore[attr-defined]
        with UnitOfWork(db_url, read_only=True) as uow:
            assert len(uow.session.exec(select(Rdv.id)).all()) == rdvs

        await tab.send(CollectifsState, "load")
        await fill_and_save(tab)
        assert page.saved_message.startswith("L'atelier a été créé.")  # type: ignore[attr-defined]

    asyncio.run(scenario())


def test_an_attribution_sent_by_the_form_of_the_sector_shown_before_saves_nothing(
        db_url: str, world: dict[str, int]) -> None:  # noqa: F811
    """The attribution form rendered for one sector, sent after "Modifier" chose another: it would attribute
    a sector the person was not looking at. Refused; sent for the sector shown, it saves."""
    with UnitOfWork(db_url) as uow:
        territory_id = uow.session.get(Organisation, world["org"]).territory_id  # type: ignore[union-attr]
        uow.session.add(AgentTerritorialRole(agent_id=world["admin"], territory_id=territory_id))
        uow.commit()
    with UnitOfWork(db_url) as uow:
        nord = sectors.create_sector(uow, world["admin"], world["org"], "Arras nord", "arras-nord")
    with UnitOfWork(db_url) as uow:
        sud = sectors.create_sector(uow, world["admin"], world["org"], "Arras sud", "arras-sud")

    async def scenario() -> None:
        tab = await _open(db_url, routes.ADMIN_TERRITORY_SECTORS, TerritorySectorsState)
        page = await tab.root.get_state(TerritorySectorsState)
        await tab.send(TerritorySectorsState, "select", sector_id=str(nord))
        nord_key = page.loaded_for  # type: ignore[attr-defined]
        await tab.send(TerritorySectorsState, "select", sector_id=str(sud))

        form = {"attributaire": str(world["org"])}
        await tab.send(TerritorySectorsState, "attribute", form={**form, "loaded_for": nord_key})
        assert page.form_error == NOT_LOADED  # type: ignore[attr-defined]
        with UnitOfWork(db_url, read_only=True) as uow:
            assert uow.session.exec(select(SectorAttribution)).all() == []

        await tab.send(TerritorySectorsState, "attribute", form={**form, "loaded_for": page.loaded_for})  # type: ignore[attr-defined]
        assert page.form_error == ""  # type: ignore[attr-defined]
        with UnitOfWork(db_url, read_only=True) as uow:
            assert [a.sector_id for a in uow.session.exec(select(SectorAttribution))] == [sud]

    asyncio.run(scenario())
