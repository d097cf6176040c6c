"""DSFR blocks: alert, notice, tile, card, badge, breadcrumb, stepper."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import reflex as rx

AlertType = Literal["info", "success", "warning", "error"]


def alert(title: str | rx.Var, description: str | rx.Var = "", *, kind: AlertType = "info",
          heading_level: Literal["h2", "h3"] = "h3") -> rx.Component:
    """A message about the page's content, its title a heading. An error is announced as an alert, anything
    else as a status."""
    heading = getattr(rx.el, heading_level)
    return rx.el.div(
        heading(title, class_name="fr-alert__title"),
        *([rx.el.p(description)] if isinstance(description, rx.Var) or description else []),
        class_name=f"fr-alert fr-alert--{kind}", role="alert" if kind == "error" else "status",
    )


def notice(title: str | rx.Var, link_text: str = "", href: str = "") -> rx.Component:
    """An important information of the whole site, above the page's content."""
    link = [rx.el.a(link_text, href=href, class_name="fr-notice__link")] if href else []
    return rx.el.div(
        rx.el.div(rx.el.div(rx.el.p(rx.el.span(title, class_name="fr-notice__title"), *link),
                            class_name="fr-notice__body"), class_name="fr-container"),
        class_name="fr-notice fr-notice--info",
    )


def tile(title: str | rx.Var, href: str | rx.Var, description: str | rx.Var = "", *,
         heading_level: Literal["h2", "h3", "h4"] = "h3") -> rx.Component:
    """A link as a tile: the whole tile is the link (fr-enlarge-link)."""
    heading = getattr(rx.el, heading_level)
    return rx.el.div(
        rx.el.div(
            rx.el.div(
                heading(rx.el.a(title, href=href), class_name="fr-tile__title"),
                rx.el.p(description, class_name="fr-tile__desc") if isinstance(description, rx.Var) or description
                else rx.fragment(),
                class_name="fr-tile__content",
            ),
            class_name="fr-tile__body",
        ),
        class_name="fr-tile fr-enlarge-link",
    )


def card(title: str | rx.Var, *content: rx.Component, badges: rx.Component | None = None,
         actions: Sequence[rx.Component] = (), heading_level: Literal["h2", "h3", "h4"] = "h3") -> rx.Component:
    """A card that is not a link (fr-card--no-arrow): its title a heading, its badges above it, its content,
    then its actions as a group of buttons in the card's footer."""
    heading = getattr(rx.el, heading_level)
    return rx.el.div(
        rx.el.div(
            rx.el.div(
                heading(title, class_name="fr-card__title"),
                rx.el.div(*content, class_name="fr-card__desc"),
                *([rx.el.div(badges, class_name="fr-card__start")] if badges is not None else []),
                class_name="fr-card__content",
            ),
            *([rx.el.div(rx.el.div(*actions, class_name="fr-btns-group"), class_name="fr-card__footer")]
              if actions else []),
            class_name="fr-card__body",
        ),
        class_name="fr-card fr-card--no-arrow",
    )


def badge(label: str | rx.Var, *, kind: AlertType = "info") -> rx.Component:
    """A short status ("Annulé") in the DSFR's system colours, never the colour alone: the text says it."""
    return rx.el.p(label, class_name=f"fr-badge fr-badge--{kind}")


def breadcrumb(links: Sequence[tuple[str, str]], current: str | rx.Var) -> rx.Component:
    """"Vous êtes ici :" the links above the current page, and the page itself (not a link)."""
    return rx.el.nav(
        rx.el.ol(
            *[rx.el.li(rx.el.a(label, href=href, class_name="fr-breadcrumb__link")) for label, href in links],
            rx.el.li(rx.el.a(current, aria_current="page", class_name="fr-breadcrumb__link")),
            class_name="fr-breadcrumb__list",
        ),
        role="navigation", aria_label="vous êtes ici :", class_name="fr-breadcrumb",
    )


def stepper(number: rx.Var | int, total: int, title: rx.Var | str, next_title: rx.Var | str) -> rx.Component:
    """"Étape 2 sur 4": the current step's title, a bar of `total` segments, and the next step's title
    (none on the last step)."""
    number_text = rx.Var.create(number).to_string()
    return rx.el.div(
        # A paragraph, not a heading: the step's own heading follows it.
        rx.el.p(title, rx.el.span("Étape ", number_text, f" sur {total}", class_name="fr-stepper__state"),
                class_name="fr-stepper__title"),
        rx.el.div(class_name="fr-stepper__steps", data_fr_current_step=number_text, data_fr_steps=str(total)),
        rx.cond(next_title != "",
                rx.el.p(rx.el.span("Étape suivante : ", class_name="fr-text--bold"), next_title,
                        class_name="fr-stepper__details"),
                rx.fragment()),
        class_name="fr-stepper",
    )
