"""Planning and following RDVs at the service level, on SQLite and PostgreSQL: warnings, duplicates,
statuses, history, calendar events, and the rights and tenancy of every entry point."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import factories as make
import pytest
import sqlalchemy as sa
from factories import at_paris
from sqlmodel import SQLModel, select

from rdv_app.db.models import (
    Absence,
    AgentRole,
    AuditLog,
    Lieu,
    Participation,
    Rdv,
    RdvAgent,
    UsagerProfile,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.enums import NotificationEvent
from rdv_app.services.availability import creneaux
from rdv_app.services.errors import DomainError, NeedsConfirmation, NotFound, PermissionDenied
from rdv_app.services.organisation import admin_lieux
from rdv_app.services.organisation.admin_lieux import SingleUseLieu
from rdv_app.services.rdv import lifecycle, queries, rdv_planning

MONDAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # the Friday before


NINE = at_paris(MONDAY, 9)


@dataclass
class World:
    org: int
    other_org: int
    far_org: int
    admin: int
    basic_pmi: int
    colleague_pmi: int
    basic_social: int
    secretary: int
    outsider: int
    motif_pmi: int
    motif_social: int
    motif_phone: int
    motif_other: int
    lieu_a: int
    lieu_b: int
    lieu_closed: int
    lieu_other: int
    jeanne: int
    paul: int
    lena: int  # known only by the other organisation of the territory
    far: int  # known only in another territory


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    s = uow.session
    territory, far_territory = make.territory(s), make.territory(s, "59", "Nord")
    pmi, social, secretariat = make.pmi_social_secretariat(s)
    org = make.organisation(s, territory)
    other = make.organisation(s, territory, "MDS Lens", "mds-lens")
    far = make.organisation(s, far_territory, "PMI Lille", "pmi-lille")
    people = {key: make.agent(s, f"{key}@demo.test", first, last, organisation=home, role=role, services=services)
              for key, first, last, home, role, services in [
                  ("admin", "Camille", "Martin", org, "admin", [pmi]),
                  ("basic_pmi", "Julien", "Petit", org, None, [pmi]),
                  ("colleague_pmi", "Inès", "Roux", org, None, [pmi, social]),
                  ("basic_social", "Karim", "Haddad", org, None, [social]),
                  ("secretary", "Sofia", "Leroy", org, None, [secretariat]),
                  ("outsider", "Marc", "Blanc", other, "admin", [pmi])]}
    ids = {key: agent.id for key, agent in people.items()}
    s.add(AgentRole(agent_id=ids["basic_pmi"], organisation_id=other.id))
    lieux = [make.lieu(s, org), make.lieu(s, org, "Antenne Dainville", "2 rue B, 62000 Dainville"),
             make.lieu(s, org, "Ancien centre", "3 rue C", availability="disabled"),
             make.lieu(s, other, "MDS Lens", "4 rue D, 62300 Lens")]
    motifs = [make.motif(s, org, pmi, color="#aa3377"), make.motif(s, org, social, "Entretien social", color="#117733"),
              make.motif(s, org, pmi, "Rappel", location_type="phone", visibility_type="visible_and_not_notified"),
              make.motif(s, other, pmi, "Consultation Lens", color="#332288")]
    usagers = [make.usager(s, "Jeanne", "Dupont", email="jeanne@example.fr", organisations=[org]),
               make.usager(s, "Paul", "Durand", phone_number="0612345678", organisations=[org]),
               make.usager(s, "Léna", "Morel", organisations=[other]),
               make.usager(s, "Hugo", "Nord", organisations=[far])]
    make.plage(s, ids["basic_pmi"], org, lieux[0], [motifs[0]], title="Permanence", first_day=MONDAY,
               start_time=time(9), end_time=time(12), recurrence={"every": "week", "on": ["monday", "tuesday"]})
    uow.commit()
    return World(org.id, other.id, far.id, ids["admin"], ids["basic_pmi"], ids["colleague_pmi"],
                 ids["basic_social"], ids["secretary"], ids["outsider"], *(m.id for m in motifs),
                 *(lieu.id for lieu in lieux), *(u.id for u in usagers))


def _plan(uow: UnitOfWork, world: World, **overrides: Any) -> int:
    values: dict[str, Any] = dict(motif_id=world.motif_pmi, starts_at=NINE, duration_in_min=30,
                                  agent_ids=[world.basic_pmi], lieu_id=world.lieu_a,
                                  usager_ids=[world.jeanne, world.paul], now=NOW)
    actor = overrides.pop("actor", world.admin)
    organisation = overrides.pop("organisation", world.org)
    values.update(overrides)
    return lifecycle.plan_rdv(uow, actor, organisation, **values)


def _foreign_rdv(uow: UnitOfWork, world: World, agent: int, start: datetime, *, status: str = "unknown",
                 minutes: int = 30) -> int:
    """An RDV of the other organisation, written directly."""
    rdv = Rdv(organisation_id=world.other_org, motif_id=world.motif_other, lieu_id=world.lieu_other,
              starts_at=start, ends_at=start + timedelta(minutes=minutes), status=status,
              cancelled_at=start if status in ("excused", "revoked", "noshow") else None, name="Atelier Lens")
    uow.session.add(rdv)
    uow.session.flush()
    uow.session.add_all([RdvAgent(rdv_id=rdv.id, agent_id=agent),
                         Participation(rdv_id=rdv.id, usager_id=world.lena)])
    uow.commit()
    return rdv.id  # type: ignore[return-value]


def _snapshot(uow: UnitOfWork) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, read from the database (not from the session's objects)."""
    tables = ("rdv", "rdv_agent", "participation", "usager", "usager_profile", "audit_log")
    result = {}
    for table in SQLModel.metadata.sorted_tables:
        if table.name in tables:
            result[table.name] = sorted(tuple(map(str, row)) for row in uow.session.execute(sa.select(table)))
    return result


