"""Agents of the organisation (admins): search, invitations, level, removal."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes, styles
from rdv_app.components.forms import form_alert, text_field
from rdv_app.components.layout import loading_block
from rdv_app.components.planning import status_region
from rdv_app.domain.enums import AccessLevel
from rdv_app.pages.template import agent_page
from rdv_app.state.admin_agents import SERVICE_PREFIX, AdminAgentsState, AgentRow

INVITE_HEADING_ID = "inviter-agent-titre"


def _tag(text: str) -> rx.Component:
    return rx.el.span(text, class_name="status-badge")


def _actions(row: AgentRow) -> rx.Component:
    name = rx.cond(row.name != "—", row.name, row.email)
    return rx.hstack(
        rx.cond(row.pending, rx.button("Renvoyer l'invitation", variant="outline", size="2",
                                       on_click=AdminAgentsState.resend(row.id),
                                       aria_label="Renvoyer l'invitation à " + row.email)),
        rx.cond(
            row.is_self, rx.fragment(),
            rx.fragment(
                rx.cond(row.is_admin,
                        rx.button("Retirer les droits d'administrateur", variant="outline", size="2",
                                  on_click=AdminAgentsState.set_level(row.id, AccessLevel.BASIC.value),
                                  aria_label="Retirer les droits d'administrateur de " + name),
                        rx.button("Nommer administrateur", variant="outline", size="2",
                                  on_click=AdminAgentsState.set_level(row.id, AccessLevel.ADMIN.value),
                                  aria_label="Nommer administrateur " + name)),
                rx.button("Retirer", variant="outline", color_scheme="red", size="2",
                          on_click=AdminAgentsState.ask_removal(row.id), aria_label="Retirer " + name),
            ),
        ),
        spacing="2", wrap="wrap",
    )


def agents_table() -> rx.Component:
    return rx.cond(
        AdminAgentsState.rows.length() > 0,
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col")
                                           for h in ("Nom", "Email", "Services", "Niveau", "Actions")])),
            rx.table.body(rx.foreach(AdminAgentsState.rows, lambda row: rx.table.row(
                rx.table.row_header_cell(rx.hstack(
                    rx.text(row.name),
                    rx.cond(row.is_self, _tag("vous")),
                    rx.cond(row.pending, _tag("Invitation en attente")),
                    rx.cond(row.inactive, _tag("Inactif")),
                    spacing="2", wrap="wrap", align="center")),
                rx.table.cell(row.email), rx.table.cell(row.services), rx.table.cell(row.level),
                rx.table.cell(_actions(row)),
            ))),
            variant="surface", width="100%",
        ),
        rx.text("Aucun agent ne correspond à cette recherche."),
    )


def removal_confirmation() -> rx.Component:
    return rx.cond(
        AdminAgentsState.removing_id != "",
        rx.el.section(
            rx.text(AdminAgentsState.removal_text),
            rx.hstack(
                rx.button("Confirmer le retrait", color_scheme="red", on_click=AdminAgentsState.confirm_removal,
                          id="confirmer-retrait", auto_focus=True),
                rx.button("Annuler", variant="outline", on_click=AdminAgentsState.cancel_removal),
                spacing="3",
            ),
            class_name="info-box", aria_label="Confirmer le retrait",
        ),
    )


def search_form() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.box(
                rx.el.label("Rechercher un agent", html_for="recherche-agent", class_name="field-label"),
                rx.el.input(id="recherche-agent", name="query", type="search", placeholder="Prénom, Nom, Email",
                            class_name="text-input"),
            ),
            rx.button("Rechercher", type="submit", variant="outline", size="3"),
            align="end", spacing="3", wrap="wrap",
        ),
        on_submit=AdminAgentsState.search,
        reset_on_submit=False,
        role="search",
    )


def invite_form() -> rx.Component:
    def error_for(field: str) -> rx.Var:
        return rx.cond(AdminAgentsState.invite_error_field == field, AdminAgentsState.invite_error, "")

    return rx.el.section(
        rx.heading("Inviter un agent", as_="h2", size="5", id=INVITE_HEADING_ID),
        rx.form(
            rx.vstack(
                form_alert(rx.cond(AdminAgentsState.invite_error_field == "", AdminAgentsState.invite_error, "")),
                text_field("email", "Adresse email", type_="email",
                           hint="Une invitation sera envoyée automatiquement à cette adresse.", error=error_for("email")),
                rx.el.fieldset(
                    rx.el.legend("Niveau de permissions", class_name="field-label"),
                    rx.el.label(rx.el.input(type="radio", name="access_level", value=AccessLevel.BASIC.value,
                                            default_checked=True), "Agent", class_name="checkbox-label"),
                    rx.el.label(rx.el.input(type="radio", name="access_level", value=AccessLevel.ADMIN.value),
                                "Administrateur", class_name="checkbox-label"),
                    rx.el.p(error_for("access_level"), class_name="field-error", aria_live="polite"),
                    class_name="fieldset",
                ),
                rx.el.fieldset(
                    rx.el.legend("Services", class_name="field-label"),
                    rx.cond(AdminAgentsState.services.length() > 0,
                            rx.vstack(rx.foreach(AdminAgentsState.services, lambda s: rx.el.label(
                                rx.el.input(type="checkbox", name=SERVICE_PREFIX + s.id), s.name,
                                class_name="checkbox-label")), spacing="2"),
                            rx.text("Ce territoire n'offre encore aucun service.")),
                    rx.el.p(error_for("service_ids"), class_name="field-error", aria_live="polite"),
                    class_name="fieldset",
                ),
                rx.button(
                    rx.cond(AdminAgentsState.inviting, rx.spinner(size="2"), rx.fragment()),
                    rx.cond(AdminAgentsState.inviting, "Envoi en cours…", "Envoyer l'invitation"),
                    type="submit", size="3", disabled=AdminAgentsState.inviting,
                ),
                spacing="4", width="100%", key=AdminAgentsState.invite_key.to_string(),
            ),
            on_submit=AdminAgentsState.invite,
            reset_on_submit=False,
            aria_labelledby=INVITE_HEADING_ID,
            width="100%",
        ),
        max_width=styles.NARROW_WIDTH,
        width="100%",
    )


@agent_page(routes.ADMIN_AGENTS, "Agents", load=AdminAgentsState.load)
def admin_agents() -> rx.Component:
    return rx.vstack(
        rx.heading(rx.cond(AdminAgentsState.organisation_name != "", "Agents de " + AdminAgentsState.organisation_name,
                           "Agents"), as_="h1", size="7"),
        rx.cond(
            AdminAgentsState.loading,
            loading_block("Chargement des agents…"),
            rx.cond(
                AdminAgentsState.denied != "",
                form_alert(AdminAgentsState.denied),
                rx.fragment(
                    status_region(AdminAgentsState.message),
                    form_alert(AdminAgentsState.error),
                    search_form(),
                    removal_confirmation(),
                    agents_table(),
                    invite_form(),
                ),
            ),
        ),
        spacing="5",
        width="100%",
    )
