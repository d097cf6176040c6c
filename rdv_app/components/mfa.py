"""The second-factor pieces of the agents' pages: setting it up (QR code, secret, confirmation code) and
the recovery codes shown once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from rdv_app.components.forms import form_alert, text_field

CODE_HINT = "Le code à 6 chiffres affiché par votre application d'authentification."


@dataclass(frozen=True)
class EnrolmentProps:
    qr_code: rx.Var
    secret_text: rx.Var
    error: rx.Var
    saving: rx.Var
    on_confirm: Any


def enrolment_step(props: EnrolmentProps) -> rx.Component:
    return rx.vstack(
        rx.el.ol(
            rx.el.li("Installez une application d'authentification sur votre téléphone (par exemple FreeOTP, "
                     "Aegis, Google Authenticator ou Microsoft Authenticator)."),
            rx.el.li("Dans l'application, scannez ce QR code, ou saisissez la clé affichée dessous."),
            rx.el.li("Saisissez le code à 6 chiffres que l'application affiche."),
        ),
        rx.image(src=props.qr_code, alt="QR code à scanner avec votre application d'authentification",
                 width="200px", height="200px"),
        rx.el.p("Clé à saisir : ", rx.el.code(props.secret_text, class_name="totp-secret")),
        rx.form(
            rx.vstack(
                text_field("enrolment_code", "Code à 6 chiffres", autocomplete="one-time-code", hint=CODE_HINT),
                form_alert(props.error),
                rx.button("Activer la double authentification", type="submit", loading=props.saving),
                spacing="3", width="100%",
            ),
            no_validate=True, on_submit=props.on_confirm,
            reset_on_submit=True,
            aria_label="Confirmer la double authentification",
            width="100%",
        ),
        spacing="3",
        width="100%",
    )


def recovery_codes_list(codes: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.el.p("La double authentification est activée. Voici vos codes de secours : notez-les ou "
                "imprimez-les maintenant, ils ne seront plus affichés. Chacun permet une seule connexion si vous "
                "n'avez pas votre téléphone.", class_name="success-box", role="status"),
        rx.el.ul(rx.foreach(codes, lambda code: rx.el.li(rx.el.code(code))), aria_label="Codes de secours"),
        spacing="3",
        width="100%",
    )
