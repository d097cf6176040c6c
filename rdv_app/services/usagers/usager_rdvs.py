""""Mes rendez-vous": the RDVs of a signed-in usager and of their relatives, and their cancellation.

Rights: an usager sees the participations of themselves and of the relatives they are responsible for,
nobody else's, and never an RDV whose motif is invisible to usagers (domain.md, Motif: a child-protection
RDV stays out of the parent's space); any other participation id is "not found", so ids reveal nothing.

What each RDV shows, when it may be cancelled and when its date may be changed are exactly those of the "Infos et annulation" link
(rdv_app.services.usager_link): the same `summary`, and the same `cancel` (more than 4 hours before, the
motif allows it, "excusé" authored by the usager, agents notified by their preferences, an email to the
usager and no SMS).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.sql.expression import Select

from rdv_app.db.models import Motif, Participation, Rdv, Usager
from rdv_app.db.rows import not_null, require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain.enums import VisibilityType
from rdv_app.domain.names import usager_name
from rdv_app.notify.ics import IcsFile
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import NotFound
from rdv_app.services.online_booking.public_search import PublicWeek
from rdv_app.services.rdv import lifecycle
from rdv_app.services.rdv.lifecycle import RdvChange
from rdv_app.services.usagers import usager_link
from rdv_app.services.usagers.usager_link import MoveChoice, ParticipationRef, RdvSummary

# The most recent past RDVs shown; older ones stay in the organisations' records.
PAST_SHOWN = 20
NOT_FOUND = "Ce rendez-vous est introuvable depuis votre compte."


@dataclass(frozen=True)
class UsagerRdv:
    participation_id: int
    summary: RdvSummary  # `participants` names the relative the RDV is for; empty for the usager's own
    participant_id: int = 0


@dataclass(frozen=True)
class Person:
    """The usager or one of their relatives, whom an RDV may be for."""

    usager_id: int
    name: str


@dataclass(frozen=True)
class UsagerRdvs:
    upcoming: tuple[UsagerRdv, ...]  # soonest first
    past: tuple[UsagerRdv, ...]  # latest first


@boundary
def list_rdvs(uow: UnitOfWork, usager_id: int, *, now: datetime | None = None) -> UsagerRdvs:
    now = now or clock.now()
    _holder(uow, usager_id)
    mine = _participations(usager_id)
    upcoming = uow.session.exec(mine.where(Rdv.starts_at > now).order_by(col(Rdv.starts_at), col(Participation.id)))
    past = uow.session.exec(mine.where(Rdv.starts_at <= now)
                            .order_by(col(Rdv.starts_at).desc(), col(Participation.id).desc()).limit(PAST_SHOWN))
    return UsagerRdvs(upcoming=tuple(_shown(uow, row, now) for row in upcoming.all()),
                      past=tuple(_shown(uow, row, now) for row in past.all()))


@boundary
def people(uow: UnitOfWork, usager_id: int) -> list[Person]:
    """The usager, then their relatives by first name: whom their RDVs may be for."""
    holder = _holder(uow, usager_id)
    relatives = uow.session.exec(select(Usager).where(Usager.responsible_id == usager_id,
                                                      col(Usager.deleted_at).is_(None))
                                 .order_by(col(Usager.first_name), col(Usager.id))).all()
    return [Person(usager_id, usager_name(holder.first_name, holder.last_name))] + [
        Person(require_id(r), usager_name(r.first_name, r.last_name)) for r in relatives]


@boundary
def change_participant(uow: UnitOfWork, usager_id: int, participation_id: int, new_participant_id: int, *,
                       now: datetime | None = None) -> RdvChange | None:
    """Scenario 12 of RDV-SP: an RDV to come of the usager or of a relative becomes the RDV of another
    of them (`lifecycle.change_participant_by_usager`); commits. NotFound for anyone else's RDV."""
    _, rdv_id, participant_id = _row(uow, usager_id, participation_id)
    return lifecycle.change_participant_by_usager(uow, rdv_id, participant_id, new_participant_id=new_participant_id,
                                                  actor_usager_id=usager_id, now=now)


