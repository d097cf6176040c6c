"""Planning > Plages d'ouverture: the list (own and colleagues' by rights), create, edit, delete."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes, styles
from rdv_app.choices import Option
from rdv_app.components.fields import checkbox, fieldset, input_field, select_field
from rdv_app.components.forms import error_summary, form_alert, loaded_fieldset, switching_record
from rdv_app.components.layout import loading_block
from rdv_app.components.planning import (
    MONTH_ORDINALS,
    badge,
    delete_dialog,
    row_actions,
    status_region,
    until_field,
    weekly_fields,
)
from rdv_app.pages.template import agent_page
from rdv_app.state.plages import (
    FORM_HEADING_ID,
    LIST_HEADING_ID,
    MONTHLY,
    OPEN_WEEKDAYS,
    REPEAT_CHOICES,
    WEEKLY,
    PlageRow,
    PlagesState,
)

FORM_ID = "formulaire-plage"
SEARCH_FIELD_ID = "recherche-plages"
RESULTS_ID = "liste-plages-resultats"
SEARCH_DEBOUNCE_MS = 300


def _error_for(field: str) -> rx.Var:
    return rx.cond(PlagesState.error_field == field, PlagesState.error_message, PlagesState.field_errors.get(field, ""))


def _row(row: PlageRow) -> rx.Component:
    return rx.el.li(
        rx.vstack(
            rx.hstack(
                rx.heading(row.title, as_="h3", size="4"),
                rx.cond(row.expired, badge("Expirée"), rx.fragment()),
                align="center", spacing="3", wrap="wrap",
            ),
            rx.text(row.description),
            rx.el.dl(
                rx.el.dt("Agent"), rx.el.dd(row.agent),
                rx.el.dt("Lieu"), rx.el.dd(row.lieu),
                rx.el.dt("Motifs"), rx.el.dd(row.motifs),
                class_name="identity-list",
            ),
            spacing="2",
        ),
        row_actions("la plage", row.title, switching_record(PlagesState, PlagesState.start_edit(row.id)),
                    PlagesState.ask_delete(row.id)),
        class_name="planning-row",
    )


def plage_list() -> rx.Component:
    return rx.el.section(
        rx.heading("Liste des plages", as_="h2", size="5", id=LIST_HEADING_ID, tab_index=-1),
        rx.grid(
            rx.box(
                rx.el.label("Rechercher", html_for=SEARCH_FIELD_ID, class_name="field-label"),
                rx.text("Titre, lieu, motif ou agent : la liste se met à jour pendant la saisie.",
                        id=f"{SEARCH_FIELD_ID}-aide", class_name="field-hint"),
                rx.el.input(id=SEARCH_FIELD_ID, type="search", default_value=PlagesState.search_query,
                            key=PlagesState.search_key, aria_describedby=f"{SEARCH_FIELD_ID}-aide",
                            aria_controls=RESULTS_ID, auto_complete="off", class_name="text-input",
                            on_change=PlagesState.search.debounce(SEARCH_DEBOUNCE_MS)),
                width="100%",
            ),
            select_field("filtre-agent", "Filtrer par agent", value=PlagesState.filter_agent_id,
                         on_change=PlagesState.set_filter_agent, options=PlagesState.agents,
                         placeholder="Tous les agents", error=None),
            select_field("filtre-lieu", "Filtrer par lieu", value=PlagesState.filter_lieu_id,
                         on_change=PlagesState.set_filter_lieu, options=PlagesState.lieux,
                         placeholder="Tous les lieux", error=None),
            select_field("filtre-motif", "Filtrer par motif", value=PlagesState.filter_motif_id,
                         on_change=PlagesState.set_filter_motif, options=PlagesState.motifs,
                         placeholder="Tous les motifs", error=None),
            columns=rx.breakpoints(initial="1", md="2", lg="4"), spacing="4", width="100%", role="search",
            aria_label="Rechercher des plages d'ouverture",
        ),
        checkbox("Afficher aussi les plages expirées", initial=PlagesState.show_expired,
                 key=PlagesState.search_key, on_change=PlagesState.set_show_expired),
        status_region(PlagesState.list_message),
        form_alert(PlagesState.list_error),
        rx.el.div(
            rx.cond(
                PlagesState.rows.length() > 0,
                rx.el.ul(rx.foreach(PlagesState.rows, _row), class_name="planning-list"),
                rx.text("Aucune plage d'ouverture pour ces critères."),
            ),
            id=RESULTS_ID, width="100%",
        ),
        aria_labelledby=LIST_HEADING_ID,
        class_name="planning-section",
    )


def _motif_checkbox(option: Option) -> rx.Component:
    return checkbox(option.label, initial=PlagesState.motif_ids.contains(option.value),
                    key=PlagesState.form_key,
                    on_change=lambda checked: PlagesState.toggle_motif(option.value, checked))


def _monthly_fields() -> rx.Component:
    return fieldset(
        "plage-mensuel", "Chaque mois, le",
        rx.grid(
            select_field("plage-rang", "Rang dans le mois", value=PlagesState.month_ordinal,
                         on_change=PlagesState.set_month_ordinal, options=MONTH_ORDINALS),
            select_field("plage-jour-du-mois", "Jour de la semaine", value=PlagesState.month_weekday,
                         on_change=PlagesState.set_month_weekday,
                         options=[Option(d.value, d.label.lower()) for d in OPEN_WEEKDAYS]),
            columns=rx.breakpoints(initial="1", sm="2"), spacing="4", max_width="32rem",
        ),
    )


def _repetition() -> rx.Component:
    return fieldset(
        "plage-repetition", "Répétition",
        rx.box(
            select_field("plage-repeter", "Répéter", value=PlagesState.repeat,
                         on_change=PlagesState.set_repeat, options=REPEAT_CHOICES),
            max_width="24rem",
        ),
        rx.cond(PlagesState.repeat == WEEKLY,
                weekly_fields("plage", weekdays=OPEN_WEEKDAYS, days=PlagesState.week_days, key=PlagesState.form_key,
                              on_toggle_day=PlagesState.toggle_week_day, interval=PlagesState.week_interval,
                              on_interval=PlagesState.set_week_interval),
                rx.fragment()),
        rx.cond(PlagesState.repeat == MONTHLY, _monthly_fields(), rx.fragment()),
        rx.cond(PlagesState.repeat != "",
                until_field("plage", initial=PlagesState.until, key=PlagesState.form_key,
                            on_change=PlagesState.set_until),
                rx.fragment()),
        error=_error_for("recurrence"),
        hint="Une plage répétée commence à sa date.",
    )


def _warnings() -> rx.Component:
    return rx.cond(
        PlagesState.warnings.length() > 0,
        rx.el.div(
            rx.heading("Vérifiez avant d'enregistrer", as_="h3", size="4"),
            rx.el.ul(rx.foreach(PlagesState.warnings, lambda w: rx.el.li(w))),
            rx.hstack(
                rx.button(rx.cond(PlagesState.saving, rx.spinner(size="2"), rx.icon("check", size=16)),
                          "Enregistrer quand même", type="button", size="3", disabled=PlagesState.saving,
                          on_click=PlagesState.save(True)),
                rx.button("Revenir au formulaire", type="button", size="3", variant="outline",
                          on_click=PlagesState.dismiss_warnings),
                spacing="3", wrap="wrap",
            ),
            role="alert",
            class_name="warning-box",
        ),
        rx.fragment(),
    )


def plage_form() -> rx.Component:
    key = PlagesState.form_key
    return rx.el.section(
        rx.heading(PlagesState.form_heading, as_="h2", size="5", id=FORM_HEADING_ID, tab_index=-1),
        rx.form(loaded_fieldset(
            error_summary(PlagesState.error_links),
            rx.grid(
                input_field("plage-titre", "Titre", initial=PlagesState.title, key=key,
                            on_change=PlagesState.set_title, error=_error_for("title")),
                select_field("plage-agent", "Agent", value=PlagesState.agent_id,
                             on_change=PlagesState.set_agent, options=PlagesState.agents,
                             placeholder="Choisissez un agent", required=True, error=_error_for("agent_id")),
                select_field("plage-lieu", "Lieu", value=PlagesState.lieu_id, on_change=PlagesState.set_lieu,
                             options=PlagesState.lieux, placeholder="Sans lieu (à domicile, par téléphone)",
                             error=_error_for("lieu_id")),
                columns=rx.breakpoints(initial="1", md="3"), spacing="4", width="100%",
            ),
            fieldset("plage-motifs", "Motifs",
                     rx.el.div(rx.foreach(PlagesState.motifs, _motif_checkbox), class_name="choice-row"),
                     error=_error_for("motif_ids"), hint="Cochez au moins un motif."),
            rx.grid(
                input_field("plage-date", "Date", initial=PlagesState.first_day, key=key, type_="date",
                            on_change=PlagesState.set_first_day, error=_error_for("first_day")),
                input_field("plage-debut", "Heure de début", initial=PlagesState.start_time, key=key,
                            type_="time", step=300, on_change=PlagesState.set_start_time,
                            error=_error_for("start_time")),
                input_field("plage-fin", "Heure de fin", initial=PlagesState.end_time, key=key, type_="time",
                            step=300, on_change=PlagesState.set_end_time, error=_error_for("end_time")),
                columns=rx.breakpoints(initial="1", md="3"), spacing="4", width="100%",
            ),
            _repetition(),
            form_alert(PlagesState.form_error),
            _warnings(),
            rx.hstack(
                rx.button(
                    rx.cond(PlagesState.saving, rx.spinner(size="2"), rx.icon("save", size=16)),
                    rx.cond(PlagesState.editing_id != "", "Enregistrer les modifications", "Créer la plage"),
                    type="submit", size="3", disabled=PlagesState.saving,
                ),
                rx.cond(PlagesState.editing_id != "",
                        rx.button("Annuler la modification", type="button", size="3", variant="outline",
                                  on_click=switching_record(PlagesState, PlagesState.cancel_edit)),
                        rx.fragment()),
                spacing="3", wrap="wrap",
            ),
            status_region(PlagesState.saved_message),
            loaded_for=PlagesState.loaded_for, class_name="stack-form"),
            no_validate=True, on_submit=lambda _form: PlagesState.save(False),
            aria_labelledby=FORM_HEADING_ID,
        ),
        id=FORM_ID,
        class_name="planning-section",
    )


@agent_page(routes.PLAGES, "Plages d'ouverture", load=PlagesState.load)
def plages_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Plages d'ouverture", as_="h1", size="7"),
        rx.text("Une plage d'ouverture dit quand, où et pour quels motifs un agent reçoit : les créneaux de "
                "« Trouver un RDV » en découlent.", color=styles.TEXT_MUTED),
        rx.button(rx.icon("plus", size=16), "Créer une plage d'ouverture", variant="outline", size="3",
                  type="button", on_click=switching_record(PlagesState, PlagesState.start_new)),
        # The form waits for its choices (agents, lieux, motifs) like the list does.
        rx.cond(PlagesState.loading, loading_block("Chargement des plages d'ouverture…"),
                rx.cond(PlagesState.denied != "", form_alert(PlagesState.denied), rx.fragment(plage_list(), plage_form()))),
        delete_dialog("Supprimer cette plage d'ouverture ?", PlagesState.deleting_label,
                      is_open=PlagesState.deleting_id != "", on_open_change=PlagesState.set_delete_open,
                      on_confirm=PlagesState.delete, busy=PlagesState.deleting),
        spacing="5",
        width="100%",
    )
