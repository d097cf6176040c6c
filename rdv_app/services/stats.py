"""Statistiques (admin-domain.md section 8, issue 19): the organisation's page, the agent's own page and the
public `/stats` page.

Every number is a SQL aggregate (`count(*)` with GROUP BY on indexed columns); no RDV is loaded into Python.
Weekly columns group instants by week bounds computed on the organisation's wall clock
(`rdv_app.domain.stats_weeks`): the bounds ride into the query as a small derived table joined on
`bound <= instant < next bound`, which both SQLite and PostgreSQL run as one index range scan per week,
right across DST changes. The indexes cover what the queries read (`ix_rdv_organisation_created_at`:
organisation, creation, origin, motif, id; `ix_rdv_organisation_starts_at_status`: organisation, start,
status, motif; `ix_rdv_list` holds the id a basic agent's rule reads), so the table's rows, stored in the
order the RDVs were made, are not visited; the three "RDV créés" charts come from one pass, the counters
from another (filtered counts, no GROUP BY to sort).

Scopes:
- the organisation's page counts the RDVs the agent may follow there (`rights.visible_rdvs_alone`: admins and
  secrétaires all of them, a basic agent their services' RDVs and those they are on), the same rule as the
  "Liste des RDV" its counters link to;
- the personal page counts the RDVs the agent is on, in every organisation (weeks on the wall clock of the
  organisation shown);
- the public page counts everything, or one territory's organisations; it has no personal data and is
  computed once a day per territory (`public_stats_of_the_day`), as is its notifications sub-page
  (`public_notifications_of_the_day`: receipts per local day).

"Activité des agents" is told today and 30 days ago, from what the tables remember of that day: the agents
whose account role and record existed then and were not deleted yet; accepted, when their invitation was
used by then (or, never invited, they had a password and existed then); on an RDV created by then; on an
RDV created in the 30 days before; open to the public, with a plage d'ouverture running that day (made by
then) of a motif usagers book online, or on a collective session of such a motif, made by then, starting
later and not cancelled then. "Synchronisation Outlook" counts the agents whose Microsoft 365 connection
holds a refresh token.

"Exporter" on the agents' two pages asks the RDV list's export (rdv_app.services.rdv.rdv_export, admin-domain.md
8.4: RDV Service Public's statistics export is that file) for the period shown: the organisation's RDVs
the agent may see there, or, on the personal page, the RDVs the agent is on in each of their
organisations; the export's own checks (roles, the visibility rule) apply when it is asked and built.

Counters count RDVs by their start in the period ("À renseigner": unknown status and started before now,
"À venir": unknown and not started yet); the "RDV créés" charts count RDVs by their creation in the period.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlmodel import col, select

from rdv_app.db.engine import database_url
from rdv_app.db.models import (
    Agent,
    AgentInvitation,
    AgentRole,
    Motif,
    Organisation,
    OutlookConnection,
    Participation,
    PlageOuverture,
    PlageOuvertureMotif,
    Rdv,
    RdvAgent,
    Receipt,
    Service,
    Territory,
)
from rdv_app.db.rows import table_of
from rdv_app.db.types import UTCDateTime
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, stats_weeks
from rdv_app.domain.enums import AccessLevel, AuthorType, BookableBy, Channel, LocationType, ReceiptResult
from rdv_app.domain.labels import LOCATION_TYPE_LABELS
from rdv_app.domain.rdv_list import RdvFilters
from rdv_app.domain.stats_weeks import Bucket, PeriodError
from rdv_app.services import rights
from rdv_app.services.availability.inputs import running
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError, NotFound
from rdv_app.services.rdv import rdv_export

# The counters, in the order of the page, with the "Statut" values of the RDV list they link to.
STATUS_COUNTERS = (("seen", "Vu(s)"), ("excused", "Excusé(s)"), ("revoked", "Annulé(s) par un agent"),
                   ("noshow", "Non excusé(s)"), ("unknown_past", "À renseigner"), ("unknown_future", "À venir"))
ORIGINS = ((AuthorType.AGENT.value, "Agent"), (AuthorType.USAGER.value, "Usager"),
           (AuthorType.SYSTEM.value, "File d'attente"), (AuthorType.PRESCRIPTEUR.value, "Prescripteur"))
LOCATION_TYPES = tuple((kind.value, LOCATION_TYPE_LABELS[kind]) for kind in LocationType)
# "RDV par statut": the statuses of past RDVs.
PAST_STATUSES = (("seen", "Vu(s)"), ("excused", "Excusé(s)"), ("revoked", "Annulé(s) par un agent"),
                 ("noshow", "Non excusé(s)"), ("unknown", "À renseigner"))
CHANNELS = ((Channel.SMS.value, "SMS"), (Channel.MAIL.value, "Email"), (Channel.WEBHOOK.value, "Webhook"))
RESULTS = ((ReceiptResult.PROCESSED.value, "Traité"), (ReceiptResult.SENT.value, "Envoyé"),
           (ReceiptResult.DELIVERED.value, "Délivré"), (ReceiptResult.FAILURE.value, "Échec"))
EVENTS = (("rdv_created", "RDV créé"), ("rdv_updated", "RDV modifié"), ("rdv_cancelled", "RDV annulé"),
          ("rdv_upcoming_reminder", "Rappel"), ("plage_ouverture_notice", "Plage d'ouverture"),
          ("absence_notice", "Indisponibilité"), ("webhook", "Webhook"), ("account", "Compte"))
PUBLIC_ZONE = "Europe/Paris"  # the public page without a territory: metropolitan France's weeks
PUBLIC_WEEKS = 26  # the public page covers the last six months, this week included
NOTIFICATION_DAYS = 30  # the notifications sub-page: the last 30 days, today included
ACTIVITY_LOOKBACK = timedelta(days=30)  # "Activité des agents" compared with 30 days ago
OPEN_TO_THE_PUBLIC = (BookableBy.EVERYONE.value, BookableBy.AGENTS_AND_PRESCRIPTEURS_AND_INVITED_USERS.value)


@dataclass(frozen=True)
class Series:
    key: str
    label: str


@dataclass(frozen=True)
class WeeklyCounts:
    """A stacked column chart: one column per bucket, `counts[bucket][series]`."""

    buckets: list[Bucket]
    series: list[Series]
    counts: list[list[int]]

    @property
    def series_totals(self) -> list[int]:
        return [sum(row[index] for row in self.counts) for index in range(len(self.series))]

    @property
    def total(self) -> int:
        return sum(map(sum, self.counts))


@dataclass(frozen=True)
class Counter:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class OrganisationStats:
    organisation_name: str
    first_day: date
    last_day: date
    counters: list[Counter]
    by_origin: WeeklyCounts
    by_service: WeeklyCounts
    by_location_type: WeeklyCounts
    whole_organisation: bool  # False: a basic agent's share of the organisation


@dataclass(frozen=True)
class PersonalStats:
    agent_name: str
    first_day: date
    last_day: date
    organisation_ids: list[int]
    counters: list[Counter]
    by_origin: WeeklyCounts


@dataclass(frozen=True)
class AgentActivity:
    """The agents of the page's scope on one day (see the module's docstring)."""

    agents: int  # with an account role (not intervenants), not deleted
    accepted: int  # of them, who accepted their invitation
    with_rdv: int  # on at least one RDV
    with_recent_rdv: int  # on an RDV created in the 30 days before
    open_to_the_public: int  # with a plage, or a collective session, of a motif usagers book online


@dataclass(frozen=True)
class PublicStats:
    territory_id: int | None
    territory_name: str
    territories: list[tuple[int, str]]
    first_day: date
    last_day: date
    computed_on: date
    counters: list[Counter]
    participation_counters: list[Counter]
    by_origin: WeeklyCounts
    by_territory: WeeklyCounts | None
    by_service: WeeklyCounts
    by_location_type: WeeklyCounts
    status_by_week: WeeklyCounts
    participation_status_by_week: WeeklyCounts
    activity: AgentActivity
    activity_month_ago: AgentActivity
    outlook_agents: int  # "Synchronisation Outlook": agents whose connection holds a refresh token
    active_agents_by_month: WeeklyCounts


@dataclass(frozen=True)
class PublicNotifications:
    """`/stats/notifications`: the receipts of the last `NOTIFICATION_DAYS` days, per local day."""

    territory_id: int | None
    territory_name: str
    territories: list[tuple[int, str]]
    first_day: date
    last_day: date
    computed_on: date
    by_event: WeeklyCounts
    by_channel: WeeklyCounts
    by_result: WeeklyCounts


def _bucket_table(buckets: Sequence[Bucket]) -> Any:
    """The buckets as a derived table (n, starts_at, ends_at): a UNION ALL of one-row SELECTs, which both
    databases read (SQLite does not name the columns of a VALUES list)."""
    return sa.union_all(*[
        sa.select(sa.literal(index, sa.Integer).label("n"),
                  sa.literal(bucket.starts_at, UTCDateTime()).label("starts_at"),
                  sa.literal(bucket.ends_at, UTCDateTime()).label("ends_at"))
        for index, bucket in enumerate(buckets)]).subquery("bucket")


def _bucketed(uow: UnitOfWork, buckets: list[Bucket], instant: Any, key: Any, source: Any,
              conditions: Sequence[Any], aggregate: Any = None) -> dict[tuple[int, Any], int]:
    """{(bucket index, key): count} of the rows of `source` meeting `conditions`, by the bucket their
    `instant` falls in; `aggregate` replaces `count(*)` (a count of distinct agents, for one)."""
    return {(n, keys[0]): count for (n, *keys), count in _grouped(
        uow, buckets, instant, [key], source, conditions, aggregate).items()}


def _grouped(uow: UnitOfWork, buckets: list[Bucket], instant: Any, keys: Sequence[Any], source: Any,
             conditions: Sequence[Any], aggregate: Any = None) -> dict[tuple[Any, ...], int]:
    """{(bucket index, *keys): count}. The bucket bounds are the only range on `instant`: with the
    period's bounds as well, SQLite searches the index with those for every bucket (one scan of the whole
    period per week) instead of the bucket's own."""
    if not buckets:
        return {}
    table = _bucket_table(buckets)
    query = (sa.select(table.c.n, *keys, aggregate if aggregate is not None else sa.func.count())
             .select_from(source)
             .join(table, sa.and_(instant >= table.c.starts_at, instant < table.c.ends_at))
             .where(*conditions)
             .group_by(table.c.n, *keys))
    return {tuple(row[:-1]): row[-1] for row in uow.session.execute(query).all()}


