"""Sectorisation of the territory: the sectors with their zones and attributions, a form to create one, and
for the sector chosen, communes and streets found in the Base Adresse Nationale and its attributions."""

from __future__ import annotations

import reflex as rx
from reflex.event import EventCallback

from rdv_app import routes, styles
from rdv_app.components.admin import confirm_dialog
from rdv_app.components.forms import form_alert, loaded_fieldset
from rdv_app.components.layout import loading_block
from rdv_app.components.planning import status_region
from rdv_app.pages.template import agent_page
from rdv_app.state.territory_sectors import ZONE_FILE_INPUT_ID, Item, SectorRow
from rdv_app.state.territory_sectors import TerritorySectorsState as State

CREATE_HEADING_ID = "secteur-creation-titre"
EDIT_HEADING_ID = "secteur-modification-titre"
IMPORT_HEADING_ID = "zones-import-titre"
TRIAL_HEADING_ID = "sectorisation-test-titre"


def _sector_row(row: SectorRow) -> rx.Component:
    def zone(item: Item) -> rx.Component:
        return rx.el.li(item.label)

    def attribution(item: Item) -> rx.Component:
        return rx.el.li(item.label)

    return rx.table.row(
        rx.table.row_header_cell(row.name, rx.el.span(" (" + row.human_id + ")", color=styles.TEXT_MUTED)),
        rx.table.cell(rx.cond(rx.Var.create(row.zones).length() > 0, rx.el.ul(rx.foreach(row.zones, zone)),
                              rx.text("Aucune zone"))),
        rx.table.cell(rx.cond(rx.Var.create(row.attributions).length() > 0,
                              rx.el.ul(rx.foreach(row.attributions, attribution)), rx.text("Non attribué"))),
        rx.table.cell(rx.hstack(
            rx.button("Modifier", variant="outline", size="2", on_click=State.select(row.id),
                      aria_label="Modifier le secteur " + row.name),
            rx.button("Supprimer", variant="outline", color_scheme="red", size="2", on_click=State.ask_delete(row.id),
                      aria_label="Supprimer le secteur " + row.name),
            spacing="2", wrap="wrap")),
    )


def sectors_table() -> rx.Component:
    return rx.cond(
        State.rows.length() > 0,
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col")
                                           for h in ("Secteur", "Zones", "Attribué à", "Actions")])),
            rx.table.body(rx.foreach(State.rows, _sector_row)),
            variant="surface", width="100%",
        ),
        rx.text("Ce territoire n'a encore aucun secteur."),
    )


def _text_field(field_id: str, name: str, label: str, hint: str) -> rx.Component:
    error = rx.cond(State.form_error_field == name, State.form_error, "")
    return rx.box(
        rx.el.label(label, html_for=field_id, class_name="field-label"),
        rx.el.p(hint, id=f"{field_id}-aide", class_name="field-hint"),
        rx.el.input(id=field_id, name=name, required=True, class_name="text-input", auto_complete="off",
                    aria_describedby=f"{field_id}-aide {field_id}-erreur",
                    aria_invalid=rx.cond(error != "", "true", "false")),
        rx.el.p(error, id=f"{field_id}-erreur", class_name="field-error", aria_live="polite"),
        width="100%",
    )


def create_form() -> rx.Component:
    return rx.el.section(
        rx.heading("Créer un secteur", as_="h2", size="5", id=CREATE_HEADING_ID),
        rx.form(loaded_fieldset(
            rx.vstack(
                _text_field("champ-nom-secteur", "name", "Nom du secteur", "Par exemple : Arras centre"),
                _text_field("champ-identifiant-secteur", "human_id", "Identifiant",
                            "Lettres minuscules sans accent, chiffres et tirets, unique dans le territoire "
                            "(par exemple arras-centre)."),
                rx.button(rx.cond(State.saving, rx.spinner(size="2"), rx.fragment()), "Créer le secteur",
                          type="submit", size="3", disabled=State.saving),
                spacing="4", width="100%", key=State.form_key.to_string(),
            ),
            loaded_for=State.loaded_for),
            no_validate=True, on_submit=State.create, reset_on_submit=False, aria_labelledby=CREATE_HEADING_ID, width="100%",
        ),
        max_width=styles.NARROW_WIDTH, width="100%",
    )


