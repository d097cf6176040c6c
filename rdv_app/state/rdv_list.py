""""Liste des RDV": the filters ride in the address (`routes.rdv_list`), so that a reload or a shared link
shows the same list; every rule lives in services.rdv.rdv_search. An id the browser sends is used only
when the page offered it (organisations, agents, lieux, motifs); the usager of the address is checked by
the service, which refuses one the agent does not follow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import reflex as rx

from rdv_app import routes
from rdv_app.blocking import within
from rdv_app.choices import Option
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.enums import ExportFormat, ExportType
from rdv_app.domain.labels import french_number
from rdv_app.domain.rdv_list import STATUS_LABELS, RdvFilters, parse_query
from rdv_app.services.errors import DomainError
from rdv_app.services.rdv import rdv_export, rdv_search
from rdv_app.state.agent import AgentState
from rdv_app.state.organisation import OrganisationPageState
from rdv_app.state.rdv_new import replace_query
from rdv_app.state.typed_event import event

STATUS_OPTIONS = [Option(key, label) for key, label in STATUS_LABELS.items()]
FORMAT_OPTIONS = [Option(value.value, label) for value, label in rdv_export.FORMAT_LABELS.items()]
EXPORT_TYPES = {ExportType.RDV_EXPORT.value, ExportType.PARTICIPATIONS_EXPORT.value}
EXPORT_STARTED = ("Votre export est en cours de création : il sera bientôt disponible dans la liste de vos "
                  "exports, et vous recevrez un email quand il sera prêt.")


@dataclass
class RdvRow:
    href: str
    day_label: str
    first_of_day: bool  # the printed agenda and the table open each day with its heading
    hours: str
    motif: str
    service: str
    lieu: str
    agents: str
    usagers: str
    usager_details: list[str]
    status: str
    status_label: str
    organisation: str


def _token(cursor: rdv_search.Cursor | None) -> str:
    return "" if cursor is None else f"{cursor.starts_at.isoformat()}|{cursor.id}"


def _cursor(token: str) -> rdv_search.Cursor | None:
    """The RDV of `_token`; None for "" (the first page) and for anything else."""
    starts_at, _, rdv_id = token.partition("|")
    try:
        return rdv_search.Cursor(datetime.fromisoformat(starts_at), int(rdv_id))
    except ValueError:
        return None


def _ids(values: list[str], offered: list[Option]) -> tuple[int, ...]:
    known = {option.value for option in offered}
    return tuple(int(value) for value in values if value in known)


class RdvListState(OrganisationPageState, AgentState):
    organisation_choices: rx.Field[list[Option]] = rx.field(default_factory=list)
    agent_choices: rx.Field[list[Option]] = rx.field(default_factory=list)
    lieu_choices: rx.Field[list[Option]] = rx.field(default_factory=list)
    motif_choices: rx.Field[list[Option]] = rx.field(default_factory=list)
    today: rx.Field[str] = rx.field("")

    organisation_ids: rx.Field[list[str]] = rx.field(default_factory=list)
    agent_id: rx.Field[str] = rx.field("")
    usager_id: rx.Field[str] = rx.field("")
    usager_name: rx.Field[str] = rx.field("")
    lieu_ids: rx.Field[list[str]] = rx.field(default_factory=list)
    motif_ids: rx.Field[list[str]] = rx.field(default_factory=list)
    status: rx.Field[str] = rx.field("")
    start: rx.Field[str] = rx.field("")
    end: rx.Field[str] = rx.field("")
    filters_key: rx.Field[int] = rx.field(0)  # a new key shows filters set by the page (a link's, a reset)

    rows: rx.Field[list[RdvRow]] = rx.field(default_factory=list)
    total: rx.Field[int] = rx.field(0)  # up to rdv_search.COUNT_LIMIT
    total_exact: rx.Field[bool] = rx.field(True)
    search_generation: rx.Field[int] = rx.field(0)  # one more at each search: an exact count answers its own
    page: rx.Field[int] = rx.field(1)
    page_start: rx.Field[str] = rx.field("")  # the shown page's first RDV (`_token`), "" on the first page
    next_start: rx.Field[str] = rx.field("")  # the next page's first RDV, "" on the last page
    banner: rx.Field[list[str]] = rx.field(default_factory=list)
    agenda_of: rx.Field[str] = rx.field("")
    details: rx.Field[bool] = rx.field(False)
    searching: rx.Field[bool] = rx.field(False)
    searched: rx.Field[bool] = rx.field(False)
    error: rx.Field[str] = rx.field("")
    notice: rx.Field[str] = rx.field("")
    export_format: rx.Field[str] = rx.field(ExportFormat.XLSX.value)
    exporting: rx.Field[bool] = rx.field(False)
    export_message: rx.Field[str] = rx.field("")
    export_error: rx.Field[str] = rx.field("")

    @rx.var
    def found_label(self) -> str:
        if not self.total_exact:
            return f"Plus de {french_number(rdv_search.COUNT_LIMIT)} RDV trouvés, décompte en cours…"
        return f"{french_number(self.total)} RDV trouvé(s)"

    @rx.var
    def export_label(self) -> str:
        return f"Exporter les {french_number(self.total)} RDVs" if self.total_exact else "Exporter les RDVs"

    @rx.var
    def page_label(self) -> str:
        if self.total_exact:
            return f"Page {self.page} sur {max(1, -(-self.total // rdv_search.PAGE_SIZE))}"
        return f"Page {self.page}"

    @rx.var
    def several_organisations(self) -> bool:
        return len(self.organisation_choices) > 1

    @rx.var
    def filters_ready(self) -> bool:
        """The filters show what the page loaded: until then they stay disabled."""
        return not self.loading and self.denied == "" and self.today != ""

    def _before_load(self) -> None:
        self.error, self.notice, self.rows, self.searched = "", "", [], False
        self.export_message, self.export_error = "", ""
        self.today = ""
        parsed = parse_query(self.router.url.query_parameters)
        f = parsed.filters
        self.organisation_ids = [str(i) for i in f.organisation_ids]
        self.agent_id = "" if f.agent_id is None else str(f.agent_id)
        self.usager_id = "" if f.usager_id is None else str(f.usager_id)
        self.lieu_ids = [str(i) for i in f.lieu_ids]
        self.motif_ids = [str(i) for i in f.motif_ids]
        self.status = f.status
        self.start = "" if f.start is None else f.start.isoformat()
        self.end = "" if f.end is None else f.end.isoformat()
        self.page = 1
        self.filters_key += 1
        if parsed.ignored:
            self.notice = ("Ces filtres de l'adresse n'ont pas été compris et ne sont pas appliqués : "
                           + ", ".join(parsed.ignored) + ".")

    async def _load(self, agent_id: int, organisation_id: int) -> None:
        choices = await within(UnitOfWork(read_only=True),
                               lambda uow: rdv_search.list_choices(uow, agent_id, organisation_id))
        self.organisation_choices = [Option(str(c.id), c.label) for c in choices.organisations]
        self.agent_choices = [Option(str(c.id), c.label) for c in choices.agents]
        self.lieu_choices = [Option(str(c.id), c.label, c.group) for c in choices.lieux]
        self.motif_choices = [Option(str(c.id), c.label, c.group) for c in choices.motifs]
        offered = {o.value for o in self.organisation_choices}
        self.organisation_ids = [value for value in self.organisation_ids if value in offered]
        await self._search()
        self.today = choices.today.isoformat()

    def _filters(self) -> RdvFilters:
        """The filters as the page offered them; the usager comes from the address, the service checks it."""
        def day(value: str) -> date | None:
            try:
                return date.fromisoformat(value)
            except ValueError:
                return None

        return RdvFilters(
            organisation_ids=_ids(self.organisation_ids, self.organisation_choices),
            agent_id=(_ids([self.agent_id], self.agent_choices) or (None,))[0],
            usager_id=int(self.usager_id) if self.usager_id.isdigit() else None,
            lieu_ids=_ids(self.lieu_ids, self.lieu_choices), motif_ids=_ids(self.motif_ids, self.motif_choices),
            status=self.status if self.status in STATUS_LABELS else "", start=day(self.start), end=day(self.end))

    def _address(self) -> str:
        f = self._filters()
        return routes.rdv_list(organisation_ids=list(f.organisation_ids), agent_id=f.agent_id, usager_id=f.usager_id,
                               lieu_ids=list(f.lieu_ids), motif_ids=list(f.motif_ids), status=f.status,
                               start=f.start.isoformat() if f.start else "", end=f.end.isoformat() if f.end else "")

    async def _search(self, start: str = "", before: str = "", page: int = 1) -> None:
        """The first page, or the one starting at the RDV `start`, or the one before the RDV `before`
        (`page` is its number, shown)."""
        agent_id, organisation = self._agent_id, self.current_org_id
        if agent_id is None or not organisation:
            return
        filters = self._filters()
        from_rdv, before_rdv = _cursor(start), _cursor(before)
        if filters.start and filters.end and filters.start > filters.end:
            self.error = "La date de début de la période doit précéder sa date de fin."
            return
        self.error = ""
        try:
            found = await within(UnitOfWork(read_only=True), lambda uow: rdv_search.search_rdvs(
                uow, agent_id, int(organisation), filters, start=from_rdv, before=before_rdv))
        except DomainError as exc:
            self.error, self.rows, self.total, self.searched = exc.message, [], 0, False
            self.page, self.page_start, self.next_start = 1, "", ""
            return
        self.searched = True
        self.search_generation += 1
        self.total, self.total_exact = found.total, found.total_exact
        self.page = page if found.start is not None else 1
        self.page_start, self.next_start = _token(found.start), _token(found.next)
        self.banner, self.agenda_of, self.usager_name = list(found.banner), found.agenda_of, found.usager_name
        several = len(filters.organisation_ids) > 1
        rows = []
        previous_day = None
        for line in found.lines:
            rows.append(RdvRow(
                href=routes.rdv_page(line.id), day_label=line.day_label, first_of_day=line.day != previous_day,
                hours=line.hours, motif=line.motif, service=line.service, lieu=line.lieu or "—",
                agents=line.agents or "—", usagers=", ".join(u.name for u in line.usagers) or "—",
                usager_details=[" · ".join(part for part in (u.name, u.birth_date, u.phone_number, u.email) if part)
                                for u in line.usagers],
                status=line.status, status_label=line.status_label,
                organisation=line.organisation if several else ""))
            previous_day = line.day
        self.rows = rows

    async def _refilter(self):
        self.export_message, self.export_error = "", ""
        self.searching = True
        yield
        try:
            await self._search()
        finally:  # each filter's event runs this: its spinner stops however the search ends
            self.searching = False
        yield replace_query(self._address())

    @event
    async def set_agent(self, value: str):
        self.agent_id = value if value in {o.value for o in self.agent_choices} else ""
        async for step in self._refilter():
            yield step

    @event
    async def set_status(self, value: str):
        self.status = value if value in STATUS_LABELS else ""
        async for step in self._refilter():
            yield step

    @event
    async def set_start(self, value: str):
        self.start = value
        async for step in self._refilter():
            yield step

    @event
    async def set_end(self, value: str):
        self.end = value
        async for step in self._refilter():
            yield step

    @event
    async def toggle_organisation(self, organisation_id: str, checked: bool):
        others = [value for value in self.organisation_ids if value != organisation_id]
        self.organisation_ids = [*others, organisation_id] if checked else others
        async for step in self._refilter():
            yield step

    @event
    async def toggle_lieu(self, lieu_id: str, checked: bool):
        others = [value for value in self.lieu_ids if value != lieu_id]
        self.lieu_ids = [*others, lieu_id] if checked else others
        async for step in self._refilter():
            yield step

    @event
    async def toggle_motif(self, motif_id: str, checked: bool):
        others = [value for value in self.motif_ids if value != motif_id]
        self.motif_ids = [*others, motif_id] if checked else others
        async for step in self._refilter():
            yield step

    @event
    async def clear_usager(self):
        self.usager_id, self.usager_name = "", ""
        async for step in self._refilter():
            yield step

    @event
    async def show_today(self):
        self.start = self.end = self.today
        self.filters_key += 1
        async for step in self._refilter():
            yield step

    @event
    async def reset_filters(self):
        self.organisation_ids, self.agent_id, self.usager_id, self.usager_name = [], "", "", ""
        self.lieu_ids, self.motif_ids, self.status, self.start, self.end = [], [], "", "", ""
        self.notice = ""
        self.filters_key += 1
        async for step in self._refilter():
            yield step

    @event(busy="searching")
    async def refresh(self):
        self.searching = True
        yield
        await self._search(start=self.page_start, page=self.page)

    @event
    def set_details(self, checked: bool):
        self.details = checked

    @event(busy="searching")
    async def previous_page(self):
        if not self.page_start:
            return
        self.searching = True
        yield
        await self._search(before=self.page_start, page=max(1, self.page - 1))

    @event(busy="searching")
    async def next_page(self):
        if not self.next_start:
            return
        self.searching = True
        yield
        await self._search(start=self.next_start, page=self.page + 1)

    @event
    async def count_exact(self, generation: int):
        """The exact count of a list whose search stopped counting at COUNT_LIMIT, asked by the page once it
        shows that search (`generation`); a later search makes it moot."""
        agent_id, organisation = self._agent_id, self.current_org_id
        if generation != self.search_generation or self.total_exact or agent_id is None or not organisation:
            return
        filters = self._filters()
        try:
            total = await within(UnitOfWork(read_only=True), lambda uow: rdv_search.count_all(
                uow, agent_id, int(organisation), filters))
        except DomainError:
            return
        self.total, self.total_exact = total, True

    @event
    def set_export_format(self, value: str):
        self.export_format = value if value in set(ExportFormat) else ExportFormat.XLSX.value

    @event
    async def export(self, export_type: str):
        """Asks the worker for a file of what the list shows (the service checks the filters again)."""
        agent_id, organisation = self._agent_id, self.current_org_id
        if agent_id is None or not organisation or self.exporting or export_type not in EXPORT_TYPES:
            return
        filters, export_format = self._filters(), self.export_format
        self.exporting, self.export_message, self.export_error = True, "", ""
        yield
        try:
            await within(UnitOfWork(), lambda uow: rdv_export.request_export(
                uow, agent_id, int(organisation), filters, export_type, export_format))
        except DomainError as exc:
            self.export_error = exc.message
        else:
            self.export_message = EXPORT_STARTED
        self.exporting = False
