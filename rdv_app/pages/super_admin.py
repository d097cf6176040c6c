"""The instance's back office (super admins): territories, and "Ouvrir un territoire"."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes, styles
from rdv_app.components.forms import form_alert, loaded_fieldset, switching_record, text_field
from rdv_app.components.layout import loading_block
from rdv_app.components.planning import status_region
from rdv_app.pages.template import agent_page
from rdv_app.services.instance.backoffice import OVH_ENDPOINTS, SMS_OVH, SMS_PROVIDERS
from rdv_app.services.organisation.admin_organisation import FRENCH_TIMEZONES
from rdv_app.state.checked_services import SERVICE_PREFIX
from rdv_app.state.super_admin import SuperAdminState
from rdv_app.state.super_admin_backoffice import BackofficeState as B

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


def super_admins_section() -> rx.Component:
    return rx.el.section(
        rx.heading("Super administrateurs", as_="h2", size="5", id="super-admins-titre"),
        rx.text("Ils administrent l'instance : territoires, services, comptes. La double authentification leur est "
                "toujours demandée.", color=styles.TEXT_MUTED),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col")
                                           for h in ("Nom", "Email", "Statut")])),
            rx.table.body(rx.foreach(SuperAdminState.super_admins, lambda a: rx.table.row(
                rx.table.row_header_cell(a.name), rx.table.cell(a.email), rx.table.cell(a.status)))),
            variant="surface", width="100%",
        ),
        status_region(SuperAdminState.super_admin_message),
        rx.form(loaded_fieldset(
            rx.vstack(
                text_field("email", "Adresse email du super administrateur à inviter", type_="email",
                           autocomplete="off", field_id="champ-super-admin-email",
                           error=SuperAdminState.super_admin_error),
                rx.button("Inviter comme super administrateur", type="submit", size="3", variant="outline",
                          loading=SuperAdminState.inviting),
                spacing="4", width="100%", key=SuperAdminState.super_admin_form_key.to_string(),
            ), loaded_for=SuperAdminState.loaded_for),
            no_validate=True, on_submit=SuperAdminState.invite_super_admin,
            reset_on_submit=False,
            aria_label="Inviter un super administrateur",
            width="100%",
            max_width=styles.NARROW_WIDTH,
        ),
        width="100%",
        aria_labelledby="super-admins-titre",
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
        rx.form(loaded_fieldset(
            rx.vstack(
                form_alert(rx.cond(SuperAdminState.service_error_field == "", SuperAdminState.service_error, "")),
                text_field("name", "Nom du service", hint="Par exemple Protection Maternelle Infantile.",
                           error=error_for("name")),
                text_field("short_name", "Nom court", hint="Par exemple PMI.", error=error_for("short_name")),
                rx.el.label(rx.el.input(type="checkbox", name="is_secretariat"), "Service de secrétariat",
                            class_name="checkbox-label"),
                rx.button("Ajouter le service", type="submit", size="3", variant="outline"),
                spacing="4", width="100%", key=SuperAdminState.service_form_key.to_string(),
            ), loaded_for=SuperAdminState.loaded_for),
            no_validate=True, on_submit=SuperAdminState.add_service,
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


def _mairie_error_for(field: str) -> rx.Var:
    return rx.cond(SuperAdminState.mairie_error_field == field, SuperAdminState.mairie_error, "")


def open_mairie_form() -> rx.Component:
    """A commune with a dispositif de recueil: listed and bookable from the ANTS hub once it has plages."""
    heading_id = "titre-ouvrir-mairie"
    unplaced = rx.cond(SuperAdminState.mairie_error_field == "", SuperAdminState.mairie_error, "")
    return rx.el.section(
        rx.heading("Ouvrir le compte d'une mairie", as_="h2", size="5", id=heading_id),
        rx.text("Une commune équipée d'un dispositif de recueil : son organisation dans le territoire Mairies, son "
                "lieu, les motifs « Carte d'identité », « Passeport » et « Passeport et carte d'identité » "
                "(15 minutes, réservables en ligne et depuis le portail de l'ANTS), et la personne qui l'administrera.",
                color=styles.TEXT_MUTED),
        status_region(SuperAdminState.mairie_message),
        rx.form(loaded_fieldset(
            rx.vstack(
                form_alert(unplaced),
                text_field("mairie_name", "Nom de la mairie", hint="Par exemple Mairie de Seclin.",
                           error=_mairie_error_for("organisation_name")),
                text_field("mairie_address", "Adresse de la mairie", hint="Par exemple 89 rue Roger Bouvry, 59113 Seclin.",
                           error=_mairie_error_for("address")),
                text_field("mairie_admin_email", "Adresse email de l'administrateur de la mairie", type_="email",
                           hint="Format attendu : prenom.nom@exemple.fr", error=_mairie_error_for("admin_email")),
                rx.button(
                    rx.cond(SuperAdminState.mairie_submitting, rx.spinner(size="2"), rx.fragment()),
                    rx.cond(SuperAdminState.mairie_submitting, "Ouverture en cours…", "Ouvrir la mairie et inviter"),
                    type="submit", size="3", disabled=SuperAdminState.mairie_submitting,
                ),
                spacing="4", width="100%", key=SuperAdminState.mairie_form_key.to_string(),
            ), loaded_for=SuperAdminState.loaded_for),
            no_validate=True, on_submit=SuperAdminState.open_mairie_account,
            reset_on_submit=False,
            aria_labelledby=heading_id,
            width="100%",
        ),
        max_width=styles.NARROW_WIDTH,
        width="100%",
    )


def open_account_form() -> rx.Component:
    return rx.el.section(
        rx.heading("Ouvrir un territoire", as_="h2", size="5", id=FORM_HEADING_ID),
        rx.text("Le territoire, sa première organisation et la personne qui les administrera : elle reçoit une "
                "invitation par email et pourra ensuite créer lieux, motifs, agents et plages.",
                color=styles.TEXT_MUTED),
        rx.form(loaded_fieldset(
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
            ), loaded_for=SuperAdminState.loaded_for),
            no_validate=True, on_submit=SuperAdminState.open_account,
            reset_on_submit=False,
            aria_labelledby=FORM_HEADING_ID,
            width="100%",
        ),
        max_width=styles.NARROW_WIDTH,
        width="100%",
    )


def _select(field_id: str, name: str, label: str, options: rx.Var, **props: object) -> rx.Component:
    return rx.box(
        rx.el.label(label, html_for=field_id, class_name="field-label"),
        rx.el.select(rx.foreach(options, lambda o: rx.el.option(o.label, value=o.id)), id=field_id, name=name,
                     class_name="text-input", **props),
        width="100%",
    )


def territory_services_table() -> rx.Component:
    return rx.el.section(
        rx.heading("Services activés", as_="h3", size="4", id="services-actives-titre"),
        rx.text("Les services que les agents et les motifs du territoire peuvent avoir. Un service qu'un agent du "
                "territoire utilise ne peut pas être désactivé.", color=styles.TEXT_MUTED),
        status_region(B.services_message),
        form_alert(B.services_error),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col")
                                           for h in ("Service", "Agents du territoire", "État", "Action")])),
            rx.table.body(rx.foreach(B.territory_services, lambda s: rx.table.row(
                rx.table.row_header_cell(s.name), rx.table.cell(s.agents),
                rx.table.cell(rx.cond(s.enabled, "Activé", "Désactivé")),
                rx.table.cell(rx.cond(
                    s.enabled,
                    rx.button("Désactiver", variant="outline", color_scheme="red", size="2",
                              on_click=B.set_service(s.id, False), aria_label="Désactiver " + s.name),
                    rx.button("Activer", variant="outline", size="2", on_click=B.set_service(s.id, True),
                              aria_label="Activer " + s.name),
                )),
            ))),
            variant="surface", width="100%", aria_labelledby="services-actives-titre",
        ),
        width="100%",
    )


def _secret_field(name: str, label: str) -> rx.Component:
    def error_for() -> rx.Var:
        return rx.cond(B.sms_error_field == name, B.sms_error, "")

    field_id = f"sms-{name}"
    configured = B.sms_configured.contains(name)
    return rx.box(
        rx.el.label(label, html_for=field_id, class_name="field-label"),
        rx.el.p(rx.cond(configured, "configuré : laissez vide pour garder la valeur enregistrée",
                        "non configuré"), id=f"{field_id}-aide", class_name="field-hint"),
        rx.el.input(id=field_id, name=name, type="password", auto_complete="off", class_name="text-input",
                    aria_describedby=f"{field_id}-aide {field_id}-erreur",
                    aria_invalid=rx.cond(error_for() != "", "true", "false")),
        rx.el.p(error_for(), id=f"{field_id}-erreur", class_name="field-error", aria_live="polite"),
        width="100%",
    )


def sms_form() -> rx.Component:
    def error_for(field: str) -> rx.Var:
        return rx.cond(B.sms_error_field == field, B.sms_error, "")

    return rx.el.section(
        rx.heading("SMS du territoire", as_="h3", size="4", id="sms-titre"),
        rx.text("Par défaut, les SMS partent par le fournisseur de l'instance. Un territoire peut avoir son propre "
                "compte OVH : ses clés ne sont jamais réaffichées une fois enregistrées.", color=styles.TEXT_MUTED),
        status_region(B.sms_message),
        rx.form(loaded_fieldset(
            rx.vstack(
                form_alert(rx.cond(B.sms_error_field == "", B.sms_error, "")),
                rx.el.fieldset(
                    rx.el.legend("Fournisseur de SMS", class_name="field-label"),
                    *[rx.el.label(rx.el.input(type="radio", name="provider", value=value,
                                              default_checked=B.sms_provider == value,
                                              on_change=B.choose_sms_provider(value)),
                                  label, class_name="checkbox-label") for value, label in SMS_PROVIDERS],
                    class_name="fieldset",
                ),
                text_field("sender", "Expéditeur (facultatif)", field_id="sms-sender", required=False,
                           hint="3 à 11 caractères, déclaré auprès d'OVH ; par exemple RdvSoli.",
                           error=error_for("sender"), default_value=B.sms_sender),
                rx.cond(
                    B.sms_provider == SMS_OVH,
                    rx.vstack(
                        rx.box(
                            rx.el.label("Région du compte OVH", html_for="sms-endpoint", class_name="field-label"),
                            rx.el.select(*[rx.el.option(label, value=value) for value, label in OVH_ENDPOINTS],
                                         id="sms-endpoint", name="endpoint", default_value=B.sms_endpoint,
                                         class_name="text-input"),
                            width="100%",
                        ),
                        text_field("service_name", "Nom du service SMS", field_id="sms-service_name", required=False,
                                   hint="De la forme sms-ab12345-1.", error=error_for("service_name"),
                                   default_value=B.sms_service_name),
                        _secret_field("application_key", "Clé d'application (application key)"),
                        _secret_field("application_secret", "Secret d'application (application secret)"),
                        _secret_field("consumer_key", "Clé client (consumer key)"),
                        spacing="4", width="100%",
                    ),
                ),
                rx.button("Enregistrer les réglages SMS", type="submit", size="3", variant="outline"),
                spacing="4", width="100%", key=B.sms_key.to_string(),
            ), loaded_for=B.loaded_for),
            no_validate=True, on_submit=B.save_sms, reset_on_submit=False, aria_labelledby="sms-titre", width="100%",
        ),
        max_width=styles.NARROW_WIDTH, width="100%",
    )


def territory_configuration() -> rx.Component:
    return rx.el.section(
        rx.heading("Configuration d'un territoire", as_="h2", size="5", id="configuration-titre"),
        rx.cond(
            B.territory_choices.length() > 0,
            rx.vstack(
                rx.box(_select("territoire-configure", "territory", "Territoire", B.territory_choices,
                               value=B.territory_id,
                               on_change=lambda value: switching_record(B, B.choose_territory(value))), max_width="24rem", width="100%"),
                territory_services_table(),
                sms_form(),
                spacing="5", width="100%",
            ),
            rx.text("Ouvrez d'abord un territoire."),
        ),
        width="100%",
    )


def move_panel() -> rx.Component:
    return rx.cond(
        B.moving_id != "",
        rx.el.section(
            rx.heading("Déplacer " + B.moving_name, as_="h3", size="4", id="deplacer-titre"),
            rx.text("Son rôle et son niveau passent dans l'organisation d'arrivée ; ses plages d'ouverture de "
                    "l'organisation de départ sont supprimées. Impossible tant qu'il y a des RDV à venir."),
            form_alert(B.move_error),
            rx.form(
                rx.vstack(
                    _select("deplacer-depart", "from_organisation", "Organisation de départ", B.move_sources),
                    _select("deplacer-arrivee", "to_organisation", "Organisation d'arrivée", B.move_targets),
                    rx.hstack(rx.button("Déplacer l'agent", type="submit"),
                              rx.button("Annuler", type="button", variant="outline", on_click=B.cancel_move),
                              spacing="3"),
                    spacing="4", width="100%",
                ),
                no_validate=True, on_submit=B.move, reset_on_submit=False, aria_labelledby="deplacer-titre",
            ),
            class_name="info-box", max_width=styles.NARROW_WIDTH, width="100%", key=B.moving_id,
        ),
    )


def instance_search() -> rx.Component:
    return rx.el.section(
        rx.heading("Agents et organisations de l'instance", as_="h2", size="5", id="recherche-instance-titre"),
        rx.box(
            rx.el.label("Rechercher un agent ou une organisation", html_for="recherche-instance",
                        class_name="field-label"),
            rx.el.p("Nom, prénom, email, organisation ou territoire : 2 lettres au moins.", id="recherche-instance-aide",
                    class_name="field-hint"),
            rx.el.input(id="recherche-instance", type="search", auto_complete="off", class_name="text-input",
                        aria_describedby="recherche-instance-aide", on_change=B.search.debounce(300)),
            role="search", max_width="32rem", width="100%",
        ),
        status_region(B.move_message),
        move_panel(),
        rx.cond(
            B.agent_results.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col")
                                               for h in ("Agent", "Email", "Organisations", "Action")])),
                rx.table.body(rx.foreach(B.agent_results, lambda a: rx.table.row(
                    rx.table.row_header_cell(a.name), rx.table.cell(a.email), rx.table.cell(a.organisations),
                    rx.table.cell(rx.button("Déplacer", variant="outline", size="2", on_click=B.start_move(a.id),
                                            aria_label="Déplacer " + a.name)),
                ))),
                variant="surface", width="100%", aria_label="Agents trouvés",
            ),
        ),
        rx.cond(
            B.organisation_results.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col")
                                               for h in ("Organisation", "Territoire", "Agents")])),
                rx.table.body(rx.foreach(B.organisation_results, lambda o: rx.table.row(
                    rx.table.row_header_cell(o.name), rx.table.cell(o.territory), rx.table.cell(o.agents)))),
                variant="surface", width="100%", aria_label="Organisations trouvées",
            ),
        ),
        rx.cond((B.query.length() >= 2) & (B.agent_results.length() == 0) & (B.organisation_results.length() == 0),
                rx.text("Aucun agent ni aucune organisation ne correspond.")),
        width="100%",
    )


@agent_page(routes.SUPER_ADMIN, "Super admin", load=[SuperAdminState.load, B.load_backoffice])
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
                    rx.link("Santé du service : files d'envoi, workers, tâches quotidiennes",
                            href=routes.SUPER_ADMIN_HEALTH, class_name="back-link"),
                    status_region(SuperAdminState.message),
                    rx.heading("Territoires", as_="h2", size="5"),
                    territories_table(),
                    territory_configuration(),
                    instance_search(),
                    services_section(),
                    open_account_form(),
                    open_mairie_form(),
                    super_admins_section(),
                ),
            ),
        ),
        spacing="5",
        width="100%",
    )
