"""Test-data builders shared by the integration and bench tests, used as `make.agent(...)` after
`import factories as make`. Each builder (`territory`, `service`, `organisation`, `agent`, `lieu`, `motif`,
`usager`, `plage`, `rdv`, `absence`, `webhook`, `territorial_admin`, `access_right`, `team`) adds one row and its links to the session, flushes so the id is known, and returns it;
defaults are the usual PMI Arras world of the tests and every other column is passed as a keyword.
`insert_rows` bulk-inserts the benchmarks' large data sets; `at_paris` gives the stored UTC instant of a
Paris local time."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

from rdv_app.db.models import (
    Absence,
    Agent,
    AgentRole,
    AgentService,
    AgentTeam,
    AgentTerritorialAccessRight,
    AgentTerritorialRole,
    Lieu,
    Motif,
    Organisation,
    Participation,
    PlageOuverture,
    PlageOuvertureMotif,
    Rdv,
    RdvAgent,
    Service,
    Team,
    Territory,
    Usager,
    UsagerProfile,
    WebhookEndpoint,
)
from rdv_app.domain import clock
from rdv_app.domain.off_days import holidays_between

PARIS = ZoneInfo("Europe/Paris")
T = TypeVar("T")


def at_paris(day: date, hour: int, minute: int = 0) -> datetime:
    """The UTC instant of `day` at hour:minute in Paris, as stored."""
    return datetime.combine(day, time(hour, minute), PARIS).astimezone(UTC)


def quiet_monday(weeks_ahead: int = 1, departement_number: str = "62") -> date:
    """A Monday at least `weeks_ahead` weeks ahead (from the clock's today in Paris) whose week has no public
    holiday in the département: test data laid out on that week's days has slots whatever the year (a
    holiday gives none, and Easter Monday, Whit Monday or an Ascension Thursday fall on such weeks)."""
    today = clock.today("Europe/Paris")
    monday = today + timedelta(days=7 * weeks_ahead - today.weekday())
    holidays = holidays_between(departement_number, monday, monday + timedelta(days=7 * 8))
    while any(monday + timedelta(days=n) in holidays for n in range(7)):
        monday += timedelta(days=7)
    return monday


def _added(s: Session, row: T) -> T:
    s.add(row)
    s.flush()
    return row


def territory(s: Session, departement_number: str = "62", name: str = "Pas-de-Calais",
                   **fields: Any) -> Territory:
    return _added(s, Territory(departement_number=departement_number, name=name, **fields))


def service(s: Session, name: str = "Protection maternelle et infantile", short_name: str = "PMI",
                 **fields: Any) -> Service:
    return _added(s, Service(name=name, short_name=short_name, **fields))


def pmi_social_secretariat(s: Session) -> tuple[Service, Service, Service]:
    """The three services of a departement: PMI, the social service and the secrétariat."""
    return (service(s, "PMI"), service(s, "Service social", "SOCIAL"),
            service(s, "Secrétariat", "SEC", is_secretariat=True))


def organisation(s: Session, territory: Territory, name: str = "PMI Arras", slug: str = "pmi-arras",
                      **fields: Any) -> Organisation:
    return _added(s, Organisation(territory_id=territory.id, name=name, slug=slug, **fields))


def agent(s: Session, email: str, first_name: str | None, last_name: str, *,
               organisation: Organisation | None = None, role: str | None = None,
               services: Iterable[Service] = (), **fields: Any) -> Agent:
    """An agent, with a role in `organisation` when one is given (access level `role`, basic by default),
    and in each of `services`."""
    agent = _added(s, Agent(email=email, first_name=first_name, last_name=last_name, **fields))
    if organisation is not None:
        s.add(AgentRole(agent_id=agent.id, organisation_id=organisation.id,  # type: ignore[arg-type]
                        **({"access_level": role} if role else {})))
    s.add_all([AgentService(agent_id=agent.id, service_id=service.id)  # type: ignore[arg-type]
               for service in services])
    s.flush()
    return agent


def lieu(s: Session, organisation: Organisation, name: str = "Centre Arras",
              address: str = "1 rue A, 62000 Arras", **fields: Any) -> Lieu:
    return _added(s, Lieu(organisation_id=organisation.id, name=name, address=address, **fields))


def motif(s: Session, organisation: Organisation, service: Service, name: str = "Consultation",
               **fields: Any) -> Motif:
    return _added(s, Motif(organisation_id=organisation.id, service_id=service.id, name=name, **fields))


def usager(s: Session, first_name: str, last_name: str, *, organisations: Iterable[Organisation] = (),
                **fields: Any) -> Usager:
    """A usager, known (a profile) in each of `organisations`."""
    usager = _added(s, Usager(first_name=first_name, last_name=last_name, **fields))
    s.add_all([UsagerProfile(organisation_id=organisation.id, usager_id=usager.id)  # type: ignore[arg-type]
               for organisation in organisations])
    s.flush()
    return usager


def plage(s: Session, agent: Agent | int, organisation: Organisation | int, lieu: Lieu | int | None,
               motifs: Iterable[Motif | int], **fields: Any) -> PlageOuverture:
    """A plage d'ouverture of `agent` at `lieu`, open to `motifs`; rows or ids are accepted."""
    plage = _added(s, PlageOuverture(agent_id=_id(agent), organisation_id=_id(organisation),
                                     lieu_id=None if lieu is None else _id(lieu), **fields))
    s.add_all([PlageOuvertureMotif(plage_ouverture_id=plage.id, motif_id=_id(motif))  # type: ignore[arg-type]
               for motif in motifs])
    s.flush()
    return plage


