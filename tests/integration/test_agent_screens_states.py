"""Agents' daily screens (issue 25) at the state level, as the browser's events reach them: the agenda
colour chosen in "Mon compte", a refusal that puts its button back, the receipts shown on the RDV page and
the agenda's "Liste" view. On SQLite and PostgreSQL, through the tab of tests/integration/test_rights_forged_events.py."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import factories as make
import pytest
from sqlmodel import select
from test_rights_forged_events import _day, _open, world  # noqa: F401  (`world` is a fixture)

from rdv_app import routes
from rdv_app.db.models import Agent, Motif, Organisation, Rdv, Receipt, Usager
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, datefmt
from rdv_app.domain.rdv_list import RdvFilters
from rdv_app.services.agents import agent_account
from rdv_app.services.rdv import lifecycle, queries, rdv_search
from rdv_app.services.versions import STALE
from rdv_app.state.admin_agents import AdminAgentsState
from rdv_app.state.agenda import AgendaState
from rdv_app.state.failures import FailureState
from rdv_app.state.loaded import NOT_LOADED
from rdv_app.state.rdv_list import RdvListState
from rdv_app.state.rdv_page import RdvPageState
from rdv_app.state.usager_merge import UsagerMergeState
from rdv_app.state.workspace import AccountState

TOO_LIGHT = ("Cette couleur est trop claire : un texte blanc n'y atteint qu'un contraste de 1,4:1, il faut 4,5:1 au "
             "moins. Choisissez une couleur plus foncée.")


def test_a_colour_too_light_is_refused_with_its_button_back_and_a_dark_one_colours_the_agenda(
        db_url: str, world: dict[str, int]) -> None:  # noqa: F811
    async def scenario() -> None:
        tab = await _open(db_url, routes.ACCOUNT, AccountState)
        account = await tab.root.get_state(AccountState)
        with UnitOfWork(db_url, read_only=True) as uow:
            palette_colour = agent_account.get_agenda_colour(uow, world["admin"])
        assert account.agenda_colour == palette_colour  # type: ignore[attr-defined]

        # The form sends the key it was loaded for (rdv_app.state.loaded), as the page renders it.
        loaded = {"loaded_for": account.loaded_for}  # type: ignore[attr-defined]
        await tab.send(AccountState, "save_agenda_colour", form={"agenda_colour": "autre",
                                                                 "agenda_colour_other": "#ffd700", **loaded})
        assert (account.colour_error, account.colour_saving) == (TOO_LIGHT, False)  # type: ignore[attr-defined]
        # The browser was told: the button showed its loading state, then was given back.
        sent = [json.dumps(delta, default=str) for delta in tab.deltas]
        assert '"colour_saving_rx_state_": true' in sent[0]
        assert '"colour_saving_rx_state_": false' in sent[-1]
        with UnitOfWork(db_url, read_only=True) as uow:
            assert agent_account.get_agenda_colour(uow, world["admin"]) == palette_colour

        await tab.send(AccountState, "save_agenda_colour", form={"agenda_colour": "#5d4037", **loaded})
        assert (account.colour_error, account.colour_saved) == ("", True)  # type: ignore[attr-defined]

        agenda_tab = await _open(db_url, "/agenda", AgendaState)
        agenda_page = await agenda_tab.root.get_state(AgendaState)
        legend = {choice.value: choice.colour for choice in agenda_page.agent_choices}  # type: ignore[attr-defined]
        assert legend[str(world["admin"])] == "#5d4037"

    asyncio.run(scenario())


def test_after_a_failure_every_declared_busy_flag_is_released(db_url: str, world: dict[str, int]) -> None:  # noqa: F811
    """The flags handlers declare with `event(busy=...)` are also those put back after an unforeseen error."""

    async def scenario() -> None:
        tab = await _open(db_url, "/admin/agents", AdminAgentsState)
        agents_page = await tab.root.get_state(AdminAgentsState)
        agents_page.inviting = True  # type: ignore[attr-defined]
        await tab.send(FailureState, "release_busy_flags")
        assert agents_page.inviting is False  # type: ignore[attr-defined]

    asyncio.run(scenario())


def test_the_rdv_page_shows_its_five_latest_receipts_and_the_others_on_demand(db_url: str,
                                                                            world: dict[str, int]) -> None:  # noqa: F811
    """41 receipts made a page of 8,900 px: the 5 most recent show, "Afficher les 36 autres notifications"
    shows the rest."""
    with UnitOfWork(db_url) as uow:
        for n in range(41):
            uow.session.add(Receipt(rdv_id=world["rdv"], organisation_id=world["org"], event="rdv_updated",
                                    channel="sms", result="delivered", sms_phone_number=f"06 00 00 00 {n:02d}",
                                    created_at=clock.now() - timedelta(minutes=n)))
        uow.commit()

    async def scenario() -> None:
        rdv = str(world["rdv"])
        tab = await _open(db_url, routes.RDV_PAGE.replace("[rdv_page_id]", rdv), None, {"rdv_page_id": rdv})
        await tab.send(RdvPageState, "load")
        page = await tab.root.get_state(RdvPageState)
        shown = page.shown_receipts  # type: ignore[attr-defined]
        assert [r.destination for r in shown] == [f"06 00 00 00 {n:02d}" for n in range(5)]  # the latest first
        assert page.older_receipts == 36  # type: ignore[attr-defined]
        await tab.send(RdvPageState, "toggle_receipts")
        assert len(page.shown_receipts) == 41  # type: ignore[attr-defined]
        await tab.send(RdvPageState, "toggle_receipts")
        assert len(page.shown_receipts) == 5  # type: ignore[attr-defined]

    asyncio.run(scenario())


def test_the_agendas_list_view_tells_the_shown_events_by_day_and_time(db_url: str,
                                                                     world: dict[str, int]) -> None:  # noqa: F811
    async def scenario() -> None:
        tab = await _open(db_url, "/agenda", AgendaState)
        page = await tab.root.get_state(AgendaState)
        await tab.send(AgendaState, "toggle_agent", agent_id=str(world["colleague"]), checked=True)
        day = _day()
        await tab.send(AgendaState, "range_changed", start=day.isoformat(),
                       end=(day + timedelta(days=1)).isoformat(), _view="timeGridDay")
        assert page.list_open is False  # type: ignore[attr-defined]
        await tab.send(AgendaState, "toggle_list")
        assert page.list_open is True  # type: ignore[attr-defined]
        [line] = [line for line in page.listed if line.href]  # type: ignore[attr-defined]
        assert (line.day, line.href) == (datefmt.long_date(day), routes.rdv_page(world["rdv"]))
        assert line.hours.startswith("10:00–")
        assert "LEFORT" in line.text.upper() and "Inès" in line.text

    asyncio.run(scenario())


def test_a_preferences_form_rendered_before_its_load_or_showing_older_values_saves_nothing(
        db_url: str, world: dict[str, int]) -> None:  # noqa: F811
    """Issue 25: "Mon compte" submitted with the key of no load (the defaults rendered first) is ignored
    with a French message; submitted with the version of preferences changed since, it is refused; sent as
    loaded, it saves."""

    async def scenario() -> None:
        tab = await _open(db_url, routes.ACCOUNT, AccountState)
        account = await tab.root.get_state(AccountState)
        with UnitOfWork(db_url, read_only=True) as uow:
            before = agent_account.get_preferences(uow, world["admin"])
        form = {"rdv_notifications_level": "none", "plage_notices": "on", "absence_notices": "on",
                "version": account.preferences_version}  # type: ignore[attr-defined]

        await tab.send(AccountState, "save_preferences", form={**form, "loaded_for": ""})
        assert account.preferences_error.startswith("Le formulaire n'était pas encore chargé")  # type: ignore[attr-defined]
        await tab.send(AccountState, "save_preferences",
                       form={**form, "loaded_for": account.loaded_for, "version": "0" * 32})  # type: ignore[attr-defined]
        assert account.preferences_error == (  # type: ignore[attr-defined]
            "Ces informations ont été modifiées entre-temps. Rechargez la page.")
        with UnitOfWork(db_url, read_only=True) as uow:
            assert agent_account.get_preferences(uow, world["admin"]) == before

        await tab.send(AccountState, "save_preferences",
                       form={**form, "loaded_for": account.loaded_for})  # type: ignore[attr-defined]
        assert account.preferences_saved  # type: ignore[attr-defined]
        with UnitOfWork(db_url, read_only=True) as uow:
            assert agent_account.get_preferences(uow, world["admin"]).rdv_notifications_level == "none"

    asyncio.run(scenario())


def test_the_rdv_page_refuses_a_status_change_over_a_colleagues_and_shows_the_rdv_as_it_now_is(
        db_url: str, world: dict[str, int]) -> None:  # noqa: F811
    """Forms are born loaded (issue 25) on the RDV page: its controls wait for the RDV of the address
    (`loaded_for`); a colleague cancels the RDV meanwhile; "Enregistrer le statut" on the page as loaded is
    refused, the cancellation stands, the page then shows the RDV as it is, and the next change goes through."""
    async def scenario() -> None:
        rdv = str(world["rdv"])
        tab = await _open(db_url, routes.RDV_PAGE.replace("[rdv_page_id]", rdv), None, {"rdv_page_id": rdv})
        page = await tab.root.get_state(RdvPageState)
        assert page.loaded_for == ""  # type: ignore[attr-defined]
        await tab.send(RdvPageState, "load")
        assert page.loaded_for.endswith(f"|{rdv}")  # type: ignore[attr-defined]

        with UnitOfWork(db_url) as uow:
            lifecycle.cancel_rdv(uow, world["admin"], world["org"], world["rdv"], excused=True)
        await tab.send(RdvPageState, "set_chosen_status", value="revoked")
        await tab.send(RdvPageState, "save_status")
        assert page.status_error == STALE  # type: ignore[attr-defined]
        with UnitOfWork(db_url, read_only=True) as uow:
            assert queries.get_rdv(uow, world["admin"], world["org"], world["rdv"]).status == "excused"

        await tab.send(RdvPageState, "reload_silently")  # what the refusal asks the browser to run
        assert page.status == "excused"  # type: ignore[attr-defined]
        await tab.send(RdvPageState, "set_chosen_status", value="unknown")
        await tab.send(RdvPageState, "save_status")
        assert page.status_error == ""  # type: ignore[attr-defined]
        with UnitOfWork(db_url, read_only=True) as uow:
            assert queries.get_rdv(uow, world["admin"], world["org"], world["rdv"]).status == "unknown"

    asyncio.run(scenario())


def test_merge_choices_made_before_a_and_b_were_swapped_are_refused(db_url: str,
                                                                     world: dict[str, int]) -> None:  # noqa: F811
    """"Fusionner deux usagers": radios chosen for A and B mean the other usager once they are swapped; a
    form rendered before the swap (it carries the pair it was loaded for) is refused, the one rendered after
    is taken."""
    with UnitOfWork(db_url) as uow:
        marie = uow.session.exec(select(Usager).where(Usager.last_name == "Lefort")).one()
        organisation = uow.session.get(Organisation, world["org"])
        assert organisation is not None
        twin = make.usager(uow.session, "Marie", "Lefort-Durand", email="marie.ld@example.fr",
                           organisations=[organisation])
        uow.commit()
        a, b = str(marie.id), str(twin.id)

    async def scenario() -> None:
        tab = await _open(db_url, routes.usagers_merge(a, b), None, {"a": a, "b": b})
        await tab.send(UsagerMergeState, "load")
        page = await tab.root.get_state(UsagerMergeState)
        keep_a = {row.field: "1" for row in page.rows if row.kind == "different"}  # type: ignore[attr-defined]
        assert "last_name" in keep_a
        rendered_before = {"loaded_for": page.loaded_for, **keep_a}  # type: ignore[attr-defined]

        await tab.send(UsagerMergeState, "swap")
        assert (page.a_id, page.b_id) == (b, a)  # type: ignore[attr-defined]
        await tab.send(UsagerMergeState, "ask_confirmation", form=rendered_before)
        assert (page.error, page.confirming) == (NOT_LOADED, False)  # type: ignore[attr-defined]

        await tab.send(UsagerMergeState, "ask_confirmation",
                       form={"loaded_for": page.loaded_for, **keep_a})  # type: ignore[attr-defined]
        assert (page.error, page.confirming) == ("", True)  # type: ignore[attr-defined]

    asyncio.run(scenario())


def test_a_list_counted_up_to_its_limit_gets_its_exact_count_once_shown(db_url: str, world: dict[str, int],  # noqa: F811
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rdv_search, "COUNT_LIMIT", 1)
    with UnitOfWork(db_url) as uow:
        s = uow.session
        rdv = s.get(Rdv, world["rdv"])
        assert rdv is not None
        for hour in (11, 14):
            make.rdv(s, s.get(Organisation, world["org"]), s.get(Motif, rdv.motif_id), make.at_paris(_day(), hour),
                     agents=[s.get(Agent, world["colleague"])], usagers=[])
        uow.commit()

    async def scenario() -> None:
        tab = await _open(db_url, routes.RDV_LIST, RdvListState)
        page = await tab.root.get_state(RdvListState)
        assert page.found_label == "Plus de 1 RDV trouvés, décompte en cours…"  # type: ignore[attr-defined]
        assert page.export_label == "Exporter les RDVs"  # type: ignore[attr-defined]
        generation = page.search_generation  # type: ignore[attr-defined]
        # A count asked for an earlier search changes nothing.
        await tab.send(RdvListState, "count_exact", generation=generation - 1)
        assert page.total_exact is False  # type: ignore[attr-defined]
        await tab.send(RdvListState, "count_exact", generation=generation)
        with UnitOfWork(db_url, read_only=True) as uow:
            exact = rdv_search.count_all(uow, world["admin"], world["org"], RdvFilters())
        assert exact == 3
        assert page.found_label == f"{exact} RDV trouvé(s)"  # type: ignore[attr-defined]
        assert page.export_label == f"Exporter les {exact} RDVs"  # type: ignore[attr-defined]
        assert page.page_label == "Page 1 sur 1"  # type: ignore[attr-defined]

    asyncio.run(scenario())