def _created(uow: UnitOfWork, buckets: list[Bucket], conditions: Sequence[Any],
             ) -> tuple[dict[tuple[int, Any], int], dict[tuple[int, Any], int], dict[tuple[int, Any], int]]:
    """"RDV créés" by origin, by service and by location type, from one pass over the period's RDVs,
    grouped by origin and motif (what `ix_rdv_organisation_created_at` holds); each motif's service and
    location type then come from the motifs (a few dozen rows), and the groups are added up here."""
    found = _grouped(uow, buckets, col(Rdv.created_at), [col(Rdv.created_by_type), col(Rdv.motif_id)],
                     table_of(Rdv), conditions)
    motifs = {motif_id: (service_id, location_type) for motif_id, service_id, location_type in uow.session.exec(
        select(Motif.id, Motif.service_id, Motif.location_type).where(
            col(Motif.id).in_({motif_id for _, _, motif_id in found}))).all()}
    by_origin: dict[tuple[int, Any], int] = {}
    by_service: dict[tuple[int, Any], int] = {}
    by_location: dict[tuple[int, Any], int] = {}
    for (n, origin, motif_id), count in found.items():
        service_id, location_type = motifs[motif_id]
        for totals, key in ((by_origin, origin), (by_service, service_id), (by_location, location_type)):
            totals[(n, key)] = totals.get((n, key), 0) + count
    return by_origin, by_service, by_location


