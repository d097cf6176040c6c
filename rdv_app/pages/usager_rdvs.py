""""Mes rendez-vous" for a signed-in usager, phone first: upcoming RDVs with their cancellation, then past ones."""

from __future__ import annotations

import reflex as rx
from reflex.vars.sequence import ArrayVar

from rdv_app import routes, styles
from rdv_app.components import dsfr
from rdv_app.components.forms import form_alert
from rdv_app.pages.template import template
from rdv_app.state.usager_rdvs import RdvCard, UsagerRdvsState

S = UsagerRdvsState

def _line(label: str, value: rx.Var[str] | str) -> rx.Component:
    return rx.cond(value != "", rx.el.p(rx.el.strong(f"{label} : "), value), rx.fragment())


def _optional(value: rx.Var[str] | str, component: rx.Component) -> rx.Component:
    return rx.cond(value != "", component, rx.fragment())


def _actions(card: RdvCard) -> list[rx.Component]:
    """What an usager may do with an RDV to come; a note saying why when it cannot be done online."""
    return [
        rx.cond(card.can_change_participant,
                dsfr.button("Changer de participant", kind="secondary", full_width=True,
                            on_click=S.ask_change(card.participation_id)),
                rx.fragment()),
        rx.cond(card.move_href != "",
                rx.el.a("Changer la date", href=card.move_href, class_name="fr-btn fr-btn--secondary rdv-btn--full"),
                _optional(card.edit_notice, rx.el.p(card.edit_notice, role="note"))),
        rx.cond(card.can_cancel,
                dsfr.button("Annuler ce rendez-vous", kind="tertiary", full_width=True,
                            on_click=S.ask_cancel(card.participation_id)),
                _optional(card.cancel_notice, rx.el.p(card.cancel_notice, role="note"))),
    ]


def rdv_card(card: RdvCard, *, upcoming: bool) -> rx.Component:
    return rx.el.li(rx.el.article(dsfr.card(
        card.when,
        rx.el.p(card.title, class_name="rdv-card-motif"),
        _line("Pour", card.participant),
        rx.el.p(card.place),
        _optional(card.place_detail, rx.el.p(card.place_detail)),
        _optional(card.map_url, rx.el.p(rx.el.a("Voir sur la carte", href=card.map_url, target="_blank",
                                                rel="noopener", title="Voir sur la carte - nouvelle fenêtre"))),
        _optional(card.instructions, rx.el.p(card.instructions, white_space="pre-line")),
        rx.el.p(card.organisation),
        _optional(card.contact_phone, rx.el.p("Téléphone : ", rx.el.a(card.contact_phone, href=card.contact_phone_href))),
        _optional(card.contact_email, rx.el.p("Email : ", rx.el.a(card.contact_email, href="mailto:" + card.contact_email))),
        badges=rx.cond(card.status != "", dsfr.badge(card.status, kind="error"), rx.fragment()),
        actions=_actions(card) if upcoming else (),
    )))


def rdv_list(cards: ArrayVar, *, upcoming: bool, empty: str) -> rx.Component:
    return rx.cond(
        cards.length() > 0,
        rx.el.ul(rx.foreach(cards, lambda card: rdv_card(card, upcoming=upcoming)),
                 style={"list_style": "none", "padding": 0, "margin": 0, "display": "grid", "gap": "0.75rem",
                        "width": "100%"}),
        rx.text(empty, color=styles.var("text-muted")),
    )


def cancel_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Annuler ce rendez-vous ?"),
            rx.alert_dialog.description(rx.text(S.to_cancel_label, font_weight="600"), rx.text(S.to_cancel_warning)),
            form_alert(S.cancel_error),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Garder mon rendez-vous", variant="outline", size="3",
                                                 disabled=S.cancelling)),
                rx.el.button(rx.cond(S.cancelling, rx.spinner(size="2"), rx.fragment()),
                             rx.cond(S.cancelling, "Annulation en cours…", "Oui, annuler"),
                             type="button", class_name="danger-button", disabled=S.cancelling,
                             on_click=S.confirm_cancel),
                justify="end", spacing="3", margin_top="1rem", wrap="wrap",
            ),
        ),
        open=S.dialog_open,
        on_open_change=S.set_dialog_open,
    )


