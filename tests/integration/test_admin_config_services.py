"""Admin configuration at the service level, on SQLite and PostgreSQL: motifs of an organisation and of a
territory (bulk change all-or-nothing), lieux, organisation settings, online booking; rights tried with
other roles and other organisations' ids; audit rows."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

import factories as make
import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from rdv_app.db.models import (
    AgentRole,
    AgentTerritorialRole,
    AuditLog,
    Lieu,
    Motif,
    Organisation,
    OutboxMessage,
    Rdv,
    TerritoryService,
    WebhookEndpoint,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.motif_rules import DAY, HOUR, MINUTE, MONTH, MotifFields
from rdv_app.services.errors import DomainError, FieldErrors, NeedsConfirmation, NotFound, PermissionDenied
from rdv_app.services.organisation import admin_lieux, admin_motifs, admin_organisation, territory_motifs
from rdv_app.services.organisation.admin_lieux import LieuInput
from rdv_app.services.organisation.admin_organisation import OrganisationSettings
from rdv_app.services.organisation.territory_motifs import BulkChange

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
TODAY = date(2026, 12, 4)


@dataclass
class World:
    territory: int
    overseas: int
    org: int  # PMI Arras
    other_org: int  # MDS Lens, same territory
    basic_org: int  # Mairie de Béthune, same territory: admin is only a basic agent there
    roleless_org: int  # CCAS de Liévin, same territory: admin has no role there
    overseas_org: int  # PMI Saint-Denis, territory 974
    admin: int  # admin of org and of other_org, territorial admin of 62
    basic: int  # basic agent of org
    intervenant: int  # intervenant of org
    other_admin: int  # admin of other_org only
    overseas_admin: int  # admin of overseas_org, territorial admin of 974
    pmi: int
    social: int
    secretariat: int
    mairie: int  # not enabled in 974
    lieu: int
    overseas_motif: int
    basic_org_motif: int
    roleless_org_motif: int


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    s = uow.session
    t62 = make.territory(s)
    t974 = make.territory(s, "974", "La Réunion", timezone="Indian/Reunion")
    pmi, social = make.service(s, "PMI"), make.service(s, "Service social", "SOCIAL")
    secretariat = make.service(s, "Secrétariat", "SECR", is_secretariat=True)
    mairie = make.service(s, "Mairie", "Mairie")
    s.add_all([TerritoryService(territory_id=t62.id, service_id=x.id) for x in (pmi, social, secretariat, mairie)])
    s.add(TerritoryService(territory_id=t974.id, service_id=pmi.id))
    org = make.organisation(s, t62)
    other = make.organisation(s, t62, "MDS Lens", "mds-lens")
    bethune = make.organisation(s, t62, "Mairie de Béthune", "mairie-bethune")
    lievin = make.organisation(s, t62, "CCAS de Liévin", "ccas-lievin")
    overseas = make.organisation(s, t974, "PMI Saint-Denis", "pmi-saint-denis")
    agents = [make.agent(s, f"{n}@demo.test", n.title(), "Test")
              for n in ("admin", "basic", "lens", "reunion", "intervenant")]
    admin, basic, lens, reunion, intervenant = agents
    s.add_all([
        AgentRole(agent_id=admin.id, organisation_id=org.id, access_level="admin"),
        AgentRole(agent_id=admin.id, organisation_id=other.id, access_level="admin"),
        AgentRole(agent_id=admin.id, organisation_id=bethune.id, access_level="basic"),
        AgentRole(agent_id=basic.id, organisation_id=org.id, access_level="basic"),
        AgentRole(agent_id=intervenant.id, organisation_id=org.id, access_level="intervenant"),
        AgentRole(agent_id=lens.id, organisation_id=other.id, access_level="admin"),
        AgentRole(agent_id=reunion.id, organisation_id=overseas.id, access_level="admin"),
        AgentTerritorialRole(agent_id=admin.id, territory_id=t62.id),
        AgentTerritorialRole(agent_id=reunion.id, territory_id=t974.id),
    ])
    lieu = make.lieu(s, org, "Centre PMI", "12 Rue Gambetta, 62000 Arras")
    overseas_motif = make.motif(s, overseas, pmi, "Consultation de nourrisson")
    bethune_motif = make.motif(s, bethune, mairie, "Carte d'identité")
    lievin_motif = make.motif(s, lievin, social, "Aide alimentaire")
    world = World(territory=t62.id, overseas=t974.id, org=org.id, other_org=other.id, basic_org=bethune.id,
                  roleless_org=lievin.id, overseas_org=overseas.id, admin=admin.id, basic=basic.id,
                  intervenant=intervenant.id, other_admin=lens.id, overseas_admin=reunion.id, pmi=pmi.id,
                  social=social.id, secretariat=secretariat.id, mairie=mairie.id, lieu=lieu.id,
                  overseas_motif=overseas_motif.id, basic_org_motif=bethune_motif.id,
                  roleless_org_motif=lievin_motif.id)
    uow.commit()
    return world


def _fields(world: World, name: str = "Consultation pédiatrique", **changes) -> MotifFields:
    return replace(MotifFields(name=name, service_id=world.pmi), **changes)


def _create(uow: UnitOfWork, world: World, name: str = "Consultation pédiatrique", org: int | None = None,
            **changes) -> int:
    org = org or world.org
    actor = world.admin if org == world.org else world.other_admin
    return admin_motifs.create_motif(uow, actor, org, _fields(world, name, **changes))


def _motif(db_url: str, motif_id: int) -> Motif | None:
    """The motif as stored, read in a transaction of its own."""
    with UnitOfWork(db_url) as fresh:
        motif = fresh.session.get(Motif, motif_id)
        if motif is not None:
            fresh.session.expunge(motif)
        return motif


def _add_rdv(uow: UnitOfWork, world: World, motif_id: int) -> None:
    start = NOW + timedelta(days=3)
    uow.session.add(Rdv(organisation_id=world.org, motif_id=motif_id, lieu_id=world.lieu, starts_at=start,
                        ends_at=start + timedelta(minutes=30)))
    uow.commit()


def _add_plage(uow: UnitOfWork, world: World, motif_ids: list[int], title: str = "Consultations",
               first_day: date = TODAY + timedelta(days=3), lieu_id: int | None = None) -> int:
    plage = make.plage(uow.session, world.admin, world.org, lieu_id or world.lieu, motif_ids, title=title,
                       first_day=first_day, start_time=time(9), end_time=time(12))
    uow.commit()
    return plage.id  # type: ignore[return-value]


def _audit(uow: UnitOfWork, entity_type: str) -> list[AuditLog]:
    return list(uow.session.exec(select(AuditLog).where(AuditLog.entity_type == entity_type)
                                 .order_by(col(AuditLog.id))).all())


# --------------------------------------------------------------------------- motifs of an organisation


def test_an_admin_creates_a_motif_open_online_with_every_field_and_it_is_audited(uow: UnitOfWork,
                                                                                world: World) -> None:
    data = _fields(world, "  Consultation   pédiatrique ", color="#2E7D32", default_duration_in_min=45,
                   bookable_by="everyone", min_public_booking_delay=2 * HOUR,
                   max_public_booking_delay=6 * 7 * DAY, visibility_type="visible_and_not_notified",
                   sectorisation_level="organisation", follow_up=True, rdvs_editable_by_user=False,
                   restriction_for_rdv="Réservé aux enfants de moins de 6 ans.",
                   instruction_for_rdv="Apportez le carnet de santé.", custom_cancel_warning_message="  ")
    motif_id = admin_motifs.create_motif(uow, world.admin, world.org, data)

    detail = admin_motifs.get_motif(uow, world.admin, world.org, motif_id)
    assert detail.fields.name == "Consultation pédiatrique"
    assert detail.fields.color == "#2e7d32"
    assert detail.fields.custom_cancel_warning_message is None
    assert detail.fields.follow_up and not detail.fields.rdvs_editable_by_user
    [row] = admin_motifs.list_motifs(uow, world.admin, world.org)
    assert (row.open_online, row.bookable_label, row.min_delay, row.max_delay) == (
        True, "Ouvert aux agents et aux usagers", "2 heures", "6 semaines")
    [entry] = _audit(uow, "motif")
    assert (entry.action, entry.actor_agent_id, entry.organisation_id) == ("create", world.admin, world.org)
    assert entry.changes["name"] == [None, "Consultation pédiatrique"]


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"name": "   "}, "name", "Le nom du motif est obligatoire."),
    ({"color": "vert"}, "color", "code hexadécimal"),
    ({"default_duration_in_min": 0}, "default_duration_in_min", "entre 1 et 720 minutes"),
    ({"collectif": True, "location_type": "phone"}, "collectif", "Un motif collectif se déroule forcément sur place"),
    ({"min_public_booking_delay": 10 * MINUTE}, "min_public_booking_delay", "entre 30 minutes et 1 an"),
    ({"max_public_booking_delay": 13 * MONTH}, "max_public_booking_delay", "entre 30 minutes et 1 an"),
    ({"min_public_booking_delay": 2 * DAY, "max_public_booking_delay": DAY}, "max_public_booking_delay",
     "Le délai maximum (1 jour) doit être plus long que le délai minimum (2 jours)."),
    ({"for_secretariat": True, "follow_up": True}, "follow_up", "ne peut pas être ouvert au secrétariat"),
    ({"bookable_by": "nobody"}, "bookable_by", "Choisissez qui peut réserver ce motif."),
])
def test_a_broken_rule_is_reported_on_its_field_and_nothing_is_created(uow: UnitOfWork, world: World, changes,
                                                                       field, message) -> None:
    with pytest.raises(DomainError) as error:
        _create(uow, world, **changes)
    assert error.value.field == field
    assert message in error.value.message
    assert admin_motifs.list_motifs(uow, world.admin, world.org) == []


def test_the_service_is_one_of_the_territory_and_never_the_secretariat(uow: UnitOfWork, world: World) -> None:
    with pytest.raises(DomainError) as secretariat:
        _create(uow, world, service_id=world.secretariat)
    assert secretariat.value.field == "service_id"
    with pytest.raises(DomainError) as mairie:
        admin_motifs.create_motif(uow, world.overseas_admin, world.overseas_org,
                                  _fields(world, "Passeport", service_id=world.mairie))
    assert mairie.value.field == "service_id"
    names = [s.name for s in admin_motifs.service_choices(uow, world.admin, world.org)]
    assert names == ["Mairie", "PMI", "Service social"]


def test_a_name_is_unique_per_service_and_location_type_among_active_motifs(uow: UnitOfWork, world: World) -> None:
    first = _create(uow, world, "Consultation pédiatrique")
    with pytest.raises(DomainError) as error:
        _create(uow, world, "CONSULTATION PEDIATRIQUE")
    assert error.value.field == "name"
    assert "existe déjà pour ce service et ce type de lieu" in error.value.message
    _create(uow, world, "Consultation pédiatrique", location_type="phone")
    _create(uow, world, "Consultation pédiatrique", service_id=world.social)
    _create(uow, world, "Consultation pédiatrique", org=world.other_org)
    # An archived motif frees its name.
    _add_rdv(uow, world, first)
    assert admin_motifs.remove_motif(uow, world.admin, world.org, first, now=NOW) == admin_motifs.ARCHIVED
    _create(uow, world, "Consultation pédiatrique")


def test_an_edit_changes_the_fields_and_is_audited_with_the_difference(uow: UnitOfWork, world: World,
                                                                      db_url: str) -> None:
    motif_id = _create(uow, world)
    admin_motifs.update_motif(uow, world.admin, world.org, motif_id,
                              _fields(world, bookable_by="everyone", max_public_booking_delay=MONTH))
    stored = _motif(db_url, motif_id)
    assert stored is not None
    assert (stored.bookable_by, stored.max_public_booking_delay) == ("everyone", MONTH)
    update = _audit(uow, "motif")[-1]
    assert update.action == "update"
    assert update.changes == {"bookable_by": ["agents", "everyone"], "max_public_booking_delay": [3 * MONTH, MONTH]}


def test_location_type_and_collectif_are_frozen_once_the_motif_has_rdvs(uow: UnitOfWork, world: World) -> None:
    motif_id = _create(uow, world)
    _add_rdv(uow, world, motif_id)
    with pytest.raises(DomainError) as location:
        admin_motifs.update_motif(uow, world.admin, world.org, motif_id, _fields(world, location_type="phone"))
    assert location.value.field == "location_type"
    with pytest.raises(DomainError) as collectif:
        admin_motifs.update_motif(uow, world.admin, world.org, motif_id, _fields(world, collectif=True))
    assert collectif.value.field == "collectif"
    admin_motifs.update_motif(uow, world.admin, world.org, motif_id, _fields(world, default_duration_in_min=20))


def test_a_duplicate_gets_a_free_copy_name_and_the_same_settings(uow: UnitOfWork, world: World) -> None:
    source = _create(uow, world, bookable_by="everyone", instruction_for_rdv="Venez à l'heure.")
    first = admin_motifs.duplicate_motif(uow, world.admin, world.org, source)
    second = admin_motifs.duplicate_motif(uow, world.admin, world.org, source)
    copy = admin_motifs.get_motif(uow, world.admin, world.org, second).fields
    assert admin_motifs.get_motif(uow, world.admin, world.org, first).fields.name == "Consultation pédiatrique (copie)"
    assert copy.name == "Consultation pédiatrique (copie 2)"
    assert (copy.bookable_by, copy.instruction_for_rdv) == ("everyone", "Venez à l'heure.")
    assert [e.action for e in _audit(uow, "motif")] == ["create", "duplicate", "duplicate"]


def test_a_motif_with_rdvs_is_archived_one_without_is_deleted_one_in_a_running_plage_stays(
        uow: UnitOfWork, world: World, db_url: str) -> None:
    with_rdv = _create(uow, world, "Avec RDV")
    without = _create(uow, world, "Sans RDV")
    offered = _create(uow, world, "Proposé")
    _add_rdv(uow, world, with_rdv)
    _add_plage(uow, world, [offered], title="Consultations du mardi")
    # A plage that ended long ago does not keep a motif alive.
    _add_plage(uow, world, [without], title="Ancienne plage", first_day=TODAY - timedelta(days=30))

    assert admin_motifs.remove_motif(uow, world.admin, world.org, with_rdv, now=NOW) == admin_motifs.ARCHIVED
    assert admin_motifs.remove_motif(uow, world.admin, world.org, without, now=NOW) == admin_motifs.DELETED
    with pytest.raises(DomainError) as error:
        admin_motifs.remove_motif(uow, world.admin, world.org, offered, now=NOW)
    assert "« Consultations du mardi »" in error.value.message

    archived = _motif(db_url, with_rdv)
    assert archived is not None and archived.deleted_at is not None
    assert _motif(db_url, without) is None
    assert [r.name for r in admin_motifs.list_motifs(uow, world.admin, world.org)] == ["Proposé"]
    assert [r.name for r in admin_motifs.list_motifs(uow, world.admin, world.org, include_archived=True)] == [
        "Avec RDV", "Proposé"]
    assert [e.action for e in _audit(uow, "motif")][-2:] == ["archive", "delete"]


def test_the_list_filters_by_service_location_type_and_online_booking(uow: UnitOfWork, world: World) -> None:
    _create(uow, world, "Consultation", bookable_by="everyone")
    _create(uow, world, "Conseil par téléphone", location_type="phone")
    _create(uow, world, "Permanence sociale", service_id=world.social, bookable_by="everyone")

    def names(**filters) -> list[str]:
        return [r.name for r in admin_motifs.list_motifs(uow, world.admin, world.org, **filters)]

    assert names() == ["Conseil par téléphone", "Consultation", "Permanence sociale"]
    assert names(service_id=world.social) == ["Permanence sociale"]
    assert names(location_type="phone") == ["Conseil par téléphone"]
    assert names(open_online=True) == ["Consultation", "Permanence sociale"]
    assert names(open_online=False, service_id=world.pmi) == ["Conseil par téléphone"]


# --------------------------------------------------------------------------- rights


def test_only_admins_of_the_organisation_manage_its_motifs_lieux_and_settings(uow: UnitOfWork, world: World,
                                                                              db_url: str) -> None:
    motif_id = _create(uow, world)
    data = _fields(world, "Autre")
    settings = OrganisationSettings(name="PMI Arras piratée")
    for actor in (world.basic, world.intervenant, world.other_admin, world.overseas_admin):
        attempts = [
            lambda a=actor: admin_motifs.list_motifs(uow, a, world.org),
            lambda a=actor: admin_motifs.create_motif(uow, a, world.org, data),
            lambda a=actor: admin_motifs.update_motif(uow, a, world.org, motif_id, data),
            lambda a=actor: admin_motifs.duplicate_motif(uow, a, world.org, motif_id),
            lambda a=actor: admin_motifs.remove_motif(uow, a, world.org, motif_id),
            lambda a=actor: admin_lieux.list_lieux(uow, a, world.org),
            lambda a=actor: admin_lieux.create_lieu(uow, a, world.org, LieuInput("Lieu", "1 rue")),
            lambda a=actor: admin_lieux.set_lieu_enabled(uow, a, world.org, world.lieu, False),
            lambda a=actor: admin_organisation.get_settings(uow, a, world.org),
            lambda a=actor: admin_organisation.update_settings(uow, a, world.org, settings),
            lambda a=actor: admin_organisation.online_booking(uow, a, world.org),
        ]
        for attempt in attempts:
            with pytest.raises(PermissionDenied):
                attempt()
    # An admin reaching into another organisation with ids of its motifs or lieux finds nothing there.
    with pytest.raises(NotFound):
        admin_motifs.update_motif(uow, world.admin, world.org, world.overseas_motif, data)
    with pytest.raises(NotFound):
        admin_motifs.remove_motif(uow, world.admin, world.org, world.overseas_motif)
    with pytest.raises(NotFound):
        admin_motifs.duplicate_motif(uow, world.admin, world.org, world.overseas_motif)
    with pytest.raises(NotFound):
        admin_lieux.update_lieu(uow, world.other_admin, world.other_org, world.lieu, LieuInput("Lieu", "1 rue"))
    with pytest.raises(NotFound):
        admin_lieux.set_lieu_enabled(uow, world.other_admin, world.other_org, world.lieu, False)
    overseas = _motif(db_url, world.overseas_motif)
    assert overseas is not None and overseas.name == "Consultation de nourrisson" and overseas.deleted_at is None
    with UnitOfWork(db_url) as fresh:
        assert fresh.session.get(Organisation, world.org).name == "PMI Arras"  # type: ignore[union-attr]
        assert fresh.session.get(Lieu, world.lieu).availability == "enabled"  # type: ignore[union-attr]
    assert [e.action for e in _audit(uow, "motif")] == ["create"]


def test_only_territorial_admins_use_the_territory_page_and_only_for_their_territory(uow: UnitOfWork,
                                                                                   world: World) -> None:
    motif_id = _create(uow, world)
    change = BulkChange(bookable_by="everyone")
    for actor in (world.basic, world.other_admin, world.overseas_admin):
        with pytest.raises(PermissionDenied):
            territory_motifs.list_territory_motifs(uow, actor, world.territory)
        with pytest.raises(PermissionDenied):
            territory_motifs.apply_bulk_change(uow, actor, world.territory, [motif_id], change)
        with pytest.raises(PermissionDenied):
            territory_motifs.create_in_organisations(uow, actor, world.territory, [world.org], _fields(world, "X"))
    for organisation in (world.org, world.other_org):
        with pytest.raises(PermissionDenied):
            territory_motifs.territory_for(uow, world.other_admin, organisation)
    assert territory_motifs.territory_for(uow, world.admin, world.org).id == world.territory
    # A territorial admin of 62 cannot reach 974 through its territory, its motifs or its organisations.
    with pytest.raises(PermissionDenied):
        territory_motifs.list_territory_motifs(uow, world.admin, world.overseas)
    with pytest.raises(PermissionDenied):
        territory_motifs.preview_bulk_change(uow, world.admin, world.territory, [motif_id, world.overseas_motif],
                                             change)
    with pytest.raises(PermissionDenied):
        territory_motifs.apply_bulk_change(uow, world.admin, world.territory, [world.overseas_motif], change)
    with pytest.raises(PermissionDenied):
        territory_motifs.create_in_organisations(uow, world.admin, world.territory,
                                                 [world.org, world.overseas_org], _fields(world, "X"))
    with pytest.raises(PermissionDenied):
        territory_motifs.list_territory_motifs(uow, world.admin, world.territory, organisation_id=world.overseas_org)
    assert admin_motifs.get_motif(uow, world.admin, world.org, motif_id).fields.bookable_by == "agents"


def test_a_territorial_admin_neither_lists_nor_changes_motifs_of_organisations_they_do_not_administer(
        uow: UnitOfWork, world: World, db_url: str) -> None:
    own = _create(uow, world, "Consultation")
    outside = {world.basic_org: world.basic_org_motif, world.roleless_org: world.roleless_org_motif}
    change = BulkChange(bookable_by="everyone", color="#000000")

    assert [o.name for o in territory_motifs.organisation_choices(uow, world.admin, world.territory)] == [
        "MDS Lens", "PMI Arras"]
    rows = territory_motifs.list_territory_motifs(uow, world.admin, world.territory)
    assert [(r.organisation_name, r.motif.name) for r in rows] == [("PMI Arras", "Consultation")]
    for organisation, motif_id in outside.items():
        with pytest.raises(PermissionDenied) as listing:
            territory_motifs.list_territory_motifs(uow, world.admin, world.territory, organisation_id=organisation)
        assert listing.value.message == territory_motifs.ORGANISATION_NOT_ADMINISTERED
        with pytest.raises(PermissionDenied):
            territory_motifs.preview_bulk_change(uow, world.admin, world.territory, [own, motif_id], change)
        with pytest.raises(PermissionDenied) as applying:
            territory_motifs.apply_bulk_change(uow, world.admin, world.territory, [own, motif_id], change)
        assert applying.value.message == territory_motifs.MOTIF_NOT_ADMINISTERED
        with pytest.raises(PermissionDenied):
            territory_motifs.create_in_organisations(uow, world.admin, world.territory, [world.org, organisation],
                                                     _fields(world, "Permanence", service_id=world.social))

    # Nothing changed, in the organisations administered or not, as another transaction reads it.
    for motif_id in (own, *outside.values()):
        stored = _motif(db_url, motif_id)
        assert (stored.bookable_by, stored.color) == ("agents", "#1f6feb")  # type: ignore[union-attr]
    with UnitOfWork(db_url) as fresh:
        assert fresh.session.exec(select(Motif).where(Motif.name == "Permanence")).all() == []
    assert [e.action for e in _audit(uow, "motif")] == ["create"]

    # The admin role in the organisation is what opens it: once given, the same calls succeed.
    role = uow.session.exec(select(AgentRole).where(AgentRole.agent_id == world.admin,
                                                    AgentRole.organisation_id == world.basic_org)).one()
    role.access_level = "admin"
    uow.commit()
    rows = territory_motifs.list_territory_motifs(uow, world.admin, world.territory, organisation_id=world.basic_org)
    assert [r.motif.name for r in rows] == ["Carte d'identité"]
    assert territory_motifs.apply_bulk_change(uow, world.admin, world.territory, [own, world.basic_org_motif],
                                              change) == 2
    assert _motif(db_url, world.basic_org_motif).color == "#000000"  # type: ignore[union-attr]
    assert _motif(db_url, world.roleless_org_motif).color == "#1f6feb"  # type: ignore[union-attr]


def test_a_territorial_admin_of_no_organisation_gets_an_empty_page(uow: UnitOfWork, world: World) -> None:
    uow.session.exec(sa.delete(AgentRole).where(col(AgentRole.agent_id) == world.admin,
                                                col(AgentRole.organisation_id) != world.basic_org))
    uow.commit()
    assert territory_motifs.territory_for(uow, world.admin, world.basic_org).id == world.territory
    assert territory_motifs.organisation_choices(uow, world.admin, world.territory) == []
    assert territory_motifs.list_territory_motifs(uow, world.admin, world.territory) == []
    with pytest.raises(PermissionDenied):
        territory_motifs.create_in_organisations(uow, world.admin, world.territory, [world.org],
                                                 _fields(world, "Permanence"))


# --------------------------------------------------------------------------- motifs across the territory


def test_the_territory_table_lists_the_administered_organisations_motifs_with_filters(uow: UnitOfWork,
                                                                                      world: World) -> None:
    _create(uow, world, "Consultation", bookable_by="everyone")
    _create(uow, world, "Entretien social", org=world.other_org, service_id=world.social)
    rows = territory_motifs.list_territory_motifs(uow, world.admin, world.territory)
    assert [(r.organisation_name, r.motif.name) for r in rows] == [("MDS Lens", "Entretien social"),
                                                                   ("PMI Arras", "Consultation")]
    filtered = territory_motifs.list_territory_motifs(uow, world.admin, world.territory, open_online=True)
    assert [r.motif.name for r in filtered] == ["Consultation"]
    by_name = territory_motifs.list_territory_motifs(uow, world.admin, world.territory, name_contains="ENTRE")
    assert [r.motif.name for r in by_name] == ["Entretien social"]


def test_a_bulk_change_is_previewed_then_applied_to_every_selected_motif(uow: UnitOfWork, world: World,
                                                                        db_url: str) -> None:
    a = _create(uow, world, "Consultation", min_public_booking_delay=HOUR)
    b = _create(uow, world, "Entretien social", org=world.other_org, service_id=world.social)
    c = _create(uow, world, "Déjà conforme", bookable_by="everyone", min_public_booking_delay=DAY)
    change = BulkChange(bookable_by="everyone", min_public_booking_delay=DAY)

    preview = territory_motifs.preview_bulk_change(uow, world.admin, world.territory, [a, b, c], change)
    assert preview.failing == ()
    assert [m.motif_name for m in preview.unchanged] == ["Déjà conforme"]
    changes = {m.motif_name: [(f.label, f.before, f.after) for f in m.changes] for m in preview.changed}
    assert changes == {
        "Entretien social": [("Qui peut réserver", "Agents uniquement", "Ouvert aux agents et aux usagers"),
                             ("Délai minimum de réservation", "30 minutes", "1 jour")],
        "Consultation": [("Qui peut réserver", "Agents uniquement", "Ouvert aux agents et aux usagers"),
                         ("Délai minimum de réservation", "1 heure", "1 jour")],
    }
    # The preview wrote nothing.
    assert _motif(db_url, a).bookable_by == "agents"  # type: ignore[union-attr]

    assert territory_motifs.apply_bulk_change(uow, world.admin, world.territory, [a, b, c], change) == 2
    for motif_id in (a, b, c):
        stored = _motif(db_url, motif_id)
        assert (stored.bookable_by, stored.min_public_booking_delay) == ("everyone", DAY)  # type: ignore[union-attr]
    bulk = [e for e in _audit(uow, "motif") if e.action == "bulk_update"]
    assert sorted(int(e.entity_id) for e in bulk) == sorted([a, b])
    assert {e.organisation_id for e in bulk} == {world.org, world.other_org}


def test_a_bulk_change_is_all_or_nothing_when_one_motif_fails_validation(uow: UnitOfWork, world: World,
                                                                        db_url: str) -> None:
    ids = [_create(uow, world, f"Motif {n}") for n in range(5)]
    late = _create(uow, world, "Atelier du samedi", org=world.other_org, min_public_booking_delay=3 * DAY)
    before_audit = len(_audit(uow, "motif"))
    change = BulkChange(max_public_booking_delay=2 * DAY, instruction_for_rdv="Venez 10 minutes en avance.")

    preview = territory_motifs.preview_bulk_change(uow, world.admin, world.territory, [*ids, late], change)
    [failing] = preview.failing
    assert failing.motif_name == "Atelier du samedi"
    assert "Le délai maximum (2 jours) doit être plus long que le délai minimum (3 jours)." in failing.error  # type: ignore[operator]
    with pytest.raises(DomainError) as error:
        territory_motifs.apply_bulk_change(uow, world.admin, world.territory, [*ids, late], change)
    assert error.value.message.startswith("Le motif « Atelier du samedi » (MDS Lens) ne peut pas recevoir ce "
                                          "changement")
    assert error.value.message.endswith("Aucun motif n'a été modifié.")

    for motif_id in [*ids, late]:
        stored = _motif(db_url, motif_id)
        assert stored.max_public_booking_delay == 3 * MONTH  # type: ignore[union-attr]
        assert stored.instruction_for_rdv is None  # type: ignore[union-attr]
    assert len(_audit(uow, "motif")) == before_audit


def test_a_bulk_change_needs_a_selection_and_a_change(uow: UnitOfWork, world: World) -> None:
    motif_id = _create(uow, world)
    with pytest.raises(DomainError) as nothing_selected:
        territory_motifs.preview_bulk_change(uow, world.admin, world.territory, [], BulkChange(color="#000000"))
    assert nothing_selected.value.field == "motif_ids"
    with pytest.raises(DomainError) as no_change:
        territory_motifs.preview_bulk_change(uow, world.admin, world.territory, [motif_id], BulkChange())
    assert no_change.value.field == "change"


def test_one_motif_is_created_in_several_organisations_or_in_none(uow: UnitOfWork, world: World) -> None:
    _create(uow, world, "Entretien", org=world.other_org)
    with pytest.raises(DomainError) as error:
        territory_motifs.create_in_organisations(uow, world.admin, world.territory, [world.org, world.other_org],
                                                 _fields(world, "Entretien"))
    assert error.value.message.startswith("MDS Lens : Un motif « Entretien » existe déjà")
    assert admin_motifs.list_motifs(uow, world.admin, world.org) == []

    ids = territory_motifs.create_in_organisations(uow, world.admin, world.territory, [world.org, world.other_org],
                                                   _fields(world, "Vaccination", bookable_by="everyone"))
    rows = territory_motifs.list_territory_motifs(uow, world.admin, world.territory, name_contains="vaccin")
    assert sorted(r.motif.id for r in rows) == sorted(ids)
    assert {r.organisation_name for r in rows} == {"PMI Arras", "MDS Lens"}


# --------------------------------------------------------------------------- lieux


def test_lieux_are_created_edited_disabled_and_enabled_again(uow: UnitOfWork, world: World) -> None:
    lieu_id = admin_lieux.create_lieu(uow, world.admin, world.org, LieuInput(
        " Antenne  Saint-Michel ", "20 Rue Paul Doumer, 62000 Arras", "03 21 23 45 70", "50,2801", "2.7905"))
    view = admin_lieux.get_lieu(uow, world.admin, world.org, lieu_id)
    assert (view.name, view.latitude, view.longitude, view.enabled) == ("Antenne Saint-Michel", 50.2801, 2.7905, True)
    admin_lieux.update_lieu(uow, world.admin, world.org, lieu_id,
                            LieuInput("Antenne Saint-Michel", "22 Rue Paul Doumer, 62000 Arras"))
    assert admin_lieux.get_lieu(uow, world.admin, world.org, lieu_id).latitude is None

    motif_id = _create(uow, world)
    _add_plage(uow, world, [motif_id], title="Pesées du lundi", lieu_id=lieu_id)
    with pytest.raises(NeedsConfirmation) as warning:
        admin_lieux.set_lieu_enabled(uow, world.admin, world.org, lieu_id, False, now=NOW)
    assert "« Pesées du lundi »" in warning.value.warnings[0]
    assert admin_lieux.get_lieu(uow, world.admin, world.org, lieu_id).enabled
    admin_lieux.set_lieu_enabled(uow, world.admin, world.org, lieu_id, False, confirm_warnings=True, now=NOW)
    assert [(v.name, v.enabled) for v in admin_lieux.list_lieux(uow, world.admin, world.org)] == [
        ("Centre PMI", True), ("Antenne Saint-Michel", False)]
    admin_lieux.set_lieu_enabled(uow, world.admin, world.org, lieu_id, True)
    assert [e.action for e in _audit(uow, "lieu")] == ["create", "update", "disable", "enable"]


@pytest.mark.parametrize(("data", "field", "message"), [
    (LieuInput("", "1 rue"), "name", "Le nom du lieu est obligatoire."),
    (LieuInput("Lieu", " "), "address", "L'adresse du lieu est obligatoire."),
    (LieuInput("Lieu", "1 rue", phone_number="12 34"), "phone_number", "Le numéro de téléphone n'est pas valide"),
    (LieuInput("Lieu", "1 rue", latitude="91", longitude="2"), "latitude", "entre -90 et 90"),
    (LieuInput("Lieu", "1 rue", latitude="50", longitude="nord"), "longitude", "nombre décimal"),
    (LieuInput("Lieu", "1 rue", latitude="50.28"), "longitude", "ensemble"),
])
def test_a_bad_lieu_is_refused_on_its_field(uow: UnitOfWork, world: World, data, field, message) -> None:
    with pytest.raises(DomainError) as error:
        admin_lieux.create_lieu(uow, world.admin, world.org, data)
    assert (error.value.field, message in error.value.message) == (field, True)
    assert [v.name for v in admin_lieux.list_lieux(uow, world.admin, world.org)] == ["Centre PMI"]



def test_an_empty_lieu_form_names_both_required_fields(uow: UnitOfWork, world: World) -> None:
    with pytest.raises(FieldErrors) as error:
        admin_lieux.create_lieu(uow, world.admin, world.org, LieuInput(" ", ""))
    assert error.value.errors == {"name": "Le nom du lieu est obligatoire.",
                                  "address": "L'adresse du lieu est obligatoire."}
    assert [v.name for v in admin_lieux.list_lieux(uow, world.admin, world.org)] == ["Centre PMI"]

# --------------------------------------------------------------------------- organisation and online booking


def test_the_organisation_settings_are_validated_and_a_rename_changes_the_slug(uow: UnitOfWork, world: World,
                                                                              db_url: str) -> None:
    good = OrganisationSettings(name="PMI d'Arras Centre", phone_number="3939", email="pmi@arras.fr",
                                website="www.arras.fr", horaires="Du lundi au vendredi", timezone="Europe/Paris")
    saved = admin_organisation.update_settings(uow, world.admin, world.org, good)
    assert saved.website == "https://www.arras.fr"
    with UnitOfWork(db_url) as fresh:
        organisation = fresh.session.get(Organisation, world.org)
        assert (organisation.name, organisation.slug) == ("PMI d'Arras Centre", "pmi-d-arras-centre")  # type: ignore[union-attr]
    for bad, field in ((replace(good, timezone="Europe/Arras"), "timezone"),
                       (replace(good, name="mds lens"), "name"),
                       (replace(good, email="pmi.arras.fr"), "email"),
                       (replace(good, website="pas un site"), "website"),
                       (replace(good, phone_number="123"), "phone_number")):
        with pytest.raises(DomainError) as error:
            admin_organisation.update_settings(uow, world.admin, world.org, bad)
        assert error.value.field == field
    assert admin_organisation.get_settings(uow, world.admin, world.org) == saved
    [entry] = _audit(uow, "organisation")
    assert entry.changes["name"] == ["PMI Arras", "PMI d'Arras Centre"]


def test_online_booking_lists_the_motifs_open_online_and_those_no_plage_offers(uow: UnitOfWork,
                                                                             world: World) -> None:
    offered = _create(uow, world, "Consultation", bookable_by="everyone")
    _create(uow, world, "Pesée", bookable_by="everyone")
    at_closed_lieu = _create(uow, world, "Vaccination", bookable_by="everyone")
    agents_only = _create(uow, world, "Visite à domicile", location_type="home")
    closed = Lieu(organisation_id=world.org, name="Ancienne antenne", address="4 rue", availability="disabled")
    uow.session.add(closed)
    uow.commit()
    _add_plage(uow, world, [offered, agents_only])
    _add_plage(uow, world, [at_closed_lieu], lieu_id=closed.id)

    overview = admin_organisation.online_booking(uow, world.admin, world.org, now=NOW)
    assert overview.url.endswith(f"/org/{world.org}/pmi-arras")
    assert f'src="{overview.url}"' in overview.embed_snippet
    assert [(m.name, m.offered) for m in overview.motifs] == [("Consultation", True), ("Pesée", False),
                                                            ("Vaccination", False)]
    assert [m.name for m in overview.not_offered] == ["Pesée", "Vaccination"]


def test_motif_lieu_and_organisation_changes_queue_the_organisation_s_webhooks(uow: UnitOfWork,
                                                                              world: World) -> None:
    uow.session.add_all([
        WebhookEndpoint(organisation_id=world.org, target_url="https://hooks.example.fr/arras", secret="s3cret",
                        subscriptions=["motif", "lieu", "organisation"]),
        WebhookEndpoint(organisation_id=world.other_org, target_url="https://hooks.example.fr/lens",
                        secret="s3cret", subscriptions=["motif"]),
    ])
    uow.commit()
    motif_id = _create(uow, world)
    territory_motifs.apply_bulk_change(uow, world.admin, world.territory, [motif_id], BulkChange(color="#000000"))
    admin_lieux.update_lieu(uow, world.admin, world.org, world.lieu, LieuInput("Centre PMI", "14 Rue Gambetta"))
    admin_organisation.update_settings(uow, world.admin, world.org, OrganisationSettings(name="PMI Arras"))
    admin_motifs.remove_motif(uow, world.admin, world.org, motif_id, now=NOW)

    bodies = [json.loads(m.payload["body"]) for m in uow.session.exec(
        select(OutboxMessage).where(OutboxMessage.channel == "webhook").order_by(col(OutboxMessage.id))).all()]
    assert [(b["meta"]["model"], b["meta"]["event"]) for b in bodies] == [
        ("Motif", "created"), ("Motif", "updated"), ("Lieu", "updated"), ("Organisation", "updated"),
        ("Motif", "destroyed")]
    assert bodies[1]["data"]["name"] == "Consultation pédiatrique"
    # MDS Lens's endpoint hears nothing of PMI Arras's motifs.
    endpoints = {m.webhook_endpoint_id for m in uow.session.exec(
        select(OutboxMessage).where(OutboxMessage.channel == "webhook")).all()}
    assert endpoints == set(uow.session.exec(select(WebhookEndpoint.id).where(
        WebhookEndpoint.organisation_id == world.org)).all())


def test_an_edit_of_a_motif_changed_since_the_form_loaded_it_is_refused_and_changes_nothing(
        uow: UnitOfWork, world: World, db_url: str) -> None:
    """Issue 25: two admins open the same motif; the second save, made on the values loaded before the
    first, is refused instead of undoing it."""
    motif_id = _create(uow, world)
    loaded = admin_motifs.get_motif(uow, world.admin, world.org, motif_id).version
    admin_motifs.update_motif(uow, world.admin, world.org, motif_id, _fields(world, default_duration_in_min=45),
                              expected_version=loaded)
    audits = len(_audit(uow, "motif"))

    with pytest.raises(DomainError) as refused:
        admin_motifs.update_motif(uow, world.admin, world.org, motif_id, _fields(world, bookable_by="everyone"),
                                  expected_version=loaded)

    assert refused.value.message == "Ces informations ont été modifiées entre-temps. Rechargez la page."
    stored = _motif(db_url, motif_id)
    assert stored is not None
    assert (stored.default_duration_in_min, stored.bookable_by) == (45, "agents")
    assert len(_audit(uow, "motif")) == audits
    reloaded = admin_motifs.get_motif(uow, world.admin, world.org, motif_id).version
    admin_motifs.update_motif(uow, world.admin, world.org, motif_id,
                              _fields(world, default_duration_in_min=45, bookable_by="everyone"),
                              expected_version=reloaded)
    stored = _motif(db_url, motif_id)
    assert stored is not None
    assert stored.bookable_by == "everyone"


def test_an_edit_of_a_lieu_changed_since_the_form_loaded_it_is_refused_and_changes_nothing(
        uow: UnitOfWork, world: World) -> None:
    loaded = admin_lieux.get_lieu(uow, world.admin, world.org, world.lieu).version
    admin_lieux.update_lieu(uow, world.admin, world.org, world.lieu, LieuInput("Centre PMI", "3 rue Neuve"),
                            expected_version=loaded)
    audits = len(_audit(uow, "lieu"))

    with pytest.raises(DomainError) as refused:
        admin_lieux.update_lieu(uow, world.admin, world.org, world.lieu, LieuInput("PMI centre", "1 rue"),
                                expected_version=loaded)

    assert refused.value.message == "Ces informations ont été modifiées entre-temps. Rechargez la page."
    view = admin_lieux.get_lieu(uow, world.admin, world.org, world.lieu)
    assert (view.name, view.address) == ("Centre PMI", "3 rue Neuve")
    assert len(_audit(uow, "lieu")) == audits


def test_organisation_settings_changed_since_the_form_loaded_them_are_not_overwritten(
        uow: UnitOfWork, world: World) -> None:
    loaded = admin_organisation.settings_version(admin_organisation.get_settings(uow, world.admin, world.org))
    admin_organisation.update_settings(uow, world.admin, world.org,
                                       OrganisationSettings(name="PMI Arras", phone_number="03 21 00 00 00"),
                                       expected_version=loaded)

    with pytest.raises(DomainError) as refused:
        admin_organisation.update_settings(uow, world.admin, world.org, OrganisationSettings(name="PMI Arras Sud"),
                                           expected_version=loaded)

    assert refused.value.message == "Ces informations ont été modifiées entre-temps. Rechargez la page."
    settings = admin_organisation.get_settings(uow, world.admin, world.org)
    assert (settings.name, settings.phone_number) == ("PMI Arras", "03 21 00 00 00")


def test_a_bulk_change_is_not_applied_over_motifs_changed_since_its_preview(uow: UnitOfWork, world: World,
                                                                             db_url: str) -> None:
    """Issue 25: "Appliquer" gives back the version of the motifs its preview showed; one motif edited in its
    organisation since then makes the preview wrong, and nothing is applied."""
    a = _create(uow, world, "Consultation", min_public_booking_delay=HOUR)
    b = _create(uow, world, "Entretien social", org=world.other_org, service_id=world.social)
    change = BulkChange(bookable_by="everyone")
    preview = territory_motifs.preview_bulk_change(uow, world.admin, world.territory, [a, b], change)
    loaded = admin_motifs.get_motif(uow, world.admin, world.org, a).version
    admin_motifs.update_motif(uow, world.admin, world.org, a,
                              _fields(world, "Consultation", min_public_booking_delay=DAY), expected_version=loaded)
    audits = len(_audit(uow, "motif"))

    with pytest.raises(DomainError) as refused:
        territory_motifs.apply_bulk_change(uow, world.admin, world.territory, [a, b], change,
                                           expected_version=preview.version)

    assert refused.value.message == "Ces informations ont été modifiées entre-temps. Rechargez la page."
    assert [(_motif(db_url, m).bookable_by) for m in (a, b)] == ["agents", "agents"]  # type: ignore[union-attr]
    assert len(_audit(uow, "motif")) == audits
    again = territory_motifs.preview_bulk_change(uow, world.admin, world.territory, [a, b], change)
    assert territory_motifs.apply_bulk_change(uow, world.admin, world.territory, [a, b], change,
                                              expected_version=again.version) == 2