def _rdv_row(uow: UnitOfWork, rdv_id: int) -> Any:
    return uow.session.execute(sa.select(Rdv.__table__).where(Rdv.__table__.c.id == rdv_id)).one()


def _participation_statuses(uow: UnitOfWork, rdv_id: int) -> dict[int, str]:
    table = Participation.__table__
    return dict(uow.session.execute(sa.select(table.c.usager_id, table.c.status)
                                    .where(table.c.rdv_id == rdv_id)).all())


# --------------------------------------------------------------------------- planning


def test_planning_for_two_usagers(uow: UnitOfWork, world: World) -> None:
    rdv_id = _plan(uow, world, notify={world.paul: (False, True)}, context="  Premier rendez-vous  ")
    row = _rdv_row(uow, rdv_id)
    assert (row.organisation_id, row.motif_id, row.lieu_id, row.status, row.users_count) == (
        world.org, world.motif_pmi, world.lieu_a, "unknown", 2)
    assert row.starts_at.replace(tzinfo=UTC) == NINE and row.ends_at.replace(tzinfo=UTC) == NINE + timedelta(minutes=30)
    assert (row.created_by_type, row.created_by_agent_id, row.context) == ("agent", world.admin, "Premier rendez-vous")
    assert uow.session.exec(select(RdvAgent.agent_id).where(RdvAgent.rdv_id == rdv_id)).all() == [world.basic_pmi]
    flags = {p.usager_id: (p.send_lifecycle_notifications, p.send_reminder_notification, p.created_by_agent_id)
             for p in uow.session.exec(select(Participation).where(Participation.rdv_id == rdv_id)).all()}
    assert flags == {world.jeanne: (True, True, world.admin), world.paul: (False, True, world.admin)}

    details = queries.get_rdv(uow, world.admin, world.org, rdv_id, now=NOW)
    assert [(p.name, p.send_lifecycle_notifications, p.send_reminder_notification, p.status_label)
            for p in details.participants] == [("Jeanne DUPONT", True, True, "À venir"),
                                               ("Paul DURAND", False, True, "À venir")]
    assert (details.day, details.time, details.duration_in_min) == ("lundi 7 décembre 2026", "09h00", 30)
    assert (details.lieu, details.motif_colour, details.service_name) == ("Centre Arras", "#aa3377", "PMI")
    assert [a.name for a in details.agents] == ["Julien Petit"]
    assert (details.status_label, details.created_by) == ("À venir", "Camille Martin")
    assert [value for value, _ in details.status_choices] == ["unknown", "seen", "excused", "revoked", "noshow"]
    events = queries.list_rdvs_for_calendar(uow, world.admin, world.org, [world.basic_pmi], at_paris(MONDAY, 0),
                                         at_paris(MONDAY, 23), now=NOW)
    assert [(e.rdv_id, e.usagers, e.colour) for e in events] == [
        (rdv_id, ("Jeanne DUPONT", "Paul DURAND"), "#aa3377")]


def test_notification_defaults_follow_the_motif_visibility(uow: UnitOfWork, world: World) -> None:
    rdv_id = _plan(uow, world, motif_id=world.motif_phone, lieu_id=None, usager_ids=[world.jeanne],
                   confirm_warnings=True)
    participation = uow.session.exec(select(Participation).where(Participation.rdv_id == rdv_id)).one()
    assert (participation.send_lifecycle_notifications, participation.send_reminder_notification) == (False, False)
    assert queries.get_rdv(uow, world.admin, world.org, rdv_id, now=NOW).lieu == "Par téléphone"


def test_an_usager_of_another_organisation_joins_this_one(uow: UnitOfWork, world: World) -> None:
    rdv_id = _plan(uow, world, usager_ids=[world.lena])
    profiles = uow.session.exec(select(UsagerProfile.organisation_id).where(UsagerProfile.usager_id == world.lena)).all()
    assert sorted(profiles) == sorted([world.org, world.other_org])
    added = uow.session.exec(select(AuditLog).where(AuditLog.entity_type == "usager",
                                                    AuditLog.action == "profile_added")).one()
    assert (added.entity_id, added.organisation_id, added.actor_agent_id) == (str(world.lena), world.org, world.admin)
    assert queries.get_rdv(uow, world.admin, world.org, rdv_id, now=NOW).participants[0].name == "Léna MOREL"


