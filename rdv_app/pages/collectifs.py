"""RDV collectifs: the sessions to come with their fill ("6/8"), and "Créer un atelier"."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes, styles
from rdv_app.components.fields import checkbox, fieldset, input_field, select_field
from rdv_app.components.forms import form_alert, loaded_fieldset
from rdv_app.components.layout import loading_block
from rdv_app.components.planning import badge, sms_name_warning, status_region
from rdv_app.pages.template import agent_page
from rdv_app.state.collectifs import FORM_HEADING_ID, LIST_HEADING_ID, CollectifsState, SessionView

S = CollectifsState


def _error_for(field: str) -> rx.Var:
    return rx.cond(S.error_field == field, S.error_message, "")


def _row(row: SessionView) -> rx.Component:
    return rx.el.li(
        rx.vstack(
            rx.hstack(
                rx.link(rx.heading(row.title, as_="h3", size="4"), href=row.href),
                rx.el.span(row.fill, " participants", class_name="status-badge"),
                rx.cond(row.cancelled, badge(row.status), rx.fragment()),
                align="center", spacing="3", wrap="wrap",
            ),
            rx.text(row.when, " · ", row.lieu),
            spacing="2",
        ),
        class_name="planning-row",
    )


def session_list() -> rx.Component:
    return rx.el.section(
        rx.heading("Ateliers à venir", as_="h2", size="5", id=LIST_HEADING_ID, tab_index=-1),
        rx.cond(
            S.sessions.length() > 0,
            rx.el.ul(rx.foreach(S.sessions, _row), class_name="planning-list"),
            rx.text("Aucun atelier à venir."),
        ),
        aria_labelledby=LIST_HEADING_ID,
        class_name="planning-section",
    )


def session_form() -> rx.Component:
    key = S.form_key
    return rx.el.section(
        rx.heading("Créer un atelier", as_="h2", size="5", id=FORM_HEADING_ID, tab_index=-1),
        rx.cond(
            S.motifs.length() == 0,
            rx.text("Aucun motif collectif n'est accessible depuis votre compte : un administrateur de "
                    "l'organisation peut en créer un dans « Motifs »."),
            rx.form(loaded_fieldset(
                rx.grid(
                    select_field("atelier-motif", "Motif collectif", value=S.motif_id, on_change=S.set_motif,
                                 options=S.motifs, placeholder="Choisissez un motif", required=True,
                                 error=_error_for("motif_id")),
                    rx.box(input_field("atelier-nom", "Nom de l'atelier (facultatif)", initial=S.name, key=key,
                                       on_change=S.set_name, required=False, error=_error_for("name"),
                                       hint="Montré aux participants, dans les SMS et les emails."),
                           sms_name_warning("atelier-nom", S.name_warning), width="100%"),
                    select_field("atelier-lieu", "Lieu", value=S.lieu_id, on_change=S.set_lieu, options=S.lieux,
                                 placeholder="Choisissez un lieu", required=True, error=_error_for("lieu_id")),
                    columns=rx.breakpoints(initial="1", md="3"), spacing="4", width="100%",
                ),
                fieldset(
                    "atelier-agents", "Agents",
                    rx.el.div(rx.foreach(S.agents, lambda a: checkbox(
                        a.label, initial=S.agent_ids.contains(a.value), key=key,
                        on_change=lambda checked: S.toggle_agent(a.value, checked))), class_name="choice-row"),
                    error=_error_for("agent_ids"),
                ),
                rx.grid(
                    input_field("atelier-date", "Date", initial=S.day, key=key, type_="date", on_change=S.set_day,
                                error=_error_for("day")),
                    input_field("atelier-heure", "Heure de début", initial=S.start_time, key=key, type_="time",
                                step=300, on_change=S.set_start_time, error=_error_for("start_time")),
                    input_field("atelier-duree", "Durée (minutes)", initial=S.duration, key=key, type_="number",
                                min=1, max=1440, on_change=S.set_duration, error=_error_for("duration_in_min")),
                    input_field("atelier-seances", "Nombre de séances (une par semaine)", initial=S.weekly_count,
                                key=key, type_="number", min=1, max=26, on_change=S.set_weekly_count,
                                error=_error_for("weekly_count")),
                    columns=rx.breakpoints(initial="1", sm="2", lg="4"), spacing="4", width="100%",
                ),
                fieldset(
                    "atelier-places", "Places",
                    checkbox("Places illimitées", initial=S.unlimited, key=key, on_change=S.set_unlimited),
                    rx.cond(S.unlimited, rx.fragment(),
                            rx.box(input_field("atelier-nombre-places", "Nombre de places", initial=S.seats,
                                               key=key, type_="number", min=1, max=1000, on_change=S.set_seats,
                                               error=""),
                                   max_width="14rem")),
                    error=_error_for("max_participants_count"),
                ),
                form_alert(S.form_error),
                rx.button(rx.cond(S.saving, rx.spinner(size="2"), rx.icon("plus", size=16)), "Créer l'atelier",
                          type="submit", size="3", disabled=S.saving),
                status_region(S.saved_message),
                loaded_for=S.loaded_for, class_name="stack-form"),
                no_validate=True, on_submit=lambda _form: S.save(),
                aria_labelledby=FORM_HEADING_ID,
            ),
        ),
        class_name="planning-section",
    )


@agent_page(routes.COLLECTIFS, "RDV collectifs", load=S.load)
def collectifs_page() -> rx.Component:
    return rx.vstack(
        rx.heading("RDV collectifs", as_="h1", size="7"),
        rx.text("Ateliers et réunions d'information : plusieurs usagers inscrits à une même séance. Les "
                "participants, leur statut et l'annulation se gèrent depuis la page de chaque atelier.",
                color=styles.TEXT_MUTED),
        rx.cond(S.loading, loading_block("Chargement des ateliers…"),
                rx.cond(S.denied != "", form_alert(S.denied), rx.fragment(session_list(), session_form()))),
        spacing="5",
        width="100%",
    )
