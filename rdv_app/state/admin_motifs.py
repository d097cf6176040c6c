"""Motifs of the organisation shown: the list, its filters and the create/edit form; every rule lives in
services.admin_motifs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import reflex as rx

from rdv_app.blocking import within
from rdv_app.choices import Option
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import motif_rules
from rdv_app.domain.motif_rules import MotifFields, MotifRuleError
from rdv_app.services.errors import DomainError
from rdv_app.services.organisation import admin_motifs
from rdv_app.services.organisation.admin_motifs import MotifRow
from rdv_app.state.agent import AgentState
from rdv_app.state.organisation import OrganisationPageState
from rdv_app.state.planning import DeleteConfirmMixin, OrgFormMixin
from rdv_app.state.typed_event import event

FORM_HEADING_ID = "formulaire-motif-titre"
LIST_HEADING_ID = "liste-motifs-titre"
ONLINE, NOT_ONLINE = "ouverts", "fermes"
TAB_GENERAL, TAB_ONLINE, TAB_INSTRUCTIONS, TAB_ADVANCED = "general", "en-ligne", "instructions", "avance"
TABS = (TAB_GENERAL, TAB_ONLINE, TAB_INSTRUCTIONS, TAB_ADVANCED)
# The tab holding each field of the service, opened when that field is in error.
FIELD_TABS = {
    **dict.fromkeys(("name", "service_id", "color", "default_duration_in_min", "location_type", "collectif"),
                    TAB_GENERAL),
    **dict.fromkeys(("bookable_by", "min_public_booking_delay", "max_public_booking_delay"), TAB_ONLINE),
    **dict.fromkeys(("restriction_for_rdv", "instruction_for_rdv", "custom_cancel_warning_message",
                     "visibility_type"), TAB_INSTRUCTIONS),
    **dict.fromkeys(("for_secretariat", "follow_up", "rdvs_editable_by_user", "rdvs_cancellable_by_user",
                     "sectorisation_level"), TAB_ADVANCED),
}


@dataclass
class MotifListRow:
    id: str
    name: str
    colour: str
    service: str
    location: str
    bookable: str
    open_online: bool
    open_to_prescripteurs: bool
    duration: str
    delays: str
    collectif: bool
    archived: bool
    has_rdvs: bool


def list_row(row: MotifRow) -> MotifListRow:
    return MotifListRow(
        id=str(row.id), name=row.name, colour=row.color, service=row.service_name, location=row.location_label,
        bookable=row.bookable_label, open_online=row.open_online, open_to_prescripteurs=row.open_to_prescripteurs,
        duration=f"{row.default_duration_in_min} min",
        delays=f"de {row.min_delay} à {row.max_delay} avant", collectif=row.collectif, archived=row.archived,
        has_rdvs=row.has_rdvs,
    )


def whole_number(value: str) -> int | None:
    """A typed whole number, or None for the service to name what is missing."""
    cleaned = value.strip()
    return int(cleaned) if cleaned.isdigit() else None


class MotifFormMixin(OrgFormMixin, mixin=True):
    """The motif's fields as the form holds them (text inputs are uncontrolled: `form_key` shows new
    values), shared by the organisation page and the territory page's "create in several organisations"."""

    name: rx.Field[str] = rx.field("")
    service_id: rx.Field[str] = rx.field("")
    color: rx.Field[str] = rx.field("#1f6feb")
    duration: rx.Field[str] = rx.field("30")
    location_type: rx.Field[str] = rx.field("public_office")
    collectif: rx.Field[bool] = rx.field(False)
    bookable_by: rx.Field[str] = rx.field("agents")
    min_amount: rx.Field[str] = rx.field("30")
    min_unit: rx.Field[str] = rx.field("minutes")
    max_amount: rx.Field[str] = rx.field("3")
    max_unit: rx.Field[str] = rx.field("months")
    visibility_type: rx.Field[str] = rx.field("visible_and_notified")
    sectorisation_level: rx.Field[str] = rx.field("departement")
    for_secretariat: rx.Field[bool] = rx.field(False)
    follow_up: rx.Field[bool] = rx.field(False)
    editable_by_usager: rx.Field[bool] = rx.field(True)
    cancellable_by_usager: rx.Field[bool] = rx.field(True)
    restriction: rx.Field[str] = rx.field("")
    instruction: rx.Field[str] = rx.field("")
    cancel_warning: rx.Field[str] = rx.field("")
    tab: rx.Field[str] = rx.field(TAB_GENERAL)

    @event
    def set_text(self, field: str, value: str):
        """Every text, number and select field of the form (`field` names the state var; the browser may
        only name those)."""
        if field in TEXT_FIELDS:
            setattr(self, field, str(value))
            self._touch(_ERROR_FIELD.get(field, field))

    @event
    def set_flag(self, field: str, checked: bool):
        if field in FLAG_FIELDS:
            setattr(self, field, bool(checked))
            self._touch(_ERROR_FIELD.get(field, field))

    def _fill(self, data: MotifFields) -> None:
        self.form_key += 1
        self.name = data.name
        self.service_id = str(data.service_id or "")
        self.color = data.color
        self.duration = str(data.default_duration_in_min or "")
        self.location_type = data.location_type
        self.collectif = data.collectif
        self.bookable_by = data.bookable_by
        amount, unit = motif_rules.delay_parts(data.min_public_booking_delay or 0)
        self.min_amount, self.min_unit = str(amount), unit
        amount, unit = motif_rules.delay_parts(data.max_public_booking_delay or 0)
        self.max_amount, self.max_unit = str(amount), unit
        self.visibility_type = data.visibility_type
        self.sectorisation_level = data.sectorisation_level
        self.for_secretariat = data.for_secretariat
        self.follow_up = data.follow_up
        self.editable_by_usager = data.rdvs_editable_by_user
        self.cancellable_by_usager = data.rdvs_cancellable_by_user
        self.restriction = data.restriction_for_rdv or ""
        self.instruction = data.instruction_for_rdv or ""
        self.cancel_warning = data.custom_cancel_warning_message or ""
        self.tab = TAB_GENERAL
        self._clear_feedback()

    def _show_error(self, exc: DomainError | MotifRuleError) -> None:
        """As any form's, with the tab of the field in error opened."""
        super()._show_error(exc)
        if exc.field:
            self.tab = FIELD_TABS.get(exc.field, self.tab)

    @event
    def set_tab(self, value: str):
        if value in TABS:
            self.tab = value

    def _fields(self) -> MotifFields:
        """The form as the service takes it; MotifRuleError for a delay that is not a whole number."""
        return MotifFields(
            name=self.name, service_id=int(self.service_id) if self.service_id.isdigit() else None,
            color=self.color, default_duration_in_min=whole_number(self.duration),
            location_type=self.location_type, collectif=self.collectif, bookable_by=self.bookable_by,
            min_public_booking_delay=motif_rules.delay_in_seconds(self.min_amount, self.min_unit,
                                                                  "min_public_booking_delay"),
            max_public_booking_delay=motif_rules.delay_in_seconds(self.max_amount, self.max_unit,
                                                                  "max_public_booking_delay"),
            visibility_type=self.visibility_type, sectorisation_level=self.sectorisation_level,
            for_secretariat=self.for_secretariat, follow_up=self.follow_up,
            rdvs_editable_by_user=self.editable_by_usager, rdvs_cancellable_by_user=self.cancellable_by_usager,
            restriction_for_rdv=self.restriction, instruction_for_rdv=self.instruction,
            custom_cancel_warning_message=self.cancel_warning,
        )

    def _form_fields(self) -> MotifFields | None:
        """The form to save, the last save's feedback cleared; None with the error shown."""
        self._clear_feedback()
        self.saved_message = ""
        try:
            return self._fields()
        except MotifRuleError as exc:
            self._show_error(exc)
            return None


