"""Issue 18, "Vos usagers" and the usager's page, on SQLite and PostgreSQL: the search (names, accents,
emails, phones typed in any form), the referent filter, pages of 25, what other organisations and
territories see, referents, the invitation, the removal from the organisation and the anonymisation."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import factories as make
import pytest
import sqlalchemy as sa
from db_snapshot import refused
from sqlmodel import col, select

from rdv_app.db.models import (
    Agent,
    AuditLog,
    Organisation,
    OutboxMessage,
    ReferentAssignation,
    Territory,
    Usager,
    UsagerEmailToken,
    UsagerProfile,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.enums import AccessLevel, RdvStatus
from rdv_app.services.errors import DomainError, NotFound, PermissionDenied
from rdv_app.services.usagers import usager_auth, usager_list, usager_page, usagers
from rdv_app.services.usagers.usager_list import list_usagers

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
TODAY = NOW.date()
pytestmark = pytest.mark.clock(NOW, tick=False)


@dataclass
class World:
    territory: int
    org: int
    other_org: int
    far_org: int
    admin: int
    basic: int  # PMI only
    colleague: int  # social service
    outsider: int  # an agent of the other organisation
    pmi_motif: int
    social_motif: int
    ids: dict[str, int]


PEOPLE = {
    # key: first name, last name, organisations, fields
    "eloise": ("Éloïse", "Durand", ["org"], {"birth_date": date(1990, 3, 14), "email": "eloise.durand@example.fr",
                                            "phone_number": "06 12 34 56 78",
                                            "phone_number_formatted": "+33612345678"}),
    "oeuvre": ("Cœur", "Lœuvre", ["org"], {"email": "coeur@exemple.fr"}),
    "jean_marc": ("Jean-Marc", "Lefèvre", ["org"], {"phone_number": "0612345678",
                                                    "phone_number_formatted": "+33612345678"}),
    "landline": ("Paul", "Fixe", ["org"], {"phone_number": "01 23 45 67 89",
                                           "phone_number_formatted": "+33123456789",
                                           "email": "paul.fixe@exemple.fr"}),
    "both": ("Marc", "Lambert", ["org", "other_org"], {"birth_name": "Dupuis"}),
    "lena": ("Léna", "Marchand", ["other_org"], {"birth_date": date(1985, 7, 4), "email": "lena.marchand@mail.fr",
                                                "phone_number": "0612345678",
                                                "phone_number_formatted": "+33612345678"}),
    "far": ("Marius", "Durand", ["far_org"], {"email": "marius@exemple.fr"}),
    "gone": ("Marthe", "Durand", ["org"], {"deleted_at": datetime(2026, 1, 1, tzinfo=UTC)}),
}


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    s = uow.session
    territory, far_territory = make.territory(s), make.territory(s, "59", "Nord")
    orgs = {"org": make.organisation(s, territory),
            "other_org": make.organisation(s, territory, "MDS Lens", "mds-lens"),
            "far_org": make.organisation(s, far_territory, "PMI Lille", "pmi-lille")}
    pmi, social = make.service(s, "PMI"), make.service(s, "Service social", "SOCIAL")
    admin = make.agent(s, "admin@demo.test", "Alice", "Admin", organisation=orgs["org"], role=AccessLevel.ADMIN.value,
                       services=[pmi])
    basic = make.agent(s, "basic@demo.test", "Bruno", "Base", organisation=orgs["org"], services=[pmi])
    colleague = make.agent(s, "social@demo.test", "Chloé", "Social", organisation=orgs["org"], services=[social])
    outsider = make.agent(s, "outsider@demo.test", "Marc", "Blanc", organisation=orgs["other_org"], services=[pmi])
    pmi_motif = make.motif(s, orgs["org"], pmi, "Consultation PMI")
    social_motif = make.motif(s, orgs["org"], social, "Entretien social")
    ids = {key: make.usager(s, first, last, organisations=[orgs[m] for m in memberships], **fields).id
           for key, (first, last, memberships, fields) in PEOPLE.items()}
    uow.commit()
    return World(territory.id, orgs["org"].id, orgs["other_org"].id, orgs["far_org"].id, admin.id, basic.id,
                 colleague.id, outsider.id, pmi_motif.id, social_motif.id, ids)


def _found(uow: UnitOfWork, world: World, query: str = "", **kwargs: object) -> list[str]:
    return [line.name for line in list_usagers(uow, world.basic, world.org, query=query, **kwargs).lines]  # type: ignore[arg-type]


# --------------------------------------------------------------------------- search


@pytest.mark.parametrize(("query", "expected"), [
    ("dur", ["DURAND Éloïse"]),  # Marius Durand is of another territory, Marthe Durand was deleted
    ("ÉLO", ["DURAND Éloïse"]),
    ("elo dur", ["DURAND Éloïse"]),
    ("coeur", ["LŒUVRE Cœur"]),  # ligatures fold too
    ("lœu", ["LŒUVRE Cœur"]),
    ("marc", ["LAMBERT Marc", "LEFÈVRE Jean-Marc"]),
    ("dupuis", ["LAMBERT Marc"]),  # the birth name
    ("urand", []),  # the start of a word, not any part of it
    ("eloise.durand@", ["DURAND Éloïse"]),
    ("ELOISE.D", ["DURAND Éloïse"]),  # the words of the email
    ("paul.fixe@ex", ["FIXE Paul"]),
    ("%@", []),
    ("06 12 34", ["DURAND Éloïse", "LEFÈVRE Jean-Marc"]),
    ("0612345678", ["DURAND Éloïse", "LEFÈVRE Jean-Marc"]),
    ("+33 6 12 34 56 78", ["DURAND Éloïse", "LEFÈVRE Jean-Marc"]),
    ("+336123", ["DURAND Éloïse", "LEFÈVRE Jean-Marc"]),
    ("01 23", ["FIXE Paul"]),
    ("07 12", []),
    ("1985", []),  # not a phone of the organisation's usagers
])
def test_search_reads_names_emails_and_phones_typed_in_any_form(uow: UnitOfWork, world: World, query: str,
                                                               expected: list[str]) -> None:
    assert _found(uow, world, query) == expected


def test_nothing_is_listed_before_a_criterion(uow: UnitOfWork, world: World) -> None:
    empty = list_usagers(uow, world.basic, world.org, query="   ")
    assert (empty.searched, empty.lines, empty.page_count) == (False, (), 0)
    none = list_usagers(uow, world.basic, world.org, query="zzz")
    assert (none.searched, none.lines, none.total) == (True, (), 0)


def test_lines_show_the_relative_badge_and_the_age(uow: UnitOfWork, world: World) -> None:
    child = make.usager(uow.session, "Noé", "Durand", organisations=[uow.session.get(Organisation, world.org)],
                        responsible_id=world.ids["eloise"], birth_date=TODAY - timedelta(days=20))
    uow.commit()
    lines = {line.id: line for line in list_usagers(uow, world.basic, world.org, query="durand").lines}
    assert lines[world.ids["eloise"]].birth_date == "14/03/1990 - 36 ans"
    assert not lines[world.ids["eloise"]].relative
    assert lines[child.id].relative and lines[child.id].birth_date.endswith(" - 20 jours")  # type: ignore[union-attr]


def test_the_referent_filter_alone_or_with_text(uow: UnitOfWork, world: World) -> None:
    usager_page.add_referent(uow, world.basic, world.org, world.ids["eloise"], world.colleague)
    usager_page.add_referent(uow, world.basic, world.org, world.ids["both"], world.colleague)
    assert _found(uow, world, referent_agent_id=world.colleague) == ["DURAND Éloïse", "LAMBERT Marc"]
    assert _found(uow, world, "lam", referent_agent_id=world.colleague) == ["LAMBERT Marc"]
    assert _found(uow, world, referent_agent_id=world.admin) == []
    with pytest.raises(NotFound):
        list_usagers(uow, world.basic, world.org, referent_agent_id=world.outsider)
    assert [a.name for a in usager_list.organisation_agents(uow, world.basic, world.org)] == [
        "Alice Admin", "Bruno Base", "Chloé Social"]


def test_pages_of_25_by_last_name(uow: UnitOfWork, world: World) -> None:
    org = Organisation
    organisation = uow.session.get(org, world.org)
    for n in range(60):
        make.usager(uow.session, f"Prénom{n:02d}", f"Série {59 - n:02d}", organisations=[organisation])
    uow.commit()
    first = list_usagers(uow, world.basic, world.org, query="serie")
    assert (first.total, first.page, first.page_count, len(first.lines)) == (60, 1, 3, 25)
    assert first.lines[0].name == "SÉRIE 00 Prénom59"
    last = list_usagers(uow, world.basic, world.org, query="serie", page=9)
    assert (last.page, len(last.lines), last.lines[-1].name) == (3, 10, "SÉRIE 59 Prénom00")
    every = [line.name for page in (1, 2, 3)
             for line in list_usagers(uow, world.basic, world.org, query="serie", page=page).lines]
    assert every == sorted(every) and len(set(every)) == 60


def test_other_organisations_and_territories(uow: UnitOfWork, world: World) -> None:
    assert _found(uow, world, "lena") == []  # another organisation of the territory: not in this list
    assert _found(uow, world, "marius") == []
    uow.session.execute(sa.update(Territory).where(Territory.id == world.territory)
                        .values(visible_users_throughout_the_territory=True))
    uow.commit()
    assert _found(uow, world, "lena") == ["MARCHAND Léna"]
    assert _found(uow, world, "marius") == []  # never another territory
    with pytest.raises(PermissionDenied):
        list_usagers(uow, world.outsider, world.org, query="dur")
    with pytest.raises(NotFound):
        usager_page.usager_page(uow, world.basic, world.org, world.ids["far"])


def test_the_index_follows_every_write(uow: UnitOfWork, world: World) -> None:
    usager = uow.session.get(Usager, world.ids["eloise"])
    assert usager is not None
    usager.last_name, usager.email = "Béranger", "eb@exemple.fr"
    uow.session.add(usager)
    uow.commit()
    assert _found(uow, world, "durand") == []
    assert _found(uow, world, "beran") == ["BÉRANGER Éloïse"]
    assert _found(uow, world, "eb@") == ["BÉRANGER Éloïse"]
    uow.session.delete(usager)  # its profile goes with it (ON DELETE CASCADE)
    uow.commit()
    assert _found(uow, world, "beran") == []


# --------------------------------------------------------------------------- the usager's page


def test_page_fields_banners_and_notifications(uow: UnitOfWork, world: World) -> None:
    page = usager_page.usager_page(uow, world.basic, world.org, world.ids["eloise"])
    assert page.full_name == "Éloïse DURAND"
    details = {d.label: d.value for d in page.details}
    assert details["Date de naissance"] == "14/03/1990 (36 ans)"
    assert details["Email"] == "eloise.durand@example.fr"
    assert (page.not_registered, page.invitable, page.franceconnect) == (True, True, False)
    assert [(n.label, n.enabled, n.text) for n in page.notifications] == [
        ("Notifications par SMS", True, "Activées"), ("Notifications par email", True, "Activées")]
    # Jean-Marc Lefèvre of this organisation shares the number; Léna Marchand (elsewhere) does not count.
    assert page.phone_search == "+33612345678"
    fixe = usager_page.usager_page(uow, world.basic, world.org, world.ids["landline"])
    assert fixe.phone_search is None
    assert [(n.enabled, n.text) for n in fixe.notifications] == [
        (False, "le numéro de téléphone renseigné n'est pas un mobile"), (True, "Activées")]
    lambert = usager_page.usager_page(uow, world.basic, world.org, world.ids["both"])
    assert [n.text for n in lambert.notifications] == ["pas de numéro de téléphone renseigné", "pas d'email renseigné"]
    assert not lambert.invitable and lambert.history is None  # not an admin
    usager = uow.session.get(Usager, world.ids["both"])
    usager.logged_once_with_franceconnect, usager.notify_by_sms = True, False  # type: ignore[union-attr]
    uow.session.add(usager)
    uow.commit()
    lambert = usager_page.usager_page(uow, world.basic, world.org, world.ids["both"])
    assert (lambert.franceconnect, lambert.not_registered, lambert.notifications[0].text) == (True, False, "Désactivées")


def test_relatives_and_their_responsible(uow: UnitOfWork, world: World) -> None:
    org = uow.session.get(Organisation, world.org)
    other = uow.session.get(Organisation, world.other_org)
    baby = make.usager(uow.session, "Léo", "Durand", organisations=[org], responsible_id=world.ids["eloise"],
                       birth_date=TODAY - timedelta(days=75))
    older = make.usager(uow.session, "Lou", "Durand", organisations=[org], responsible_id=world.ids["eloise"],
                        birth_date=date(2020, 1, 2))
    make.usager(uow.session, "Ailleurs", "Durand", organisations=[other], responsible_id=world.ids["eloise"])
    uow.commit()
    usager_page.add_referent(uow, world.basic, world.org, world.ids["eloise"], world.colleague)
    page = usager_page.usager_page(uow, world.basic, world.org, world.ids["eloise"])
    assert [(r.name, r.age) for r in page.relatives] == [("DURAND Lou", "6 ans"), ("DURAND Léo", "2 mois")]
    child = usager_page.usager_page(uow, world.basic, world.org, baby.id)
    assert child.relative and child.responsible is not None and child.responsible.id == world.ids["eloise"]
    assert {d.label: d.value for d in child.details}["Email"] == "eloise.durand@example.fr"  # the responsible's
    assert child.responsible_referents == ("Chloé Social",)
    assert not child.invitable
    assert older.id in {r.id for r in page.relatives}


def _rdv(uow: UnitOfWork, world: World, usager: str, starts_at: datetime, motif: int, agent: int,
         status: str = RdvStatus.UNKNOWN.value) -> int:
    cancelled = NOW if status in ("excused", "revoked", "noshow") else None
    rdv = make.rdv(uow.session, world.org, motif, starts_at, agents=[agent], usagers=[world.ids[usager]],
                   status=status, cancelled_at=cancelled)
    if status != RdvStatus.UNKNOWN.value:
        uow.session.execute(sa.text("UPDATE participation SET status = :s WHERE rdv_id = :r"),
                            {"s": status, "r": rdv.id})
    uow.commit()
    return rdv.id  # type: ignore[return-value]


def test_rdvs_and_counters_follow_the_agents_rdv_rule(uow: UnitOfWork, world: World) -> None:
    now_pmi = _rdv(uow, world, "eloise", NOW + timedelta(minutes=30), world.pmi_motif, world.admin)
    _rdv(uow, world, "eloise", NOW + timedelta(days=3), world.social_motif, world.colleague)
    soon = _rdv(uow, world, "eloise", NOW + timedelta(days=2), world.pmi_motif, world.admin)
    _rdv(uow, world, "eloise", NOW - timedelta(days=30), world.pmi_motif, world.admin, "seen")
    _rdv(uow, world, "eloise", NOW - timedelta(days=20), world.pmi_motif, world.admin, "noshow")
    _rdv(uow, world, "eloise", NOW - timedelta(days=10), world.pmi_motif, world.admin)
    _rdv(uow, world, "eloise", NOW + timedelta(days=5), world.pmi_motif, world.admin, "excused")
    basic = usager_page.usager_page(uow, world.basic, world.org, world.ids["eloise"])
    assert [r.id for r in basic.current_rdvs] == [now_pmi]
    assert [r.id for r in basic.next_rdvs] == [now_pmi, soon]  # no social service RDV, no cancelled one
    counts = {c.key: c.count for c in basic.counters}
    assert (basic.rdv_count, counts) == (6, {"seen": 1, "excused": 1, "revoked": 0, "noshow": 1,
                                             "unknown_future": 2, "unknown_past": 1})
    admin = usager_page.usager_page(uow, world.admin, world.org, world.ids["eloise"])
    assert admin.rdv_count == 7 and len(admin.next_rdvs) == 3
    assert {c.key: c.count for c in admin.counters}["unknown_future"] == 3
    social = usager_page.usager_page(uow, world.colleague, world.org, world.ids["eloise"])
    assert social.rdv_count == 1  # only the social service's, which they are on


# --------------------------------------------------------------------------- referents


def _webhooks(uow: UnitOfWork) -> list[tuple[str, str]]:
    uow.rollback()
    rows = uow.session.exec(select(OutboxMessage.payload).where(OutboxMessage.channel == "webhook")
                            .order_by(col(OutboxMessage.id))).all()
    return [(json.loads(p["body"])["meta"]["model"], json.loads(p["body"])["meta"]["event"]) for p in rows]


def test_referents_added_and_removed_with_webhooks_and_history(uow: UnitOfWork, world: World) -> None:
    make.webhook(uow.session, world.org, subscriptions=["referent_assignation"])
    uow.commit()
    usager_id = world.ids["eloise"]
    assert usager_page.add_referent(uow, world.basic, world.org, usager_id, world.colleague) == (
        "Chloé Social est maintenant agent référent.")
    page = usager_page.usager_page(uow, world.admin, world.org, usager_id)
    assert [(r.name, r.services, r.removable) for r in page.referents] == [("Chloé Social", "Service social", True)]
    assert world.colleague not in {a.id for a in page.referent_choices}
    with pytest.raises(DomainError, match="déjà agent référent"):
        usager_page.add_referent(uow, world.basic, world.org, usager_id, world.colleague)
    assert usager_page.remove_referent(uow, world.basic, world.org, usager_id, world.colleague) == (
        "Chloé Social n'est plus agent référent.")
    assert _webhooks(uow) == [("ReferentAssignation", "created"), ("ReferentAssignation", "destroyed")]
    history = usager_page.usager_page(uow, world.admin, world.org, usager_id).history
    assert history is not None
    assert [(h.author, h.action, h.details) for h in history] == [
        ("Bruno Base", "Agent référent retiré", ("Agent référent : Chloé Social → —",)),
        ("Bruno Base", "Agent référent ajouté", ("Agent référent : — → Chloé Social",))]


def test_referent_refusals_change_nothing(db_url: str, world: World) -> None:
    usager_id = world.ids["eloise"]
    refused(db_url, lambda uow: usager_page.add_referent(uow, world.outsider, world.org, usager_id, world.basic),
            "n'appartenez pas")
    refused(db_url, lambda uow: usager_page.add_referent(uow, world.basic, world.org, usager_id, world.outsider),
            "n'appartient pas à cette organisation")
    refused(db_url, lambda uow: usager_page.add_referent(uow, world.basic, world.org, world.ids["lena"], world.basic),
            "n'existe pas")
    refused(db_url, lambda uow: usager_page.remove_referent(uow, world.basic, world.org, usager_id, world.admin),
            "pas référent")
    refused(db_url, lambda uow: usager_page.add_referent(uow, world.outsider, world.other_org, usager_id,
                                                          world.outsider), "n'existe pas")


# --------------------------------------------------------------------------- invitation


def test_invitation_by_email_valid_a_week(uow: UnitOfWork, world: World) -> None:
    usager_id = world.ids["eloise"]
    assert usager_page.invite(uow, world.basic, world.org, usager_id) == "L'usager a été invité."
    uow.rollback()
    email = uow.session.exec(select(OutboxMessage).where(OutboxMessage.channel == "mail")).one()
    assert email.payload["to"] == "eloise.durand@example.fr"
    assert email.payload["subject"] == "Vous avez été invité sur RDV Services Publics"
    assert "Cette invitation est valable jusqu'au 11 décembre." in email.payload["text"]
    token = uow.session.exec(select(UsagerEmailToken)).one()
    assert token.expires_at == NOW + timedelta(weeks=1)
    assert usager_page.usager_page(uow, world.basic, world.org, usager_id).invitation_sent == (
        "Invitation envoyée aujourd'hui")
    history = usager_page.usager_page(uow, world.admin, world.org, usager_id).history
    assert history is not None and [(h.action, h.details) for h in history] == [("Invitation envoyée", ())]
    link = email.payload["text"].split("jeton=")[1].split()[0]
    opened = usager_auth.open_email_link(uow, link, NOW + timedelta(days=6))
    assert opened is not None and opened.usager_id == usager_id
    page = usager_page.usager_page(uow, world.basic, world.org, usager_id)
    assert (page.not_registered, page.invitable) == (False, False)


def test_who_cannot_be_invited(db_url: str, world: World) -> None:
    refused(db_url, lambda uow: usager_page.invite(uow, world.basic, world.org, world.ids["both"]),
            "ne peut pas être invité")  # no email
    refused(db_url, lambda uow: usager_page.invite(uow, world.outsider, world.org, world.ids["eloise"]),
            "n'appartenez pas")


# --------------------------------------------------------------------------- removal


def test_removal_refused_while_an_rdv_is_to_come(db_url: str, uow: UnitOfWork, world: World) -> None:
    child = make.usager(uow.session, "Léo", "Durand", responsible_id=world.ids["eloise"],
                        organisations=[uow.session.get(
                            Organisation, world.org)])
    uow.commit()
    world.ids["child"] = child.id  # type: ignore[assignment]
    _rdv(uow, world, "child", NOW + timedelta(days=1), world.pmi_motif, world.admin)
    refused(db_url, lambda u: usager_page.remove_from_organisation(u, world.basic, world.org, world.ids["eloise"]),
            "ont des rendez-vous programmés")


def test_removal_drops_the_family_and_anonymises_who_has_no_organisation_left(uow: UnitOfWork, world: World) -> None:
    make.webhook(uow.session, world.org, subscriptions=["user", "user_profile"])
    org = uow.session.get(Organisation, world.org)
    child = make.usager(uow.session, "Léo", "Durand", responsible_id=world.ids["both"], organisations=[org])
    uow.commit()
    world.ids["child"] = child.id  # type: ignore[assignment]
    past = _rdv(uow, world, "both", NOW - timedelta(days=3), world.pmi_motif, world.admin, "seen")
    _rdv(uow, world, "child", NOW + timedelta(days=3), world.pmi_motif, world.admin, "excused")  # cancelled
    usager_page.add_referent(uow, world.basic, world.org, child.id, world.colleague)
    removal = usager_page.remove_from_organisation(uow, world.basic, world.org, world.ids["both"])
    assert removal.message == "L'usager et 1 proche ont été supprimés de l'organisation."
    assert removal.anonymised == (child.id,)  # Marc Lambert is still followed by the MDS Lens
    uow.rollback()
    assert set(uow.session.exec(select(UsagerProfile.organisation_id).where(
        UsagerProfile.usager_id == world.ids["both"])).all()) == {world.other_org}
    gone = uow.session.get(Usager, child.id)
    assert gone is not None and (gone.first_name, gone.last_name, gone.deleted_at) == (
        "Usager", "supprimé", NOW)
    assert uow.session.exec(select(ReferentAssignation).where(ReferentAssignation.usager_id == child.id)).all() == []
    assert uow.session.exec(select(AuditLog).where(AuditLog.entity_type == "usager",
                                                   AuditLog.entity_id == str(child.id))).all() == []
    assert _found(uow, world, "lambert") == [] and _found(uow, world, "leo") == []
    assert ("UserProfile", "destroyed") in _webhooks(uow) and ("User", "destroyed") in _webhooks(uow)
    with pytest.raises(NotFound):
        usager_page.usager_page(uow, world.basic, world.org, world.ids["both"])
    assert past  # the RDV stays, with its participation
    # From the MDS Lens, the last organisation: anonymised.
    make.agent(uow.session, "lens@demo.test", "Léa", "Lens",
               organisation=uow.session.get(Organisation,
                                            world.other_org))
    uow.commit()
    lens = uow.session.exec(select(Agent.id).where(
        Agent.email == "lens@demo.test")).one()
    final = usager_page.remove_from_organisation(uow, lens, world.other_org, world.ids["both"])
    assert (final.message, final.anonymised) == ("L'usager a été supprimé.", (world.ids["both"],))
    uow.rollback()
    assert uow.session.get(Usager, world.ids["both"]).birth_name is None  # type: ignore[union-attr]


def test_trouver_un_rdv_plans_only_for_an_usager_the_organisation_may_see(uow: UnitOfWork, world: World) -> None:
    assert usagers.usager_for_planning(uow, world.basic, world.org, world.ids["eloise"]).name == "DURAND Éloïse"
    # Another organisation of the territory: an RDV would add them, as in the RDV form.
    assert usagers.usager_for_planning(uow, world.basic, world.org, world.ids["lena"]).name == "MARCHAND Léna"
    with pytest.raises(PermissionDenied):
        usagers.usager_for_planning(uow, world.basic, world.org, world.ids["far"])
    with pytest.raises(NotFound):
        usagers.usager_for_planning(uow, world.basic, world.org, world.ids["gone"])
    with pytest.raises(PermissionDenied):
        usagers.usager_for_planning(uow, world.outsider, world.org, world.ids["eloise"])
