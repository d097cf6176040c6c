"""'Je suis un prescripteur', phone first: the search, the prescripteur's details, the bénéficiaire, the
récapitulatif and the confirmation, one view per step (see the state)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

from rdv_app import routes, styles
from rdv_app.components.forms import form_alert, text_field
from rdv_app.components.in_place import plain_click
from rdv_app.components.slot_week import heading_case, styled_link, time_link
from rdv_app.domain import ants
from rdv_app.pages.template import template
from rdv_app.state.public_booking import Choice, DayView, Recap
from rdv_app.state.public_prescripteur import PublicPrescripteurState

S = PublicPrescripteurState

_CARD = styles.hover_tinted({
    "display": "block", "padding": "1rem", "border": f"1px solid {styles.BORDER}", "border_radius": "0.5rem",
    "background": styles.BACKGROUND, "color": styles.TEXT, "text_decoration": "none", "min_height": "44px",
    "_hover": {"color": styles.TEXT, "background": styles.SURFACE, "border_color": styles.BRAND_BLUE}})
_TIME = styles.hover_tinted({
    "display": "inline-block", "padding": "0.7rem 0.9rem", "border_radius": "0.4rem", "background": styles.BRAND_BLUE,
    "color": styles.ON_COLOUR, "font_weight": "600", "text_decoration": "none", "min_width": "4.5rem",
    "text_align": "center", "_hover": {"color": styles.ON_COLOUR, "background": styles.BRAND_BLUE_HOVER}})
_SUMMARY = {"background": styles.SURFACE, "padding": "0.75rem 1rem", "border_radius": "0.5rem", "margin": 0,
            "width": "100%", "box_sizing": "border-box"}


def _heading(text: str) -> rx.Component:
    return rx.heading(text, as_="h2", size="5")


def _back() -> rx.Component:
    return rx.cond(S.change_href != "", rx.link("← Modifier l'étape précédente", href=S.change_href), rx.fragment())


def _lines(items: rx.Var) -> rx.Component:
    def row(line: Recap) -> rx.Component:
        return rx.box(rx.el.dt(line.label, font_weight="600"), rx.el.dd(line.value, margin="0 0 0.5rem 0"))

    return rx.el.dl(rx.foreach(items, row), style=_SUMMARY)


def _summary() -> rx.Component:
    return rx.cond(S.summary.length() > 0, _lines(S.summary), rx.fragment())


def _address_line() -> rx.Component:
    """In a sectorised territory: the bénéficiaire's address and a link to change it, or to give it."""
    return rx.cond(
        S.address_href != "",
        rx.el.p(rx.cond(S.address_label != "", rx.fragment(rx.el.span("Adresse du bénéficiaire : "),
                                                            rx.el.strong(S.address_label), rx.el.span(" · ")),
                        rx.fragment()),
                rx.link(rx.cond(S.address_label != "", "Changer d'adresse",
                                "Indiquez l'adresse du bénéficiaire pour voir tous les rendez-vous qui lui sont "
                                "proposés"), href=S.address_href)),
        rx.fragment())


def _choices(title: str, empty: str) -> rx.Component:
    def item(choice: Choice) -> rx.Component:
        return rx.el.li(styled_link(
            rx.el.span(choice.label, font_weight="600", font_size="1.05rem", display="block", color=styles.TEXT),
            rx.cond(choice.detail != "", rx.el.span(choice.detail, display="block", color=styles.TEXT_MUTED),
                    rx.fragment()),
            rx.cond(choice.extra != "", rx.el.span(choice.extra, display="block", color=styles.SUCCESS,
                                                   font_weight="600", margin_top="0.25rem"), rx.fragment()),
            href=choice.href, style=_CARD))

    return rx.vstack(
        _heading(title), _back(), _address_line(), _summary(),
        rx.cond(S.notice != "", rx.el.p(S.notice, role="status"), rx.fragment()),
        rx.cond(S.choices.length() > 0,
                rx.el.ul(rx.foreach(S.choices, item), style={"list_style": "none", "padding": 0, "margin": 0,
                                                            "display": "grid", "gap": "0.75rem", "width": "100%"}),
                rx.text(empty)),
        width="100%", spacing="3")


def _choice_links(items: rx.Var) -> rx.Component:
    return rx.el.ul(rx.foreach(items, lambda c: rx.el.li(styled_link(c.label, href=c.href, style=_CARD))),
                    style={"list_style": "none", "padding": 0, "margin": 0, "display": "grid", "gap": "0.5rem",
                           "width": "100%"})