def _busy_elsewhere(uow: UnitOfWork, world: World) -> dict[str, Any]:
    _foreign_rdv(uow, world, world.basic_pmi, NINE + timedelta(minutes=15))
    return {}


def _absent(uow: UnitOfWork, world: World) -> dict[str, Any]:
    uow.session.add(Absence(agent_id=world.basic_pmi, title="Formation", first_day=MONDAY, start_time=time(8),
                            end_day=MONDAY, end_time=time(9, 10)))
    uow.commit()
    return {}


def _jeanne_already_booked(uow: UnitOfWork, world: World) -> dict[str, Any]:
    _plan(uow, world, usager_ids=[world.jeanne], agent_ids=[world.admin], starts_at=at_paris(MONDAY, 16),
          confirm_warnings=True)
    return {}


OUTSIDE = "Ce créneau est en dehors des plages d'ouverture des agents pour ce motif."
WARNING_CASES: dict[str, tuple[Callable[[UnitOfWork, World], dict[str, Any]], str]] = {
    "overlap elsewhere": (_busy_elsewhere, "Julien Petit a déjà un RDV sur ce créneau."),
    "absence": (_absent, "Julien Petit est indisponible (absence) sur ce créneau."),
    "outside plages": (lambda uow, w: {"starts_at": at_paris(MONDAY, 11, 45)}, OUTSIDE),
    "other lieu than the plage": (lambda uow, w: {"lieu_id": w.lieu_b}, OUTSIDE),
    "past": (lambda uow, w: {"now": NINE + timedelta(minutes=5)}, "Ce RDV commence dans le passé."),
    "same motif same day": (_jeanne_already_booked, "Jeanne DUPONT a déjà un RDV pour ce motif ce jour-là."),
}


@pytest.mark.parametrize("case", list(WARNING_CASES))
def test_each_warning_then_confirm(uow: UnitOfWork, world: World, case: str) -> None:
    arrange, expected = WARNING_CASES[case]
    overrides = arrange(uow, world)
    before = _snapshot(uow)
    with pytest.raises(NeedsConfirmation) as caught:
        _plan(uow, world, **overrides)
    assert caught.value.warnings == [expected]
    assert _snapshot(uow) == before
    rdv_id = _plan(uow, world, confirm_warnings=True, **overrides)
    assert _rdv_row(uow, rdv_id).status == "unknown"


def test_cancelled_rdvs_raise_no_warning(uow: UnitOfWork, world: World) -> None:
    _foreign_rdv(uow, world, world.basic_pmi, NINE, status="revoked")
    earlier = _plan(uow, world, usager_ids=[world.jeanne], starts_at=at_paris(MONDAY, 10))
    lifecycle.cancel_rdv(uow, world.admin, world.org, earlier, excused=True, now=NOW)
    assert _plan(uow, world) > earlier


def test_an_exact_duplicate_is_refused_even_when_confirmed(uow: UnitOfWork, world: World) -> None:
    first = _plan(uow, world)
    before = _snapshot(uow)
    with pytest.raises(DomainError, match="identique") as caught:
        _plan(uow, world, usager_ids=[world.paul, world.jeanne], confirm_warnings=True)
    assert not isinstance(caught.value, NeedsConfirmation)
    assert _snapshot(uow) == before
    # Other participants: only warnings; a cancelled twin is no duplicate.
    with pytest.raises(NeedsConfirmation):
        _plan(uow, world, usager_ids=[world.jeanne])
    lifecycle.cancel_rdv(uow, world.admin, world.org, first, now=NOW)
    assert _plan(uow, world) != first


def test_an_rdv_at_a_single_use_lieu(uow: UnitOfWork, world: World) -> None:
    def lieux() -> list[tuple[str, str, str]]:
        return sorted(uow.session.exec(select(Lieu.name, Lieu.address, Lieu.availability)
                                       .where(Lieu.organisation_id == world.org)).all())

    known = lieux()
    before = _snapshot(uow)
    for blank, field in ((SingleUseLieu("  ", "5 rue E, 62000 Arras"), "single_use_name"),
                         (SingleUseLieu("Salle des fêtes", " "), "single_use_address")):
        with pytest.raises(DomainError) as refused:
            _plan(uow, world, lieu_id=None, single_use_lieu=blank)
        assert refused.value.field == field
    # The warnings come first (no plage there): nothing is written until the agent confirms.
    with pytest.raises(NeedsConfirmation):
        _plan(uow, world, lieu_id=None, starts_at=at_paris(MONDAY, 14),
              single_use_lieu=SingleUseLieu(" Salle des fêtes ", "5 rue E,  62000 Arras"))
    assert _snapshot(uow) == before and lieux() == known

    rdv_id = _plan(uow, world, lieu_id=None, starts_at=at_paris(MONDAY, 14), confirm_warnings=True,
                   single_use_lieu=SingleUseLieu(" Salle des fêtes ", "5 rue E,  62000 Arras"))
    lieu = uow.session.get(Lieu, _rdv_row(uow, rdv_id).lieu_id)
    assert (lieu.organisation_id, lieu.name, lieu.address, lieu.availability) == (
        world.org, "Salle des fêtes", "5 rue E, 62000 Arras", "single_use")
    assert queries.get_rdv(uow, world.admin, world.org, rdv_id, now=NOW).where == (
        "Salle des fêtes (lieu ponctuel)", "5 rue E, 62000 Arras")
    # Not one of the organisation's lieux: the admins' list, the search and the planning form leave it out.
    assert "Salle des fêtes" not in [v.name for v in admin_lieux.list_lieux(uow, world.admin, world.org)]
    assert "Salle des fêtes" not in [c.label for c in creneaux.search_options(uow, world.admin, world.org).lieux]
    draft = rdv_planning.draft(uow, world.admin, world.org, motif_id=world.motif_pmi)
    assert "Salle des fêtes" not in [c.label for c in draft.lieux]
    # And no other RDV may be planned there: it is this RDV's.
    with pytest.raises(DomainError) as refused:
        _plan(uow, world, lieu_id=lieu.id, starts_at=at_paris(MONDAY, 16), confirm_warnings=True)
    assert refused.value.field == "lieu_id"


