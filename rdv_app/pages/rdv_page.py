"""An RDV's page for agents: details, participants, status, edit, cancel, history and notifications."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes, styles
from rdv_app.choices import Option
from rdv_app.components.fields import checkbox, fieldset, input_field, select_field
from rdv_app.components.forms import error_summary, form_alert, loaded_fieldset
from rdv_app.components.layout import loading_block
from rdv_app.components.planning import badge, sms_name_warning, status_region
from rdv_app.pages.template import agent_page
from rdv_app.state.rdv_new import SINGLE_USE
from rdv_app.state.rdv_page import (
    DUPLICATE_HEADING_ID,
    EDIT_HEADING_ID,
    RECEIPTS_SHOWN,
    STATUS_HEADING_ID,
    HistoryRow,
    ParticipantRow,
    RdvPageState,
    ReceiptRow,
    SeatCandidate,
)

S = RdvPageState


def _back_link() -> rx.Component:
    return rx.link(rx.icon("arrow-left", size=16, aria_hidden="true"), "Retour à l'agenda", href=routes.AGENDA,
                   class_name="back-link")


def _error_for(field: str) -> rx.Var:
    return rx.cond(S.error_field == field, S.error_message, S.field_errors.get(field, ""))


# --------------------------------------------------------------------------- details


def _details() -> rx.Component:
    return rx.el.section(
        rx.heading("Informations", as_="h2", size="5", id="informations-rdv-titre"),
        rx.el.dl(
            rx.el.dt("Date"), rx.el.dd(S.day),
            rx.el.dt("Horaire"), rx.el.dd(S.time + " – " + S.end_time + " (" + S.duration + ")"),
            rx.el.dt("Fuseau horaire"), rx.el.dd(S.timezone),
            rx.el.dt("Motif"),
            rx.el.dd(rx.el.span(class_name="motif-swatch", background_color=S.motif_colour, aria_hidden="true"),
                     S.motif_name + " · " + S.service_name),
            rx.cond(S.session_name != "", rx.fragment(rx.el.dt("Atelier"), rx.el.dd(S.session_name)),
                    rx.fragment()),
            rx.el.dt("Lieu"), rx.el.dd(rx.foreach(S.where, lambda line: rx.el.span(line, class_name="where-line"))),
            rx.el.dt("Agents"), rx.el.dd(S.agents.join(", ")),
            rx.el.dt("Organisation"), rx.el.dd(S.organisation_name),
            rx.el.dt("Créé par"), rx.el.dd(S.created_by + ", le " + S.created_when),
            rx.cond(S.prescriber != "", rx.fragment(rx.el.dt("Origine"), rx.el.dd("Prescripteur")), rx.fragment()),
            rx.cond(S.context != "", rx.fragment(rx.el.dt("Notes"), rx.el.dd(S.context)), rx.fragment()),
            class_name="identity-list",
        ),
        _prescriber(),
        aria_labelledby="informations-rdv-titre",
        class_name="planning-section",
    )


def _prescriber() -> rx.Component:
    """Who booked the RDV by prescription, and whom to contact about it (admin-domain.md 10.3)."""
    return rx.cond(S.prescriber != "", rx.el.details(
        rx.el.summary("Rendez-vous pris par " + S.prescriber),
        rx.el.p("Ce rendez-vous a été pris par un prescripteur, qui n'y participera pas, sur un créneau ouvert à "
                "la prescription. En cas d'erreur, contactez " + S.prescriber + " (" + S.prescriber_contact + ")."),
        class_name="info-box",
    ), rx.fragment())


def _participant_status(row: ParticipantRow) -> rx.Component:
    """With several participants, each one's status may differ (domain.md section 1)."""
    field_id = "statut-participant-" + row.usager_id
    return rx.cond(
        (S.participants.length() > 1) | S.collectif,
        rx.box(
            rx.el.label("Statut de " + row.name, html_for=field_id, class_name="field-label"),
            rx.el.select(
                rx.foreach(S.participant_status_choices, lambda o: rx.el.option(o.label, value=o.value)),
                id=field_id, value=row.status, disabled=S.status_saving, class_name="text-input",
                on_change=lambda value: RdvPageState.set_participant_status(row.usager_id, value),
            ),
            max_width="20rem",
        ),
        rx.fragment(),
    )


