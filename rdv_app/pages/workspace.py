"""Agent pages: workspace home and "Mon compte"."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes, styles
from rdv_app.components.fields import fieldset
from rdv_app.components.forms import error_summary, form_alert, loaded_fieldset, text_field
from rdv_app.components.layout import loading_block
from rdv_app.components.mfa import EnrolmentProps, enrolment_step, recovery_codes_list
from rdv_app.components.outlook import OutlookProps, outlook_section
from rdv_app.components.planning import status_region
from rdv_app.components.webcal import WebcalProps, webcal_section
from rdv_app.domain.colours import AGENT_PALETTE, AGENT_PALETTE_NAMES
from rdv_app.domain.enums import RdvNotificationLevel
from rdv_app.domain.passwords import PASSWORD_HINT
from rdv_app.pages.template import agent_page
from rdv_app.state.agent import AgentState
from rdv_app.state.calendar_sync import OutlookState, WebcalState
from rdv_app.state.workspace import OTHER_COLOUR, VERSION_FIELD, AccountState, WorkspaceState


def upcoming_table() -> rx.Component:
    # A region that takes the focus: on a phone the table scrolls sideways, by keyboard too (RGAA 12.8).
    return rx.cond(
        WorkspaceState.upcoming.length() > 0,
        rx.el.div(
            rx.el.table(
                rx.el.thead(rx.el.tr(*[rx.el.th(h, scope="col")
                                       for h in ("Date", "Heure", "Motif", "Lieu", "Usagers", "Statut")])),
                rx.el.tbody(rx.foreach(WorkspaceState.upcoming, lambda r: rx.el.tr(
                    # The date opens the RDV: one link per row, named by the date (keyboard and screen readers).
                    rx.el.th(rx.link(r["day"], href=r["href"]), scope="row"), rx.el.td(r["time"]),
                    rx.el.td(r["motif"]), rx.el.td(r["lieu"]), rx.el.td(r["usagers"]), rx.el.td(r["status"]),
                ))),
                class_name="admin-table",
            ),
            class_name="table-scroll", tab_index=0, role="region", aria_label="Vos prochains rendez-vous",
        ),
        rx.text("Aucun rendez-vous à venir dans cette organisation."),
    )


def setup_checklist() -> rx.Component:
    return rx.cond(
        WorkspaceState.setup.length() > 0,
        rx.el.section(
            rx.heading("Premières étapes", as_="h2", size="5", id="premieres-etapes"),
            rx.el.ol(rx.foreach(WorkspaceState.setup, lambda step: rx.el.li(
                rx.link(step.label, href=step.route),
                " : ", rx.cond(step.done, rx.el.strong("fait"), rx.el.span("à faire")),
            )), class_name="setup-steps"),
            aria_labelledby="premieres-etapes", class_name="info-box",
        ),
    )


@agent_page(routes.WORKSPACE, "Accueil agent", load=WorkspaceState.load)
def workspace_home() -> rx.Component:
    return rx.vstack(
        rx.heading("Bonjour " + AgentState.first_name, as_="h1", size="7"),
        rx.cond(
            AgentState.organisations.length() > 0,
            rx.fragment(
                rx.text(AgentState.current_org_name + " · " + AgentState.current_access_level,
                        color=styles.TEXT_MUTED),
                setup_checklist(),
                rx.heading("Vos prochains rendez-vous", as_="h2", size="5"),
                form_alert(WorkspaceState.denied),
                rx.cond(WorkspaceState.loading, loading_block("Chargement de vos rendez-vous…"), upcoming_table()),
            ),
            rx.fragment(
                rx.el.p("Vous n'êtes membre d'aucune organisation pour l'instant.", class_name="info-box"),
                rx.cond(AgentState.is_super_admin, rx.vstack(
                    rx.text("Super administrateur de cette instance", color=styles.TEXT_MUTED),
                    rx.link("Ouvrir un territoire et inviter son administrateur", href=routes.SUPER_ADMIN),
                    spacing="2"), rx.fragment()),
            ),
        ),
        spacing="4",
        width="100%",
    )


def password_form() -> rx.Component:
    def error_for(field: str) -> rx.Var | str:
        return AccountState.password_errors.get(field, "")

    return rx.form(
        rx.vstack(
            error_summary(AccountState.password_error_links),
            text_field("current", "Mot de passe actuel", type_="password", autocomplete="current-password",
                       error=error_for("current")),
            text_field("new", "Nouveau mot de passe", type_="password", autocomplete="new-password",
                       hint=PASSWORD_HINT,
                       error=error_for("new")),
            text_field("confirmation", "Confirmation du nouveau mot de passe", type_="password",
                       autocomplete="new-password", error=error_for("confirmation")),
            status_region(rx.cond(AccountState.password_saved, "Votre mot de passe a été modifié.", "")),
            rx.button("Changer de mot de passe", type="submit"),
            spacing="3", width="100%",
        ),
        on_submit=AccountState.change_password,
        reset_on_submit=True,
        # The service checks every field and the summary lists each error (the browser would name only one).
        no_validate=True,
        aria_label="Changer de mot de passe",
        max_width=styles.NARROW_WIDTH,
        width="100%",
    )


def mfa_section() -> rx.Component:
    S = AccountState
    return rx.vstack(
        rx.heading("Double authentification", as_="h2", size="5", id="double-authentification"),
        rx.text("En plus de votre mot de passe, un code à 6 chiffres affiché par une application de votre "
                "téléphone vous est demandé à chaque connexion.", color=styles.TEXT_MUTED),
        status_region(S.mfa_message),
        rx.cond(
            S.recovery_codes.length() > 0,
            recovery_codes_list(S.recovery_codes),
            rx.fragment(),
        ),
        rx.cond(
            S.mfa_enabled,
            rx.vstack(
                rx.el.p("La double authentification est activée. Codes de secours restants : ",
                        rx.el.strong(S.recovery_codes_left.to_string()), "."),
                rx.cond(
                    S.mfa_required,
                    rx.el.p("Elle est obligatoire pour les administrateurs : elle ne peut pas être désactivée.",
                            class_name="info-box"),
                    rx.form(
                        rx.vstack(
                            text_field("code_or_password", "Code à 6 chiffres ou votre mot de passe",
                                       type_="password", autocomplete="off", error=S.mfa_error,
                                       hint="Pour la désactiver, confirmez avec un code de votre application ou "
                                            "avec votre mot de passe."),
                            rx.button("Désactiver la double authentification", type="submit", color_scheme="red",
                                      variant="outline"),
                            spacing="3", width="100%",
                        ),
                        no_validate=True, on_submit=S.disable_mfa,
                        reset_on_submit=True,
                        aria_label="Désactiver la double authentification",
                        width="100%",
                    ),
                ),
                spacing="3", width="100%",
            ),
            rx.cond(
                S.enrolment_open,
                enrolment_step(EnrolmentProps(
                    qr_code=S.enrolment_qr_code, secret_text=S.enrolment_secret_text, error=S.enrolment_error,
                    saving=S.enrolment_saving, on_confirm=S.confirm_enrolment)),
                rx.vstack(
                    form_alert(S.enrolment_error),
                    rx.button("Activer la double authentification", type="button", on_click=S.start_enrolment),
                    spacing="3", width="100%",
                ),
            ),
        ),
        max_width=styles.NARROW_WIDTH,
        spacing="3",
        width="100%",
    )


RDV_NOTIFICATION_CHOICES = (
    (RdvNotificationLevel.ALL, "Tous les rendez-vous, y compris ceux que je crée"),
    (RdvNotificationLevel.OTHERS, "Ceux créés par d'autres (recommandé)"),
    (RdvNotificationLevel.SOON, "Seulement ceux d'aujourd'hui et de demain créés par d'autres"),
    (RdvNotificationLevel.NONE, "Aucun"),
)
LEVEL_FIELD = "rdv_notifications_level"


def _level_radio(level: RdvNotificationLevel, label: str) -> rx.Component:
    return rx.el.label(
        rx.el.input(type="radio", name=LEVEL_FIELD, value=level.value, required=True,
                    default_checked=AccountState.rdv_notifications_level == level.value,
                    key=AccountState.preferences_key),
        label,
        class_name="checkbox-label",
    )


def _preference_checkbox(name: str, label: str, initial: rx.Var) -> rx.Component:
    """Read only when the form is submitted: the browser keeps the ticks until then."""
    return rx.el.label(
        rx.el.input(type="checkbox", name=name, default_checked=initial, key=AccountState.preferences_key),
        label,
        class_name="checkbox-label",
    )


def preferences_form() -> rx.Component:
    level_error = rx.cond(AccountState.preferences_field == LEVEL_FIELD, AccountState.preferences_error, "")
    other_error = rx.cond(AccountState.preferences_field == LEVEL_FIELD, "", AccountState.preferences_error)
    return rx.form(
        loaded_fieldset(rx.vstack(
            fieldset(
                "preferences-rdv", "Rendez-vous pour lesquels vous recevez une notification",
                rx.flex(*[_level_radio(level, label) for level, label in RDV_NOTIFICATION_CHOICES],
                        direction="column"),
                error=level_error,
            ),
            fieldset(
                "preferences-emails", "Emails de confirmation",
                rx.flex(
                    _preference_checkbox("plage_notices", "Recevoir un email quand une de mes plages d'ouverture "
                                         "est créée, modifiée ou supprimée", AccountState.plage_notices),
                    _preference_checkbox("absence_notices", "Recevoir un email quand une de mes indisponibilités "
                                         "est créée, modifiée ou supprimée", AccountState.absence_notices),
                    direction="column",
                ),
            ),
            fieldset(
                "preferences-agenda", "Affichage de l'agenda",
                rx.flex(
                    _preference_checkbox("display_saturdays", "Afficher les samedis",
                                         AccountState.display_saturdays),
                    _preference_checkbox("display_cancelled_rdv", "Afficher les rendez-vous annulés",
                                         AccountState.display_cancelled_rdv),
                    direction="column",
                ),
            ),
            form_alert(other_error),
            status_region(rx.cond(AccountState.preferences_saved, "Vos préférences ont été enregistrées.", "")),
            rx.button("Enregistrer mes préférences", type="submit", loading=AccountState.preferences_saving),
            spacing="3", width="100%",
        ),
            rx.el.input(type="hidden", name=VERSION_FIELD, value=AccountState.preferences_version),
            loaded_for=AccountState.loaded_for),
        no_validate=True, on_submit=AccountState.save_preferences,
        aria_label="Préférences",
        width="100%",
    )


COLOUR_FIELD = "agenda-couleur"
OTHER_COLOUR_FIELD = "agenda-couleur-autre"


def _colour_radio(colour: str, name: str) -> rx.Component:
    return rx.el.label(
        rx.el.input(type="radio", name="agenda_colour", value=colour, default_checked=AccountState.agenda_colour == colour,
                    key=AccountState.colour_key),
        rx.el.span(aria_hidden="true", class_name="colour-swatch", style={"background_color": colour}),
        name,
        class_name="checkbox-label",
    )


def agenda_colour_form() -> rx.Component:
    """The colour of the agent's events in a team agenda: the palette, or a colour of their own whose
    contrast the service checks."""
    in_palette = rx.Var.create(list(AGENT_PALETTE)).contains(AccountState.agenda_colour)
    return rx.form(
        loaded_fieldset(rx.vstack(
            fieldset(
                COLOUR_FIELD, "Couleur de vos rendez-vous dans l'agenda d'équipe",
                rx.flex(
                    *[_colour_radio(colour, name) for colour, name in AGENT_PALETTE_NAMES.items()],
                    rx.el.label(
                        rx.el.input(type="radio", name="agenda_colour", value=OTHER_COLOUR,
                                    default_checked=(AccountState.agenda_colour != "") & ~in_palette,
                                    key=AccountState.colour_key),
                        "Une autre couleur :",
                        class_name="checkbox-label",
                    ),
                    wrap="wrap", column_gap="1.25rem", row_gap="0.25rem",
                ),
                rx.el.label("Autre couleur, au format #RRGGBB", html_for=OTHER_COLOUR_FIELD, class_name="field-label"),
                rx.el.input(id=OTHER_COLOUR_FIELD, name="agenda_colour_other", type="text", max_length=7,
                            default_value=rx.cond(in_palette, "", AccountState.agenda_colour),
                            key=AccountState.colour_key, placeholder="#1f5fbf", class_name="text-input",
                            aria_describedby=f"{COLOUR_FIELD}-erreur",
                            aria_invalid=rx.cond(AccountState.colour_error != "", "true", "false")),
                error=AccountState.colour_error,
                hint="Elle marque vos rendez-vous quand plusieurs agendas sont affichés ; vos initiales y sont "
                     "écrites en blanc, elle doit donc être assez foncée.",
            ),
            status_region(rx.cond(AccountState.colour_saved, "Votre couleur a été enregistrée.", "")),
            rx.button("Enregistrer ma couleur", type="submit", loading=AccountState.colour_saving),
            spacing="3", width="100%",
        ), loaded_for=AccountState.loaded_for),
        no_validate=True, on_submit=AccountState.save_agenda_colour,
        aria_label="Couleur dans l'agenda",
        width="100%",
    )


@agent_page(routes.ACCOUNT, "Mon compte", load=[AccountState.load, WebcalState.load_webcal, OutlookState.load_outlook])
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
        mfa_section(),
        rx.heading("Préférences", as_="h2", size="5"),
        preferences_form(),
        rx.heading("Couleur dans l'agenda", as_="h2", size="5"),
        agenda_colour_form(),
        webcal_section(WebcalProps(
            webcal_url=WebcalState.webcal_url, https_url=WebcalState.https_url, message=WebcalState.webcal_message,
            error=WebcalState.webcal_error, confirming_reset=WebcalState.confirming_reset,
            resetting=WebcalState.resetting, on_copied=WebcalState.copied, on_ask_reset=WebcalState.ask_reset,
            on_cancel_reset=WebcalState.cancel_reset, on_reset=WebcalState.reset_link,
        )),
        outlook_section(OutlookProps(
            loaded=OutlookState.outlook_loaded, available=OutlookState.outlook_available,
            connected=OutlookState.outlook_connected, broken=OutlookState.outlook_broken,
            disconnecting=OutlookState.outlook_disconnecting, removed=OutlookState.outlook_removed,
            to_remove=OutlookState.outlook_to_remove, renew_before=OutlookState.outlook_renew_before,
            confirming=OutlookState.outlook_confirming, message=OutlookState.outlook_message,
            error=OutlookState.outlook_error, on_connect=OutlookState.connect,
            on_ask_disconnect=OutlookState.ask_disconnect, on_cancel_disconnect=OutlookState.cancel_disconnect,
            on_disconnect=OutlookState.disconnect,
        )),
        spacing="4",
        width="100%",
    )
