"""Agents du territoire: search as you type, per-agent dialog (services, access rights, territorial admin),
and "Inviter un agent" into organisations of the territory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx
from reflex.event import EventCallback

from rdv_app import routes, styles
from rdv_app.components.forms import form_alert, loaded_fieldset, text_field
from rdv_app.components.layout import loading_block
from rdv_app.components.planning import status_region
from rdv_app.domain.enums import AccessLevel
from rdv_app.pages.template import agent_page
from rdv_app.state.checked_services import SERVICE_PREFIX
from rdv_app.state.territory_agents import (
    LEVEL_PREFIX,
    ORGANISATION_PREFIX,
    CheckOption,
    ChoiceOption,
    TerritoryAgentRow,
)
from rdv_app.state.territory_agents import TerritoryAgentsState as State

INVITE_HEADING_ID = "inviter-agent-territoire-titre"
SERVICES_HEADING_ID = "attribuer-services-titre"
RIGHTS_HEADING_ID = "droits-acces-titre"


def _tag(text: str) -> rx.Component:
    return rx.el.span(text, class_name="status-badge")


def search_field() -> rx.Component:
    return rx.box(
        rx.el.label("Rechercher un agent", html_for="recherche-agent-territoire", class_name="field-label"),
        rx.text("Prénom, nom ou email ; la liste se met à jour pendant la saisie.", id="recherche-agent-territoire-aide",
                class_name="field-hint"),
        rx.debounce_input(rx.el.input(id="recherche-agent-territoire", type="search", value=State.query,
                                      on_change=State.set_query, aria_describedby="recherche-agent-territoire-aide",
                                      aria_controls="agents-territoire", class_name="text-input", auto_complete="off"),
                          debounce_timeout=300),
        role="search",
        max_width=styles.NARROW_WIDTH,
        width="100%",
    )


def _agent_row(row: TerritoryAgentRow) -> rx.Component:
    name = rx.cond(row.name != "—", row.name, row.email)
    return rx.table.row(
        rx.table.row_header_cell(rx.hstack(
            rx.text(row.name),
            rx.cond(row.is_self, _tag("vous")),
            rx.cond(row.territorial_admin, _tag("Admin de territoire")),
            rx.cond(row.pending, _tag("Invitation en attente")),
            spacing="2", wrap="wrap", align="center")),
        rx.table.cell(row.email),
        rx.table.cell(row.organisations),
        rx.table.cell(row.services),
        rx.table.cell(rx.cond(State.may_manage_rights | State.is_territorial_admin_here,
                              rx.button("Gérer", variant="outline", size="2", on_click=State.open_agent(row.id),
                                        aria_label="Gérer " + name),
                              rx.text("—"))),
    )


def agents_table() -> rx.Component:
    return rx.box(
        rx.el.p(State.rows.length().to_string() + " agent(s)", role="status", class_name="field-hint"),
        rx.cond(
            State.rows.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col") for h in
                                               ("Nom", "Email", "Organisations", "Services", "Actions")])),
                rx.table.body(rx.foreach(State.rows, _agent_row)),
                variant="surface", width="100%",
            ),
            rx.text("Aucun agent ne correspond à cette recherche."),
        ),
        id="agents-territoire",
        width="100%",
    )


def _checkbox(option: CheckOption, prefix: str) -> rx.Component:
    return rx.el.label(rx.el.input(type="checkbox", name=prefix + option.key, default_checked=option.checked),
                       option.label, class_name="checkbox-label")


def _service_checkbox(option: CheckOption) -> rx.Component:
    return _checkbox(option, SERVICE_PREFIX)


def _right_checkbox(option: CheckOption) -> rx.Component:
    return _checkbox(option, "")


def _checks_form(heading: str, heading_id: str, legend: str, checks: rx.Var, checkbox: Callable, button: str,
                 on_submit: EventCallback[dict[str, Any]], key: str) -> rx.Component:
    """A section of the agent's dialog: checkboxes saved by one button."""
    return rx.el.section(
        rx.heading(heading, as_="h2", size="4", id=heading_id),
        rx.form(loaded_fieldset(
            rx.el.fieldset(
                rx.el.legend(legend, class_name="field-label"),
                rx.vstack(rx.foreach(checks, checkbox), spacing="2"),
                class_name="fieldset",
            ),
            rx.button(button, type="submit", size="2"),
            loaded_for=State.loaded_for, class_name="stack-form"),
            no_validate=True, on_submit=on_submit,
            reset_on_submit=False,
            aria_labelledby=heading_id,
            key=State.dialog_key.to_string() + key,
        ),
    )


def services_form() -> rx.Component:
    return _checks_form("Attribuer des services", SERVICES_HEADING_ID, "Services de l'agent (au moins un)",
                        State.service_checks, _service_checkbox, "Enregistrer les services", State.save_services,
                        "-services")


def rights_form() -> rx.Component:
    return _checks_form("Droits d'accès", RIGHTS_HEADING_ID, "Droits sur le territoire", State.right_checks,
                        _right_checkbox, "Enregistrer les droits d'accès", State.save_rights, "-droits")


