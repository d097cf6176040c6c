"""Équipes of the territory: the list, a form to create or edit one (name and members), deletion."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes, styles
from rdv_app.components.admin import confirm_dialog
from rdv_app.components.forms import form_alert, loaded_fieldset
from rdv_app.components.layout import loading_block
from rdv_app.components.planning import status_region
from rdv_app.pages.template import agent_page
from rdv_app.state.territory_teams import MEMBER_PREFIX, MemberOption, TeamRow
from rdv_app.state.territory_teams import TerritoryTeamsState as State

FORM_HEADING_ID = "equipe-formulaire-titre"


def _team_row(row: TeamRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row.name),
        rx.table.cell(row.members),
        rx.table.cell(rx.hstack(
            rx.button("Modifier", variant="outline", size="2", on_click=State.edit(row.id),
                      aria_label="Modifier l'équipe " + row.name),
            rx.button("Supprimer", variant="outline", color_scheme="red", size="2", on_click=State.ask_delete(row.id),
                      aria_label="Supprimer l'équipe " + row.name),
            spacing="2", wrap="wrap")),
    )


def teams_table() -> rx.Component:
    return rx.cond(
        State.rows.length() > 0,
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col")
                                           for h in ("Équipe", "Membres", "Actions")])),
            rx.table.body(rx.foreach(State.rows, _team_row)),
            variant="surface", width="100%",
        ),
        rx.text("Ce territoire n'a encore aucune équipe."),
    )


def _member(option: MemberOption) -> rx.Component:
    return rx.el.label(rx.el.input(type="checkbox", name=MEMBER_PREFIX + option.id, default_checked=option.checked),
                       option.name, class_name="checkbox-label")


def team_form() -> rx.Component:
    name_error = rx.cond(State.form_error_field == "name", State.form_error, "")
    return rx.el.section(
        rx.heading(rx.cond(State.editing_id != "", "Modifier l'équipe", "Ajouter une équipe"), as_="h2", size="5",
                   id=FORM_HEADING_ID),
        rx.form(loaded_fieldset(
            rx.vstack(
                form_alert(rx.cond(State.form_error_field != "name", State.form_error, "")),
                rx.box(
                    rx.el.label("Nom de l'équipe", html_for="champ-nom-equipe", class_name="field-label"),
                    rx.el.input(id="champ-nom-equipe", name="name", default_value=State.form_name, required=True,
                                class_name="text-input", auto_complete="off", aria_describedby="champ-nom-equipe-erreur",
                                aria_invalid=rx.cond(name_error != "", "true", "false")),
                    rx.el.p(name_error, id="champ-nom-equipe-erreur", class_name="field-error", aria_live="polite"),
                    width="100%",
                ),
                rx.el.fieldset(
                    rx.el.legend("Agents membres", class_name="field-label"),
                    rx.vstack(rx.foreach(State.agents, _member), spacing="2"),
                    class_name="fieldset",
                ),
                rx.hstack(
                    rx.button(rx.cond(State.saving, rx.spinner(size="2"), rx.fragment()),
                              rx.cond(State.editing_id != "", "Enregistrer l'équipe", "Créer l'équipe"),
                              type="submit", size="3", disabled=State.saving),
                    rx.cond(State.editing_id != "",
                            rx.button("Annuler la modification", type="button", variant="outline", size="3",
                                      on_click=State.cancel_edit)),
                    spacing="3", wrap="wrap",
                ),
                spacing="4", width="100%", key=State.form_key.to_string(),
            ),
            loaded_for=State.loaded_for),
            no_validate=True, on_submit=State.save,
            reset_on_submit=False,
            aria_labelledby=FORM_HEADING_ID,
            width="100%",
        ),
        max_width=styles.NARROW_WIDTH,
        width="100%",
    )


@agent_page(routes.ADMIN_TERRITORY_TEAMS, "Équipes", load=State.load)
def territory_teams() -> rx.Component:
    return rx.vstack(
        rx.heading("Équipes du territoire", as_="h1", size="7"),
        rx.cond(
            State.loading,
            loading_block("Chargement des équipes…"),
            rx.cond(
                State.denied != "",
                form_alert(State.denied),
                rx.fragment(
                    rx.text("Une équipe regroupe des agents du territoire : « Trouver un RDV » peut alors chercher "
                            "les créneaux de ses membres.", color=styles.TEXT_MUTED),
                    status_region(State.message),
                    form_alert(State.error),
                    teams_table(),
                    team_form(),
                    confirm_dialog("Supprimer l'équipe", "L'équipe « " + State.deleting_name + " » sera supprimée ; "
                                   "ses membres restent des agents du territoire.",
                                   confirm_label="Supprimer l'équipe", is_open=State.deleting_id != "",
                                   on_open_change=State.delete_open_change, on_confirm=State.confirm_delete,
                                   busy=State.saving),
                ),
            ),
        ),
        spacing="5",
        width="100%",
    )