def _address() -> rx.Component:
    """The bénéficiaire's address, in a sectorised territory: Base Adresse Nationale suggestions, each a link
    that keeps the address in the page's address."""
    return rx.vstack(
        _heading("Quelle est l'adresse du bénéficiaire ?"), _back(),
        rx.box(
            rx.el.label("Adresse du bénéficiaire", html_for="champ-adresse-beneficiaire", class_name="field-label"),
            rx.el.p("Les services de ce territoire reçoivent selon l'adresse. Commencez à la saisir, puis "
                    "choisissez-la parmi les adresses proposées.", id="champ-adresse-beneficiaire-aide",
                    class_name="field-hint"),
            rx.el.input(id="champ-adresse-beneficiaire", type="text", auto_complete="off", class_name="text-input",
                        aria_describedby="champ-adresse-beneficiaire-aide",
                        on_change=lambda value: S.type_address(value)),
            width="100%"),
        rx.box(
            rx.cond(S.address_suggestions.length() > 0,
                    rx.el.nav(_choice_links(S.address_suggestions), aria_label="Adresses proposées", width="100%"),
                    rx.fragment()),
            rx.cond(S.address_hint != "", rx.el.p(S.address_hint, class_name="field-hint"), rx.fragment()),
            aria_live="polite", width="100%"),
        width="100%", spacing="3")


def _uncovered() -> rx.Component:
    def contact(line: Choice) -> rx.Component:
        return rx.el.li(rx.el.strong(line.label, display="block"),
                        rx.cond(line.detail != "", rx.el.span("Téléphone : ", rx.link(line.detail,
                                                                                      href="tel:" + line.detail),
                                                              display="block"), rx.fragment()),
                        rx.cond(line.extra != "", rx.el.span("Email : ", rx.link(line.extra,
                                                                                 href="mailto:" + line.extra),
                                                             display="block"), rx.fragment()),
                        style=_CARD)

    return rx.vstack(
        _heading("L'adresse du bénéficiaire n'est couverte par aucun secteur"), _back(), _summary(),
        rx.text("Aucun service ne propose de rendez-vous aux prescripteurs à cette adresse. Contactez l'une de ces "
                "organisations :"),
        rx.el.ul(rx.foreach(S.contacts, contact), style={"list_style": "none", "padding": 0, "margin": 0,
                                                         "display": "grid", "gap": "0.75rem", "width": "100%"}),
        width="100%", spacing="3")


def _place() -> rx.Component:
    return rx.vstack(
        _heading("Où se trouve le bénéficiaire ?"),
        rx.form(rx.vstack(
            rx.box(
                rx.el.label("Département ou code postal", html_for="champ-departement", class_name="field-label"),
                rx.el.p("Par exemple 62 ou 62000", id="champ-departement-aide", class_name="field-hint"),
                rx.el.input(id="champ-departement", name="departement", required=True, inputmode="numeric",
                            auto_complete="postal-code", class_name="text-input",
                            aria_describedby="champ-departement-aide champ-departement-erreur",
                            aria_invalid=rx.cond(S.place_error != "", "true", "false")),
                rx.el.p(S.place_error, id="champ-departement-erreur", class_name="field-error", aria_live="polite"),
                width="100%"),
            rx.button("Rechercher", type="submit", size="3", width="100%"), width="100%"),
            on_submit=S.search_place, reset_on_submit=False, width="100%", aria_label="Recherche"),
        width="100%", spacing="3")


