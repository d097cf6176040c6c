"""Sectorisation (issue 28) on SQLite and PostgreSQL: territorial admins define sectors and zones and
attribute them; the usager's address restricts the public search motif by motif (département,
organisation, agent level), street zones before city zones; the booking keeps to the sector's agents."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import factories as f
import pytest
from db_snapshot import snapshot

from rdv_app.db.models import Organisation, RdvAgent
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.enums import SectorisationLevel
from rdv_app.domain.sectorisation import SectorAddress, address_of, street_id_of
from rdv_app.services.errors import DomainError, NotFound, PermissionDenied
from rdv_app.services.online_booking import prescription, public_prescripteur, public_search, sessions
from rdv_app.services.online_booking.public_prescripteur import BeneficiaireEntry, PrescripteurEntry
from rdv_app.services.online_booking.public_search import PublicScope
from rdv_app.services.organisation import sectors
from rdv_app.services.rdv.lifecycle import (
    SlotTaken,
    book_by_prescripteur,
    book_rdv,
    book_seat,
    book_seat_by_prescripteur,
    prescribe_rdv,
)

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # Friday 4 December 2026
MONDAY = date(2026, 12, 7)
RUE_DE_LA_PAIX = SectorAddress("62041", "62041_0570")  # Arras: a street zone covers it
PLACE_DES_HEROS = SectorAddress("62041", "62041_0350")  # Arras: only the city zone covers it
LENS = SectorAddress("62498", "62498_0420")  # no sector


@dataclass
class World:
    territory: int
    arras: int
    lens: int
    admin: int
    org_admin: int
    petit: int
    haddad: int
    usager: int
    lieu_arras: int
    consultation: int  # département level, Arras
    bilan_arras: int  # organisation level
    bilan_lens: int
    visite: int  # agent level, Arras: Petit in the mornings, Haddad in the afternoons
    ville: int  # sector of the whole town of Arras
    rue: int  # sector of one street of Arras


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    s = uow.session
    territory = f.territory(s)
    pmi = f.service(s, "PMI")
    arras = f.organisation(s, territory)
    lens = f.organisation(s, territory, "PMI Lens", "pmi-lens", phone_number="03 21 11 11 11")
    admin = f.agent(s, "territoire@pas-de-calais.fr", "Inès", "Territoire", organisation=arras, role="admin")
    f.territorial_admin(s, admin, territory)
    org_admin = f.agent(s, "admin@arras.fr", "Odile", "Admin", organisation=arras, role="admin")
    petit = f.agent(s, "petit@arras.fr", "Paul", "Petit", organisation=arras, services=[pmi])
    haddad = f.agent(s, "haddad@arras.fr", "Hana", "Haddad", organisation=arras, services=[pmi])
    martin = f.agent(s, "martin@lens.fr", "Marc", "Martin", organisation=lens, services=[pmi])
    lieu_arras = f.lieu(s, arras)
    lieu_lens = f.lieu(s, lens, "Centre Lens", "2 rue B, 62300 Lens")
    public = {"bookable_by": "everyone"}
    consultation = f.motif(s, arras, pmi, "Consultation", **public)
    bilan_arras = f.motif(s, arras, pmi, "Bilan", sectorisation_level=SectorisationLevel.ORGANISATION.value, **public)
    bilan_lens = f.motif(s, lens, pmi, "Bilan", sectorisation_level=SectorisationLevel.ORGANISATION.value, **public)
    visite = f.motif(s, arras, pmi, "Visite", sectorisation_level=SectorisationLevel.AGENT.value, **public)
    f.plage(s, petit, arras, lieu_arras, [consultation, bilan_arras, visite], title="Matin", first_day=MONDAY,
            start_time=time(9), end_time=time(10))
    f.plage(s, haddad, arras, lieu_arras, [visite], title="Après-midi", first_day=MONDAY,
            start_time=time(14), end_time=time(15))
    f.plage(s, martin, lens, lieu_lens, [bilan_lens], title="Lens", first_day=MONDAY,
            start_time=time(9), end_time=time(10))
    usager = f.usager(s, "Léa", "Durand", email="lea@exemple.fr", phone_number="0611223344")
    uow.commit()
    ids = [o.id for o in (territory, arras, lens, admin, org_admin, petit, haddad, usager, lieu_arras,
                          consultation, bilan_arras, bilan_lens, visite)]
    ville = sectors.create_sector(uow, admin.id, arras.id, "Arras ville", "arras")  # type: ignore[arg-type]
    sectors.add_zone(uow, admin.id, arras.id, ville, "62041", "Arras")  # type: ignore[arg-type]
    sectors.attribute_sector(uow, admin.id, arras.id, ville, arras.id)  # type: ignore[arg-type]
    sectors.attribute_sector(uow, admin.id, arras.id, ville, arras.id, petit.id)  # type: ignore[arg-type]
    rue = sectors.create_sector(uow, admin.id, arras.id, "Rue de la Paix", "arras-paix")  # type: ignore[arg-type]
    sectors.add_zone(uow, admin.id, arras.id, rue, "62041", "Arras", "62041_0570_00001",  # type: ignore[arg-type]
                     "Rue de la Paix")
    sectors.attribute_sector(uow, admin.id, arras.id, rue, lens.id)  # type: ignore[arg-type]
    sectors.attribute_sector(uow, admin.id, arras.id, rue, arras.id, haddad.id)  # type: ignore[arg-type]
    return World(*ids, ville=ville, rue=rue)  # type: ignore[arg-type]


def _offered(uow: UnitOfWork, w: World, address: SectorAddress | None) -> dict[str, list[int]]:
    scope = PublicScope(w.territory, sector=address)
    service_ids = [s.id for s in public_search.services(uow, scope, NOW)]
    return {c.name: list(c.motif_ids) for sid in service_ids for c in public_search.motifs(uow, scope, sid, NOW)}


def _times(uow: UnitOfWork, motif_id: int, lieu_id: int, address: SectorAddress | None) -> list[str]:
    week = public_search.week(uow, motif_id, lieu_id, MONDAY, NOW, sector=address)
    return [label for _, label in week.days[0].times]


def test_each_level_street_zones_before_city_zones(uow: UnitOfWork, world: World) -> None:
    w = world
    # The street zone wins over the town's: Lens's organisation, Haddad's afternoons.
    assert _offered(uow, w, RUE_DE_LA_PAIX) == {"Bilan": [w.bilan_lens], "Consultation": [w.consultation],
                                                "Visite": [w.visite]}
    assert _times(uow, w.visite, w.lieu_arras, RUE_DE_LA_PAIX) == ["14h00", "14h30"]
    # Another street of Arras: the town's sector, Arras's organisation, Petit's mornings.
    assert _offered(uow, w, PLACE_DES_HEROS) == {"Bilan": [w.bilan_arras], "Consultation": [w.consultation],
                                                 "Visite": [w.visite]}
    assert _times(uow, w.visite, w.lieu_arras, PLACE_DES_HEROS) == ["09h00", "09h30"]
    # The commune alone (no street chosen): the town's sector.
    assert _offered(uow, w, SectorAddress("62041")) == _offered(uow, w, PLACE_DES_HEROS)
    # No address (an organisation's own link): no restriction.
    assert _times(uow, w.visite, w.lieu_arras, None) == ["09h00", "09h30", "14h00", "14h30"]
    cards = public_search.lieux(uow, public_search.motif_choice(uow, PublicScope(w.territory, sector=RUE_DE_LA_PAIX),
                                                                "public_office:Visite", NOW), NOW, RUE_DE_LA_PAIX)
    assert [(c.name, c.next_availability and c.next_availability.label) for c in cards] == [
        ("Centre Arras", "lundi 7 décembre 2026 à 14h00")]


def test_an_address_no_sector_covers_keeps_only_departement_motifs(uow: UnitOfWork, world: World) -> None:
    w = world
    assert _offered(uow, w, LENS) == {"Consultation": [w.consultation]}
    assert _times(uow, w.visite, w.lieu_arras, LENS) == []
    assert [o.name for o in public_search.uncovered_contacts(uow, PublicScope(w.territory, sector=LENS))] == [
        "PMI Arras", "PMI Lens"]


def test_booking_keeps_to_the_sectors_agents(db_url: str, world: World) -> None:
    w = world
    morning = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # 09:00 in Paris: Petit's, not the street's agent
    with UnitOfWork(db_url) as unit:
        assert not public_search.slot_offered(unit, w.visite, w.lieu_arras, morning, NOW, sector=RUE_DE_LA_PAIX)
        assert public_search.slot_offered(unit, w.visite, w.lieu_arras, morning, NOW, sector=PLACE_DES_HEROS)
    with UnitOfWork(db_url) as unit, pytest.raises(SlotTaken):
        book_rdv(unit, w.usager, motif_id=w.visite, starts_at=morning, lieu_id=w.lieu_arras, booking_key="a",
                 now=NOW, sector=RUE_DE_LA_PAIX)
    afternoon = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)
    with UnitOfWork(db_url) as unit:
        booked = book_rdv(unit, w.usager, motif_id=w.visite, starts_at=afternoon, lieu_id=w.lieu_arras,
                          booking_key="b", now=NOW, sector=RUE_DE_LA_PAIX)
    with UnitOfWork(db_url) as unit:
        agents = unit.session.exec(RdvAgent.__table__.select().where(  # type: ignore[attr-defined]
            RdvAgent.__table__.c.rdv_id == booked.rdv_id)).all()  # type: ignore[attr-defined]
        assert [a.agent_id for a in agents] == [w.haddad]
        assert _times(unit, w.visite, w.lieu_arras, RUE_DE_LA_PAIX) == ["14h30"]


def test_admin_screen_lists_sectors_and_refuses_bad_input(uow: UnitOfWork, db_url: str, world: World) -> None:
    w = world
    listed = sectors.list_sectors(uow, w.admin, w.arras)
    assert [(s.name, [z.label for z in s.zones], [a.label for a in s.attributions]) for s in listed.sectors] == [
        ("Arras ville", ["Arras (62041) — toute la commune"],
         ["Organisation : PMI Arras", "Agent : Paul Petit (PMI Arras)"]),
        ("Rue de la Paix", ["Rue de la Paix, Arras (62041)"],
         ["Organisation : PMI Lens", "Agent : Hana Haddad (PMI Arras)"])]
    before = snapshot(db_url)
    refusals = [
        lambda: sectors.create_sector(uow, w.admin, w.arras, "Doublon", "arras"),
        lambda: sectors.create_sector(uow, w.admin, w.arras, "", "vide"),
        lambda: sectors.create_sector(uow, w.admin, w.arras, "Accents", "Secteur é"),
        lambda: sectors.add_zone(uow, w.admin, w.arras, w.ville, "62041", "Arras"),
        lambda: sectors.add_zone(uow, w.admin, w.arras, w.ville, "6204", "Arras"),
        lambda: sectors.add_zone(uow, w.admin, w.arras, w.ville, "62041", "Arras", "62498_0420", "Rue de Paris"),
        lambda: sectors.attribute_sector(uow, w.admin, w.arras, w.ville, w.arras),
    ]
    for refused in refusals:
        with pytest.raises(DomainError):
            refused()
        uow.rollback()
    for foreign in (lambda: sectors.delete_sector(uow, w.admin, w.arras, 9999),
                    lambda: sectors.attribute_sector(uow, w.admin, w.arras, w.ville, 9999),
                    lambda: sectors.attribute_sector(uow, w.admin, w.arras, w.ville, w.lens, w.petit)):
        with pytest.raises(NotFound):
            foreign()
        uow.rollback()
    # An organisation's admin is no territorial admin.
    for denied in (lambda: sectors.list_sectors(uow, w.org_admin, w.arras),
                   lambda: sectors.create_sector(uow, w.org_admin, w.arras, "Nord", "nord"),
                   lambda: sectors.delete_sector(uow, w.org_admin, w.arras, w.rue)):
        with pytest.raises(PermissionDenied):
            denied()
        uow.rollback()
    assert snapshot(db_url) == before

    assert sectors.delete_sector(uow, w.admin, w.arras, w.rue) == "Le secteur « Rue de la Paix » a été supprimé."
    # Without the street's sector, the town's covers the street.
    assert _offered(uow, w, RUE_DE_LA_PAIX)["Bilan"] == [w.bilan_arras]
    assert sectors.territory_sectorised(uow, w.territory)


def test_address_values_from_the_query() -> None:
    assert street_id_of("62041_0570_00001") == "62041_0570"
    assert street_id_of("62041_0570") == "62041_0570"
    assert street_id_of("62041") == ""
    assert address_of("62041", "62041_0570_00001") == RUE_DE_LA_PAIX
    assert address_of("62041", "62498_0420") == SectorAddress("62041")  # a street of another commune
    assert address_of("2A004", "2a004_0010") == SectorAddress("2A004", "2a004_0010")
    assert address_of("Arras", "") is None


def test_prescription_for_an_usager_uses_their_commune(db_url: str, uow: UnitOfWork, world: World) -> None:
    """"Élargir la recherche" for an usager of Arras: the town's sector decides, as on the public search."""
    w = world
    with UnitOfWork(db_url) as unit:
        arras_usager = f.usager(unit.session, "Noé", "Caron", city_code="62041", city_name="Arras",
                                organisations=[unit.session.get(Organisation, w.arras)])
        unit.commit()
        usager_id = arras_usager.id
    pmi = prescription.services(uow, w.org_admin, w.arras, NOW)[0].id
    offered = {c.name: list(c.motif_ids) for c in prescription.motifs(uow, w.org_admin, w.arras, pmi, NOW, usager_id)}
    assert offered == {"Bilan": [w.bilan_arras], "Consultation": [w.consultation], "Visite": [w.visite]}
    everything = {c.name: list(c.motif_ids) for c in prescription.motifs(uow, w.org_admin, w.arras, pmi, NOW)}
    assert everything["Bilan"] == sorted([w.bilan_arras, w.bilan_lens])
    week = prescription.week(uow, w.org_admin, w.arras, w.visite, w.lieu_arras, MONDAY, NOW, usager_id)
    assert [label for _, label in week.days[0].times] == ["09h00", "09h30"]  # Petit's, the town's agent
    uow.rollback()
    afternoon = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)  # Haddad's, whose sector is another street
    with UnitOfWork(db_url) as unit, pytest.raises(SlotTaken):
        prescribe_rdv(unit, w.org_admin, w.arras, usager_id=usager_id, motif_id=w.visite, starts_at=afternoon,
                      lieu_id=w.lieu_arras, booking_key="p1", now=NOW, by_address=True)
    with UnitOfWork(db_url) as unit:
        booked = prescribe_rdv(unit, w.org_admin, w.arras, usager_id=usager_id, motif_id=w.visite,
                               starts_at=afternoon - timedelta(hours=5), lieu_id=w.lieu_arras, booking_key="p2",
                               now=NOW, by_address=True)
        assert booked.created


