"""RDV collectifs: the organisation's sessions to come with their fill, and the creation form. Rules live in
rdv_app.services.rdv.collectifs and the RDV lifecycle; each session's participants are on its RDV page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from rdv_app import routes
from rdv_app.blocking import within
from rdv_app.choices import Option
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import collectifs as rules
from rdv_app.services.errors import DomainError, InvalidInput
from rdv_app.services.rdv import collectifs
from rdv_app.state.agent import AgentState
from rdv_app.state.loaded import NOT_LOADED
from rdv_app.state.notifications import deliver_after_commit
from rdv_app.state.organisation import OrganisationPageState
from rdv_app.state.plages import parse_clock, parse_day
from rdv_app.state.typed_event import event

FORM_HEADING_ID = "nouvel-atelier-titre"
LIST_HEADING_ID = "ateliers-a-venir-titre"


@dataclass
class SessionView:
    id: str
    href: str
    when: str
    title: str
    lieu: str
    fill: str
    status: str
    cancelled: bool


def _int(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isdigit() and len(value) < 9 else None


class CollectifsState(OrganisationPageState, AgentState):
    sessions: rx.Field[list[SessionView]] = rx.field(default_factory=list)
    motifs: rx.Field[list[Option]] = rx.field(default_factory=list)
    lieux: rx.Field[list[Option]] = rx.field(default_factory=list)
    agents: rx.Field[list[Option]] = rx.field(default_factory=list)
    _durations: dict[str, int] = {}

    form_key: rx.Field[int] = rx.field(0)
    motif_id: rx.Field[str] = rx.field("")
    name: rx.Field[str] = rx.field("")
    lieu_id: rx.Field[str] = rx.field("")
    agent_ids: rx.Field[list[str]] = rx.field(default_factory=list)
    unlimited: rx.Field[bool] = rx.field(False)
    seats: rx.Field[str] = rx.field("")
    day: rx.Field[str] = rx.field("")
    start_time: rx.Field[str] = rx.field("")
    duration: rx.Field[str] = rx.field("")
    weekly_count: rx.Field[str] = rx.field("1")

    saving: rx.Field[bool] = rx.field(False)
    error_field: rx.Field[str] = rx.field("")
    error_message: rx.Field[str] = rx.field("")
    form_error: rx.Field[str] = rx.field("")
    saved_message: rx.Field[str] = rx.field("")

    def _who(self) -> tuple[int, int]:
        assert self._agent_id is not None
        return self._agent_id, int(self.current_org_id)

    async def _load(self, agent_id: int, organisation_id: int) -> Any:
        form = await within(UnitOfWork(read_only=True),
                            lambda uow: collectifs.form_choices(uow, agent_id, organisation_id))
        self.motifs = [Option(str(m.id), m.label) for m in form.motifs]
        self._durations = {str(m.id): m.duration_in_min for m in form.motifs}
        self.lieux = [Option(str(c.id), c.label) for c in form.lieux]
        self.agents = [Option(str(c.id), c.label) for c in form.agents]
        self._reset_form()
        await self._refresh()

    async def _refresh(self) -> None:
        who = self._who()
        rows = await within(UnitOfWork(read_only=True), lambda uow: collectifs.sessions(uow, *who))
        self.sessions = [SessionView(str(r.rdv_id), routes.rdv_page(r.rdv_id), r.when,
                                     r.name if r.name == r.motif_name else f"{r.motif_name} : {r.name}",
                                     r.lieu_name, r.fill, r.status_label, r.cancelled) for r in rows]

    def _reset_form(self) -> None:
        self.form_key += 1
        self.motif_id = self.motifs[0].value if len(self.motifs) == 1 else ""
        self.duration = str(self._durations.get(self.motif_id, "")) if self.motif_id else ""
        self.lieu_id = self.lieux[0].value if len(self.lieux) == 1 else ""
        own = str(self._agent_id)
        self.agent_ids = [own] if own in {a.value for a in self.agents} else []
        self.name = self.seats = self.day = self.start_time = ""
        self.unlimited = False
        self.weekly_count = "1"
        self._clear()

    def _clear(self) -> None:
        self.error_field = self.error_message = self.form_error = ""

    def _touch(self, field: str) -> None:
        self.saved_message = ""
        if self.error_field == field:
            self.error_field = self.error_message = ""

    @event
    def set_motif(self, value: str):
        self.motif_id = value
        if value in self._durations:
            self.duration = str(self._durations[value])
            self.form_key += 1  # shows the motif's duration in the (uncontrolled) field
        self._touch("motif_id")

    @event
    def set_name(self, value: str):
        self.name = value
        self._touch("name")

    @rx.var
    def name_warning(self) -> str:
        """Said while the agent types: SMS cut a long session name."""
        return rules.name_warning(self.name.strip()) or ""

    @event
    def set_lieu(self, value: str):
        self.lieu_id = value
        self._touch("lieu_id")

    @event
    def toggle_agent(self, agent_id: str, checked: bool):
        others = [a for a in self.agent_ids if a != agent_id]
        self.agent_ids = [*others, agent_id] if checked else others
        self._touch("agent_ids")

    @event
    def set_unlimited(self, checked: bool):
        self.unlimited = checked
        self._touch("max_participants_count")

    @event
    def set_seats(self, value: str | float):
        self.seats = str(value)  # a number field's value may come as a number
        self._touch("max_participants_count")

    @event
    def set_day(self, value: str):
        self.day = value
        self._touch("day")

    @event
    def set_start_time(self, value: str):
        self.start_time = value
        self._touch("start_time")

    @event
    def set_duration(self, value: str | float):
        self.duration = str(value)  # a number field's value may come as a number
        self._touch("duration_in_min")

    @event
    def set_weekly_count(self, value: str | float):
        self.weekly_count = str(value)  # a number field's value may come as a number
        self._touch("weekly_count")

    def _fields(self) -> dict[str, Any] | None:
        """The form as the service takes it; None, with the field's message, when a number is not one."""
        numbers = {"motif_id": (self.motif_id, "Choisissez un motif collectif."),
                   "duration_in_min": (self.duration, "Indiquez la durée en minutes."),
                   "weekly_count": (self.weekly_count, "Indiquez le nombre de séances.")}
        values: dict[str, Any] = {}
        for field, (raw, message) in numbers.items():
            values[field] = _int(raw)
            if values[field] is None:
                self.error_field, self.error_message = field, message
                return None
        seats = None
        if not self.unlimited:
            seats = _int(self.seats)
            if not seats:
                self.error_field = "max_participants_count"
                self.error_message = "Indiquez le nombre de places, ou cochez « Places illimitées »."
                return None
        return dict(values, name=self.name, lieu_id=_int(self.lieu_id), max_participants_count=seats,
                    agent_ids=[int(a) for a in self.agent_ids if a.isdigit()], day=parse_day(self.day),
                    start_time=parse_clock(self.start_time))

    @event
    async def save(self):
        if self.saving:
            return
        self._clear()
        self.saved_message = ""
        if not self._is_loaded():
            self.form_error = NOT_LOADED
            return
        fields = self._fields()
        if fields is None:
            return
        self.saving = True
        yield
        who = self._who()
        uow = UnitOfWork()
        try:
            ids = await within(uow, lambda uow: collectifs.create(uow, *who, **fields))
        except InvalidInput as exc:
            self.saving = False
            self.form_error = exc.message
            return
        except DomainError as exc:
            self.saving = False
            if exc.field in {"motif_id", "name", "lieu_id", "agent_ids", "max_participants_count", "day",
                             "start_time", "duration_in_min", "weekly_count"}:
                self.error_field, self.error_message = exc.field or "", exc.message
            else:
                self.form_error = exc.message
            return
        warning = rules.name_warning(self.name.strip())
        created = "L'atelier a été créé." if len(ids) == 1 else f"{len(ids)} séances de l'atelier ont été créées."
        self._reset_form()
        self.saved_message = created + (f" {warning}" if warning else "")
        await self._refresh()
        self.saving = False
        yield deliver_after_commit(uow)
