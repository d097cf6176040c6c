"""Plages d'ouverture at the service level, on SQLite and PostgreSQL: rules, warnings, rights, audit, purge."""

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
    AgentRole,
    AuditLog,
    Motif,
    Organisation,
    PlageOuverture,
    PlageOuvertureMotif,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.availability_text import describe_plage
from rdv_app.domain.recurrence import Recurrence
from rdv_app.services.availability import creneaux, plages
from rdv_app.services.errors import DomainError, FieldErrors, NeedsConfirmation, NotFound, PermissionDenied

MONDAY = date(2026, 12, 7)
THURSDAY = MONDAY + timedelta(days=3)
TODAY = date(2026, 12, 4)
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # the Friday before, in Paris too
MON_THU_UNTIL_MARCH = {"every": "week", "on": ["monday", "thursday"], "until": "2027-03-31"}


@dataclass
class World:
    org: int
    other_org: int
    admin: int  # admin of org, PMI
    basic_pmi: int  # basic, PMI
    basic_social: int  # basic, Service social, also in other_org
    secretary: int  # basic, Secrétariat
    outsider: int  # admin of other_org only, PMI
    consult: int  # PMI, on site
    phone: int  # PMI, by phone
    social: int  # Service social
    accueil: int  # PMI, for_secretariat
    atelier: int  # PMI, collectif
    archived: int  # PMI, archived
    other_motif: int  # PMI of other_org
    other_social: int  # Service social of other_org
    lieu_a: int
    lieu_off: int  # disabled
    lieu_other: int  # of other_org


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    s = uow.session
    territory = make.territory(s)
    pmi, social = make.service(s, "PMI"), make.service(s, "Service social", "SOCIAL")
    secretariat = make.service(s, "Secrétariat", "SECR", is_secretariat=True)
    org = make.organisation(s, territory)
    other = make.organisation(s, territory, "MDS Lens", "mds-lens")
    admin = make.agent(s, "admin@demo.test", "Camille", "Martin", organisation=org, role="admin", services=[pmi])
    basic_pmi = make.agent(s, "pmi@demo.test", "Julien", "Petit", organisation=org, services=[pmi])
    basic_social = make.agent(s, "social@demo.test", "Karim", "Haddad", organisation=org, services=[social])
    s.add(AgentRole(agent_id=basic_social.id, organisation_id=other.id))
    secretary = make.agent(s, "secr@demo.test", "Sophie", "Leroy", organisation=org, services=[secretariat])
    outsider = make.agent(s, "lens@demo.test", "Olivia", "Roux", organisation=other, role="admin", services=[pmi])
    motifs = [
        make.motif(s, org, pmi),
        make.motif(s, org, pmi, "Appel", location_type="phone"),
        make.motif(s, org, social, "Entretien social"),
        make.motif(s, org, pmi, "Accueil", for_secretariat=True),
        make.motif(s, org, pmi, "Atelier", collectif=True),
        make.motif(s, org, pmi, "Ancien motif", deleted_at=NOW),
        make.motif(s, other, pmi, "Consultation Lens"),
        make.motif(s, other, social, "Entretien Lens"),
    ]
    lieux = [make.lieu(s, org), make.lieu(s, org, "Ancienne antenne", "2 rue B, 62000 Arras", availability="disabled"),
             make.lieu(s, other, "MDS de Lens", "3 rue C, 62300 Lens")]
    uow.commit()
    return World(org.id, other.id, admin.id, basic_pmi.id, basic_social.id, secretary.id, outsider.id,
                 *(m.id for m in motifs), *(lieu.id for lieu in lieux))


def _create(uow: UnitOfWork, w: World, *, actor: int | None = None, organisation: int | None = None,
            **fields: Any) -> int:
    values: dict[str, Any] = {
        "title": "Permanence", "agent_id": w.basic_pmi, "lieu_id": w.lieu_a, "motif_ids": [w.consult],
        "first_day": MONDAY, "start_time": time(9), "end_time": time(12), "recurrence": MON_THU_UNTIL_MARCH,
        "now": NOW,
    }
    values.update(fields)
    return plages.create_plage(uow, actor or w.admin, organisation or w.org, **values)


