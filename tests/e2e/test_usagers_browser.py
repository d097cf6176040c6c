"""Issue 18 in the browser (desktop): "Vos usagers" finds an usager by a phone number typed with spaces,
their page opens, an agent référent is added; the delete dialog opens and gives the focus back when
closed. axe checks the list, the page and the dialog."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlmodel import col, select

from rdv_app.db.models import Organisation, Usager, UsagerProfile
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.masking import reverse_full_name
from rdv_app.domain.names import usager_name


def _an_usager_with_a_mobile(database_url: str) -> tuple[int, str, str, str]:
    """An adult of the PMI Arras whose phone no other usager has: id, the phone as typed, list and page names."""
    with UnitOfWork(database_url, read_only=True) as uow:
        rows = uow.session.exec(
            select(Usager).join(UsagerProfile, col(UsagerProfile.usager_id) == Usager.id)
            .join(Organisation, col(Organisation.id) == UsagerProfile.organisation_id)
            .where(Organisation.name == "PMI Arras", col(Usager.phone_number).is_not(None),
                   col(Usager.responsible_id).is_(None), col(Usager.deleted_at).is_(None))
            .order_by(col(Usager.id))).all()
        phones = [u.phone_number_formatted for u in uow.session.exec(select(Usager)).all()]
        usager = next(u for u in rows if phones.count(u.phone_number_formatted) == 1)
        assert usager.phone_number and " " in usager.phone_number
        return (usager.id, usager.phone_number,  # type: ignore[return-value]
                reverse_full_name(usager.first_name, usager.last_name),
                usager_name(usager.first_name, usager.last_name))


def test_find_an_usager_by_phone_open_them_and_add_a_referent(page: Page, login_as, assert_accessible,
                                                              app_database_url: str) -> None:
    usager_id, phone, listed_name, full_name = _an_usager_with_a_mobile(app_database_url)
    login_as("camille.martin@demo.test")
    page.get_by_role("link", name="Usagers", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vos usagers")
    expect(page.get_by_text("Utilisez le champ de recherche pour trouver un usager")).to_be_visible()
    search = page.get_by_label("Recherche")
    expect(search).to_be_enabled()
    assert_accessible(page)

    search.fill("zzzz")
    expect(page.get_by_text("Aucun usager trouvé pour ces critères")).to_be_visible()
    search.fill(phone[:8])  # "06 12 34", as an agent reads it from a letter
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=listed_name))
    expect(row).to_be_visible()
    expect(row).to_contain_text(phone)
    expect(page.get_by_role("columnheader")).to_have_text(["Nom", "Date de naissance", "Téléphone", "Email"])
    assert_accessible(page)

    row.get_by_role("link", name=listed_name).click()
    page.wait_for_url(re.compile(rf"/usagers/{usager_id}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(full_name)
    expect(page.get_by_role("heading", name="Statuts sur", exact=False)).to_be_visible()
    expect(page.get_by_role("link", name="Trouver un RDV").last).to_have_attribute(
        "href", f"/trouver-un-rdv?usager={usager_id}")
    assert_accessible(page)

    referents = page.get_by_role("region", name="Agents référents")
    referents.get_by_label("Ajouter un agent référent").select_option(label="Sophie Bernard")
    referents.get_by_role("button", name="Ajouter").click()
    expect(page.get_by_role("status").filter(has_text="Sophie Bernard est maintenant agent référent.")).to_be_visible()
    expect(referents.get_by_role("listitem").filter(has_text="Sophie Bernard")).to_be_visible()
    expect(referents.get_by_role("button", name="Retirer Sophie Bernard des agents référents")).to_be_visible()
    history = page.get_by_role("region", name="Historique des changements")
    expect(history).to_contain_text("Agent référent ajouté")

    delete = page.get_by_role("button", name="Supprimer", exact=True)
    delete.click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Supprimer cet usager de l'organisation ?")
    assert_accessible(page)
    dialog.get_by_role("button", name="Annuler").click()
    expect(dialog).to_be_hidden()
    expect(delete).to_be_focused()

    # "Trouver un RDV" plans for this usager.
    page.get_by_role("link", name="Trouver un RDV").last.click()
    expect(page.get_by_text(re.compile("^Pour l'usager : "))).to_contain_text(listed_name)
