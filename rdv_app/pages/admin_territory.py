"""Admin > Motifs du territoire (territorial admins): the motifs of the organisations of the territory they
administer, a previewed bulk change applied all-or-nothing, and one motif created in several of those
organisations; an explanation instead when they administer none."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes, styles
from rdv_app.choices import Option
from rdv_app.components.admin import (
    admin_page,
    colour_swatch,
    online_badge,
    prescripteur_badge,
    section,
    textarea_field,
)
from rdv_app.components.fields import checkbox, fieldset, input_field, select_field
from rdv_app.components.forms import form_alert, loaded_fieldset
from rdv_app.components.motif_form import BOOKABLE_OPTIONS, LOCATION_OPTIONS, UNIT_OPTIONS, motif_tabs
from rdv_app.components.planning import status_region
from rdv_app.pages.admin_motifs import ONLINE_FILTER, motif_form_props
from rdv_app.pages.template import agent_page
from rdv_app.state.admin_territory import (
    CREATE_HEADING_ID,
    PREVIEW_HEADING_ID,
    TABLE_HEADING_ID,
    PreviewLine,
    TerritoryMotifsState,
    TerritoryRow,
)

S = TerritoryMotifsState


def _filters() -> rx.Component:
    def choice(field_id: str, label: str, name: str, options, placeholder: str, width: str) -> rx.Component:
        return rx.box(select_field(field_id, label, value=getattr(S, name),
                                   on_change=lambda v: S.set_filter(name, v), options=options,
                                   placeholder=placeholder, error=None), min_width=width)

    return rx.el.div(
        choice("territoire-filtre-organisation", "Organisation", "filter_organisation", S.organisation_options,
               "Toutes vos organisations", "16rem"),
        choice("territoire-filtre-service", "Service", "filter_service", S.services, "Tous les services", "12rem"),
        choice("territoire-filtre-lieu", "Type de lieu", "filter_location", LOCATION_OPTIONS, "Tous les types",
               "12rem"),
        choice("territoire-filtre-en-ligne", "Réservation en ligne", "filter_online", ONLINE_FILTER,
               "Tous les motifs", "14rem"),
        rx.box(
            rx.el.label("Nom contient", html_for="territoire-recherche", class_name="field-label"),
            rx.el.input(id="territoire-recherche", type="search", default_value=S.search,
                        on_change=lambda v: S.set_filter("search", v).debounce(300), class_name="text-input"),
            min_width="12rem",
        ),
        class_name="filter-row",
    )


def _row(row: TerritoryRow) -> rx.Component:
    return rx.el.tr(
        rx.el.td(rx.el.input(type="checkbox", checked=S.selected.contains(row.id),
                             on_change=lambda checked: S.toggle(row.id, checked),
                             aria_label="Sélectionner « " + row.name + " » (" + row.organisation + ")",
                             class_name="row-checkbox")),
        rx.el.td(row.organisation),
        rx.el.th(rx.hstack(rx.el.span(colour_swatch(row.colour), row.name, class_name="motif-name"),
                           rx.cond(row.open_online, online_badge(), rx.fragment()),
                           rx.cond(row.open_to_prescripteurs & ~row.open_online, prescripteur_badge(), rx.fragment()),
                           align="center", spacing="2", wrap="wrap"), scope="row"),
        rx.el.td(row.service),
        rx.el.td(row.location),
        rx.el.td(row.bookable),
        rx.el.td(row.duration),
        rx.el.td(row.delays),
    )


def motif_table() -> rx.Component:
    return section(
        TABLE_HEADING_ID, "Motifs des organisations que vous administrez",
        _filters(),
        form_alert(S.list_error),
        rx.hstack(
            rx.text(S.selection_label, weight="bold", role="status"),
            rx.button("Tout sélectionner", type="button", variant="outline", size="2", on_click=S.select_all),
            rx.button("Tout désélectionner", type="button", variant="outline", size="2", on_click=S.select_none),
            spacing="3", align="center", wrap="wrap",
        ),
        rx.cond(
            S.rows.length() > 0,
            rx.el.div(
                rx.el.table(
                    rx.el.caption("Motifs des organisations que vous administrez, selon les filtres choisis",
                                  class_name="visually-hidden"),
                    rx.el.thead(rx.el.tr(
                        rx.el.th(rx.el.span("Sélection", class_name="visually-hidden"), scope="col"),
                        *[rx.el.th(h, scope="col") for h in ("Organisation", "Motif", "Service", "Type de lieu",
                                                             "Qui peut réserver", "Durée", "Délais en ligne")],
                    )),
                    rx.el.tbody(rx.foreach(S.rows, _row)),
                    class_name="admin-table",
                ),
                class_name="table-scroll", tab_index=0, role="region",
                aria_label="Tableau des motifs des organisations que vous administrez",
            ),
            rx.text("Aucun motif pour ces critères."),
        ),
    )


def _bulk_delay(which: str, legend: str) -> rx.Component:
    return fieldset(
        f"modification-delai-{which}", legend,
        rx.grid(
            input_field(f"modification-delai-{which}-nombre", f"{legend} (nombre)",
                        initial=getattr(S, f"bulk_{which}_amount"), key=S.bulk_key, input_mode="numeric",
                        required=False, error="",
                        on_change=lambda v: S.set_bulk(f"bulk_{which}_amount", v)),
            select_field(f"modification-delai-{which}-unite", f"{legend} (unité)",
                         value=getattr(S, f"bulk_{which}_unit"), options=UNIT_OPTIONS, error=None,
                         on_change=lambda v: S.set_bulk(f"bulk_{which}_unit", v)),
            columns="2", spacing="3", max_width="24rem",
        ),
        hint="Laissez vide pour ne pas le changer.",
    )


def _preview_line(line: PreviewLine) -> rx.Component:
    return rx.el.li(
        rx.text(line.organisation + " — " + line.motif, weight="bold"),
        rx.cond(line.error != "", rx.text(line.error, class_name="field-error"), rx.fragment()),
        rx.el.ul(rx.foreach(line.changes, lambda c: rx.el.li(c)), class_name="details-list"),
        class_name=rx.cond(line.error != "", "preview-line preview-failing", "preview-line"),
    )


def bulk_change() -> rx.Component:
    return section(
        "modification-groupee-titre", "Modifier les motifs sélectionnés",
        rx.text("Choisissez ce qui change ; le reste de chaque motif ne bouge pas. Un aperçu vous montre le "
                "résultat avant de l'appliquer, et le changement s'applique à tous les motifs ou à aucun.",
                color=styles.TEXT_MUTED),
        loaded_fieldset(
            rx.box(
                select_field("modification-qui", "Qui peut réserver", value=S.bulk_bookable,
                             on_change=lambda v: S.set_bulk("bulk_bookable", v),
                             options=[Option("", "Ne pas changer"), *BOOKABLE_OPTIONS], error=None,
                             hint="« Ouvert aux agents et aux usagers » ouvre la réservation en ligne ; « Agents "
                                  "uniquement » la ferme."),
                max_width="32rem", width="100%",
            ),
            rx.grid(_bulk_delay("min", "Délai minimum de réservation"),
                    _bulk_delay("max", "Délai maximum de réservation"),
                    columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%"),
            rx.box(
                input_field("modification-duree", "Durée par défaut (minutes)", initial=S.bulk_duration,
                            key=S.bulk_key,
                            input_mode="numeric", required=False, error="",
                            hint="Laissez vide pour ne pas la changer.",
                            on_change=lambda v: S.set_bulk("bulk_duration", v)),
                max_width="20rem",
            ),
            fieldset(
                "modification-couleur-groupe", "Couleur",
                checkbox("Changer la couleur", initial=S.bulk_set_color, key=S.bulk_key,
                         on_change=lambda c: S.set_bulk_flag("bulk_set_color", c)),
                rx.cond(S.bulk_set_color,
                        rx.box(input_field("modification-couleur", "Nouvelle couleur", initial=S.bulk_color,
                                           key=S.bulk_key, type_="color", error="",
                                           on_change=lambda v: S.set_bulk("bulk_color", v)), max_width="12rem"),
                        rx.fragment()),
            ),
            fieldset(
                "modification-instructions-groupe", "Instructions après la prise de RDV",
                checkbox("Remplacer les instructions", initial=S.bulk_set_instruction, key=S.bulk_key,
                         on_change=lambda c: S.set_bulk_flag("bulk_set_instruction", c)),
                rx.cond(S.bulk_set_instruction,
                        textarea_field("modification-instructions", "Nouvelles instructions",
                                       initial=S.bulk_instruction,
                                       key=S.bulk_key, on_change=lambda v: S.set_bulk("bulk_instruction", v),
                                       hint="Laissez vide pour effacer les instructions des motifs choisis."),
                        rx.fragment()),
            ),
            form_alert(S.bulk_error),
            rx.button(rx.cond(S.previewing, rx.spinner(size="2"), rx.icon("eye", size=16)),
                      "Voir l'aperçu des changements", type="button", size="3", disabled=S.previewing,
                      on_click=S.preview, width="fit-content"),
            status_region(S.applied_message),
            rx.cond(
                S.preview_summary != "",
                rx.el.div(
                    rx.heading("Aperçu des changements", as_="h3", size="4", id=PREVIEW_HEADING_ID, tab_index=-1),
                    rx.text(S.preview_summary),
                    rx.el.ul(rx.foreach(S.preview_lines, _preview_line), class_name="preview-list"),
                    rx.hstack(
                        rx.cond(S.preview_failing == 0,
                                rx.button(rx.cond(S.applying, rx.spinner(size="2"), rx.icon("check", size=16)),
                                          "Appliquer à " + S.selection_label, type="button", size="3",
                                          disabled=S.applying, on_click=S.apply),
                                rx.fragment()),
                        rx.button("Fermer l'aperçu", type="button", size="3", variant="outline",
                                  on_click=S.cancel_preview),
                        spacing="3", wrap="wrap",
                    ),
                    class_name="info-box preview-box",
                ),
                rx.fragment(),
            ),
            loaded_for=S.loaded_for, class_name="stack-form"),
    )


def _org_checkbox(option: Option) -> rx.Component:
    return checkbox(option.label, initial=S.create_org_ids.contains(option.value), key=S.form_key,
                    on_change=lambda checked: S.toggle_create_org(option.value, checked))


def create_in_several() -> rx.Component:
    return section(
        CREATE_HEADING_ID, "Créer un motif dans plusieurs organisations",
        rx.form(loaded_fieldset(
            fieldset("creation-organisations", "Organisations",
                     rx.el.div(rx.foreach(S.organisation_options, _org_checkbox), class_name="choice-row"),
                     error=rx.cond(S.error_field == "organisation_ids", S.error_message, ""),
                     hint="Les organisations que vous administrez. Le motif est créé dans chacune, ou dans "
                          "aucune si l'une le refuse."),
            motif_tabs(motif_form_props(S), "territoire-motif", S.services),
            form_alert(S.form_error),
            rx.button(rx.cond(S.saving, rx.spinner(size="2"), rx.icon("plus", size=16)),
                      "Créer dans les organisations choisies", type="submit", size="3", disabled=S.saving,
                      width="fit-content"),
            status_region(S.saved_message),
            loaded_for=S.loaded_for, class_name="stack-form"),
            no_validate=True, on_submit=lambda _form: S.create(),
            aria_labelledby=CREATE_HEADING_ID,
        ),
    )


def covered_organisations() -> rx.Component:
    return rx.el.div(
        rx.text("Motifs des organisations que vous administrez dans le territoire " + S.territory_name,
                weight="bold"),
        rx.text("Organisations couvertes : " + S.covered_organisations + "."),
        rx.text("Les motifs des autres organisations du territoire n'apparaissent pas ici : ils sont gérés par "
                "leurs propres administrateurs."),
        class_name="info-box",
    )


def no_organisation_administered() -> rx.Component:
    return rx.el.div(
        rx.heading("Aucune organisation à gérer", as_="h2", size="5"),
        rx.text("Vous êtes administrateur du territoire " + S.territory_name + ", mais d'aucune de ses "
                "organisations."),
        rx.text("Cette page ne liste et ne crée que les motifs des organisations dont vous êtes administrateur. "
                "Pour gérer les motifs d'une organisation, demandez à l'un de ses administrateurs de vous "
                "donner ce rôle."),
        rx.link("Retour à l'accueil de l'espace agents", href=routes.WORKSPACE, class_name="back-link"),
        class_name="info-box",
    )


@agent_page(routes.ADMIN_TERRITORY_MOTIFS, "Motifs du territoire", load=TerritoryMotifsState.load)
def admin_territory_page() -> rx.Component:
    return admin_page(
        "Motifs du territoire", "Les motifs des organisations que vous administrez dans votre territoire : "
        "filtrez, sélectionnez et changez en une fois ce qu'ils partagent.",
        denied=S.denied, loading=S.loading, loading_text="Chargement des motifs du territoire…",
        content=rx.cond(
            S.organisation_options.length() > 0,
            rx.fragment(covered_organisations(), motif_table(), bulk_change(), create_in_several()),
            no_organisation_administered(),
        ),
    )