def _bucket_of(instant: Any, buckets: Sequence[Bucket], offset: int = 0) -> Any:
    """The index of the bucket `instant` falls in, for an instant within the buckets (which follow each
    other without gaps): a CASE halving the buckets at each level, a handful of comparisons per row."""
    if len(buckets) == 1:
        return sa.literal(offset, sa.Integer)
    middle = len(buckets) // 2
    return sa.case((instant < buckets[middle].starts_at, _bucket_of(instant, buckets[:middle], offset)),
                   else_=_bucket_of(instant, buckets[middle:], offset + middle))


def _weekly(buckets: list[Bucket], series: Sequence[tuple[Any, str]], found: dict[tuple[int, Any], int]) -> WeeklyCounts:
    keys = [key for key, _ in series]
    return WeeklyCounts(buckets=buckets, series=[Series(str(key), label) for key, label in series],
                        counts=[[found.get((n, key), 0) for key in keys] for n in range(len(buckets))])


def _named_series(found: dict[tuple[int, Any], int], names: dict[Any, str]) -> list[tuple[Any, str]]:
    """The series that have at least one row, by name."""
    present = {key for _, key in found}
    return sorted(((key, names.get(key, str(key))) for key in present), key=lambda item: item[1])


def _counters(uow: UnitOfWork, status: Any, starts_at: Any, source: Any, conditions: Sequence[Any],
              now: datetime) -> list[Counter]:
    """The counters as one row of filtered counts: one pass over the index, without the sort a GROUP BY
    costs SQLite (a third of the query over a year of 100,000 RDVs)."""
    def counted(key: str) -> Any:
        if key == "unknown_past":
            return sa.and_(status == "unknown", starts_at < now)
        if key == "unknown_future":
            return sa.and_(status == "unknown", starts_at >= now)
        return status == key

    row = uow.session.execute(sa.select(*(sa.func.count().filter(counted(key)) for key, _ in STATUS_COUNTERS))
                              .select_from(source).where(*conditions)).one()
    return [Counter(key, label, count) for (key, label), count in zip(STATUS_COUNTERS, row, strict=True)]


