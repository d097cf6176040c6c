"""Page frames: public pages (usagers, login) and the agents' workspace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx
from reflex.vars.sequence import StringVar
from reflex_components_core.el.elements.inline import A  # type: ignore[import-untyped]

from rdv_app import routes, styles
from rdv_app.components import dsfr
from rdv_app.config import demo_mode, settings

APP_NAME = settings.product_name

# label, route: the workspace navigation lists only pages that exist.
WORKSPACE_NAV = (
    ("Accueil", routes.WORKSPACE),
    ("Agenda", routes.AGENDA),
    ("RDV collectifs", routes.COLLECTIFS),
    ("Trouver un RDV", routes.CRENEAUX),
    ("Usagers", routes.USAGERS),
    ("Liste des RDV", routes.RDV_LIST),
    ("Plages d'ouverture", routes.PLAGES),
    ("Indisponibilités", routes.ABSENCES),
    ("Statistiques", routes.STATS),
    ("Mon compte", routes.ACCOUNT),
    ("Vos exports", routes.EXPORTS),
)
# Shown to admins of the organisation shown.
ADMIN_NAV = (
    ("Agents", routes.ADMIN_AGENTS),
    ("Motifs", routes.ADMIN_MOTIFS),
    ("Lieux", routes.ADMIN_LIEUX),
    ("Organisation", routes.ADMIN_ORGANISATION),
    ("Réservation en ligne", routes.ADMIN_ONLINE_BOOKING),
    ("Webhooks", routes.ADMIN_WEBHOOKS),
)
# Shown to territorial admins and to agents holding a territory access right (any; teams: that one).
TERRITORY_AGENTS_NAV = (("Agents du territoire", routes.ADMIN_TERRITORY_AGENTS),)
TERRITORY_TEAMS_NAV = (("Équipes", routes.ADMIN_TERRITORY_TEAMS),)
# Shown to territorial admins.
TERRITORY_NAV = (("Motifs du territoire", routes.ADMIN_TERRITORY_MOTIFS),
                 ("Organisations du territoire", routes.ADMIN_TERRITORY_ORGANISATIONS),
                 ("Fiches usagers", routes.ADMIN_TERRITORY_USAGER_FIELDS),
                 ("Journal de sécurité", routes.ADMIN_SECURITY_LOG),
                 ("Sectorisation", routes.ADMIN_TERRITORY_SECTORS))
# Shown to super admins.
SUPER_ADMIN_NAV = (("Super admin", routes.SUPER_ADMIN),)


@dataclass(frozen=True)
class SignedInAgent:
    """What the workspace's frame shows of the signed-in agent, and what it lets them do."""

    ready: rx.Var  # the session was checked: the page may show
    first_name: rx.Var
    display_name: StringVar
    organisations: rx.Var  # [{"id", "name"}]
    current_org_id: rx.Var
    current_org_name: rx.Var
    has_several_organisations: rx.Var
    is_admin_here: rx.Var  # the admin pages show in the navigation
    is_territorial_admin: rx.Var  # the territory pages too
    sees_territory_agents: rx.Var  # "Agents du territoire"
    manages_teams: rx.Var  # "Équipes"
    is_super_admin: rx.Var  # and the instance's back office
    on_switch_organisation: Any  # takes the chosen organisation's id
    on_logout: Any
    nav_open: rx.Var  # below 1440 px, the navigation shows only once its "Menu" button opened it
    on_toggle_nav: Any


def skip_link() -> rx.Component:
    """The first link of every page, in its own landmark as the DSFR's "Accès rapide" (every content in a
    landmark). A plain link (`rx.el.a` is the router's, whose address depends on the page's: the shell of a
    dynamic route, pre-rendered at `/org/[booking_org]`, would keep that address once it hydrates at
    `/org/12`); assets/clavier.js moves the focus."""
    return rx.el.nav(A.create("Aller au contenu", href="#contenu", class_name="skip-link"), aria_label="Accès rapide")


def brand(href: str) -> rx.Component:
    """The product's name as the DSFR header's service title, as on the usagers' pages."""
    return rx.link(rx.el.span(APP_NAME, class_name="brand-name"), href=href, underline="none", class_name="brand")


FOOTER_TEXT = "Service de prise de rendez-vous des services publics. Logiciel libre."
TAGLINE = "Prendre rendez-vous avec vos services publics"


def footer() -> rx.Component:
    return rx.el.footer(
        rx.text(FOOTER_TEXT, size="2", color=styles.TEXT_MUTED),
        class_name="site-footer",
    )


