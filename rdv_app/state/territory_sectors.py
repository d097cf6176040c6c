"""Sectorisation of the territory (territorial admins): sectors, their zones found in the Base Adresse
Nationale, their attributions. Rules and rights in services.organisation.sectors; ids sent by the browser
are only used when the page listed them, and the service checks them again."""

from __future__ import annotations

import asyncio
import base64
import binascii
from dataclasses import dataclass
from typing import Any

import reflex as rx

from rdv_app.blocking import within
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.errors import DomainError
from rdv_app.services.integrations import addresses
from rdv_app.services.integrations.addresses import AddressSuggestion
from rdv_app.services.organisation import sectors, zone_files
from rdv_app.services.organisation.sectors import ZoneChoice
from rdv_app.state.agent import AgentState
from rdv_app.state.loaded import NOT_LOADED
from rdv_app.state.organisation import OrganisationPageState
from rdv_app.state.typed_event import event

SEARCH_DEBOUNCE_SECONDS = 0.3
SHOWN_PROBLEMS = 50
ZONE_FILE_INPUT_ID = "champ-fichier-zones"
# Reads the chosen file in the browser and hands it to `import_file` as base64 (no upload endpoint needed).
_READ_ZONE_FILE = f"""(() => {{
  const input = document.getElementById({ZONE_FILE_INPUT_ID!r});
  const file = input && input.files && input.files[0];
  if (!file) return {{error: "none"}};
  if (file.size > {zone_files.MAX_BYTES}) return {{error: "size", name: file.name}};
  return new Promise((resolve) => {{
    const reader = new FileReader();
    reader.onload = () => resolve({{name: file.name, data: String(reader.result).split(",")[1] || ""}});
    reader.onerror = () => resolve({{error: "read", name: file.name}});
    reader.readAsDataURL(file);
  }});
}})()"""
SEARCH_UNAVAILABLE = "La Base Adresse Nationale ne répond pas pour l'instant : réessayez dans quelques instants."


@dataclass
class Item:
    id: str
    label: str


@dataclass
class SectorRow:
    id: str
    name: str
    human_id: str
    zones: list[Item]
    attributions: list[Item]