@contextmanager
def _without_parallel_workers(uow: UnitOfWork) -> Iterator[None]:
    """PostgreSQL: the page's queries run in this process alone. Each reads a range of an index (100,000
    entries over a year of a large organisation) in a few tens of milliseconds; the parallel workers the
    planner adds cost more to start and to hand their rows back than they save, the more so on a server whose
    few cores are busy (a year of statistics over 200,000 RDVs: median 58 ms alone, 75 ms with two workers).
    The setting ends with the transaction if a query fails (`SET LOCAL`), and is reset otherwise."""
    if uow.session.get_bind().dialect.name != "postgresql":
        yield
        return
    uow.session.execute(sa.text("SET LOCAL max_parallel_workers_per_gather = 0"))
    yield
    uow.session.execute(sa.text("RESET max_parallel_workers_per_gather"))


def _period(first_day: date, last_day: date, time_zone: str) -> list[Bucket]:
    try:
        return stats_weeks.weeks(first_day, last_day, time_zone)
    except PeriodError as error:
        raise DomainError(str(error), "last_day") from error


def _organisation(uow: UnitOfWork, organisation_id: int) -> Organisation:
    organisation = uow.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("Cette organisation n'existe pas.")
    return organisation


@boundary
def organisation_time_zone(uow: UnitOfWork, actor_agent_id: int, organisation_id: int) -> str:
    """The time zone of an organisation of the agent, whose wall clock the pages' periods follow."""
    rights.agent_scope(uow, actor_agent_id, organisation_id)
    return _organisation(uow, organisation_id).time_zone


