"""Public pages: home, agent sign-in, not found."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes, styles
from rdv_app.components import dsfr
from rdv_app.components.forms import form_alert, hydrated_fieldset, text_field
from rdv_app.components.layout import loading_block
from rdv_app.components.mfa import CODE_HINT, EnrolmentProps, enrolment_step, recovery_codes_list
from rdv_app.domain.passwords import PASSWORD_HINT
from rdv_app.pages.template import template
from rdv_app.services.deployment import BOOTSTRAP_COMMAND
from rdv_app.state.invitation import InvitationState
from rdv_app.state.login import LoginState
from rdv_app.state.session_guard import SessionEndedNotice


@template(routes.HOME, "Accueil",
          description="Prenez rendez-vous en ligne avec vos services publics : PMI, services sociaux, mairies.")
def home() -> rx.Component:
    return rx.vstack(
        rx.heading("Prenez rendez-vous avec vos services publics", as_="h1", size="8"),
        rx.text("PMI, services sociaux, mairies : les agents planifient leurs journées, les usagers reçoivent "
                "leurs confirmations et rappels par SMS et par email.", size="4", color=styles.var("text-muted")),
        rx.el.h2("Vous êtes agent ?", class_name="fr-h4"),
        rx.box(dsfr.tile("Se connecter à l'espace agents", routes.LOGIN,
                         "Votre agenda et vos rendez-vous.", heading_level="h3"),
               max_width=styles.NARROW_WIDTH, width="100%"),
        spacing="5",
    )


def bootstrap_notice() -> rx.Component:
    """A real instance that no one can sign in to yet says how its first account is made."""
    return rx.cond(
        LoginState.awaiting_first_account,
        rx.el.section(
            rx.heading("Première mise en service", as_="h2", size="4"),
            rx.text("Aucun compte ne peut encore se connecter à cette instance. Sur le serveur, créez le premier "
                    "super administrateur avec la commande suivante, puis ouvrez le lien qu'elle affiche :"),
            rx.code(BOOTSTRAP_COMMAND),
            class_name="info-box", aria_label="Première mise en service",
        ),
        rx.fragment(),
    )


def password_step() -> rx.Component:
    return rx.vstack(
        rx.heading("Connexion à l'espace agents", as_="h1", size="7"),
        rx.cond(SessionEndedNotice.message != "",
                rx.callout(SessionEndedNotice.message, icon="info", role="status", width="100%"), rx.fragment()),
        bootstrap_notice(),
        rx.form(hydrated_fieldset(
            rx.vstack(
                form_alert(LoginState.error),
                text_field("email", "Adresse email", type_="email", autocomplete="username",
                           hint="Format attendu : prenom.nom@exemple.fr", error=LoginState.field_errors.get("email", "")),
                text_field("password", "Mot de passe", type_="password", autocomplete="current-password",
                           error=LoginState.field_errors.get("password", "")),
                rx.button(
                    rx.cond(LoginState.submitting, rx.spinner(size="2"), rx.fragment()),
                    rx.cond(LoginState.submitting, "Connexion en cours…", "Se connecter"),
                    type="submit", size="3", disabled=LoginState.submitting, width="100%",
                ),
                spacing="4",
                width="100%",
            )),
            no_validate=True, on_submit=LoginState.submit,
            reset_on_submit=False,
            width="100%",
            aria_label="Connexion",
        ),
        width="100%",
        spacing="5",
    )


def invitation_form() -> rx.Component:
    def error_for(field: str) -> rx.Var:
        return rx.cond(InvitationState.error_field == field, InvitationState.error, "")

    return rx.form(
        rx.vstack(
            rx.text("Invitation pour ", rx.el.strong(InvitationState.email), ", valable jusqu'au ",
                    InvitationState.expires, "."),
            form_alert(rx.cond(InvitationState.error_field == "", InvitationState.error, "")),
            text_field("first_name", "Prénom", autocomplete="given-name", error=error_for("first_name")),
            text_field("last_name", "Nom", autocomplete="family-name", error=error_for("last_name")),
            text_field("password", "Mot de passe", type_="password", autocomplete="new-password",
                       hint=PASSWORD_HINT, error=error_for("password")),
            text_field("confirmation", "Confirmation du mot de passe", type_="password",
                       autocomplete="new-password", error=error_for("confirmation")),
            rx.button(
                rx.cond(InvitationState.submitting, rx.spinner(size="2"), rx.fragment()),
                rx.cond(InvitationState.submitting, "Activation en cours…", "Activer mon compte"),
                type="submit", size="3", disabled=InvitationState.submitting, width="100%",
            ),
            spacing="4",
            width="100%",
        ),
        no_validate=True, on_submit=InvitationState.submit,
        reset_on_submit=False,
        width="100%",
        aria_label="Activer mon compte",
    )


@template(routes.INVITATION, "Activer votre compte", on_load=InvitationState.load,
          description="Agent invité : choisissez votre nom et votre mot de passe pour activer votre compte.")
def invitation() -> rx.Component:
    return second_step(invitation_step())


def invitation_step() -> rx.Component:
    return rx.vstack(
        rx.heading("Activer votre compte agent", as_="h1", size="7"),
        rx.cond(
            InvitationState.loaded,
            rx.cond(
                InvitationState.problem != "",
                rx.vstack(rx.el.div(InvitationState.problem, role="alert", class_name="form-alert"),
                          rx.link("Aller à la page de connexion", href=routes.LOGIN), spacing="4"),
                invitation_form(),
            ),
            loading_block("Vérification de votre invitation…"),
        ),
        max_width=styles.NARROW_WIDTH,
        width="100%",
        spacing="5",
    )


def _start_over() -> rx.Component:
    return rx.button("Recommencer la connexion", type="button", variant="outline", on_click=LoginState.start_over)


def code_step() -> rx.Component:
    return rx.vstack(
        rx.heading("Double authentification", as_="h1", size="7"),
        rx.text("Votre mot de passe est correct. Pour terminer la connexion, saisissez le code de votre "
                "application d'authentification."),
        rx.form(
            rx.vstack(
                text_field("code", "Code à 6 chiffres", autocomplete="one-time-code", error=LoginState.code_error,
                           hint=CODE_HINT + " Sans votre téléphone, saisissez l'un de vos codes de secours."),
                rx.button(rx.cond(LoginState.submitting, "Vérification…", "Valider le code"), type="submit",
                          size="3", disabled=LoginState.submitting, width="100%"),
                spacing="4",
                width="100%",
            ),
            no_validate=True, on_submit=LoginState.submit_code,
            reset_on_submit=True,
            width="100%",
            aria_label="Code de double authentification",
        ),
        _start_over(),
        width="100%",
        spacing="5",
    )


def enrolment_sign_in_step() -> rx.Component:
    return rx.vstack(
        rx.heading("Activez la double authentification", as_="h1", size="7"),
        rx.text("Votre rôle d'administrateur exige une double authentification : en plus de votre mot de passe, "
                "un code à 6 chiffres affiché par une application de votre téléphone. Activez-la pour accéder à "
                "votre espace."),
        rx.cond(
            LoginState.recovery_codes.length() > 0,
            rx.vstack(
                recovery_codes_list(LoginState.recovery_codes),
                rx.button("J'ai noté mes codes, accéder à mon espace", type="button", size="3",
                          on_click=LoginState.finish_enrolment),
                spacing="4", width="100%",
            ),
            rx.cond(
                LoginState.enrolment_open,
                enrolment_step(EnrolmentProps(
                    qr_code=LoginState.enrolment_qr_code, secret_text=LoginState.enrolment_secret_text,
                    error=LoginState.enrolment_error, saving=LoginState.enrolment_saving,
                    on_confirm=LoginState.confirm_enrolment)),
                form_alert(LoginState.enrolment_error),
            ),
        ),
        _start_over(),
        width="100%",
        spacing="5",
    )


def second_step(first_step: rx.Component) -> rx.Component:
    """The code or enrolment step of `LoginState`, else `first_step` (the password, or another flow's form)."""
    return rx.box(
        rx.match(
            LoginState.step,
            ("code", code_step()),
            ("enrolment", enrolment_sign_in_step()),
            first_step,
        ),
        max_width=styles.NARROW_WIDTH,
        width="100%",
    )


@template(routes.LOGIN, "Connexion agent", on_load=[LoginState.reset_form, SessionEndedNotice.read],
          description="Connexion à l'espace agents : votre agenda, vos rendez-vous et les usagers de votre organisation.")
def login() -> rx.Component:
    return second_step(password_step())


@template(routes.NOT_FOUND, "Page introuvable",
          description="Cette page n'existe pas ou n'existe plus. Revenez à l'accueil pour prendre rendez-vous.")
def not_found() -> rx.Component:
    return rx.vstack(
        rx.heading("Page introuvable", as_="h1", size="7"),
        rx.text("La page que vous cherchez n'existe pas ou a été déplacée. Vérifiez l'adresse saisie."),
        rx.link("Retour à l'accueil", href=routes.HOME),
        spacing="4",
    )