def _update(uow: UnitOfWork, w: World, plage_id: int, *, actor: int | None = None, **fields: Any) -> None:
    """Submits the edit form of a plage of `w.org`, prefilled from the plage, with `fields` changed."""
    view = plages.get_plage(uow, w.admin, w.org, plage_id, now=NOW)
    values: dict[str, Any] = {
        "title": view.title, "agent_id": view.agent_id, "lieu_id": view.lieu_id, "motif_ids": view.motif_ids,
        "first_day": view.first_day, "start_time": view.start_time, "end_time": view.end_time,
        "recurrence": view.recurrence, "now": NOW,
    }
    values.update(fields)
    plages.update_plage(uow, actor or w.admin, w.org, plage_id, **values)


def _counts(uow: UnitOfWork) -> tuple[int, int, int]:
    def count(model: type) -> int:
        return uow.session.exec(select(sa.func.count()).select_from(model)).one()

    return count(PlageOuverture), count(PlageOuvertureMotif), count(AuditLog)


def _audits(uow: UnitOfWork, plage_id: int) -> list[AuditLog]:
    return list(uow.session.exec(select(AuditLog).where(AuditLog.entity_type == "plage_ouverture",
                                                        AuditLog.entity_id == str(plage_id))
                                 .order_by(AuditLog.id)).all())


def _slot_times(uow: UnitOfWork, w: World, day: date, motif: int | None = None) -> list[str]:
    week = creneaux.find_week(uow, w.admin, w.org, motif or w.consult, MONDAY, now=NOW)
    return [f"{s.time} {s.agent.initials}" for d in week.days if d.day == day for s in d.slots]


def _insert(uow: UnitOfWork, w: World, first_day: date, recurrence: dict[str, Any] | None,
            organisation: int | None = None, agent: int | None = None, motif: int | None = None) -> int:
    """A plage written directly, for dates the service would refuse today."""
    plage = make.plage(uow.session, agent or w.basic_pmi, organisation or w.org,
                       w.lieu_a if organisation in (None, w.org) else w.lieu_other, [motif or w.consult],
                       title="Ancienne", first_day=first_day, start_time=time(9), end_time=time(12),
                       recurrence=recurrence)
    uow.commit()
    return plage.id  # type: ignore[return-value]


# --------------------------------------------------------------------------- create, read, slots


def test_a_created_recurring_plage_is_listed_audited_and_gives_slots(uow: UnitOfWork, world: World) -> None:
    assert _slot_times(uow, world, MONDAY) == []
    plage_id = _create(uow, world)

    view = plages.get_plage(uow, world.basic_pmi, world.org, plage_id, now=NOW)
    assert (view.agent_name, view.title, view.lieu_name, view.motif_names) == (
        "Julien Petit", "Permanence", "Centre Arras", ("Consultation",))
    assert view.description == "Chaque semaine (lundi, jeudi) de 9h00 à 12h00, du 07/12/2026 au 31/03/2027"
    assert view.is_recurring and not view.expired
    assert view.recurrence == {"every": "week", "interval": 1, "on": ["monday", "thursday"], "until": "2027-03-31"}

    slots = ["09h00 JP", "09h30 JP", "10h00 JP", "10h30 JP", "11h00 JP", "11h30 JP"]
    assert _slot_times(uow, world, MONDAY) == slots
    assert _slot_times(uow, world, MONDAY + timedelta(days=1)) == []
    assert _slot_times(uow, world, THURSDAY) == slots

    (row,) = _audits(uow, plage_id)
    assert (row.action, row.actor_type, row.actor_agent_id, row.organisation_id) == (
        "create", "agent", world.admin, world.org)
    assert row.changes["title"] == [None, "Permanence"]
    assert row.changes["motif_ids"] == [None, [world.consult]]
    assert row.changes["first_day"] == [None, "2026-12-07"]
    assert row.changes["recurrence"][1]["on"] == ["monday", "thursday"]