@boundary
def organisation_stats(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, first_day: date,
                       last_day: date) -> OrganisationStats:
    """"Statistiques de <organisation>" for the RDVs this agent may follow there, over local days."""
    scope = rights.agent_scope(uow, actor_agent_id, organisation_id)
    organisation = _organisation(uow, organisation_id)
    buckets = _period(first_day, last_day, organisation.time_zone)
    visible = rights.visible_rdvs_alone(uow, scope)
    start, end = stats_weeks.period_bounds(first_day, last_day, organisation.time_zone)
    with _without_parallel_workers(uow):
        counters = _counters(uow, col(Rdv.status), col(Rdv.starts_at), table_of(Rdv),
                             [visible, col(Rdv.starts_at) >= start, col(Rdv.starts_at) < end], clock.now())
        by_origin, by_service, by_location = _created(uow, buckets, [visible])
    service_names = dict(uow.session.exec(select(Service.id, Service.name).where(
        col(Service.id).in_({key for _, key in by_service}))).all())
    return OrganisationStats(
        organisation_name=organisation.name, first_day=first_day, last_day=last_day, counters=counters,
        by_origin=_weekly(buckets, ORIGINS, by_origin),
        by_service=_weekly(buckets, _named_series(by_service, service_names), by_service),
        by_location_type=_weekly(buckets, LOCATION_TYPES, by_location),
        whole_organisation=scope.sees_whole_organisation)


@boundary
def personal_stats(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, first_day: date,
                   last_day: date) -> PersonalStats:
    """"Statistiques de <agent>": the RDVs the agent is on, in every organisation; the weeks are those of
    the organisation shown (`organisation_id`, where the agent must hold a role)."""
    rights.agent_scope(uow, actor_agent_id, organisation_id)
    agent = uow.session.get(Agent, actor_agent_id)
    if agent is None:
        raise NotFound("Ce compte agent n'existe pas.")
    time_zone = _organisation(uow, organisation_id).time_zone
    buckets = _period(first_day, last_day, time_zone)
    # The agent's RDVs are read from theirs (rdv_agent's index on the agent), each once: their number, not
    # the organisations', sets the cost. The weeks are then found for each RDV by `_bucket_of`, where a
    # join on the bounds would read the agent's RDVs again for each week.
    mine = sa.join(RdvAgent, Rdv, col(Rdv.id) == RdvAgent.rdv_id)
    on_it = col(RdvAgent.agent_id) == actor_agent_id
    start, end = stats_weeks.period_bounds(first_day, last_day, time_zone)
    created = col(Rdv.created_at)
    with _without_parallel_workers(uow):
        counters = _counters(uow, col(Rdv.status), col(Rdv.starts_at), mine,
                             [on_it, col(Rdv.starts_at) >= start, col(Rdv.starts_at) < end], clock.now())
        week = _bucket_of(created, buckets)
        by_origin = {(n, origin): count for n, origin, count in uow.session.execute(
            sa.select(week, col(Rdv.created_by_type), sa.func.count()).select_from(mine)
            .where(on_it, created >= start, created < end).group_by(week, col(Rdv.created_by_type))).all()}
    organisation_ids = list(uow.session.exec(select(AgentRole.organisation_id).where(
        AgentRole.agent_id == actor_agent_id).order_by(col(AgentRole.organisation_id))).all())
    return PersonalStats(agent_name=agent.full_name, first_day=first_day, last_day=last_day,
                         organisation_ids=organisation_ids, counters=counters,
                         by_origin=_weekly(buckets, ORIGINS, by_origin))


@boundary
def export_organisation_stats(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, first_day: date,
                              last_day: date, export_type: str, export_format: str) -> rdv_export.ExportRequested:
    """"Exporter" on "Statistiques de <organisation>": the RDVs of the period the agent may see there."""
    _checked_period(first_day, last_day)
    return rdv_export.request_export(uow, actor_agent_id, organisation_id, RdvFilters(start=first_day, end=last_day),
                                     export_type, export_format)


@boundary
def export_personal_stats(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, first_day: date,
                          last_day: date, export_type: str, export_format: str) -> rdv_export.ExportRequested:
    """"Exporter" on "Statistiques de <agent>": the RDVs of the period the agent is on, in every organisation
    of theirs (`organisation_id`, where they must hold a role, is the page's)."""
    rights.agent_scope(uow, actor_agent_id, organisation_id)
    _checked_period(first_day, last_day)
    organisation_ids = tuple(uow.session.exec(select(AgentRole.organisation_id).where(
        AgentRole.agent_id == actor_agent_id).order_by(col(AgentRole.organisation_id))).all())
    filters = RdvFilters(organisation_ids=organisation_ids, agent_id=actor_agent_id, start=first_day, end=last_day)
    return rdv_export.request_export(uow, actor_agent_id, organisation_id, filters, export_type, export_format)


