"""Doublons probables of an organisation, on SQLite and PostgreSQL: each kind of pair with its reason,
nothing across organisations or territories, pages."""

from __future__ import annotations

from datetime import date

import factories as make
import pytest

from rdv_app.db.uow import UnitOfWork
from rdv_app.services.errors import PermissionDenied
from rdv_app.services.usagers import duplicates

PHONE = "Même numéro de téléphone"
EMAIL = "Même adresse email"
IDENTITY = "Mêmes prénom, nom et date de naissance"
TYPO = "Prénom et nom à une lettre près, même date de naissance"


def _pairs(page: duplicates.DuplicatePage) -> dict[tuple[str, str], tuple[str, ...]]:
    return {(pair.first.name, pair.second.name): pair.reasons for pair in page.pairs}


def test_each_kind_of_pair_with_its_reasons_and_nothing_across_organisations(uow: UnitOfWork) -> None:
    s = uow.session
    territory, far_territory = make.territory(s), make.territory(s, "59", "Nord")
    org = make.organisation(s, territory)
    other = make.organisation(s, territory, "MDS Lens", "mds-lens")
    far = make.organisation(s, far_territory, "PMI Lille", "pmi-lille")
    agent = make.agent(s, "agent@demo.test", "Camille", "Martin", organisation=org)
    born = date(1990, 1, 2)

    def person(first: str, last: str, *orgs: object, **fields: object) -> None:
        make.usager(s, first, last, organisations=orgs or [org], **fields)  # type: ignore[arg-type]

    person("Paul", "Ardent", phone_number_formatted="+33612345678")
    person("Pauline", "Brun", phone_number_formatted="+33612345678")
    person("Jeanne", "Caron", email="jeanne@exemple.fr")
    person("Jeannette", "Caron", email="JEANNE@exemple.FR")
    person("Éloïse", "Dupré", birth_date=born)
    person("eloise", "DUPRE", birth_date=born, phone_number_formatted="+33700000001")
    person("Marion", "Faure", birth_date=date(1985, 5, 5))
    person("Marian", "Faure", birth_date=date(1985, 5, 5))
    person("Marion", "Faures", birth_date=date(1985, 5, 6))  # a typo, but another birth date
    person("Lucie", "Garnier", birth_date=date(1970, 3, 3))
    person("Lucien", "Garnier", birth_date=date(1970, 3, 3), deleted_at=make.at_paris(date(2026, 1, 1), 9))
    # A family: a parent and her child share the phone, twins are one letter apart; never a pair.
    parent = make.usager(s, "Chloé", "Hamel", organisations=[org], phone_number_formatted="+33655555555")
    person("Léa", "Hamel", responsible_id=parent.id, birth_date=date(2020, 2, 2), phone_number_formatted="+33655555555")
    person("Léo", "Hamel", responsible_id=parent.id, birth_date=date(2020, 2, 2))
    # Look-alikes followed only elsewhere: never listed here.
    person("Paula", "Ardent", other, phone_number_formatted="+33612345678")
    person("Jeanne", "Caron", far, email="jeanne.caron@exemple.fr", birth_date=born)
    person("Eloise", "Dupre", far, birth_date=born)
    uow.commit()

    page = duplicates.probable_duplicates(uow, agent.id, org.id)  # type: ignore[arg-type]

    assert _pairs(page) == {
        ("ARDENT Paul", "BRUN Pauline"): (PHONE,),
        ("CARON Jeanne", "CARON Jeannette"): (EMAIL,),
        ("DUPRÉ Éloïse", "DUPRE eloise"): (IDENTITY,),
        ("FAURE Marian", "FAURE Marion"): (TYPO,),
    }
    assert (page.page, page.page_count, page.total) == (1, 1, 4)


def test_several_reasons_make_one_pair_and_the_list_is_paginated(uow: UnitOfWork) -> None:
    s = uow.session
    org = make.organisation(s, make.territory(s))
    agent = make.agent(s, "agent@demo.test", "Camille", "Martin", organisation=org)
    make.usager(s, "Anna", "Swan", organisations=[org], email="a@exemple.fr", phone_number_formatted="+33611111111",
                birth_date=date(1990, 1, 2))
    make.usager(s, "Ana", "Swan", organisations=[org], email="A@exemple.fr", phone_number_formatted="+33611111111",
                birth_date=date(1990, 1, 2))
    for index in range(duplicates.PAGE_SIZE + 1):
        for first in ("Jean", "Jeanne"):
            make.usager(s, first, f"Famille{index:02d}", organisations=[org],
                        phone_number_formatted=f"+336000000{index:02d}")
    uow.commit()

    first_page = duplicates.probable_duplicates(uow, agent.id, org.id)  # type: ignore[arg-type]
    second_page = duplicates.probable_duplicates(uow, agent.id, org.id, 2)  # type: ignore[arg-type]
    beyond = duplicates.probable_duplicates(uow, agent.id, org.id, 99)  # type: ignore[arg-type]

    assert (first_page.total, first_page.page_count) == (duplicates.PAGE_SIZE + 2, 2)
    assert len(first_page.pairs) == duplicates.PAGE_SIZE
    assert [p.first.name for p in second_page.pairs] == ["FAMILLE20 Jean", "SWAN Ana"]
    assert _pairs(second_page)[("SWAN Ana", "SWAN Anna")] == (PHONE, EMAIL, TYPO)
    assert beyond.page == 2
    assert {(p.first.id, p.second.id) for p in first_page.pairs}.isdisjoint(
        {(p.first.id, p.second.id) for p in second_page.pairs})


def test_an_agent_of_another_organisation_is_refused(uow: UnitOfWork) -> None:
    s = uow.session
    territory = make.territory(s)
    org, other = make.organisation(s, territory), make.organisation(s, territory, "MDS Lens", "mds-lens")
    outsider = make.agent(s, "outsider@demo.test", "Marc", "Blanc", organisation=other)
    uow.commit()
    with pytest.raises(PermissionDenied):
        duplicates.probable_duplicates(uow, outsider.id, org.id)  # type: ignore[arg-type]
