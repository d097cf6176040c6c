"""The agenda: day, week and month views of the agents' RDVs, plages and indisponibilités."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes, styles
from rdv_app.components.calendar import fullcalendar
from rdv_app.components.forms import form_alert
from rdv_app.pages.template import template
from rdv_app.state.agenda import AgendaState, AgentChoice
from rdv_app.state.agent import AgentState


def _agent_checkbox(choice: AgentChoice) -> rx.Component:
    return rx.el.label(
        rx.el.input(type="checkbox", checked=AgendaState.shown_agents.contains(choice.value),
                    on_change=lambda checked: AgendaState.toggle_agent(choice.value, checked)),
        choice.label,
        class_name="checkbox-label",
    )


def _details() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(AgendaState.selected_title),
            rx.dialog.description("Détails du rendez-vous", class_name="visually-hidden"),
            rx.el.ul(rx.foreach(AgendaState.selected_lines, rx.el.li), class_name="details-list"),
            rx.dialog.close(rx.button("Fermer", on_click=AgendaState.close_event, variant="soft")),
        ),
        open=AgendaState.selected_title != "",
        on_open_change=lambda _open: AgendaState.close_event(),
    )


@template(routes.AGENDA, "Agenda", on_load=[AgentState.require_agent, AgendaState.load], layout="workspace")
def agenda_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Agenda", as_="h1", size="7"),
        rx.el.fieldset(
            rx.el.legend("Agendas affichés", class_name="field-label"),
            rx.flex(rx.foreach(AgendaState.agent_choices, _agent_checkbox), wrap="wrap", spacing="4"),
            class_name="agents-fieldset",
        ),
        form_alert(AgendaState.error),
        rx.box(
            fullcalendar(
                events=AgendaState.events,
                time_zone="UTC",  # events carry the organisation's wall-clock times: shown as given
                now=AgendaState.now_local,
                hidden_days=AgendaState.hidden_days,
                slot_min_time="07:00:00",
                slot_max_time="20:00:00",
                all_day_slot=False,
                now_indicator=True,
                height="auto",
                dates_set=AgendaState.range_changed,
                event_click=AgendaState.open_event,
            ),
            width="100%",
            class_name="agenda-calendar",
        ),
        rx.text("Les rendez-vous d'autres organisations apparaissent en gris, sans détail.", size="2",
                color=styles.TEXT_MUTED),
        _details(),
        spacing="4",
        width="100%",
    )
