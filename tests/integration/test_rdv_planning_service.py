"""The "Planifier un RDV" flow at the service level, on SQLite and PostgreSQL: what the form offers and
prefills for a motif, what the agent may see of each participant and how they can be notified, and
the confirmation from local date and time fields."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import factories as make
import pytest
import sqlalchemy as sa
from sqlmodel import select

from rdv_app.db.models import (
    Participation,
    Rdv,
    RdvAgent,
    Territory,
    Usager,
    UsagerProfile,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.errors import DomainError, NeedsConfirmation, NotFound, PermissionDenied
from rdv_app.services.rdv import rdv_planning

PARIS = ZoneInfo("Europe/Paris")
MONDAY = date(2026, 12, 7)
TUESDAY = MONDAY + timedelta(days=1)
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


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
    consultation: int
    permanence: int  # social service, open to the secrétariat
    by_phone: int
    not_notified: int
    atelier: int  # collectif
    motif_other: int
    centre: int
    antenne: int
    closed: int
    lieu_other: int
    jeanne: int  # email and mobile
    paul: int  # landline only
    zoe: int  # Jeanne's child: no contact of her own
    sans: int  # no contact at all
    refus: int  # a mobile, but refuses SMS
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
    people = {key: make.agent(s, f"{key}@demo.test", first, last, organisation=org, role=role, services=[service])
              for key, first, last, role, service in [
                  ("admin", "Camille", "Martin", "admin", pmi), ("basic_pmi", "Julien", "Petit", None, pmi),
                  ("colleague_pmi", "Inès", "Roux", None, pmi), ("basic_social", "Karim", "Haddad", None, social),
                  ("secretary", "Sofia", "Leroy", None, secretariat)]}
    ids = {key: agent.id for key, agent in people.items()}
    lieux = [make.lieu(s, org), make.lieu(s, org, "Antenne Dainville", "2 rue B, 62000 Dainville"),
             make.lieu(s, org, "Ancien centre", "3 rue C", availability="disabled"),
             make.lieu(s, other, "MDS Lens", "4 rue D, 62300 Lens")]
    motifs = [make.motif(s, org, pmi, color="#aa3377", default_duration_in_min=40),
              make.motif(s, org, social, "Permanence sociale", for_secretariat=True, default_duration_in_min=45),
              make.motif(s, org, pmi, "Rappel", location_type="phone", default_duration_in_min=20),
              make.motif(s, org, pmi, "Bilan", visibility_type="visible_and_not_notified"),
              make.motif(s, org, pmi, "Atelier", collectif=True),
              make.motif(s, other, pmi, "Consultation Lens")]
    jeanne = make.usager(s, "Jeanne", "Dupont", email="jeanne.dupont@example.fr", phone_number="06 12 34 56 78",
                         birth_date=date(1990, 7, 14), organisations=[org])
    usagers = [jeanne,
               make.usager(s, "Paul", "Durand", phone_number="03 21 00 00 00", organisations=[org]),
               make.usager(s, "Zoé", "Dupont", responsible_id=jeanne.id, birth_date=date(2024, 3, 2),
                           organisations=[org]),
               make.usager(s, "Sans", "Contact", organisations=[org]),
               make.usager(s, "Rémi", "Refus", phone_number="0698765432", notify_by_sms=False, organisations=[org]),
               make.usager(s, "Léna", "Morel", email="lena.morel@example.fr", phone_number="0611223344",
                           birth_date=date(1985, 1, 31), organisations=[other]),
               make.usager(s, "Hugo", "Nord", organisations=[far])]
    make.plage(s, ids["basic_pmi"], org, lieux[1], [motifs[0]], title="Antenne", first_day=MONDAY - timedelta(days=7),
               start_time=time(9), end_time=time(12), recurrence={"every": "week", "on": ["monday"]})
    make.plage(s, ids["basic_pmi"], org, lieux[0], [motifs[0]], title="Centre", first_day=TUESDAY,
               start_time=time(9), end_time=time(12))
    uow.commit()
    return World(org.id, other.id, far.id, ids["admin"], ids["basic_pmi"], ids["colleague_pmi"],
                 ids["basic_social"], ids["secretary"], *(m.id for m in motifs), *(lieu.id for lieu in lieux),
                 *(u.id for u in usagers))


def _names(choices: list[rdv_planning.Choice]) -> list[str]:
    return [c.label for c in choices]


# --------------------------------------------------------------------------- what the form offers


def test_a_slot_keeps_its_choices_and_the_motif_gives_the_duration(uow: UnitOfWork, world: World) -> None:
    draft = rdv_planning.draft(uow, world.admin, world.org, motif_id=world.consultation, day=MONDAY,
                               start_time=time(9, 40), agent_ids=[world.basic_pmi], lieu_id=world.centre)
    assert (draft.motif_name, draft.service_name, draft.motif_colour) == ("Consultation", "PMI", "#aa3377")
    assert (draft.day, draft.start_time, draft.duration_in_min) == (MONDAY, time(9, 40), 40)
    assert (draft.agent_ids, draft.lieu_id, draft.needs_lieu) == ([world.basic_pmi], world.centre, True)
    # The motif's service, by name; the secretary and the social worker are not offered.
    assert _names(draft.agents) == ["Camille Martin", "Julien Petit", "Inès Roux"]
    assert _names(draft.lieux) == ["Antenne Dainville", "Centre Arras"]  # enabled lieux of this organisation
    assert (draft.participants, draft.contact_warning) == ([], "")


def test_an_empty_time_defaults_to_the_lieu_of_the_plage_holding_it(uow: UnitOfWork, world: World) -> None:
    def lieu_at(day: date, at: time) -> int | None:
        return rdv_planning.draft(uow, world.admin, world.org, motif_id=world.consultation, day=day, start_time=at,
                                  agent_ids=[world.basic_pmi]).lieu_id

    assert lieu_at(MONDAY, time(9)) == world.antenne  # the weekly plage
    assert lieu_at(MONDAY + timedelta(days=7), time(11, 55)) == world.antenne
    assert lieu_at(TUESDAY, time(10)) == world.centre  # the one-off plage
    assert lieu_at(TUESDAY + timedelta(days=7), time(10)) is None  # no plage: the agent chooses
    assert lieu_at(MONDAY, time(12)) is None  # the plage has ended


def test_without_agents_the_actor_is_chosen_when_the_motif_is_theirs(uow: UnitOfWork, world: World) -> None:
    assert rdv_planning.draft(uow, world.basic_pmi, world.org, motif_id=world.consultation).agent_ids == [
        world.basic_pmi]
    # Camille (PMI) plans a social motif: she is not offered, nobody is chosen for her.
    social = rdv_planning.draft(uow, world.admin, world.org, motif_id=world.permanence)
    assert social.agent_ids == []
    # Open to the secrétariat: the secretary is offered with the social workers, by last name.
    assert _names(social.agents) == ["Karim Haddad", "Sofia Leroy"]
    assert (social.duration_in_min, social.lieu_id) == (45, None)  # two lieux: no guess


def test_an_agent_chosen_outside_the_motifs_service_stays_offered(uow: UnitOfWork, world: World) -> None:
    """From the agenda of a secretary, for instance: the chosen agent is kept."""
    draft = rdv_planning.draft(uow, world.admin, world.org, motif_id=world.consultation,
                               agent_ids=[world.secretary])
    assert draft.agent_ids == [world.secretary]
    assert "Sofia Leroy" in _names(draft.agents)


def test_choices_the_actor_may_not_use_are_replaced_by_the_defaults(uow: UnitOfWork, world: World) -> None:
    """A basic agent's link names a social worker, another organisation's lieu and a duration of zero."""
    draft = rdv_planning.draft(uow, world.basic_pmi, world.org, motif_id=world.consultation,
                               agent_ids=[world.basic_social, 999_999], lieu_id=world.lieu_other, duration_in_min=0)
    assert draft.agent_ids == [world.basic_pmi]
    assert "Karim Haddad" not in _names(draft.agents)
    assert (draft.lieu_id, draft.duration_in_min) == (None, 40)
    closed = rdv_planning.draft(uow, world.admin, world.org, motif_id=world.consultation, lieu_id=world.closed)
    assert closed.lieu_id is None


def test_a_motif_without_lieu_says_where_it_takes_place(uow: UnitOfWork, world: World) -> None:
    draft = rdv_planning.draft(uow, world.admin, world.org, motif_id=world.by_phone, lieu_id=world.centre)
    assert (draft.needs_lieu, draft.lieu_id, draft.lieux, draft.place_label) == (False, None, [], "Par téléphone")
    assert draft.duration_in_min == 20


@pytest.mark.parametrize(("actor", "motif", "error"), [
    ("admin", "motif_other", NotFound),  # another organisation's motif
    ("basic_social", "consultation", PermissionDenied),  # another service's motif
    ("admin", "atelier", DomainError),  # collectif: planned elsewhere
])
def test_a_motif_the_actor_may_not_plan_is_refused(uow: UnitOfWork, world: World, actor: str, motif: str,
                                                   error: type[Exception]) -> None:
    with pytest.raises(error) as caught:
        rdv_planning.draft(uow, getattr(world, actor), world.org, motif_id=getattr(world, motif))
    assert caught.value.message  # type: ignore[attr-defined]


def test_an_agent_of_another_organisation_gets_nothing(uow: UnitOfWork, world: World) -> None:
    with pytest.raises(PermissionDenied):
        rdv_planning.draft(uow, world.admin, world.other_org, motif_id=world.motif_other)


# --------------------------------------------------------------------------- participants


def test_participants_as_the_organisation_may_see_them(uow: UnitOfWork, world: World) -> None:
    people = rdv_planning.participants(uow, world.admin, world.org, motif_id=world.consultation,
                                       usager_ids=[world.jeanne, world.lena, world.zoe, world.jeanne])
    assert [(p.id, p.name, p.from_other_organisation) for p in people] == [
        (world.jeanne, "DUPONT Jeanne", False), (world.lena, "MOREL Léna", True), (world.zoe, "DUPONT Zoé", False)]
    assert people[0].details == ["Né(e) le 14/07/1990", "Tél. 06 12 34 56 78", "jeanne.dupont@example.fr"]
    # Another organisation's usager (domain.md section 8): birth year, phone middle and email hidden.
    assert people[1].details == ["Né(e) le 31/01/****", "Tél. 06******44", "l******l@example.fr"]
    assert all("1985" not in d and "lena.morel" not in d for d in people[1].details)
    # A child's messages go to the responsible parent.
    assert people[2].notified_through == "DUPONT Jeanne (responsable)"
    assert (people[2].by_sms, people[2].by_email, people[2].send_lifecycle_notifications) == (True, True, True)


def test_a_territory_visible_throughout_shows_other_organisations_usagers_in_full(uow: UnitOfWork,
                                                                                    world: World) -> None:
    uow.session.execute(sa.update(Territory).values(visible_users_throughout_the_territory=True))
    uow.commit()
    (lena,) = rdv_planning.participants(uow, world.admin, world.org, motif_id=world.consultation,
                                        usager_ids=[world.lena])
    assert lena.details == ["Né(e) le 31/01/1985", "Tél. 0611223344", "lena.morel@example.fr"]
    assert lena.from_other_organisation


@pytest.mark.parametrize(("usager", "sms", "email", "note"), [
    ("jeanne", True, True, "Notifications par SMS et par email."),
    ("paul", False, False, "Aucune notification possible : ni numéro de mobile ni email (ou l'usager les a refusées)."),
    ("sans", False, False, "Aucune notification possible : ni numéro de mobile ni email (ou l'usager les a refusées)."),
    ("refus", False, False, "Aucune notification possible : ni numéro de mobile ni email (ou l'usager les a refusées)."),
    ("lena", True, True, "Notifications par SMS et par email."),
])
def test_who_can_be_notified_and_the_defaults(uow: UnitOfWork, world: World, usager: str, sms: bool, email: bool,
                                              note: str) -> None:
    (person,) = rdv_planning.participants(uow, world.admin, world.org, motif_id=world.consultation,
                                          usager_ids=[getattr(world, usager)])
    assert (person.by_sms, person.by_email, person.notification_note) == (sms, email, note)
    # On by default for a notified motif, but only for whom a message can reach.
    assert (person.send_lifecycle_notifications, person.send_reminder_notification) == (sms or email, sms or email)


def test_one_channel_missing_is_explained(uow: UnitOfWork, world: World) -> None:
    uow.session.execute(sa.update(Usager).where(Usager.id == world.paul).values(email="paul@example.fr"))
    uow.session.execute(sa.update(Usager).where(Usager.id == world.refus).values(email="remi@example.fr"))
    uow.session.execute(sa.update(Usager).where(Usager.id == world.jeanne).values(notify_by_email=False))
    uow.session.execute(sa.update(Usager).where(Usager.id == world.sans).values(email="sans@example.fr"))
    uow.commit()
    people = rdv_planning.participants(uow, world.admin, world.org, motif_id=world.consultation,
                                       usager_ids=[world.paul, world.refus, world.jeanne, world.sans])
    assert [p.notification_note for p in people] == [
        "Notifications par email uniquement (le numéro n'est pas un mobile).",
        "Notifications par email uniquement (l'usager a refusé les SMS).",
        "Notifications par SMS uniquement (l'usager a refusé les emails).",
        "Notifications par email uniquement (pas de numéro de téléphone).",
    ]


def test_a_motif_that_does_not_notify_starts_with_notifications_off(uow: UnitOfWork, world: World) -> None:
    (jeanne,) = rdv_planning.participants(uow, world.admin, world.org, motif_id=world.not_notified,
                                          usager_ids=[world.jeanne])
    assert (jeanne.by_sms, jeanne.send_lifecycle_notifications, jeanne.send_reminder_notification) == (
        True, False, False)


def test_a_phone_rdv_nobody_can_be_called_for_is_flagged(uow: UnitOfWork, world: World) -> None:
    draft = rdv_planning.draft(uow, world.admin, world.org, motif_id=world.by_phone, usager_ids=[world.sans])
    assert draft.contact_warning == ("Ce RDV a lieu par téléphone : aucun participant n'a de numéro de téléphone "
                                     "mobile enregistré.")
    reachable = rdv_planning.draft(uow, world.admin, world.org, motif_id=world.by_phone,
                                   usager_ids=[world.sans, world.jeanne])
    assert reachable.contact_warning == ""


@pytest.mark.parametrize(("usager", "error"), [("far", PermissionDenied), ("missing", NotFound)])
def test_usagers_outside_the_territory_or_unknown_are_refused(uow: UnitOfWork, world: World, usager: str,
                                                              error: type[Exception]) -> None:
    usager_id = getattr(world, usager, 999_999)
    with pytest.raises(error):
        rdv_planning.participants(uow, world.admin, world.org, motif_id=world.consultation, usager_ids=[usager_id])
    with pytest.raises(error):
        rdv_planning.draft(uow, world.admin, world.org, motif_id=world.consultation, usager_ids=[usager_id])


# --------------------------------------------------------------------------- confirming


def _plan(uow: UnitOfWork, world: World, **overrides: Any) -> int:
    values: dict[str, Any] = dict(motif_id=world.consultation, day=MONDAY, start_time=time(9, 30),
                                  duration_in_min=40, agent_ids=[world.basic_pmi], lieu_id=world.antenne,
                                  usager_ids=[world.jeanne, world.lena], notify={world.lena: (False, True)},
                                  now=NOW)
    values.update(overrides)
    return rdv_planning.plan(uow, world.admin, world.org, **values)


def _count(uow: UnitOfWork, model: type) -> int:
    return uow.session.exec(select(sa.func.count()).select_from(model)).one()


def test_plan_from_the_forms_local_time(uow: UnitOfWork, world: World) -> None:
    rdv_id = _plan(uow, world)
    rdv = uow.session.exec(select(Rdv).where(Rdv.id == rdv_id)).one()
    assert rdv.starts_at.replace(tzinfo=UTC) == datetime(2026, 12, 7, 8, 30, tzinfo=UTC)  # 09h30 in Paris
    assert rdv.ends_at - rdv.starts_at == timedelta(minutes=40)
    assert uow.session.exec(select(RdvAgent.agent_id).where(RdvAgent.rdv_id == rdv_id)).all() == [world.basic_pmi]
    flags = {p.usager_id: (p.send_lifecycle_notifications, p.send_reminder_notification)
             for p in uow.session.exec(select(Participation).where(Participation.rdv_id == rdv_id)).all()}
    assert flags == {world.jeanne: (True, True), world.lena: (False, True)}
    profiles = uow.session.exec(select(UsagerProfile.organisation_id).where(UsagerProfile.usager_id == world.lena))
    assert sorted(profiles.all()) == sorted([world.org, world.other_org])


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"day": None}, "day", "Indiquez la date du RDV (jj/mm/aaaa)."),
    ({"start_time": None}, "start_time", "Indiquez l'heure de début du RDV (hh:mm)."),
    ({"duration_in_min": None}, "duration_in_min", "Indiquez la durée du RDV en minutes."),
    ({"duration_in_min": 0}, "duration_in_min", "La durée doit être comprise entre 1 minute et 24 heures."),
    ({"day": date(2027, 3, 28), "start_time": time(2, 30)}, "start_time",
     "Cette heure n'existe pas ce jour-là (changement d'heure) : choisissez-en une autre."),
    ({"agent_ids": []}, "agent_ids", "Choisissez au moins un agent."),
    ({"lieu_id": None}, "lieu_id", "Choisissez un lieu."),
    ({"usager_ids": [], "notify": {}}, "usager_ids", "Ajoutez au moins un usager."),
])
def test_bad_fields_get_a_french_message_and_change_nothing(uow: UnitOfWork, world: World,
                                                            overrides: dict[str, Any], field: str,
                                                            message: str) -> None:
    with pytest.raises(DomainError) as caught:
        _plan(uow, world, **overrides)
    assert (caught.value.field, caught.value.message) == (field, message)
    assert _count(uow, Rdv) == 0 and _count(uow, Participation) == 0


def test_a_warning_needs_confirmation_then_an_exact_duplicate_is_refused(uow: UnitOfWork, world: World) -> None:
    with pytest.raises(NeedsConfirmation) as caught:
        _plan(uow, world, start_time=time(14))  # outside the plage
    assert caught.value.warnings == ["Ce créneau est en dehors des plages d'ouverture des agents pour ce motif."]
    assert _count(uow, Rdv) == 0
    _plan(uow, world, start_time=time(14), confirm_warnings=True)
    with pytest.raises(DomainError) as duplicate:
        _plan(uow, world, start_time=time(14), confirm_warnings=True)
    assert not isinstance(duplicate.value, NeedsConfirmation)
    assert duplicate.value.message == "Un RDV identique existe déjà : même motif, lieu, horaire et participants."
    assert _count(uow, Rdv) == 1


def test_confirming_waits_for_another_writer_instead_of_failing(db_url: str, world: World) -> None:
    """The notification worker writes while agents plan: on SQLite a planning transaction that began
    by reading would fail with "database is locked" once the other writer commits; it waits its turn."""
    holding, release = threading.Event(), threading.Event()

    def other_writer() -> None:
        with UnitOfWork(db_url) as other:
            other.session.execute(sa.update(Usager).where(Usager.id == world.paul).values(notes="Rappeler"))
            holding.set()
            release.wait(5)
            other.commit()

    thread = threading.Thread(target=other_writer)
    thread.start()
    assert holding.wait(5)
    threading.Timer(0.3, release.set).start()
    try:
        with UnitOfWork(db_url) as mine:
            rdv_id = _plan(mine, world)
    finally:
        release.set()
        thread.join(5)
    with UnitOfWork(db_url) as check:
        assert check.session.exec(select(Rdv.id)).all() == [rdv_id]
        assert check.session.exec(select(Usager.notes).where(Usager.id == world.paul)).one() == "Rappeler"


def test_the_agenda_says_which_rdv_was_created_to_whom_may_see_it(uow: UnitOfWork, world: World) -> None:
    rdv_id = _plan(uow, world)
    assert rdv_planning.created_summary(uow, world.admin, world.org, rdv_id) == (
        "Le RDV « Consultation » du lundi 7 décembre 2026 à 09h30 a été créé.")
    with pytest.raises(PermissionDenied):
        rdv_planning.created_summary(uow, world.basic_social, world.org, rdv_id)


def test_describe_says_the_day_and_time_in_french() -> None:
    assert rdv_planning.describe(MONDAY, time(9, 5)) == "lundi 7 décembre 2026 à 09h05"


def test_the_agenda_shows_the_agents_of_the_rdv_just_created(uow: UnitOfWork, world: World) -> None:
    # The admin plans for a colleague: the agenda opens with that colleague's column.
    rdv_id = _plan(uow, world)
    assert rdv_planning.created_rdv_agents(uow, world.admin, world.org, rdv_id) == [world.basic_pmi]
    with pytest.raises(PermissionDenied):
        rdv_planning.created_rdv_agents(uow, world.basic_social, world.org, rdv_id)
