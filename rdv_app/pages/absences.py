"""Planning > Indisponibilités: the list (own and colleagues' by rights), create, edit, delete."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes, styles
from rdv_app.components.fields import checkbox, fieldset, input_field, select_field
from rdv_app.components.forms import error_summary, form_alert, loaded_fieldset, switching_record
from rdv_app.components.layout import loading_block
from rdv_app.components.planning import (
    badge,
    delete_dialog,
    info_box,
    row_actions,
    status_region,
    until_field,
    weekly_fields,
)
from rdv_app.pages.template import agent_page
from rdv_app.state.absences import FORM_HEADING_ID, LIST_HEADING_ID, PAST, UPCOMING, AbsenceRow, AbsencesState
from rdv_app.state.plages import OPEN_WEEKDAYS

FORM_ID = "formulaire-indisponibilite"
WHOLE_SERIES = ("Une indisponibilité répétée se modifie ou se supprime en entier, toutes ses occurrences à "
                "la fois. Pour l'arrêter à partir d'un jour, modifiez-la et indiquez une date de fin de "
                "répétition.")


def _error_for(field: str) -> rx.Var:
    return rx.cond(AbsencesState.error_field == field, AbsencesState.error_message, AbsencesState.field_errors.get(field, ""))


def _row(row: AbsenceRow) -> rx.Component:
    return rx.el.li(
        rx.vstack(
            rx.hstack(
                rx.heading(row.title, as_="h3", size="4"),
                rx.cond(row.recurring, badge("Répétée"), rx.fragment()),
                rx.cond(row.expired, badge("Passée"), rx.fragment()),
                align="center", spacing="3", wrap="wrap",
            ),
            rx.text(row.description),
            rx.el.dl(rx.el.dt("Agent"), rx.el.dd(row.agent), class_name="identity-list"),
            spacing="2",
        ),
        row_actions("l'indisponibilité", row.title,
                    switching_record(AbsencesState, AbsencesState.start_edit(row.id)),
                    AbsencesState.ask_delete(row.id)),
        class_name="planning-row",
    )


def _rows(empty: str) -> rx.Component:
    return rx.cond(
        AbsencesState.rows.length() > 0,
        rx.el.ul(rx.foreach(AbsencesState.rows, _row), class_name="planning-list"),
        rx.text(empty),
    )


def absence_list() -> rx.Component:
    return rx.el.section(
        rx.heading("Liste des indisponibilités", as_="h2", size="5", id=LIST_HEADING_ID, tab_index=-1),
        rx.el.div(
            rx.box(
                select_field("filtre-agent", "Filtrer par agent", value=AbsencesState.filter_agent_id,
                             on_change=AbsencesState.set_filter_agent, options=AbsencesState.agents,
                             placeholder="Tous les agents", error=None),
                min_width="16rem",
            ),
            class_name="filter-row",
        ),
        status_region(AbsencesState.list_message),
        form_alert(AbsencesState.list_error),
        # Tabs (arrow keys move between them): only the chosen one's panel is in the page.
        rx.tabs.root(
            rx.tabs.list(rx.tabs.trigger("À venir", value=UPCOMING), rx.tabs.trigger("Passées", value=PAST),
                         aria_label="Période des indisponibilités"),
            rx.tabs.content(_rows("Aucune indisponibilité à venir pour ces critères."), value=UPCOMING,
                            padding_top="1rem"),
            rx.tabs.content(_rows("Aucune indisponibilité passée pour ces critères."), value=PAST,
                            padding_top="1rem"),
            value=AbsencesState.period, on_change=AbsencesState.set_period, width="100%",
        ),
        aria_labelledby=LIST_HEADING_ID,
        class_name="planning-section",
    )


def _repetition() -> rx.Component:
    return fieldset(
        "indisponibilite-repetition", "Répétition",
        rx.cond(
            AbsencesState.single_day,
            rx.fragment(
                checkbox("Répéter chaque semaine", initial=AbsencesState.repeat, key=AbsencesState.form_key,
                         on_change=AbsencesState.set_repeat),
                rx.cond(
                    AbsencesState.repeat,
                    rx.fragment(
                        weekly_fields("indisponibilite", weekdays=OPEN_WEEKDAYS, days=AbsencesState.week_days,
                                      key=AbsencesState.form_key, on_toggle_day=AbsencesState.toggle_week_day,
                                      interval=AbsencesState.week_interval,
                                      on_interval=AbsencesState.set_week_interval),
                        until_field("indisponibilite", initial=AbsencesState.until,
                                    key=AbsencesState.form_key, on_change=AbsencesState.set_until),
                    ),
                    rx.fragment(),
                ),
            ),
            rx.text("Une indisponibilité de plusieurs jours ne se répète pas.", class_name="field-hint"),
        ),
        error=_error_for("recurrence"),
        hint="Seule une indisponibilité d'une journée peut être répétée.",
    )


def absence_form() -> rx.Component:
    key = AbsencesState.form_key
    return rx.el.section(
        rx.heading(AbsencesState.form_heading, as_="h2", size="5", id=FORM_HEADING_ID, tab_index=-1),
        rx.form(loaded_fieldset(
            error_summary(AbsencesState.error_links),
            rx.grid(
                select_field("indisponibilite-agent", "Agent", value=AbsencesState.agent_id,
                             on_change=AbsencesState.set_agent, options=AbsencesState.agents,
                             placeholder="Choisissez un agent", required=True, error=_error_for("agent_id")),
                input_field("indisponibilite-titre", "Titre", initial=AbsencesState.title, key=key,
                            on_change=AbsencesState.set_title, error=_error_for("title")),
                columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%",
            ),
            rx.text("Pour une seule journée, laissez le dernier jour vide. L'heure de fin est celle du "
                    "dernier jour.", class_name="field-hint"),
            rx.grid(
                input_field("indisponibilite-premier-jour", "Premier jour", initial=AbsencesState.first_day,
                            key=key, type_="date", on_change=AbsencesState.set_first_day,
                            error=_error_for("first_day")),
                input_field("indisponibilite-debut", "Heure de début", initial=AbsencesState.start_time,
                            key=key, type_="time", step=300, on_change=AbsencesState.set_start_time,
                            error=_error_for("start_time")),
                input_field("indisponibilite-dernier-jour", "Dernier jour (facultatif)",
                            initial=AbsencesState.end_day, key=key, type_="date", required=False,
                            on_change=AbsencesState.set_end_day, error=_error_for("end_day")),
                input_field("indisponibilite-fin", "Heure de fin", initial=AbsencesState.end_time, key=key,
                            type_="time", step=300, on_change=AbsencesState.set_end_time,
                            error=_error_for("end_time")),
                columns=rx.breakpoints(initial="1", sm="2", lg="4"), spacing="4", width="100%",
            ),
            _repetition(),
            form_alert(AbsencesState.form_error),
            rx.hstack(
                rx.button(
                    rx.cond(AbsencesState.saving, rx.spinner(size="2"), rx.icon("save", size=16)),
                    rx.cond(AbsencesState.editing_id != "", "Enregistrer les modifications",
                            "Créer l'indisponibilité"),
                    type="submit", size="3", disabled=AbsencesState.saving,
                ),
                rx.cond(AbsencesState.editing_id != "",
                        rx.button("Annuler la modification", type="button", size="3", variant="outline",
                                  on_click=switching_record(AbsencesState, AbsencesState.cancel_edit)),
                        rx.fragment()),
                spacing="3", wrap="wrap",
            ),
            status_region(AbsencesState.saved_message),
            loaded_for=AbsencesState.loaded_for, class_name="stack-form"),
            no_validate=True, on_submit=lambda _form: AbsencesState.save(),
            aria_labelledby=FORM_HEADING_ID,
        ),
        id=FORM_ID,
        class_name="planning-section",
    )


@agent_page(routes.ABSENCES, "Indisponibilités", load=AbsencesState.load)
def absences_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Indisponibilités", as_="h1", size="7"),
        rx.text("Congés, formations, réunions : pendant une indisponibilité, l'agent n'a aucun créneau, dans "
                "toutes ses organisations.", color=styles.TEXT_MUTED),
        info_box(WHOLE_SERIES),
        rx.button(rx.icon("plus", size=16), "Créer une indisponibilité", variant="outline", size="3",
                  type="button", on_click=switching_record(AbsencesState, AbsencesState.start_new)),
        # The form waits for its choices (agents) like the list does.
        rx.cond(AbsencesState.loading, loading_block("Chargement des indisponibilités…"),
                rx.cond(AbsencesState.denied != "", form_alert(AbsencesState.denied), rx.fragment(absence_list(), absence_form()))),
        delete_dialog("Supprimer cette indisponibilité ?", AbsencesState.deleting_label,
                      is_open=AbsencesState.deleting_id != "", on_open_change=AbsencesState.set_delete_open,
                      on_confirm=AbsencesState.delete, busy=AbsencesState.deleting),
        spacing="5",
        width="100%",
    )