@pytest.mark.parametrize(("overrides", "field"), [
    ({"agent_ids": []}, "agent_ids"),
    ({"usager_ids": []}, "usager_ids"),
    ({"lieu_id": None}, "lieu_id"),
    ({"lieu_id": "closed"}, "lieu_id"),
    ({"motif_id": "phone"}, "lieu_id"),
    ({"duration_in_min": 0}, "duration_in_min"),
    ({"duration_in_min": 24 * 60 + 1}, "duration_in_min"),
    ({"starts_at": datetime(2026, 12, 7, 9, 0)}, "starts_at"),
    ({"notify": {"stranger": (True, True)}}, "notify"),
])
def test_bad_input_gets_a_field_error_and_changes_nothing(uow: UnitOfWork, world: World,
                                                          overrides: dict[str, Any], field: str) -> None:
    replacements = {"closed": world.lieu_closed, "phone": world.motif_phone}
    overrides = {k: replacements.get(v, v) if isinstance(v, str) else v for k, v in overrides.items()}
    if "notify" in overrides:
        overrides["notify"] = {world.lena: (True, True)}
    before = _snapshot(uow)
    with pytest.raises(DomainError) as caught:
        _plan(uow, world, **overrides)
    assert caught.value.field == field
    assert _snapshot(uow) == before


# --------------------------------------------------------------------------- statuses


def test_rdv_status_propagates_to_participations_with_cancelled_at(uow: UnitOfWork, world: World) -> None:
    rdv_id = _plan(uow, world)
    lifecycle.change_participation_status(uow, world.admin, world.org, rdv_id, world.paul, "excused", now=NOW)
    later = NOW + timedelta(hours=1)
    change = lifecycle.change_status(uow, world.admin, world.org, rdv_id, "revoked", now=later)
    row = _rdv_row(uow, rdv_id)
    assert (row.status, row.cancelled_at.replace(tzinfo=UTC), row.users_count) == ("revoked", later, 0)
    # Paul had excused himself: he stays excused, and only Jeanne is told of the cancellation.
    assert _participation_statuses(uow, rdv_id) == {world.jeanne: "revoked", world.paul: "excused"}
    assert change is not None and change.event == NotificationEvent.RDV_CANCELLED
    assert change.usager_ids == (world.jeanne,) and change.new_agent_ids == (world.basic_pmi,)

    reset = lifecycle.change_status(uow, world.admin, world.org, rdv_id, "unknown", now=later)
    row = _rdv_row(uow, rdv_id)
    assert (row.status, row.cancelled_at, row.users_count) == ("unknown", None, 2)
    assert _participation_statuses(uow, rdv_id) == {world.jeanne: "unknown", world.paul: "unknown"}
    assert reset is not None and reset.event == NotificationEvent.RDV_CREATED
    assert set(reset.usager_ids) == {world.jeanne, world.paul}

    # The RDV has not begun yet at `later`: the agent confirms (see the next test).
    assert lifecycle.change_status(uow, world.admin, world.org, rdv_id, "seen", confirm_warnings=True,
                                   now=later) is None
    assert _participation_statuses(uow, rdv_id) == {world.jeanne: "seen", world.paul: "seen"}
    assert _rdv_row(uow, rdv_id).cancelled_at is None
    lifecycle.change_status(uow, world.admin, world.org, rdv_id, "noshow", confirm_warnings=True, now=later)
    row = _rdv_row(uow, rdv_id)
    assert (row.status, row.cancelled_at.replace(tzinfo=UTC)) == ("noshow", later)
    assert _participation_statuses(uow, rdv_id) == {world.jeanne: "seen", world.paul: "seen"}