def _week() -> rx.Component:
    def week_link(label: Any, href: rx.Var[str], which: str, **style: Any) -> rx.Component:
        """A link to another week; a plain click shows it in place (`change_week`)."""
        return rx.link(label, href=href, on_click=plain_click(S.change_week(which)), **style)

    def day(view: DayView) -> rx.Component:
        return rx.el.section(
            rx.heading(heading_case(rx.Var.create(view.label)), as_="h3", size="3"),
            rx.cond(view.closed, rx.text("Fermé à la réservation", color=styles.TEXT_MUTED),
                    rx.cond(rx.Var.create(view.times).length() > 0,
                            rx.el.ul(rx.foreach(view.times,
                                                lambda button: time_link(S.slot_base_href, rx.Var.create(view.label),
                                                                         button, _TIME)),
                                     style={"list_style": "none", "padding": 0, "margin": "0.5rem 0 0",
                                            "display": "flex", "flex_wrap": "wrap", "gap": "0.5rem"}),
                            rx.text("Aucun créneau disponible", color=styles.TEXT_MUTED))),
            style={"padding": "0.75rem 0", "border_bottom": f"1px solid {styles.BORDER}"})

    return rx.vstack(
        _heading("Choisissez un horaire"), _back(), _summary(),
        rx.cond(S.notice != "", rx.el.div(S.notice, role="alert", class_name="form-alert"), rx.fragment()),
        # A live region: a week shown in place (`change_week`) is announced by its title, as a new page would be.
        rx.box(rx.heading(S.week_title, as_="h3", size="4"), aria_live="polite", aria_atomic="true"),
        rx.hstack(
            rx.cond(S.previous_week_href != "", week_link("← Semaine précédente", S.previous_week_href, "previous"),
                    rx.el.span()),
            rx.cond(S.next_week_href != "", week_link("Semaine suivante →", S.next_week_href, "next"), rx.el.span()),
            justify="between", width="100%"),
        rx.cond(S.week_is_empty,
                rx.box(rx.text("Aucun créneau disponible cette semaine."),
                       rx.cond(S.next_href != "", week_link(S.next_label, S.next_href, "following", font_weight="600"),
                               rx.text("Pas d'autre créneau ouvert : contactez directement l'organisation.")),
                       role="status"),
                rx.fragment()),
        rx.box(rx.foreach(S.days, day), width="100%"),
        width="100%", spacing="3")


def _submit(label: str) -> rx.Component:
    return rx.button(label, type="submit", size="3", width="100%", disabled=S.loading)


def _prescripteur() -> rx.Component:
    def field(name: str, label: str, **kwargs: object) -> rx.Component:
        return text_field(name, label, field_id=f"champ-prescripteur-{name}",
                          error=S.field_errors.get(f"prescripteur_{name}", ""),
                          default_value=S.prescripteur.get(name, ""), **kwargs)  # type: ignore[arg-type]

    return rx.vstack(
        _heading("Vos coordonnées de prescripteur"), _back(), _summary(),
        rx.text("Vous prenez rendez-vous pour une autre personne. Vous recevrez la confirmation par email."),
        form_alert(S.form_error),
        rx.form(rx.vstack(
            field("first_name", "Votre prénom", autocomplete="given-name"),
            field("last_name", "Votre nom", autocomplete="family-name"),
            field("email", "Votre adresse email professionnelle", type_="email", autocomplete="email"),
            field("phone_number", "Votre téléphone (facultatif)", type_="tel", autocomplete="tel", required=False),
            _submit("Continuer"), width="100%"),
            on_submit=S.save_prescripteur, reset_on_submit=False, width="100%", aria_label="Vos coordonnées"),
        width="100%", spacing="3")


def _ants_number(field: Callable[..., rx.Component]) -> rx.Component:
    """The bénéficiaire's pre-demande number for a motif of an ANTS category, checked with ANTS on "Continuer";
    a number already used for another RDV is accepted once the prescripteur confirms."""
    return rx.vstack(
        field("ants_pre_demande_number", ants.FIELD_LABEL, autocomplete="off",
              hint="10 chiffres et lettres, reçus par le bénéficiaire après sa pré-demande en ligne sur le site de "
                   "l'ANTS."),
        rx.cond(S.ants_warning != "", rx.box(
            rx.text(S.ants_warning),
            rx.link("Voir ce rendez-vous", href=S.ants_warning_link, is_external=True, underline="always"),
            rx.el.label(rx.el.input(type="checkbox", name="ants_warning_confirmed", id="champ-ants-confirme",
                                    style={"width": "1.25rem", "height": "1.25rem"}),
                        " J'ai compris, je souhaite tout de même prendre ce rendez-vous",
                        html_for="champ-ants-confirme", style={"display": "flex", "gap": "0.5rem",
                                                               "align_items": "center", "min_height": "44px"}),
            role="alert", padding="0.75rem", border=f"1px solid {styles.BORDER}", border_radius="0.4rem",
            width="100%"), rx.fragment()),
        width="100%", spacing="2")


