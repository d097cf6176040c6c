"""The DSFR's header and footer. The "Marque État" block (Marianne, "République Française") is reserved to
the State: it shows only when the deployment says it is a State service (`settings.marque_etat`);
otherwise the header and footer carry the product's name alone."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes
from rdv_app.components.dsfr.display import display_settings_modal

# The State's sites every State service's footer links to.
STATE_LINKS = (("info.gouv.fr", "https://www.info.gouv.fr"), ("service-public.gouv.fr", "https://www.service-public.gouv.fr"),
               ("legifrance.gouv.fr", "https://www.legifrance.gouv.fr"), ("data.gouv.fr", "https://www.data.gouv.fr"))


def _marianne() -> rx.Component:
    return rx.el.p("République", rx.el.br(), "Française", class_name="fr-logo")


def header(product_name: str, tagline: str, *, marque_etat: bool, home: str = routes.HOME,
           notice: rx.Component | None = None) -> rx.Component:
    """The site's banner; `notice` (a `blocks.notice`) under it, inside the banner landmark."""
    service = rx.el.div(
        rx.el.a(rx.el.p(product_name, class_name="fr-header__service-title"), href=home,
                title=f"Accueil - {product_name}"),
        rx.el.p(tagline, class_name="fr-header__service-tagline"),
        class_name="fr-header__service",
    )
    brand_top = [rx.el.div(rx.el.div(_marianne(), class_name="fr-header__logo"), class_name="fr-header__brand-top")] \
        if marque_etat else []
    return rx.el.header(
        rx.el.div(
            rx.el.div(
                rx.el.div(
                    rx.el.div(*brand_top, service, class_name="fr-header__brand fr-enlarge-link"),
                    class_name="fr-header__body-row",
                ),
                class_name="fr-container",
            ),
            class_name="fr-header__body",
        ),
        *([notice] if notice is not None else []),
        role="banner", class_name="fr-header" + ("" if marque_etat else " rdv-header--neutral"),
    )


def footer(product_name: str, description: str, *, marque_etat: bool, home: str = routes.HOME) -> rx.Component:
    brand = rx.el.a(_marianne(), href=home, title=f"Retour à l'accueil - {product_name}") if marque_etat \
        else rx.el.a(product_name, href=home, class_name="fr-footer__brand-link rdv-footer-name")
    content: list[rx.Component] = [rx.el.p(description, class_name="fr-footer__content-desc")]
    if marque_etat:
        content.append(rx.el.ul(
            *[rx.el.li(rx.el.a(label, href=href, class_name="fr-footer__content-link", target="_blank",
                               rel="noopener", title=f"{label} - nouvelle fenêtre"), class_name="fr-footer__content-item")
              for label, href in STATE_LINKS],
            class_name="fr-footer__content-list",
        ))
    return rx.el.footer(
        rx.el.div(
            rx.el.div(
                rx.el.div(brand, class_name="fr-footer__brand fr-enlarge-link"),
                rx.el.div(*content, class_name="fr-footer__content"),
                class_name="fr-footer__body",
            ),
            rx.el.div(
                rx.el.ul(
                    *[rx.el.li(rx.el.a(label, href=href, class_name="fr-footer__bottom-link"),
                               class_name="fr-footer__bottom-item") for label, href in routes.LEGAL_LINKS],
                    rx.el.li(display_settings_modal(), class_name="fr-footer__bottom-item"),
                    class_name="fr-footer__bottom-list",
                ),
                rx.el.div(rx.el.p("Logiciel libre, sous licence AGPL."), class_name="fr-footer__bottom-copy"),
                class_name="fr-footer__bottom",
            ),
            class_name="fr-container",
        ),
        role="contentinfo", id="pied-de-page", class_name="fr-footer",
    )
