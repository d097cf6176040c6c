"""Statistiques: the organisation's page, the agent's own page and the public `/stats` page. The figures come
from rdv_app.services.stats; this module only turns them into what the charts, their data tables and
their text summaries show."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import reflex as rx

from rdv_app import routes
from rdv_app.blocking import in_thread, within
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, stats_weeks
from rdv_app.domain.enums import ExportFormat
from rdv_app.services import stats
from rdv_app.services.errors import DomainError
from rdv_app.state.agent import AgentState
from rdv_app.state.organisation import OrganisationPageState
from rdv_app.state.rdv_list import EXPORT_STARTED, EXPORT_TYPES
from rdv_app.state.rdv_new import replace_query
from rdv_app.state.typed_event import event

T = TypeVar("T")

# Distinct hues, each at least 3:1 against white (WCAG 1.4.11), in the order of the series.
PALETTE = ("#000091", "#18753c", "#b34000", "#6a6af4", "#a558a0", "#009081", "#c3992a", "#ce0500", "#3a3a3a",
           "#417dc4", "#7d4e5b", "#68a532")
# "RDV par statut", as RDV Service Public colours it: seen green, excused blue, revoked teal, noshow red,
# to fill yellow (dark enough to keep 3:1).
STATUS_COLOURS = {"seen": "#18753c", "excused": "#000091", "revoked": "#009081", "noshow": "#ce0500",
                  "unknown": "#b7791f"}
DEFAULT_WEEKS = 12  # the period a page opens on: the last twelve weeks, this one included
PERIOD_FIELDS = ("first_day", "last_day")
BAD_DAY = "Saisissez une date valide, au format jj/mm/aaaa."


@dataclass
class SeriesView:
    key: str  # the data key of the chart
    label: str
    color: str


@dataclass
class ChartView:
    id: str
    title: str
    summary: str
    empty: bool
    series: list[SeriesView]
    data: list[dict[str, Any]]  # one entry per week: {"semaine": label, key: value...}
    headers: list[str]
    rows: list[list[str]]


@dataclass
class CounterView:
    label: str
    count: str
    href: str


def _number(value: float) -> str:
    return f"{value:.1f}".replace(".", ",").removesuffix(",0")


def chart_view(chart_id: str, title: str, counts: stats.WeeklyCounts, *, unit: str = "RDV",
               shares: bool = False, colours: dict[str, str] | None = None, by_month: bool = False,
               by_day: bool = False, summed: bool = True) -> ChartView:
    """A stacked column chart, its table and its summary. With `shares`, each column shows its week's
    counts as percentages of the week (the table gives both); without `summed`, the columns do not add
    up (distinct agents per month): the title and the summary give each column instead of a total."""
    total = counts.total
    series = [SeriesView(f"s{index}", s.label, (colours or {}).get(s.key, PALETTE[index % len(PALETTE)]))
              for index, s in enumerate(counts.series)]
    data, rows = [], []
    for bucket, row in zip(counts.buckets, counts.counts, strict=True):
        values = stats_weeks.shares(row) if shares else row
        data.append({"semaine": bucket.label, **{view.key: value for view, value in zip(series, values, strict=True)}})
        cells = ([f"{count} ({_number(share)} %)" for count, share in zip(row, values, strict=True)] if shares
                 else [str(count) for count in row])
        rows.append([bucket.label, *cells] + ([str(sum(row))] if summed else []))
    if not summed:
        summary = f"{title} : " + ", ".join(f"{row[0]} : {row[1]}" for row in rows) + "." if rows else ""
    elif total:
        count = len(counts.buckets)
        plural = "s" if count > 1 else ""
        span = "mois" if by_month else f"jour{plural}" if by_day else f"semaine{plural}"
        parts = ", ".join(f"{s.label} : {n}" for s, n in zip(series, counts.series_totals, strict=True))
        summary = f"{title} : {total} {unit} en {count} {span} ({parts})."
        if shares:
            summary += " Chaque colonne montre la part de chaque statut dans la semaine, en pourcentage."
    else:
        summary = f"{title} : aucun {unit} sur la période."
    return ChartView(id=chart_id, title=f"{title} ({total})" if summed else title, summary=summary,
                     empty=total == 0, series=series, data=data,
                     headers=["Mois" if by_month else "Jour" if by_day else "Semaine", *[s.label for s in series]]
                     + (["Total"] if summed else []),
                     rows=rows)


def counter_views(counters: list[stats.Counter], link: Any = None) -> list[CounterView]:
    """The counters and "Tous"; `link(status)` gives each one's address in the RDV list ("" for none)."""
    views = [CounterView(c.label, str(c.count), link(c.key) if link else "") for c in counters]
    views.append(CounterView("Tous", str(sum(c.count for c in counters)), link("") if link else ""))
    return views


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