TEXT_FIELDS = frozenset({"name", "service_id", "color", "duration", "location_type", "bookable_by", "min_amount",
                         "min_unit", "max_amount", "max_unit", "visibility_type", "sectorisation_level",
                         "restriction", "instruction", "cancel_warning"})
FLAG_FIELDS = frozenset({"collectif", "for_secretariat", "follow_up", "editable_by_usager",
                         "cancellable_by_usager"})
FILTERS = frozenset({"filter_service", "filter_location", "filter_online"})

# State var -> the service's field name, for clearing an error when its field changes.
_ERROR_FIELD = {
    "service_id": "service_id", "duration": "default_duration_in_min", "min_amount": "min_public_booking_delay",
    "min_unit": "min_public_booking_delay", "max_amount": "max_public_booking_delay",
    "max_unit": "max_public_booking_delay", "editable_by_usager": "rdvs_editable_by_user",
    "cancellable_by_usager": "rdvs_cancellable_by_user", "restriction": "restriction_for_rdv",
    "instruction": "instruction_for_rdv", "cancel_warning": "custom_cancel_warning_message",
}


class AdminMotifsState(MotifFormMixin, DeleteConfirmMixin, OrganisationPageState, AgentState):
    services: rx.Field[list[Option]] = rx.field(default_factory=list)
    rows: rx.Field[list[MotifListRow]] = rx.field(default_factory=list)
    filter_service: rx.Field[str] = rx.field("")
    filter_location: rx.Field[str] = rx.field("")
    filter_online: rx.Field[str] = rx.field("")
    show_archived: rx.Field[bool] = rx.field(False)

    editing_name: rx.Field[str] = rx.field("")
    has_rdvs: rx.Field[bool] = rx.field(False)

    deleting_verb: rx.Field[str] = rx.field("")

    def _form_heading_id(self) -> str:
        return FORM_HEADING_ID

    def _list_heading_id(self) -> str:
        return LIST_HEADING_ID

    def _before_load(self) -> None:
        self.list_message = ""

    async def _load(self, agent_id: int, organisation_id: int) -> None:
        services = await within(UnitOfWork(read_only=True),
                                lambda uow: admin_motifs.service_choices(uow, agent_id, organisation_id))
        self.services = [Option(str(s.id), s.name) for s in services]
        self._blank_form()
        await self._refresh()

    async def _refresh(self) -> None:
        self.list_error = ""
        who = self._who()
        filters: dict[str, Any] = dict(service_id=int(self.filter_service) if self.filter_service.isdigit() else None,
                       location_type=self.filter_location or None,
                       open_online={ONLINE: True, NOT_ONLINE: False}.get(self.filter_online),
                       include_archived=self.show_archived)
        try:
            rows = await within(UnitOfWork(read_only=True), lambda uow: admin_motifs.list_motifs(uow, *who, **filters))
        except DomainError as exc:
            self.rows = []
            self.list_error = exc.message
        else:
            self.rows = [list_row(r) for r in rows]

    @event
    async def set_filter(self, name: str, value: str):
        if name not in FILTERS:
            return
        setattr(self, name, str(value))
        self.list_message = ""
        await self._refresh()

    @event
    async def set_show_archived(self, checked: bool):
        self.show_archived = bool(checked)
        self.list_message = ""
        await self._refresh()

    @rx.var
    def form_heading(self) -> str:
        return f"Modifier le motif « {self.editing_name} »" if self.editing_id else "Créer un motif"

    def _touch(self, field: str) -> None:
        self._just_saved = False
        super()._touch(field)

    def _reset_form(self) -> None:
        self._fill(MotifFields(name="", service_id=int(self.services[0].value) if len(self.services) == 1
                               else None))
        self.editing_id = self.editing_name = ""
        self.has_rdvs = False

    async def _open(self, motif_id: int) -> bool:
        """Fills the form with the motif to edit; False (and the list's error) when it cannot."""
        who = self._who()
        detail = await self._open_for_edit(lambda uow: admin_motifs.get_motif(uow, *who, motif_id))
        if detail is None:
            return False
        self._fill(detail.fields)
        self.editing_id, self.editing_name, self.has_rdvs = str(detail.id), detail.fields.name, detail.has_rdvs
        self._opened(detail.version)
        return True

    @event
    async def start_edit(self, motif_id: str):
        return self._focus_form() if motif_id.isdigit() and await self._open(int(motif_id)) else None

    @event
    async def duplicate(self, motif_id: str):
        self.list_message = self.list_error = ""
        if not motif_id.isdigit():
            return None
        who = self._who()
        try:
            copy_id = await within(UnitOfWork(), lambda uow: admin_motifs.duplicate_motif(uow, *who, int(motif_id)))
        except DomainError as exc:
            self.list_error = exc.message
            return None
        await self._refresh()
        if not await self._open(copy_id):
            return None
        self.list_message = (f"Copie créée sous le nom « {self.editing_name} » : ajustez-la dans le formulaire "
                             "puis enregistrez.")
        return self._focus_form()

    @event
    async def save(self):
        if self.saving or self._just_saved:
            return
        self._clear_feedback()
        if self._refuses_unloaded():
            return
        data = self._form_fields()
        if data is None:
            return
        self.saving = True
        yield
        done, who, version = "modifié" if self.editing_id else "créé", self._who(), self._editing_version
        await self._create_or_update(lambda uow: admin_motifs.create_motif(uow, *who, data),
                                     lambda uow, motif_id: admin_motifs.update_motif(
                                         uow, *who, motif_id, data, expected_version=version),
                                     f"Le motif « {' '.join(self.name.split())} » a été {done}.")

    @event
    def ask_remove(self, motif_id: str):
        row = next((r for r in self.rows if r.id == motif_id), None)
        if row is None:
            return
        self.deleting_id = row.id
        self.deleting_verb = "Archiver le motif" if row.has_rdvs else "Supprimer définitivement"
        self.deleting_label = (
            f"« {row.name} » a déjà des rendez-vous : il sera archivé. Ses rendez-vous le gardent, mais il ne "
            "pourra plus être choisi." if row.has_rdvs else
            f"« {row.name} » n'a aucun rendez-vous : il sera supprimé définitivement.")

    def _deletion(self, item_id: int) -> Callable[[UnitOfWork], str]:
        """Archived when it has rendez-vous, deleted otherwise."""
        who, name = self._who(), next((r.name for r in self.rows if r.id == str(item_id)), "")

        def remove(uow: UnitOfWork) -> str:
            outcome = admin_motifs.remove_motif(uow, *who, item_id)
            return f"Le motif « {name} » a été {'archivé' if outcome == admin_motifs.ARCHIVED else 'supprimé'}."

        return remove