def _participant(row: ParticipantRow) -> rx.Component:
    return rx.el.li(
        rx.vstack(
            rx.hstack(rx.heading(row.name, as_="h3", size="4"), badge(row.status_label), align="center",
                      spacing="3", wrap="wrap"),
            rx.cond(row.responsible != "",
                    rx.text("Proche de " + row.responsible + " : les notifications lui sont adressées."),
                    rx.fragment()),
            rx.el.dl(
                rx.el.dt("Notifications du RDV"), rx.el.dd(row.lifecycle),
                rx.el.dt("Rappel"), rx.el.dd(row.reminder),
                rx.el.dt("Moyens de contact"),
                rx.el.dd(rx.foreach(row.reaches, lambda line: rx.el.span(line, class_name="where-line"))),
                class_name="identity-list",
            ),
            _participant_status(row),
            rx.cond(S.collectif, rx.box(rx.button(
                rx.icon("user-minus", size=16), "Retirer", type="button", size="2", variant="outline",
                color_scheme="red", disabled=S.seat_busy, on_click=RdvPageState.remove_seat(row.usager_id),
                aria_label="Retirer " + row.name + " de l'atelier")), rx.fragment()),
            spacing="2", width="100%",
        ),
        class_name="planning-row",
    )


def _seat_candidate(row: SeatCandidate) -> rx.Component:
    return rx.el.li(
        rx.vstack(rx.text(row.name, weight="medium"), rx.text(row.details, size="2"), spacing="1"),
        rx.button(rx.icon("user-plus", size=16), "Inscrire", type="button", size="2", disabled=S.seat_busy,
                  on_click=RdvPageState.add_seat(row.usager_id), aria_label="Inscrire " + row.name),
        class_name="planning-row",
    )


def _add_seat() -> rx.Component:
    """An agent registers an usager of the organisation, with their notification flags (domain.md 3.1)."""
    return rx.el.div(
        rx.heading("Inscrire un participant", as_="h3", size="4"),
        rx.box(input_field("atelier-recherche-usager", "Rechercher un usager", initial=S.seat_query, key=S.seat_key,
                           on_change=S.search_seat_usagers.debounce(300), required=False,
                           hint="Nom, prénom, email ou téléphone (2 caractères au moins)."),
               max_width="28rem"),
        rx.el.div(
            checkbox("Notifications du RDV (confirmation, annulation)", initial=S.seat_lifecycle,
                     on_change=S.set_seat_lifecycle),
            checkbox("Rappel avant le RDV", initial=S.seat_reminder, on_change=S.set_seat_reminder),
            class_name="choice-row",
        ),
        form_alert(S.seat_error),
        rx.cond(S.seat_results.length() > 0,
                rx.el.ul(rx.foreach(S.seat_results, _seat_candidate), class_name="planning-list",
                         aria_label="Usagers trouvés"),
                rx.fragment()),
        class_name="stack-form",
    )


def _participants() -> rx.Component:
    return rx.el.section(
        rx.heading("Participants", as_="h2", size="5", id="participants-rdv-titre"),
        rx.cond(S.collectif, rx.text("Places occupées : " + S.fill, weight="medium"), rx.fragment()),
        rx.cond(S.participants.length() > 0,
                rx.el.ul(rx.foreach(S.participants, _participant), class_name="planning-list"),
                rx.text("Aucun participant.")),
        rx.cond(S.collectif & ~S.cancelled, _add_seat(), rx.fragment()),
        aria_labelledby="participants-rdv-titre",
        class_name="planning-section",
    )


# --------------------------------------------------------------------------- status and cancel