def change_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Changer de participant"),
            rx.dialog.description(rx.text(S.change_label, font_weight="600")),
            rx.box(
                rx.el.label("Pour qui est ce rendez-vous ?", html_for="changer-participant", class_name="field-label"),
                rx.el.select(rx.foreach(S.people, lambda p: rx.el.option(p.label, value=p.value)),
                             id="changer-participant", value=S.change_choice, on_change=S.set_change_choice,
                             class_name="text-input", disabled=S.changing),
                width="100%", margin_top="0.75rem",
            ),
            form_alert(S.change_error),
            rx.flex(
                rx.dialog.close(rx.button("Annuler", variant="outline", size="3", disabled=S.changing)),
                rx.button(rx.cond(S.changing, rx.spinner(size="2"), rx.fragment()),
                          rx.cond(S.changing, "Enregistrement…", "Enregistrer"),
                          size="3", disabled=S.changing, on_click=S.confirm_change),
                justify="end", spacing="3", margin_top="1rem", wrap="wrap",
            ),
        ),
        open=S.change_open,
        on_open_change=S.set_change_open,
    )


def sign_in_view() -> rx.Component:
    return rx.vstack(
        form_alert(S.page_error),
        rx.text("Connectez-vous pour voir vos rendez-vous et ceux de vos proches."),
        rx.cond(S.link_sent != "", rx.el.div(S.link_sent, role="status", class_name="success-box"), rx.fragment()),
        rx.form(rx.vstack(
            rx.box(
                rx.el.label("Adresse email de votre compte", html_for="champ-email", class_name="field-label"),
                rx.el.input(id="champ-email", name="email", type="email", required=True, auto_complete="email",
                            class_name="text-input", aria_describedby="champ-email-erreur",
                            aria_invalid=rx.cond(S.email_error != "", "true", "false")),
                rx.el.p(S.email_error, id="champ-email-erreur", class_name="field-error", aria_live="polite"),
                width="100%"),
            rx.button("Recevoir un lien de connexion", type="submit", size="3", width="100%"),
            width="100%"), on_submit=S.send_sign_in_link, reset_on_submit=False, width="100%",
            aria_label="Recevoir un lien de connexion"),
        rx.link("Prendre rendez-vous", href=routes.PUBLIC_BOOKING),
        width="100%", spacing="3",
    )


def rdvs_view() -> rx.Component:
    return rx.vstack(
        rx.cond(S.notice != "", rx.el.div(S.notice, role="status", class_name="success-box"), rx.fragment()),
        rx.link("Prendre un autre rendez-vous", href=routes.PUBLIC_BOOKING),
        rx.heading("À venir", as_="h2", size="5"),
        rdv_list(S.upcoming, upcoming=True, empty="Aucun rendez-vous à venir."),
        rx.heading("Passés", as_="h2", size="5"),
        rdv_list(S.past, upcoming=False, empty="Aucun rendez-vous passé."),
        cancel_dialog(),
        change_dialog(),
        width="100%", spacing="3",
    )


def usager_rdvs_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Mes rendez-vous", as_="h1", size="7"),
        rx.cond(
            S.loading,
            rx.hstack(rx.spinner(size="3"), rx.text("Chargement…"), role="status", align="center", spacing="2"),
            rx.cond(S.signed_in, rdvs_view(), sign_in_view()),
        ),
        width="100%", max_width="40rem", spacing="4",
    )


template(routes.USAGER_RDVS, "Mes rendez-vous", on_load=S.load,
         description="Vos rendez-vous avec les services publics : consultez-les, annulez-les si besoin.")(usager_rdvs_page)