# --------------------------------------------------------------------------- zone import


ZONES_CSV = (
    "sector_id;city_code;city_name;street_name;street_ban_id\n"
    "arras;62498;Lens;;\n"
    "arras-paix;62041;Arras;Place des Héros;62041_0350_00012\n"
    "\n"
    "arras;62498;Lens;;\n"  # twice in the file: once in the sector
    "arras-paix;62041;Arras;Rue de la Paix;62041_0570\n"  # already in the sector
)


def test_zone_import_from_csv_is_idempotent(uow: UnitOfWork, world: World) -> None:
    w = world
    assert _offered(uow, w, LENS) == {"Consultation": [w.consultation]}
    imported = sectors.import_zones(uow, w.admin, w.arras, "zones.csv", ZONES_CSV.encode("cp1252"))
    assert (imported.added, imported.already_there) == (2, 1)
    assert imported.notice == "2 zones importées, 1 zone déjà présente."
    zones = {s.name: [z.label for z in s.zones] for s in sectors.list_sectors(uow, w.admin, w.arras).sectors}
    assert zones == {"Arras ville": ["Arras (62041) — toute la commune", "Lens (62498) — toute la commune"],
                     "Rue de la Paix": ["Place des Héros, Arras (62041)", "Rue de la Paix, Arras (62041)"]}
    # Lens is now in the town's sector; the Place des Héros in the street's sector (PMI Lens).
    assert _offered(uow, w, LENS)["Bilan"] == [w.bilan_arras]
    assert _offered(uow, w, PLACE_DES_HEROS)["Bilan"] == [w.bilan_lens]
    again = sectors.import_zones(uow, w.admin, w.arras, "zones.csv", ZONES_CSV.encode())
    assert (again.added, again.already_there) == (0, 3)
    assert {s.name: len(s.zones) for s in sectors.list_sectors(uow, w.admin, w.arras).sectors} == {
        "Arras ville": 2, "Rue de la Paix": 2}


