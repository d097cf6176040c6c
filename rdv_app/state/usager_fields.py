""""Fiches usagers" of the Espace Admin: one checkbox per optional field of the territory's records; the
rules (territorial admins only, audited) live in services.usagers.record_settings."""

from __future__ import annotations

from dataclasses import asdict, fields

import reflex as rx

from rdv_app.blocking import within
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.errors import DomainError
from rdv_app.services.usagers import record_settings
from rdv_app.services.usagers.usager_form import RecordToggles
from rdv_app.state.agent import AgentState
from rdv_app.state.organisation import OrganisationPageState
from rdv_app.state.typed_event import event

# In the order of the form (admin-domain.md 1.3).
TOGGLE_LABELS = (
    ("enable_address_details", "Complément d'adresse"),
    ("enable_case_number", "Numéro de dossier"),
    ("enable_notes_field", "Remarques"),
    ("enable_caisse_affiliation_field", "Caisse d'affiliation"),
    ("enable_affiliation_number_field", "Numéro d'allocataire"),
    ("enable_family_situation_field", "Situation familiale"),
    ("enable_number_of_children_field", "Nombre d'enfants"),
    ("enable_logement_field", "Logement"),
)
TOGGLES = frozenset(f.name for f in fields(RecordToggles))


class UsagerFieldsState(OrganisationPageState, AgentState):
    territory_name: rx.Field[str] = rx.field("")
    toggles: rx.Field[dict[str, bool]] = rx.field(default_factory=dict)
    form_key: rx.Field[int] = rx.field(0)
    form_error: rx.Field[str] = rx.field("")
    saving: rx.Field[bool] = rx.field(False)
    saved_message: rx.Field[str] = rx.field("")

    def _before_load(self) -> None:
        self.saved_message = self.form_error = ""

    def _show(self, settings: record_settings.RecordSettings) -> None:
        self.territory_name = settings.territory_name
        self.toggles = asdict(settings.toggles)
        self.form_key += 1

    async def _load(self, agent_id: int, organisation_id: int) -> None:
        self._show(await within(UnitOfWork(read_only=True),
                                lambda uow: record_settings.record_settings(uow, agent_id, organisation_id)))

    @event
    def set_toggle(self, toggle: str, checked: bool):
        if toggle in TOGGLES:
            self.toggles = {**self.toggles, toggle: checked is True}
            self.saved_message = ""

    @event
    async def save(self):
        if self.saving or self.loading or self._agent_id is None or not self.toggles:
            return
        self.saving = True
        self.saved_message = self.form_error = ""
        yield
        who = (self._agent_id, int(self.current_org_id))
        toggles = RecordToggles(**{name: bool(self.toggles.get(name)) for name in TOGGLES})
        try:
            saved = await within(UnitOfWork(), lambda uow: record_settings.update_record_settings(uow, *who, toggles))
        except DomainError as exc:
            self.form_error = exc.message
        else:
            self._show(saved)
            self.saved_message = "Les champs des fiches usagers ont été enregistrés."
        finally:
            self.saving = False
