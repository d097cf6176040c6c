"""The organisation's settings and its "Réservation en ligne" page; rules in services.admin_organisation."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from rdv_app.choices import Option
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.errors import DomainError
from rdv_app.services.organisation import admin_organisation
from rdv_app.services.organisation.admin_organisation import FRENCH_TIMEZONES, OrganisationSettings
from rdv_app.state.agent import AgentState
from rdv_app.state.planning import OrgFormMixin

TEXT_FIELDS = frozenset({"name", "phone_number", "email", "website", "horaires", "timezone"})


class AdminOrganisationState(OrgFormMixin, AgentState):
    loading: bool = True
    denied: str = ""
    name: str = ""
    phone_number: str = ""
    email: str = ""
    website: str = ""
    horaires: str = ""
    timezone: str = ""

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

    @rx.event
    def load(self):
        if self._agent_id is None or not self.current_org_id:
            return
        self.loading = True
        self.denied = self.saved_message = ""
        self._clear_feedback()
        yield
        try:
            with UnitOfWork() as uow:
                settings = admin_organisation.get_settings(uow, *self._who())
        except DomainError as exc:
            self.denied = exc.message
        else:
            self._show(settings)
        self.loading = False

    @rx.event
    def set_text(self, field: str, value: str):
        if field in TEXT_FIELDS:
            setattr(self, field, str(value))
            self._touch(field)

    @rx.event
    def save(self):
        if self.saving:
            return
        self._clear_feedback()
        self.saved_message = ""
        self.saving = True
        yield
        data = OrganisationSettings(name=self.name, phone_number=self.phone_number, email=self.email,
                                    website=self.website, horaires=self.horaires, timezone=self.timezone)
        try:
            with UnitOfWork() as uow:
                saved = admin_organisation.update_settings(uow, *self._who(), data)
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


class OnlineBookingState(AgentState):
    loading: bool = True
    denied: str = ""
    url: str = ""
    snippet: str = ""
    motifs: list[OnlineMotifRow] = []
    not_offered: list[str] = []
    copied_message: str = ""

    @rx.event
    def load(self):
        if self._agent_id is None or not self.current_org_id:
            return
        self.loading = True
        self.denied = self.copied_message = ""
        yield
        try:
            with UnitOfWork() as uow:
                overview = admin_organisation.online_booking(uow, self._agent_id, int(self.current_org_id))
        except DomainError as exc:
            self.denied = exc.message
        else:
            self.url, self.snippet = overview.url, overview.embed_snippet
            self.motifs = [OnlineMotifRow(m.name, m.service_name, m.location_label, m.offered)
                           for m in overview.motifs]
            self.not_offered = [m.name for m in overview.not_offered]
        self.loading = False

    @rx.event
    def copy(self, what: str):
        if what == "lien":
            self.copied_message = "Le lien a été copié dans le presse-papiers."
            return rx.set_clipboard(self.url)
        self.copied_message = "Le code d'intégration a été copié dans le presse-papiers."
        return rx.set_clipboard(self.snippet)