def _zone_choice(item: Item) -> rx.Component:
    return rx.el.li(rx.button("Ajouter « " + item.label + " »", type="button", variant="outline", size="2",
                              on_click=State.add_zone(item.id), disabled=State.saving))


def _removable(items: rx.Var, on_remove: EventCallback[str], what: str) -> rx.Component:
    def line(item: Item) -> rx.Component:
        return rx.el.li(rx.hstack(
            rx.text(item.label),
            rx.button("Retirer", variant="outline", color_scheme="red", size="1", on_click=on_remove(item.id),
                      aria_label="Retirer " + what + " " + item.label, disabled=State.saving),
            align="center", spacing="3", wrap="wrap"))

    return rx.el.ul(rx.foreach(items, line), style={"display": "grid", "gap": "0.5rem", "padding_left": "1.25rem"})


def edit_panel() -> rx.Component:
    return rx.cond(
        State.selected_id != "",
        rx.el.section(
            rx.heading("Secteur « " + State.selected_name + " »", as_="h2", size="5", id=EDIT_HEADING_ID),
            rx.foreach(State.rows, lambda row: rx.cond(row.id == State.selected_id, rx.vstack(
                rx.heading("Zones", as_="h3", size="4"),
                rx.cond(rx.Var.create(row.zones).length() > 0, _removable(row.zones, State.remove_zone, "la zone"),
                        rx.text("Aucune zone : ajoutez une commune entière ou une rue.")),
                rx.heading("Attributions", as_="h3", size="4"),
                rx.cond(rx.Var.create(row.attributions).length() > 0,
                        _removable(row.attributions, State.remove_attribution, "l'attribution"),
                        rx.text("Ce secteur n'est attribué à personne.")),
                spacing="3", width="100%"), rx.fragment())),
            loaded_fieldset(rx.box(
                rx.el.label("Ajouter une commune ou une rue", html_for="champ-zone", class_name="field-label"),
                rx.el.p("Saisissez une adresse, une rue ou une commune, puis choisissez la commune entière ou la rue "
                        "parmi les propositions de la Base Adresse Nationale.", id="champ-zone-aide",
                        class_name="field-hint"),
                rx.el.input(id="champ-zone", type="text", class_name="text-input", auto_complete="off",
                            aria_describedby="champ-zone-aide", on_change=lambda value: State.type_zone(value)),
                rx.box(
                    rx.cond(State.zone_choices.length() > 0,
                            rx.el.ul(rx.foreach(State.zone_choices, _zone_choice), aria_label="Zones proposées",
                                     style={"display": "grid", "gap": "0.5rem", "padding": 0, "list_style": "none"}),
                            rx.fragment()),
                    rx.cond(State.zone_hint != "", rx.el.p(State.zone_hint, class_name="field-hint"), rx.fragment()),
                    aria_live="polite", margin_top="0.5rem"),
                width="100%", margin_top="1rem"), loaded_for=State.loaded_for),
            rx.form(loaded_fieldset(
                rx.vstack(
                    rx.el.label("Attribuer le secteur à", html_for="champ-attributaire", class_name="field-label"),
                    rx.el.select(rx.el.option("Choisissez une organisation ou un agent", value=""),
                                 rx.foreach(State.attributable, lambda item: rx.el.option(item.label, value=item.id)),
                                 id="champ-attributaire", name="attributaire", class_name="text-input",
                                 aria_describedby="champ-attributaire-erreur"),
                    rx.el.p(rx.cond(State.form_error_field == "attributed_to", State.form_error, ""),
                            id="champ-attributaire-erreur", class_name="field-error", aria_live="polite"),
                    rx.button("Attribuer", type="submit", size="3", disabled=State.saving),
                    spacing="2", width="100%"),
                loaded_for=State.loaded_for),
                no_validate=True, on_submit=State.attribute, reset_on_submit=True, width="100%", margin_top="1rem",
                aria_label="Attribuer le secteur"),
            aria_labelledby=EDIT_HEADING_ID, max_width=styles.NARROW_WIDTH, width="100%",
            style={"border": f"1px solid {styles.BORDER}", "border_radius": "0.5rem", "padding": "1rem"},
        ),
        rx.fragment(),
    )