def test_participations_move_the_rdv_status(uow: UnitOfWork, world: World) -> None:
    rdv_id = _plan(uow, world)
    first = lifecycle.change_participation_status(uow, world.admin, world.org, rdv_id, world.jeanne, "excused", now=NOW)
    assert first is not None and first.event == NotificationEvent.RDV_CANCELLED and first.usager_ids == (world.jeanne,)
    assert (_rdv_row(uow, rdv_id).status, _rdv_row(uow, rdv_id).cancelled_at) == ("unknown", None)
    lifecycle.change_participation_status(uow, world.admin, world.org, rdv_id, world.paul, "excused", now=NOW)
    row = _rdv_row(uow, rdv_id)
    assert (row.status, row.cancelled_at.replace(tzinfo=UTC), row.users_count) == ("excused", NOW, 0)
    lifecycle.change_participation_status(uow, world.admin, world.org, rdv_id, world.paul, "seen", now=NOW)
    row = _rdv_row(uow, rdv_id)
    assert (row.status, row.cancelled_at, row.users_count) == ("seen", None, 1)
    with pytest.raises(DomainError, match="ne participe pas"):
        lifecycle.change_participation_status(uow, world.admin, world.org, rdv_id, world.lena, "seen", now=NOW)


def test_cancel_by_the_service_or_excused(uow: UnitOfWork, world: World) -> None:
    revoked = _plan(uow, world)
    excused = _plan(uow, world, starts_at=at_paris(MONDAY, 10), usager_ids=[world.lena], confirm_warnings=True)
    sequence = _rdv_row(uow, revoked).ics_sequence
    change = lifecycle.cancel_rdv(uow, world.admin, world.org, revoked, now=NOW)
    assert change is not None and change.status == "revoked"
    assert _rdv_row(uow, revoked).ics_sequence == sequence + 1
    lifecycle.cancel_rdv(uow, world.admin, world.org, excused, excused=True, now=NOW)
    assert (_rdv_row(uow, revoked).status, _rdv_row(uow, excused).status) == ("revoked", "excused")
    before = _snapshot(uow)
    with pytest.raises(DomainError, match="déjà annulé"):
        lifecycle.cancel_rdv(uow, world.admin, world.org, revoked, excused=True, now=NOW)
    with pytest.raises(DomainError, match="n'existe pas"):
        lifecycle.change_status(uow, world.admin, world.org, revoked, "annule", now=NOW)
    assert _snapshot(uow) == before


# --------------------------------------------------------------------------- editing and history


def test_update_time_lieu_and_agents(uow: UnitOfWork, world: World) -> None:
    rdv_id = _plan(uow, world)
    moved = lifecycle.update_rdv(uow, world.admin, world.org, rdv_id, starts_at=at_paris(MONDAY, 10), duration_in_min=45,
                            lieu_id=world.lieu_a, agent_ids=[world.basic_pmi], now=NOW)
    assert moved is not None and moved.event == NotificationEvent.RDV_UPDATED
    assert (moved.time_or_lieu_changed, moved.old_starts_at, moved.starts_at) == (True, NINE, at_paris(MONDAY, 10))
    row = _rdv_row(uow, rdv_id)
    assert (row.ics_sequence, row.ends_at.replace(tzinfo=UTC)) == (1, at_paris(MONDAY, 10, 45))

    # Only the agents change: no new calendar version, and usagers have nothing to hear.
    swapped = lifecycle.update_rdv(uow, world.admin, world.org, rdv_id, starts_at=at_paris(MONDAY, 10), duration_in_min=45,
                              lieu_id=world.lieu_a, agent_ids=[world.colleague_pmi], confirm_warnings=True, now=NOW)
    assert swapped is not None and not swapped.time_or_lieu_changed
    assert (swapped.old_agent_ids, swapped.new_agent_ids) == ((world.basic_pmi,), (world.colleague_pmi,))
    assert _rdv_row(uow, rdv_id).ics_sequence == 1
    assert uow.session.exec(select(RdvAgent.agent_id).where(RdvAgent.rdv_id == rdv_id)).all() == [world.colleague_pmi]

    assert lifecycle.update_rdv(uow, world.admin, world.org, rdv_id, starts_at=at_paris(MONDAY, 10), duration_in_min=45,
                           lieu_id=world.lieu_a, agent_ids=[world.colleague_pmi], now=NOW) is None


def test_an_rdv_is_moved_to_a_new_lieu_ponctuel_only_once_its_checks_pass(uow: UnitOfWork, world: World) -> None:
    """RDV-SP's agent_can_update_rdv: an RDV edited to take place at an address typed for it alone."""
    rdv_id = _plan(uow, world)
    before = _snapshot(uow)
    place = SingleUseLieu(" Salle des fêtes ", "5 rue E,  62000 Arras")
    with pytest.raises(DomainError) as refused:
        lifecycle.update_rdv(uow, world.admin, world.org, rdv_id, starts_at=NINE, duration_in_min=30, lieu_id=None,
                             agent_ids=[world.basic_pmi], single_use_lieu=SingleUseLieu("Salle", " "), now=NOW)
    assert refused.value.field == "single_use_address"
    with pytest.raises(NeedsConfirmation):  # 14 h: outside the agent's plage, warned before anything is written
        lifecycle.update_rdv(uow, world.admin, world.org, rdv_id, starts_at=at_paris(MONDAY, 14), duration_in_min=30,
                             lieu_id=None, agent_ids=[world.basic_pmi], single_use_lieu=place, now=NOW)
    assert _snapshot(uow) == before

    moved = lifecycle.update_rdv(uow, world.admin, world.org, rdv_id, starts_at=at_paris(MONDAY, 14),
                                 duration_in_min=30, lieu_id=None, agent_ids=[world.basic_pmi], single_use_lieu=place,
                                 confirm_warnings=True, now=NOW)
    assert moved is not None and moved.time_or_lieu_changed
    lieu = uow.session.get(Lieu, _rdv_row(uow, rdv_id).lieu_id)
    assert (lieu.name, lieu.address, lieu.availability) == ("Salle des fêtes", "5 rue E, 62000 Arras", "single_use")
    assert queries.get_rdv(uow, world.admin, world.org, rdv_id, now=NOW).where == (
        "Salle des fêtes (lieu ponctuel)", "5 rue E, 62000 Arras")


