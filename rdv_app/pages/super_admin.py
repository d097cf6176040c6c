"""The instance's back office (super admins): territories, and "Ouvrir un territoire"."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes, styles
from rdv_app.components.forms import form_alert, text_field
from rdv_app.components.layout import loading_block
from rdv_app.components.planning import status_region
from rdv_app.pages.template import agent_page
from rdv_app.services.organisation.admin_organisation import FRENCH_TIMEZONES
from rdv_app.state.super_admin import SERVICE_PREFIX, SuperAdminState

FORM_HEADING_ID = "ouvrir-territoire-titre"


def _error_for(field: str) -> rx.Var:
    return rx.cond(SuperAdminState.error_field == field, SuperAdminState.error, "")


def territories_table() -> rx.Component:
    return rx.cond(
        SuperAdminState.territories.length() > 0,
        rx.table.root(
            rx.table.header(rx.table.row(
                *[rx.table.column_header_cell(h, scope="col")
                  for h in ("Numéro", "Territoire", "Fuseau horaire", "Organisations", "Administrateurs")]
            )),
            rx.table.body(rx.foreach(SuperAdminState.territories, lambda t: rx.table.row(
                rx.table.row_header_cell(t.number), rx.table.cell(t.name), rx.table.cell(t.timezone),
                rx.table.cell(t.organisations), rx.table.cell(t.admins),
            ))),
            variant="surface", width="100%",
        ),
        rx.text("Aucun territoire pour l'instant : ouvrez le premier ci-dessous."),
    )


def services_section() -> rx.Component:
    def error_for(field: str) -> rx.Var:
        return rx.cond(SuperAdminState.service_error_field == field, SuperAdminState.service_error, "")

    return rx.el.section(
        rx.heading("Services", as_="h2", size="5", id="services-titre"),
        rx.text("Le catalogue des services de l'instance : chaque agent appartient à au moins un service, chaque "
                "motif à un service. Le Secrétariat voit tous les agents et motifs de son organisation.",
                color=styles.TEXT_MUTED),
        rx.cond(
            SuperAdminState.services.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col")
                                               for h in ("Service", "Nom court", "Secrétariat")])),
                rx.table.body(rx.foreach(SuperAdminState.services, lambda s: rx.table.row(
                    rx.table.row_header_cell(s.name), rx.table.cell(s.short_name), rx.table.cell(s.secretariat)))),
                variant="surface", width="100%",
            ),
            rx.text("Aucun service pour l'instant : ajoutez le premier ci-dessous."),
        ),
        status_region(SuperAdminState.service_message),
        rx.form(
            rx.vstack(
                form_alert(rx.cond(SuperAdminState.service_error_field == "", SuperAdminState.service_error, "")),
                text_field("name", "Nom du service", hint="Par exemple Protection Maternelle Infantile.",
                           error=error_for("name")),
                text_field("short_name", "Nom court", hint="Par exemple PMI.", error=error_for("short_name")),
                rx.el.label(rx.el.input(type="checkbox", name="is_secretariat"), "Service de secrétariat",
                            class_name="checkbox-label"),
                rx.button("Ajouter le service", type="submit", size="3", variant="outline"),
                spacing="4", width="100%", key=SuperAdminState.service_form_key.to_string(),
            ),
            on_submit=SuperAdminState.add_service,
            reset_on_submit=False,
            aria_label="Ajouter un service",
            width="100%",
        ),
        max_width=styles.NARROW_WIDTH,
        width="100%",
    )


def admin_services_field() -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend("Services de l'administrateur", class_name="field-label"),
        rx.cond(
            SuperAdminState.services.length() > 0,
            rx.vstack(rx.foreach(SuperAdminState.services, lambda s: rx.el.label(
                rx.el.input(type="checkbox", name=SERVICE_PREFIX + s.id), s.name, class_name="checkbox-label")),
                spacing="2"),
            rx.text("Ajoutez d'abord un service au catalogue (ci-dessus)."),
        ),
        rx.el.p(_error_for("service_ids"), class_name="field-error", aria_live="polite"),
        class_name="fieldset",
    )


def timezone_field() -> rx.Component:
    return rx.box(
        rx.el.label("Fuseau horaire", html_for="champ-timezone", class_name="field-label"),
        rx.el.select(
            *[rx.el.option(label, value=value) for value, label in FRENCH_TIMEZONES],
            id="champ-timezone", name="timezone", default_value=FRENCH_TIMEZONES[0][0], class_name="text-input",
            aria_describedby="champ-timezone-erreur", aria_invalid=rx.cond(_error_for("timezone") != "", "true", "false"),
        ),
        rx.el.p(_error_for("timezone"), id="champ-timezone-erreur", class_name="field-error", aria_live="polite"),
        width="100%",
    )


def open_account_form() -> rx.Component:
    return rx.el.section(
        rx.heading("Ouvrir un territoire", as_="h2", size="5", id=FORM_HEADING_ID),
        rx.text("Le territoire, sa première organisation et la personne qui les administrera : elle reçoit une "
                "invitation par email et pourra ensuite créer lieux, motifs, agents et plages.",
                color=styles.TEXT_MUTED),
        rx.form(
            rx.vstack(
                form_alert(rx.cond(SuperAdminState.error_field == "", SuperAdminState.error, "")),
                text_field("departement_number", "Numéro du département", hint="Par exemple 62, 974 ou 2A.",
                           error=_error_for("departement_number")),
                text_field("territory_name", "Nom du territoire", hint="Par exemple Pas-de-Calais.",
                           error=_error_for("territory_name")),
                timezone_field(),
                text_field("organisation_name", "Nom de la première organisation", hint="Par exemple PMI Arras.",
                           error=_error_for("organisation_name")),
                text_field("admin_email", "Adresse email de l'administrateur", type_="email",
                           hint="Format attendu : prenom.nom@exemple.fr", error=_error_for("admin_email")),
                admin_services_field(),
                rx.button(
                    rx.cond(SuperAdminState.submitting, rx.spinner(size="2"), rx.fragment()),
                    rx.cond(SuperAdminState.submitting, "Ouverture en cours…", "Ouvrir le territoire et inviter"),
                    type="submit", size="3", disabled=SuperAdminState.submitting,
                ),
                spacing="4", width="100%", key=SuperAdminState.form_key.to_string(),
            ),
            on_submit=SuperAdminState.open_account,
            reset_on_submit=False,
            aria_labelledby=FORM_HEADING_ID,
            width="100%",
        ),
        max_width=styles.NARROW_WIDTH,
        width="100%",
    )


@agent_page(routes.SUPER_ADMIN, "Super admin", load=SuperAdminState.load)
def super_admin() -> rx.Component:
    return rx.vstack(
        rx.heading("Super administration", as_="h1", size="7"),
        rx.cond(
            SuperAdminState.loading,
            loading_block("Chargement des territoires…"),
            rx.cond(
                SuperAdminState.denied != "",
                form_alert(SuperAdminState.denied),
                rx.fragment(
                    status_region(SuperAdminState.message),
                    rx.heading("Territoires", as_="h2", size="5"),
                    territories_table(),
                    services_section(),
                    open_account_form(),
                ),
            ),
        ),
        spacing="5",
        width="100%",
    )
