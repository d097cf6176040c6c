"""Motifs of the territory: the table, its filters and selection, the previewed bulk change, and one motif
created in several organisations; every rule lives in services.territory_motifs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from rdv_app.blocking import within
from rdv_app.choices import Option
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import motif_rules
from rdv_app.domain.motif_rules import MotifFields, MotifRuleError
from rdv_app.services.errors import DomainError
from rdv_app.services.organisation import territory_motifs
from rdv_app.services.organisation.territory_motifs import BulkChange, BulkPreview
from rdv_app.state.admin_motifs import ONLINE, MotifFormMixin, whole_number
from rdv_app.state.agent import AgentState
from rdv_app.state.loaded import NOT_LOADED
from rdv_app.state.organisation import OrganisationPageState
from rdv_app.state.typed_event import event

TABLE_HEADING_ID = "motifs-territoire-titre"
PREVIEW_HEADING_ID = "apercu-changement-titre"
CREATE_HEADING_ID = "creation-multiple-titre"
FILTERS = frozenset({"filter_organisation", "filter_service", "filter_location", "filter_online", "search"})
BULK_TEXT = frozenset({"bulk_bookable", "bulk_min_amount", "bulk_min_unit", "bulk_max_amount", "bulk_max_unit",
                       "bulk_duration", "bulk_color", "bulk_instruction"})
BULK_FLAGS = frozenset({"bulk_set_color", "bulk_set_instruction"})


@dataclass
class TerritoryRow:
    id: str
    organisation: str
    name: str
    colour: str
    service: str
    location: str
    bookable: str
    open_online: bool
    open_to_prescripteurs: bool
    duration: str
    delays: str


@dataclass
class PreviewLine:
    motif: str
    organisation: str
    changes: list[str]
    error: str


class TerritoryMotifsState(MotifFormMixin, OrganisationPageState, AgentState):
    territory_name: rx.Field[str] = rx.field("")
    organisation_options: rx.Field[list[Option]] = rx.field(default_factory=list)  # the organisations of the territory the agent administers
    services: rx.Field[list[Option]] = rx.field(default_factory=list)

    rows: rx.Field[list[TerritoryRow]] = rx.field(default_factory=list)
    filter_organisation: rx.Field[str] = rx.field("")
    filter_service: rx.Field[str] = rx.field("")
    filter_location: rx.Field[str] = rx.field("")
    filter_online: rx.Field[str] = rx.field("")
    search: rx.Field[str] = rx.field("")
    selected: rx.Field[list[str]] = rx.field(default_factory=list)
    list_error: rx.Field[str] = rx.field("")

    bulk_bookable: rx.Field[str] = rx.field("")
    bulk_min_amount: rx.Field[str] = rx.field("")
    bulk_min_unit: rx.Field[str] = rx.field("hours")
    bulk_max_amount: rx.Field[str] = rx.field("")
    bulk_max_unit: rx.Field[str] = rx.field("days")
    bulk_duration: rx.Field[str] = rx.field("")
    bulk_set_color: rx.Field[bool] = rx.field(False)
    bulk_color: rx.Field[str] = rx.field("#1f6feb")
    bulk_set_instruction: rx.Field[bool] = rx.field(False)
    bulk_instruction: rx.Field[str] = rx.field("")
    bulk_key: rx.Field[int] = rx.field(0)
    bulk_error: rx.Field[str] = rx.field("")
    preview_lines: rx.Field[list[PreviewLine]] = rx.field(default_factory=list)
    preview_summary: rx.Field[str] = rx.field("")
    preview_failing: rx.Field[int] = rx.field(0)
    previewing: rx.Field[bool] = rx.field(False)
    applying: rx.Field[bool] = rx.field(False)
    applied_message: rx.Field[str] = rx.field("")

    create_org_ids: rx.Field[list[str]] = rx.field(default_factory=list)

    _territory_id: int | None = None
    # The version of the motifs the preview shows: "Appliquer" applies to them only as previewed.
    _preview_version: str = ""

    async def _load(self, agent_id: int, organisation_id: int) -> None:
        def read(uow: UnitOfWork) -> tuple:
            territory = territory_motifs.territory_for(uow, agent_id, organisation_id)
            return (territory, territory_motifs.organisation_choices(uow, agent_id, territory.id),
                    territory_motifs.service_choices(uow, agent_id, territory.id))

        territory, organisations, services = await within(UnitOfWork(read_only=True), read)
        self._territory_id = territory.id
        self.territory_name = f"{territory.name} ({territory.departement_number})"
        self.organisation_options = [Option(str(o.id), o.name) for o in organisations]
        self.services = [Option(str(s.id), s.name) for s in services]
        if self.filter_organisation not in {o.value for o in self.organisation_options}:
            self.filter_organisation = ""  # an organisation the agent no longer administers
        self.selected = []
        self.create_org_ids = []
        self._reset_bulk()
        self._fill(MotifFields(name="", service_id=None))
        self.applied_message = self.saved_message = ""
        await self._refresh()

    def _who(self) -> tuple[int, int]:
        assert self._agent_id is not None and self._territory_id is not None
        return self._agent_id, self._territory_id

    async def _refresh(self) -> None:
        self.list_error = ""
        who = self._who()
        filters: dict[str, Any] = dict(organisation_id=int(self.filter_organisation) if self.filter_organisation.isdigit() else None,
                       service_id=int(self.filter_service) if self.filter_service.isdigit() else None,
                       location_type=self.filter_location or None,
                       open_online={ONLINE: True, "": None}.get(self.filter_online, False),
                       name_contains=self.search)
        try:
            rows = await within(UnitOfWork(read_only=True),
                                lambda uow: territory_motifs.list_territory_motifs(uow, *who, **filters))
        except DomainError as exc:
            self.rows = []
            self.list_error = exc.message
        else:
            self.rows = [TerritoryRow(
                id=str(r.motif.id), organisation=r.organisation_name, name=r.motif.name, colour=r.motif.color,
                service=r.motif.service_name, location=r.motif.location_label, bookable=r.motif.bookable_label,
                open_online=r.motif.open_online, open_to_prescripteurs=r.motif.open_to_prescripteurs,
                duration=f"{r.motif.default_duration_in_min} min",
                delays=f"de {r.motif.min_delay} à {r.motif.max_delay} avant") for r in rows]
        # A motif hidden by the filters is never changed without being seen.
        visible = {r.id for r in self.rows}
        self._select([m for m in self.selected if m in visible])

    def _select(self, motif_ids: list[str]) -> None:
        if motif_ids != self.selected:
            self.selected = motif_ids
            self._stale()

    def _stale(self) -> None:
        """The preview described another selection or change."""
        self.preview_lines = []
        self.preview_summary = ""
        self.preview_failing = 0
        self.bulk_error = ""
        self._preview_version = ""

    # ----------------------------------------------------------------------- table

    @event
    async def set_filter(self, name: str, value: str):
        if name in FILTERS:
            setattr(self, name, str(value))
            self.applied_message = ""
            await self._refresh()

    @event
    def toggle(self, motif_id: str, checked: bool):
        others = [m for m in self.selected if m != motif_id]
        self._select([*others, motif_id] if checked else others)
        self.applied_message = ""

    @event
    def select_all(self):
        self._select([r.id for r in self.rows])
        self.applied_message = ""

    @event
    def select_none(self):
        self._select([])
        self.applied_message = ""

    @rx.var
    def covered_organisations(self) -> str:
        return ", ".join(option.label for option in self.organisation_options)

    @rx.var
    def selection_label(self) -> str:
        count = len(self.selected)
        return f"{count} motif sélectionné" if count == 1 else f"{count} motifs sélectionnés"

    # ----------------------------------------------------------------------- bulk change

    @event
    def set_bulk(self, name: str, value: str):
        if name in BULK_TEXT:
            setattr(self, name, str(value))
            self._stale()
            self.applied_message = ""

    @event
    def set_bulk_flag(self, name: str, checked: bool):
        if name in BULK_FLAGS:
            setattr(self, name, bool(checked))
            self._stale()
            self.applied_message = ""

    def _reset_bulk(self) -> None:
        self.bulk_key += 1
        self.bulk_bookable = self.bulk_min_amount = self.bulk_max_amount = self.bulk_duration = ""
        self.bulk_instruction = ""
        self.bulk_min_unit, self.bulk_max_unit = "hours", "days"
        self.bulk_set_color = self.bulk_set_instruction = False
        self._stale()

    def _change(self) -> BulkChange | None:
        """The change the form describes, or None with the problem in `bulk_error`."""
        try:
            minimum = (motif_rules.delay_in_seconds(self.bulk_min_amount, self.bulk_min_unit, "min")
                       if self.bulk_min_amount.strip() else None)
            maximum = (motif_rules.delay_in_seconds(self.bulk_max_amount, self.bulk_max_unit, "max")
                       if self.bulk_max_amount.strip() else None)
        except MotifRuleError as exc:
            which = "minimum" if exc.field == "min" else "maximum"
            self.bulk_error = f"Délai {which} de réservation : {exc.message}"
            return None
        duration = whole_number(self.bulk_duration) if self.bulk_duration.strip() else None
        if self.bulk_duration.strip() and duration is None:
            self.bulk_error = "Durée par défaut : indiquez un nombre entier de minutes."
            return None
        return BulkChange(
            bookable_by=self.bulk_bookable or None, min_public_booking_delay=minimum,
            max_public_booking_delay=maximum, default_duration_in_min=duration,
            color=self.bulk_color if self.bulk_set_color else None,
            instruction_for_rdv=self.bulk_instruction if self.bulk_set_instruction else None,
        )

    @event
    async def preview(self):
        if self.previewing:
            return
        self._stale()
        self.applied_message = ""
        if not self._is_loaded():
            self.bulk_error = NOT_LOADED
            return
        change = self._change()
        if change is None:
            return
        self.previewing = True
        yield
        who, motif_ids = self._who(), [int(m) for m in self.selected if m.isdigit()]
        try:
            result = await within(UnitOfWork(), lambda uow: territory_motifs.preview_bulk_change(
                uow, *who, motif_ids, change))
        except DomainError as exc:
            self.bulk_error = exc.message
        else:
            self._show_preview(result)
            yield rx.call_script(f"document.getElementById('{PREVIEW_HEADING_ID}')?.focus()")
        finally:
            self.previewing = False

    def _show_preview(self, result: BulkPreview) -> None:
        self._preview_version = result.version
        self.preview_lines = [
            PreviewLine(motif=m.motif_name, organisation=m.organisation_name,
                        changes=[f"{c.label} : {c.before} → {c.after}" for c in m.changes], error=m.error or "")
            for m in (*result.failing, *result.changed)
        ]
        self.preview_failing = len(result.failing)
        changed, unchanged = len(result.changed), len(result.unchanged)
        parts = [f"{changed} motif(s) seront modifiés", f"{unchanged} déjà à jour"]
        if result.failing:
            parts.append(f"{len(result.failing)} ne peuvent pas recevoir ce changement : retirez-les de la "
                         "sélection ou modifiez le changement, car rien n'est appliqué tant qu'un motif est en "
                         "erreur")
        self.preview_summary = ", ".join(parts) + "."

    @event
    async def apply(self):
        if self.applying or not self.preview_lines:
            return
        if not self._is_loaded():
            self._stale()
            self.bulk_error = NOT_LOADED
            return
        change = self._change()
        if change is None:
            return
        self.applying = True
        yield
        who, motif_ids, version = self._who(), [int(m) for m in self.selected if m.isdigit()], self._preview_version
        try:
            count = await within(UnitOfWork(), lambda uow: territory_motifs.apply_bulk_change(
                uow, *who, motif_ids, change, expected_version=version))
        except DomainError as exc:
            self._stale()
            self.bulk_error = exc.message
        else:
            # The selection stays, as in RDV-SP: a second change often follows on the same motifs.
            self._reset_bulk()
            await self._refresh()
            self.applied_message = (f"Le changement a été appliqué : {count} motif modifié." if count == 1 else
                                    f"Le changement a été appliqué : {count} motifs modifiés.") + \
                " Ils restent sélectionnés."
        finally:
            self.applying = False

    @event
    def cancel_preview(self):
        self._stale()

    # ----------------------------------------------------------------------- one motif, several organisations

    @event
    def toggle_create_org(self, organisation_id: str, checked: bool):
        others = [o for o in self.create_org_ids if o != organisation_id]
        self.create_org_ids = [*others, organisation_id] if checked else others
        self._touch("organisation_ids")

    @event
    async def create(self):
        if self.saving:
            return
        if not self._is_loaded():
            self._clear_feedback()
            self.form_error = NOT_LOADED
            return
        data = self._form_fields()
        if data is None:
            return
        self.saving = True
        yield
        who, organisation_ids = self._who(), [int(o) for o in self.create_org_ids if o.isdigit()]
        try:
            ids = await within(UnitOfWork(), lambda uow: territory_motifs.create_in_organisations(
                uow, *who, organisation_ids, data))
        except DomainError as exc:
            self._show_error(exc)
        else:
            name = " ".join(self.name.split())
            self._fill(MotifFields(name="", service_id=None))
            self.create_org_ids = []
            self.saved_message = f"Le motif « {name} » a été créé dans {len(ids)} organisation(s)."
            await self._refresh()
        finally:
            self.saving = False
