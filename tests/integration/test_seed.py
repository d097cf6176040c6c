"""The demo data of issue 2, checked the way a person exploring the demo would see it."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import phonenumbers
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select

from rdv_app.auth.passwords import verify_password
from rdv_app.db.models import (
    Absence,
    Agent,
    AgentInvitation,
    AgentRole,
    AgentService,
    AgentTerritorialRole,
    Lieu,
    Motif,
    Organisation,
    Participation,
    PlageOuverture,
    PlageOuvertureMotif,
    Rdv,
    RdvAgent,
    ReferentAssignation,
    Service,
    Territory,
    Usager,
    UsagerProfile,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.demo.seed import DEMO_PASSWORD, reset_demo, seed_demo
from rdv_app.domain.recurrence import Recurrence

# A Wednesday: the three months ahead cross Easter Monday, 1 May, 8 May, Ascension and Whit Monday.
TODAY = date(2026, 3, 18)

EXPECTED_LOGINS = {
    "camille.martin@demo.test": ("PMI Arras", "admin", "PMI"),
    "julien.petit@demo.test": ("PMI Arras", "basic", "PMI"),
    "sophie.bernard@demo.test": ("PMI Arras", "basic", "Secrétariat"),
    "karim.haddad@demo.test": ("Maison Départementale des Solidarités de Lens", "basic", "Service social"),
    "marie.payet@demo.test": ("PMI Saint-Denis", "admin", "PMI"),
}


def _all(session: Session, model: type[SQLModel]) -> list:
    return list(session.exec(select(model)))


def _row_counts(session: Session) -> dict[str, int]:
    return {table.name: session.exec(select(sa.func.count()).select_from(table)).one()
            for table in SQLModel.metadata.sorted_tables}


def _local(instant: datetime, organisation: Organisation) -> datetime:
    return instant.astimezone(ZoneInfo(organisation.timezone))


def _rdv_agent(session: Session) -> dict[int, int]:
    return {link.rdv_id: link.agent_id for link in _all(session, RdvAgent)}


def test_seed_creates_the_demo_of_the_issue(uow: UnitOfWork) -> None:
    summary = seed_demo(uow, TODAY)
    session = uow.session

    assert summary.created
    assert {(t.departement_number, t.name, t.timezone) for t in _all(session, Territory)} == {
        ("62", "Pas-de-Calais", "Europe/Paris"), ("974", "La Réunion", "Indian/Reunion")}
    territories = {t.id: t for t in _all(session, Territory)}
    organisations = _all(session, Organisation)
    assert len(organisations) >= 3
    assert {"PMI Arras", "Maison Départementale des Solidarités de Lens", "Mairie de Béthune",
            "PMI Saint-Denis"} <= {o.name for o in organisations}
    for organisation in organisations:
        assert organisation.timezone == territories[organisation.territory_id].timezone
        assert organisation.phone_number and organisation.email and organisation.website
        assert organisation.horaires and organisation.slug

    services = {s.short_name: s for s in _all(session, Service)}
    assert {"PMI", "Service social", "Secrétariat", "Mairie"} <= set(services)
    assert services["Service social"].is_social and services["Secrétariat"].is_secretariat
    assert not services["PMI"].is_social

    agents = _all(session, Agent)
    assert len(agents) == 9
    levels = {role.access_level for role in _all(session, AgentRole)}
    assert levels == {"admin", "basic", "intervenant"}
    intervenants = [a for a in agents if a.email is None]
    assert len(intervenants) == 1 and intervenants[0].password_hash is None
    # One agent invited by Camille Martin has not activated the account: the Agents page shows it pending.
    [invited] = [a for a in agents if a.email and a.password_hash is None]
    [invitation] = _all(session, AgentInvitation)
    assert (invitation.agent_id, invitation.used_at) == (invited.id, None)
    assert invitation.expires_at.astimezone(ZoneInfo("Europe/Paris")).date() == TODAY + timedelta(days=7)
    accounts = [a for a in agents if a.password_hash]
    assert len(accounts) == 7 and all(a.calendar_uid_hash for a in accounts)
    assert len({a.calendar_uid_hash for a in accounts}) == 7
    roles_per_agent = Counter(role.agent_id for role in _all(session, AgentRole))
    assert max(roles_per_agent.values()) == 3
    # Karim works in organisations of two territories (the organisation chooser groups them).
    karim = next(a for a in agents if a.email == "karim.haddad@demo.test")
    karim_territories = {organisation.territory_id for role in _all(session, AgentRole) if role.agent_id == karim.id
                         for organisation in [session.get(Organisation, role.organisation_id)] if organisation}
    assert len(karim_territories) == 2
    assert _all(session, AgentTerritorialRole)

    motifs = _all(session, Motif)
    assert len(motifs) == 12
    assert {m.location_type for m in motifs} == {"public_office", "phone", "home"}
    assert {"everyone", "agents"} <= {m.bookable_by for m in motifs}
    collectifs = [m for m in motifs if m.collectif]
    assert len(collectifs) == 1 and collectifs[0].location_type == "public_office"
    # Sectorisation (issue 28): two motifs booked by address, every other one open to the whole département.
    assert sorted(m.sectorisation_level for m in motifs).count("departement") == 10
    assert {m.name: m.sectorisation_level for m in motifs if m.sectorisation_level != "departement"} == {
        "Bilan de santé des 4 ans": "agent", "Aide aux démarches administratives": "organisation"}
    assert all(20 <= m.default_duration_in_min <= 60 and m.instruction_for_rdv and m.color for m in motifs)
    lieux = _all(session, Lieu)
    assert {"Arras", "Lens", "Béthune", "Saint-Denis"} <= {lieu.address.rsplit(" ", 1)[-1] for lieu in lieux}
    assert all(lieu.latitude is not None and lieu.longitude is not None for lieu in lieux)

    usagers = _all(session, Usager)
    assert len(usagers) >= 60
    assert sum(1 for u in usagers if u.responsible_id) >= 5
    assert {u.created_through for u in usagers} == {"seed"}
    assert _all(session, ReferentAssignation)

    rdvs = _all(session, Rdv)
    assert 250 <= len(rdvs) <= 350
    now = datetime.combine(TODAY, datetime.min.time(), ZoneInfo("Europe/Paris"))
    assert any(r.starts_at < now for r in rdvs) and any(r.starts_at > now for r in rdvs)
    assert {r.status for r in rdvs} == {"unknown", "seen", "noshow", "excused", "revoked"}
    assert any(r.status == "unknown" and r.ends_at < now for r in rdvs), "des RDV passés à renseigner"
    assert {r.created_by_type for r in rdvs} == {"agent", "usager"}

    assert (summary.organisations, summary.agents, summary.usagers, summary.rdvs) == (
        len(organisations), 9, len(usagers), len(rdvs))
    assert summary.plages == len(_all(session, PlageOuverture))
    assert summary.public_organisation_name == "PMI Arras"
    assert session.get(Organisation, summary.public_organisation_id).name == "PMI Arras"


def test_demo_logins_work_with_the_shared_password(uow: UnitOfWork) -> None:
    summary = seed_demo(uow, TODAY)
    session = uow.session
    organisations = {o.id: o.name for o in _all(session, Organisation)}
    services = {s.id: s.short_name for s in _all(session, Service)}

    assert summary.demo_password == DEMO_PASSWORD == "RdvDemo-2026!"
    assert ("Administratrice, PMI Arras", "camille.martin@demo.test", DEMO_PASSWORD) in summary.logins
    assert set(EXPECTED_LOGINS) <= {email for _, email, _ in summary.logins}
    # Argon2 is slow on purpose: the agents share one hash, so verifying it once covers every login.
    hashes = {session.exec(select(Agent).where(Agent.email == email)).one().password_hash
              for _, email, _ in summary.logins}
    assert len(hashes) == 1
    assert all(label and password == DEMO_PASSWORD for label, _, password in summary.logins)
    shared_hash = hashes.pop()
    assert verify_password(shared_hash, DEMO_PASSWORD)
    assert not verify_password(shared_hash, "mauvais-mot-de-passe")
    for email, (organisation, level, service) in EXPECTED_LOGINS.items():
        agent = session.exec(select(Agent).where(Agent.email == email)).one()
        roles = {organisations[r.organisation_id]: r.access_level
                 for r in session.exec(select(AgentRole).where(AgentRole.agent_id == agent.id))}
        assert roles[organisation] == level
        links = session.exec(select(AgentService).where(AgentService.agent_id == agent.id))
        assert service in {services[link.service_id] for link in links}
    camille = session.exec(select(Agent).where(Agent.email == "camille.martin@demo.test")).one()
    assert (camille.first_name, camille.last_name) == ("Camille", "Martin")
    karim = session.exec(select(Agent).where(Agent.email == "karim.haddad@demo.test")).one()
    karim_roles = {organisations[r.organisation_id]: r.access_level
                   for r in session.exec(select(AgentRole).where(AgentRole.agent_id == karim.id))}
    assert karim_roles["PMI Arras"] == "basic"


def test_seeding_twice_changes_nothing(uow: UnitOfWork) -> None:
    first = seed_demo(uow, TODAY)
    counts = _row_counts(uow.session)

    second = seed_demo(uow, TODAY + timedelta(days=1))

    assert not second.created
    assert _row_counts(uow.session) == counts
    assert (second.logins, second.public_organisation_id, second.rdvs, second.usagers, second.plages) == (
        first.logins, first.public_organisation_id, first.rdvs, first.usagers, first.plages)


def test_reset_demo_recreates_the_same_demo(db_url: str) -> None:
    def snapshot(session: Session) -> tuple[list, list, list]:
        return (sorted(r.starts_at for r in _all(session, Rdv)),
                sorted((u.last_name, u.first_name, u.email or "") for u in _all(session, Usager)),
                sorted(a.calendar_uid_hash or "" for a in _all(session, Agent)))

    with UnitOfWork(db_url) as uow:
        seed_demo(uow, TODAY)
        uow.session.add(Usager(first_name="Ajout", last_name="Manuel", created_through="agent_creation"))
        uow.commit()
    with UnitOfWork(db_url) as uow:
        before = snapshot(uow.session)
        assert len(before[1]) == 61
        summary = reset_demo(uow, TODAY)
    with UnitOfWork(db_url) as uow:
        after = snapshot(uow.session)

    assert summary.created and summary.usagers == 60
    assert after[0] == before[0]
    assert after[1] == [name for name in before[1] if name[0] != "Manuel"]
    # Webcal secrets are random, never derived from the seed: old calendar URLs stop working.
    assert len([uid for uid in after[2] if uid]) == 7
    assert not set(after[2]) & set(before[2]) - {""}


def test_no_agent_has_two_overlapping_rdvs(uow: UnitOfWork) -> None:
    seed_demo(uow, TODAY)
    session = uow.session
    agent_of = _rdv_agent(session)
    by_agent: dict[int, list[Rdv]] = defaultdict(list)
    for rdv in _all(session, Rdv):
        if rdv.status not in ("excused", "revoked"):
            by_agent[agent_of[rdv.id]].append(rdv)

    for rdvs in by_agent.values():
        rdvs.sort(key=lambda r: r.starts_at)
        for previous, following in zip(rdvs, rdvs[1:], strict=False):
            assert previous.ends_at <= following.starts_at, (previous.starts_at, following.starts_at)


def _holds(plage: PlageOuverture, plage_motifs: set[int], rdv: Rdv, motif: Motif, start: datetime,
           end: datetime) -> bool:
    """The RDV (local `start`/`end`) is a slot of one occurrence of the plage."""
    recurrence = Recurrence.from_json(plage.recurrence, plage.first_day)
    days = (list(recurrence.dates(plage.first_day, start.date(), start.date())) if recurrence
            else [plage.first_day])
    offset = datetime.combine(start.date(), start.time()) - datetime.combine(start.date(), plage.start_time)
    return (plage.organisation_id == rdv.organisation_id and motif.id in plage_motifs
            and start.date() in days and plage.start_time <= start.time() and end.time() <= plage.end_time
            and offset % timedelta(minutes=motif.default_duration_in_min) == timedelta(0)
            and (motif.location_type != "public_office" or plage.lieu_id == rdv.lieu_id))


def _absent(absence: Absence, zone: ZoneInfo, start: datetime, end: datetime) -> bool:
    recurrence = Recurrence.from_json(absence.recurrence, absence.first_day)
    days = (recurrence.dates(absence.first_day, start.date(), start.date()) if recurrence
            else [absence.first_day])
    for day in days:
        absent_from = datetime.combine(day, absence.start_time, zone)
        absent_until = datetime.combine(day + (absence.end_day - absence.first_day), absence.end_time, zone)
        if absent_from < end and start < absent_until:
            return True
    return False


def test_every_rdv_sits_on_a_slot_of_its_agent_plages(uow: UnitOfWork) -> None:
    """Inside a plage occurrence, on the motif's grid, not on a holiday nor during an absence."""
    seed_demo(uow, TODAY)
    session = uow.session
    organisations = {o.id: o for o in _all(session, Organisation)}
    territories = {t.id: t for t in _all(session, Territory)}
    motifs = {m.id: m for m in _all(session, Motif)}
    agent_of = _rdv_agent(session)
    plage_motifs: dict[int, set[int]] = defaultdict(set)
    for link in _all(session, PlageOuvertureMotif):
        plage_motifs[link.plage_ouverture_id].add(link.motif_id)
    plages: dict[int, list[PlageOuverture]] = defaultdict(list)
    for plage in _all(session, PlageOuverture):
        plages[plage.agent_id].append(plage)
    absences: dict[int, list[Absence]] = defaultdict(list)
    for absence in _all(session, Absence):
        absences[absence.agent_id].append(absence)
    days_off = {
        "62": holidays.France(years=range(2025, 2028)),
        "974": holidays.France(subdiv="974", years=range(2025, 2028)),
    }

    rdvs = _all(session, Rdv)
    for rdv in rdvs:
        organisation, motif = organisations[rdv.organisation_id], motifs[rdv.motif_id]
        agent = agent_of[rdv.id]
        start, end = _local(rdv.starts_at, organisation), _local(rdv.ends_at, organisation)
        assert end - start == timedelta(minutes=motif.default_duration_in_min)
        assert start.date() not in days_off[territories[organisation.territory_id].departement_number]
        assert sum(1 for p in plages[agent] if _holds(p, plage_motifs[p.id], rdv, motif, start, end)) == 1, (
            motif.name, start)
        zone = ZoneInfo(organisation.timezone)
        assert not any(_absent(absence, zone, start, end) for absence in absences[agent]), start

    reunion = [_local(r.starts_at, organisations[r.organisation_id]) for r in rdvs
               if organisations[r.organisation_id].name == "PMI Saint-Denis"]
    assert reunion and all(8 <= local.hour < 12 for local in reunion), "heures locales de La Réunion"


