"""Booking and planning rules as small objects, composed by policies (LibreBooking's idea).

Each rule reads a `Proposal` (a time someone proposes for an RDV, with the facts the slot engine and
the service found about it) and returns its problems in French, or nothing. A policy composes rules
and gives their problems one severity: usagers booking online get errors (the slot is refused),
agents planning get warnings they may confirm ("Confirmer quand même"). The facts are computed once,
by the slot engine (`rdv_app.domain.slots.conflicts`), so occurrences of plages and absences are
expanded in one place only.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol


class Severity(StrEnum):
    WARNING = "warning"  # the agent may confirm
    ERROR = "error"  # refused


@dataclass(frozen=True, slots=True)
class Proposal:
    """A proposed time for an RDV and what is known of it."""

    starts_at: datetime
    ends_at: datetime
    now: datetime
    agents: Mapping[int, str]  # id -> name, in the order chosen
    booked_agents: frozenset[int] = frozenset()  # with another RDV meeting it, in any organisation
    absent_agents: frozenset[int] = frozenset()  # with an absence (indisponibilité) meeting it
    inside_opening: bool = True  # a plage d'ouverture of the agents, for the motif (and lieu), holds it whole
    on_holiday: bool = False  # a public holiday of the territory
    min_notice: timedelta = timedelta(0)  # the motif's minimum booking delay
    max_notice: timedelta | None = None  # the motif's maximum booking delay; None: none
    same_motif_same_day: tuple[str, ...] = field(default=())  # usagers already booked for the motif that day


@dataclass(frozen=True, slots=True)
class Verdict:
    rule: str
    message: str
    severity: Severity


class Rule(Protocol):
    def problems(self, proposal: Proposal) -> list[str]: ...


class NoRdvOverlap:
    """Another RDV of an agent at that time, in any organisation (never said which)."""

    def problems(self, proposal: Proposal) -> list[str]:
        return [f"{name} a déjà un RDV sur ce créneau."
                for agent_id, name in proposal.agents.items() if agent_id in proposal.booked_agents]


class NoAbsenceOverlap:
    def problems(self, proposal: Proposal) -> list[str]:
        return [f"{name} est indisponible (absence) sur ce créneau."
                for agent_id, name in proposal.agents.items() if agent_id in proposal.absent_agents]


class InsideOpening:
    def problems(self, proposal: Proposal) -> list[str]:
        if proposal.inside_opening:
            return []
        return ["Ce créneau est en dehors des plages d'ouverture des agents pour ce motif."]


class NotInThePast:
    def problems(self, proposal: Proposal) -> list[str]:
        return ["Ce RDV commence dans le passé."] if proposal.starts_at < proposal.now else []


class SameMotifSameDay:
    def problems(self, proposal: Proposal) -> list[str]:
        return [f"{name} a déjà un RDV pour ce motif ce jour-là." for name in proposal.same_motif_same_day]


class NotOnHoliday:
    def problems(self, proposal: Proposal) -> list[str]:
        return ["Ce jour est férié : il n'est pas ouvert à la réservation."] if proposal.on_holiday else []


class MinimumNotice:
    def problems(self, proposal: Proposal) -> list[str]:
        if proposal.starts_at >= proposal.now + proposal.min_notice:
            return []
        return ["Ce créneau est trop proche pour être réservé en ligne."]


class MaximumNotice:
    def problems(self, proposal: Proposal) -> list[str]:
        if proposal.max_notice is None or proposal.starts_at <= proposal.now + proposal.max_notice:
            return []
        return ["Ce créneau est trop lointain pour être réservé en ligne."]


@dataclass(frozen=True)
class Policy:
    """Rules applied in order, each problem with the policy's severity."""

    rules: tuple[Rule, ...]
    severity: Severity

    def verdicts(self, proposal: Proposal, *, only: Collection[type] | None = None) -> list[Verdict]:
        """The problems of `proposal`, from every rule or from the rules of the types in `only`."""
        return [Verdict(type(rule).__name__, message, self.severity)
                for rule in self.rules if only is None or type(rule) in only
                for message in rule.problems(proposal)]


# Agents plan over their colleagues' time knowingly: every problem is a warning they may confirm.
AGENT_POLICY = Policy((NoRdvOverlap(), NoAbsenceOverlap(), InsideOpening(), NotInThePast(), SameMotifSameDay()),
                      Severity.WARNING)
# Usagers book only what is offered: the same facts refuse the slot.
USAGER_POLICY = Policy((MinimumNotice(), MaximumNotice(), NotOnHoliday(), InsideOpening(), NoRdvOverlap(),
                        NoAbsenceOverlap()), Severity.ERROR)