def territorial_admin_box() -> rx.Component:
    return rx.el.section(
        rx.heading("Admin de territoire", as_="h2", size="4"),
        rx.cond(
            State.editing_admin,
            rx.vstack(
                rx.text(State.editing_name + " est administrateur de ce territoire."),
                rx.button("Retirer le rôle d'admin de territoire", variant="outline", color_scheme="red", size="2",
                          on_click=State.set_territorial_admin(False)),
                spacing="2",
            ),
            rx.button("Nommer admin de territoire", variant="outline", size="2",
                      on_click=State.set_territorial_admin(True)),
        ),
    )


def agent_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(State.editing_name),
            rx.dialog.description("Services, droits d'accès et rôle sur le territoire de cet agent."),
            rx.vstack(
                status_region(State.dialog_message),
                form_alert(State.dialog_error),
                rx.cond(State.may_manage_rights, services_form()),
                rx.cond(State.may_manage_rights & (~State.editing_self | State.is_territorial_admin_here),
                        rights_form()),
                rx.cond(State.is_territorial_admin_here, territorial_admin_box()),
                rx.flex(rx.dialog.close(rx.button("Fermer", type="button", variant="outline", size="3")),
                        justify="end", width="100%"),
                spacing="4", width="100%",
            ),
            max_width="40rem",
        ),
        open=State.editing_id != "",
        on_open_change=State.dialog_open_change,
    )


def _organisation_choice(option: ChoiceOption) -> rx.Component:
    level_id = "niveau-organisation-" + option.id
    return rx.hstack(
        rx.el.label(rx.el.input(type="checkbox", name=ORGANISATION_PREFIX + option.id), option.name,
                    class_name="checkbox-label"),
        rx.el.label("Niveau dans " + option.name, html_for=level_id, class_name="visually-hidden"),
        rx.el.select(
            rx.el.option("Agent (basique)", value=AccessLevel.BASIC.value),
            rx.cond(option.may_grant_admin, rx.el.option("Administrateur", value=AccessLevel.ADMIN.value)),
            id=level_id, name=LEVEL_PREFIX + option.id, class_name="text-input", width="auto",
        ),
        align="center", spacing="3", wrap="wrap",
    )


def invite_form() -> rx.Component:
    def error_for(field: str) -> rx.Var:
        return rx.cond(State.invite_error_field == field, State.invite_error, "")

    return rx.el.section(
        rx.heading("Inviter un agent", as_="h2", size="5", id=INVITE_HEADING_ID),
        rx.form(loaded_fieldset(
            rx.vstack(
                form_alert(rx.cond((State.invite_error_field == "") | (State.invite_error_field == "placements"),
                                   State.invite_error, "")),
                text_field("email", "Adresse email", type_="email",
                           hint="Une invitation sera envoyée automatiquement à cette adresse ; un agent déjà inscrit "
                                "rejoint simplement les organisations choisies.", error=error_for("email")),
                rx.el.fieldset(
                    rx.el.legend("Organisations et niveau", class_name="field-label"),
                    rx.vstack(rx.foreach(State.invite_organisations, _organisation_choice), spacing="2"),
                    class_name="fieldset",
                ),
                rx.el.fieldset(
                    rx.el.legend("Services", class_name="field-label"),
                    rx.vstack(rx.foreach(State.services, lambda s: rx.el.label(
                        rx.el.input(type="checkbox", name=SERVICE_PREFIX + s.id), s.name,
                        class_name="checkbox-label")), spacing="2"),
                    rx.el.p(error_for("service_ids"), class_name="field-error", aria_live="polite"),
                    class_name="fieldset",
                ),
                rx.button(
                    rx.cond(State.inviting, rx.spinner(size="2"), rx.fragment()),
                    rx.cond(State.inviting, "Envoi en cours…", "Envoyer une invitation"),
                    type="submit", size="3", disabled=State.inviting,
                ),
                spacing="4", width="100%", key=State.invite_key.to_string(),
            ),
            loaded_for=State.loaded_for),
            no_validate=True, on_submit=State.invite,
            reset_on_submit=False,
            aria_labelledby=INVITE_HEADING_ID,
            width="100%",
        ),
        max_width=styles.NARROW_WIDTH,
        width="100%",
    )


@agent_page(routes.ADMIN_TERRITORY_AGENTS, "Agents du territoire", load=State.load)
def territory_agents() -> rx.Component:
    return rx.vstack(
        rx.heading("Agents du territoire", as_="h1", size="7"),
        rx.cond(
            State.loading,
            loading_block("Chargement des agents…"),
            rx.cond(
                State.denied != "",
                form_alert(State.denied),
                rx.fragment(
                    rx.text(State.territory_name, color=styles.TEXT_MUTED),
                    status_region(State.message),
                    search_field(),
                    agents_table(),
                    agent_dialog(),
                    rx.cond(State.may_invite, invite_form()),
                ),
            ),
        ),
        spacing="5",
        width="100%",
    )