def _checked_period(first_day: date, last_day: date) -> None:
    try:
        stats_weeks.check_period(first_day, last_day)
    except PeriodError as error:
        raise DomainError(str(error), "last_day") from error


def public_period(today: date) -> tuple[date, date]:
    """The public page's period: the last `PUBLIC_WEEKS` weeks, to the Sunday of this one."""
    last_day = stats_weeks.monday(today) + timedelta(days=6)
    return last_day - timedelta(days=7 * PUBLIC_WEEKS - 1), last_day


@boundary
def public_stats(uow: UnitOfWork, territory_id: int | None, today: date) -> PublicStats:
    """The public `/stats` page, for every territory or one (NotFound for an unknown one), on the weeks
    ending with the one holding `today`."""
    territories, zone = _territories(uow, territory_id)
    names = dict(territories)
    first_day, last_day = public_period(today)
    buckets = stats_weeks.weeks(first_day, last_day, zone)
    start, end = stats_weeks.period_bounds(first_day, last_day, zone)
    now = clock.now()
    in_territory: list[Any] = []
    if territory_id is not None:
        in_territory = [col(Rdv.organisation_id).in_(
            select(Organisation.id).where(Organisation.territory_id == territory_id))]
    started = [*in_territory, col(Rdv.starts_at) >= start, col(Rdv.starts_at) < end]
    counters = _counters(uow, col(Rdv.status), col(Rdv.starts_at), table_of(Rdv), started, now)
    participations = sa.join(Participation, Rdv, col(Rdv.id) == Participation.rdv_id)
    participation_counters = _counters(uow, col(Participation.status), col(Rdv.starts_at), participations,
                                       started, now)
    created = col(Rdv.created_at)
    by_origin, by_service, by_location = _created(uow, buckets, in_territory)
    by_territory = None
    if territory_id is None:
        with_territory = sa.join(Rdv, Organisation, col(Organisation.id) == Rdv.organisation_id)
        found = _bucketed(uow, buckets, created, col(Organisation.territory_id), with_territory, [])
        by_territory = _weekly(buckets, _named_series(found, names), found)
    service_names = dict(uow.session.exec(select(Service.id, Service.name).where(
        col(Service.id).in_({key for _, key in by_service}))).all())
    past = buckets_before(buckets, now)
    status_weeks = _bucketed(uow, past, col(Rdv.starts_at), col(Rdv.status), table_of(Rdv),
                             [*in_territory, col(Rdv.starts_at) < now])
    participation_weeks = _bucketed(uow, past, col(Rdv.starts_at), col(Participation.status), participations,
                                    [*in_territory, col(Rdv.starts_at) < now])
    month_buckets = [bucket for bucket in stats_weeks.months(first_day, last_day, zone) if bucket.starts_at < now]
    on_rdvs = sa.join(RdvAgent, Rdv, col(Rdv.id) == RdvAgent.rdv_id)
    active = _bucketed(uow, month_buckets, col(Rdv.starts_at), sa.literal("agents"), on_rdvs,
                       [*in_territory, col(Rdv.starts_at) < now],
                       aggregate=sa.func.count(sa.distinct(col(RdvAgent.agent_id))))
    return PublicStats(
        territory_id=territory_id, territory_name=names.get(territory_id, "") if territory_id else "",
        territories=territories, first_day=first_day, last_day=last_day, computed_on=today,
        counters=counters, participation_counters=participation_counters,
        by_origin=_weekly(buckets, ORIGINS, by_origin), by_territory=by_territory,
        by_service=_weekly(buckets, _named_series(by_service, service_names), by_service),
        by_location_type=_weekly(buckets, LOCATION_TYPES, by_location),
        status_by_week=_weekly(past, PAST_STATUSES, status_weeks),
        participation_status_by_week=_weekly(past, PAST_STATUSES, participation_weeks),
        activity=_agent_activity(uow, territory_id, now, zone),
        activity_month_ago=_agent_activity(uow, territory_id, now - ACTIVITY_LOOKBACK, zone),
        outlook_agents=_outlook_agents(uow, territory_id, now),
        active_agents_by_month=_weekly(month_buckets, (("agents", "Agents actifs"),), active))


