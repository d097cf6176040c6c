"""Planning: plages d'ouverture and indisponibilités created in the browser shape "Trouver un RDV"."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, time, timedelta

import holidays
import sqlmodel
from playwright.sync_api import Locator, Page, expect

from rdv_app.db.models import Agent, AgentRole, Lieu, Motif, Organisation
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.datefmt import long_date
from rdv_app.services.availability import absences, plages

ADMIN = "camille.martin@demo.test"
BASIC_PMI = "julien.petit@demo.test"
MOTIF = "Consultation pédiatrique"
LIEU = "Antenne PMI Saint-Michel"


def _monday(weeks_ahead: int) -> date:
    """A Monday at least `weeks_ahead` weeks from today whose Monday and Wednesday are working days, past
    the demo's absences of Camille Martin and without her demo plages on those days (Tuesday, Thursday)."""
    day = date.today() + timedelta(weeks=weeks_ahead)
    monday = day - timedelta(days=day.weekday())
    off = holidays.France(years=range(monday.year, monday.year + 2))
    while monday in off or monday + timedelta(days=2) in off:
        monday += timedelta(weeks=1)
    return monday


def _open(page: Page, link: str, heading: str) -> None:
    navigation = page.get_by_role("navigation", name="Navigation principale")
    navigation.get_by_role("link", name=link, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)


def _open_plages(page: Page) -> None:
    _open(page, "Plages d'ouverture", "Plages d'ouverture")
    expect(page.get_by_role("heading", name="Créer une plage d'ouverture")).to_be_visible()


def _open_absences(page: Page) -> None:
    _open(page, "Indisponibilités", "Indisponibilités")
    expect(page.get_by_role("heading", name="Créer une indisponibilité")).to_be_visible()


def _plage_form(page: Page) -> Locator:
    return page.get_by_role("form", name=re.compile(r"plage"))


def _fill_plage(page: Page, title: str, day: date, start: str, end: str) -> Locator:
    form = _plage_form(page)
    form.get_by_label("Titre", exact=True).fill(title)
    form.get_by_label("Lieu", exact=True).select_option(label=LIEU)
    form.get_by_role("group", name="Motifs").get_by_label(MOTIF).check()
    form.get_by_label("Date", exact=True).fill(day.isoformat())
    form.get_by_label("Heure de début", exact=True).fill(start)
    form.get_by_label("Heure de fin", exact=True).fill(end)
    return form


def _plage_rows(page: Page, title: str) -> Locator:
    return page.locator(".planning-row").filter(has=page.get_by_role("heading", name=title, exact=True))


def _slots_of(page: Page, day: date) -> Locator:
    column = page.locator(".day-column").filter(has=page.get_by_role("heading", name=long_date(day), exact=True))
    return column.locator(".slot-button")


def _search_slots(page: Page, monday: date) -> None:
    _open(page, "Trouver un RDV", "Trouver un RDV")
    page.get_by_label("Motif").select_option(label=MOTIF)
    page.get_by_label("Lieu").select_option(label=LIEU)
    # That page keeps its criteria between visits, and its checkboxes follow the server: click only when
    # needed, then wait for the answer.
    camille = page.get_by_role("group", name=re.compile("Agents")).get_by_label("Camille Martin")
    if not camille.is_checked():
        camille.click()
    expect(camille).to_be_checked()
    page.get_by_label("À partir du").fill(monday.isoformat())
    page.get_by_role("button", name="Afficher les créneaux").click()
    expect(page.get_by_role("heading", name=f"Semaine du {long_date(monday)}")).to_be_visible()


