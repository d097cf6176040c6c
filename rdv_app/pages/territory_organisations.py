"""Territorial admins: "Organisations du territoire" and "Créer une organisation"."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes, styles
from rdv_app.components.forms import form_alert, loaded_fieldset, text_field
from rdv_app.components.layout import loading_block
from rdv_app.pages.template import agent_page
from rdv_app.services.organisation.admin_organisation import FRENCH_TIMEZONES
from rdv_app.state.territory_organisations import TerritoryOrganisationsState as State

FORM_HEADING_ID = "creer-organisation-titre"


def _error_for(field: str) -> rx.Var:
    return rx.cond(State.error_field == field, State.error, "")


def _select(field: str, label: str, options: rx.Component, hint: str = "") -> rx.Component:
    field_id = f"champ-{field}"
    return rx.box(
        rx.el.label(label, html_for=field_id, class_name="field-label"),
        rx.text(hint, id=f"{field_id}-aide", class_name="field-hint") if hint else rx.fragment(),
        rx.el.select(options, id=field_id, name=field, class_name="text-input",
                     aria_describedby=f"{field_id}-aide {field_id}-erreur" if hint else f"{field_id}-erreur",
                     aria_invalid=rx.cond(_error_for(field) != "", "true", "false")),
        rx.el.p(_error_for(field), id=f"{field_id}-erreur", class_name="field-error", aria_live="polite"),
        width="100%",
    )


def organisations_table() -> rx.Component:
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col")
                                       for h in ("Organisation", "Territoire", "Agents")])),
        rx.table.body(rx.foreach(State.rows, lambda o: rx.table.row(
            rx.table.row_header_cell(o.name), rx.table.cell(o.territory), rx.table.cell(o.agents)))),
        variant="surface", width="100%",
    )


def create_form() -> rx.Component:
    return rx.el.section(
        rx.heading("Créer une organisation", as_="h2", size="5", id=FORM_HEADING_ID),
        rx.text("Vous en deviendrez administrateur ; sa page d'accueil listera ensuite les premières étapes : lieux, "
                "motifs, agents et plages d'ouverture.", color=styles.TEXT_MUTED),
        rx.form(loaded_fieldset(
            rx.vstack(
                form_alert(rx.cond(State.error_field == "", State.error, "")),
                _select("territory_id", "Territoire",
                        rx.foreach(State.territories, lambda t: rx.el.option(t.label, value=t.id))),
                text_field("name", "Nom de l'organisation", hint="Par exemple Maison des Solidarités de Lens.",
                           error=_error_for("name")),
                text_field("phone_number", "Téléphone", type_="tel", required=False, autocomplete="tel",
                           hint="Par exemple 03 21 23 45 67.", error=_error_for("phone_number")),
                text_field("email", "Adresse email", type_="email", required=False,
                           hint="Format attendu : accueil@exemple.fr", error=_error_for("email")),
                text_field("website", "Site internet", required=False, hint="Par exemple https://www.exemple.fr",
                           error=_error_for("website")),
                text_field("horaires", "Horaires", required=False, hint="Par exemple : du lundi au vendredi, 9h-17h.",
                           error=_error_for("horaires")),
                _select("timezone", "Fuseau horaire",
                        rx.fragment(rx.el.option("Celui du territoire", value=""),
                                    *[rx.el.option(label, value=value) for value, label in FRENCH_TIMEZONES])),
                rx.button(
                    rx.cond(State.creating, rx.spinner(size="2"), rx.fragment()),
                    rx.cond(State.creating, "Création en cours…", "Créer l'organisation"),
                    type="submit", size="3", disabled=State.creating,
                ),
                spacing="4", width="100%",
            ),
            loaded_for=State.loaded_for),
            no_validate=True, on_submit=State.create,
            reset_on_submit=False,
            aria_labelledby=FORM_HEADING_ID,
            width="100%",
        ),
        max_width=styles.NARROW_WIDTH,
        width="100%",
    )


@agent_page(routes.ADMIN_TERRITORY_ORGANISATIONS, "Organisations du territoire", load=State.load)
def territory_organisations() -> rx.Component:
    return rx.vstack(
        rx.heading("Organisations du territoire", as_="h1", size="7"),
        rx.cond(
            State.loading,
            loading_block("Chargement des organisations…"),
            rx.cond(State.denied != "", form_alert(State.denied),
                    rx.fragment(organisations_table(), create_form())),
        ),
        spacing="5",
        width="100%",
    )