@boundary
def cancel(uow: UnitOfWork, usager_id: int, participation_id: int, *, now: datetime | None = None) -> RdvChange:
    """Cancels an RDV of the usager or of a relative with the link's rules and messages; commits.
    NotFound for anyone else's, DomainError when it can no longer be cancelled online."""
    row = _row(uow, usager_id, participation_id)
    return usager_link.cancel(uow, _ref(row), actor_usager_id=usager_id, now=now)


@boundary
def move_week(uow: UnitOfWork, usager_id: int, participation_id: int, from_day: date | None = None, *,
              now: datetime | None = None) -> PublicWeek:
    """"Changer la date": the week of slots for an RDV of the usager or of a relative (the link's
    `move_week`); NotFound for anyone else's, DomainError when its date cannot be changed online."""
    return usager_link.move_week(uow, _ref(_row(uow, usager_id, participation_id)), from_day, now=now)


@boundary
def move_choice(uow: UnitOfWork, usager_id: int, participation_id: int, starts_at: datetime | None, *,
                now: datetime | None = None) -> MoveChoice:
    return usager_link.move_choice(uow, _ref(_row(uow, usager_id, participation_id)), starts_at, now=now)


@boundary
def move(uow: UnitOfWork, usager_id: int, participation_id: int, *, starts_at: datetime, from_starts_at: datetime,
         now: datetime | None = None) -> RdvChange | None:
    """Moves an RDV of the usager or of a relative with the link's rules and messages; commits. None when
    this move was already done (a double click)."""
    row = _row(uow, usager_id, participation_id)
    return usager_link.move(uow, _ref(row), starts_at=starts_at, from_starts_at=from_starts_at,
                            actor_usager_id=usager_id, now=now)


@boundary
def calendar_file(uow: UnitOfWork, usager_id: int, rdv_id: int, *, now: datetime | None = None) -> IcsFile:
    """The .ics of an RDV of the usager or of a relative; NotFound for anyone else's."""
    _holder(uow, usager_id)
    row = uow.session.exec(_participations(usager_id).where(Participation.rdv_id == rdv_id)
                           .order_by(col(Participation.id))).first()
    if row is None:
        raise NotFound(NOT_FOUND)
    return usager_link.calendar_file(uow, _ref(row), now=now)


def _holder(uow: UnitOfWork, usager_id: int) -> Usager:
    usager = uow.session.get(Usager, usager_id)
    if usager is None or usager.deleted_at is not None:
        raise NotFound("Votre compte est introuvable. Reconnectez-vous.")
    return usager


def _participations(usager_id: int) -> Select[int, int, int]:
    """(participation id, RDV id, participant id) of the usager's and their relatives' participations."""
    return (select(not_null(Participation.id), Participation.rdv_id, Participation.usager_id)
            .join(Rdv, col(Rdv.id) == Participation.rdv_id)
            .join(Motif, col(Motif.id) == Rdv.motif_id)
            .join(Usager, col(Usager.id) == Participation.usager_id)
            .where(col(Usager.deleted_at).is_(None), Motif.visibility_type != VisibilityType.INVISIBLE.value,
                   sa.or_(col(Usager.id) == usager_id, col(Usager.responsible_id) == usager_id)))


def _row(uow: UnitOfWork, usager_id: int, participation_id: int) -> tuple[int, int, int]:
    _holder(uow, usager_id)
    row = uow.session.exec(_participations(usager_id).where(Participation.id == participation_id)).first()
    if row is None:
        raise NotFound(NOT_FOUND)
    return row


def _ref(row: tuple[int, int, int]) -> ParticipationRef:
    participation_id, rdv_id, usager_id = row
    return ParticipationRef(rdv_id=rdv_id, participation_id=participation_id, usager_id=usager_id)


def _shown(uow: UnitOfWork, row: tuple[int, int, int], now: datetime) -> UsagerRdv:
    ref = _ref(row)
    return UsagerRdv(participation_id=ref.participation_id, summary=usager_link.summary(uow, ref, now=now),
                     participant_id=ref.usager_id)
