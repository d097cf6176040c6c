"""Planifier un RDV: 1. its usagers (search, create inline), 2. the recap, 3. notifications and confirm."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes, styles
from rdv_app.choices import Option
from rdv_app.components.fields import checkbox, field_error, fieldset, input_field, select_field
from rdv_app.components.forms import form_alert, loaded_fieldset
from rdv_app.components.layout import loading_block
from rdv_app.components.planning import status_region
from rdv_app.pages.template import agent_page
from rdv_app.state.rdv_new import (
    CONFIRM_HEADING_ID,
    FIELD_IDS,
    SEARCH_FIELD_ID,
    SINGLE_USE,
    FoundUsager,
    ParticipantRow,
    RdvNewState,
)

SEARCH_DEBOUNCE_MS = 300


def _error_for(field: str) -> rx.Var:
    return rx.cond(RdvNewState.error_field == field, RdvNewState.error_message, "")


def _step_heading(text: str, heading_id: str = "") -> rx.Component:
    return rx.heading(text, as_="h2", size="5", id=heading_id or None, tab_index=-1 if heading_id else None)


# --------------------------------------------------------------------------- 1. usagers


def _participant(row: ParticipantRow) -> rx.Component:
    return rx.el.li(
        rx.vstack(
            rx.text(row.name, weight="bold"),
            rx.cond(row.details != "", rx.text(row.details, size="2"), rx.fragment()),
            rx.cond(row.from_other_organisation,
                    rx.text("Usager d'une autre organisation : il sera ajouté à la vôtre.", size="2",
                            color=styles.TEXT_MUTED),
                    rx.fragment()),
            spacing="1",
        ),
        rx.button(rx.icon("user-minus", size=16), "Retirer", type="button", variant="outline", size="3",
                  color_scheme="red", on_click=RdvNewState.remove_usager(row.id),
                  aria_label="Retirer " + row.name + " du RDV"),
        class_name="planning-row",
    )


def _found(usager: FoundUsager) -> rx.Component:
    added = RdvNewState.participant_ids.contains(usager.id)
    return rx.el.li(
        rx.vstack(
            rx.text(usager.name, weight="bold"),
            rx.cond(usager.details != "", rx.text(usager.details, size="2"), rx.fragment()),
            spacing="1",
        ),
        rx.button(
            rx.cond(added, rx.icon("check", size=16), rx.icon("user-plus", size=16)),
            rx.cond(added, "Déjà ajouté", "Ajouter"),
            type="button", size="3", variant=rx.cond(added, "soft", "solid"), disabled=added,
            on_click=RdvNewState.add_usager(usager.id),
            aria_label=rx.cond(added, usager.name + " : déjà ajouté au RDV", "Ajouter " + usager.name + " au RDV"),
        ),
        class_name="result-row",
    )


def _results() -> rx.Component:
    return rx.el.div(
        rx.cond(
            RdvNewState.searching,
            rx.hstack(rx.spinner(size="2"), rx.text("Recherche en cours…"), align="center", spacing="2"),
            rx.cond(
                RdvNewState.searched,
                rx.cond(
                    (RdvNewState.results.length() + RdvNewState.other_results.length()) > 0,
                    rx.fragment(
                        rx.cond(
                            RdvNewState.results.length() > 0,
                            rx.el.section(
                                rx.heading("Usagers de votre organisation", as_="h3", size="3"),
                                rx.el.ul(rx.foreach(RdvNewState.results, _found), class_name="result-list"),
                                class_name="result-group",
                            ),
                            rx.fragment(),
                        ),
                        rx.cond(
                            RdvNewState.other_results.length() > 0,
                            rx.el.section(
                                rx.heading("Usagers des autres organisations", as_="h3", size="3"),
                                rx.text("Leurs coordonnées sont partiellement masquées.", size="2",
                                        color=styles.TEXT_MUTED),
                                rx.el.ul(rx.foreach(RdvNewState.other_results, _found), class_name="result-list"),
                                class_name="result-group",
                            ),
                            rx.fragment(),
                        ),
                    ),
                    rx.text("Aucun usager ne correspond à « " + RdvNewState.query + " ». Vous pouvez le créer."),
                ),
                rx.fragment(),
            ),
        ),
        aria_live="polite",
        aria_busy=rx.cond(RdvNewState.searching, "true", "false"),
        class_name="search-results",
    )


def _new_usager_form() -> rx.Component:
    key = RdvNewState.create_key
    return rx.el.form(
        rx.heading("Créer un usager", as_="h3", size="4"),
        rx.grid(
            input_field("usager-prenom", "Prénom", initial=RdvNewState.new_first_name, key=key,
                        on_change=RdvNewState.set_new_first_name, error=_error_for("first_name"),
                        auto_complete="off", auto_focus=True),
            input_field("usager-nom", "Nom", initial=RdvNewState.new_last_name, key=key,
                        on_change=RdvNewState.set_new_last_name, error=_error_for("last_name"), auto_complete="off"),
            input_field("usager-email", "Email (facultatif)", initial=RdvNewState.new_email, key=key,
                        on_change=RdvNewState.set_new_email, error=_error_for("email"), type_="email",
                        required=False, auto_complete="off"),
            input_field("usager-telephone", "Téléphone (facultatif)", initial=RdvNewState.new_phone, key=key,
                        on_change=RdvNewState.set_new_phone, error=_error_for("phone_number"), type_="tel",
                        required=False, hint="Un numéro de mobile permet d'envoyer les SMS.", auto_complete="off"),
            input_field("usager-naissance", "Date de naissance (facultatif)", initial=RdvNewState.new_birth_date,
                        key=key, on_change=RdvNewState.set_new_birth_date, error=_error_for("birth_date"),
                        type_="date", required=False),
            columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%",
        ),
        rx.hstack(
            rx.button(rx.cond(RdvNewState.saving_usager, rx.spinner(size="2"), rx.icon("user-plus", size=16)),
                      "Créer et ajouter au RDV", type="submit", size="3", disabled=RdvNewState.saving_usager),
            rx.button("Annuler", type="button", size="3", variant="outline", on_click=RdvNewState.close_new_usager),
            spacing="3", wrap="wrap",
        ),
        no_validate=True, on_submit=lambda _form: RdvNewState.create_usager(),
        aria_label="Créer un usager",
        class_name="stack-form inline-panel",
    )


def usagers_step() -> rx.Component:
    return rx.el.section(
        _step_heading("1. Usagers"),
        status_region(RdvNewState.usager_message),
        rx.cond(
            RdvNewState.participants.length() > 0,
            rx.el.ul(rx.foreach(RdvNewState.participants, _participant), class_name="planning-list",
                     aria_label="Participants du RDV"),
            rx.text("Aucun usager pour l'instant : ajoutez-en au moins un.", color=styles.TEXT_MUTED),
        ),
        rx.box(
            input_field(SEARCH_FIELD_ID, "Rechercher un usager", initial=RdvNewState.query,
                        key=RdvNewState.search_key,
                        on_change=RdvNewState.search_usagers.debounce(SEARCH_DEBOUNCE_MS),
                        error=_error_for("usager_ids"), type_="search", required=False,
                        hint="Tapez les premières lettres du nom ou du prénom (2 lettres au moins).",
                        auto_complete="off"),
            max_width="32rem", width="100%",
        ),
        _results(),
        rx.cond(
            RdvNewState.creating_usager,
            _new_usager_form(),
            rx.button(rx.icon("user-plus", size=16), "Créer un usager", type="button", variant="outline", size="3",
                      on_click=RdvNewState.open_new_usager),
        ),
        aria_label="1. Usagers",
        class_name="planning-section step-section",
    )


# --------------------------------------------------------------------------- 2. recap


def _agent_checkbox(option: Option) -> rx.Component:
    return checkbox(option.label, initial=RdvNewState.agent_ids.contains(option.value), key=RdvNewState.form_key,
                    on_change=lambda checked: RdvNewState.toggle_agent(option.value, checked))


def recap_step() -> rx.Component:
    key = RdvNewState.form_key
    return rx.el.section(
        _step_heading("2. Récapitulatif"),
        rx.el.dl(
            rx.el.dt("Motif"),
            rx.el.dd(rx.el.span(class_name="motif-dot", style={"background_color": RdvNewState.motif_colour},
                                aria_hidden="true"),
                     RdvNewState.motif_name + " (" + RdvNewState.service_name + ")"),
            class_name="identity-list",
        ),
        rx.grid(
            input_field(FIELD_IDS["day"], "Date", initial=RdvNewState.day, key=key, type_="date",
                        on_change=RdvNewState.set_day, error=_error_for("day")),
            input_field(FIELD_IDS["start_time"], "Heure de début", initial=RdvNewState.start_time, key=key,
                        type_="time", step=300, on_change=RdvNewState.set_start_time, error=_error_for("start_time")),
            input_field(FIELD_IDS["duration_in_min"], "Durée (minutes)", initial=RdvNewState.duration, key=key,
                        input_mode="numeric", pattern="[0-9]*",
                        on_change=RdvNewState.set_duration, error=_error_for("duration_in_min")),
            rx.cond(
                RdvNewState.needs_lieu,
                select_field(FIELD_IDS["lieu_id"], "Lieu", value=RdvNewState.lieu_id, on_change=RdvNewState.set_lieu,
                             options=RdvNewState.lieu_options, placeholder="Choisissez un lieu", required=True,
                             error=_error_for("lieu_id")),
                rx.box(rx.text("Lieu", class_name="field-label"), rx.text(RdvNewState.place_label)),
            ),
            columns=rx.breakpoints(initial="1", sm="2", lg="4"), spacing="4", width="100%",
        ),
        rx.cond(
            RdvNewState.needs_lieu & (RdvNewState.lieu_id == SINGLE_USE),
            rx.grid(
                input_field(FIELD_IDS["single_use_name"], "Nom du lieu ponctuel", initial=RdvNewState.single_use_name,
                            key=key, on_change=RdvNewState.set_single_use_name, error=_error_for("single_use_name"),
                            hint="Par exemple « Salle de la mairie annexe »."),
                input_field(FIELD_IDS["single_use_address"], "Adresse du lieu ponctuel",
                            initial=RdvNewState.single_use_address, key=key,
                            on_change=RdvNewState.set_single_use_address, error=_error_for("single_use_address"),
                            hint="Utilisée pour ce RDV seulement : elle ne rejoint pas les lieux de l'organisation."),
                columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%",
            ),
        ),
        fieldset(FIELD_IDS["agent_ids"], "Agents",
                 rx.el.div(rx.foreach(RdvNewState.agent_choices, _agent_checkbox), class_name="choice-row"),
                 error=_error_for("agent_ids"), hint="Cochez un ou plusieurs agents."),
        aria_label="2. Récapitulatif",
        class_name="planning-section step-section",
    )


# --------------------------------------------------------------------------- 3. notifications and confirm


def _notifications(row: ParticipantRow) -> rx.Component:
    return rx.el.li(
        rx.text(row.name, weight="bold"),
        rx.cond(row.notified_through != "",
                rx.text("Messages envoyés à " + row.notified_through, size="2"), rx.fragment()),
        rx.text(row.note, size="2", color=rx.cond(row.can_notify, styles.TEXT_MUTED, styles.ERROR_RED)),
        rx.el.div(
            checkbox("Confirmation, modification et annulation", initial=row.lifecycle, key=row.id,
                     disabled=~row.can_notify,
                     on_change=lambda checked: RdvNewState.set_lifecycle(row.id, checked)),
            checkbox("Rappel 48 h avant", initial=row.reminder, key=row.id, disabled=~row.can_notify,
                     on_change=lambda checked: RdvNewState.set_reminder(row.id, checked)),
            class_name="choice-row",
        ),
        class_name="notification-row",
    )


def _warnings() -> rx.Component:
    return rx.cond(
        RdvNewState.warnings.length() > 0,
        rx.el.div(
            rx.heading("Vérifiez avant de créer le RDV", as_="h3", size="4"),
            rx.el.ul(rx.foreach(RdvNewState.warnings, lambda w: rx.el.li(w))),
            rx.hstack(
                rx.button(rx.cond(RdvNewState.saving, rx.spinner(size="2"), rx.icon("check", size=16)),
                          "Confirmer quand même", type="button", size="3", disabled=RdvNewState.saving,
                          on_click=RdvNewState.confirm(True)),
                rx.button("Modifier le RDV", type="button", size="3", variant="outline",
                          on_click=RdvNewState.dismiss_warnings),
                spacing="3", wrap="wrap",
            ),
            role="alert",
            class_name="warning-box",
        ),
        rx.fragment(),
    )


def confirm_step() -> rx.Component:
    return rx.el.section(
        _step_heading("3. Notifications et confirmation", CONFIRM_HEADING_ID),
        rx.el.div(
            rx.cond(
                RdvNewState.participants.length() > 0,
                rx.el.ul(rx.foreach(RdvNewState.participants, _notifications), class_name="planning-list",
                         aria_label="Notifications des participants"),
                rx.text("Ajoutez un usager pour régler ses notifications.", color=styles.TEXT_MUTED),
            ),
            field_error("rdv-notifications", _error_for("notify")),
        ),
        rx.cond(RdvNewState.contact_warning != "",
                rx.el.p(RdvNewState.contact_warning, class_name="info-box"), rx.fragment()),
        rx.el.p(rx.el.strong("Vous allez créer : "), RdvNewState.summary, class_name="summary-line"),
        form_alert(RdvNewState.form_error),
        _warnings(),
        rx.cond(
            RdvNewState.warnings.length() > 0,
            rx.fragment(),
            rx.button(rx.cond(RdvNewState.saving, rx.spinner(size="2"), rx.icon("calendar-check", size=16)),
                      rx.cond(RdvNewState.saving, "Création en cours…", "Créer le RDV"),
                      type="button", size="3", disabled=RdvNewState.saving, on_click=RdvNewState.confirm(False),
                      class_name="confirm-button"),
        ),
        aria_label="3. Notifications et confirmation",
        class_name="planning-section step-section",
    )


def _unavailable() -> rx.Component:
    return rx.vstack(
        rx.el.p(RdvNewState.denied, role="alert", class_name="form-alert"),
        rx.hstack(
            rx.link("Trouver un RDV", href=routes.CRENEAUX, class_name="inline-link"),
            rx.link("Ouvrir l'agenda", href=routes.AGENDA, class_name="inline-link"),
            spacing="5", wrap="wrap",
        ),
        spacing="3",
        width="100%",
    )


@agent_page(routes.RDV_NEW, "Planifier un RDV", load=RdvNewState.load)
def rdv_new_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Planifier un RDV", as_="h1", size="7"),
        rx.cond(
            RdvNewState.loading,
            loading_block("Chargement du RDV…"),
            rx.cond(
                RdvNewState.denied != "",
                _unavailable(),
                # Nothing is chosen nor created before the motif's agents and lieux are loaded for this
                # organisation and address (a previous visit's choices show until then).
                loaded_fieldset(rx.vstack(usagers_step(), recap_step(), confirm_step(), spacing="5", width="100%"),
                                loaded_for=RdvNewState.loaded_for),
            ),
        ),
        spacing="5",
        width="100%",
    )