def test_a_one_off_plage_without_on_site_motif_needs_no_lieu(uow: UnitOfWork, world: World) -> None:
    plage_id = _create(uow, world, lieu_id=None, motif_ids=[world.phone], recurrence=None, start_time=time(14),
                       end_time=time(15))
    view = plages.get_plage(uow, world.admin, world.org, plage_id, now=NOW)
    assert view.lieu_name is None and not view.is_recurring
    assert view.description == "Le lundi 7 décembre 2026 de 14h00 à 15h00"
    assert _slot_times(uow, world, MONDAY, motif=world.phone) == ["14h00 JP", "14h30 JP"]
    assert _slot_times(uow, world, THURSDAY, motif=world.phone) == []


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (lambda w: {"title": "   "}, "title", "Le titre est obligatoire."),
        (lambda w: {"motif_ids": []}, "motif_ids", "Choisissez au moins un motif."),
        (lambda w: {"motif_ids": [w.atelier]}, "motif_ids",
         "Le motif « Atelier » est collectif : ses séances se créent comme des RDV collectifs, "
         "pas dans une plage d'ouverture."),
        (lambda w: {"motif_ids": [w.consult, w.archived]}, "motif_ids",
         "Le motif « Ancien motif » est archivé : retirez-le de la plage."),
        (lambda w: {"motif_ids": [w.social]}, "motif_ids",
         "Le motif « Entretien social » relève d'un service auquel Julien Petit n'appartient pas."),
        (lambda w: {"lieu_id": None}, "lieu_id",
         "Choisissez un lieu : le motif « Consultation » se déroule sur place."),
        (lambda w: {"lieu_id": w.lieu_off}, "lieu_id",
         "Le lieu « Ancienne antenne » n'est pas ouvert aux plages d'ouverture (désactivé ou ponctuel) : "
         "choisissez-en un autre."),
        (lambda w: {"first_day": None}, "first_day", "Choisissez la date de la plage."),
        (lambda w: {"first_day": TODAY - timedelta(days=366), "recurrence": None}, "first_day",
         "Cette date est passée depuis plus d'un an."),
        (lambda w: {"first_day": date(2032, 12, 6)}, "first_day", "Cette date est à plus de 5 ans : vérifiez l'année."),
        (lambda w: {"start_time": None}, "start_time", "Indiquez l'heure de début."),
        (lambda w: {"end_time": None}, "end_time", "Indiquez l'heure de fin."),
        (lambda w: {"end_time": time(9)}, "end_time", "L'heure de fin doit être après l'heure de début."),
        (lambda w: {"end_time": time(8, 30)}, "end_time", "L'heure de fin doit être après l'heure de début."),
        (lambda w: {"recurrence": {"every": "day"}}, "recurrence",
         "La répétition doit être hebdomadaire ou mensuelle."),
        (lambda w: {"recurrence": {"every": "week", "interval": 6}}, "recurrence",
         "Une répétition hebdomadaire a lieu toutes les 1 à 5 semaines."),
        (lambda w: {"recurrence": {"every": "week", "until": "2026-12-01"}}, "recurrence",
         "La date de fin de répétition doit suivre le premier jour."),
    ],
)
def test_field_errors_are_french_and_write_nothing(uow: UnitOfWork, world: World,
                                                   fields: Callable[[World], dict[str, Any]], field: str,
                                                   message: str) -> None:
    before = _counts(uow)
    with pytest.raises(DomainError) as error:
        _create(uow, world, **fields(world))
    assert type(error.value) in (DomainError, FieldErrors)  # not a refusal of rights
    assert (error.value.field, error.value.message) == (field, message)
    assert _counts(uow) == before



def test_an_empty_form_names_every_required_field_and_writes_nothing(uow: UnitOfWork, world: World) -> None:
    """The form sent empty (the browser's own checks are off): one French message per empty field, all at
    once, for the summary and under each field."""
    before = _counts(uow)
    with pytest.raises(FieldErrors) as error:
        _create(uow, world, title="", agent_id=None, lieu_id=None, motif_ids=[], first_day=None, start_time=None,
                end_time=None, recurrence=None)
    assert error.value.errors == {
        "title": "Le titre est obligatoire.",
        "agent_id": "Choisissez l'agent de la plage.",
        "motif_ids": "Choisissez au moins un motif.",
        "first_day": "Choisissez la date de la plage.",
        "start_time": "Indiquez l'heure de début.",
        "end_time": "Indiquez l'heure de fin.",
    }
    assert _counts(uow) == before


def test_an_edit_emptied_names_every_required_field_and_changes_nothing(uow: UnitOfWork, world: World) -> None:
    plage_id = _create(uow, world)
    before = plages.get_plage(uow, world.admin, world.org, plage_id, now=NOW)
    with pytest.raises(FieldErrors) as error:
        _update(uow, world, plage_id, title=" ", start_time=None, end_time=None)
    assert error.value.errors == {"title": "Le titre est obligatoire.", "start_time": "Indiquez l'heure de début.",
                                  "end_time": "Indiquez l'heure de fin."}
    assert plages.get_plage(uow, world.admin, world.org, plage_id, now=NOW) == before

