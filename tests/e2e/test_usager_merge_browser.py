"""Doublons probables and "Fusionner deux usagers" in the browser (issue 18), desktop: Camille opens the
probable duplicates, follows "Fusionner" on a pair, keeps the email of one and the first name of the other,
confirms, lands on the kept usager's page, and the kept usager now has the RDVs of both. Every page and the
confirmation dialog pass axe. What the test adds goes away after it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect
from sqlmodel import col, select

from rdv_app import routes
from rdv_app.db.models import Agent, Motif, Organisation, Participation, Rdv, RdvAgent, Usager, UsagerProfile
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock

CAMILLE = "camille.martin@demo.test"


@pytest.fixture
def look_alikes(app_database_url: str, app_url: str) -> Iterator[tuple[int, int, int, int]]:
    """Ana and Anna AARON of PMI Arras, one phone, one RDV each in a fortnight; removed afterwards."""
    with UnitOfWork(app_database_url) as uow:
        s = uow.session
        org = s.exec(select(Organisation).where(Organisation.name == "PMI Arras")).one()
        julien = s.exec(select(Agent).where(Agent.email == "julien.petit@demo.test")).one()
        motif = s.exec(select(Motif).where(Motif.organisation_id == org.id).order_by(col(Motif.id))).first()
        assert motif is not None
        ids, rdv_ids = [], []
        for index, (first, email) in enumerate((("Ana", "ana.aaron@exemple.fr"), ("Anna", "anna.aaron@exemple.fr"))):
            usager = Usager(first_name=first, last_name="Aaron", email=email, phone_number="06 99 88 77 66",
                            phone_number_formatted="+33699887766")
            s.add(usager)
            s.flush()
            s.add(UsagerProfile(organisation_id=org.id, usager_id=usager.id))  # type: ignore[arg-type]
            starts_at = (clock.now() + timedelta(days=14 + index)).replace(hour=8, minute=0, second=0, microsecond=0)
            rdv = Rdv(organisation_id=org.id, motif_id=motif.id, starts_at=starts_at,  # type: ignore[arg-type]
                      ends_at=starts_at + timedelta(minutes=30), users_count=1)
            s.add(rdv)
            s.flush()
            s.add(RdvAgent(rdv_id=rdv.id, agent_id=julien.id))  # type: ignore[arg-type]
            s.add(Participation(rdv_id=rdv.id, usager_id=usager.id))  # type: ignore[arg-type]
            ids.append(usager.id)
            rdv_ids.append(rdv.id)
        uow.commit()
    yield ids[0], ids[1], rdv_ids[0], rdv_ids[1]  # type: ignore[misc]
    with UnitOfWork(app_database_url) as uow:
        uow.session.exec(sa.delete(Participation).where(col(Participation.rdv_id).in_(rdv_ids)))
        uow.session.exec(sa.delete(RdvAgent).where(col(RdvAgent.rdv_id).in_(rdv_ids)))
        uow.session.exec(sa.delete(Rdv).where(col(Rdv.id).in_(rdv_ids)))
        uow.session.exec(sa.delete(UsagerProfile).where(col(UsagerProfile.usager_id).in_(ids)))
        uow.session.exec(sa.update(Usager).where(col(Usager.responsible_id).in_(ids)).values(responsible_id=None))
        uow.session.exec(sa.delete(Usager).where(col(Usager.id).in_(ids)))
        uow.commit()


def test_an_agent_merges_a_probable_duplicate_and_keeps_both_rdvs(
        page: Page, login_as, assert_accessible, app_url: str, look_alikes: tuple[int, int, int, int]) -> None:
    _ana, anna, rdv_of_ana, rdv_of_anna = look_alikes
    login_as(CAMILLE)
    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Usagers",
                                                                             exact=True).click()
    page.get_by_role("main").get_by_role("link", name="Doublons probables", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Doublons probables")
    pair = page.get_by_role("row").filter(has_text="AARON Anna")
    expect(pair).to_contain_text("Même numéro de téléphone")
    assert_accessible(page)

    pair.get_by_role("link", name="Fusionner AARON Ana et AARON Anna").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fusionner deux usagers")
    form = page.get_by_role("form", name="Comparaison")
    expect(form.get_by_role("cell", name="1 RDV, dont 1 à venir")).to_have_count(2)
    assert_accessible(page)

    merge_button = form.get_by_role("button", name="Fusionner", exact=True)
    merge_button.click()  # no value chosen yet: the page names the rows to choose, in French
    dialog = page.get_by_role("alertdialog", name="Fusionner ces deux usagers ?")
    expect(form.get_by_role("alert")).to_contain_text("Choisissez la valeur à conserver pour « Email » et « Prénom ».")
    expect(dialog).to_have_count(0)

    form.get_by_label("Email : garder « anna.aaron@exemple.fr » (usager B)").check()
    form.get_by_label("Prénom : garder « Ana » (usager A)").check()
    merge_button.click()
    expect(dialog).to_be_visible()
    assert_accessible(page)
    dialog.get_by_role("button", name="Annuler").click()
    expect(dialog).to_have_count(0)
    expect(merge_button).to_be_focused()

    merge_button.click()
    dialog.get_by_role("button", name="Fusionner définitivement").click()
    page.wait_for_url(re.compile(rf"{re.escape(app_url)}{routes.usager_page(anna)}/?$"))
    expect(page.get_by_text("Les usagers ont été fusionnés.")).to_be_visible()

    # The kept record (Anna's email, Ana's first name) takes part in both RDVs, Ana's one included.
    for rdv_id in (rdv_of_ana, rdv_of_anna):
        page.goto(f"{app_url}{routes.rdv_page(rdv_id)}")
        expect(page.get_by_role("main").get_by_text(re.compile(r"\bAna AARON\b|\bAARON Ana\b")).first).to_be_visible()
        expect(page.get_by_role("main").get_by_text("Usager supprimé")).to_have_count(0)