class StatsPeriodState(OrganisationPageState, AgentState, mixin=True):
    """What the agents' two pages share: the period form (two local days, checked before any reading),
    the loading, and "Afficher"; each page computes its figures in `_compute`. The period rides in the
    address (`?du=2026-10-19&au=2026-11-08`, see `routes.stats`): a page opens on the address's period,
    or on the last twelve weeks without one, and "Afficher" writes the period shown into the address."""

    _personal: bool = False  # which of the two pages, for its address

    first_day_text: rx.Field[str] = rx.field("")
    last_day_text: rx.Field[str] = rx.field("")
    period_error: rx.Field[str] = rx.field("")
    computing: rx.Field[bool] = rx.field(False)
    counters: rx.Field[list[CounterView]] = rx.field(default_factory=list)
    charts: rx.Field[list[ChartView]] = rx.field(default_factory=list)
    heading: rx.Field[str] = rx.field("")
    other_page_href: rx.Field[str] = rx.field("")  # the other page of the two, on the same period
    shown_period: rx.Field[str] = rx.field("")  # "du 19/10/2026 au 08/11/2026", of the figures shown
    export_format: rx.Field[str] = rx.field(ExportFormat.XLSX.value)
    exporting: rx.Field[bool] = rx.field(False)
    export_message: rx.Field[str] = rx.field("")
    export_error: rx.Field[str] = rx.field("")
    _shown_days: tuple[str, str] | None = None  # the period of the figures shown, which "Exporter" exports

    def _default_period(self, time_zone: str) -> None:
        last = stats_weeks.monday(clock.today(time_zone)) + timedelta(days=6)
        self.first_day_text = (last - timedelta(days=7 * DEFAULT_WEEKS - 1)).isoformat()
        self.last_day_text = last.isoformat()

    def _period(self) -> tuple[date, date] | None:
        first, last = _day(self.first_day_text), _day(self.last_day_text)
        if first is None or last is None:
            self.period_error = BAD_DAY
            return None
        return first, last

    def _before_load(self) -> None:
        self.counters, self.charts, self.period_error = [], [], ""
        self.export_message, self.export_error, self._shown_days, self.shown_period = "", "", None, ""
        query = self.router.url.query_parameters
        first, last = _day(query.get("du", "")), _day(query.get("au", ""))
        self.first_day_text, self.last_day_text = (first.isoformat(), last.isoformat()) if first and last else ("", "")

    def _address(self) -> str:
        return routes.stats(start=self.first_day_text, end=self.last_day_text, personal=self._personal)

    def _shown(self, first_day: date, last_day: date) -> None:
        """The figures of this period are shown: the link to the other page keeps it."""
        self.other_page_href = routes.stats(start=first_day.isoformat(), end=last_day.isoformat(),
                                            personal=not self._personal)
        self._shown_days = (first_day.isoformat(), last_day.isoformat())
        self.shown_period = f"du {first_day:%d/%m/%Y} au {last_day:%d/%m/%Y}"

    async def _load(self, agent_id: int, organisation_id: int) -> Any:
        if not self.first_day_text:
            zone = await within(UnitOfWork(read_only=True), lambda uow: stats.organisation_time_zone(
                uow, agent_id, organisation_id))
            self._default_period(zone)
        await self._compute(agent_id, organisation_id)

    if TYPE_CHECKING:  # each page's own figures, computed by the service for the period
        async def _compute(self, agent_id: int, organisation_id: int) -> None: ...

    async def _read(self, reader: Callable[[UnitOfWork], T]) -> T | None:
        """The figures `reader` computes, or None when the service refuses the period (said under the form)."""
        try:
            return await within(UnitOfWork(read_only=True), reader)
        except DomainError as refusal:
            if refusal.field not in PERIOD_FIELDS:
                raise
            self.period_error = refusal.message
            return None

    @event
    async def show_period(self):
        agent_id = self._agent_id
        if agent_id is None or not self.current_org_id or self.computing:
            return
        self.computing, self.period_error = True, ""
        self.export_message, self.export_error = "", ""
        yield
        try:
            await self._compute(agent_id, int(self.current_org_id))
        except DomainError as refusal:
            self.denied = refusal.message
        finally:
            self.computing = False
        if not self.period_error:
            yield replace_query(self._address())

    @event
    def set_export_format(self, value: str):
        self.export_format = value if value in set(ExportFormat) else ExportFormat.XLSX.value

    @event
    async def export(self, export_type: str):
        """Asks the worker for the RDV list's file of the figures shown (the service checks it all again)."""
        agent_id, organisation, shown = self._agent_id, self.current_org_id, self._shown_days
        if agent_id is None or not organisation or shown is None or self.exporting or export_type not in EXPORT_TYPES:
            return
        first, last = date.fromisoformat(shown[0]), date.fromisoformat(shown[1])
        export_format, organisation_id = self.export_format, int(organisation)
        exporter = stats.export_personal_stats if self._personal else stats.export_organisation_stats
        self.exporting, self.export_message, self.export_error = True, "", ""
        yield
        try:
            await within(UnitOfWork(), lambda uow: exporter(uow, agent_id, organisation_id, first, last, export_type,
                                                            export_format))
        except DomainError as refusal:
            self.export_error = refusal.message
        else:
            self.export_message = EXPORT_STARTED
        finally:
            self.exporting = False

    @event
    def set_first_day(self, value: str):
        self.first_day_text = value

    @event
    def set_last_day(self, value: str):
        self.last_day_text = value