def rdv(s: Session, organisation: Organisation | int, motif: Motif | int, starts_at: datetime, *,
        agents: Iterable[Agent | int], usagers: Iterable[Usager | int] = (), lieu: Lieu | int | None = None,
        duration_in_min: int = 30, **fields: Any) -> Rdv:
    """An individual RDV of `agents` with `usagers`, written as is (no rule, no event, no notification)."""
    usager_ids = [_id(usager) for usager in usagers]
    rdv = _added(s, Rdv(organisation_id=_id(organisation), motif_id=_id(motif),
                        lieu_id=None if lieu is None else _id(lieu), starts_at=starts_at,
                        ends_at=starts_at + timedelta(minutes=duration_in_min), users_count=len(usager_ids),
                        **fields))
    s.add_all([RdvAgent(rdv_id=rdv.id, agent_id=_id(agent)) for agent in agents])  # type: ignore[arg-type]
    s.add_all([Participation(rdv_id=rdv.id, usager_id=usager_id) for usager_id in usager_ids])  # type: ignore[arg-type]
    s.flush()
    return rdv


def absence(s: Session, agent: Agent | int, first_day: date, start_time: time = time(9),
            end_time: time = time(12), title: str = "Formation", **fields: Any) -> Absence:
    """A one-day absence (indisponibilité) of `agent`."""
    return _added(s, Absence(agent_id=_id(agent), title=title, first_day=first_day, start_time=start_time,
                             end_day=fields.pop("end_day", first_day), end_time=end_time, **fields))


def webhook(s: Session, organisation: Organisation | int, target_url: str = "https://sih.exemple.fr/rdv",
            secret: str = "whsec_test", **fields: Any) -> WebhookEndpoint:
    return _added(s, WebhookEndpoint(organisation_id=_id(organisation), target_url=target_url, secret=secret,
                                     **fields))


def territorial_admin(s: Session, agent: Agent | int, territory: Territory | int) -> AgentTerritorialRole:
    return _added(s, AgentTerritorialRole(agent_id=_id(agent), territory_id=_id(territory)))


def access_right(s: Session, agent: Agent | int, territory: Territory | int,
                 **rights: bool) -> AgentTerritorialAccessRight:
    """The agent's access-right row of the territory, with the `allow_to_...` flags given (False otherwise)."""
    return _added(s, AgentTerritorialAccessRight(agent_id=_id(agent), territory_id=_id(territory), **rights))


def team(s: Session, territory: Territory | int, name: str, members: Iterable[Agent | int] = ()) -> Team:
    """A team of the territory with these members."""
    team = _added(s, Team(territory_id=_id(territory), name=name))
    s.add_all([AgentTeam(agent_id=_id(agent), team_id=team.id) for agent in members])  # type: ignore[arg-type]
    s.flush()
    return team


def _id(row: Any) -> int:
    return row if isinstance(row, int) else row.id


def insert_rows(conn: sa.Connection, model: Any, rows: list[dict[str, Any]], *, ids: bool = False) -> list[int]:
    """One bulk insert, for the large data sets of the benchmarks; with `ids`, the new ids in the order of `rows`."""
    table = model.__table__
    if not ids:
        conn.execute(sa.insert(table), rows)
        return []
    statement = sa.insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(conn.execute(statement, rows).scalars())
