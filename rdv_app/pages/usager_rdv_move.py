""""Changer la date" of an RDV of "Mes rendez-vous", phone first: the week of slots, the confirmation, done."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes, styles
from rdv_app.components.forms import form_alert
from rdv_app.components.slot_week import slot_week
from rdv_app.pages.template import template
from rdv_app.state.usager_rdv_move import UsagerRdvMoveState

S = UsagerRdvMoveState

_BOX = {"padding": "1rem", "border": f"1px solid {styles.BORDER}", "border_radius": "0.5rem", "background": styles.SURFACE,
        "width": "100%", "box_sizing": "border-box"}


def current_rdv() -> rx.Component:
    return rx.box(
        rx.text(rx.el.strong("Rendez-vous : "), S.title),
        rx.text(rx.el.strong("Date actuelle : "), S.current_when),
        rx.cond(S.place != "", rx.text(rx.el.strong("Lieu : "), S.place), rx.fragment()),
        style=_BOX,
    )


def week_step() -> rx.Component:
    return rx.vstack(
        rx.heading("Choisissez un nouvel horaire", as_="h2", size="5"),
        current_rdv(),
        rx.cond(S.notice != "", rx.el.div(S.notice, role="alert", class_name="form-alert"), rx.fragment()),
        slot_week(title=S.week_title, days=S.days, slot_base_href=S.slot_base_href, previous_href=S.previous_week_href,
                  next_href=S.next_week_href, is_empty=S.week_is_empty, following_href=S.next_href,
                  following_label=S.next_label, on_week=S.change_week),
        width="100%", spacing="3",
    )


def confirmation_step() -> rx.Component:
    return rx.vstack(
        rx.heading("Confirmez le nouvel horaire", as_="h2", size="5"),
        current_rdv(),
        rx.box(rx.text(rx.el.strong("Nouvelle date : "), S.new_when), style=_BOX),
        rx.text("Votre ancien horaire sera libéré. Le service est prévenu et vous recevez une confirmation."),
        form_alert(S.move_error),
        rx.button(rx.cond(S.moving, rx.spinner(size="2"), rx.fragment()),
                  rx.cond(S.moving, "Enregistrement en cours…", "Confirmer le nouvel horaire"),
                  type="button", size="3", width="100%", disabled=S.moving, on_click=S.confirm),
        rx.link("Choisir un autre horaire", href=S.week_href),
        width="100%", spacing="3",
    )


def done_step() -> rx.Component:
    return rx.vstack(
        rx.el.div(rx.text("Votre rendez-vous est déplacé au ", rx.el.strong(S.new_when), "."),
                  rx.text("Le service est prévenu et vous recevez une confirmation."),
                  role="status", class_name="success-box"),
        rx.link("Retour à mes rendez-vous", href=routes.USAGER_RDVS, font_weight="600"),
        width="100%", spacing="3",
    )


def move_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Changer la date", as_="h1", size="7"),
        rx.cond(
            S.loading,
            rx.hstack(rx.spinner(size="3"), rx.text("Chargement…"), role="status", align="center", spacing="2"),
            rx.cond(
                S.signed_in,
                rx.fragment(
                    rx.cond(S.page_error != "",
                            rx.vstack(rx.el.div(S.page_error, role="alert", class_name="form-alert"),
                                      rx.link("Retour à mes rendez-vous", href=routes.USAGER_RDVS), spacing="3"),
                            rx.fragment()),
                    rx.match(S.step, ("creneau", week_step()), ("confirmation", confirmation_step()),
                             ("fait", done_step()), rx.fragment()),
                ),
                rx.vstack(rx.text("Connectez-vous pour changer la date de votre rendez-vous."),
                          rx.link("Se connecter depuis Mes rendez-vous", href=routes.USAGER_RDVS), spacing="3"),
            ),
        ),
        width="100%", max_width="40rem", spacing="4",
    )


template(routes.USAGER_RDV_MOVE, "Changer la date", on_load=S.load,
         description="Changez la date de votre rendez-vous en choisissant un autre créneau libre.")(move_page)