def test_update_warns_like_planning_and_changes_nothing_until_confirmed(uow: UnitOfWork, world: World) -> None:
    rdv_id = _plan(uow, world)
    _plan(uow, world, starts_at=at_paris(MONDAY, 14), usager_ids=[world.lena], lieu_id=world.lieu_b,
          confirm_warnings=True)
    before = _snapshot(uow)
    with pytest.raises(NeedsConfirmation) as caught:
        lifecycle.update_rdv(uow, world.admin, world.org, rdv_id, starts_at=at_paris(MONDAY, 14), duration_in_min=30,
                        lieu_id=world.lieu_a, agent_ids=[world.basic_pmi], now=NOW)
    assert caught.value.warnings == ["Julien Petit a déjà un RDV sur ce créneau.", OUTSIDE]
    assert _snapshot(uow) == before


def test_update_into_an_exact_duplicate_is_refused(uow: UnitOfWork, world: World) -> None:
    first = _plan(uow, world)
    second = _plan(uow, world, starts_at=at_paris(MONDAY, 10), confirm_warnings=True)
    before = _snapshot(uow)
    with pytest.raises(DomainError, match="identique"):
        lifecycle.update_rdv(uow, world.admin, world.org, second, starts_at=NINE, duration_in_min=30,
                        lieu_id=world.lieu_a, agent_ids=[world.admin], confirm_warnings=True, now=NOW)
    assert _snapshot(uow) == before
    assert first != second


def test_history_says_who_did_what_and_when(uow: UnitOfWork, world: World) -> None:
    rdv_id = _plan(uow, world)
    lifecycle.update_rdv(uow, world.secretary, world.org, rdv_id, starts_at=at_paris(MONDAY, 10), duration_in_min=30,
                    lieu_id=world.lieu_a, agent_ids=[world.basic_pmi, world.admin], confirm_warnings=True, now=NOW)
    lifecycle.change_status(uow, world.basic_pmi, world.org, rdv_id, "revoked", now=NOW)
    rows = uow.session.exec(select(AuditLog).where(AuditLog.entity_type == "rdv")).all()
    assert [r.action for r in rows] == ["created", "updated", "status_changed"]
    history = queries.get_rdv(uow, world.admin, world.org, rdv_id, now=NOW).history
    assert [(h.author, h.action) for h in history] == [("Camille Martin", "RDV créé"),
                                                       ("Sofia Leroy", "RDV modifié"),
                                                       ("Julien Petit", "Statut modifié")]
    assert history[0].details == ["Début : lundi 7 décembre 2026 à 09h00", "Durée : 30 min", "Lieu : Centre Arras",
                                  "Agents : Julien Petit", "Participants : Jeanne DUPONT, Paul DURAND"]
    both = ", ".join(name for _, name in sorted([(world.admin, "Camille Martin"), (world.basic_pmi, "Julien Petit")]))
    assert history[1].details == ["Début : lundi 7 décembre 2026 à 09h00 → lundi 7 décembre 2026 à 10h00",
                                  f"Agents : Julien Petit → {both}"]
    assert history[2].details == ["Statut : À venir → Annulé (par le service)",
                                  "Statut de Jeanne DUPONT : À venir → Annulé (par le service)",
                                  "Statut de Paul DURAND : À venir → Annulé (par le service)"]
    assert all(h.when.endswith(tuple("0123456789")) and " à " in h.when for h in history)


# --------------------------------------------------------------------------- rights and tenancy


def _ops(world: World, rdv_id: int) -> dict[str, Callable[[UnitOfWork, int], Any]]:
    """Every entry point, for an actor, on one RDV of the organisation."""
    return {
        "get": lambda uow, actor: queries.get_rdv(uow, actor, world.org, rdv_id, now=NOW),
        "update": lambda uow, actor: lifecycle.update_rdv(
            uow, actor, world.org, rdv_id, starts_at=at_paris(MONDAY, 11), duration_in_min=30, lieu_id=world.lieu_a,
            agent_ids=[world.basic_pmi], confirm_warnings=True, now=NOW),
        "status": lambda uow, actor: lifecycle.change_status(uow, actor, world.org, rdv_id, "seen",
                                                             confirm_warnings=True, now=NOW),
        "participation": lambda uow, actor: lifecycle.change_participation_status(
            uow, actor, world.org, rdv_id, world.jeanne, "excused", now=NOW),
        "cancel": lambda uow, actor: lifecycle.cancel_rdv(uow, actor, world.org, rdv_id, now=NOW),
    }