class StatsState(StatsPeriodState, OrganisationPageState, AgentState):
    """"Statistiques de <organisation>", for the RDVs the agent may follow there."""

    whole_organisation: rx.Field[bool] = rx.field(True)

    async def _compute(self, agent_id: int, organisation_id: int) -> None:
        period = self._period()
        if period is None:
            return
        found = await self._read(lambda uow: stats.organisation_stats(uow, agent_id, organisation_id, *period))
        if found is None:
            return
        first, last = found.first_day.isoformat(), found.last_day.isoformat()
        self.heading = f"Statistiques de {found.organisation_name}"
        self._shown(found.first_day, found.last_day)
        self.whole_organisation = found.whole_organisation
        self.counters = counter_views(found.counters, lambda status: routes.rdv_list(
            status=status, start=first, end=last, organisation_ids=[organisation_id]))
        self.charts = [chart_view("origine", "RDV créés", found.by_origin),
                       chart_view("service", "RDV créés par service", found.by_service),
                       chart_view("type", "RDV par type de lieu", found.by_location_type)]


class PersonalStatsState(StatsPeriodState, OrganisationPageState, AgentState):
    """"Statistiques de <agent>": the RDVs the agent is on, in every organisation."""

    _personal: bool = True

    async def _compute(self, agent_id: int, organisation_id: int) -> None:
        period = self._period()
        if period is None:
            return
        found = await self._read(lambda uow: stats.personal_stats(uow, agent_id, organisation_id, *period))
        if found is None:
            return
        first, last = found.first_day.isoformat(), found.last_day.isoformat()
        self.heading = f"Statistiques de {found.agent_name}"
        self._shown(found.first_day, found.last_day)
        self.counters = counter_views(found.counters, lambda status: routes.rdv_list(
            status=status, start=first, end=last, agent_id=agent_id, organisation_ids=found.organisation_ids))
        self.charts = [chart_view("origine", "RDV créés", found.by_origin)]


