"""Fusionner deux usagers (admin-domain.md 2.3 and 2.4), on SQLite and PostgreSQL: fields chosen one by
one, RDVs, relatives, referents and profiles moved, FranceConnect kept, the merged record anonymised or left
to the other organisations that follow it, a failure half-way that changes nothing, refusals, webhooks and
no message to the usager."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import factories as make
import pytest
import sqlalchemy as sa
from db_snapshot import refused
from sqlmodel import col, select

from rdv_app.db.models import (
    AuditLog,
    OutboxMessage,
    Participation,
    Rdv,
    ReferentAssignation,
    Territory,
    Usager,
    UsagerProfile,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain.enums import Channel, RdvStatus
from rdv_app.services.boundary import REFUSED
from rdv_app.services.retention import DELETED_FIRST_NAME, DELETED_LAST_NAME
from rdv_app.services.usagers import merge


@dataclass
class World:
    territory: int
    org: int
    other_org: int
    far_org: int
    agent: int
    colleague: int
    outsider: int
    far_agent: int
    motif: int
    other_motif: int
    a: int
    b: int


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    s = uow.session
    territory, far_territory = make.territory(s), make.territory(s, "59", "Nord")
    org = make.organisation(s, territory)
    other_org = make.organisation(s, territory, "MDS Lens", "mds-lens")
    far_org = make.organisation(s, far_territory, "PMI Lille", "pmi-lille")
    pmi = make.service(s)
    agent = make.agent(s, "agent@demo.test", "Camille", "Martin", organisation=org, services=[pmi])
    colleague = make.agent(s, "collegue@demo.test", "Paul", "Durand", organisation=org, services=[pmi])
    outsider = make.agent(s, "outsider@demo.test", "Marc", "Blanc", organisation=other_org, services=[pmi])
    far_agent = make.agent(s, "far@demo.test", "Lise", "Nord", organisation=far_org, services=[pmi])
    motif = make.motif(s, org, pmi)
    other_motif = make.motif(s, other_org, pmi)
    a = make.usager(s, "Anna", "Swan", organisations=[org], email="anna.swan@exemple.fr", phone_number="06 12 34 56 78",
                    phone_number_formatted="+33612345678", birth_date=date(1990, 1, 2), address="1 rue A",
                    post_code="62000", city_name="Arras", notes="Note de A")
    b = make.usager(s, "Ana", "Swan", organisations=[org], email="ana@exemple.fr", phone_number="07 98 76 54 32",
                    phone_number_formatted="+33798765432", birth_date=date(1990, 1, 2), birth_name="Cygne",
                    address="2 rue B", post_code="62000", city_name="Arras", notes="Note de B")
    uow.commit()
    return World(territory.id, org.id, other_org.id, far_org.id, agent.id, colleague.id, outsider.id, far_agent.id,
                 motif.id, other_motif.id, a.id, b.id)


ALL_FROM_A = {"email": 1, "first_name": 1, "birth_name": 1, "phone_number": 1, "address": 1}


def _merge(uow: UnitOfWork, world: World, choices: dict[str, int], *, a: int | None = None, b: int | None = None,
           agent: int | None = None, org: int | None = None) -> merge.MergeOutcome:
    return merge.merge_usagers(uow, agent or world.agent, org or world.org, a or world.a, b or world.b, choices)


def _usager(db_url: str, usager_id: int) -> Usager:
    with UnitOfWork(db_url, read_only=True) as uow:
        usager = uow.session.get(Usager, usager_id)
        assert usager is not None
        uow.session.expunge(usager)
        return usager


def _rdv(db_url: str, world: World, usagers: list[int], *, days: int = 3, org: str = "org",
         **fields: Any) -> int:
    with UnitOfWork(db_url) as uow:
        organisation, motif = ((world.org, world.motif) if org == "org" else (world.other_org, world.other_motif))
        agent = world.agent if org == "org" else world.outsider
        rdv = make.rdv(uow.session, organisation, motif, clock.now() + timedelta(days=days), agents=[agent],
                       usagers=usagers, **fields)
        uow.commit()
        assert rdv.id is not None
        return rdv.id


def _participations(db_url: str, rdv_id: int) -> dict[int, str]:
    with UnitOfWork(db_url, read_only=True) as uow:
        return {p.usager_id: p.status for p in uow.session.exec(
            select(Participation).where(Participation.rdv_id == rdv_id)).all()}


# --------------------------------------------------------------------------- fields


def test_the_fields_chosen_on_each_side_end_on_the_kept_record(uow: UnitOfWork, db_url: str, world: World) -> None:
    preview = merge.merge_preview(uow, world.agent, world.org, world.a, world.b)
    # The notes differ too, but the territory does not show them.
    assert set(preview.choices_needed) == {"email", "first_name", "birth_name", "phone_number", "address"}
    assert {r.field: r.kind for r in preview.rows}["birth_date"] == "identical"
    assert {r.field: (r.value_a, r.value_b) for r in preview.rows}["address"] == ("1 rue A, 62000 Arras",
                                                                                  "2 rue B, 62000 Arras")

    outcome = _merge(uow, world, {"email": 1, "first_name": 2, "birth_name": 2, "phone_number": 2, "address": 1})

    assert (outcome.kept_usager_id, outcome.merged_usager_id, outcome.anonymised) == (world.a, world.b, True)
    kept = _usager(db_url, world.a)
    assert (kept.first_name, kept.last_name, kept.email, kept.birth_name) == ("Ana", "Swan", "anna.swan@exemple.fr",
                                                                             "Cygne")
    assert (kept.phone_number, kept.phone_number_formatted) == ("07 98 76 54 32", "+33798765432")
    assert (kept.address, kept.notes) == ("1 rue A", "Note de A")


def test_the_email_chosen_decides_which_record_is_kept(uow: UnitOfWork, db_url: str, world: World) -> None:
    outcome = _merge(uow, world, {**ALL_FROM_A, "email": 2})

    assert (outcome.kept_usager_id, outcome.merged_usager_id) == (world.b, world.a)
    kept = _usager(db_url, world.b)
    assert (kept.email, kept.first_name, kept.phone_number_formatted) == ("ana@exemple.fr", "Anna", "+33612345678")
    assert _usager(db_url, world.a).deleted_at is not None


def test_notes_are_merged_only_when_the_territory_shows_them_and_as_chosen(uow: UnitOfWork, db_url: str,
                                                                           world: World) -> None:
    territory = uow.session.get(Territory, world.territory)
    assert territory is not None
    territory.enable_notes_field = True
    uow.session.add(territory)
    uow.commit()
    with pytest.raises(merge.DomainError, match="Choisissez la valeur à conserver pour « Remarques »"):
        _merge(uow, world, ALL_FROM_A)
    _merge(uow, world, {**ALL_FROM_A, "notes": 2})
    assert _usager(db_url, world.a).notes == "Note de B"


def test_social_fields_show_with_their_labels_and_merge_only_under_their_toggles(uow: UnitOfWork, db_url: str,
                                                                                 world: World) -> None:
    for usager_id, logement, children in ((world.a, "locataire", 2), (world.b, "heberge", 3)):
        usager = uow.session.get(Usager, usager_id)
        assert usager is not None
        usager.logement, usager.number_of_children, usager.affiliation_number = logement, children, "A123"
        uow.session.add(usager)
    territory = uow.session.get(Territory, world.territory)
    assert territory is not None
    territory.enable_logement_field = True
    uow.session.add(territory)
    uow.commit()

    preview = merge.merge_preview(uow, world.agent, world.org, world.a, world.b)
    rows = {r.field: (r.value_a, r.value_b) for r in preview.rows}
    assert rows["logement"] == ("Locataire", "Hébergé")
    assert "number_of_children" not in rows and "affiliation_number" not in rows  # their toggles are off
    _merge(uow, world, {**ALL_FROM_A, "logement": 2})
    kept = _usager(db_url, world.a)
    assert (kept.logement, kept.number_of_children) == ("heberge", 2)


def test_the_merged_record_without_organisation_left_is_anonymised(uow: UnitOfWork, db_url: str,
                                                                    world: World) -> None:
    _merge(uow, world, ALL_FROM_A)

    gone = _usager(db_url, world.b)
    assert (gone.first_name, gone.last_name) == (DELETED_FIRST_NAME, DELETED_LAST_NAME)
    assert gone.deleted_at is not None
    assert all(getattr(gone, column) is None for column in ("email", "phone_number", "phone_number_formatted",
                                                            "birth_date", "birth_name", "address", "notes"))
    with UnitOfWork(db_url, read_only=True) as check:
        assert check.session.exec(select(UsagerProfile).where(UsagerProfile.usager_id == world.b)).all() == []
        history = {(row.entity_id, row.action) for row in check.session.exec(select(AuditLog)).all()}
    assert {(str(world.a), "merged"), (str(world.b), "merged_into")} <= history


# --------------------------------------------------------------------------- RDVs


def test_rdvs_move_and_a_shared_rdv_keeps_one_participation_with_the_most_informative_status(
        uow: UnitOfWork, db_url: str, world: World) -> None:
    only_b = _rdv(db_url, world, [world.b])
    both = _rdv(db_url, world, [world.a, world.b], days=-2)
    with UnitOfWork(db_url) as write:
        write.session.exec(sa.update(Participation).where(col(Participation.rdv_id) == both,
                                                          col(Participation.usager_id) == world.b)
                           .values(status=RdvStatus.SEEN.value))
        write.commit()
    preview = merge.merge_preview(uow, world.agent, world.org, world.a, world.b)
    assert (preview.a.rdv_count, preview.b.rdv_count, preview.b.upcoming_count) == (1, 2, 1)

    outcome = _merge(uow, world, ALL_FROM_A)

    assert outcome.moved_participations == 2
    assert _participations(db_url, only_b) == {world.a: RdvStatus.UNKNOWN.value}
    assert _participations(db_url, both) == {world.a: RdvStatus.SEEN.value}
    with UnitOfWork(db_url, read_only=True) as check:
        shared = check.session.get(Rdv, both)
        assert shared is not None
        assert (shared.status, shared.users_count) == (RdvStatus.SEEN.value, 1)


def test_rdvs_of_other_organisations_stay_with_the_merged_record_they_follow(uow: UnitOfWork, db_url: str,
                                                                            world: World) -> None:
    """RDV Service Public #3429/#3584: the merged record that another organisation follows stays there,
    with that organisation's RDVs; this organisation's RDVs move; the screen says so beforehand."""
    uow.session.add(UsagerProfile(organisation_id=world.other_org, usager_id=world.b))
    uow.commit()
    here = _rdv(db_url, world, [world.b])
    there = _rdv(db_url, world, [world.b], org="other")
    preview = merge.merge_preview(uow, world.agent, world.org, world.a, world.b)
    assert (preview.b.stays_elsewhere, preview.b.rdv_count) == (True, 1)
    assert preview.a.stays_elsewhere is False

    outcome = _merge(uow, world, ALL_FROM_A)

    assert outcome.anonymised is False
    assert _participations(db_url, here) == {world.a: RdvStatus.UNKNOWN.value}
    assert _participations(db_url, there) == {world.b: RdvStatus.UNKNOWN.value}
    survivor = _usager(db_url, world.b)
    assert (survivor.deleted_at, survivor.first_name, survivor.email) == (None, "Ana", "ana@exemple.fr")
    with UnitOfWork(db_url, read_only=True) as check:
        profiles = set(check.session.exec(select(UsagerProfile.usager_id, UsagerProfile.organisation_id)).all())
    assert profiles == {(world.a, world.org), (world.b, world.other_org)}


def test_an_anonymised_record_leaves_no_participation_behind(uow: UnitOfWork, db_url: str, world: World) -> None:
    """B has an RDV in another organisation that no longer follows B: nobody keeps B, so the RDV moves."""
    there = _rdv(db_url, world, [world.b], org="other")
    preview = merge.merge_preview(uow, world.agent, world.org, world.a, world.b)
    assert (preview.b.stays_elsewhere, preview.b.rdv_count) == (False, 1)

    assert _merge(uow, world, ALL_FROM_A).anonymised is True

    assert _participations(db_url, there) == {world.a: RdvStatus.UNKNOWN.value}


def test_in_a_territory_visible_throughout_profiles_and_rdvs_of_the_territory_move(uow: UnitOfWork, db_url: str,
                                                                                   world: World) -> None:
    territory = uow.session.get(Territory, world.territory)
    assert territory is not None
    territory.visible_users_throughout_the_territory = True
    uow.session.add(territory)
    uow.session.add(UsagerProfile(organisation_id=world.other_org, usager_id=world.b))
    uow.session.add(UsagerProfile(organisation_id=world.far_org, usager_id=world.b))
    uow.commit()
    there = _rdv(db_url, world, [world.b], org="other")

    assert _merge(uow, world, ALL_FROM_A).anonymised is False

    assert _participations(db_url, there) == {world.a: RdvStatus.UNKNOWN.value}
    with UnitOfWork(db_url, read_only=True) as check:
        profiles = set(check.session.exec(select(UsagerProfile.usager_id, UsagerProfile.organisation_id)).all())
    # The union in the territory; the other territory's organisation keeps B.
    assert profiles == {(world.a, world.org), (world.a, world.other_org), (world.b, world.far_org)}


# --------------------------------------------------------------------------- relatives, referents, FranceConnect


def test_relatives_and_referents_move_without_duplicates(uow: UnitOfWork, db_url: str, world: World) -> None:
    s = uow.session
    child = make.usager(s, "Léo", "Swan", organisations=[make_org(s, world.org)], responsible_id=world.b,
                        birth_date=date(2020, 5, 1))
    s.add_all([ReferentAssignation(usager_id=world.a, agent_id=world.agent),
               ReferentAssignation(usager_id=world.b, agent_id=world.agent),
               ReferentAssignation(usager_id=world.b, agent_id=world.colleague)])
    uow.commit()
    preview = merge.merge_preview(uow, world.agent, world.org, world.a, world.b)
    assert preview.b.relatives == ("SWAN Léo",)
    assert len(preview.b.referents) == 2 and len(preview.a.referents) == 1

    _merge(uow, world, ALL_FROM_A)

    assert _usager(db_url, child.id).responsible_id == world.a  # type: ignore[arg-type]
    with UnitOfWork(db_url, read_only=True) as check:
        referents = check.session.exec(select(ReferentAssignation.usager_id, ReferentAssignation.agent_id)).all()
    assert sorted(referents) == sorted([(world.a, world.agent), (world.a, world.colleague)])


def make_org(s: Any, organisation_id: int) -> Any:
    organisation = s.get(make.Organisation, organisation_id)
    assert organisation is not None
    return organisation


def _set_responsibles(uow: UnitOfWork, responsibles: dict[int, int | None]) -> None:
    for usager_id, responsible_id in responsibles.items():
        usager = uow.session.get(Usager, usager_id)
        assert usager is not None
        usager.responsible_id = responsible_id
        uow.session.add(usager)
    uow.commit()


def test_a_relative_is_merged_into_a_responsible_whatever_the_columns(uow: UnitOfWork, db_url: str,
                                                                      world: World) -> None:
    parent = make.usager(uow.session, "Rose", "Swan", organisations=[make_org(uow.session, world.org)])
    _set_responsibles(uow, {world.a: parent.id})
    preview = merge.merge_preview(uow, world.agent, world.org, world.a, world.b)
    # With a relative, only the relatives' rows are compared.
    assert [r.field for r in preview.rows] == ["first_name", "last_name", "birth_date", "responsible_id"]

    outcome = _merge(uow, world, {"first_name": 1, "responsible_id": 2})

    assert (outcome.kept_usager_id, outcome.merged_usager_id) == (world.b, world.a)
    kept = _usager(db_url, world.b)
    assert (kept.first_name, kept.email, kept.responsible_id) == ("Anna", "ana@exemple.fr", None)


def test_a_kept_record_that_would_be_its_own_responsible_gets_none(uow: UnitOfWork, db_url: str,
                                                                   world: World) -> None:
    _set_responsibles(uow, {world.a: world.b})  # A is B's relative: B is kept

    outcome = _merge(uow, world, {"first_name": 1, "responsible_id": 1})

    assert outcome.kept_usager_id == world.b
    assert _usager(db_url, world.b).responsible_id is None


def test_a_responsible_cycle_is_never_made(uow: UnitOfWork, db_url: str, world: World) -> None:
    """A and B are relatives (of X and Y), X is B's relative: X moves to A, and A keeping X as responsible
    would make A -> X -> A."""
    s = uow.session
    x = make.usager(s, "Xavier", "Swan", organisations=[make_org(s, world.org)])
    y = make.usager(s, "Yves", "Swan", organisations=[make_org(s, world.org)])
    _set_responsibles(uow, {world.a: x.id, world.b: y.id, x.id: world.b})  # type: ignore[dict-item]

    outcome = _merge(uow, world, {"first_name": 1, "responsible_id": 1})

    assert outcome.kept_usager_id == world.a
    assert _usager(db_url, x.id).responsible_id == world.a  # type: ignore[arg-type]
    assert _usager(db_url, world.a).responsible_id is None


def test_franceconnect_identity_and_link_are_kept_whichever_side(uow: UnitOfWork, db_url: str, world: World) -> None:
    b = uow.session.get(Usager, world.b)
    assert b is not None
    b.franceconnect_sub, b.logged_once_with_franceconnect = "fc-sub-ana", True
    uow.session.add(b)
    uow.commit()
    preview = merge.merge_preview(uow, world.agent, world.org, world.a, world.b)
    assert {r.field: r.forced for r in preview.rows if r.forced} == {"first_name": 2, "birth_name": 2}
    refused(db_url, lambda u: _merge(u, world, ALL_FROM_A), r"« Prénom » ne peut pas être modifié\(e\) car un des "
                                                            "usagers utilise FranceConnect")

    _merge(uow, world, {"email": 1, "phone_number": 1, "address": 1})

    kept = _usager(db_url, world.a)
    assert (kept.first_name, kept.birth_name, kept.franceconnect_sub, kept.logged_once_with_franceconnect) == (
        "Ana", "Cygne", "fc-sub-ana", True)


def test_two_franceconnect_identities_are_two_people(db_url: str, world: World) -> None:
    with UnitOfWork(db_url) as write:
        write.session.exec(sa.update(Usager).where(col(Usager.id) == world.a).values(franceconnect_sub="fc-a"))
        write.session.exec(sa.update(Usager).where(col(Usager.id) == world.b).values(franceconnect_sub="fc-b"))
        write.commit()
    refused(db_url, lambda u: _merge(u, world, ALL_FROM_A), "chacun liés à un compte FranceConnect")


# --------------------------------------------------------------------------- all or nothing, refusals


@pytest.fixture
def failing_anonymisation(db_url: str) -> Any:
    """A trigger, at the database, that refuses to stamp an usager deleted: the last step of a merge."""
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("CREATE FUNCTION fail_merge() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION "
                                 "'panne' USING ERRCODE = 'check_violation'; END $$ LANGUAGE plpgsql"))
            conn.execute(sa.text("CREATE TRIGGER fail_merge BEFORE UPDATE ON usager FOR EACH ROW "
                                 "WHEN (NEW.deleted_at IS NOT NULL) EXECUTE FUNCTION fail_merge()"))
        else:
            conn.execute(sa.text("CREATE TRIGGER fail_merge BEFORE UPDATE ON usager "
                                 "WHEN NEW.deleted_at IS NOT NULL BEGIN SELECT RAISE(ABORT, 'panne'); END"))
    yield
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TRIGGER fail_merge" + (" ON usager" if conn.dialect.name == "postgresql" else "")))
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("DROP FUNCTION fail_merge()"))
    engine.dispose()


def test_a_merge_interrupted_half_way_changes_nothing(uow: UnitOfWork, db_url: str, world: World,
                                                      failing_anonymisation: None) -> None:
    s = uow.session
    make.webhook(s, world.org, subscriptions=["user", "user_profile", "rdv", "referent_assignation"])
    make.usager(s, "Léo", "Swan", organisations=[make_org(s, world.org)], responsible_id=world.b)
    s.add(ReferentAssignation(usager_id=world.b, agent_id=world.colleague))
    uow.commit()
    _rdv(db_url, world, [world.a, world.b])
    _rdv(db_url, world, [world.b])

    refused(db_url, lambda u: _merge(u, world, ALL_FROM_A), REFUSED)


def test_refusals_change_nothing(db_url: str, world: World) -> None:
    with UnitOfWork(db_url) as write:
        s = write.session
        stranger = make.usager(s, "Ana", "Swan", organisations=[make_org(s, world.other_org)]).id
        far = make.usager(s, "Ana", "Swan", organisations=[make_org(s, world.far_org)]).id
        deleted = make.usager(s, "Ana", "Swan", organisations=[make_org(s, world.org)],
                              deleted_at=clock.now()).id
        write.commit()
    assert stranger and far and deleted
    refused(db_url, lambda u: _merge(u, world, {}, b=world.a), "Vous ne pouvez pas fusionner un usager avec lui-même")
    for forged in (stranger, far, deleted, 987_654):
        refused(db_url, lambda u, forged=forged: _merge(u, world, ALL_FROM_A, b=forged),
                "n'existe pas ou n'est pas suivi par votre organisation")
        refused(db_url, lambda u, forged=forged: merge.merge_preview(u, world.agent, world.org, forged, world.a),
                "n'existe pas ou n'est pas suivi par votre organisation")
    refused(db_url, lambda u: _merge(u, world, ALL_FROM_A, agent=world.outsider), "n'appartenez pas")
    refused(db_url, lambda u: _merge(u, world, ALL_FROM_A, agent=world.far_agent, org=world.org), "n'appartenez pas")
    refused(db_url, lambda u: _merge(u, world, {**ALL_FROM_A, "created_through": 2}), "ne peut pas être fusionné")
    refused(db_url, lambda u: _merge(u, world, {**ALL_FROM_A, "phone_number": 3}),
            "Choisissez la valeur à conserver pour « Téléphone »")
    refused(db_url, lambda u: _merge(u, world, {"email": 1}), "Choisissez la valeur à conserver pour « Prénom »")
    refused(db_url, lambda u: merge.merge_usagers(u, world.agent, world.org, world.a, -4, ALL_FROM_A),
            "ne désigne aucun élément")


def test_webhooks_describe_the_merge_and_the_usager_hears_nothing(uow: UnitOfWork, db_url: str,
                                                                  world: World) -> None:
    make.webhook(uow.session, world.org, subscriptions=["user", "user_profile", "rdv"])
    uow.commit()
    _rdv(db_url, world, [world.b])

    _merge(uow, world, ALL_FROM_A)

    with UnitOfWork(db_url, read_only=True) as check:
        messages = check.session.exec(select(OutboxMessage.channel, OutboxMessage.usager_id,
                                             OutboxMessage.payload)).all()
    assert {channel for channel, _, _ in messages} == {Channel.WEBHOOK.value}
    assert all(usager_id is None for _, usager_id, _ in messages)
    bodies = [payload["body"] for _, _, payload in messages]
    described = {(body.split('"model":"')[1].split('"')[0], body.split('"event":"')[1].split('"')[0])
                 for body in bodies}
    assert described == {("User", "updated"), ("User", "destroyed"), ("UserProfile", "destroyed"),
                         ("Rdv", "updated")}


def test_two_agents_merging_the_same_pair_at_once_merge_it_once(db_url: str, world: World) -> None:
    """Camille merges B into A while Paul merges A into B: one merge happens, the other finds a record
    gone, and nothing is left half-merged."""
    _rdv(db_url, world, [world.a, world.b])
    start = threading.Barrier(2)
    results: list[object] = []

    def merge_as(agent: int, a: int, b: int) -> None:
        start.wait()
        try:
            with UnitOfWork(db_url) as uow:
                results.append(merge.merge_usagers(uow, agent, world.org, a, b, ALL_FROM_A))
        except merge.DomainError as refusal:
            results.append(refusal)

    threads = [threading.Thread(target=merge_as, args=(world.agent, world.a, world.b)),
               threading.Thread(target=merge_as, args=(world.colleague, world.b, world.a))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    outcomes = [r for r in results if isinstance(r, merge.MergeOutcome)]
    refusals = [r for r in results if isinstance(r, merge.DomainError)]
    assert len(outcomes) == 1 and len(refusals) == 1, results
    assert "n'existe pas ou n'est pas suivi par votre organisation" in refusals[0].message
    kept, gone = _usager(db_url, outcomes[0].kept_usager_id), _usager(db_url, outcomes[0].merged_usager_id)
    assert kept.deleted_at is None and gone.deleted_at is not None
    with UnitOfWork(db_url, read_only=True) as check:
        assert set(check.session.exec(select(Participation.usager_id)).all()) == {kept.id}