def test_a_weekly_plage_opens_slots_and_an_indisponibilite_closes_them(page: Page, login_as,
                                                                       assert_accessible) -> None:
    monday = _monday(8)
    wednesday = monday + timedelta(days=2)
    until = monday + timedelta(days=9)  # the Wednesday of the next week
    title = "Consultations à Saint-Michel"
    login_as(ADMIN)
    _open_plages(page)
    assert_accessible(page)

    form = _fill_plage(page, title, monday, "09:00", "12:00")
    expect(form.get_by_label("Agent", exact=True).locator("option:checked")).to_have_text("Camille Martin")
    form.get_by_label("Répéter", exact=True).select_option(label="Chaque semaine, les jours choisis")
    days = form.get_by_role("group", name="Jours de la semaine")
    days.get_by_label("Lundi").check()
    days.get_by_label("Mercredi").check()
    form.get_by_label("Jusqu'au (facultatif)").fill(until.isoformat())
    assert_accessible(page)
    form.get_by_role("button", name="Créer la plage").click()

    expect(page.get_by_role("status").filter(has_text="a été créée")).to_have_text(
        f"La plage d'ouverture « {title} » a été créée.")
    row = _plage_rows(page, title)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(f"Chaque semaine (lundi, mercredi) de 9h00 à 12h00, du {monday:%d/%m/%Y} "
                                f"au {until:%d/%m/%Y}")
    expect(row).to_contain_text("Camille Martin")
    expect(row).to_contain_text(LIEU)
    expect(row).to_contain_text(MOTIF)
    # The form is empty again, ready for another plage.
    expect(form.get_by_label("Titre", exact=True)).to_have_value("")

    _search_slots(page, monday)
    expect(_slots_of(page, monday)).to_have_count(6)  # 9h00 to 11h30, 30 minutes each
    expect(_slots_of(page, wednesday)).to_have_count(6)
    expect(_slots_of(page, monday + timedelta(days=1))).to_have_count(0)

    _open_absences(page)
    assert_accessible(page)
    absence = page.get_by_role("form", name=re.compile("indisponibilité"))
    expect(absence.get_by_label("Agent", exact=True).locator("option:checked")).to_have_text("Camille Martin")
    absence.get_by_label("Titre", exact=True).fill("Formation premiers secours")
    absence.get_by_label("Premier jour", exact=True).fill(wednesday.isoformat())
    absence.get_by_label("Heure de début", exact=True).fill("08:00")
    absence.get_by_label("Heure de fin", exact=True).fill("18:00")
    absence.get_by_role("button", name="Créer l'indisponibilité").click()
    expect(page.get_by_role("status").filter(has_text="a été créée")).to_have_text(
        "L'indisponibilité « Formation premiers secours » a été créée.")
    listed = page.locator(".planning-row").filter(has_text="Formation premiers secours")
    expect(listed).to_contain_text(f"Le {long_date(wednesday)} de 8h00 à 18h00")

    _search_slots(page, monday)
    expect(_slots_of(page, monday)).to_have_count(6)
    expect(_slots_of(page, wednesday)).to_have_count(0)


def test_end_before_start_is_shown_next_to_the_field_and_nothing_is_created(page: Page, login_as,
                                                                            assert_accessible) -> None:
    title = "Plage à l'envers"
    login_as(ADMIN)
    _open_plages(page)
    form = _fill_plage(page, title, _monday(15), "11:00", "10:00")
    form.get_by_role("button", name="Créer la plage").click()

    end = form.get_by_label("Heure de fin", exact=True)
    error = page.locator("#plage-fin-erreur")
    expect(error).to_have_text("L'heure de fin doit être après l'heure de début.")
    expect(end).to_have_attribute("aria-invalid", "true")
    expect(end).to_have_attribute("aria-describedby", re.compile(r"\bplage-fin-erreur\b"))
    expect(form.get_by_label("Heure de début", exact=True)).to_have_attribute("aria-invalid", "false")
    expect(_plage_rows(page, title)).to_have_count(0)
    # The values stay for the person to correct.
    expect(form.get_by_label("Titre", exact=True)).to_have_value(title)
    assert_accessible(page)

    end.fill("12:00")
    form.get_by_role("button", name="Créer la plage").click()
    expect(_plage_rows(page, title)).to_have_count(1)
    expect(error).to_have_text("")
    expect(end).to_have_attribute("aria-invalid", "false")


def test_an_indisponibilite_ending_before_it_starts_is_refused(page: Page, login_as,
                                                               assert_accessible) -> None:
    login_as(ADMIN)
    _open_absences(page)
    whole_series = "Une indisponibilité répétée se modifie ou se supprime en entier"
    expect(page.get_by_text(whole_series)).to_be_visible()
    absence = page.get_by_role("form", name=re.compile("indisponibilité"))
    absence.get_by_label("Titre", exact=True).fill("Réunion à l'envers")
    absence.get_by_label("Premier jour", exact=True).fill(_monday(15).isoformat())
    absence.get_by_label("Heure de début", exact=True).fill("15:00")
    absence.get_by_label("Heure de fin", exact=True).fill("14:00")
    absence.get_by_role("button", name="Créer l'indisponibilité").click()
    end = absence.get_by_label("Heure de fin", exact=True)
    expect(page.locator("#indisponibilite-fin-erreur")).to_have_text(
        "L'heure de fin doit être après l'heure de début.")
    expect(end).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".planning-row").filter(has_text="Réunion à l'envers")).to_have_count(0)
    assert_accessible(page)


