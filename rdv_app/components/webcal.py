"""Mon compte, "Synchroniser avec mon agenda": the personal webcal address, how to use it, how to reset it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import reflex as rx

from rdv_app.components.forms import form_alert
from rdv_app.components.planning import status_region


@dataclass(frozen=True)
class WebcalProps:
    webcal_url: rx.Var
    https_url: rx.Var
    message: rx.Var
    error: rx.Var
    confirming_reset: rx.Var
    resetting: rx.Var
    on_copied: Callable[[str], Any]  # which link was copied: "webcal" or "https"
    on_ask_reset: Any
    on_cancel_reset: Any
    on_reset: Any


def _link_field(webcal: WebcalProps, field_id: str, label: str, value: rx.Var, hint: str,
                which: str) -> rx.Component:
    return rx.box(
        rx.el.label(label, html_for=field_id, class_name="field-label"),
        rx.text(hint, id=f"{field_id}-aide", class_name="field-hint"),
        rx.flex(
            rx.el.input(id=field_id, value=value, read_only=True, class_name="text-input",
                        aria_describedby=f"{field_id}-aide", flex="1", min_width="0"),
            rx.button(rx.icon("copy", size=16), "Copier", type="button", variant="outline", size="3",
                      aria_label=f"Copier le lien {which}",
                      on_click=[rx.set_clipboard(value), webcal.on_copied(which)]),
            gap="0.5rem", align="center", wrap="wrap", width="100%",
        ),
        width="100%",
    )


def _reset_block(webcal: WebcalProps) -> rx.Component:
    return rx.cond(
        webcal.confirming_reset,
        rx.el.div(
            rx.el.p("Les agendas abonnés au lien actuel ne recevront plus vos rendez-vous. Il faudra abonner "
                    "vos agendas au nouveau lien. Réinitialiser le lien ?", id="webcal-confirmation"),
            rx.flex(
                rx.el.button(rx.cond(webcal.resetting, rx.spinner(size="2"), rx.icon("refresh-cw", size=16)),
                             "Oui, réinitialiser le lien", type="button", class_name="danger-button",
                             disabled=webcal.resetting, on_click=webcal.on_reset,
                             aria_describedby="webcal-confirmation"),
                rx.button("Annuler", type="button", variant="outline", size="3", on_click=webcal.on_cancel_reset),
                gap="0.75rem", wrap="wrap",
            ),
            class_name="warning-box",
        ),
        rx.button(rx.icon("refresh-cw", size=16), "Réinitialiser le lien", type="button", variant="outline",
                  size="3", on_click=webcal.on_ask_reset),
    )


def webcal_section(webcal: WebcalProps) -> rx.Component:
    return rx.el.section(
        rx.heading("Synchroniser avec mon agenda", as_="h2", size="5", id="synchronisation"),
        rx.text("Abonnez votre agenda habituel (Google Agenda, Outlook, Thunderbird, agenda du téléphone…) à ce lien "
                "personnel : il y affiche vos rendez-vous de toutes vos organisations, à partir d'il y a un mois, "
                "annulations comprises. Seuls le motif, le lieu et un lien vers le rendez-vous y figurent, jamais "
                "les informations des usagers. Les changements faits dans votre agenda ne reviennent pas ici."),
        rx.el.p("Ce lien donne accès à votre agenda : ne le partagez pas. En cas de doute, réinitialisez-le.",
                class_name="info-box"),
        _link_field(webcal, "webcal-lien", "Lien d'abonnement (webcal)", webcal.webcal_url,
                    "À coller dans « Ajouter un agenda depuis une URL » ou « S'abonner à un calendrier ».",
                    "webcal"),
        _link_field(webcal, "webcal-lien-https", "Même lien en https", webcal.https_url,
                    "Pour les logiciels qui refusent les liens webcal://.", "https"),
        rx.el.ul(
            rx.el.li(rx.el.strong("Google Agenda : "), "« Autres agendas », « + », « À partir de l'URL », collez le "
                     "lien https. Google met à jour l'agenda à son rythme : un nouveau rendez-vous peut mettre "
                     "jusqu'à 12 heures à apparaître."),
            rx.el.li(rx.el.strong("Outlook : "), "« Ajouter un calendrier », « S'abonner à partir du web », collez le "
                     "lien. La mise à jour se fait en général dans l'heure."),
            class_name="details-list",
        ),
        form_alert(webcal.error),
        status_region(webcal.message),
        _reset_block(webcal),
        class_name="planning-section",
        aria_labelledby="synchronisation",
    )
