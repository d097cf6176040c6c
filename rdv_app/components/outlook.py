"""Mon compte, "Synchronisation d'agenda" with Microsoft 365: connect, state, disconnect with progress."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from rdv_app.components.forms import form_alert
from rdv_app.components.planning import status_region


@dataclass(frozen=True)
class OutlookProps:
    loaded: rx.Var
    available: rx.Var
    connected: rx.Var
    broken: rx.Var
    disconnecting: rx.Var
    removed: rx.Var
    to_remove: rx.Var
    renew_before: rx.Var
    confirming: rx.Var
    message: rx.Var
    error: rx.Var
    on_connect: Any  # leaves the app for the plain HTTP route that sends the browser to Microsoft
    on_ask_disconnect: Any
    on_cancel_disconnect: Any
    on_disconnect: Any


def _connect_button(outlook: OutlookProps, label: str) -> rx.Component:
    return rx.button(rx.icon("log-in", size=16), label, type="button", size="3", on_click=outlook.on_connect,
                     disabled=~outlook.loaded, align_self="flex-start")


def _not_connected(outlook: OutlookProps) -> rx.Component:
    return rx.fragment(
        rx.text("Vous pouvez envoyer automatiquement vos rendez-vous dans votre agenda Outlook (Microsoft 365) : "
                "ceux d'il y a un mois et plus récents, puis chaque création, modification ou annulation."),
        _connect_button(outlook, "S'identifier avec Microsoft"),
    )


def _progress(outlook: OutlookProps) -> rx.Component:
    return rx.el.div(
        rx.el.p(rx.spinner(size="2"), "Déconnexion en cours : vos rendez-vous sont retirés de votre agenda "
                "Outlook.", id="outlook-progression-titre"),
        rx.el.progress(value=outlook.removed, max=rx.cond(outlook.to_remove, outlook.to_remove, 1),
                       class_name="sync-progress", aria_labelledby="outlook-progression-titre",
                       aria_describedby="outlook-progression"),
        rx.el.p(outlook.removed.to_string() + " sur " + outlook.to_remove.to_string() + " rendez-vous retirés",
                id="outlook-progression"),
        class_name="info-box",
    )


def _disconnect_block(outlook: OutlookProps) -> rx.Component:
    return rx.cond(
        outlook.confirming,
        rx.el.div(
            rx.el.p("Tous vos rendez-vous seront retirés de votre agenda Outlook, puis votre compte sera "
                    "déconnecté. Continuer ?", id="outlook-confirmation"),
            rx.flex(
                rx.el.button(rx.icon("unlink", size=16), "Oui, déconnecter mon compte Outlook", type="button",
                             class_name="danger-button", on_click=outlook.on_disconnect,
                             aria_describedby="outlook-confirmation"),
                rx.button("Annuler", type="button", variant="outline", size="3",
                          on_click=outlook.on_cancel_disconnect),
                gap="0.75rem", wrap="wrap",
            ),
            class_name="warning-box",
        ),
        rx.button(rx.icon("unlink", size=16), "Déconnecter votre compte Outlook", type="button", variant="outline",
                  size="3", on_click=outlook.on_ask_disconnect, disabled=~outlook.loaded),
    )


def _connected(outlook: OutlookProps) -> rx.Component:
    return rx.cond(
        outlook.disconnecting,
        _progress(outlook),
        rx.fragment(
            rx.cond(
                outlook.broken,
                rx.el.div(
                    rx.el.p("Microsoft a refusé la connexion de votre compte Outlook (elle a expiré ou a été "
                            "révoquée) : vos rendez-vous ne sont plus envoyés. Identifiez-vous de nouveau pour la "
                            "rétablir."),
                    _connect_button(outlook, "Renouveler la connexion avec Microsoft"),
                    class_name="warning-box",
                ),
                rx.fragment(
                    rx.text("Votre compte Outlook est connecté : chaque création, modification ou annulation de vos "
                            "rendez-vous y est copiée automatiquement."),
                    rx.el.p("Sans rendez-vous à envoyer d'ici là, la connexion est à renouveler avant le ",
                            rx.el.strong(outlook.renew_before), " : identifiez-vous alors de nouveau avec "
                            "Microsoft.", class_name="info-box"),
                ),
            ),
            rx.el.p("Ne modifiez pas ces rendez-vous dans Outlook : les changements n'y reviennent pas ici, et les "
                    "usagers n'en sont pas prévenus."),
            _disconnect_block(outlook),
        ),
    )


def outlook_section(outlook: OutlookProps) -> rx.Component:
    return rx.cond(
        outlook.available,
        rx.el.section(
            rx.heading("Synchronisation avec Outlook (Microsoft 365)", as_="h2", size="5", id="outlook"),
            rx.text("Seuls le motif, le lieu et un lien vers le rendez-vous sont envoyés, jamais les informations "
                    "des usagers."),
            rx.cond(outlook.connected, _connected(outlook), _not_connected(outlook)),
            form_alert(outlook.error),
            status_region(outlook.message),
            class_name="planning-section",
            aria_labelledby="outlook",
        ),
        rx.fragment(),
    )
