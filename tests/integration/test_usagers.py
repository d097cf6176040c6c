"""Finding and creating usagers while planning an RDV, on SQLite and PostgreSQL: accent-insensitive
search, masked usagers of the territory's other organisations, inline creation with field errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import factories as make
import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel, select

from rdv_app.db.models import (
    AuditLog,
    Territory,
    Usager,
    UsagerProfile,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.errors import DomainError, PermissionDenied
from rdv_app.services.usagers import usagers

TODAY = date(2026, 12, 4)


@dataclass
class World:
    territory: int
    org: int
    other_org: int
    far_org: int
    agent: int
    outsider: int
    ids: dict[str, int]


PEOPLE = {
    # key: (first name, last name, organisations, extra fields)
    "eloise": ("Éloïse", "Durand", ["org"], {"birth_date": date(1990, 3, 14), "email": "eloise.durand@example.fr",
                                            "phone_number": "06 12 34 56 78"}),
    "jean_marc": ("Jean-Marc", "Lefèvre", ["org"], {}),
    "zoe": ("Zoé", "Martin", ["org"], {}),
    "emile": ("Émile", "Berger", ["org"], {}),
    "eric": ("Eric", "Berger", ["org"], {}),
    "edouard": ("Edouard", "Berger", ["org"], {}),
    "both": ("Marc", "Lambert", ["org", "other_org"], {}),
    "lena": ("Léna", "Marchand", ["other_org"], {"birth_date": date(1985, 7, 4), "email": "lena.marchand@mail.fr",
                                                "phone_number": "0756123456"}),
    "far": ("Marius", "Nord", ["far_org"], {}),
    "gone": ("Marthe", "Oubli", ["org"], {"deleted_at": "deleted"}),
}


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    s = uow.session
    territory, far_territory = make.territory(s), make.territory(s, "59", "Nord")
    orgs = {"org": make.organisation(s, territory),
            "other_org": make.organisation(s, territory, "MDS Lens", "mds-lens"),
            "far_org": make.organisation(s, far_territory, "PMI Lille", "pmi-lille")}
    agent = make.agent(s, "agent@demo.test", "Camille", "Martin", organisation=orgs["org"])
    outsider = make.agent(s, "outsider@demo.test", "Marc", "Blanc", organisation=orgs["other_org"])
    ids = {}
    for key, (first, last, memberships, extra) in PEOPLE.items():
        fields = dict(extra)
        if fields.pop("deleted_at", None):
            fields["deleted_at"] = datetime(2026, 1, 1, tzinfo=UTC)
        ids[key] = make.usager(s, first, last, organisations=[orgs[m] for m in memberships], **fields).id
    uow.commit()
    return World(territory.id, orgs["org"].id, orgs["other_org"].id, orgs["far_org"].id, agent.id, outsider.id, ids)


def _search(uow: UnitOfWork, world: World, query: str, **kwargs: Any) -> usagers.UsagerSearch:
    return usagers.search_usagers(uow, world.agent, world.org, query, **kwargs)


def _names(result: usagers.UsagerSearch) -> tuple[list[str], list[str]]:
    return [u.name for u in result.usagers], [u.name for u in result.other_organisations]


@pytest.mark.parametrize(("query", "expected"), [
    ("elo", ["DURAND Éloïse"]),
    ("ÉLO", ["DURAND Éloïse"]),
    ("dur", ["DURAND Éloïse"]),
    ("lef", ["LEFÈVRE Jean-Marc"]),
    ("lefe", ["LEFÈVRE Jean-Marc"]),
    ("marc", ["LAMBERT Marc", "LEFÈVRE Jean-Marc"]),
    ("mar", ["LAMBERT Marc", "LEFÈVRE Jean-Marc", "MARTIN Zoé"]),
    ("zoe", ["MARTIN Zoé"]),
    ("dur elo", ["DURAND Éloïse"]),
    ("dur zoe", []),
    ("urand", []),  # the first letters of a name, not any part of it
    ("  ", []),
    ("%", []),
])
def test_search_by_first_letters_ignores_accents_and_case(uow: UnitOfWork, world: World, query: str,
                                                          expected: list[str]) -> None:
    assert _names(_search(uow, world, query))[0] == expected


def test_results_are_ordered_without_regard_to_accents_and_limited(uow: UnitOfWork, world: World) -> None:
    assert _names(_search(uow, world, "berger"))[0] == ["BERGER Edouard", "BERGER Émile", "BERGER Eric"]
    assert _names(_search(uow, world, "e", limit=2))[0] == ["BERGER Edouard", "BERGER Émile"]


def test_full_details_for_the_organisation_masked_for_the_others(uow: UnitOfWork, world: World) -> None:
    own = _search(uow, world, "elo").usagers[0]
    assert (own.id, own.birth_date, own.phone_number, own.email) == (
        world.ids["eloise"], "14/03/1990", "06 12 34 56 78", "eloise.durand@example.fr")
    found, others = _names(_search(uow, world, "mar"))
    # Marc Lambert belongs to both organisations: listed once, in full; Marius Nord is in another
    # territory; Marthe Oubli was deleted.
    assert found == ["LAMBERT Marc", "LEFÈVRE Jean-Marc", "MARTIN Zoé"]
    assert others == ["MARCHAND Léna"]
    masked = _search(uow, world, "lena").other_organisations[0]
    assert (masked.id, masked.birth_date, masked.phone_number, masked.email) == (
        world.ids["lena"], "04/07/****", "07******56", "l******d@mail.fr")
    assert "1985" not in str(masked) and "lena.marchand" not in str(masked)


def test_a_territory_visible_throughout_shows_everyone_in_full(uow: UnitOfWork, world: World) -> None:
    uow.session.execute(sa.update(Territory).where(Territory.id == world.territory)
                        .values(visible_users_throughout_the_territory=True))
    uow.commit()
    result = _search(uow, world, "lena")
    assert result.other_organisations == []
    assert [(u.name, u.birth_date, u.email) for u in result.usagers] == [
        ("MARCHAND Léna", "04/07/1985", "lena.marchand@mail.fr")]


def test_the_mairies_territory_keeps_its_organisations_apart(uow: UnitOfWork, world: World) -> None:
    uow.session.execute(sa.update(Territory).where(Territory.id == world.territory).values(name="Mairies"))
    uow.commit()
    assert _names(_search(uow, world, "mar")) == (["LAMBERT Marc", "LEFÈVRE Jean-Marc", "MARTIN Zoé"], [])
    with pytest.raises(PermissionDenied):
        usagers.usagers_for_rdv(uow, world.org, [world.ids["lena"]])


def test_usagers_for_rdv_follow_the_same_visibility(uow: UnitOfWork, world: World) -> None:
    found = usagers.usagers_for_rdv(uow, world.org, [world.ids["eloise"], world.ids["lena"]])
    assert set(found) == {world.ids["eloise"], world.ids["lena"]}
    with pytest.raises(PermissionDenied):
        usagers.usagers_for_rdv(uow, world.org, [world.ids["far"]])


def test_searching_needs_a_role_in_the_organisation(uow: UnitOfWork, world: World) -> None:
    with pytest.raises(PermissionDenied):
        usagers.search_usagers(uow, world.outsider, world.org, "elo")
    with pytest.raises(PermissionDenied):
        usagers.search_usagers(uow, world.agent, world.far_org, "mar")


def _rows(uow: UnitOfWork) -> dict[str, list[tuple[str, ...]]]:
    return {t.name: sorted(tuple(map(str, r)) for r in uow.session.execute(sa.select(t)))
            for t in SQLModel.metadata.sorted_tables if t.name in ("usager", "usager_profile", "audit_log")}


def test_create_usager_inline(uow: UnitOfWork, world: World) -> None:
    usager_id = usagers.create_usager(uow, world.agent, world.org, first_name="  Ana  ", last_name="de la Fontaine",
                                      email=" Ana.Fontaine.@Example.fr ", phone_number="0692 12 34 56",
                                      birth_date=date(2001, 2, 3), today=TODAY)
    usager = uow.session.get(Usager, usager_id)
    assert usager is not None
    assert (usager.first_name, usager.last_name, usager.email) == ("Ana", "de la Fontaine", "ana.fontaine@example.fr")
    assert (usager.phone_number, usager.phone_number_formatted) == ("0692 12 34 56", "+262692123456")
    assert usager.created_through == "agent_creation"
    assert uow.session.exec(select(UsagerProfile.organisation_id)
                            .where(UsagerProfile.usager_id == usager_id)).all() == [world.org]
    row = uow.session.exec(select(AuditLog).where(AuditLog.entity_type == "usager")).one()
    assert (row.action, row.entity_id, row.actor_agent_id) == ("created", str(usager_id), world.agent)
    assert _names(_search(uow, world, "fontaine"))[0] == ["DE LA FONTAINE Ana"]
    minimal = usagers.create_usager(uow, world.agent, world.org, first_name="Noé", last_name="Simple", email="  ",
                                    phone_number="")
    assert (uow.session.get(Usager, minimal).email, uow.session.get(Usager, minimal).phone_number) == (None, None)


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"first_name": "  "}, "first_name", "Le prénom est obligatoire."),
    ({"last_name": ""}, "last_name", "Le nom est obligatoire."),
    ({"email": "pas-un-email"}, "email", "L'adresse email n'est pas valide"),
    ({"email": "ELOISE.durand@example.fr"}, "email", "Un usager utilise déjà cette adresse email"),
    ({"phone_number": "12345"}, "phone_number", "Le numéro de téléphone n'est pas valide"),
    ({"phone_number": "+44 20 7946 0958"}, "phone_number", "Le numéro de téléphone n'est pas valide"),
    ({"birth_date": date(2027, 1, 1)}, "birth_date", "La date de naissance ne peut pas être dans le futur."),
    ({"birth_date": date(1850, 1, 1)}, "birth_date", "plus de 130 ans"),
])
def test_create_usager_field_errors_change_nothing(uow: UnitOfWork, world: World, fields: dict[str, Any],
                                                   field: str, message: str) -> None:
    values: dict[str, Any] = {"first_name": "Ana", "last_name": "Fontaine", "email": "ana@example.fr",
                              "phone_number": "06 11 22 33 44", "birth_date": date(2000, 1, 1), **fields}
    before = _rows(uow)
    with pytest.raises(DomainError) as caught:
        usagers.create_usager(uow, world.agent, world.org, today=TODAY, **values)
    assert caught.value.field == field
    assert message in caught.value.message
    assert _rows(uow) == before


def test_create_usager_needs_a_role_in_the_organisation(uow: UnitOfWork, world: World) -> None:
    before = _rows(uow)
    with pytest.raises(PermissionDenied):
        usagers.create_usager(uow, world.outsider, world.org, first_name="Ana", last_name="Fontaine")
    assert _rows(uow) == before