def test_zone_import_from_xlsx(uow: UnitOfWork, world: World) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["city_name", "city_code", "sector_id"])  # any order, without the street columns
    sheet.append(["Lens", 62498, "arras"])  # a commune typed as a number
    sheet.append(["Bourg-en-Bresse", 1053, "arras-paix"])  # its leading zero dropped by the spreadsheet
    content = io.BytesIO()
    workbook.save(content)
    w = world
    imported = sectors.import_zones(uow, w.admin, w.arras, "zones.xlsx", content.getvalue())
    assert imported.added == 2
    assert _offered(uow, w, LENS)["Bilan"] == [w.bilan_arras]
    zones = {s.name: [z.label for z in s.zones] for s in sectors.list_sectors(uow, w.admin, w.arras).sectors}
    assert "Bourg-en-Bresse (01053) — toute la commune" in zones["Rue de la Paix"]


def test_zone_import_refuses_the_whole_file_line_by_line(uow: UnitOfWork, db_url: str, world: World) -> None:
    w = world
    before = snapshot(db_url)
    wrong = ("sector_id,city_code,city_name,street_name,street_ban_id\n"
             "arras,62498,Lens,,\n"  # right, but not imported since others are wrong
             "nord,62041,Arras,,\n"
             "arras,620,Arras,,\n"
             "arras,62041,,,\n"
             "arras-paix,62041,Arras,Rue de Paris,62498_0420\n"
             "arras-paix,62041,Arras,,62041_0570\n")
    with pytest.raises(sectors.ZoneImportRefused) as refused:
        sectors.import_zones(uow, w.admin, w.arras, "zones.csv", wrong.encode())
    assert refused.value.message == "Aucune zone n'a été importée : 5 lignes à corriger."
    assert refused.value.problems == (
        "Ligne 3 : aucun secteur du territoire n'a l'identifiant « nord » : créez-le d'abord.",
        "Ligne 4 : « 620 » n'est pas un code INSEE de commune (colonne city_code, cinq caractères, par exemple "
        "62041).",
        "Ligne 5 : le nom de la commune (colonne city_name) manque.",
        "Ligne 6 : la rue « 62498_0420 » n'est pas dans la commune 62041.",
        "Ligne 7 : le nom de la rue (colonne street_name) manque.")
    uow.rollback()
    for content, message in (
            (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "Ce fichier est au format Excel 97-2003 (.xls) : enregistrez-le au "
             "format .xlsx ou .csv puis importez-le à nouveau."),
            (b"secteur;commune\narras;62041\n", "La première ligne du fichier doit nommer les colonnes ; il y "
             "manque : sector_id, city_code, city_name."),
            (b"", "Le fichier est vide.")):
        with pytest.raises(DomainError) as error:
            sectors.import_zones(uow, w.admin, w.arras, "zones.csv", content)
        assert error.value.message == message
        uow.rollback()
    with pytest.raises(PermissionDenied):
        sectors.import_zones(uow, w.org_admin, w.arras, "zones.csv", ZONES_CSV.encode())
    uow.rollback()
    assert snapshot(db_url) == before