def import_form() -> rx.Component:
    """Zones from a CSV or Excel file, with RDV Service Public's columns (rdv_app.domain.zone_import)."""
    return rx.el.section(
        rx.heading("Importer des zones", as_="h2", size="5", id=IMPORT_HEADING_ID),
        rx.el.div(
            rx.el.p("Un fichier CSV (séparé par des points-virgules ou des virgules) ou Excel (.xlsx), de 700 Ko au "
                    "plus, dont la première ligne nomme les colonnes :"),
            rx.el.ul(
                rx.el.li(rx.el.code("sector_id"), " : l'identifiant du secteur, déjà créé (par exemple arras-nord) ;"),
                rx.el.li(rx.el.code("city_code"), " : le code INSEE de la commune (par exemple 62041) ;"),
                rx.el.li(rx.el.code("city_name"), " : le nom de la commune ;"),
                rx.el.li(rx.el.code("street_name"), " et ", rx.el.code("street_ban_id"), " : pour une rue seulement, "
                         "son nom et son identifiant dans la Base Adresse Nationale (par exemple 62041_0570) ; "
                         "vides, la ligne couvre toute la commune."),
                style={"padding_left": "1.25rem"}),
            rx.el.p("Si une ligne est fausse, rien n'est importé et chaque ligne à corriger est indiquée. Les zones "
                    "déjà présentes sont gardées telles quelles : importer deux fois le même fichier ne change rien."),
            id=f"{ZONE_FILE_INPUT_ID}-aide", class_name="field-hint"),
        rx.form(loaded_fieldset(
            rx.vstack(
                rx.el.label("Fichier des zones", html_for=ZONE_FILE_INPUT_ID, class_name="field-label"),
                rx.el.input(id=ZONE_FILE_INPUT_ID, name="zone_file", type="file", accept=".csv,.xlsx,text/csv",
                            aria_describedby=f"{ZONE_FILE_INPUT_ID}-aide {ZONE_FILE_INPUT_ID}-erreur",
                            aria_invalid=rx.cond(State.import_error != "", "true", "false"),
                            key=State.import_key.to_string()),
                rx.button(rx.cond(State.importing, rx.spinner(size="2"), rx.fragment()), "Importer les zones",
                          type="submit", size="3", disabled=State.importing | State.saving),
                spacing="3", width="100%"),
            loaded_for=State.loaded_for),
            no_validate=True, on_submit=State.start_import, reset_on_submit=False, aria_labelledby=IMPORT_HEADING_ID, width="100%",
            margin_top="0.5rem"),
        rx.box(
            rx.cond(State.import_message != "", rx.el.p(State.import_message, role="status"), rx.fragment()),
            rx.el.div(
                rx.cond(State.import_error != "", rx.el.p(State.import_error, class_name="field-error"),
                        rx.fragment()),
                rx.cond(State.import_problems.length() > 0,
                        rx.el.ul(rx.foreach(State.import_problems, lambda problem: rx.el.li(problem)),
                                 aria_label="Lignes à corriger", style={"padding_left": "1.25rem"}),
                        rx.fragment()),
                id=f"{ZONE_FILE_INPUT_ID}-erreur"),
            aria_live="polite", margin_top="0.5rem"),
        max_width=styles.NARROW_WIDTH, width="100%",
    )


def _named(title: str, items: rx.vars.ArrayVar, empty: str) -> rx.Component:
    return rx.box(
        rx.heading(title, as_="h3", size="3"),
        rx.cond(items.length() > 0, rx.el.ul(rx.foreach(items, lambda line: rx.el.li(line)),
                                             style={"padding_left": "1.25rem"}), rx.text(empty)),
        width="100%")


