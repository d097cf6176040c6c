"""The signed-in agent's own preferences and identity, edited from "Mon compte".

Every write checks all its values first (a bad one raises DomainError with its form field and changes
nothing), then adds its audit row in the same transaction. A write that changes nothing leaves no row.
The preferences form carries the version it loaded (`preferences_version`): a save over other values than
those is refused (rdv_app.services.versions).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum

from rdv_app.db.models import Agent
from rdv_app.db.rows import require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain.colours import agent_colour, agent_colour_problem, normalised_colour
from rdv_app.domain.enums import NoticeLevel, RdvNotificationLevel
from rdv_app.services import audit, versions
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError, NotFound

ENTITY = "agent"


@dataclass(frozen=True)
class Preferences:
    rdv_notifications_level: str
    plage_ouverture_notification_level: str
    absence_notification_level: str
    display_saturdays: bool
    display_cancelled_rdv: bool


def _agent(uow: UnitOfWork, agent_id: int) -> Agent:
    agent = uow.session.get(Agent, agent_id)
    if agent is None or agent.deleted_at is not None:
        raise NotFound("Ce compte agent n'existe pas.")
    return agent


def _preferences_of(agent: Agent) -> Preferences:
    return Preferences(**{f.name: getattr(agent, f.name) for f in dataclasses.fields(Preferences)})


@boundary
def get_preferences(uow: UnitOfWork, agent_id: int) -> Preferences:
    return _preferences_of(_agent(uow, agent_id))


def preferences_version(preferences: Preferences) -> str:
    """The version a form showing these preferences gives back with its save."""
    return versions.version_of(dataclasses.asdict(preferences))


def _level(value: str, enum: type[StrEnum], field: str, message: str) -> str:
    if value not in {member.value for member in enum}:
        raise DomainError(message, field=field)
    return value


@boundary
def update_preferences(uow: UnitOfWork, agent_id: int, *, rdv_notifications_level: str,
                       plage_ouverture_notification_level: str, absence_notification_level: str,
                       display_saturdays: bool, display_cancelled_rdv: bool,
                       expected_version: str | None = None) -> Preferences:
    """Replaces the agent's notification and agenda display preferences; returns them as saved. A form
    gives the `expected_version` it loaded; other preferences stored since refuse the save."""
    agent = _agent(uow, agent_id)
    versions.lock(uow, agent)
    versions.check_version(expected_version, dataclasses.asdict(_preferences_of(agent)))
    wanted = Preferences(
        rdv_notifications_level=_level(rdv_notifications_level, RdvNotificationLevel, "rdv_notifications_level",
                                       "Choisissez les rendez-vous pour lesquels vous souhaitez être notifié."),
        plage_ouverture_notification_level=_level(
            plage_ouverture_notification_level, NoticeLevel, "plage_ouverture_notification_level",
            "Le choix des notifications de plages d'ouverture n'est pas valide."),
        absence_notification_level=_level(absence_notification_level, NoticeLevel, "absence_notification_level",
                                          "Le choix des notifications d'indisponibilités n'est pas valide."),
        display_saturdays=display_saturdays,
        display_cancelled_rdv=display_cancelled_rdv,
    )
    _save(uow, agent, "update_preferences", dataclasses.asdict(_preferences_of(agent)), dataclasses.asdict(wanted))
    return wanted


@boundary
def get_agenda_colour(uow: UnitOfWork, agent_id: int) -> str:
    """The colour of the agent's events in a team agenda: the one they chose, else the palette's."""
    agent = _agent(uow, agent_id)
    return agent_colour(require_id(agent), agent.agenda_colour)


@boundary
def update_agenda_colour(uow: UnitOfWork, agent_id: int, agenda_colour: str) -> str:
    """Sets the colour of the agent's events in a team agenda: one of the palette or their own, which must
    carry white text at 4.5:1 (rdv_app.domain.colours); returns it as saved ("#rrggbb")."""
    agent = _agent(uow, agent_id)
    problem = agent_colour_problem(agenda_colour)
    if problem is not None:
        raise DomainError(problem, field="agenda_colour")
    wanted = normalised_colour(agenda_colour)
    _save(uow, agent, "update_agenda_colour", {"agenda_colour": agent.agenda_colour}, {"agenda_colour": wanted})
    return agent_colour(agent_id, wanted)


def _save(uow: UnitOfWork, agent: Agent, action: str, before: dict, after: dict) -> None:
    changes = audit.diff(before, after)
    if not changes:
        return
    for name, value in after.items():
        setattr(agent, name, value)
    agent.updated_at = clock.now()
    uow.session.add(agent)
    audit.record(uow.session, action=action, entity_type=ENTITY, entity_id=require_id(agent),
                 changes=changes, actor_agent_id=agent.id)
    uow.commit()