def test_an_overlap_is_confirmed_then_a_plage_is_edited_and_deleted(page: Page, login_as,
                                                                   assert_accessible) -> None:
    day = _monday(14)
    login_as(ADMIN)
    _open_plages(page)
    form = _fill_plage(page, "Matinée du lundi", day, "09:00", "12:00")
    form.get_by_role("button", name="Créer la plage").click()
    expect(_plage_rows(page, "Matinée du lundi")).to_have_count(1)

    form = _fill_plage(page, "Renfort du lundi", day, "10:00", "11:00")
    form.get_by_role("button", name="Créer la plage").click()
    warnings = page.get_by_role("alert").filter(has_text="Vérifiez avant d'enregistrer")
    expect(warnings).to_contain_text(f"Cette plage chevauche la plage « Matinée du lundi » de Camille "
                                     f"Martin, pour la première fois le {long_date(day)}.")
    expect(_plage_rows(page, "Renfort du lundi")).to_have_count(0)
    assert_accessible(page)
    warnings.get_by_role("button", name="Enregistrer quand même").dblclick()
    expect(_plage_rows(page, "Renfort du lundi")).to_have_count(1)
    expect(warnings).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text="a été créée")).to_be_visible()

    page.get_by_role("button", name="Modifier la plage « Renfort du lundi »").click()
    expect(page.get_by_role("heading", name="Modifier la plage « Renfort du lundi »")).to_be_focused()
    form = _plage_form(page)
    expect(form.get_by_label("Titre", exact=True)).to_have_value("Renfort du lundi")
    expect(form.get_by_label("Heure de début", exact=True)).to_have_value("10:00")
    expect(form.get_by_role("group", name="Motifs").get_by_label(MOTIF)).to_be_checked()
    # The second click of the double click, handled after the save, neither saved nor complained.
    expect(page.locator("#plage-titre-erreur")).to_have_text("")
    expect(_plage_rows(page, "Renfort du lundi")).to_have_count(1)
    form.get_by_label("Titre", exact=True).fill("Renfort de fin de matinée")
    form.get_by_label("Heure de début", exact=True).fill("11:00")
    form.get_by_label("Heure de fin", exact=True).fill("12:00")
    form.get_by_role("button", name="Enregistrer les modifications").click()
    # Still overlapping: the warning comes back for the new values.
    warnings.get_by_role("button", name="Enregistrer quand même").click()
    expect(page.get_by_role("status").filter(has_text="a été modifiée")).to_be_visible()
    expect(_plage_rows(page, "Renfort du lundi")).to_have_count(0)
    expect(_plage_rows(page, "Renfort de fin de matinée")).to_contain_text("de 11h00 à 12h00")

    page.get_by_role("button", name="Supprimer la plage « Renfort de fin de matinée »").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Supprimer cette plage d'ouverture ?")
    # axe measures colours: let the dialog's fade-in end first.
    dialog.evaluate("node => Promise.all(node.getAnimations({subtree: true}).map(a => a.finished))")
    assert_accessible(page)
    dialog.get_by_role("button", name="Annuler").click()
    expect(dialog).to_have_count(0)
    expect(_plage_rows(page, "Renfort de fin de matinée")).to_have_count(1)

    page.get_by_role("button", name="Supprimer la plage « Renfort de fin de matinée »").click()
    dialog.get_by_role("button", name="Supprimer définitivement").click()
    expect(dialog).to_have_count(0)
    expect(_plage_rows(page, "Renfort de fin de matinée")).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text="a été supprimée")).to_be_visible()
    expect(_plage_rows(page, "Matinée du lundi")).to_have_count(1)


def test_a_basic_agent_sees_only_the_colleagues_of_their_service(page: Page, login_as) -> None:
    login_as(BASIC_PMI)
    for open_page in (_open_plages, _open_absences):
        open_page(page)
        for select in (page.get_by_label("Filtrer par agent"), page.get_by_label("Agent", exact=True)):
            names = select.locator("option").all_text_contents()
            assert "Julien Petit" in names
            assert "Camille Martin" in names
            assert "Karim Haddad" not in names
    expect(page.locator(".planning-row").filter(has_text="Karim Haddad")).to_have_count(0)


@contextmanager
def _writing(database_url: str) -> Iterator[UnitOfWork]:
    """A unit of work that holds SQLite's write lock from its first read: the server's worker writes to the
    same file, and a transaction that read first could not take the lock afterwards."""
    with UnitOfWork(database_url) as uow:
        uow.session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        yield uow


def _camille(database_url: str) -> tuple[int, int]:
    """Camille Martin and PMI Arras, where she is an admin."""
    with UnitOfWork(database_url) as uow:
        return uow.session.exec(
            sqlmodel.select(Agent.id, Organisation.id).join(AgentRole, AgentRole.agent_id == Agent.id)
            .join(Organisation, Organisation.id == AgentRole.organisation_id)
            .where(Agent.email == ADMIN, Organisation.name == "PMI Arras")).one()