def _status() -> rx.Component:
    return rx.el.section(
        rx.heading("Statut", as_="h2", size="5", id=STATUS_HEADING_ID, tab_index=-1),
        rx.hstack(rx.text("Statut actuel :"), badge(S.status_label), align="center", spacing="2"),
        rx.el.form(
            rx.box(
                select_field("statut-rdv", "Nouveau statut", value=S.chosen_status, on_change=S.set_chosen_status,
                             options=S.status_choices, error=None,
                             hint="Les participants suivent le statut du rendez-vous."),
                max_width="22rem", width="100%",
            ),
            rx.button(rx.cond(S.status_saving, rx.spinner(size="2"), rx.icon("check", size=16)),
                      "Enregistrer le statut", type="submit", size="3",
                      disabled=S.status_saving | (S.chosen_status == S.status)),
            no_validate=True, on_submit=lambda _form: RdvPageState.save_status(),
            aria_label="Changer le statut",
            class_name="filter-row",
        ),
        form_alert(S.status_error),
        rx.cond(
            S.status_warning != "",
            rx.box(
                rx.text(S.status_warning),
                rx.flex(
                    rx.button("Oui, enregistrer ce statut", type="button", size="2", on_click=S.confirm_status,
                              disabled=S.status_saving),
                    rx.button("Non", type="button", size="2", variant="outline",
                              on_click=S.set_chosen_status(S.status)),
                    spacing="3", wrap="wrap", margin_top="0.5rem",
                ),
                role="alert", class_name="warning-box",
            ),
            rx.fragment(),
        ),
        status_region(S.action_message),
        rx.cond(
            S.cancelled,
            rx.fragment(),
            rx.box(rx.button(rx.icon("calendar-x", size=16), "Annuler le rendez-vous", type="button", size="3",
                             variant="outline", color_scheme="red", on_click=S.set_cancel_open(True))),
        ),
        aria_labelledby=STATUS_HEADING_ID,
        class_name="planning-section",
    )


def _cancel_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Annuler ce rendez-vous ?"),
            rx.alert_dialog.description(
                "Les participants dont les notifications sont activées sont prévenus de l'annulation. "
                "Indiquez qui est à l'origine de l'annulation."),
            rx.flex(
                rx.el.button(rx.cond(S.cancelling, rx.spinner(size="2"), rx.fragment()),
                             "Annuler par le service", type="button", disabled=S.cancelling,
                             on_click=RdvPageState.cancel_rdv(False), class_name="danger-button"),
                # A collective RDV is only ever cancelled by the service (domain.md section 1).
                rx.cond(S.collectif, rx.fragment(),
                        rx.el.button("Annuler à la demande de l'usager (excusé)", type="button",
                                     disabled=S.cancelling, on_click=RdvPageState.cancel_rdv(True),
                                     class_name="danger-button")),
                rx.alert_dialog.cancel(rx.button("Ne pas annuler", variant="outline", size="3")),
                justify="end", spacing="3", margin_top="1rem", wrap="wrap",
            ),
        ),
        open=S.cancel_open,
        on_open_change=S.set_cancel_open,
    )


# --------------------------------------------------------------------------- edit


def _agent_checkbox(option: Option) -> rx.Component:
    return checkbox(option.label, initial=S.edit_agent_ids.contains(option.value), key=S.form_key,
                    on_change=lambda checked: RdvPageState.toggle_edit_agent(option.value, checked))


def _warnings() -> rx.Component:
    return rx.cond(
        S.warnings.length() > 0,
        rx.el.div(
            rx.heading("Vérifiez avant d'enregistrer", as_="h3", size="4"),
            rx.el.ul(rx.foreach(S.warnings, lambda w: rx.el.li(w))),
            rx.hstack(
                rx.button(rx.cond(S.saving, rx.spinner(size="2"), rx.icon("check", size=16)),
                          "Confirmer quand même", type="button", size="3", disabled=S.saving,
                          on_click=RdvPageState.save_edit(True)),
                rx.button("Revenir au formulaire", type="button", size="3", variant="outline",
                          on_click=S.dismiss_warnings),
                spacing="3", wrap="wrap",
            ),
            role="alert",
            class_name="warning-box",
        ),
        rx.fragment(),
    )


