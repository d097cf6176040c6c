"""Lieux of the organisation shown: list, create/edit form, disable and enable; rules in services.admin_lieux."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from rdv_app.blocking import within
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.errors import DomainError, NeedsConfirmation
from rdv_app.services.organisation import admin_lieux
from rdv_app.services.organisation.admin_lieux import LieuInput, LieuView
from rdv_app.state.agent import AgentState
from rdv_app.state.organisation import OrganisationPageState
from rdv_app.state.planning import OrgEditMixin
from rdv_app.state.typed_event import event

FORM_HEADING_ID = "formulaire-lieu-titre"
LIST_HEADING_ID = "liste-lieux-titre"
TEXT_FIELDS = frozenset({"name", "address", "phone_number", "latitude", "longitude"})


@dataclass
class LieuRow:
    id: str
    name: str
    address: str
    phone: str
    position: str
    enabled: bool


def _row(view: LieuView) -> LieuRow:
    position = (f"{view.latitude}, {view.longitude}" if view.latitude is not None and view.longitude is not None
                else "Non renseignée")
    return LieuRow(id=str(view.id), name=view.name, address=view.address, phone=view.phone_number or "—",
                   position=position, enabled=view.enabled)


class AdminLieuxState(OrgEditMixin, OrganisationPageState, AgentState):
    rows: rx.Field[list[LieuRow]] = rx.field(default_factory=list)
    warnings: rx.Field[list[str]] = rx.field(default_factory=list)
    warned_id: rx.Field[str] = rx.field("")

    editing_name: rx.Field[str] = rx.field("")
    name: rx.Field[str] = rx.field("")
    address: rx.Field[str] = rx.field("")
    phone_number: rx.Field[str] = rx.field("")
    latitude: rx.Field[str] = rx.field("")
    longitude: rx.Field[str] = rx.field("")

    def _form_heading_id(self) -> str:
        return FORM_HEADING_ID

    def _before_load(self) -> None:
        self.list_message = ""

    async def _load(self, agent_id: int, organisation_id: int) -> None:
        self._blank_form()
        self.list_error = ""
        self.rows = await self._lieux()

    async def _lieux(self) -> list[LieuRow]:
        who = self._who()
        views = await within(UnitOfWork(read_only=True), lambda uow: admin_lieux.list_lieux(uow, *who))
        return [_row(v) for v in views]

    async def _refresh(self) -> None:
        self.list_error = ""
        try:
            self.rows = await self._lieux()
        except DomainError as exc:
            self.rows = []
            self.list_error = exc.message

    @rx.var
    def form_heading(self) -> str:
        return f"Modifier le lieu « {self.editing_name} »" if self.editing_id else "Ajouter un lieu"

    @event
    def set_text(self, field: str, value: str):
        if field in TEXT_FIELDS:
            setattr(self, field, str(value))
            self._touch(field)

    def _touch(self, field: str) -> None:
        self._just_saved = False
        super()._touch(field)

    def _field_ids(self) -> dict[str, str]:
        return {"name": "lieu-name", "address": "lieu-address"}

    def _reset_form(self) -> None:
        self.form_key += 1
        self.editing_id = self.editing_name = ""
        self.name = self.address = self.phone_number = self.latitude = self.longitude = ""
        self._clear_feedback()

    @event
    async def start_edit(self, lieu_id: str):
        if not lieu_id.isdigit():
            return None
        who = self._who()
        view = await self._open_for_edit(lambda uow: admin_lieux.get_lieu(uow, *who, int(lieu_id)))
        if view is None:
            return None
        self.editing_id, self.editing_name = str(view.id), view.name
        self.name, self.address, self.phone_number = view.name, view.address, view.phone_number or ""
        self.latitude = "" if view.latitude is None else str(view.latitude)
        self.longitude = "" if view.longitude is None else str(view.longitude)
        self._opened(view.version)
        return self._focus_form()

    @event
    async def save(self):
        if self.saving or self._just_saved:
            return
        self._clear_feedback()
        self.saved_message = ""
        if self._refuses_unloaded():
            return
        self.saving = True
        yield
        data = LieuInput(name=self.name, address=self.address, phone_number=self.phone_number,
                         latitude=self.latitude, longitude=self.longitude)
        done, who, version = "modifié" if self.editing_id else "ajouté", self._who(), self._editing_version
        await self._create_or_update(lambda uow: admin_lieux.create_lieu(uow, *who, data),
                                     lambda uow, lieu_id: admin_lieux.update_lieu(uow, *who, lieu_id, data,
                                                                                  expected_version=version),
                                     f"Le lieu « {' '.join(self.name.split())} » a été {done}.")

    @event
    async def set_enabled(self, lieu_id: str, enabled: bool, confirm: bool = False):
        self.list_message = self.list_error = ""
        self.warnings = []
        self.warned_id = ""
        if not lieu_id.isdigit():
            return
        name = next((r.name for r in self.rows if r.id == lieu_id), "")
        who, enable, confirmed = self._who(), bool(enabled), bool(confirm)
        try:
            await within(UnitOfWork(), lambda uow: admin_lieux.set_lieu_enabled(
                uow, *who, int(lieu_id), enable, confirm_warnings=confirmed))
        except NeedsConfirmation as exc:
            self.warnings, self.warned_id = exc.warnings, lieu_id
            return
        except DomainError as exc:
            self.list_error = exc.message
            return
        self.list_message = f"Le lieu « {name} » a été {'réactivé' if enabled else 'désactivé'}."
        await self._refresh()

    @event
    def dismiss_warnings(self):
        self.warnings = []
        self.warned_id = ""