def _territories(uow: UnitOfWork, territory_id: int | None) -> tuple[list[tuple[int, str]], str]:
    """Every territory by name, and the time zone of the page: the territory's, or metropolitan France's
    without one (NotFound for an unknown territory)."""
    territories = [(found, name) for found, name in uow.session.exec(
        select(Territory.id, Territory.name).order_by(col(Territory.name))).all() if found is not None]
    if territory_id is None:
        return territories, PUBLIC_ZONE
    if territory_id not in dict(territories):
        raise NotFound("Ce territoire n'existe pas.")
    return territories, uow.session.exec(select(Territory.timezone).where(Territory.id == territory_id)).one()


@boundary
def public_notifications(uow: UnitOfWork, territory_id: int | None, today: date) -> PublicNotifications:
    """`/stats/notifications` for every territory or one: the receipts of each local day of the last
    `NOTIFICATION_DAYS` days, by event, by channel and by result."""
    territories, zone = _territories(uow, territory_id)
    first_day = today - timedelta(days=NOTIFICATION_DAYS - 1)
    buckets = stats_weeks.days(first_day, today, zone)
    where: list[Any] = []
    if territory_id is not None:
        where = [col(Receipt.organisation_id).in_(
            select(Organisation.id).where(Organisation.territory_id == territory_id))]
    receipts, sent = table_of(Receipt), col(Receipt.created_at)
    by_event = _bucketed(uow, buckets, sent, col(Receipt.event), receipts, where)
    by_channel = _bucketed(uow, buckets, sent, col(Receipt.channel), receipts, where)
    by_result = _bucketed(uow, buckets, sent, col(Receipt.result), receipts, where)
    return PublicNotifications(
        territory_id=territory_id, territory_name=dict(territories).get(territory_id, "") if territory_id else "",
        territories=territories, first_day=first_day, last_day=today, computed_on=today,
        by_event=_weekly(buckets, _present(EVENTS, by_event), by_event),
        by_channel=_weekly(buckets, CHANNELS, by_channel), by_result=_weekly(buckets, RESULTS, by_result))


def buckets_before(buckets: list[Bucket], now: datetime) -> list[Bucket]:
    """The buckets that have begun, the current one cut at `now` (past RDVs only)."""
    return [Bucket(b.first_day, b.label, b.starts_at, min(b.ends_at, now)) for b in buckets if b.starts_at < now]


def _present(known: Sequence[tuple[str, str]], found: dict[tuple[int, Any], int]) -> list[tuple[str, str]]:
    """The known series in their order, then any other key found, by itself."""
    keys = {key for _, key in found}
    labels = dict(known)
    return [(key, label) for key, label in known if key in keys] + [
        (key, key) for key in sorted(keys - set(labels))]


def _account_agents(territory_id: int | None, at: datetime) -> Any:
    """The ids of the agents with an account role (not intervenants) in the territory (or anywhere) at `at`."""
    roles = select(AgentRole.agent_id).where(AgentRole.access_level != AccessLevel.INTERVENANT.value,
                                             col(AgentRole.created_at) <= at)
    if territory_id is not None:
        roles = roles.where(col(AgentRole.organisation_id).in_(
            select(Organisation.id).where(Organisation.territory_id == territory_id)))
    return roles