def _session_fields() -> rx.Component:
    key = S.form_key
    return rx.fragment(
        rx.box(input_field("rdv-nom-atelier", "Nom de l'atelier (facultatif)", initial=S.edit_name, key=key,
                           on_change=S.set_edit_name, required=False, error=_error_for("name"),
                           hint="Montré aux participants, dans les SMS et les emails.", max_length=255),
               sms_name_warning("rdv-nom-atelier", S.edit_name_warning),
               max_width="36rem"),
        fieldset(
            "rdv-places", "Places",
            checkbox("Places illimitées", initial=S.edit_unlimited, key=key, on_change=S.set_edit_unlimited),
            rx.cond(S.edit_unlimited, rx.fragment(),
                    rx.box(input_field("rdv-nombre-places", "Nombre de places", initial=S.edit_seats, key=key,
                                       type_="number", min=1, max=1000, on_change=S.set_edit_seats, error=""),
                           max_width="14rem")),
            error=_error_for("max_participants_count"),
            hint="Jamais moins que le nombre de participants inscrits.",
        ),
    )


def _edit_form() -> rx.Component:
    key = S.form_key
    return rx.form(
        error_summary(S.error_links),
        rx.cond(S.collectif, _session_fields(), rx.fragment()),
        rx.grid(
            input_field("rdv-date", "Date", initial=S.edit_day, key=key, type_="date", on_change=S.set_edit_day,
                        error=_error_for("day")),
            input_field("rdv-heure", "Heure de début", initial=S.edit_time, key=key, type_="time", step=300,
                        on_change=S.set_edit_time, error=_error_for("start_time")),
            input_field("rdv-duree", "Durée (minutes)", initial=S.edit_duration, key=key, input_mode="numeric",
                        auto_complete="off", on_change=S.set_edit_duration, error=_error_for("duration_in_min")),
            columns=rx.breakpoints(initial="1", md="3"), spacing="4", width="100%",
        ),
        rx.cond(
            S.lieu_choices.length() > 0,
            rx.box(select_field("rdv-lieu", "Lieu", value=S.edit_lieu_id, on_change=S.set_edit_lieu,
                                options=S.lieu_choices, placeholder="Choisissez un lieu", required=True,
                                error=_error_for("lieu_id")),
                   max_width="28rem"),
            rx.fragment(),
        ),
        rx.cond(
            S.edit_lieu_id == SINGLE_USE,
            rx.grid(
                input_field("rdv-lieu-ponctuel-nom", "Nom du lieu ponctuel", initial=S.edit_single_use_name, key=key,
                            on_change=S.set_edit_single_use_name, error=_error_for("single_use_name"),
                            hint="Par exemple « Salle de la mairie annexe »."),
                input_field("rdv-lieu-ponctuel-adresse", "Adresse du lieu ponctuel",
                            initial=S.edit_single_use_address, key=key, on_change=S.set_edit_single_use_address,
                            error=_error_for("single_use_address"),
                            hint="Utilisée pour ce RDV seulement : elle ne rejoint pas les lieux de l'organisation."),
                columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%",
            ),
            rx.fragment(),
        ),
        fieldset("rdv-agents", "Agents",
                 rx.el.div(rx.foreach(S.agent_choices, _agent_checkbox), class_name="choice-row"),
                 error=_error_for("agent_ids"), hint="Cochez au moins un agent."),
        form_alert(S.form_error),
        _warnings(),
        rx.hstack(
            rx.button(rx.cond(S.saving, rx.spinner(size="2"), rx.icon("save", size=16)),
                      "Enregistrer les modifications", type="submit", size="3", disabled=S.saving),
            rx.button("Annuler la modification", type="button", size="3", variant="outline",
                      on_click=S.cancel_edit),
            spacing="3", wrap="wrap",
        ),
        no_validate=True, on_submit=lambda _form: RdvPageState.save_edit(False),
        aria_labelledby=EDIT_HEADING_ID,
        class_name="stack-form",
    )