def test_a_plage_may_start_up_to_a_year_back(uow: UnitOfWork, world: World) -> None:
    plage_id = _create(uow, world, first_day=TODAY - timedelta(days=364), recurrence=None)
    assert plages.get_plage(uow, world.admin, world.org, plage_id, now=NOW).expired


def test_motifs_are_those_the_plage_holder_may_use(uow: UnitOfWork, world: World) -> None:
    # An admin of the organisation holds every motif, whatever their services.
    _create(uow, world, agent_id=world.admin, motif_ids=[world.social, world.consult])
    # A secrétaire holds the for_secretariat motifs, not the others of that service.
    _create(uow, world, actor=world.secretary, agent_id=world.secretary, motif_ids=[world.accueil])
    with pytest.raises(DomainError) as error:
        _create(uow, world, actor=world.secretary, agent_id=world.secretary, motif_ids=[world.consult],
                first_day=MONDAY + timedelta(days=1), recurrence=None)
    assert error.value.field == "motif_ids"
    # The holder's rights count, not the actor's: the admin cannot give a PMI motif to a social worker.
    with pytest.raises(DomainError) as error:
        _create(uow, world, agent_id=world.basic_social, motif_ids=[world.consult])
    assert error.value.message == "Le motif « Consultation » relève d'un service auquel Karim Haddad n'appartient pas."
    _create(uow, world, agent_id=world.basic_social, motif_ids=[world.social])


# --------------------------------------------------------------------------- warnings


def test_an_overlap_with_another_plage_of_the_agent_needs_confirmation(uow: UnitOfWork, world: World) -> None:
    _create(uow, world)
    before = _counts(uow)
    overlapping = {"title": "Renfort", "first_day": MONDAY + timedelta(days=1), "start_time": time(11),
                   "end_time": time(13), "recurrence": {"every": "week", "on": ["tuesday", "thursday"]}}
    with pytest.raises(NeedsConfirmation) as warning:
        _create(uow, world, **overlapping)
    assert warning.value.warnings == [
        "Cette plage chevauche la plage « Permanence » de Julien Petit, pour la première fois le "
        "jeudi 10 décembre 2026."
    ]
    assert _counts(uow) == before
    plage_id = _create(uow, world, **overlapping, confirm_warnings=True)
    assert _counts(uow)[0] == before[0] + 1
    assert plages.get_plage(uow, world.admin, world.org, plage_id, now=NOW).title == "Renfort"


def test_plages_that_touch_alternate_or_belong_to_others_do_not_warn(uow: UnitOfWork, world: World) -> None:
    even = {"every": "week", "interval": 2, "on": ["monday"]}
    _create(uow, world, recurrence=even)
    _create(uow, world, recurrence=even, first_day=MONDAY + timedelta(days=7))  # the other weeks
    _create(uow, world, recurrence=None, start_time=time(12), end_time=time(14))  # touches at 12:00
    _create(uow, world, recurrence=None, start_time=time(8), end_time=time(9))  # touches at 9:00
    _create(uow, world, agent_id=world.admin)  # another agent
    # A series that ended before today no longer matters.
    _insert(uow, world, MONDAY - timedelta(days=70), {"every": "week", "on": ["monday"], "until": "2026-11-30"})
    _create(uow, world, first_day=MONDAY, recurrence={"every": "week", "on": ["wednesday"]})
    assert _counts(uow)[0] == 7


def test_an_overlap_in_another_organisation_is_found_in_its_time_zone(uow: UnitOfWork, world: World) -> None:
    uow.session.exec(sa.update(Organisation).where(Organisation.id == world.other_org)
                     .values(timezone="Indian/Reunion"))
    uow.commit()
    # 9:00-12:00 in La Réunion (UTC+4) is 6:00-9:00 in Paris in December: it touches a 9:00 start.
    _create(uow, world, actor=world.outsider, organisation=world.other_org, agent_id=world.basic_social,
            lieu_id=world.lieu_other, motif_ids=[world.other_social], recurrence={"every": "week", "on": ["monday"]})
    _create(uow, world, agent_id=world.basic_social, motif_ids=[world.social], recurrence=None)
    with pytest.raises(NeedsConfirmation) as warning:
        _create(uow, world, agent_id=world.basic_social, motif_ids=[world.social], start_time=time(8),
                end_time=time(9), first_day=MONDAY + timedelta(days=7), recurrence=None)
    assert warning.value.warnings == [
        "Cette plage chevauche la plage « Permanence » (MDS Lens) de Karim Haddad, pour la première fois le "
        "lundi 14 décembre 2026."
    ]