@dataclass
class TerritoryLink:
    name: str
    href: str
    current: bool


@dataclass
class ActivityLine:
    label: str
    today: str
    month_ago: str


def _share(part: int, whole: int) -> str:
    return f"{part} ({_number(round(100 * part / whole, 1))} %)" if whole else str(part)


def activity_lines(today: stats.AgentActivity, month_ago: stats.AgentActivity) -> list[ActivityLine]:
    """"Activité des agents": each figure today and 30 days ago, the shares of that day's agents."""
    def line(label: str, figure: Callable[[stats.AgentActivity], int], share: bool = True) -> ActivityLine:
        return ActivityLine(label, *(_share(figure(a), a.agents) if share else str(figure(a)) for a in (today, month_ago)))

    return [line("Agents invités", lambda a: a.agents, share=False),
            line("Agents ayant accepté leur invitation", lambda a: a.accepted),
            line("Agents ayant au moins un RDV", lambda a: a.with_rdv),
            line("Agents ayant un RDV créé dans les 30 jours précédents", lambda a: a.with_recent_rdv),
            line("Agents ayant des créneaux ouverts au public", lambda a: a.open_to_the_public, share=False)]


def _territory_id(raw: str) -> int | None:
    """`?territoire=`: None without one; 0 (no territory) for a value that is not an id."""
    if not raw:
        return None
    return int(raw) if raw.isdigit() and len(raw) < 10 else 0


def _territory_links(base: str, current: int | None, territories: list[tuple[int, str]]) -> list[TerritoryLink]:
    return [TerritoryLink("Tous les territoires", base, current is None)] + [
        TerritoryLink(name, f"{base}?territoire={territory_id}", territory_id == current)
        for territory_id, name in territories]


class PublicStatsState(rx.State):
    """The public `/stats` page (`?territoire=<id>`), computed once a day per territory by the service."""

    public_loading: rx.Field[bool] = rx.field(True)
    public_error: rx.Field[str] = rx.field("")
    public_heading: rx.Field[str] = rx.field("Statistiques")
    public_period: rx.Field[str] = rx.field("")
    territory_links: rx.Field[list[TerritoryLink]] = rx.field(default_factory=list)
    public_counters: rx.Field[list[CounterView]] = rx.field(default_factory=list)
    participation_counters: rx.Field[list[CounterView]] = rx.field(default_factory=list)
    public_charts: rx.Field[list[ChartView]] = rx.field(default_factory=list)
    activity: rx.Field[list[ActivityLine]] = rx.field(default_factory=list)
    outlook_agents: rx.Field[str] = rx.field("")
    notifications_href: rx.Field[str] = rx.field(routes.PUBLIC_STATS_NOTIFICATIONS)
    activity_charts: rx.Field[list[ChartView]] = rx.field(default_factory=list)

    @event
    async def load_public(self):
        self.public_loading, self.public_error, self.public_heading = True, "", "Statistiques"
        yield
        territory_id = _territory_id(self.router.url.query_parameters.get("territoire", ""))
        try:
            if territory_id == 0:
                raise DomainError("Ce territoire n'existe pas.")
            found = await in_thread(lambda: stats.public_stats_of_the_day(territory_id))
        except DomainError as refusal:
            self.public_error = refusal.message
            self.public_charts = self.activity_charts = []
            self.public_counters = self.participation_counters = []
            self.activity = []
            self.public_loading = False
            return
        self._show(found)
        self.public_loading = False

    def _show(self, found: stats.PublicStats) -> None:
        self.public_heading = (f"Statistiques du territoire {found.territory_name}" if found.territory_id
                               else "Statistiques de RDV Services Publics")
        self.public_period = (f"Du {found.first_day:%d/%m/%Y} au {found.last_day:%d/%m/%Y}, chiffres calculés le "
                              f"{found.computed_on:%d/%m/%Y}.")
        self.territory_links = _territory_links(routes.PUBLIC_STATS, found.territory_id, found.territories)
        self.notifications_href = (f"{routes.PUBLIC_STATS_NOTIFICATIONS}?territoire={found.territory_id}"
                                   if found.territory_id else routes.PUBLIC_STATS_NOTIFICATIONS)
        self.public_counters = counter_views(found.counters)
        self.participation_counters = counter_views(found.participation_counters)
        charts = [chart_view("origine", "RDV créés", found.by_origin)]
        if found.by_territory is not None:
            charts.append(chart_view("structure", "RDV créés par structure", found.by_territory))
        charts += [chart_view("service", "RDV créés par service", found.by_service),
                   chart_view("type", "RDV par type de lieu", found.by_location_type),
                   chart_view("statut", "RDV par statut", found.status_by_week, shares=True,
                              colours=STATUS_COLOURS),
                   chart_view("statut-participation", "RDV par statut de participation",
                              found.participation_status_by_week, unit="usager(s)", shares=True,
                              colours=STATUS_COLOURS)]
        self.public_charts = charts
        self.activity = activity_lines(found.activity, found.activity_month_ago)
        self.outlook_agents = str(found.outlook_agents)
        self.activity_charts = [chart_view("agents-mois", "Agents actifs par mois", found.active_agents_by_month,
                                           unit="agent(s)", by_month=True, summed=False)]


