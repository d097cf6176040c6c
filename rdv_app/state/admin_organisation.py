"""The organisation's settings and its "Réservation en ligne" page; rules in services.admin_organisation."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from rdv_app.blocking import within
from rdv_app.choices import Option
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.errors import DomainError
from rdv_app.services.organisation import admin_organisation
from rdv_app.services.organisation.admin_organisation import FRENCH_TIMEZONES, OrganisationSettings
from rdv_app.state.agent import AgentState
from rdv_app.state.loaded import NOT_LOADED
from rdv_app.state.organisation import OrganisationPageState
from rdv_app.state.planning import OrgFormMixin
from rdv_app.state.typed_event import event

TEXT_FIELDS = frozenset({"name", "phone_number", "email", "website", "horaires", "timezone"})


class AdminOrganisationState(OrgFormMixin, OrganisationPageState, AgentState):
    name: rx.Field[str] = rx.field("")
    phone_number: rx.Field[str] = rx.field("")
    email: rx.Field[str] = rx.field("")
    website: rx.Field[str] = rx.field("")
    horaires: rx.Field[str] = rx.field("")
    timezone: rx.Field[str] = rx.field("")
    # The version of the settings shown (rdv_app.services.versions).
    _settings_version: str = ""

    @rx.var
    def timezone_options(self) -> list[Option]:
        """France's zones, plus the organisation's own when it is another one."""
        options = [Option(zone, label) for zone, label in FRENCH_TIMEZONES]
        if self.timezone and all(o.value != self.timezone for o in options):
            options.append(Option(self.timezone, self.timezone))
        return options

    def _show(self, settings: OrganisationSettings) -> None:
        self.form_key += 1
        self.name, self.horaires, self.timezone = settings.name, settings.horaires or "", settings.timezone
        self.phone_number, self.email = settings.phone_number or "", settings.email or ""
        self.website = settings.website or ""
        self._settings_version = admin_organisation.settings_version(settings)

    def _before_load(self) -> None:
        self.saved_message = ""
        self._clear_feedback()

    async def _load(self, agent_id: int, organisation_id: int) -> None:
        self._show(await within(UnitOfWork(read_only=True),
                                lambda uow: admin_organisation.get_settings(uow, agent_id, organisation_id)))

    @event
    def set_text(self, field: str, value: str):
        if field in TEXT_FIELDS:
            setattr(self, field, str(value))
            self._touch(field)

    @event
    async def save(self):
        if self.saving:
            return
        self._clear_feedback()
        self.saved_message = ""
        if not self._is_loaded():
            self.form_error = NOT_LOADED
            return
        self.saving = True
        yield
        data = OrganisationSettings(name=self.name, phone_number=self.phone_number, email=self.email,
                                    website=self.website, horaires=self.horaires, timezone=self.timezone)
        who, version = self._who(), self._settings_version
        try:
            saved = await within(UnitOfWork(), lambda uow: admin_organisation.update_settings(
                uow, *who, data, expected_version=version))
        except DomainError as exc:
            self._show_error(exc)
        else:
            self._show(saved)
            # The organisation's name shows in the header too.
            self.organisations = [{**o, "name": saved.name} if o["id"] == self.current_org_id else o
                                  for o in self.organisations]
            self.saved_message = "Les informations de l'organisation ont été enregistrées."
        finally:
            self.saving = False


@dataclass
class OnlineMotifRow:
    name: str
    service: str
    location: str
    offered: bool


class OnlineBookingState(OrganisationPageState, AgentState):
    url: rx.Field[str] = rx.field("")
    snippet: rx.Field[str] = rx.field("")
    motifs: rx.Field[list[OnlineMotifRow]] = rx.field(default_factory=list)
    not_offered: rx.Field[list[str]] = rx.field(default_factory=list)
    copied_message: rx.Field[str] = rx.field("")

    def _before_load(self) -> None:
        self.copied_message = ""

    async def _load(self, agent_id: int, organisation_id: int) -> None:
        overview = await within(UnitOfWork(read_only=True),
                                lambda uow: admin_organisation.online_booking(uow, agent_id, organisation_id))
        self.url, self.snippet = overview.url, overview.embed_snippet
        self.motifs = [OnlineMotifRow(m.name, m.service_name, m.location_label, m.offered) for m in overview.motifs]
        self.not_offered = [m.name for m in overview.not_offered]

    @event
    def copy(self, what: str):
        if what == "lien":
            self.copied_message = "Le lien a été copié dans le presse-papiers."
            return rx.set_clipboard(self.url)
        self.copied_message = "Le code d'intégration a été copié dans le presse-papiers."
        return rx.set_clipboard(self.snippet)
