"""Public pages: home, agent sign-in, not found."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes, styles
from rdv_app.components.forms import form_alert, text_field
from rdv_app.components.mfa import CODE_HINT, EnrolmentProps, enrolment_step, recovery_codes_list
from rdv_app.pages.template import template
from rdv_app.state.login import LoginState


@template(routes.HOME, "Accueil")
def home() -> rx.Component:
    return rx.vstack(
        rx.heading("Prenez rendez-vous avec vos services publics", as_="h1", size="8"),
        rx.text("PMI, services sociaux, mairies : les agents planifient leurs journées, les usagers reçoivent "
                "leurs confirmations et rappels par SMS et par email.", size="4", color=styles.TEXT_MUTED),
        rx.card(
            rx.heading("Vous êtes agent ?", as_="h2", size="5"),
            rx.text("Connectez-vous pour accéder à votre agenda et à vos rendez-vous."),
            rx.link(rx.button("Se connecter à l'espace agents", size="3"), href=routes.LOGIN),
            max_width=styles.NARROW_WIDTH,
        ),
        spacing="5",
    )


def password_step() -> rx.Component:
    return rx.vstack(
        rx.heading("Connexion à l'espace agents", as_="h1", size="7"),
        rx.form(
            rx.vstack(
                form_alert(LoginState.error),
                text_field("email", "Adresse email", type_="email", autocomplete="username",
                           hint="Format attendu : prenom.nom@exemple.fr"),
                text_field("password", "Mot de passe", type_="password", autocomplete="current-password"),
                rx.button(
                    rx.cond(LoginState.submitting, rx.spinner(size="2"), rx.fragment()),
                    rx.cond(LoginState.submitting, "Connexion en cours…", "Se connecter"),
                    type="submit", size="3", disabled=LoginState.submitting, width="100%",
                ),
                spacing="4",
                width="100%",
            ),
            on_submit=LoginState.submit,
            reset_on_submit=False,
            width="100%",
            aria_label="Connexion",
        ),
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
            on_submit=LoginState.submit_code,
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


@template(routes.LOGIN, "Connexion agent", on_load=LoginState.reset_form)
def login() -> rx.Component:
    return second_step(password_step())


@template(routes.NOT_FOUND, "Page introuvable")
def not_found() -> rx.Component:
    return rx.vstack(
        rx.heading("Page introuvable", as_="h1", size="7"),
        rx.text("La page que vous cherchez n'existe pas ou a été déplacée. Vérifiez l'adresse saisie."),
        rx.link("Retour à l'accueil", href=routes.HOME),
        spacing="4",
    )
