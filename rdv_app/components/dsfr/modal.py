"""A DSFR-looking dialog on Radix's dialog (focus kept inside while open, returned to its opener when it
closes, Escape closes it), opened by `trigger`."""

from __future__ import annotations

import reflex as rx


def modal(trigger: rx.Component, title: str | rx.Var, *body: rx.Component, close_label: str = "Fermer") -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(trigger),
        rx.dialog.content(
            rx.el.div(
                rx.dialog.close(rx.el.button(close_label, type="button", class_name="fr-btn--close fr-btn",
                                             title="Fermer la fenêtre")),
                class_name="fr-modal__header",
            ),
            rx.el.div(
                rx.dialog.title(title, class_name="fr-modal__title"),
                *body,
                class_name="fr-modal__content",
            ),
            class_name="dsfr-modal",
        ),
    )
