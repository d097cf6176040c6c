""""Liste des RDV" (admin-domain.md 9.1): filters kept in the address, the visibility banner, the RDVs of
the page grouped by day (printed as a day-by-day agenda), and the exports of what is listed."""

from __future__ import annotations

import reflex as rx
from reflex.vars.sequence import ArrayVar

from rdv_app import routes
from rdv_app.choices import Option
from rdv_app.components.fields import checkbox, select_field
from rdv_app.components.forms import form_alert
from rdv_app.components.layout import loading_block
from rdv_app.components.planning import badge
from rdv_app.pages.template import agent_page
from rdv_app.state.rdv_list import FORMAT_OPTIONS, STATUS_OPTIONS, RdvListState, RdvRow

S = RdvListState
RESULTS_ID = "liste-rdv-resultats"
COLUMNS = ("Horaire", "Motif", "Lieu", "Agents", "Usagers", "Statut")


def _checkbox(option: Option, chosen: ArrayVar, on_toggle) -> rx.Component:
    return rx.el.label(
        rx.el.input(type="checkbox", checked=chosen.contains(option.value), disabled=~S.filters_ready,
                    on_change=lambda checked: on_toggle(option.value, checked)),
        option.label,
        rx.cond(option.group != "", rx.el.span(" (" + option.group + ")", class_name="field-hint")),
        class_name="checkbox-label",
    )


def _choices(field_id: str, legend: str, options: rx.Var, chosen: ArrayVar, on_toggle, hint: str) -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend(legend, class_name="field-label"),
        rx.text(hint, class_name="field-hint"),
        rx.box(rx.foreach(options, lambda option: _checkbox(option, chosen, on_toggle)), class_name="choice-list"),
        id=field_id, class_name="agents-fieldset",
    )


def _date(field_id: str, label: str, value: rx.Var, on_change) -> rx.Component:
    return rx.box(
        rx.el.label(label, html_for=field_id, class_name="field-label"),
        rx.el.input(id=field_id, type="date", default_value=value, key=S.filters_key, on_change=on_change,
                    disabled=~S.filters_ready, class_name="text-input"),
        width="100%",
    )


def _filters() -> rx.Component:
    return rx.el.form(
        rx.vstack(
            rx.cond(S.several_organisations,
                    _choices("filtre-organisations", "Organisations", S.organisation_choices, S.organisation_ids,
                             S.toggle_organisation, "Aucune cochée : l'organisation affichée en haut de page.")),
            rx.grid(
                rx.el.fieldset(
                    select_field("filtre-agent", "Agent", value=S.agent_id, on_change=S.set_agent,
                                 options=S.agent_choices, error=None, placeholder="Tous"),
                    disabled=~S.filters_ready, class_name="bare-fieldset"),
                rx.el.fieldset(
                    select_field("filtre-statut", "Statut", value=S.status, on_change=S.set_status,
                                 options=STATUS_OPTIONS, error=None, placeholder="Tous"),
                    disabled=~S.filters_ready, class_name="bare-fieldset"),
                _date("filtre-debut", "Période - Début", S.start, S.set_start),
                _date("filtre-fin", "Période - Fin", S.end, S.set_end),
                columns=rx.breakpoints(initial="1", sm="2", lg="4"), spacing="4", width="100%",
            ),
            rx.cond(S.usager_id != "",
                    rx.hstack(rx.text("Usager : ", rx.el.strong(S.usager_name)),
                              rx.button("Tous les usagers", type="button", variant="outline", size="2",
                                        on_click=S.clear_usager, disabled=~S.filters_ready,
                                        aria_label="Retirer le filtre sur l'usager"),
                              align="center", spacing="3", wrap="wrap"),
                    rx.text("Usager : tous (ouvrez la fiche d'un usager, « Voir tous les rendez-vous », pour "
                            "filtrer sur lui).", class_name="field-hint")),
            rx.grid(
                _choices("filtre-lieux", "Lieux", S.lieu_choices, S.lieu_ids, S.toggle_lieu,
                         "Aucun coché : tous les lieux."),
                _choices("filtre-motifs", "Motifs", S.motif_choices, S.motif_ids, S.toggle_motif,
                         "Aucun coché : tous les motifs."),
                columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%",
            ),
            rx.flex(
                rx.button("Afficher les RDVs du jour", type="button", on_click=S.show_today,
                          disabled=~S.filters_ready),
                rx.button("Réinitialiser", type="button", variant="outline", on_click=S.reset_filters,
                          disabled=~S.filters_ready),
                rx.button("Rafraîchir la liste", type="button", variant="outline", on_click=S.refresh,
                          disabled=~S.filters_ready),
                spacing="3", wrap="wrap",
            ),
            spacing="4", width="100%",
        ),
        role="search", aria_label="Filtres de la liste des RDV", class_name="no-print",
        no_validate=True, on_submit=rx.prevent_default,
    )