def test_a_motif_longer_than_the_window_needs_confirmation(uow: UnitOfWork, world: World) -> None:
    uow.session.exec(sa.update(Motif).where(Motif.id == world.consult).values(default_duration_in_min=90))
    uow.commit()
    before = _counts(uow)
    with pytest.raises(NeedsConfirmation) as warning:
        _create(uow, world, end_time=time(10))
    assert warning.value.warnings == [
        "Le motif « Consultation » dure 90 min, plus que la plage (60 min) : aucun créneau de ce motif n'y tiendra."
    ]
    assert _counts(uow) == before
    _create(uow, world, end_time=time(10), confirm_warnings=True)
    assert _counts(uow)[0] == before[0] + 1


# --------------------------------------------------------------------------- update and delete


def test_an_update_replaces_the_plage_and_audits_only_what_changed(uow: UnitOfWork, world: World) -> None:
    plage_id = _create(uow, world)
    _update(uow, world, plage_id, actor=world.basic_pmi, start_time=time(14), end_time=time(15),
            motif_ids=[world.phone, world.consult])
    view = plages.get_plage(uow, world.basic_pmi, world.org, plage_id, now=NOW)
    assert (view.start_time, view.end_time, view.motif_names) == (time(14), time(15), ("Appel", "Consultation"))
    assert _slot_times(uow, world, MONDAY) == ["14h00 JP", "14h30 JP"]
    update = _audits(uow, plage_id)[-1]
    assert (update.action, update.actor_agent_id) == ("update", world.basic_pmi)
    assert update.changes == {"end_time": ["12:00:00", "15:00:00"], "start_time": ["09:00:00", "14:00:00"],
                              "motif_ids": [[world.consult], sorted([world.consult, world.phone])]}


def test_an_old_series_keeps_its_first_day_when_edited(uow: UnitOfWork, world: World) -> None:
    old_start = MONDAY - timedelta(weeks=104)
    plage_id = _insert(uow, world, old_start, {"every": "week", "on": ["monday"]})
    _update(uow, world, plage_id, title="Permanence du lundi")
    assert plages.get_plage(uow, world.admin, world.org, plage_id, now=NOW).title == "Permanence du lundi"
    assert _slot_times(uow, world, MONDAY)[0] == "09h00 JP"
    with pytest.raises(DomainError) as error:
        _update(uow, world, plage_id, first_day=old_start + timedelta(days=7))
    assert error.value.field == "first_day"


def test_an_update_with_warnings_changes_nothing_until_confirmed(uow: UnitOfWork, world: World) -> None:
    _create(uow, world)
    tuesdays = _create(uow, world, title="Mardi", recurrence={"every": "week", "on": ["tuesday"]})
    before = _counts(uow)
    with pytest.raises(NeedsConfirmation):
        _update(uow, world, tuesdays, recurrence={"every": "week", "on": ["monday"]})
    uow.session.expire_all()
    assert plages.get_plage(uow, world.admin, world.org, tuesdays, now=NOW).recurrence["on"] == ["tuesday"]
    assert _counts(uow) == before
    _update(uow, world, tuesdays, recurrence={"every": "week", "on": ["monday"]}, confirm_warnings=True)
    assert plages.get_plage(uow, world.admin, world.org, tuesdays, now=NOW).recurrence["on"] == ["monday"]


def test_a_plage_can_move_to_another_visible_agent(uow: UnitOfWork, world: World) -> None:
    plage_id = _create(uow, world)
    _update(uow, world, plage_id, actor=world.basic_pmi, agent_id=world.admin)
    assert _slot_times(uow, world, MONDAY)[0] == "09h00 CM"
    with pytest.raises(PermissionDenied):
        _update(uow, world, plage_id, actor=world.basic_pmi, agent_id=world.basic_social, motif_ids=[world.social])
    assert plages.get_plage(uow, world.admin, world.org, plage_id, now=NOW).agent_id == world.admin