# --------------------------------------------------------------------------- prescripteurs


ALICE = PrescripteurEntry("Alice", "Leroy", "alice.leroy@asso.test")
ZOE = BeneficiaireEntry("Zoé", "Lefort", "06 98 76 54 32")


def _prescribable(uow: UnitOfWork, w: World, address: SectorAddress | None) -> dict[str, list[int]]:
    return {c.name: list(c.motif_ids) for c in public_prescripteur.motifs(
        uow, PublicScope(w.territory, sector=address), NOW)}


def test_external_prescripteur_follows_the_beneficiaires_address(db_url: str, uow: UnitOfWork, world: World) -> None:
    """"Je suis un prescripteur" in a sectorised territory: the bénéficiaire's address restricts the motifs,
    organisations and agents exactly as the usager's own."""
    w = world
    assert _prescribable(uow, w, RUE_DE_LA_PAIX) == {"Bilan": [w.bilan_lens], "Consultation": [w.consultation],
                                                     "Visite": [w.visite]}
    assert _prescribable(uow, w, PLACE_DES_HEROS)["Bilan"] == [w.bilan_arras]
    # Not covered: the motifs open to the whole département only.
    assert not public_search.address_covered(uow, PublicScope(w.territory, sector=LENS))
    assert _prescribable(uow, w, LENS) == {"Consultation": [w.consultation]}
    week = public_prescripteur.week(uow, w.visite, w.lieu_arras, MONDAY, NOW, sector=RUE_DE_LA_PAIX)
    assert [label for _, label in week.days[0].times] == ["14h00", "14h30"]  # Haddad's, the street's agent
    uow.rollback()
    before = snapshot(db_url)
    morning = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # Petit's, whose sector is the rest of the town
    with UnitOfWork(db_url) as unit, pytest.raises(SlotTaken):
        book_by_prescripteur(unit, motif_id=w.visite, starts_at=morning, lieu_id=w.lieu_arras, booking_key="x1",
                             prescripteur=ALICE, beneficiaire=ZOE, ip="192.0.2.1", now=NOW, sector=RUE_DE_LA_PAIX)
    with UnitOfWork(db_url) as unit, pytest.raises(NotFound) as refused:  # Arras's Bilan: not this street's
        book_by_prescripteur(unit, motif_id=w.bilan_arras, starts_at=morning, lieu_id=w.lieu_arras,
                             booking_key="x2", prescripteur=ALICE, beneficiaire=ZOE, ip="192.0.2.1", now=NOW,
                             sector=RUE_DE_LA_PAIX)
    assert refused.value.message.startswith("Ce motif n'est pas proposé à cette adresse")
    assert snapshot(db_url) == before
    with UnitOfWork(db_url) as unit:
        booked = book_by_prescripteur(unit, motif_id=w.visite, starts_at=datetime(2026, 12, 7, 13, 0, tzinfo=UTC),
                                      lieu_id=w.lieu_arras, booking_key="x3", prescripteur=ALICE, beneficiaire=ZOE,
                                      ip="192.0.2.1", now=NOW, sector=RUE_DE_LA_PAIX)
    with UnitOfWork(db_url) as unit:
        agents = unit.session.exec(RdvAgent.__table__.select().where(  # type: ignore[attr-defined]
            RdvAgent.__table__.c.rdv_id == booked.rdv_id)).all()  # type: ignore[attr-defined]
        assert [a.agent_id for a in agents] == [w.haddad]