def _edit() -> rx.Component:
    return rx.el.section(
        rx.heading(rx.cond(S.collectif, "Modifier l'atelier", "Modifier le rendez-vous"), as_="h2", size="5",
                   id=EDIT_HEADING_ID, tab_index=-1),
        rx.cond(
            S.editing,
            _edit_form(),
            rx.box(rx.button(rx.icon("pencil", size=16),
                             rx.cond(S.collectif, "Modifier le nom, la date, le lieu, les agents ou les places",
                                     "Modifier la date, la durée, le lieu ou les agents"),
                             type="button", size="3", variant="outline", on_click=S.start_edit)),
        ),
        aria_labelledby=EDIT_HEADING_ID,
        class_name="planning-section",
    )


def _dup_error_for(field: str) -> rx.Var:
    return rx.cond(S.dup_error_field == field, S.dup_error, "")


def _duplicate_form() -> rx.Component:
    key = S.dup_key
    return rx.form(
        rx.text("Le nouvel atelier reprend le motif, le nom, la durée, le lieu, les agents et les places de "
                "celui-ci, sans ses participants."),
        rx.grid(
            input_field("dupliquer-date", "Date du nouvel atelier", initial=S.dup_day, key=key, type_="date",
                        on_change=S.set_dup_day, error=_dup_error_for("day")),
            input_field("dupliquer-heure", "Heure de début", initial=S.dup_time, key=key, type_="time", step=300,
                        on_change=S.set_dup_time, error=_dup_error_for("start_time")),
            columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%", max_width="36rem",
        ),
        form_alert(rx.cond((S.dup_error_field == "day") | (S.dup_error_field == "start_time"), "", S.dup_error)),
        rx.hstack(
            rx.button(rx.cond(S.dup_busy, rx.spinner(size="2"), rx.icon("copy", size=16)), "Créer la copie",
                      type="submit", size="3", disabled=S.dup_busy),
            rx.button("Annuler", type="button", size="3", variant="outline", on_click=S.cancel_duplicate),
            spacing="3", wrap="wrap",
        ),
        no_validate=True, on_submit=lambda _form: RdvPageState.duplicate(),
        aria_labelledby=DUPLICATE_HEADING_ID,
        class_name="stack-form",
    )


def _duplicate() -> rx.Component:
    return rx.el.section(
        rx.heading("Dupliquer l'atelier", as_="h2", size="5", id=DUPLICATE_HEADING_ID, tab_index=-1),
        rx.cond(
            S.duplicating,
            _duplicate_form(),
            rx.box(rx.button(rx.icon("copy", size=16), "Dupliquer à une autre date", type="button", size="3",
                             variant="outline", on_click=S.start_duplicate)),
        ),
        aria_labelledby=DUPLICATE_HEADING_ID,
        class_name="planning-section",
    )


# --------------------------------------------------------------------------- history and receipts


def _history_entry(row: HistoryRow) -> rx.Component:
    return rx.el.li(
        rx.text(rx.el.strong(row.action), " par " + row.author + ", le " + row.when),
        rx.el.ul(rx.foreach(row.details, lambda line: rx.el.li(line)), class_name="details-list"),
        class_name="history-entry",
    )


def _history() -> rx.Component:
    return rx.el.section(
        rx.heading("Historique", as_="h2", size="5", id="historique-rdv-titre"),
        rx.text("Du plus récent au plus ancien.", color=styles.TEXT_MUTED, size="2"),
        rx.el.ol(rx.foreach(S.history, _history_entry), class_name="history-list"),
        aria_labelledby="historique-rdv-titre",
        class_name="planning-section",
    )