def _agent_activity(uow: UnitOfWork, territory_id: int | None, at: datetime, zone: str) -> AgentActivity:
    """"Activité des agents" as the tables remember it at `at` (see the module's docstring)."""
    day = stats_weeks.local_day(at, zone)
    used = col(AgentInvitation.used_at)
    invitation_used = select(AgentInvitation.id).where(AgentInvitation.agent_id == Agent.id, used.is_not(None))
    accepted = sa.and_(col(Agent.password_hash).is_not(None), sa.or_(
        invitation_used.where(used <= at).exists(), ~invitation_used.exists()))
    on_rdv = (select(RdvAgent.agent_id).join(Rdv, col(Rdv.id) == RdvAgent.rdv_id)
              .where(RdvAgent.agent_id == Agent.id, col(Rdv.created_at) <= at))
    recent = on_rdv.where(col(Rdv.created_at) > at - ACTIVITY_LOOKBACK)
    open_motif = sa.and_(col(Motif.bookable_by).in_(OPEN_TO_THE_PUBLIC),
                         sa.or_(col(Motif.deleted_at).is_(None), col(Motif.deleted_at) > at))
    plage = (select(PlageOuverture.agent_id)
             .join(PlageOuvertureMotif, col(PlageOuvertureMotif.plage_ouverture_id) == PlageOuverture.id)
             .join(Motif, col(Motif.id) == PlageOuvertureMotif.motif_id)
             .where(PlageOuverture.agent_id == Agent.id, col(PlageOuverture.created_at) <= at, open_motif,
                    running(PlageOuverture, col(PlageOuverture.first_day), day)))
    session = (on_rdv.join(Motif, col(Motif.id) == Rdv.motif_id)
               .where(col(Motif.collectif).is_(True), open_motif, col(Rdv.starts_at) > at,
                      sa.or_(col(Rdv.cancelled_at).is_(None), col(Rdv.cancelled_at) > at)))

    def flag(condition: Any) -> Any:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    row = uow.session.execute(
        sa.select(sa.func.count(), flag(accepted), flag(on_rdv.exists()), flag(recent.exists()),
                  flag(sa.or_(plage.exists(), session.exists())))
        .where(col(Agent.id).in_(_account_agents(territory_id, at)), col(Agent.created_at) <= at,
               sa.or_(col(Agent.deleted_at).is_(None), col(Agent.deleted_at) > at))).one()
    return AgentActivity(*(int(value) for value in row))


def _outlook_agents(uow: UnitOfWork, territory_id: int | None, now: datetime) -> int:
    """"Synchronisation Outlook": the agents of the scope whose Microsoft 365 connection holds a refresh token."""
    return uow.session.exec(select(sa.func.count()).select_from(OutlookConnection).join(
        Agent, col(Agent.id) == OutlookConnection.agent_id).where(
        col(OutlookConnection.refresh_token_sealed).is_not(None), col(Agent.deleted_at).is_(None),
        col(Agent.id).in_(_account_agents(territory_id, now)))).one()


_cache: dict[tuple[str, str, int | None, date], Any] = {}
_cache_lock = threading.Lock()
T = TypeVar("T")


def public_stats_of_the_day(territory_id: int | None, url: str | None = None) -> PublicStats:
    """`public_stats`, computed at most once a day per territory (see `_of_the_day`)."""
    return _of_the_day("stats", public_stats, territory_id, url)


def public_notifications_of_the_day(territory_id: int | None, url: str | None = None) -> PublicNotifications:
    """`public_notifications`, computed at most once a day per territory (see `_of_the_day`)."""
    return _of_the_day("notifications", public_notifications, territory_id, url)


def _of_the_day(page: str, compute: Callable[[UnitOfWork, int | None, date], T], territory_id: int | None,
                url: str | None) -> T:
    """A public page's figures, computed at most once a day per territory by this process and kept in its
    memory (no personal data, a few kilobytes per territory): keyed by the page, the database, the
    territory and the local day of the page's zone, so a new day computes anew and yesterday's entries
    are dropped."""
    url = url or database_url()
    zone = PUBLIC_ZONE
    if territory_id is not None:
        with UnitOfWork(url, read_only=True) as uow:
            found = uow.session.exec(select(Territory.timezone).where(Territory.id == territory_id)).first()
        if found is None:
            raise NotFound("Ce territoire n'existe pas.")
        zone = found
    today = clock.today(zone)
    key = (page, url, territory_id, today)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cast(T, cached)
    with UnitOfWork(url, read_only=True) as uow:
        computed = compute(uow, territory_id, today)
    with _cache_lock:
        for stale in [known for known in _cache if known[3] != today]:
            del _cache[stale]
        _cache[key] = computed
    return computed
