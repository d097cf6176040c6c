""""Vos usagers" (search as you type, referent filter, pages of 25) and an usager's page (details,
notifications, referents, relatives, RDVs, history, invitation, removal)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from rdv_app import routes, styles
from rdv_app.components.fields import select_field
from rdv_app.components.forms import form_alert
from rdv_app.components.layout import loading_block
from rdv_app.components.planning import badge, status_region
from rdv_app.pages.template import agent_page
from rdv_app.state.usager_page import (
    DELETE_BUTTON_ID,
    CounterRow,
    DetailRow,
    HistoryRow,
    NotificationRow,
    PersonRow,
    RdvRow,
    ReferentRow,
    UsagerPageState,
)
from rdv_app.state.usagers import SEARCH_FIELD_ID, UsagerRow, UsagersState

S = UsagersState
P = UsagerPageState
SEARCH_DEBOUNCE_MS = 300
RESULTS_ID = "usagers-resultats"


def _refused(message: rx.Var) -> rx.Component:
    return rx.el.div(rx.text(message), rx.link("Retour à « Vos usagers »", href=routes.USAGERS, class_name="back-link"),
                     role="alert", class_name="form-alert denied-box")


# --------------------------------------------------------------------------- "Vos usagers"


def _filters() -> rx.Component:
    return rx.grid(
        rx.box(
            rx.el.label("Recherche", html_for=SEARCH_FIELD_ID, class_name="field-label"),
            rx.text("Prénom, Nom, Email, Téléphone : la liste se met à jour pendant la saisie.",
                    id=f"{SEARCH_FIELD_ID}-aide", class_name="field-hint"),
            rx.el.input(id=SEARCH_FIELD_ID, type="search", default_value=S.query, key=S.query_key,
                        placeholder="Prénom, Nom, Email, Téléphone", aria_describedby=f"{SEARCH_FIELD_ID}-aide",
                        aria_controls=RESULTS_ID, auto_complete="off", class_name="text-input",
                        on_change=S.search.debounce(SEARCH_DEBOUNCE_MS), disabled=S.loading),
            width="100%",
        ),
        select_field("filtre-referent", "Agent référent", value=S.referent_id, on_change=S.choose_referent,
                     options=S.referents, error=None, placeholder="Tous les agents"),
        columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%", role="search",
    )


def _usager_row(row: UsagerRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.hstack(rx.link(row.name, href=row.href), rx.cond(row.relative, badge("Proche")),
                                           spacing="2", align="center", wrap="wrap")),
        rx.table.cell(row.birth_date),
        rx.table.cell(row.phone_number),
        rx.table.cell(row.email),
    )


def _pagination() -> rx.Component:
    return rx.cond(
        S.page_count > 1,
        rx.el.nav(
            rx.hstack(
                rx.button("Page précédente", variant="outline", size="2", type="button", disabled=S.page <= 1,
                          on_click=S.previous_page),
                rx.text("Page " + S.page.to_string() + " sur " + S.page_count.to_string()),
                rx.button("Page suivante", variant="outline", size="2", type="button",
                          disabled=S.page >= S.page_count, on_click=S.next_page),
                spacing="3", align="center", wrap="wrap"),
            aria_label="Pages de résultats",
        ),
    )


def _results() -> rx.Component:
    return rx.box(
        rx.el.div(
            rx.cond(S.searching, rx.hstack(rx.spinner(size="2"), rx.text("Recherche…"), spacing="2"),
                    rx.cond(S.searched & (S.total > 0), rx.text(S.total.to_string() + " usager(s) trouvé(s)"))),
            role="status", class_name="field-hint"),
        form_alert(S.error),
        rx.cond(
            ~S.searched,
            rx.el.p("Utilisez le champ de recherche pour trouver un usager", class_name="info-box"),
            rx.cond(
                S.total > 0,
                rx.vstack(
                    rx.table.root(
                        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col") for h in
                                                       ("Nom", "Date de naissance", "Téléphone", "Email")])),
                        rx.table.body(rx.foreach(S.rows, _usager_row)),
                        variant="surface", width="100%"),
                    _pagination(),
                    spacing="3", width="100%"),
                rx.el.p("Aucun usager trouvé pour ces critères", class_name="info-box"),
            ),
        ),
        id=RESULTS_ID, width="100%",
    )


@agent_page(routes.USAGERS, "Vos usagers", load=UsagersState.load)
def usagers_page() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.heading("Vos usagers", as_="h1", size="7"),
            rx.flex(*[rx.button(rx.link(label, href=route), as_child=True, variant="outline", size="2")
                      for label, route in (
                ("Créer un usager", routes.USAGER_NEW), ("Fusionner deux usagers", routes.USAGERS_MERGE),
                ("Doublons probables", routes.USAGERS_DUPLICATES))], spacing="3", wrap="wrap"),
            justify="between", align="center", wrap="wrap", gap="3", width="100%",
        ),
        rx.cond(S.denied != "", _refused(S.denied),
                rx.fragment(_filters(), rx.cond(S.loading, loading_block("Chargement des usagers…"), _results()))),
        spacing="5", width="100%",
    )


# --------------------------------------------------------------------------- the usager's page


def _section(heading_id: str, title: rx.Var | str, *children: rx.Component) -> rx.Component:
    return rx.el.section(rx.heading(title, as_="h2", size="5", id=heading_id), *children,
                         aria_labelledby=heading_id, class_name="planning-section")


def _detail(row: DetailRow) -> rx.Component:
    return rx.fragment(rx.el.dt(row.label, class_name="field-label"), rx.el.dd(row.value))


def _notification(row: NotificationRow) -> rx.Component:
    return rx.fragment(
        rx.el.dt(row.label, class_name="field-label"),
        rx.el.dd(rx.el.span(rx.cond(row.enabled, "🟢", "🔴"), aria_hidden="true"), " ", row.text),
    )


def _shared_phone() -> rx.Component:
    return rx.cond(P.phone_search_href != "", rx.el.p(
        rx.el.span("⚠️", aria_hidden="true"), " D'autres usagers utilisent ce numéro de téléphone. ",
        rx.link("voir la liste", href=P.phone_search_href, class_name="inline-link"), class_name="info-box"))


def _banners() -> rx.Component:
    return rx.fragment(
        rx.cond(P.not_registered, rx.el.div(
            rx.text("Cet usager ne s'est pas encore créé de compte RDV Services Publics."),
            rx.cond(P.invitation_sent != "", rx.text(P.invitation_sent)),
            rx.cond(P.invitable, rx.button(rx.cond(P.busy, rx.spinner(size="2"), rx.icon("mail", size=16)), "Inviter",
                                           type="button", size="2", variant="outline", disabled=P.busy,
                                           on_click=P.invite)),
            class_name="info-box")),
        rx.cond(P.franceconnect, rx.el.p("Cet usager s'est déjà connecté via FranceConnect.", class_name="info-box")),
    )


def _person(row: PersonRow) -> rx.Component:
    return rx.el.li(rx.link(row.name, href=row.href, class_name="inline-link"), rx.cond(row.age != "", rx.text(" (" + row.age + ")", as_="span")))


def _referent(row: ReferentRow) -> rx.Component:
    return rx.el.li(rx.hstack(
        rx.text(row.name + " — " + row.services),
        rx.cond(row.removable, rx.button("Retirer", type="button", size="1", variant="outline", color_scheme="red",
                                         disabled=P.busy, aria_label="Retirer " + row.name + " des agents référents",
                                         on_click=P.remove_referent(row.id))),
        spacing="3", align="center", wrap="wrap"))


def _referents() -> rx.Component:
    return _section(
        "referents-titre", "Agents référents",
        rx.cond(P.referents.length() > 0, rx.el.ul(rx.foreach(P.referents, _referent), class_name="planning-list"),
                rx.text("Aucun agent référent.")),
        rx.hstack(
            rx.box(select_field("ajout-referent", "Ajouter un agent référent", value=P.chosen_referent,
                                on_change=P.choose_referent, options=P.referent_choices, error=None,
                                placeholder="Choisissez un agent"), min_width="16rem"),
            rx.button(rx.icon("user-plus", size=16), "Ajouter", type="button", size="3", disabled=P.busy,
                      on_click=P.add_referent),
            align="end", spacing="3", wrap="wrap"),
    )


def _relatives() -> rx.Component:
    return rx.cond(
        P.relative,
        _section("responsable-titre", "Informations sur l'usager en charge",
                 rx.el.ul(rx.foreach(P.responsible, _person), class_name="planning-list"),
                 rx.el.dl(rx.foreach(P.responsible_details, _detail), class_name="details-list"),
                 rx.text("Agents référents du responsable : ",
                         rx.cond(P.responsible_referents.length() > 0, P.responsible_referents.join(", "), "aucun"))),
        _section("proches-titre", "Proches",
                 rx.cond(P.relatives.length() > 0, rx.el.ul(rx.foreach(P.relatives, _person), class_name="planning-list"),
                         rx.text("Aucun proche"))),
    )


def _rdv(row: RdvRow) -> rx.Component:
    return rx.el.li(rx.link(row.when, href=row.href, class_name="inline-link"), " — " + row.motif + " — " + row.agents + " ", badge(row.status))


def _rdv_list(rows: Any, empty: str) -> rx.Component:
    return rx.cond(rows.length() > 0, rx.el.ul(rx.foreach(rows, _rdv), class_name="planning-list"), rx.text(empty))


def _counter(row: CounterRow) -> rx.Component:
    return rx.fragment(rx.el.dt(row.label, class_name="field-label"),
                       rx.el.dd(rx.link(row.count, href=row.href, aria_label=row.label + " : " + row.count
                                        + ", voir ces rendez-vous dans la liste des RDV")))


def _rdvs() -> rx.Component:
    return rx.vstack(
        _section("rdv-en-cours-titre", "Rendez-vous en cours (+/- 1 heure)",
                 _rdv_list(P.current_rdvs, "Aucun rendez-vous en cours.")),
        _section("prochains-rdv-titre", "Prochains rendez-vous", _rdv_list(P.next_rdvs, "Aucun rendez-vous à venir.")),
        _section("statuts-rdv-titre", P.counters_title,
                 rx.el.dl(rx.foreach(P.counters, _counter), class_name="details-list"),
                 rx.link("Voir tous les rendez-vous", href=P.all_rdvs_href),
                 rx.text("Les RDV sont supprimés au bout de 2 ans.", color=styles.TEXT_MUTED, size="2")),
        spacing="4", width="100%",
    )


def _history_row(row: HistoryRow) -> rx.Component:
    return rx.el.li(rx.text(row.when + " — " + row.author + " : " + row.action),
                    rx.el.ul(rx.foreach(row.details, lambda d: rx.el.li(d))))


def _history() -> rx.Component:
    return rx.cond(P.shows_history, _section(
        "historique-titre", "Historique des changements",
        rx.cond(P.history.length() > 0, rx.el.ul(rx.foreach(P.history, _history_row), class_name="planning-list"),
                rx.text("Aucun changement enregistré."))))


def _delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(rx.button(rx.icon("trash-2", size=16), "Supprimer", id=DELETE_BUTTON_ID, type="button",
                                          size="3", variant="outline", color_scheme="red")),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Supprimer cet usager de l'organisation ?"),
            rx.alert_dialog.description(rx.cond(
                P.relatives.length() > 0,
                "Cet usager a " + P.relatives.length().to_string() + " proche(s) qui sera/seront aussi supprimé(s).",
                "Cet usager ne sera plus suivi par votre organisation.")),
            form_alert(P.delete_error),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Annuler", variant="outline", size="3", type="button")),
                rx.el.button(rx.cond(P.busy, rx.spinner(size="2"), rx.fragment()), "Supprimer l'usager", type="button",
                             disabled=P.busy, on_click=P.delete, class_name="danger-button"),
                justify="end", spacing="3", margin_top="1rem", wrap="wrap"),
        ),
        open=P.delete_open,
        on_open_change=P.set_delete_open,
    )


def _usager() -> rx.Component:
    return rx.vstack(
        rx.el.nav(rx.link("Vos usagers", href=routes.USAGERS, class_name="inline-link"), " › " + P.full_name, aria_label="Fil d'Ariane"),
        rx.heading(P.full_name, as_="h1", size="7"),
        rx.hstack(rx.link(rx.icon("calendar-search", size=16), "Trouver un RDV", href=P.find_rdv_href,
                          class_name="back-link"),
                  _delete_dialog(), spacing="3", align="center", wrap="wrap"),
        status_region(P.message),
        form_alert(P.error),
        _banners(),
        rx.grid(
            rx.vstack(
                _section("informations-titre",
                         rx.cond(P.relative, "Informations de votre proche", "Informations générales"),
                         rx.el.dl(rx.foreach(P.details, _detail), class_name="details-list"),
                         _shared_phone(),
                         rx.el.dl(rx.foreach(P.notifications, _notification), class_name="details-list")),
                _referents(), _relatives(), _history(),
                spacing="4", width="100%"),
            _rdvs(),
            columns=rx.breakpoints(initial="1", lg="2"), spacing="5", width="100%",
        ),
        spacing="4", width="100%",
    )


@agent_page(routes.USAGER_PAGE, "Usager", load=UsagerPageState.load)
def usager_page() -> rx.Component:
    return rx.box(
        rx.cond(
            P.denied != "", _refused(P.denied),
            rx.cond(P.loading, loading_block("Chargement de l'usager…"),
                    rx.cond(P.removed != "",
                            rx.vstack(rx.el.p(P.removed, role="status", class_name="success-box"),
                                      rx.link("Retour à « Vos usagers »", href=routes.USAGERS, class_name="back-link")),
                            _usager()))),
        width="100%",
    )