def _beneficiaire() -> rx.Component:
    def field(name: str, label: str | rx.Var, **kwargs: object) -> rx.Component:
        return text_field(name, label, field_id=f"champ-beneficiaire-{name}",  # type: ignore[arg-type]
                          error=S.field_errors.get(f"beneficiaire_{name}", ""),
                          default_value=S.beneficiaire.get(name, ""), **kwargs)  # type: ignore[arg-type]

    return rx.vstack(
        _heading("Le bénéficiaire du rendez-vous"),
        rx.button("← Modifier vos coordonnées", variant="ghost", on_click=S.edit("prescripteur")),
        _summary(), form_alert(S.form_error),
        rx.form(rx.vstack(
            field("first_name", "Prénom du bénéficiaire"),
            field("last_name", "Nom du bénéficiaire"),
            field("phone_number", "Téléphone portable du bénéficiaire", type_="tel", required=False,
                  hint="Recommandé : il recevra la confirmation et le rappel par SMS."),
            field("email", "Adresse email du bénéficiaire (facultatif)", type_="email", required=False),
            rx.cond(S.address_required,
                    field("address", "Adresse du bénéficiaire (l'agent se déplace à domicile)", required=False),
                    rx.fragment()),
            rx.cond(S.ants_required, _ants_number(field), rx.fragment()),
            _submit("Continuer"), width="100%"),
            on_submit=S.save_beneficiaire, reset_on_submit=False, width="100%", aria_label="Le bénéficiaire"),
        width="100%", spacing="3")


def _recap() -> rx.Component:
    return rx.vstack(
        _heading("Vérifiez le rendez-vous"), _lines(S.recap),
        rx.hstack(rx.button("Modifier le bénéficiaire", variant="outline", on_click=S.edit("beneficiaire")),
                  rx.button("Modifier vos coordonnées", variant="outline", on_click=S.edit("prescripteur")),
                  wrap="wrap", spacing="2"),
        rx.cond(S.warning != "", rx.el.p(S.warning, role="status", class_name="field-hint"), rx.fragment()),
        form_alert(S.form_error),
        rx.button(rx.cond(S.submitting, rx.spinner(size="2"), rx.fragment()),
                  rx.cond(S.submitting, "Confirmation en cours…", "Confirmer le RDV"),
                  on_click=S.confirm, size="4", width="100%", disabled=S.submitting | S.loading),
        width="100%", spacing="3")


def _confirmation() -> rx.Component:
    return rx.vstack(
        rx.el.div(rx.heading("Le rendez-vous est confirmé", as_="h2", size="6"), role="status"),
        rx.text("Vous allez recevoir la confirmation par email. Le bénéficiaire est prévenu par SMS ou email s'il "
                "a un numéro de portable ou une adresse email."),
        _lines(S.recap),
        rx.cond(S.instruction != "", rx.box(rx.heading("À savoir avant le rendez-vous", as_="h3", size="4"),
                                            rx.text(S.instruction, white_space="pre-line")), rx.fragment()),
        rx.box(rx.heading("Contact", as_="h3", size="4"),
               rx.foreach(S.organisation_contact, lambda line: rx.text(line))),
        rx.link("Prendre un autre rendez-vous", href=routes.PUBLIC_PRESCRIPTEUR),
        width="100%", spacing="3")


def _error() -> rx.Component:
    return rx.vstack(rx.el.div(S.page_error, role="alert", class_name="form-alert"),
                     rx.link("Recommencer la recherche", href=routes.PUBLIC_PRESCRIPTEUR), width="100%", spacing="3")


@template(routes.PUBLIC_PRESCRIPTEUR, "Je suis un prescripteur", on_load=S.load,
          description="Prescripteurs : prenez rendez-vous avec un service public pour la personne que vous accompagnez.")
def prescripteur_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Prendre rendez-vous pour une autre personne", as_="h1", size="7"),
        rx.text("Je suis un prescripteur", size="4", color=styles.TEXT_MUTED),
        rx.cond(S.scope_title != "", rx.text(S.scope_title, size="4", color=styles.TEXT_MUTED), rx.fragment()),
        rx.cond(
            S.loading,
            rx.hstack(rx.spinner(size="3"), rx.text("Chargement…"), role="status", align="center", spacing="2"),
            rx.match(
                S.step,
                ("place", _place()),
                ("adresse", _address()),
                ("hors-secteur", _uncovered()),
                ("motif", _choices("Choisissez le motif du rendez-vous",
                                   "Aucun motif n'est ouvert aux prescripteurs ici.")),
                ("lieu", _choices("Choisissez un lieu", "Aucun lieu ne propose ce motif pour le moment.")),
                ("organisation", _choices("Choisissez une organisation",
                                          "Aucune organisation ne propose ce motif pour le moment.")),
                ("creneau", _week()),
                ("session", _choices("Inscrivez le bénéficiaire à un atelier",
                                     "Aucun atelier n'est ouvert aux prescripteurs ici pour le moment.")),
                ("prescripteur", _prescripteur()),
                ("beneficiaire", _beneficiaire()),
                ("recap", _recap()),
                ("confirmation", _confirmation()),
                _error(),
            ),
        ),
        width="100%", max_width="40rem", spacing="4")