def test_plages_and_absences_cover_every_kind_of_recurrence(uow: UnitOfWork) -> None:
    seed_demo(uow, TODAY)
    plages = _all(uow.session, PlageOuverture)
    rules = [Recurrence.from_json(p.recurrence, p.first_day) for p in plages]
    assert any(r is None for r in rules), "une plage exceptionnelle"
    assert any(r and r.every == "week" and r.interval == 1 for r in rules)
    assert any(r and r.every == "week" and r.interval == 2 for r in rules)
    assert any(r and r.describe_fr().startswith("chaque mois, le 2e mardi") for r in rules)
    horizon = TODAY + timedelta(days=80)
    assert all(r is None or (r.until and r.until >= horizon) for r in rules), "trois mois de plages"
    assert all(p.lieu_id for p, rule in zip(plages, rules, strict=True) if rule is None)

    absences = _all(uow.session, Absence)
    assert any(a.end_day > a.first_day for a in absences), "une absence de plusieurs jours"
    assert any(a.recurrence for a in absences), "une absence récurrente"
    assert any(a.end_day == a.first_day and a.recurrence is None for a in absences), "une absence ponctuelle"


def test_participations_agree_with_their_rdv(uow: UnitOfWork) -> None:
    seed_demo(uow, TODAY)
    session = uow.session
    participations: dict[int, list[Participation]] = defaultdict(list)
    for participation in _all(session, Participation):
        participations[participation.rdv_id].append(participation)
    motifs = {m.id: m for m in _all(session, Motif)}
    usagers = {u.id: u for u in _all(session, Usager)}

    rdvs = _all(session, Rdv)
    for rdv in rdvs:
        people = participations[rdv.id]
        statuses = {p.status for p in people}
        assert people, rdv.id
        assert (rdv.cancelled_at is not None) == (rdv.status in ("excused", "revoked", "noshow"))
        assert rdv.users_count == sum(1 for p in people if p.status not in ("excused", "revoked"))
        assert rdv.created_at <= rdv.starts_at
        if rdv.cancelled_at:
            assert rdv.created_at <= rdv.cancelled_at
        if motifs[rdv.motif_id].collectif:
            assert rdv.name == "Atelier massage bébé" and rdv.max_participants_count == 8
            assert rdv.status in ("unknown", "seen") and len(people) <= 8
            assert "seen" in statuses if rdv.status == "seen" else "seen" not in statuses
            families = [usagers[p.usager_id].responsible_id or p.usager_id for p in people]
            assert len(families) == len(set(families)), "un seul membre par famille"
        else:
            assert statuses == {rdv.status} and len(people) == 1
            assert rdv.name is None and rdv.max_participants_count is None
        if rdv.created_by_type == "usager":
            assert motifs[rdv.motif_id].bookable_by == "everyone" and rdv.created_by_usager_id
            assert usagers[rdv.created_by_usager_id].email
        else:
            assert rdv.created_by_agent_id
    assert sum(1 for r in rdvs if motifs[r.motif_id].collectif and r.users_count > 1) >= 3