def public_layout(content: rx.Component) -> rx.Component:
    """The usagers' pages on the State design system: the DSFR's header and footer (the "Marque État" block
    only for a State service), the display setting followed."""
    return rx.el.div(
        dsfr.follow_display_setting(),
        skip_link(),
        dsfr.header(APP_NAME, TAGLINE, marque_etat=settings.marque_etat,
                    notice=dsfr.notice("Site de démonstration : les services, les agents et les rendez-vous sont "
                                       "fictifs.") if demo_mode() else None),
        rx.el.main(content, id="contenu", tab_index=-1, class_name="site-main"),
        dsfr.footer(APP_NAME, FOOTER_TEXT, marque_etat=settings.marque_etat),
        class_name="public-shell",
    )


def organisation_switcher(agent: SignedInAgent) -> rx.Component:
    return rx.cond(
        agent.has_several_organisations,
        rx.el.div(
            rx.el.label("Organisation", html_for="organisation-switcher", class_name="switcher-label"),
            rx.el.select(
                rx.foreach(agent.organisations,
                           lambda org: rx.el.option(org["name"], value=org["id"])),
                id="organisation-switcher",
                value=agent.current_org_id,
                on_change=agent.on_switch_organisation,
                class_name="switcher-select",
            ),
            class_name="switcher",
        ),
        rx.el.span(agent.current_org_name, class_name="current-organisation"),
    )


NAV_LIST_ID = "navigation-principale-liens"


def workspace_header(agent: SignedInAgent) -> rx.Component:
    return rx.el.header(
        rx.box(
            brand(routes.WORKSPACE),
            rx.el.nav(
                # Below 1440 px (styles.css) the links fold behind this button, so that the page starts
                # right under one line of header (the agenda's morning and afternoon above the fold at 1280×720).
                rx.el.button(
                    rx.cond(agent.nav_open, rx.icon("x", size=18, aria_hidden="true"),
                            rx.icon("menu", size=18, aria_hidden="true")),
                    "Menu",
                    type="button", on_click=agent.on_toggle_nav, aria_expanded=rx.cond(agent.nav_open, "true", "false"),
                    aria_controls=NAV_LIST_ID, class_name="nav-toggle",
                ),
                rx.el.ul(*[rx.el.li(rx.link(label, href=route, class_name="nav-link")) for label, route in WORKSPACE_NAV],
                         *[rx.cond(agent.is_admin_here, rx.el.li(rx.link(label, href=route, class_name="nav-link")))
                           for label, route in ADMIN_NAV],
                         *[rx.cond(agent.sees_territory_agents,
                                   rx.el.li(rx.link(label, href=route, class_name="nav-link")))
                           for label, route in TERRITORY_AGENTS_NAV],
                         *[rx.cond(agent.manages_teams,
                                   rx.el.li(rx.link(label, href=route, class_name="nav-link")))
                           for label, route in TERRITORY_TEAMS_NAV],
                         *[rx.cond(agent.is_territorial_admin,
                                   rx.el.li(rx.link(label, href=route, class_name="nav-link")))
                           for label, route in TERRITORY_NAV],
                         *[rx.cond(agent.is_super_admin, rx.el.li(rx.link(label, href=route, class_name="nav-link")))
                           for label, route in SUPER_ADMIN_NAV],
                         id=NAV_LIST_ID, class_name="nav-list"),
                aria_label="Navigation principale",
                class_name=rx.cond(agent.nav_open, "workspace-nav nav-open", "workspace-nav"),
            ),
            rx.hstack(
                organisation_switcher(agent),
                rx.link(agent.first_name, href=routes.ACCOUNT, class_name="agent-name",
                        aria_label="Mon compte : " + agent.display_name),
                rx.button("Se déconnecter", on_click=agent.on_logout, variant="outline", size="2"),
                align="center", spacing="4", wrap="wrap",
            ),
            class_name="header-inner workspace-header",
        ),
        class_name="site-header",
    )


def loading_block(message: str = "Chargement…") -> rx.Component:
    return rx.hstack(rx.spinner(size="3"), rx.text(message), role="status", align="center", spacing="3",
                     padding=styles.SPACE_L)


def workspace_layout(content: rx.Component, agent: SignedInAgent) -> rx.Component:
    # The agents' pages stay light whatever the display setting chosen on the public pages of this browser:
    # the DSFR's attributes say light, and a light Radix theme holds the page (and its dialogs).
    return rx.theme(
        dsfr.follow_display_setting(forced_light=True),
        skip_link(),
        rx.cond(
            agent.ready,
            rx.fragment(
                workspace_header(agent),
                rx.el.main(content, id="contenu", tab_index=-1, class_name="site-main"),
            ),
            rx.el.main(loading_block("Vérification de votre session…"), id="contenu", tab_index=-1,
                       class_name="site-main"),
        ),
        footer(),
        # Reflex drops a theme's `appearance` (its colour mode decides); Radix's "light" class does the same.
        class_name="light", accent_color="indigo", radius="medium", has_background=True,
    )
