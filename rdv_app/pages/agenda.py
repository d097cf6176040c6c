"""The agenda: day, week and month views of the agents' RDVs, plages and indisponibilités."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes, styles
from rdv_app.components.calendar import fullcalendar
from rdv_app.components.fields import select_field
from rdv_app.components.forms import form_alert
from rdv_app.components.layout import loading_block
from rdv_app.pages.template import agent_page
from rdv_app.state.agenda import AgendaState, AgentChoice, ListedEvent


def _agent_checkbox(choice: AgentChoice) -> rx.Component:
    return rx.el.label(
        rx.el.input(type="checkbox", checked=AgendaState.shown_agents.contains(choice.value),
                    on_change=lambda checked: AgendaState.toggle_agent(choice.value, checked)),
        # The legend: the initials and colour this agent's events carry when several agendas are shown.
        rx.el.span(choice.initials, class_name="agent-chip", style={"background_color": choice.colour},
                   aria_hidden="true"),
        choice.label,
        class_name="checkbox-label",
    )


LIST_ID = "agenda-liste"


def _listed_row(line: ListedEvent) -> rx.Component:
    return rx.el.tr(
        rx.el.td(line.day), rx.el.td(line.hours),
        rx.el.td(rx.cond(line.href != "", rx.link(line.text, href=line.href, class_name="inline-link"), line.text)),
    )


def _list_view() -> rx.Component:
    """The events shown by the calendar as a table, by day and time: read by screen readers in order, and
    printed alone (styles.css)."""
    return rx.cond(
        AgendaState.list_open,
        rx.el.section(
            rx.heading("Liste des événements affichés", as_="h2", size="4", id="agenda-liste-titre"),
            rx.cond(
                AgendaState.listed.length() > 0,
                rx.el.table(
                    rx.el.thead(rx.el.tr(rx.el.th("Jour", scope="col"), rx.el.th("Horaire", scope="col"),
                                         rx.el.th("Événement", scope="col"))),
                    rx.el.tbody(rx.foreach(AgendaState.listed, _listed_row)),
                    class_name="admin-table",
                ),
                rx.text("Aucun événement sur la période affichée."),
            ),
            id=LIST_ID, aria_labelledby="agenda-liste-titre", class_name="agenda-list",
        ),
        rx.el.div(id=LIST_ID),
    )


def _created() -> rx.Component:
    """Always in the page, so that the message is announced when it appears."""
    return rx.el.div(
        rx.cond(
            AgendaState.created_message != "",
            rx.el.p(AgendaState.created_message, " ",
                    rx.link("Voir le RDV", href=AgendaState.created_link, class_name="inline-link"),
                    class_name="success-box"),
            rx.fragment(),
        ),
        role="status",
        width="100%",
    )


def _new_rdv_dialog() -> rx.Component:
    """After a click on an empty time (or the button): the motif, and the agent when several agendas
    are shown; the RDV is then planned on its own page."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Planifier un RDV"),
            rx.dialog.description(
                rx.cond(AgendaState.new_rdv_label != "", AgendaState.new_rdv_label,
                        "Vous choisirez la date et l'heure à l'étape suivante."),
            ),
            rx.form(
                select_field("nouveau-rdv-motif", "Motif", value=AgendaState.new_rdv_motif,
                             on_change=AgendaState.set_new_rdv_motif, options=AgendaState.motif_choices,
                             placeholder="Choisissez un motif", error=AgendaState.new_rdv_error),
                rx.cond(
                    AgendaState.shown_agents.length() > 1,
                    select_field("nouveau-rdv-agent", "Agent", value=AgendaState.new_rdv_agent,
                                 on_change=AgendaState.set_new_rdv_agent,
                                 options=AgendaState.shown_agent_choices, error=None),
                    rx.fragment(),
                ),
                rx.flex(
                    rx.dialog.close(rx.button("Annuler", type="button", variant="outline", size="3")),
                    rx.button(rx.icon("arrow-right", size=16), "Continuer", type="submit", size="3"),
                    justify="end", spacing="3", wrap="wrap",
                ),
                no_validate=True, on_submit=lambda _form: AgendaState.plan_new_rdv(),
                class_name="stack-form",
            ),
        ),
        open=AgendaState.new_rdv_open,
        on_open_change=AgendaState.close_new_rdv,
    )


@agent_page(routes.AGENDA, "Agenda", load=AgendaState.load)
def agenda_page() -> rx.Component:
    return rx.vstack(
        # Compact above the calendar, so that at 1280×720 its morning and afternoon show above the fold.
        rx.flex(
            rx.heading("Agenda", as_="h1", size="6", margin="0"),
            rx.button(rx.icon("plus", size=16), "Planifier un RDV", type="button", variant="outline", size="3",
                      on_click=AgendaState.ask_new_rdv_anytime),
            rx.text("ou cliquez sur un horaire libre de l'agenda.", color=styles.TEXT_MUTED),
            rx.button(rx.icon("list", size=16), "Liste", type="button", variant="outline", size="3",
                      on_click=AgendaState.toggle_list, aria_expanded=rx.cond(AgendaState.list_open, "true", "false"),
                      aria_controls=LIST_ID),
            # On a line of their own when they say something (no gap when empty).
            rx.box(form_alert(AgendaState.denied), form_alert(AgendaState.error), _created(), _list_view(),
                   width="100%"),
            align="center", column_gap="1.5rem", wrap="wrap",
        ),
        rx.el.fieldset(
            rx.el.legend("Agendas affichés", class_name="field-label"),
            rx.flex(rx.foreach(AgendaState.agent_choices, _agent_checkbox), wrap="wrap", spacing="3"),
            class_name="agents-fieldset agenda-legend",
        ),
        rx.box(
            rx.cond(
                AgendaState.calendar_ready,
                fullcalendar(
                    events=AgendaState.events,
                    time_zone="UTC",  # events carry the organisation's wall-clock times: shown as given
                    now=AgendaState.now_local,
                    initial_date=AgendaState.initial_date,
                    hidden_days=AgendaState.hidden_days,
                    slot_min_time="07:00:00",
                    slot_max_time="20:00:00",
                    scroll_time="08:00:00",
                    all_day_slot=False,
                    now_indicator=True,
                    height="100%",  # of .agenda-calendar: the screen's height below it; the hours scroll inside
                    dates_set=AgendaState.range_changed,
                    date_click=AgendaState.ask_new_rdv,
                ),
                loading_block("Chargement de l'agenda…"),
            ),
            width="100%",
            class_name="agenda-calendar",
        ),
        rx.text("Les rendez-vous d'autres organisations apparaissent en gris, sans détail.", size="2",
                color=styles.TEXT_MUTED),
        _new_rdv_dialog(),
        spacing="3",
        width="100%",
    )
