"""Collective sessions on the public booking pages (domain.md sections 2.2 and 6.3): for a collective
motif there is no slot computation; usagers choose among the motif's sessions at the lieu that are still
open to booking (not cancelled, a seat left, starting inside the motif's booking window), soonest first.
The seat itself is taken by `lifecycle.book_seat`, which checks all of it again under the lock.

With the usager's address (a sectorised territory), a motif sectorised by agent offers only the sessions
its sectors' agents lead, like the plages of individual motifs (domain.md section 2.2); the motifs
sectorised by organisation are kept out of the search before (services.organisation.sectors)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from rdv_app.db.models import Lieu, Motif, Organisation, Rdv, RdvAgent
from rdv_app.db.rows import require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, collectifs, datefmt
from rdv_app.domain.enums import CANCELLED_STATUSES, LieuAvailability
from rdv_app.domain.sectorisation import SectorAddress
from rdv_app.services.boundary import boundary
from rdv_app.services.organisation import sectors

_CANCELLED = [s.value for s in CANCELLED_STATUSES]
SHOWN = 50


@dataclass(frozen=True)
class OpenSession:
    rdv_id: int
    motif_id: int
    lieu_id: int | None
    starts_at: datetime
    label: str  # "lundi 7 décembre 2026 à 14h00", in the organisation's time zone
    name: str
    seats: str  # "2 places restantes"


def _candidates() -> sa.ColumnElement[bool]:
    """What SQL can tell: to come (after `:now`), not cancelled, a seat left; the motif's delays are checked
    after."""
    return sa.and_(col(Rdv.starts_at) > sa.bindparam("now"), col(Rdv.status).not_in(_CANCELLED),
                   sa.or_(col(Rdv.max_participants_count).is_(None),
                          col(Rdv.users_count) < col(Rdv.max_participants_count)))


def _open(rows: list[tuple[Rdv, Motif, str]], now: datetime) -> list[OpenSession]:
    found = []
    for rdv, motif, time_zone in rows:
        if collectifs.open_to_usagers(
                status=rdv.status, starts_at=rdv.starts_at, users_count=rdv.users_count,
                max_participants_count=rdv.max_participants_count, now=now,
                window=collectifs.BookingWindow(motif.min_public_booking_delay, motif.max_public_booking_delay)):
            found.append(OpenSession(rdv_id=require_id(rdv), motif_id=rdv.motif_id, lieu_id=rdv.lieu_id,
                                     starts_at=rdv.starts_at, label=datefmt.long_datetime(rdv.starts_at, time_zone),
                                     name=rdv.name or motif.name,
                                     seats=collectifs.seats_label(rdv.users_count, rdv.max_participants_count)))
    return found


@cache
def _query():  # type: ignore[no-untyped-def]  # sqlmodel's select() of 3 entities
    """The sessions still open to booking after `:now`, soonest first; built once (the public pages ask it at
    each load), executed with `_rows`."""
    return (select(Rdv, Motif, Organisation.timezone).join(Motif, col(Motif.id) == Rdv.motif_id)
            .join(Organisation, col(Organisation.id) == Rdv.organisation_id)
            .join(Lieu, col(Lieu.id) == Rdv.lieu_id)
            .where(_candidates(), col(Motif.collectif).is_(True), col(Motif.deleted_at).is_(None),
                   col(Lieu.availability) == LieuAvailability.ENABLED.value)
            .order_by(col(Rdv.starts_at), col(Rdv.id)))


def _rows(uow: UnitOfWork, query: Any, now: datetime,
          params: Mapping[str, Any] | None = None) -> list[tuple[Rdv, Motif, str]]:
    return list(uow.session.exec(query, params={"now": now, **(params or {})}).all())


def led_by(agent_ids: frozenset[int] | None) -> sa.ColumnElement[bool]:
    """Sessions one of these agents leads; any session when None (no sector restriction)."""
    if agent_ids is None:
        return sa.true()
    return col(Rdv.id).in_(select(RdvAgent.rdv_id).where(col(RdvAgent.agent_id).in_(list(agent_ids))))


def sector_agents(uow: UnitOfWork, motif_id: int, sector: SectorAddress | None) -> frozenset[int] | None:
    """The agents whose sessions a motif may offer at the usager's address; None: any agent."""
    if sector is None:
        return None
    motif = uow.session.get(Motif, motif_id)
    organisation = uow.session.get(Organisation, motif.organisation_id) if motif is not None else None
    if motif is None or organisation is None:
        return frozenset()
    return sectors.address_coverage(uow, organisation.territory_id, sector).agents_for(
        motif.sectorisation_level, motif.organisation_id)


@boundary
def open_sessions(uow: UnitOfWork, motif_id: int, lieu_id: int | None, *,
                  now: datetime | None = None, sector: SectorAddress | None = None) -> list[OpenSession]:
    """The motif's sessions at the lieu that an usager (at this address) may book now, soonest first."""
    now = now or clock.now()
    query = _query().where(Rdv.motif_id == motif_id, led_by(sector_agents(uow, motif_id, sector)))
    if lieu_id is not None:
        query = query.where(Rdv.lieu_id == lieu_id)
    return _open(_rows(uow, query, now), now)[:SHOWN]


@boundary
def open_session(uow: UnitOfWork, motif_id: int, rdv_id: int, now: datetime | None = None,
                 sector: SectorAddress | None = None) -> OpenSession | None:
    """One session of the motif, if an usager (at this address) may book it now."""
    now = now or clock.now()
    return next(iter(_open(_rows(uow, _query().where(
        Rdv.motif_id == motif_id, Rdv.id == rdv_id, led_by(sector_agents(uow, motif_id, sector))), now), now)), None)


def motifs_with_open_sessions(uow: UnitOfWork, condition: sa.ColumnElement[bool], now: datetime) -> list[Motif]:
    """Collective motifs matching `condition` that have a session an usager may book now."""
    return motifs_of_open_sessions(uow, sessions_where(condition), now)


def sessions_where(condition: sa.ColumnElement[bool]):  # type: ignore[no-untyped-def]  # as `_query`
    """The statement of `motifs_of_open_sessions` for the motifs matching `condition`, to build once when
    `condition` has bound parameters of its own."""
    return _query().where(condition)


def motifs_of_open_sessions(uow: UnitOfWork, query: Any, now: datetime,
                            params: Mapping[str, Any] | None = None) -> list[Motif]:
    """`motifs_with_open_sessions` of a statement of `sessions_where`, with its condition's `params`."""
    rows = _rows(uow, query, now, params)
    ids = {s.motif_id for s in _open(rows, now)}
    motifs: dict[int, Motif] = {}
    for _, motif, _ in rows:
        motifs.setdefault(require_id(motif), motif)
    return [motif for motif_id, motif in motifs.items() if motif_id in ids]


def next_sessions_by_lieu(uow: UnitOfWork, motif_id: int, now: datetime,
                          agent_ids: frozenset[int] | None = None) -> dict[int, OpenSession]:
    """Each lieu's next open session of the motif (led by one of `agent_ids`, when given)."""
    found: dict[int, OpenSession] = {}
    for session in _open(_rows(uow, _query().where(Rdv.motif_id == motif_id, led_by(agent_ids)), now), now):
        if session.lieu_id is not None:
            found.setdefault(session.lieu_id, session)
    return found