OPERATIONS = ["get", "update", "status", "participation", "cancel"]


@pytest.mark.parametrize("operation", OPERATIONS)
def test_another_organisations_rdv_id_is_not_found_and_untouched(uow: UnitOfWork, world: World,
                                                                 operation: str) -> None:
    foreign = _foreign_rdv(uow, world, world.basic_pmi, NINE)
    before = _snapshot(uow)
    with pytest.raises(NotFound):
        _ops(world, foreign)[operation](uow, world.admin)
    assert _snapshot(uow) == before


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_basic_agent_of_another_service_can_neither_see_nor_change(uow: UnitOfWork, world: World,
                                                                     operation: str) -> None:
    rdv_id = _plan(uow, world)
    before = _snapshot(uow)
    with pytest.raises(PermissionDenied):
        _ops(world, rdv_id)[operation](uow, world.basic_social)
    with pytest.raises(PermissionDenied):
        _ops(world, rdv_id)[operation](uow, world.outsider)  # no role in the organisation
    assert _snapshot(uow) == before


@pytest.mark.parametrize("actor", ["basic_pmi", "colleague_pmi", "secretary", "admin"])
def test_the_rdv_scope_lets_in_same_service_agents_secretaries_and_admins(uow: UnitOfWork, world: World,
                                                                          actor: str) -> None:
    rdv_id = _plan(uow, world)
    assert _ops(world, rdv_id)["get"](uow, getattr(world, actor)).id == rdv_id
    assert _ops(world, rdv_id)["status"](uow, getattr(world, actor)) is None
    assert _rdv_row(uow, rdv_id).status == "seen"


def test_an_agent_on_the_rdv_may_follow_it_whatever_the_motif(uow: UnitOfWork, world: World) -> None:
    rdv_id = _plan(uow, world, agent_ids=[world.basic_social], confirm_warnings=True)
    assert queries.get_rdv(uow, world.basic_social, world.org, rdv_id, now=NOW).motif_name == "Consultation"


PLAN_TENANCY: dict[str, tuple[Callable[[World], dict[str, Any]], type[Exception]]] = {
    "motif of another organisation": (lambda w: {"motif_id": w.motif_other}, NotFound),
    "motif of another service": (lambda w: {"actor": w.basic_social, "agent_ids": [w.basic_social]},
                                 PermissionDenied),
    "lieu of another organisation": (lambda w: {"lieu_id": w.lieu_other}, NotFound),
    "agent of another organisation": (lambda w: {"agent_ids": [w.outsider]}, PermissionDenied),
    "agent of another service, for a basic agent": (lambda w: {"actor": w.basic_pmi, "agent_ids": [w.basic_social]},
                                                    PermissionDenied),
    "usager of another territory": (lambda w: {"usager_ids": [w.jeanne, w.far]}, PermissionDenied),
    "unknown usager": (lambda w: {"usager_ids": [w.jeanne, 987654]}, NotFound),
    "organisation without a role": (lambda w: {"organisation": w.other_org, "motif_id": w.motif_other,
                                               "lieu_id": w.lieu_other}, PermissionDenied),
}


@pytest.mark.parametrize("case", list(PLAN_TENANCY))
def test_planning_refuses_foreign_ids_and_changes_nothing(uow: UnitOfWork, world: World, case: str) -> None:
    overrides, error = PLAN_TENANCY[case]
    before = _snapshot(uow)
    with pytest.raises(error):
        _plan(uow, world, confirm_warnings=True, **overrides(world))
    assert _snapshot(uow) == before


def test_updating_refuses_foreign_lieu_and_agents(uow: UnitOfWork, world: World) -> None:
    rdv_id = _plan(uow, world)
    before = _snapshot(uow)
    with pytest.raises(NotFound):
        lifecycle.update_rdv(uow, world.admin, world.org, rdv_id, starts_at=NINE, duration_in_min=30,
                        lieu_id=world.lieu_other, agent_ids=[world.basic_pmi], confirm_warnings=True, now=NOW)
    with pytest.raises(PermissionDenied):
        lifecycle.update_rdv(uow, world.admin, world.org, rdv_id, starts_at=NINE, duration_in_min=30,
                        lieu_id=world.lieu_a, agent_ids=[world.outsider], confirm_warnings=True, now=NOW)
    assert _snapshot(uow) == before


# --------------------------------------------------------------------------- calendar