def test_usagers_look_real_and_belong_to_the_organisations_they_visit(uow: UnitOfWork) -> None:
    seed_demo(uow, TODAY)
    session = uow.session
    usagers = _all(session, Usager)
    by_id = {u.id: u for u in usagers}

    relatives = [u for u in usagers if u.responsible_id]
    assert all(u.email is None and u.phone_number is None for u in relatives)
    assert all(by_id[u.responsible_id].responsible_id is None for u in relatives)
    adults = [u for u in usagers if not u.responsible_id]
    assert any(u.email is None for u in adults) and sum(1 for u in adults if u.email) > len(adults) / 2
    assert len({u.email for u in adults if u.email}) == sum(1 for u in adults if u.email)
    for usager in adults:
        assert usager.address and usager.post_code and usager.city_name and usager.birth_date
        if usager.phone_number:
            assert len(usager.phone_number) == 14 and usager.phone_number[:2] in ("06", "07")
            number = phonenumbers.parse(usager.phone_number_formatted)
            assert phonenumbers.is_valid_number(number)
            assert phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE
            assert phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == (
                usager.phone_number_formatted)

    profiles = {(p.organisation_id, p.usager_id) for p in _all(session, UsagerProfile)}
    assert {u.id for u in usagers} <= {usager_id for _, usager_id in profiles}
    organisation_of = {r.id: r.organisation_id for r in _all(session, Rdv)}
    for participation in _all(session, Participation):
        organisation = organisation_of[participation.rdv_id]
        usager = by_id[participation.usager_id]
        assert (organisation, usager.id) in profiles
        if usager.responsible_id:
            assert (organisation, usager.responsible_id) in profiles