class PublicNotificationsState(rx.State):
    """`/stats/notifications` (`?territoire=<id>`): the notifications of each of the last 30 days."""

    notifications_loading: rx.Field[bool] = rx.field(True)
    notifications_error: rx.Field[str] = rx.field("")
    notifications_heading: rx.Field[str] = rx.field("Notifications envoyées")
    notifications_period: rx.Field[str] = rx.field("")
    notifications_territories: rx.Field[list[TerritoryLink]] = rx.field(default_factory=list)
    notification_charts: rx.Field[list[ChartView]] = rx.field(default_factory=list)
    stats_href: rx.Field[str] = rx.field(routes.PUBLIC_STATS)

    @event
    async def load_notifications(self):
        self.notifications_loading, self.notifications_error = True, ""
        self.notifications_heading, self.notification_charts = "Notifications envoyées", []
        yield
        territory_id = _territory_id(self.router.url.query_parameters.get("territoire", ""))
        try:
            if territory_id == 0:
                raise DomainError("Ce territoire n'existe pas.")
            found = await in_thread(lambda: stats.public_notifications_of_the_day(territory_id))
        except DomainError as refusal:
            self.notifications_error = refusal.message
            self.notifications_loading = False
            return
        self.notifications_heading = ("Notifications envoyées du territoire " + found.territory_name
                                      if found.territory_id else "Notifications envoyées")
        self.notifications_period = (f"Du {found.first_day:%d/%m/%Y} au {found.last_day:%d/%m/%Y}, chiffres "
                                     f"calculés le {found.computed_on:%d/%m/%Y}.")
        self.notifications_territories = _territory_links(routes.PUBLIC_STATS_NOTIFICATIONS, found.territory_id,
                                                          found.territories)
        self.stats_href = (f"{routes.PUBLIC_STATS}?territoire={found.territory_id}" if found.territory_id
                           else routes.PUBLIC_STATS)
        unit = "notification(s)"
        self.notification_charts = [
            chart_view("notifications-evenement", "Notifications par événement", found.by_event, unit=unit,
                       by_day=True),
            chart_view("notifications-canal", "Notifications par canal", found.by_channel, unit=unit, by_day=True),
            chart_view("notifications-resultat", "Notifications par résultat", found.by_result, unit=unit,
                       by_day=True)]
        self.notifications_loading = False