def _row(row: RdvRow) -> rx.Component:
    return rx.fragment(
        rx.cond(row.first_of_day,
                rx.table.row(rx.table.column_header_cell(row.day_label, col_span=len(COLUMNS), scope="colgroup",
                                                         class_name="day-heading"))),
        rx.table.row(
            rx.table.row_header_cell(rx.link(row.hours, href=row.href,
                                             aria_label="RDV du " + row.day_label + ", " + row.hours)),
            rx.table.cell(rx.text(row.motif), rx.text(row.service, class_name="field-hint"),
                          rx.cond(row.organisation != "", rx.text(row.organisation, class_name="field-hint"))),
            rx.table.cell(row.lieu),
            rx.table.cell(row.agents),
            rx.table.cell(rx.cond(S.details,
                                  rx.el.ul(rx.foreach(row.usager_details, lambda d: rx.el.li(d)), class_name="plain-list"),
                                  rx.text(row.usagers))),
            rx.table.cell(badge(row.status_label)),
        ),
    )


def _pagination() -> rx.Component:
    return rx.cond(
        (S.page_start != "") | (S.next_start != ""),
        rx.el.nav(
            rx.hstack(
                rx.button("Page précédente", variant="outline", size="2", type="button",
                          disabled=S.page_start == "", on_click=S.previous_page),
                rx.text(S.page_label),
                rx.button("Page suivante", variant="outline", size="2", type="button",
                          disabled=S.next_start == "", on_click=S.next_page),
                spacing="3", align="center", wrap="wrap"),
            aria_label="Pages de la liste des RDV", class_name="no-print",
        ),
    )


def _exports() -> rx.Component:
    return rx.el.section(
        rx.heading("Exporter", as_="h2", size="5", id="exporter-titre"),
        rx.text("Le fichier reprend les filtres ci-dessus et les seuls RDV que vous voyez. Il est créé en arrière-"
                "plan : suivez sa progression dans « Vos exports ».", class_name="field-hint"),
        rx.flex(
            rx.box(select_field("format-export", "Format du fichier", value=S.export_format,
                                on_change=S.set_export_format, options=FORMAT_OPTIONS, error=None), width="14rem"),
            rx.button(rx.cond(S.exporting, rx.spinner(size="2")), S.export_label,
                      type="button", on_click=S.export("rdv_export"), disabled=S.exporting | ~S.filters_ready),
            rx.button("Exporter les RDVs par usager", type="button", variant="outline",
                      on_click=S.export("participations_export"), disabled=S.exporting | ~S.filters_ready),
            spacing="3", align="end", wrap="wrap"),
        rx.el.div(rx.cond(S.export_message != "",
                          rx.el.p(S.export_message, " ", rx.link("Voir vos exports", href=routes.EXPORTS, class_name="inline-link"),
                                  class_name="success-box")),
                  role="status"),
        form_alert(S.export_error),
        aria_labelledby="exporter-titre", class_name="no-print planning-section",
    )


def _results() -> rx.Component:
    return rx.box(
        rx.el.div(
            rx.cond(S.searching, rx.hstack(rx.spinner(size="2"), rx.text("Recherche…"), spacing="2"),
                    rx.cond(S.searched, rx.text(S.found_label))),
            # A list counted up to its limit asks for its exact count once shown (a new key: a new search).
            rx.cond(S.searched & ~S.total_exact,
                    rx.el.span(key=S.search_generation.to_string(),
                               on_mount=S.count_exact(S.search_generation), aria_hidden="true")),
            role="status", class_name="field-hint no-print"),
        form_alert(S.error),
        rx.cond(
            S.searched & (S.total > 0),
            rx.vstack(
                rx.flex(
                    checkbox("Afficher plus de détails usagers", initial=S.details, on_change=S.set_details),
                    rx.button("Imprimer", type="button", variant="outline", size="2",
                              on_click=rx.call_script("window.print()")),
                    spacing="4", align="center", wrap="wrap", class_name="no-print"),
                rx.heading(S.agenda_of, as_="h2", size="5", class_name="print-only"),
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col") for h in COLUMNS])),
                    rx.table.body(rx.foreach(S.rows, _row)),
                    variant="surface", width="100%", class_name="rdv-list-table"),
                _pagination(),
                _exports(),
                spacing="3", width="100%"),
            rx.cond(S.searched, rx.el.p("Aucun RDV ne correspond à ces filtres.", class_name="info-box")),
        ),
        id=RESULTS_ID, width="100%",
    )


@agent_page(routes.RDV_LIST, "Liste des RDV", load=RdvListState.load)
def rdv_list_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Liste des RDV", as_="h1", size="7"),
        rx.cond(
            S.denied != "",
            rx.el.div(rx.text(S.denied), role="alert", class_name="form-alert"),
            rx.cond(
                S.loading,
                loading_block(),
                rx.vstack(
                    rx.cond(S.notice != "", rx.el.p(S.notice, class_name="info-box")),
                    rx.el.div(rx.foreach(S.banner, lambda line: rx.el.p(line)), class_name="info-box no-print"),
                    _filters(),
                    _results(),
                    spacing="5", width="100%"),
            ),
        ),
        spacing="5", width="100%", align="stretch",
    )
