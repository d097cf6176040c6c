"""After signing in, an agent of several organisations picks the one to work in (admin-domain.md 4.9);
with one organisation (or none) the workspace opens at once."""

from __future__ import annotations

from dataclasses import dataclass, field

import reflex as rx

from rdv_app import routes
from rdv_app.blocking import within
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.agents import workspace
from rdv_app.state.agent import AgentState
from rdv_app.state.typed_event import event


@dataclass
class ChooserOrganisation:
    id: str
    name: str
    level: str
    is_admin: bool


@dataclass
class ChooserGroup:
    territory: str
    organisations: list[ChooserOrganisation] = field(default_factory=list)


class OrganisationChooserState(AgentState):
    loading_choices: rx.Field[bool] = rx.field(True)
    groups: rx.Field[list[ChooserGroup]] = rx.field(default_factory=list)

    @event
    async def load_choices(self):
        agent_id = self._agent_id
        if agent_id is None:
            return None
        self.loading_choices = True
        groups = await within(UnitOfWork(read_only=True), lambda uow: workspace.organisation_choices(uow, agent_id))
        if sum(len(group.organisations) for group in groups) <= 1:
            return rx.redirect(routes.WORKSPACE, replace=True)
        self.groups = [ChooserGroup(g.territory, [ChooserOrganisation(str(o.organisation_id), o.name, o.level,
                                                                      o.is_admin) for o in g.organisations])
                       for g in groups]
        self.loading_choices = False
        return None

    @event
    def choose(self, organisation_id: str):
        if any(o.id == organisation_id for g in self.groups for o in g.organisations):
            self.current_org_id = organisation_id
            return rx.redirect(routes.WORKSPACE)
        return None