def _receipt(row: ReceiptRow) -> rx.Component:
    return rx.el.li(
        rx.hstack(rx.text(rx.el.strong(row.channel + " · " + row.event)),
                  rx.el.span(row.result, class_name=rx.cond(row.failed, "status-badge failed-badge", "status-badge")),
                  align="center", spacing="3", wrap="wrap"),
        rx.el.dl(
            rx.el.dt("Destinataire"),
            rx.el.dd(row.recipient + rx.cond(row.destination != "", " (" + row.destination + ")", "")),
            rx.el.dt("Date"), rx.el.dd(row.when),
            rx.cond(row.segments != "", rx.fragment(rx.el.dt("Segments SMS"), rx.el.dd(row.segments)), rx.fragment()),
            rx.cond(row.error != "", rx.fragment(rx.el.dt("Erreur"), rx.el.dd(row.error)), rx.fragment()),
            class_name="identity-list",
        ),
        class_name="planning-row receipt-row",
    )


RECEIPTS_LIST = "notifications-rdv-liste"


def _receipts() -> rx.Component:
    """The most recent receipts (RECEIPTS_SHOWN), the others behind a button."""
    return rx.el.section(
        rx.heading("Notifications envoyées", as_="h2", size="5", id="notifications-rdv-titre"),
        rx.hstack(
            rx.text("Accusés des SMS et emails envoyés pour ce rendez-vous, du plus récent au plus ancien.",
                    color=styles.TEXT_MUTED, size="2"),
            rx.button(rx.cond(S.receipts_loading, rx.spinner(size="2"), rx.icon("refresh-cw", size=16)),
                      "Actualiser", type="button", size="2", variant="outline", on_click=S.reload_receipts),
            align="center", spacing="3", wrap="wrap",
        ),
        rx.cond(S.receipts.length() > 0,
                rx.el.ul(rx.foreach(S.shown_receipts, _receipt), id=RECEIPTS_LIST, class_name="planning-list"),
                rx.text("Aucune notification envoyée pour l'instant.")),
        rx.cond(
            S.older_receipts > 0,
            rx.button(rx.cond(S.receipts_expanded, f"Afficher seulement les {RECEIPTS_SHOWN} plus récentes",
                              "Afficher les " + S.older_receipts.to_string() + " autres notifications"),
                      type="button", variant="outline", size="2", on_click=S.toggle_receipts,
                      aria_expanded=rx.cond(S.receipts_expanded, "true", "false"), aria_controls=RECEIPTS_LIST),
            rx.fragment(),
        ),
        aria_labelledby="notifications-rdv-titre",
        class_name="planning-section",
    )


# --------------------------------------------------------------------------- page


def _rdv() -> rx.Component:
    return rx.vstack(
        _back_link(),
        rx.heading("Rendez-vous : " + S.motif_name, as_="h1", size="7"),
        rx.hstack(rx.text(S.day + " à " + S.time, weight="medium"), badge(S.status_label), align="center",
                  spacing="3", wrap="wrap"),
        _details(),
        # Every control that changes the RDV, disabled until the RDV of the address is loaded.
        loaded_fieldset(
            rx.vstack(_participants(), _status(), _edit(), rx.cond(S.collectif, _duplicate(), rx.fragment()),
                      spacing="5", width="100%"),
            loaded_for=S.loaded_for),
        _history(),
        _receipts(),
        _cancel_dialog(),
        spacing="5",
        width="100%",
        class_name="rdv-page",
    )


def _unavailable() -> rx.Component:
    return rx.vstack(
        rx.heading(S.unavailable_title, as_="h1", size="7"),
        rx.el.p(S.unavailable_message, class_name="info-box"),
        _back_link(),
        spacing="4",
        width="100%",
    )


@agent_page(routes.RDV_PAGE, "Rendez-vous", load=RdvPageState.load)
def rdv_page() -> rx.Component:
    return rx.cond(
        S.loading,
        loading_block("Chargement du rendez-vous…"),
        rx.cond(S.unavailable_title != "", _unavailable(), _rdv()),
    )
