"""Territorial admins: the organisations of their territories, and a new one."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from rdv_app import routes
from rdv_app.blocking import within
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.errors import DomainError
from rdv_app.services.organisation import admin_organisation
from rdv_app.services.organisation.admin_organisation import OrganisationSettings
from rdv_app.state.agent import AgentState
from rdv_app.state.loaded import NOT_LOADED, LoadedForMixin
from rdv_app.state.typed_event import event


@dataclass
class OrganisationLine:
    name: str
    territory: str
    agents: str


@dataclass
class TerritoryOption:
    id: str
    label: str
    timezone: str


class TerritoryOrganisationsState(LoadedForMixin, AgentState):
    """Its creation form is loaded (rdv_app.state.loaded) once the territories it offers are there."""

    loading: rx.Field[bool] = rx.field(True)
    denied: rx.Field[str] = rx.field("")
    territories: rx.Field[list[TerritoryOption]] = rx.field(default_factory=list)
    rows: rx.Field[list[OrganisationLine]] = rx.field(default_factory=list)
    error: rx.Field[str] = rx.field("")
    error_field: rx.Field[str] = rx.field("")
    creating: rx.Field[bool] = rx.field(False)

    @event
    async def load(self):
        agent_id = self._agent_id
        if agent_id is None:
            return
        self.loading, self.denied, self.error, self.error_field = True, "", "", ""
        self._loading()
        yield
        try:
            territories, organisations = await within(
                UnitOfWork(read_only=True), lambda uow: admin_organisation.territory_organisations(uow, agent_id))
        except DomainError as exc:
            self.denied, self.loading = exc.message, False
            return
        self.territories = [TerritoryOption(id=str(t.id), label=t.label, timezone=t.timezone) for t in territories]
        self.rows = [OrganisationLine(name=o.name, territory=o.territory, agents=str(o.agents))
                              for o in organisations]
        self.loading = False
        self._mark_loaded()

    @event
    async def create(self, form: dict):
        agent_id = self._agent_id
        if agent_id is None or self.loading or self.denied or self.creating:
            return
        if not self._is_loaded(form):
            self.error, self.error_field = NOT_LOADED, ""
            return
        territory = next((t for t in self.territories if t.id == str(form.get("territory_id", ""))), None)
        if territory is None:
            self.error, self.error_field = "Choisissez le territoire de la nouvelle organisation.", "territory_id"
            return
        self.error = self.error_field = ""
        self.creating = True
        yield
        data = OrganisationSettings(
            name=str(form.get("name", "")), phone_number=str(form.get("phone_number", "")) or None,
            email=str(form.get("email", "")) or None, website=str(form.get("website", "")) or None,
            horaires=str(form.get("horaires", "")) or None, timezone=str(form.get("timezone", "")) or territory.timezone)
        try:
            organisation_id = await within(UnitOfWork(), lambda uow: admin_organisation.create_organisation(
                uow, agent_id, int(territory.id), data))
        except DomainError as exc:
            self.error, self.error_field, self.creating = exc.message, exc.field or "", False
            return
        self.creating = False
        # The new organisation is shown next: its home page lists the first steps.
        self.current_org_id = str(organisation_id)
        yield rx.redirect(routes.WORKSPACE)