def test_a_deleted_plage_and_its_slots_are_gone(uow: UnitOfWork, world: World) -> None:
    plage_id = _create(uow, world)
    plages.delete_plage(uow, world.basic_pmi, world.org, plage_id)
    assert _counts(uow)[:2] == (0, 0)
    assert _slot_times(uow, world, MONDAY) == []
    deleted = _audits(uow, plage_id)[-1]
    assert (deleted.action, deleted.actor_agent_id) == ("delete", world.basic_pmi)
    assert deleted.changes["title"] == ["Permanence", None]
    with pytest.raises(NotFound):
        plages.get_plage(uow, world.admin, world.org, plage_id, now=NOW)


# --------------------------------------------------------------------------- lists and rights


def test_the_list_shows_own_and_colleagues_plages_by_rights(uow: UnitOfWork, world: World) -> None:
    _create(uow, world)
    _create(uow, world, agent_id=world.admin)
    _create(uow, world, agent_id=world.basic_social, motif_ids=[world.social])
    _create(uow, world, agent_id=world.secretary, motif_ids=[world.accueil])
    _create(uow, world, actor=world.outsider, organisation=world.other_org, agent_id=world.basic_social,
            lieu_id=world.lieu_other, motif_ids=[world.other_social], recurrence=None, start_time=time(14),
            end_time=time(15))

    def names(actor: int, **kwargs: Any) -> list[str]:
        return [v.agent_name for v in plages.list_plages(uow, actor, world.org, now=NOW, **kwargs)]

    everyone = ["Karim Haddad", "Sophie Leroy", "Camille Martin", "Julien Petit"]
    assert names(world.admin) == everyone
    assert names(world.secretary) == everyone
    assert names(world.basic_pmi) == ["Camille Martin", "Julien Petit"]
    assert names(world.basic_social) == ["Karim Haddad"]
    assert names(world.basic_pmi, agent_ids=[world.admin]) == ["Camille Martin"]
    with pytest.raises(PermissionDenied):
        names(world.basic_pmi, agent_ids=[world.basic_social])
    assert [v.motif_names for v in plages.list_plages(uow, world.basic_social, world.other_org, now=NOW)] == [
        ("Entretien Lens",)]


def test_expired_plages_are_listed_on_request(uow: UnitOfWork, world: World) -> None:
    yesterday = TODAY - timedelta(days=1)
    _create(uow, world, title="Hier", first_day=yesterday, recurrence=None)
    _create(uow, world, title="Finie hier", first_day=yesterday - timedelta(days=14),
            recurrence={"every": "week", "until": yesterday.isoformat()})
    _create(uow, world, title="Aujourd'hui", first_day=TODAY, recurrence=None, start_time=time(14),
            end_time=time(15))
    _create(uow, world, title="Sans fin", first_day=TODAY - timedelta(days=300),
            recurrence={"every": "month", "day": {"friday": 1}}, start_time=time(16), end_time=time(17))

    def listed(include_expired: bool) -> list[tuple[str, bool]]:
        return [(v.title, v.expired) for v in plages.list_plages(uow, world.admin, world.org,
                                                                  include_expired=include_expired, now=NOW)]

    assert listed(False) == [("Sans fin", False), ("Aujourd'hui", False)]
    assert listed(True) == [("Sans fin", False), ("Finie hier", True), ("Hier", True), ("Aujourd'hui", False)]


def test_the_list_is_searched_by_title_lieu_motif_and_agent(uow: UnitOfWork, world: World) -> None:
    organisation = uow.session.get(Organisation, world.org)
    saint_michel = make.lieu(uow.session, organisation, "Antenne Saint-Michel", "4 rue D, 62000 Arras").id
    uow.commit()
    _create(uow, world, title="Permanence du lundi")
    _create(uow, world, title="Appels du matin", lieu_id=None, motif_ids=[world.phone], agent_id=world.admin)
    _create(uow, world, title="Consultations", lieu_id=saint_michel, motif_ids=[world.consult, world.phone],
            start_time=time(14), end_time=time(17))

    def listed(query: str = "", **filters: Any) -> list[str]:
        return [v.title for v in plages.list_plages(uow, world.admin, world.org, query=query, now=NOW, **filters)]

    assert listed() == ["Appels du matin", "Permanence du lundi", "Consultations"]
    assert listed("perm") == ["Permanence du lundi"]  # the title, from the start of a word
    assert listed("MANENCE") == []
    assert listed("saint-michel") == ["Consultations"]  # the lieu, whatever the punctuation
    assert listed("appel") == ["Appels du matin", "Consultations"]  # the title, or a motif
    assert listed("camille") == ["Appels du matin"]  # the agent
    assert listed("julien consult") == ["Permanence du lundi", "Consultations"]  # every word, anywhere
    assert listed("Pétit  CENTRE") == ["Permanence du lundi"]  # accents and case do not matter
    assert listed(lieu_id=saint_michel) == ["Consultations"]
    assert listed(motif_id=world.phone) == ["Appels du matin", "Consultations"]
    assert listed("julien", motif_id=world.phone) == ["Consultations"]
    assert listed(motif_id=world.other_motif) == [] and listed(lieu_id=world.lieu_other) == []
    assert listed("julien", agent_ids=[world.admin]) == []