# --------------------------------------------------------------------------- collective sessions


def test_sessions_of_a_motif_sectorised_by_agent_follow_the_address(db_url: str, uow: UnitOfWork,
                                                                    world: World) -> None:
    """An atelier sectorised by agent: each address is offered the sessions its sectors' agents lead."""
    w = world
    s = uow.session
    atelier = f.motif(s, s.get(Organisation, w.arras), f.service(s, "Ateliers", "ATL"), "Atelier", collectif=True,
                      bookable_by="everyone", sectorisation_level=SectorisationLevel.AGENT.value)
    common = dict(lieu=w.lieu_arras, collectif=True, max_participants_count=8, duration_in_min=60)
    mornings = f.rdv(s, w.arras, atelier, datetime(2026, 12, 7, 9, 0, tzinfo=UTC), agents=[w.petit],
                     name="Atelier du matin", **common)
    afternoons = f.rdv(s, w.arras, atelier, datetime(2026, 12, 7, 15, 0, tzinfo=UTC), agents=[w.haddad],
                       name="Atelier de l'après-midi", **common)
    uow.commit()
    atelier_id, morning_id, afternoon_id = atelier.id, mornings.id, afternoons.id
    assert _offered(uow, w, RUE_DE_LA_PAIX)["Atelier"] == [atelier_id]
    assert "Atelier" not in _offered(uow, w, LENS)

    def shown(address: SectorAddress | None) -> list[str]:
        return [x.name for x in sessions.open_sessions(uow, atelier_id, w.lieu_arras, now=NOW, sector=address)]

    assert shown(RUE_DE_LA_PAIX) == ["Atelier de l'après-midi"]  # Haddad's, the street's agent
    assert shown(PLACE_DES_HEROS) == ["Atelier du matin"]  # Petit's, the town's
    assert shown(None) == ["Atelier du matin", "Atelier de l'après-midi"]
    assert sessions.open_session(uow, atelier_id, morning_id, NOW, sector=RUE_DE_LA_PAIX) is None
    choice = public_search.motif_choice(uow, PublicScope(w.territory, sector=RUE_DE_LA_PAIX),
                                        "public_office:Atelier", NOW)
    cards = public_search.lieux(uow, choice, NOW, RUE_DE_LA_PAIX)
    assert [(c.name, c.next_availability and c.next_availability.label) for c in cards] == [
        ("Centre Arras", "lundi 7 décembre 2026 à 16h00")]
    uow.rollback()

    before = snapshot(db_url)
    with UnitOfWork(db_url) as unit, pytest.raises(NotFound):
        book_seat(unit, w.usager, rdv_id=morning_id, now=NOW, sector=RUE_DE_LA_PAIX)
    assert snapshot(db_url) == before
    with UnitOfWork(db_url) as unit:
        assert book_seat(unit, w.usager, rdv_id=afternoon_id, now=NOW, sector=RUE_DE_LA_PAIX).created

    # An external prescripteur for a bénéficiaire of the same street: the same sessions, the same refusal.
    assert [x.name for x in public_prescripteur.open_sessions(uow, atelier_id, w.lieu_arras, NOW,
                                                                sector=RUE_DE_LA_PAIX)] == ["Atelier de l'après-midi"]
    with pytest.raises(NotFound):
        public_prescripteur.session_recap(uow, atelier_id, morning_id, NOW, sector=RUE_DE_LA_PAIX)
    uow.rollback()
    prescripteur = PrescripteurEntry("Amélie", "Roux", "amelie.roux@asso.test", "06 99 88 77 66")
    beneficiaire = BeneficiaireEntry("Malik", "Benali", phone_number="06 55 44 33 22")
    before = snapshot(db_url)
    with UnitOfWork(db_url) as unit, pytest.raises(NotFound):
        book_seat_by_prescripteur(unit, rdv_id=morning_id, prescripteur=prescripteur, beneficiaire=beneficiaire,
                                  ip="192.0.2.7", now=NOW, sector=RUE_DE_LA_PAIX)
    assert snapshot(db_url) == before
    with UnitOfWork(db_url) as unit:
        assert book_seat_by_prescripteur(unit, rdv_id=afternoon_id, prescripteur=prescripteur,
                                         beneficiaire=beneficiaire, ip="192.0.2.7", now=NOW,
                                         sector=RUE_DE_LA_PAIX).created