def test_calendar_shows_other_organisations_as_blocks_without_detail(uow: UnitOfWork, world: World) -> None:
    mine = _plan(uow, world)
    cancelled = _plan(uow, world, starts_at=at_paris(MONDAY, 11), usager_ids=[world.jeanne], confirm_warnings=True)
    lifecycle.cancel_rdv(uow, world.admin, world.org, cancelled, now=NOW)
    foreign = _foreign_rdv(uow, world, world.basic_pmi, at_paris(MONDAY, 14))
    _foreign_rdv(uow, world, world.basic_pmi, at_paris(MONDAY, 16), status="revoked")
    _foreign_rdv(uow, world, world.basic_social, at_paris(MONDAY, 14))  # an agent not asked for
    events = queries.list_rdvs_for_calendar(uow, world.admin, world.org, [world.basic_pmi], at_paris(MONDAY, 0),
                                         at_paris(MONDAY + timedelta(days=1), 0), now=NOW)
    assert [(e.rdv_id, e.detailed, e.cancelled) for e in events] == [(mine, True, False), (cancelled, True, True),
                                                                      (None, False, False)]
    assert events[1].status == "revoked" and events[1].status_label == "Annulé (par le service)"
    block = events[2]
    assert (block.title, block.colour, block.agent_ids, block.starts_at) == (
        queries.BUSY_TITLE, queries.BUSY_COLOUR, (world.basic_pmi,), at_paris(MONDAY, 14))
    exposed = " ".join(str(v) for v in dataclasses.asdict(block).values())
    for secret in ("Consultation Lens", "Atelier Lens", "Morel", "Léna", "#332288", f"rdv-{foreign}"):
        assert secret not in exposed
    assert (block.motif_name, block.status, block.usagers, block.rdv_id) == (None, None, (), None)


def test_calendar_hides_rdvs_outside_a_basic_agents_rights(uow: UnitOfWork, world: World) -> None:
    # Inès works for PMI and the social service: her social RDV is only a busy block for Julien (PMI).
    pmi = _plan(uow, world, agent_ids=[world.colleague_pmi], confirm_warnings=True)
    social = _plan(uow, world, motif_id=world.motif_social, agent_ids=[world.colleague_pmi],
                   starts_at=at_paris(MONDAY, 15), confirm_warnings=True)
    events = queries.list_rdvs_for_calendar(uow, world.basic_pmi, world.org, [world.colleague_pmi], at_paris(MONDAY, 0),
                                         at_paris(MONDAY, 23), now=NOW)
    assert [(e.rdv_id, e.detailed, e.title) for e in events] == [
        (pmi, True, "Jeanne DUPONT, Paul DURAND"), (None, False, queries.BUSY_TITLE)]
    admin_view = queries.list_rdvs_for_calendar(uow, world.admin, world.org, [world.colleague_pmi], at_paris(MONDAY, 0),
                                             at_paris(MONDAY, 23), now=NOW)
    assert [e.rdv_id for e in admin_view] == [pmi, social]
    # Cancelled, it no longer keeps her busy: nothing is left of it in Julien's view.
    lifecycle.cancel_rdv(uow, world.admin, world.org, social, now=NOW)
    assert [e.rdv_id for e in queries.list_rdvs_for_calendar(uow, world.basic_pmi, world.org, [world.colleague_pmi],
                                                          at_paris(MONDAY, 0), at_paris(MONDAY, 23), now=NOW)] == [pmi]
    with pytest.raises(PermissionDenied):
        queries.list_rdvs_for_calendar(uow, world.basic_pmi, world.org, [world.basic_social], at_paris(MONDAY, 0),
                                    at_paris(MONDAY, 23), now=NOW)
    with pytest.raises(PermissionDenied):
        queries.list_rdvs_for_calendar(uow, world.outsider, world.org, [world.basic_pmi], at_paris(MONDAY, 0),
                                    at_paris(MONDAY, 23), now=NOW)


def test_calendar_loads_only_the_range(uow: UnitOfWork, world: World) -> None:
    _plan(uow, world)
    tuesday = _plan(uow, world, starts_at=at_paris(MONDAY + timedelta(days=1), 9), confirm_warnings=True)
    events = queries.list_rdvs_for_calendar(uow, world.admin, world.org, [world.basic_pmi],
                                         at_paris(MONDAY + timedelta(days=1), 0), at_paris(MONDAY + timedelta(days=2), 0),
                                         now=NOW)
    assert [e.rdv_id for e in events] == [tuesday]
    assert events[0].status_label == "À venir"


def test_a_future_rdv_said_honoured_or_missed_asks_for_confirmation_first(uow: UnitOfWork, world: World) -> None:
    rdv_id = _plan(uow, world)  # at NINE, after NOW
    for status in ("seen", "noshow"):
        with pytest.raises(NeedsConfirmation, match="n'a pas encore eu lieu"):
            lifecycle.change_status(uow, world.admin, world.org, rdv_id, status, now=NOW)
        uow.rollback()
        assert uow.session.get(Rdv, rdv_id).status == "unknown"  # nothing changed
    lifecycle.change_status(uow, world.admin, world.org, rdv_id, "noshow", confirm_warnings=True, now=NOW)
    uow.commit()
    assert uow.session.get(Rdv, rdv_id).status == "noshow"
    # Cancelling a future RDV, or any status once it has begun, needs no confirmation.
    lifecycle.change_status(uow, world.admin, world.org, rdv_id, "revoked", now=NOW)
    lifecycle.change_status(uow, world.admin, world.org, rdv_id, "seen", now=NINE + timedelta(minutes=5))
    uow.commit()
    assert uow.session.get(Rdv, rdv_id).status == "seen"