def test_an_agent_without_a_role_in_the_organisation_gets_nothing(uow: UnitOfWork, world: World) -> None:
    plage_id = _create(uow, world)
    before = _counts(uow)
    calls: list[Callable[[], object]] = [
        lambda: plages.list_plages(uow, world.outsider, world.org, now=NOW),
        lambda: plages.get_plage(uow, world.outsider, world.org, plage_id, now=NOW),
        lambda: _create(uow, world, actor=world.outsider, agent_id=world.outsider),
        lambda: _update(uow, world, plage_id, actor=world.outsider, title="Piratée"),
        lambda: plages.delete_plage(uow, world.outsider, world.org, plage_id),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert _counts(uow) == before
    assert plages.get_plage(uow, world.admin, world.org, plage_id, now=NOW).title == "Permanence"


def test_a_basic_agent_cannot_touch_another_services_plages(uow: UnitOfWork, world: World) -> None:
    social_plage = _create(uow, world, agent_id=world.basic_social, motif_ids=[world.social])
    before = _counts(uow)
    calls: list[Callable[[], object]] = [
        lambda: plages.get_plage(uow, world.basic_pmi, world.org, social_plage, now=NOW),
        lambda: _create(uow, world, actor=world.basic_pmi, agent_id=world.basic_social, motif_ids=[world.social],
                        first_day=MONDAY + timedelta(days=1)),
        lambda: _update(uow, world, social_plage, actor=world.basic_pmi, title="Changée"),
        lambda: plages.delete_plage(uow, world.basic_pmi, world.org, social_plage),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert _counts(uow) == before
    assert plages.get_plage(uow, world.admin, world.org, social_plage, now=NOW).title == "Permanence"


def test_ids_of_another_organisation_are_refused(uow: UnitOfWork, world: World) -> None:
    elsewhere = _create(uow, world, actor=world.outsider, organisation=world.other_org, agent_id=world.outsider,
                        lieu_id=world.lieu_other, motif_ids=[world.other_motif])
    # Held by an agent of both organisations: still out of reach from the other one.
    shared_agent = _create(uow, world, actor=world.outsider, organisation=world.other_org,
                           agent_id=world.basic_social, lieu_id=world.lieu_other, motif_ids=[world.other_social])
    before = _counts(uow)
    refused: list[tuple[type[Exception], Callable[[], object]]] = [
        (PermissionDenied, lambda: _create(uow, world, agent_id=world.outsider)),
        (PermissionDenied, lambda: _create(uow, world, motif_ids=[world.consult, world.other_motif])),
        (PermissionDenied, lambda: _create(uow, world, motif_ids=[999_999])),
        (PermissionDenied, lambda: _create(uow, world, lieu_id=world.lieu_other)),
        (NotFound, lambda: plages.get_plage(uow, world.admin, world.org, elsewhere, now=NOW)),
        (NotFound, lambda: plages.update_plage(
            uow, world.admin, world.org, elsewhere, title="Piratée", agent_id=world.basic_pmi, lieu_id=world.lieu_a,
            motif_ids=[world.consult], first_day=MONDAY, start_time=time(9), end_time=time(12), recurrence=None,
            now=NOW)),
        (NotFound, lambda: plages.delete_plage(uow, world.admin, world.org, elsewhere)),
        (NotFound, lambda: plages.get_plage(uow, world.admin, world.org, shared_agent, now=NOW)),
        (NotFound, lambda: plages.delete_plage(uow, world.basic_social, world.org, shared_agent)),
        (PermissionDenied, lambda: plages.delete_plage(uow, world.admin, world.other_org, elsewhere)),
    ]
    for error, call in refused:
        with pytest.raises(error):
            call()
    assert _counts(uow) == before
    view = plages.get_plage(uow, world.outsider, world.other_org, elsewhere, now=NOW)
    assert (view.title, view.agent_id) == ("Permanence", world.outsider)


# --------------------------------------------------------------------------- RGPD purge


def test_the_purge_deletes_plages_ended_more_than_a_year_ago(uow: UnitOfWork, world: World) -> None:
    today = date(2027, 12, 10)
    purged = [
        _insert(uow, world, date(2026, 12, 9), None),
        _insert(uow, world, date(2026, 6, 1), {"every": "week", "until": "2026-12-09"}),
    ]
    kept = [
        _insert(uow, world, date(2026, 12, 10), None),  # ended exactly a year ago
        _insert(uow, world, date(2026, 6, 1), {"every": "week", "until": "2026-12-10"}),
        _insert(uow, world, date(2020, 1, 6), {"every": "week"}),  # never ends
        _insert(uow, world, date(2027, 12, 1), None),
    ]
    assert plages.purge_expired_plages(uow, today) == 2
    remaining = uow.session.exec(select(PlageOuverture.id).order_by(PlageOuverture.id)).all()
    assert list(remaining) == kept
    assert uow.session.exec(select(sa.func.count()).select_from(PlageOuvertureMotif)).one() == len(kept)
    rows = uow.session.exec(select(AuditLog).where(AuditLog.action == "purge").order_by(AuditLog.entity_id)).all()
    assert [(r.entity_id, r.actor_type, r.organisation_id) for r in rows] == sorted(
        (str(i), "system", world.org) for i in purged)
    assert rows[0].changes == {"ended_on": ["2026-12-09", None]}
    assert plages.purge_expired_plages(uow, today) == 0


# --------------------------------------------------------------------------- descriptions


@pytest.mark.parametrize(
    ("recurrence", "text"),
    [
        (None, "Le lundi 7 décembre 2026 de 9h00 à 12h30"),
        (Recurrence.weekly((), until=date(2027, 1, 4)),
         "Chaque semaine (lundi) de 9h00 à 12h30, du 07/12/2026 au 04/01/2027"),
        (Recurrence.weekly((1, 3), interval=2),
         "Toutes les 2 semaines (mardi, jeudi) de 9h00 à 12h30, à partir du 07/12/2026"),
        (Recurrence.monthly(0, -1), "Chaque mois, le dernier lundi de 9h00 à 12h30, à partir du 07/12/2026"),
    ],
)
def test_descriptions_read_as_french_sentences(recurrence: Recurrence | None, text: str) -> None:
    assert describe_plage(MONDAY, time(9), time(12, 30), recurrence) == text


def test_an_edit_of_a_plage_changed_since_the_form_loaded_it_is_refused_and_changes_nothing(
        uow: UnitOfWork, world: World) -> None:
    """Issue 25: two agents open the same plage; the second save, made on the values loaded before the
    first, is refused instead of undoing it; reloaded, it saves."""
    w = world
    plage_id = _create(uow, w, now=NOW)
    loaded = plages.get_plage(uow, w.admin, w.org, plage_id, now=NOW).version
    _update(uow, w, plage_id, end_time=time(11), expected_version=loaded)
    before = _counts(uow)

    with pytest.raises(DomainError) as refused:
        _update(uow, w, plage_id, title="Permanence du matin", end_time=time(12), expected_version=loaded)

    assert refused.value.message == "Ces informations ont été modifiées entre-temps. Rechargez la page."
    stored = plages.get_plage(uow, w.admin, w.org, plage_id, now=NOW)
    assert (stored.title, stored.end_time) == ("Permanence", time(11))
    assert _counts(uow) == before
    _update(uow, w, plage_id, title="Permanence du matin", expected_version=stored.version)
    assert plages.get_plage(uow, w.admin, w.org, plage_id, now=NOW).title == "Permanence du matin"


def test_the_version_of_a_listed_plage_is_that_of_its_edit_form(uow: UnitOfWork, world: World) -> None:
    w = world
    plage_id = _create(uow, w, now=NOW)
    [listed] = plages.list_plages(uow, w.admin, w.org, now=NOW)
    assert listed.version == plages.get_plage(uow, w.admin, w.org, plage_id, now=NOW).version