def test_indisponibilites_to_come_and_past_are_two_tabs_kept_in_the_address(page: Page, login_as, app_url: str,
                                                                          app_database_url: str,
                                                                          assert_accessible) -> None:
    agent_id, org_id = _camille(app_database_url)
    last_month = date.today() - timedelta(days=30)
    with _writing(app_database_url) as uow:
        absences.create_absence(uow, agent_id, org_id, agent_id=agent_id, title="Séminaire du mois dernier",
                                first_day=last_month, start_time=time(9), end_time=time(17))
    login_as(ADMIN)
    _open_absences(page)
    tabs = page.get_by_role("tablist", name="Période des indisponibilités")
    upcoming, past = tabs.get_by_role("tab", name="À venir"), tabs.get_by_role("tab", name="Passées")
    expect(upcoming).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tabpanel")).to_be_visible()
    expect(page.get_by_text("Afficher aussi les indisponibilités passées")).to_have_count(0)
    expect(_plage_rows(page, "Séminaire du mois dernier")).to_have_count(0)
    assert_accessible(page)

    upcoming.focus()
    page.keyboard.press("ArrowRight")  # the keyboard moves between tabs
    expect(past).to_have_attribute("aria-selected", "true")
    expect(_plage_rows(page, "Séminaire du mois dernier")).to_contain_text("Passée")
    expect(page).to_have_url(re.compile(r"/planning/indisponibilites/?\?periode=passees$"))
    assert_accessible(page)

    page.reload()  # the address keeps the tab
    expect(page.get_by_role("tab", name="Passées")).to_have_attribute("aria-selected", "true")
    expect(_plage_rows(page, "Séminaire du mois dernier")).to_have_count(1)
    page.get_by_role("tab", name="À venir").click()
    expect(_plage_rows(page, "Séminaire du mois dernier")).to_have_count(0)
    expect(page).not_to_have_url(re.compile("periode="))


def test_plages_are_searched_by_title_lieu_motif_and_agent_kept_in_the_address(
        page: Page, login_as, app_database_url: str, assert_accessible) -> None:
    agent_id, org_id = _camille(app_database_url)
    day = _monday(40)  # one-off plages, far from the days the other tests count slots on
    with UnitOfWork(app_database_url) as uow:
        lieux = dict(uow.session.exec(sqlmodel.select(Lieu.name, Lieu.id).where(
            Lieu.organisation_id == org_id, Lieu.availability == "enabled")).all())
        motif_id = uow.session.exec(sqlmodel.select(Motif.id).where(
            Motif.organisation_id == org_id, Motif.name == MOTIF)).one()
    other_lieu = next(name for name in sorted(lieux) if name != LIEU)
    for title, lieu in (("Bilans de quartier", LIEU), ("Bilans du soir", other_lieu)):
        with _writing(app_database_url) as uow:
            plages.create_plage(uow, agent_id, org_id, title=title, agent_id=agent_id, lieu_id=lieux[lieu],
                                motif_ids=[motif_id], first_day=day, start_time=time(18), end_time=time(19),
                                recurrence=None, confirm_warnings=True)
    login_as(ADMIN)
    _open_plages(page)
    search = page.get_by_role("search", name="Rechercher des plages d'ouverture")
    search.get_by_label("Rechercher").fill("bilans martin")  # a title word and the agent's name
    expect(page.locator(".planning-row")).to_have_count(2)
    expect(_plage_rows(page, "Bilans de quartier")).to_be_visible()
    search.get_by_label("Filtrer par lieu").select_option(label=LIEU)
    expect(page.locator(".planning-row")).to_have_count(1)
    expect(_plage_rows(page, "Bilans de quartier")).to_contain_text(LIEU)
    expect(page).to_have_url(re.compile(rf"recherche=bilans\+martin&lieu={lieux[LIEU]}$"))
    assert_accessible(page)

    page.reload()  # the address keeps the search
    search = page.get_by_role("search", name="Rechercher des plages d'ouverture")
    expect(search.get_by_label("Rechercher")).to_have_value("bilans martin")
    expect(search.get_by_label("Filtrer par lieu").locator("option:checked")).to_have_text(LIEU)
    expect(_plage_rows(page, "Bilans de quartier")).to_have_count(1)
    expect(_plage_rows(page, "Bilans du soir")).to_have_count(0)
    search.get_by_label("Filtrer par lieu").select_option(label="Tous les lieux")
    search.get_by_label("Rechercher").fill(other_lieu)  # the lieu's name alone
    expect(_plage_rows(page, "Bilans de quartier")).to_have_count(0)
    expect(_plage_rows(page, "Bilans du soir")).to_be_visible()
    search.get_by_label("Filtrer par motif").select_option(label=MOTIF)
    search.get_by_label("Rechercher").fill("aucune plage ne porte ce titre")
    expect(page.get_by_text("Aucune plage d'ouverture pour ces critères.")).to_be_visible()
