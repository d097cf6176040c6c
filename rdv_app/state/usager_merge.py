""""Fusionner deux usagers" and "Doublons probables" (admin-domain.md section 2). The rules live in
services.usagers.merge and services.usagers.duplicates; the states show what they return. The two usagers
of the merge ride in the address (`routes.usagers_merge`): the service checks them whatever the browser
sent, and an usager picked in a search must be one the search listed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from rdv_app import routes
from rdv_app.blocking import within
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.usager_merge import missing_choices
from rdv_app.services.errors import DomainError
from rdv_app.services.usagers import duplicates, merge, usagers
from rdv_app.state.agent import AgentState
from rdv_app.state.loaded import NOT_LOADED
from rdv_app.state.organisation import OrganisationPageState
from rdv_app.state.rdv_new import replace_query
from rdv_app.state.typed_event import event

MIN_SEARCH_LETTERS = 2
MERGE_BUTTON_ID = "fusionner-bouton"
SIDES = ("a", "b")


@dataclass
class FoundUsager:
    id: str
    name: str
    details: str


# What the comparison shows of each usager, as `a_<name>` and `b_<name>` fields of the state: the name,
# the birth date, "3 RDV, dont 1 à venir", referents, relatives, and a note (its FranceConnect link, what
# stays with it in other organisations).
SIDE_FIELDS = ("name", "birth_date", "rdvs", "referents", "relatives", "note")


@dataclass
class FieldRow:
    field: str
    label: str
    value_a: str
    value_b: str
    kind: str  # identical, identical_na, different
    forced: str  # "1", "2" or "" (the agent chooses)


def _found(summary: usagers.UsagerSummary) -> FoundUsager:
    details = [f"Né(e) le {summary.birth_date}" if summary.birth_date else "",
               f"Tél. {summary.phone_number}" if summary.phone_number else "", summary.email or ""]
    return FoundUsager(str(summary.id), summary.name, " · ".join(d for d in details if d))


def _rdvs(count: int, upcoming: int) -> str:
    if not count:
        return "Aucun RDV"
    return f"{count} RDV, dont {upcoming} à venir"


def _side(side: merge.MergeSide) -> dict[str, str]:
    notes = []
    if side.franceconnect:
        notes.append("Connecté(e) avec FranceConnect : son identité est conservée.")
    if side.stays_elsewhere:
        notes.append("Suivi(e) aussi par d'autres organisations : s'il est fusionné, cet usager y reste, avec "
                     "ses RDV de ces organisations.")
    return {"name": side.name, "birth_date": side.birth_date, "rdvs": _rdvs(side.rdv_count, side.upcoming_count),
            "referents": ", ".join(side.referents) or "Aucun", "relatives": ", ".join(side.relatives) or "Aucun",
            "note": " ".join(notes)}


class UsagerMergeState(OrganisationPageState, AgentState):
    a_id: rx.Field[str] = rx.field("")
    b_id: rx.Field[str] = rx.field("")
    query_a: rx.Field[str] = rx.field("")
    query_b: rx.Field[str] = rx.field("")
    results_a: rx.Field[list[FoundUsager]] = rx.field(default_factory=list)
    results_b: rx.Field[list[FoundUsager]] = rx.field(default_factory=list)
    searching: rx.Field[str] = rx.field("")  # the side being searched
    search_key: rx.Field[int] = rx.field(0)

    a_name: rx.Field[str] = rx.field("")
    a_birth_date: rx.Field[str] = rx.field("")
    a_rdvs: rx.Field[str] = rx.field("")
    a_referents: rx.Field[str] = rx.field("")
    a_relatives: rx.Field[str] = rx.field("")
    a_note: rx.Field[str] = rx.field("")
    b_name: rx.Field[str] = rx.field("")
    b_birth_date: rx.Field[str] = rx.field("")
    b_rdvs: rx.Field[str] = rx.field("")
    b_referents: rx.Field[str] = rx.field("")
    b_relatives: rx.Field[str] = rx.field("")
    b_note: rx.Field[str] = rx.field("")
    rows: rx.Field[list[FieldRow]] = rx.field(default_factory=list)
    comparing: rx.Field[bool] = rx.field(False)
    form_key: rx.Field[int] = rx.field(0)

    confirming: rx.Field[bool] = rx.field(False)
    merging: rx.Field[bool] = rx.field(False)
    message: rx.Field[str] = rx.field("")  # about the choice of the two usagers
    error: rx.Field[str] = rx.field("")  # about the merge
    _choices: dict[str, int] = {}

    def _who(self) -> tuple[int, int]:
        assert self._agent_id is not None
        return self._agent_id, int(self.current_org_id)

    def _loaded_record(self) -> str:
        """The pair compared, in its order: radios chosen for another pair, or for A and B before they were
        swapped, are refused (`rdv_app.state.loaded`)."""
        return f"{self.current_org_id}|{self.a_id}|{self.b_id}"

    def _before_load(self) -> None:
        self.query_a = self.query_b = self.message = self.error = self.searching = ""
        self.results_a, self.results_b = [], []
        self.confirming = self.merging = False
        self.search_key += 1

    async def _load(self, agent_id: int, organisation_id: int) -> None:
        params = self.router.url.query_parameters
        self.a_id = params.get("a", "") if params.get("a", "").isdigit() else ""
        self.b_id = params.get("b", "") if params.get("b", "").isdigit() else ""
        await self._compare()

    async def _compare(self) -> None:
        """Both usagers chosen: the service compares them (and checks that the agent may merge them). The
        form is then loaded for this pair."""
        self._loading()
        self.rows, self.error = [], ""
        self._show_sides({}, {})
        if self.a_id and self.b_id:
            await self._preview()
        self._mark_loaded()

    async def _preview(self) -> None:
        who, a, b = self._who(), int(self.a_id), int(self.b_id)
        self.comparing = True
        try:
            preview = await within(UnitOfWork(read_only=True), lambda uow: merge.merge_preview(uow, *who, a, b))
        except DomainError as exc:
            self.message = exc.message
            return
        finally:
            self.comparing = False
        self._show_sides(_side(preview.a), _side(preview.b))
        self.rows = [FieldRow(r.field, r.label, r.value_a or "N/A", r.value_b or "N/A", r.kind,
                              str(r.forced) if r.forced else "") for r in preview.rows]
        self.form_key += 1

    def _show_sides(self, a: dict[str, str], b: dict[str, str]) -> None:
        for name in SIDE_FIELDS:
            setattr(self, f"a_{name}", a.get(name, ""))
            setattr(self, f"b_{name}", b.get(name, ""))

    def _address(self) -> EventSpec:
        return replace_query(routes.usagers_merge(self.a_id, self.b_id))

    # ----------------------------------------------------------------------- choosing the two usagers

    @event
    async def search(self, side: str, value: str):
        if side not in SIDES:
            return
        setattr(self, f"query_{side}", value)
        self.message = ""
        if len(value.strip()) < MIN_SEARCH_LETTERS:
            setattr(self, f"results_{side}", [])
            return
        self.searching = side
        yield
        who = self._who()
        other = self.b_id if side == "a" else self.a_id
        try:
            found = await within(UnitOfWork(read_only=True),
                                 lambda uow: usagers.search_usagers(uow, *who, value, limit=10))
            setattr(self, f"results_{side}", [_found(u) for u in found.usagers if str(u.id) != other])
        except DomainError as exc:
            self.message = exc.message
        finally:
            self.searching = ""

    @event
    async def pick(self, side: str, usager_id: str):
        listed = self.results_a if side == "a" else self.results_b
        if side not in SIDES or not any(found.id == usager_id for found in listed):
            return None
        setattr(self, f"{side}_id", usager_id)
        setattr(self, f"query_{side}", "")
        setattr(self, f"results_{side}", [])
        self.message = ""
        self.search_key += 1
        await self._compare()
        return self._address()

    @event
    async def change(self, side: str):
        if side not in SIDES:
            return None
        setattr(self, f"{side}_id", "")
        self.message = ""
        await self._compare()
        return [self._address(), rx.call_script(f"document.getElementById('recherche-usager-{side}')?.focus()")]

    @event
    async def swap(self):
        self.a_id, self.b_id = self.b_id, self.a_id
        await self._compare()
        return self._address()

    # ----------------------------------------------------------------------- merging

    @event
    def ask_confirmation(self, form: dict[str, Any]):
        """The form's radios (the browser makes each one required); only the rows shown are read, and only
        from a form rendered for the pair compared now."""
        self.error = ""
        if not self._is_loaded(form):
            self.error = NOT_LOADED
            return
        chosen = [row for row in self.rows if row.kind == "different" and not row.forced]
        self._choices = {row.field: int(str(form[row.field])) for row in chosen
                         if str(form.get(row.field, "")) in ("1", "2")}
        missing = [row.label for row in chosen if row.field not in self._choices]
        if missing:
            self.error = missing_choices(missing)
            return
        self.confirming = True

    @event
    def confirmation_changed(self, is_open: bool):
        if not is_open and not self.merging:
            self.confirming = False

    @event
    async def confirm(self):
        if self.merging or not (self.a_id and self.b_id):
            return
        if not self._is_loaded():
            self.error, self.confirming = NOT_LOADED, False
            return
        who, a, b, choices = self._who(), int(self.a_id), int(self.b_id), dict(self._choices)
        self.merging = True
        yield
        try:
            outcome = await within(UnitOfWork(), lambda uow: merge.merge_usagers(uow, *who, a, b, choices))
        except DomainError as exc:
            self.error = exc.message
            self.merging = self.confirming = False
            return
        self.merging = self.confirming = False
        yield [rx.toast.success("Les usagers ont été fusionnés.", position="top-center", duration=10000),
               rx.redirect(routes.usager_page(outcome.kept_usager_id))]


@dataclass
class PairRow:
    first_name: str
    first_details: str
    second_name: str
    second_details: str
    reasons: str
    merge_href: str
    label: str  # "Fusionner SWAN Anna et SWAN Ana", for screen readers


def _details(usager: duplicates.DuplicateUsager) -> str:
    return " · ".join(part for part in (f"Né(e) le {usager.birth_date}" if usager.birth_date else "",
                                        usager.phone_number, usager.email) if part)


class UsagerDuplicatesState(OrganisationPageState, AgentState):
    pairs: rx.Field[list[PairRow]] = rx.field(default_factory=list)
    page: rx.Field[int] = rx.field(1)
    page_count: rx.Field[int] = rx.field(1)
    total: rx.Field[int] = rx.field(0)

    async def _load(self, agent_id: int, organisation_id: int) -> None:
        await self._show(agent_id, organisation_id, 1)

    async def _show(self, agent_id: int, organisation_id: int, page: int) -> None:
        found = await within(UnitOfWork(read_only=True),
                             lambda uow: duplicates.probable_duplicates(uow, agent_id, organisation_id, page))
        self.pairs = [PairRow(p.first.name, _details(p.first), p.second.name, _details(p.second), ", ".join(p.reasons),
                              routes.usagers_merge(p.first.id, p.second.id),
                              f"Fusionner {p.first.name} et {p.second.name}") for p in found.pairs]
        self.page, self.page_count, self.total = found.page, found.page_count, found.total

    @event
    async def previous_page(self):
        async for update in self._go_to(self.page - 1):
            yield update

    @event
    async def next_page(self):
        async for update in self._go_to(self.page + 1):
            yield update

    async def _go_to(self, page: int) -> Any:
        """Another page of the list (the service keeps it within the pages there are)."""
        if self._agent_id is None or not self.current_org_id:
            return
        self.loading = True
        yield
        try:
            await self._show(self._agent_id, int(self.current_org_id), max(1, page))
        except DomainError as exc:
            self.denied = exc.message
        self.loading = False
        yield rx.call_script("document.getElementById('doublons-titre')?.focus()")
