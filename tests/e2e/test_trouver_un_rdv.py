"""Agents search slots: a week, the next weeks, a jump to the next availability; rights by service."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect


def _open_search(page: Page) -> None:
    page.get_by_role("link", name="Trouver un RDV").click()
    page.wait_for_url(re.compile(r"/trouver-un-rdv"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Trouver un RDV")


def test_agent_searches_pages_weeks_and_picks_a_slot(page: Page, login_as, assert_accessible) -> None:
    login_as("camille.martin@demo.test")
    _open_search(page)
    assert_accessible(page)
    page.get_by_label("Motif").select_option(label="Consultation pédiatrique")
    page.get_by_label("Lieu").select_option(label="Centre PMI d'Arras")
    page.get_by_role("button", name="Afficher les créneaux").click()
    title = page.get_by_role("heading", name=re.compile(r"^Semaine du "))
    expect(title).to_be_visible()
    first_title = title.text_content()
    slots = page.locator(".slot-button")
    expect(slots.first).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Semaine suivante").click()
    expect(title).not_to_have_text(first_title)
    page.get_by_role("button", name="Semaine précédente").click()
    expect(title).to_have_text(first_title)

    # A slot leads to planning the RDV there (tests/e2e/test_rdv_planning.py follows that flow).
    expect(slots.first).to_have_attribute("aria-label", re.compile(r"^\d\dh\d\d \S+ : planifier un RDV le .+ à \d\dh\d\d, avec "))
    slots.first.click()
    page.wait_for_url(re.compile(r"/agenda/nouveau-rdv\?motif=\d+&debut=\d{4}-\d\d-\d\dT\d\d%3A\d\d"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Planifier un RDV")


def test_an_empty_week_offers_the_next_availability(page: Page, login_as) -> None:
    # "Permanence sociale à la PMI" is held every other Friday: one of two consecutive weeks is empty.
    login_as("camille.martin@demo.test")
    _open_search(page)
    page.get_by_label("Motif").select_option(label="Permanence sociale à la PMI")
    page.get_by_role("button", name="Afficher les créneaux").click()
    title = page.get_by_role("heading", name=re.compile(r"^Semaine du "))
    expect(title).to_be_visible()
    jump = page.get_by_role("button", name=re.compile(r"^Prochaine disponibilité le "))
    for _ in range(3):
        if jump.count():
            break
        previous = title.text_content()
        page.get_by_role("button", name="Semaine suivante").click()
        expect(title).not_to_have_text(previous)
    expect(page.get_by_text("Aucun créneau disponible cette semaine.")).to_be_visible()
    target = re.search(r"le (\w+ \S+ \w+ \d{4}) à", jump.text_content()).group(1)
    jump.click()
    expect(title).to_have_text(f"Semaine du {target}")
    expect(page.locator(".slot-button").first).to_be_visible()


def test_a_basic_agent_does_not_see_another_services_agents(page: Page, login_as) -> None:
    login_as("julien.petit@demo.test")
    _open_search(page)
    agents = page.get_by_role("group", name=re.compile("Agents"))
    expect(agents.get_by_label("Julien Petit")).to_be_visible()
    expect(agents.get_by_label("Camille Martin")).to_be_visible()
    expect(agents.get_by_label("Karim Haddad")).to_have_count(0)
    motifs = page.get_by_label("Motif").locator("option").all_text_contents()
    assert "Permanence sociale à la PMI" not in motifs
    assert "Consultation pédiatrique" in motifs


def test_searching_without_a_motif_says_what_to_do(page: Page, login_as) -> None:
    login_as("julien.petit@demo.test")
    _open_search(page)
    # The form has novalidate: the app's French message under the field, not the browser's bubble.
    page.get_by_role("button", name="Afficher les créneaux").click()
    motif = page.get_by_label("Motif")
    expect(motif).to_have_accessible_description("Choisissez un motif pour afficher les créneaux.")
    expect(motif).to_have_attribute("aria-invalid", "true")
    expect(motif).to_have_attribute("required", "")


def test_a_single_service_and_motif_are_chosen_already(page: Page, login_as, assert_accessible) -> None:
    # PMI Saint-Denis (La Réunion) offers one service and one motif: nothing to choose before searching.
    login_as("marie.payet@demo.test")
    _open_search(page)
    expect(page.get_by_label("Service").locator("option:checked")).to_have_text(re.compile("PMI"))
    expect(page.get_by_label("Motif").locator("option:checked")).to_have_text(re.compile("Consultation de nourrisson"))
    assert_accessible(page)
    page.get_by_role("button", name="Afficher les créneaux").click()
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.get_by_role("heading", name=re.compile(r"^Semaine du |^Choisissez un lieu"))).to_be_visible()