def trial_panel() -> rx.Component:
    """"Tester la sectorisation": an address, then the sectors, organisations and agents it matches."""
    return rx.el.section(
        rx.heading("Tester la sectorisation", as_="h2", size="5", id=TRIAL_HEADING_ID),
        rx.box(
            rx.el.label("Adresse à tester", html_for="champ-test-adresse", class_name="field-label"),
            rx.el.p("Saisissez l'adresse d'un usager puis choisissez-la : vous verrez les secteurs qui la couvrent, "
                    "et les organisations et agents auxquels ils sont attribués.", id="champ-test-adresse-aide",
                    class_name="field-hint"),
            rx.el.input(id="champ-test-adresse", type="text", class_name="text-input", auto_complete="off",
                        aria_describedby="champ-test-adresse-aide",
                        on_change=lambda value: State.type_trial_address(value)),
            width="100%"),
        rx.box(
            rx.cond(State.trial_choices.length() > 0,
                    rx.el.ul(rx.foreach(State.trial_choices, lambda item: rx.el.li(rx.button(
                        "Tester « " + item.label + " »", type="button", variant="outline", size="2",
                        on_click=State.try_address(item.id)))),
                        aria_label="Adresses proposées",
                        style={"display": "grid", "gap": "0.5rem", "padding": 0, "list_style": "none"}),
                    rx.fragment()),
            rx.cond(State.trial_hint != "", rx.el.p(State.trial_hint, class_name="field-hint"), rx.fragment()),
            rx.cond(State.trial_label != "", rx.vstack(
                rx.el.p(rx.el.strong(State.trial_label), " : ",
                        rx.cond(State.trial_sectors.length() == 0, "aucun secteur ne couvre cette adresse.",
                                rx.cond(State.trial_by_street, "couverte par une zone de sa rue.",
                                        "couverte par les zones de sa commune."))),
                _named("Secteurs", State.trial_sectors, "Aucun secteur."),
                _named("Organisations", State.trial_organisations, "Aucune organisation."),
                _named("Agents", State.trial_agents, "Aucun agent."),
                spacing="3", width="100%"), rx.fragment()),
            aria_live="polite", margin_top="0.5rem", width="100%"),
        aria_labelledby=TRIAL_HEADING_ID, max_width=styles.NARROW_WIDTH, width="100%",
    )


@agent_page(routes.ADMIN_TERRITORY_SECTORS, "Sectorisation", load=State.load)
def territory_sectors() -> rx.Component:
    general_error = rx.cond((State.form_error_field != "name") & (State.form_error_field != "human_id")
                            & (State.form_error_field != "attributed_to"), State.form_error, "")
    return rx.vstack(
        rx.heading("Sectorisation géographique", as_="h1", size="7"),
        rx.cond(
            State.loading,
            loading_block("Chargement des secteurs…"),
            rx.cond(
                State.denied != "",
                form_alert(State.denied),
                rx.fragment(
                    rx.text("Un secteur regroupe des communes ou des rues. Attribué à une organisation ou à un agent, "
                            "il décide qui reçoit en ligne les usagers qui y habitent, pour les motifs sectorisés "
                            "(niveau « organisation » ou « agent » dans le formulaire du motif).",
                            color=styles.TEXT_MUTED),
                    status_region(State.message),
                    form_alert(general_error),
                    sectors_table(),
                    edit_panel(),
                    create_form(),
                    import_form(),
                    trial_panel(),
                    confirm_dialog("Supprimer le secteur", "Le secteur « " + State.deleting_name + " » sera supprimé "
                                   "avec ses zones et ses attributions.",
                                   confirm_label="Supprimer le secteur", is_open=State.deleting_id != "",
                                   on_open_change=State.delete_open_change, on_confirm=State.confirm_delete,
                                   busy=State.saving),
                ),
            ),
        ),
        spacing="5",
        width="100%",
    )