class TerritorySectorsState(OrganisationPageState, AgentState):
    rows: rx.Field[list[SectorRow]] = rx.field(default_factory=list)
    attributable: rx.Field[list[Item]] = rx.field(default_factory=list)  # id: "<organisation>" or "<org>:<agent>"
    message: rx.Field[str] = rx.field("")
    error: rx.Field[str] = rx.field("")
    form_error: rx.Field[str] = rx.field("")
    form_error_field: rx.Field[str] = rx.field("")
    form_key: rx.Field[int] = rx.field(0)
    saving: rx.Field[bool] = rx.field(False)
    selected_id: rx.Field[str] = rx.field("")
    selected_name: rx.Field[str] = rx.field("")
    zone_choices: rx.Field[list[Item]] = rx.field(default_factory=list)  # id: index in _zones
    zone_hint: rx.Field[str] = rx.field("")
    deleting_id: rx.Field[str] = rx.field("")
    deleting_name: rx.Field[str] = rx.field("")
    importing: rx.Field[bool] = rx.field(False)
    import_message: rx.Field[str] = rx.field("")
    import_error: rx.Field[str] = rx.field("")
    import_problems: rx.Field[list[str]] = rx.field(default_factory=list)
    import_key: rx.Field[int] = rx.field(0)
    # "Tester la sectorisation": an address typed, its suggestions, then what it matches.
    trial_choices: rx.Field[list[Item]] = rx.field(default_factory=list)  # id: index in _trial_addresses
    trial_hint: rx.Field[str] = rx.field("")
    trial_label: rx.Field[str] = rx.field("")
    trial_by_street: rx.Field[bool] = rx.field(False)
    trial_sectors: rx.Field[list[str]] = rx.field(default_factory=list)
    trial_organisations: rx.Field[list[str]] = rx.field(default_factory=list)
    trial_agents: rx.Field[list[str]] = rx.field(default_factory=list)
    _trial_addresses: list[AddressSuggestion] = []
    _trial_asked: int = 0
    _zones: list[ZoneChoice] = []
    _asked: int = 0

    def _loaded_record(self) -> str:
        """The page's forms are loaded (rdv_app.state.loaded) for the sector selected, if any."""
        return f"{self.current_org_id}|{self.selected_id}"

    def _refuses_unloaded(self, form: dict[str, Any] | None = None) -> bool:
        """A form (or a zone's button) sent before the page's values reached it, or for another sector."""
        if self._is_loaded(form):
            return False
        self._clear()
        self.form_error = NOT_LOADED
        return True

    def _before_load(self) -> None:
        self.message = self.error = self.form_error = self.form_error_field = self.zone_hint = ""
        self.deleting_id = ""
        self.zone_choices = []
        self.import_message = self.import_error = ""
        self.import_problems = []
        self.importing = False
        self.trial_choices, self.trial_hint, self.trial_label = [], "", ""

    async def _load(self, agent_id: int, organisation_id: int) -> None:
        listed = await within(UnitOfWork(read_only=True),
                              lambda uow: sectors.list_sectors(uow, agent_id, organisation_id))
        self.rows = [SectorRow(str(s.sector_id), s.name, s.human_id,
                               [Item(str(z.zone_id), z.label) for z in s.zones],
                               [Item(str(a.attribution_id), a.label) for a in s.attributions])
                     for s in listed.sectors]
        self.attributable = [*(Item(o.value, f"Organisation : {o.label}") for o in listed.organisations),
                             *(Item(a.value, f"Agent : {a.label}") for a in listed.agents)]
        selected = next((r for r in self.rows if r.id == self.selected_id), None)
        self.selected_id, self.selected_name = (selected.id, selected.name) if selected else ("", "")
        self._mark_loaded()

    def _clear(self) -> None:
        self.message = self.error = self.form_error = self.form_error_field = ""

    async def _run(self, change: Any) -> None:
        """A change through the service, then the page read again; a refusal shown by the form."""
        actor, organisation = self._agent_id, self.current_org_id
        if actor is None or not organisation:
            return
        self._clear()
        self.saving = True
        try:
            self.message = await within(UnitOfWork(), lambda uow: change(uow, actor, int(organisation)))
            await self._load(actor, int(organisation))
        except DomainError as exc:
            self.form_error, self.form_error_field = exc.message, exc.field or ""
        self.saving = False

    @event
    async def create(self, form: dict[str, Any]):
        name, human_id = str(form.get("name", ""))[:200], str(form.get("human_id", ""))[:100]
        created: list[int] = []

        def change(uow: UnitOfWork, actor: int, organisation: int) -> str:
            created.append(sectors.create_sector(uow, actor, organisation, name, human_id))
            return f"Le secteur « {' '.join(name.split())} » a été créé : ajoutez-lui des communes ou des rues."

        if self.saving or self._refuses_unloaded(form):
            return
        await self._run(change)
        if created:
            self._select(str(created[0]))
            self.message = f"Le secteur « {' '.join(name.split())} » a été créé : ajoutez-lui des communes ou des rues."
            self.form_key += 1

    @event
    def select(self, sector_id: str):
        self._select(sector_id)

    def _select(self, sector_id: str) -> None:
        row = next((r for r in self.rows if r.id == sector_id), None)
        self._clear()
        self.zone_choices, self.zone_hint = [], ""
        self.selected_id, self.selected_name = (row.id, row.name) if row else ("", "")
        self._mark_loaded()

    @event
    def type_zone(self, value: str):
        self._asked += 1
        return TerritorySectorsState.suggest_zones(str(value or ""), self._asked)

    @event(background=True)
    async def suggest_zones(self, query: str, asked: int):
        """In the background, so that typing is never queued behind the wait; only the latest typing's
        answer is shown."""
        await asyncio.sleep(SEARCH_DEBOUNCE_SECONDS)
        async with self:
            if asked != self._asked:
                return
        found = await addresses.suggest_addresses(query)
        async with self:
            if asked != self._asked:
                return
            self._zones = sectors.zone_choices(found or [])
            self.zone_choices = [Item(str(index), zone.label) for index, zone in enumerate(self._zones)]
            if found is None:
                self.zone_hint = SEARCH_UNAVAILABLE
            elif not self._zones and addresses.worth_asking(query):
                self.zone_hint = "Aucune commune ni rue ne correspond : vérifiez l'orthographe."
            else:
                self.zone_hint = ""

    @event
    async def add_zone(self, index: str):
        sector_id = self._selected()
        if sector_id is None or not index.isdigit() or int(index) >= len(self._zones) or self.saving:
            return
        if self._refuses_unloaded():
            return
        zone = self._zones[int(index)]
        await self._run(lambda uow, actor, organisation: sectors.add_zone(
            uow, actor, organisation, sector_id, zone.city_code, zone.city_name, zone.street_ban_id,
            zone.street_name))

    @event
    async def remove_zone(self, zone_id: str):
        if not any(z.id == zone_id for r in self.rows for z in r.zones) or self.saving:
            return
        await self._run(lambda uow, actor, organisation: sectors.remove_zone(uow, actor, organisation, int(zone_id)))

    @event
    async def attribute(self, form: dict[str, Any]):
        sector_id = self._selected()
        target = str(form.get("attributaire", ""))
        if sector_id is None or self.saving or self._refuses_unloaded(form):
            return
        if not any(a.id == target for a in self.attributable):
            self._clear()
            self.form_error, self.form_error_field = "Choisissez une organisation ou un agent.", "attributed_to"
            return
        organisation_id, _, agent = target.partition(":")
        await self._run(lambda uow, actor, organisation: sectors.attribute_sector(
            uow, actor, organisation, sector_id, int(organisation_id), int(agent) if agent else None))

    @event
    async def remove_attribution(self, attribution_id: str):
        if not any(a.id == attribution_id for r in self.rows for a in r.attributions) or self.saving:
            return
        await self._run(lambda uow, actor, organisation: sectors.remove_attribution(
            uow, actor, organisation, int(attribution_id)))

    def _selected(self) -> int | None:
        return int(self.selected_id) if any(r.id == self.selected_id for r in self.rows) else None

    @event
    def ask_delete(self, sector_id: str):
        row = next((r for r in self.rows if r.id == sector_id), None)
        if row is not None:
            self.deleting_id, self.deleting_name = row.id, row.name

    @event
    def delete_open_change(self, is_open: bool):
        if not is_open:
            self.deleting_id = ""

    @event
    async def confirm_delete(self):
        target = next((int(r.id) for r in self.rows if r.id == self.deleting_id), None)
        self.deleting_id = ""
        if target is None or self.saving:
            return
        await self._run(lambda uow, actor, organisation: sectors.delete_sector(uow, actor, organisation, target))

    @event
    def start_import(self, form: dict[str, Any]):
        """"Importer les zones": the browser reads the chosen file, then `import_file` receives it."""
        if self.importing or self.saving:
            return None
        self.import_message, self.import_error, self.import_problems = "", "", []
        if not self._is_loaded(form):
            self.import_error = NOT_LOADED
            return None
        self.importing = True
        return rx.call_script(_READ_ZONE_FILE, callback=TerritorySectorsState.import_file)

    @event
    async def import_file(self, read: dict[str, Any]):
        actor, organisation = self._agent_id, self.current_org_id
        read = read if isinstance(read, dict) else {}
        error, name = str(read.get("error") or ""), str(read.get("name") or "zones")[:160]
        try:
            content = base64.b64decode(str(read.get("data") or ""), validate=True)
        except (binascii.Error, ValueError):
            content, error = b"", error or "read"
        if actor is None or not organisation:
            self.importing = False
            return
        if error:
            self.import_error = {"none": "Choisissez un fichier CSV ou Excel (.xlsx).",
                                 "size": zone_files.FILE_TOO_LARGE}.get(
                error, "Le fichier n'a pas pu être lu : choisissez-le à nouveau.")
            self.importing = False
            return
        try:
            imported = await within(UnitOfWork(), lambda uow: sectors.import_zones(
                uow, actor, int(organisation), name, content))
        except sectors.ZoneImportRefused as refused:
            self.import_error = refused.message
            shown = list(refused.problems[:SHOWN_PROBLEMS])
            if len(refused.problems) > SHOWN_PROBLEMS:
                shown.append(f"… et {len(refused.problems) - SHOWN_PROBLEMS} autres lignes à corriger.")
            self.import_problems = shown
        except DomainError as exc:
            self.import_error = exc.message
        else:
            self.import_message = imported.notice
            self.import_key += 1
            await self._load(actor, int(organisation))
        self.importing = False

    @event
    def type_trial_address(self, value: str):
        self._trial_asked += 1
        return TerritorySectorsState.suggest_trial_addresses(str(value or ""), self._trial_asked)

    @event(background=True)
    async def suggest_trial_addresses(self, query: str, asked: int):
        """As `suggest_zones`: in the background, only the latest typing's answer shown."""
        await asyncio.sleep(SEARCH_DEBOUNCE_SECONDS)
        async with self:
            if asked != self._trial_asked:
                return
        found = await addresses.suggest_addresses(query)
        async with self:
            if asked != self._trial_asked:
                return
            self._trial_addresses = list(found or [])
            self.trial_choices = [Item(str(index), a.label) for index, a in enumerate(self._trial_addresses)]
            if found is None:
                self.trial_hint = SEARCH_UNAVAILABLE
            elif not found and addresses.worth_asking(query):
                self.trial_hint = "Aucune adresse ne correspond : vérifiez l'orthographe."
            else:
                self.trial_hint = ""

    @event
    async def try_address(self, index: str):
        actor, organisation = self._agent_id, self.current_org_id
        if actor is None or not organisation or not index.isdigit() or int(index) >= len(self._trial_addresses):
            return
        chosen = self._trial_addresses[int(index)]
        try:
            found = await within(UnitOfWork(read_only=True), lambda uow: sectors.match_address(
                uow, actor, int(organisation), chosen.city_code, chosen.ban_id))
        except DomainError as exc:
            self.trial_hint, self.trial_label = exc.message, ""
            return
        self.trial_choices, self.trial_hint = [], ""
        self.trial_label, self.trial_by_street = chosen.label, found.by_street
        self.trial_sectors = list(found.sectors)
        self.trial_organisations = list(found.organisations)
        self.trial_agents = list(found.agents)
