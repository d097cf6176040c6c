""""Choisissez une organisation": an agent's organisations, grouped by territory."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes, styles
from rdv_app.components.layout import loading_block
from rdv_app.pages.template import agent_page
from rdv_app.state.organisation_chooser import ChooserGroup, ChooserOrganisation
from rdv_app.state.organisation_chooser import OrganisationChooserState as S


def _organisation(organisation: ChooserOrganisation) -> rx.Component:
    return rx.el.li(
        rx.button(
            rx.cond(organisation.is_admin, rx.icon("settings", size=16, aria_hidden="true"), rx.fragment()),
            organisation.name,
            rx.el.span(" · " + organisation.level, class_name="current-organisation"),
            variant="outline", size="3", on_click=S.choose(organisation.id),
        ),
    )


def _group(group: ChooserGroup) -> rx.Component:
    return rx.el.section(
        rx.heading(group.territory, as_="h2", size="5"),
        rx.el.ul(rx.foreach(group.organisations, _organisation), class_name="planning-list",
                 aria_label="Organisations de " + group.territory),
        aria_label=group.territory,
        width="100%",
    )


@agent_page(routes.ORGANISATION_CHOOSER, "Choisissez une organisation", load=S.load_choices)
def organisation_chooser() -> rx.Component:
    return rx.vstack(
        rx.heading("Choisissez une organisation", as_="h1", size="7"),
        rx.cond(
            S.loading_choices,
            loading_block("Chargement de vos organisations…"),
            rx.fragment(
                rx.text("Vous êtes membre de plusieurs organisations : choisissez celle où vous travaillez "
                        "maintenant. Le sélecteur « Organisation » en haut de page permet d'en changer ensuite.",
                        color=styles.TEXT_MUTED),
                rx.foreach(S.groups, _group),
            ),
        ),
        spacing="5",
        width="100%",
    )