def test_two_sectors_on_one_commune_show_their_organisations_together(uow: UnitOfWork, world: World) -> None:
    """RDV-SP's sectorisation_with_two_territories_spec: two services sectorising the same town (there, two
    territories of one département; here a département is one territory, `Territory.departement_number`
    being unique, so two sectors of it) both offer their lieux to an address of that town, side by side."""
    w = world
    insertion = sectors.create_sector(uow, w.admin, w.arras, "Arras insertion", "arras-insertion")
    sectors.add_zone(uow, w.admin, w.arras, insertion, "62041", "Arras")
    sectors.attribute_sector(uow, w.admin, w.arras, insertion, w.lens)
    scope = PublicScope(w.territory, sector=PLACE_DES_HEROS)
    assert _offered(uow, w, PLACE_DES_HEROS)["Bilan"] == [w.bilan_arras, w.bilan_lens]
    cards = public_search.lieux(uow, public_search.motif_choice(uow, scope, "public_office:Bilan", NOW), NOW,
                                PLACE_DES_HEROS)
    assert sorted(c.name for c in cards) == ["Centre Arras", "Centre Lens"]


def test_testing_an_address_shows_its_sectors_organisations_and_agents(uow: UnitOfWork, db_url: str,
                                                                      world: World) -> None:
    """"Tester la sectorisation": an address of the street zone, another of the town, one outside."""
    w = world
    street = sectors.match_address(uow, w.admin, w.arras, "62041", "62041_0570_00001")
    assert (street.by_street, street.sectors, street.organisations, street.agents) == (
        True, ("Rue de la Paix (arras-paix)",), ("PMI Lens",), ("Hana Haddad (PMI Arras)",))
    town = sectors.match_address(uow, w.admin, w.arras, "62041", "62041_0350")
    assert (town.by_street, town.sectors, town.organisations, town.agents) == (
        False, ("Arras ville (arras)",), ("PMI Arras",), ("Paul Petit (PMI Arras)",))
    outside = sectors.match_address(uow, w.admin, w.arras, "62498")
    assert not outside.covered and outside.sectors == ()
    with pytest.raises(DomainError):
        sectors.match_address(uow, w.admin, w.arras, "Arras")
    with pytest.raises(PermissionDenied):
        sectors.match_address(uow, w.org_admin, w.arras, "62041")
