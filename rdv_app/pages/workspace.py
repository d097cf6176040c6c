"""Agent pages: workspace home and "Mon compte"."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes, styles
from rdv_app.components.forms import text_field
from rdv_app.components.layout import loading_block
from rdv_app.pages.template import template
from rdv_app.state.agent import AgentState
from rdv_app.state.workspace import AccountState, WorkspaceState


def upcoming_table() -> rx.Component:
    return rx.cond(
        WorkspaceState.upcoming.length() > 0,
        rx.table.root(
            rx.table.header(rx.table.row(
                *[rx.table.column_header_cell(h, scope="col")
                  for h in ("Date", "Heure", "Motif", "Lieu", "Usagers", "Statut")]
            )),
            rx.table.body(rx.foreach(WorkspaceState.upcoming, lambda r: rx.table.row(
                rx.table.row_header_cell(r["day"]), rx.table.cell(r["time"]), rx.table.cell(r["motif"]),
                rx.table.cell(r["lieu"]), rx.table.cell(r["usagers"]), rx.table.cell(r["status"]),
            ))),
            variant="surface", width="100%",
        ),
        rx.text("Aucun rendez-vous à venir dans cette organisation."),
    )


@template(routes.WORKSPACE, "Accueil agent", on_load=[AgentState.require_agent, WorkspaceState.load],
          layout="workspace")
def workspace_home() -> rx.Component:
    return rx.vstack(
        rx.heading("Bonjour " + AgentState.first_name, as_="h1", size="7"),
        rx.text(AgentState.current_org_name + " · " + AgentState.current_access_level, color=styles.TEXT_MUTED),
        rx.heading("Vos prochains rendez-vous", as_="h2", size="5"),
        rx.cond(WorkspaceState.loading, loading_block("Chargement de vos rendez-vous…"), upcoming_table()),
        spacing="4",
        width="100%",
    )


def password_form() -> rx.Component:
    def error_for(field: str) -> rx.Var:
        return rx.cond(AccountState.password_field == field, AccountState.password_error, "")

    return rx.form(
        rx.vstack(
            text_field("current", "Mot de passe actuel", type_="password", autocomplete="current-password",
                       error=error_for("current")),
            text_field("new", "Nouveau mot de passe", type_="password", autocomplete="new-password",
                       hint="Au moins 12 caractères, dont un chiffre, une majuscule et un caractère spécial.",
                       error=error_for("new")),
            text_field("confirmation", "Confirmation du nouveau mot de passe", type_="password",
                       autocomplete="new-password", error=error_for("confirmation")),
            rx.cond(AccountState.password_saved,
                    rx.callout("Votre mot de passe a été modifié.", icon="check", color_scheme="green",
                               role="status"),
                    rx.fragment()),
            rx.button("Changer de mot de passe", type="submit"),
            spacing="3", width="100%",
        ),
        on_submit=AccountState.change_password,
        reset_on_submit=True,
        aria_label="Changer de mot de passe",
        max_width=styles.NARROW_WIDTH,
        width="100%",
    )


@template(routes.ACCOUNT, "Mon compte", on_load=AgentState.require_agent, layout="workspace")
def account() -> rx.Component:
    return rx.vstack(
        rx.heading("Mon compte", as_="h1", size="7"),
        rx.heading("Identité", as_="h2", size="5"),
        rx.el.dl(
            rx.el.dt("Nom"), rx.el.dd(AgentState.display_name),
            rx.el.dt("Adresse email"), rx.el.dd(AgentState.email),
            class_name="identity-list",
        ),
        rx.heading("Organisations", as_="h2", size="5"),
        rx.el.ul(rx.foreach(AgentState.organisations, lambda o: rx.el.li(o["name"] + " · " + o["level"]))),
        rx.heading("Mot de passe", as_="h2", size="5"),
        password_form(),
        spacing="4",
        width="100%",
    )
