"""Agents of the organisation (admins): search, invitations, level, removal."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes, styles
from rdv_app.components.forms import form_alert, loaded_fieldset, text_field
from rdv_app.components.layout import loading_block
from rdv_app.components.planning import status_region
from rdv_app.domain.enums import AccessLevel
from rdv_app.pages.template import agent_page
from rdv_app.state.admin_agents import AdminAgentsState, AgentRow
from rdv_app.state.checked_services import SERVICE_PREFIX

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
                rx.cond(
                    row.is_intervenant,
                    rx.fragment(
                        rx.button("Renommer", variant="outline", size="2",
                                  on_click=AdminAgentsState.start_editing(row.id, "rename"),
                                  aria_label="Renommer " + name),
                        rx.button("Convertir en agent", variant="outline", size="2",
                                  on_click=AdminAgentsState.start_editing(row.id, "convert"),
                                  aria_label="Convertir en agent " + name),
                    ),
                    rx.cond(row.is_admin,
                            rx.button("Retirer les droits d'administrateur", variant="outline", size="2",
                                      on_click=AdminAgentsState.set_level(row.id, AccessLevel.BASIC.value),
                                      aria_label="Retirer les droits d'administrateur de " + name),
                            rx.button("Nommer administrateur", variant="outline", size="2",
                                      on_click=AdminAgentsState.set_level(row.id, AccessLevel.ADMIN.value),
                                      aria_label="Nommer administrateur " + name)),
                ),
                rx.cond(row.may_become_intervenant,
                        rx.button("Passer en intervenant", variant="outline", size="2",
                                  on_click=AdminAgentsState.start_editing(row.id, "intervenant"),
                                  aria_label="Passer en intervenant " + name)),
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
                    rx.cond(row.is_intervenant, _tag("Intervenant")),
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


def _edit_error(field: str) -> rx.Var:
    return rx.cond(AdminAgentsState.edit_error_field == field, AdminAgentsState.edit_error, "")


def _level_choice(prefix: str) -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend("Niveau de permissions", class_name="field-label"),
        rx.el.label(rx.el.input(type="radio", name="access_level", value=AccessLevel.BASIC.value,
                                default_checked=True), "Agent", class_name="checkbox-label"),
        rx.el.label(rx.el.input(type="radio", name="access_level", value=AccessLevel.ADMIN.value),
                    "Administrateur", class_name="checkbox-label"),
        rx.el.p(_edit_error("access_level"), class_name="field-error", aria_live="polite"),
        class_name="fieldset", id=f"{prefix}-niveau",
    )


def editing_panel() -> rx.Component:
    """Renaming an intervenant, turning them into an agent, or an agent into an intervenant."""
    cancel = rx.button("Annuler", type="button", variant="outline", on_click=AdminAgentsState.cancel_editing)
    rename = rx.el.section(
        rx.heading("Modifier le nom de " + AdminAgentsState.editing_name, as_="h2", size="4", id="renommer-titre"),
        rx.form(loaded_fieldset(
            rx.vstack(
                form_alert(rx.cond(AdminAgentsState.edit_error_field == "", AdminAgentsState.edit_error, "")),
                text_field("last_name", "Nom", field_id="renommer-nom", error=_edit_error("last_name"),
                           default_value=AdminAgentsState.editing_last_name),
                text_field("first_name", "Prénom (facultatif)", field_id="renommer-prenom", required=False,
                           error=_edit_error("first_name"), default_value=AdminAgentsState.editing_first_name),
                rx.hstack(rx.button("Enregistrer le nom", type="submit"), cancel, spacing="3"),
                spacing="4", width="100%",
            ),
            loaded_for=AdminAgentsState.loaded_for),
            no_validate=True, on_submit=AdminAgentsState.rename, reset_on_submit=False, aria_labelledby="renommer-titre",
        ),
        class_name="info-box", max_width=styles.NARROW_WIDTH, width="100%",
    )
    convert = rx.el.section(
        rx.heading("Convertir en agent " + AdminAgentsState.editing_name, as_="h2", size="4", id="convertir-titre"),
        rx.text("L'agent recevra une invitation par email pour choisir son mot de passe et pourra ensuite se "
                "connecter ; ses notifications reprennent leurs réglages par défaut."),
        rx.form(loaded_fieldset(
            rx.vstack(
                form_alert(rx.cond(AdminAgentsState.edit_error_field == "", AdminAgentsState.edit_error, "")),
                _level_choice("convertir"),
                text_field("email", "Email d'invitation de l'agent", type_="email", field_id="convertir-email",
                           error=_edit_error("email"),
                           hint="Une invitation sera envoyée automatiquement à cette adresse."),
                text_field("first_name", "Prénom", field_id="convertir-prenom",
                           error=_edit_error("first_name"), default_value=AdminAgentsState.editing_first_name),
                text_field("last_name", "Nom", field_id="convertir-nom",
                           error=_edit_error("last_name"), default_value=AdminAgentsState.editing_last_name),
                rx.hstack(rx.button("Convertir et inviter", type="submit"), cancel, spacing="3"),
                spacing="4", width="100%",
            ),
            loaded_for=AdminAgentsState.loaded_for),
            no_validate=True, on_submit=AdminAgentsState.convert_to_agent, reset_on_submit=False, aria_labelledby="convertir-titre",
        ),
        class_name="info-box", max_width=styles.NARROW_WIDTH, width="100%",
    )
    to_intervenant = rx.el.section(
        rx.heading("Passer " + AdminAgentsState.editing_name + " en intervenant", as_="h2", size="4",
                   id="intervenant-titre"),
        rx.text("Cet agent ne pourra plus se connecter à son compte : son email, son mot de passe, sa double "
                "authentification et son prénom seront effacés, et il ne recevra plus de notification. Ses RDV "
                "et ses plages d'ouverture restent."),
        form_alert(AdminAgentsState.edit_error),
        loaded_fieldset(rx.hstack(rx.button("Confirmer le passage en intervenant", color_scheme="red",
                                            on_click=AdminAgentsState.convert_to_intervenant), cancel, spacing="3"),
                        loaded_for=AdminAgentsState.loaded_for),
        class_name="info-box", aria_labelledby="intervenant-titre", width="100%",
    )
    return rx.cond(
        AdminAgentsState.editing_id != "",
        rx.box(
            rx.match(AdminAgentsState.editing_mode, ("rename", rename), ("convert", convert),
                     ("intervenant", to_intervenant), rx.fragment()),
            key=AdminAgentsState.editing_id + AdminAgentsState.editing_mode, width="100%",
        ),
    )


def intervenant_form() -> rx.Component:
    def error_for(field: str) -> rx.Var:
        return rx.cond(AdminAgentsState.intervenant_error_field == field, AdminAgentsState.intervenant_error, "")

    return rx.el.section(
        rx.heading("Ajouter un intervenant", as_="h2", size="5", id="ajouter-intervenant-titre"),
        rx.text("Un intervenant reçoit des RDV sans avoir de compte : pas d'email, pas de connexion, aucune "
                "notification. Le secrétariat ou les administrateurs planifient pour lui.", color=styles.TEXT_MUTED),
        rx.form(loaded_fieldset(
            rx.vstack(
                form_alert(rx.cond(AdminAgentsState.intervenant_error_field == "", AdminAgentsState.intervenant_error,
                                   "")),
                text_field("last_name", "Nom", field_id="intervenant-nom",
                           hint="Par exemple Avocat 1, ou le nom de la personne.", error=error_for("last_name")),
                text_field("first_name", "Prénom (facultatif)", field_id="intervenant-prenom", required=False,
                           error=error_for("first_name")),
                rx.el.fieldset(
                    rx.el.legend("Services de l'intervenant", class_name="field-label"),
                    rx.vstack(rx.foreach(AdminAgentsState.services, lambda s: rx.el.label(
                        rx.el.input(type="checkbox", name=SERVICE_PREFIX + s.id), s.name,
                        class_name="checkbox-label")), spacing="2"),
                    rx.el.p(error_for("service_ids"), class_name="field-error", aria_live="polite"),
                    class_name="fieldset",
                ),
                rx.button("Ajouter l'intervenant", type="submit", size="3", variant="outline"),
                spacing="4", width="100%", key=AdminAgentsState.intervenant_key.to_string(),
            ),
            loaded_for=AdminAgentsState.loaded_for),
            no_validate=True, on_submit=AdminAgentsState.add_intervenant,
            reset_on_submit=False,
            aria_labelledby="ajouter-intervenant-titre",
            width="100%",
        ),
        max_width=styles.NARROW_WIDTH,
        width="100%",
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
        no_validate=True, on_submit=AdminAgentsState.search,
        reset_on_submit=False,
        role="search",
    )


def invite_form() -> rx.Component:
    def error_for(field: str) -> rx.Var:
        return rx.cond(AdminAgentsState.invite_error_field == field, AdminAgentsState.invite_error, "")

    return rx.el.section(
        rx.heading("Inviter un agent", as_="h2", size="5", id=INVITE_HEADING_ID),
        rx.form(loaded_fieldset(
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
            loaded_for=AdminAgentsState.loaded_for),
            no_validate=True, on_submit=AdminAgentsState.invite,
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
                    editing_panel(),
                    agents_table(),
                    invite_form(),
                    intervenant_form(),
                ),
            ),
        ),
        spacing="5",
        width="100%",
    )
