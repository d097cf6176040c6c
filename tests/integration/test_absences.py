"""Indisponibilités at the service level, on SQLite and PostgreSQL: rules, rights, audit, and the slots they
remove in every organisation of the agent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import factories as make
import pytest
import sqlalchemy as sa
from sqlmodel import select

from rdv_app.db.models import (
    Absence,
    AgentRole,
    AuditLog,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.availability import absences, creneaux
from rdv_app.services.errors import DomainError, FieldErrors, NotFound, PermissionDenied

MONDAY = date(2026, 12, 7)
TUESDAY, WEDNESDAY, THURSDAY = (MONDAY + timedelta(days=n) for n in (1, 2, 3))
TODAY = date(2026, 12, 4)
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
MORNING = ["09h00", "09h30", "10h00", "10h30", "11h00", "11h30"]


@dataclass
class World:
    org: int
    other_org: int
    admin: int  # admin of org, PMI
    basic_pmi: int  # basic, PMI
    basic_social: int  # basic, Service social, also in other_org
    outsider: int  # admin of other_org only
    consult: int  # PMI motif of org
    entretien_lens: int  # Service social motif of other_org


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    s = uow.session
    territory = make.territory(s)
    pmi, social = make.service(s, "PMI"), make.service(s, "Service social", "SOCIAL")
    org = make.organisation(s, territory)
    other = make.organisation(s, territory, "MDS Lens", "mds-lens")
    admin = make.agent(s, "admin@demo.test", "Camille", "Martin", organisation=org, role="admin", services=[pmi])
    basic_pmi = make.agent(s, "pmi@demo.test", "Julien", "Petit", organisation=org, services=[pmi])
    basic_social = make.agent(s, "social@demo.test", "Karim", "Haddad", organisation=org, services=[social])
    s.add(AgentRole(agent_id=basic_social.id, organisation_id=other.id))
    outsider = make.agent(s, "lens@demo.test", "Olivia", "Roux", organisation=other, role="admin", services=[pmi])
    lieu = make.lieu(s, org)
    lieu_lens = make.lieu(s, other, "MDS de Lens", "3 rue C, 62300 Lens")
    consult = make.motif(s, org, pmi)
    entretien = make.motif(s, other, social, "Entretien social")
    for agent, organisation, place, motif in ((basic_pmi, org, lieu, consult),
                                              (basic_social, other, lieu_lens, entretien)):
        make.plage(s, agent, organisation, place, [motif], title="Permanence", first_day=MONDAY, start_time=time(9),
                   end_time=time(12),
                   recurrence={"every": "week", "on": ["monday", "tuesday", "wednesday", "thursday", "friday"]})
    uow.commit()
    return World(org.id, other.id, admin.id, basic_pmi.id, basic_social.id, outsider.id, consult.id,
                 entretien.id)


def _create(uow: UnitOfWork, w: World, *, actor: int | None = None, organisation: int | None = None,
            **fields: Any) -> int:
    values: dict[str, Any] = {
        "agent_id": w.basic_pmi, "title": "Réunion", "first_day": MONDAY, "start_time": time(10),
        "end_day": None, "end_time": time(11), "recurrence": None, "now": NOW,
    }
    values.update(fields)
    return absences.create_absence(uow, actor or w.basic_pmi, organisation or w.org, **values)


def _update(uow: UnitOfWork, w: World, absence_id: int, *, actor: int | None = None, **fields: Any) -> None:
    """Submits the edit form of an absence, prefilled from it, with `fields` changed."""
    view = absences.get_absence(uow, w.admin, w.org, absence_id, now=NOW)
    values: dict[str, Any] = {
        "agent_id": view.agent_id, "title": view.title, "first_day": view.first_day, "start_time": view.start_time,
        "end_day": view.end_day, "end_time": view.end_time, "recurrence": view.recurrence, "now": NOW,
    }
    values.update(fields)
    absences.update_absence(uow, actor or w.admin, w.org, absence_id, **values)


def _counts(uow: UnitOfWork) -> tuple[int, int]:
    def count(model: type) -> int:
        return uow.session.exec(select(sa.func.count()).select_from(model)).one()

    return count(Absence), count(AuditLog)


def _audits(uow: UnitOfWork, absence_id: int) -> list[AuditLog]:
    return list(uow.session.exec(select(AuditLog).where(AuditLog.entity_type == "absence",
                                                        AuditLog.entity_id == str(absence_id))
                                 .order_by(AuditLog.id)).all())


def _slots(uow: UnitOfWork, w: World, day: date, *, organisation: int | None = None) -> list[str]:
    if organisation == w.other_org:
        week = creneaux.find_week(uow, w.outsider, w.other_org, w.entretien_lens, MONDAY, now=NOW)
    else:
        week = creneaux.find_week(uow, w.admin, w.org, w.consult, MONDAY, now=NOW)
    return [s.time for d in week.days if d.day == day for s in d.slots]


# --------------------------------------------------------------------------- create, slots, audit


def test_a_one_off_absence_removes_its_slots_and_is_audited(uow: UnitOfWork, world: World) -> None:
    assert _slots(uow, world, MONDAY) == MORNING
    absence_id = _create(uow, world)
    assert _slots(uow, world, MONDAY) == ["09h00", "09h30", "11h00", "11h30"]
    assert _slots(uow, world, TUESDAY) == MORNING

    view = absences.get_absence(uow, world.basic_pmi, world.org, absence_id, now=NOW)
    assert (view.agent_name, view.title, view.end_day, view.is_recurring, view.expired) == (
        "Julien Petit", "Réunion", MONDAY, False, False)
    assert view.description == "Le lundi 7 décembre 2026 de 10h00 à 11h00"

    (row,) = _audits(uow, absence_id)
    assert (row.action, row.actor_agent_id, row.organisation_id) == ("create", world.basic_pmi, world.org)
    assert row.changes["title"] == [None, "Réunion"]
    assert row.changes["end_day"] == [None, "2026-12-07"]
    assert row.changes["start_time"] == [None, "10:00:00"]


def test_a_multi_day_absence_blocks_every_day_it_covers(uow: UnitOfWork, world: World) -> None:
    absence_id = _create(uow, world, actor=world.admin, title="Formation", start_time=time(11), end_day=WEDNESDAY,
                         end_time=time(10))
    assert _slots(uow, world, MONDAY) == ["09h00", "09h30", "10h00", "10h30"]
    assert _slots(uow, world, TUESDAY) == []
    assert _slots(uow, world, WEDNESDAY) == ["10h00", "10h30", "11h00", "11h30"]
    assert _slots(uow, world, THURSDAY) == MORNING
    assert absences.get_absence(uow, world.admin, world.org, absence_id, now=NOW).description == (
        "Du lundi 7 décembre 2026 à 11h00 au mercredi 9 décembre 2026 à 10h00")


def test_a_recurring_absence_is_edited_and_deleted_as_a_whole(uow: UnitOfWork, world: World) -> None:
    absence_id = _create(uow, world, title="Réunion d'équipe", first_day=TUESDAY, start_time=time(9),
                         end_time=time(10), recurrence={"every": "week", "on": ["tuesday", "thursday"],
                                                        "until": "2027-01-31"})
    view = absences.get_absence(uow, world.admin, world.org, absence_id, now=NOW)
    assert view.description == "Chaque semaine (mardi, jeudi) de 9h00 à 10h00, du 08/12/2026 au 31/01/2027"
    assert _slots(uow, world, MONDAY) == MORNING
    assert _slots(uow, world, TUESDAY) == _slots(uow, world, THURSDAY) == ["10h00", "10h30", "11h00", "11h30"]

    _update(uow, world, absence_id, actor=world.basic_pmi, start_time=time(11), end_time=time(12))
    assert _slots(uow, world, TUESDAY) == _slots(uow, world, THURSDAY) == ["09h00", "09h30", "10h00", "10h30"]
    assert _audits(uow, absence_id)[-1].changes == {"start_time": ["09:00:00", "11:00:00"],
                                                    "end_time": ["10:00:00", "12:00:00"]}

    absences.delete_absence(uow, world.basic_pmi, world.org, absence_id)
    assert _slots(uow, world, TUESDAY) == _slots(uow, world, THURSDAY) == MORNING
    assert _counts(uow)[0] == 0
    deleted = _audits(uow, absence_id)[-1]
    assert (deleted.action, deleted.changes["title"]) == ("delete", ["Réunion d'équipe", None])


def test_an_absence_blocks_the_agent_in_every_organisation(uow: UnitOfWork, world: World) -> None:
    assert _slots(uow, world, MONDAY, organisation=world.other_org) == MORNING
    # Declared while working in Arras, it empties the agent's Lens plage too.
    _create(uow, world, actor=world.basic_social, agent_id=world.basic_social, start_time=time(9),
            end_time=time(12))
    assert _slots(uow, world, MONDAY, organisation=world.other_org) == []
    listed = absences.list_absences(uow, world.outsider, world.other_org, now=NOW)
    assert [(a.agent_name, a.title) for a in listed] == [("Karim Haddad", "Réunion")]


# --------------------------------------------------------------------------- rules


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"title": " "}, "title", "Le titre est obligatoire."),
        ({"first_day": None}, "first_day", "Choisissez le premier jour."),
        ({"first_day": TODAY - timedelta(days=400)}, "first_day", "Cette date est passée depuis plus d'un an."),
        ({"end_day": date(2032, 1, 5)}, "end_day", "Cette date est à plus de 5 ans : vérifiez l'année."),
        ({"start_time": None}, "start_time", "Indiquez l'heure de début."),
        ({"end_time": None}, "end_time", "Indiquez l'heure de fin."),
        ({"end_day": MONDAY - timedelta(days=1)}, "end_day", "Le dernier jour ne peut pas précéder le premier."),
        ({"end_time": time(10)}, "end_time", "L'heure de fin doit être après l'heure de début."),
        ({"end_time": time(9)}, "end_time", "L'heure de fin doit être après l'heure de début."),
        ({"end_day": TUESDAY, "recurrence": {"every": "week"}}, "recurrence",
         "Seule une indisponibilité d'une journée peut être répétée : pour plusieurs jours, "
         "créez une indisponibilité sans répétition."),
        ({"recurrence": {"every": "month", "day": {"monday": 1}, "interval": 13}}, "recurrence",
         "Une répétition mensuelle a lieu tous les 1 à 12 mois."),
        ({"recurrence": {"every": "week", "until": "2026-12-06"}}, "recurrence",
         "La date de fin de répétition doit suivre le premier jour."),
    ],
)
def test_field_errors_are_french_and_write_nothing(uow: UnitOfWork, world: World, fields: dict[str, Any],
                                                   field: str, message: str) -> None:
    before = _counts(uow)
    with pytest.raises(DomainError) as error:
        _create(uow, world, **fields)
    assert type(error.value) in (DomainError, FieldErrors)  # not a refusal of rights
    assert (error.value.field, error.value.message) == (field, message)
    assert _counts(uow) == before


def test_an_empty_form_names_every_required_field_and_writes_nothing(uow: UnitOfWork, world: World) -> None:
    """The form sent empty (the browser's own checks are off): one French message per empty field, all at
    once, for the summary and under each field."""
    before = _counts(uow)
    with pytest.raises(FieldErrors) as error:
        _create(uow, world, agent_id=None, title="", first_day=None, start_time=None, end_time=None)
    assert error.value.errors == {
        "agent_id": "Choisissez l'agent concerné.",
        "title": "Le titre est obligatoire.",
        "first_day": "Choisissez le premier jour.",
        "start_time": "Indiquez l'heure de début.",
        "end_time": "Indiquez l'heure de fin.",
    }
    assert _counts(uow) == before


def test_an_earlier_end_time_is_fine_on_a_later_day(uow: UnitOfWork, world: World) -> None:
    absence_id = _create(uow, world, start_time=time(15), end_day=TUESDAY, end_time=time(9))
    assert absences.get_absence(uow, world.admin, world.org, absence_id, now=NOW).end_day == TUESDAY


def test_an_old_series_keeps_its_days_when_edited(uow: UnitOfWork, world: World) -> None:
    old = MONDAY - timedelta(weeks=100)
    absence = Absence(agent_id=world.basic_pmi, title="Ancienne", first_day=old, start_time=time(9), end_day=old,
                      end_time=time(10), recurrence={"every": "week"})
    uow.session.add(absence)
    uow.commit()
    _update(uow, world, absence.id, title="Réunion du lundi")  # type: ignore[arg-type]
    assert _slots(uow, world, MONDAY) == ["10h00", "10h30", "11h00", "11h30"]
    with pytest.raises(DomainError) as error:
        _update(uow, world, absence.id, first_day=old + timedelta(days=7), end_day=old + timedelta(days=7))  # type: ignore[arg-type]
    assert error.value.field == "first_day"


def test_absences_are_listed_to_come_or_past(uow: UnitOfWork, world: World) -> None:
    yesterday = TODAY - timedelta(days=1)
    _create(uow, world, title="Passée", first_day=yesterday - timedelta(days=3), end_day=yesterday)
    _create(uow, world, title="En cours", first_day=yesterday, end_day=TODAY)
    _create(uow, world, title="Série finie", first_day=yesterday - timedelta(days=7),
            recurrence={"every": "week", "until": yesterday.isoformat()})
    _create(uow, world, title="Série", first_day=yesterday - timedelta(days=7), recurrence={"every": "week"})

    def listed(past: bool) -> list[tuple[str, bool]]:
        return [(a.title, a.expired) for a in absences.list_absences(uow, world.admin, world.org, past=past,
                                                                      now=NOW)]

    # "À venir" and "Passées": each absence in exactly one of the two.
    assert listed(False) == [("Série", False), ("En cours", False)]
    assert listed(True) == [("Série finie", True), ("Passée", True)]


# --------------------------------------------------------------------------- rights


def test_the_list_follows_rights(uow: UnitOfWork, world: World) -> None:
    _create(uow, world)
    _create(uow, world, actor=world.admin, agent_id=world.admin)
    _create(uow, world, actor=world.basic_social, agent_id=world.basic_social)
    _create(uow, world, actor=world.outsider, organisation=world.other_org, agent_id=world.outsider)

    def names(actor: int, organisation: int | None = None, **kwargs: Any) -> list[str]:
        return [a.agent_name for a in absences.list_absences(uow, actor, organisation or world.org, now=NOW,
                                                             **kwargs)]

    assert names(world.admin) == ["Karim Haddad", "Camille Martin", "Julien Petit"]
    assert names(world.basic_pmi) == ["Camille Martin", "Julien Petit"]
    assert names(world.basic_social) == ["Karim Haddad"]
    assert names(world.outsider, world.other_org) == ["Karim Haddad", "Olivia Roux"]
    assert names(world.admin, agent_ids=[world.basic_pmi]) == ["Julien Petit"]
    with pytest.raises(PermissionDenied):
        names(world.basic_pmi, agent_ids=[world.basic_social])
    with pytest.raises(PermissionDenied):
        names(world.admin, agent_ids=[world.outsider])


def test_a_basic_agent_manages_colleagues_of_their_service_only(uow: UnitOfWork, world: World) -> None:
    for_admin = _create(uow, world, agent_id=world.admin)  # same service: allowed
    assert absences.get_absence(uow, world.basic_pmi, world.org, for_admin, now=NOW).agent_name == "Camille Martin"
    social = _create(uow, world, actor=world.basic_social, agent_id=world.basic_social)
    before = _counts(uow)
    calls: list[Callable[[], object]] = [
        lambda: _create(uow, world, agent_id=world.basic_social),
        lambda: absences.get_absence(uow, world.basic_pmi, world.org, social, now=NOW),
        lambda: _update(uow, world, social, actor=world.basic_pmi, title="Changée"),
        lambda: absences.delete_absence(uow, world.basic_pmi, world.org, social),
        lambda: _update(uow, world, for_admin, actor=world.basic_pmi, agent_id=world.basic_social),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert _counts(uow) == before
    assert absences.get_absence(uow, world.admin, world.org, social, now=NOW).title == "Réunion"
    assert absences.get_absence(uow, world.admin, world.org, for_admin, now=NOW).agent_id == world.admin


def test_other_organisations_are_out_of_reach(uow: UnitOfWork, world: World) -> None:
    mine = _create(uow, world)
    elsewhere = _create(uow, world, actor=world.outsider, organisation=world.other_org, agent_id=world.outsider)
    before = _counts(uow)
    refused: list[tuple[type[Exception], Callable[[], object]]] = [
        # An actor without a role in the organisation.
        (PermissionDenied, lambda: absences.list_absences(uow, world.outsider, world.org, now=NOW)),
        (PermissionDenied, lambda: absences.get_absence(uow, world.outsider, world.org, mine, now=NOW)),
        (PermissionDenied, lambda: _create(uow, world, actor=world.outsider, agent_id=world.outsider)),
        (PermissionDenied, lambda: _update(uow, world, mine, actor=world.outsider, title="Piratée")),
        (PermissionDenied, lambda: absences.delete_absence(uow, world.outsider, world.org, mine)),
        # An agent, or an absence, of another organisation.
        (PermissionDenied, lambda: _create(uow, world, actor=world.admin, agent_id=world.outsider)),
        (NotFound, lambda: absences.get_absence(uow, world.admin, world.org, elsewhere, now=NOW)),
        (NotFound, lambda: absences.update_absence(
            uow, world.admin, world.org, elsewhere, agent_id=world.admin, title="Piratée", first_day=MONDAY,
            start_time=time(9), end_time=time(10), now=NOW)),
        (NotFound, lambda: absences.delete_absence(uow, world.admin, world.org, elsewhere)),
        (NotFound, lambda: absences.delete_absence(uow, world.admin, world.org, 999_999)),
    ]
    for error, call in refused:
        with pytest.raises(error):
            call()
    assert _counts(uow) == before
    view = absences.get_absence(uow, world.outsider, world.other_org, elsewhere, now=NOW)
    assert (view.agent_id, view.title) == (world.outsider, "Réunion")


def test_an_edit_of_an_absence_changed_since_the_form_loaded_it_is_refused_and_changes_nothing(
        uow: UnitOfWork, world: World) -> None:
    """Issue 25: the second of two saves made on the same loaded absence is refused instead of undoing the
    first."""
    absence_id = _create(uow, world)
    loaded = absences.get_absence(uow, world.admin, world.org, absence_id, now=NOW).version
    _update(uow, world, absence_id, title="Réunion d'équipe", expected_version=loaded)
    before = _counts(uow)

    with pytest.raises(DomainError) as refused:
        _update(uow, world, absence_id, title="Réunion", end_time=time(12), expected_version=loaded)

    assert refused.value.message == "Ces informations ont été modifiées entre-temps. Rechargez la page."
    stored = absences.get_absence(uow, world.admin, world.org, absence_id, now=NOW)
    assert (stored.title, stored.end_time) == ("Réunion d'équipe", time(11))
    assert _counts(uow) == before
