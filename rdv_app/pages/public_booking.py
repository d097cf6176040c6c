"""Online booking for usagers, phone first: one page per entry point, one view per step (see the state)."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes, styles
from rdv_app.components import dsfr
from rdv_app.components.forms import error_summary as forms_error_summary
from rdv_app.components.forms import form_alert
from rdv_app.components.slot_week import BUTTON_LINK, slot_week, styled_link
from rdv_app.domain import ants
from rdv_app.pages.template import template
from rdv_app.state.public_booking import Choice, PublicBookingState, Recap

S = PublicBookingState

_CARD = styles.hover_tinted({
    "display": "block", "padding": "1rem", "border": f"1px solid {styles.var('border')}", "border_radius": "0.5rem",
    "background": styles.var("background"), "color": styles.var("text"), "text_decoration": "none", "min_height": "44px",
    "_hover": {"color": styles.var("text"), "background": styles.var("surface"), "border_color": styles.var("blue")}})


def field(name: str, label: str | rx.Var, *, type_: str = "text", value: rx.Var | str = "", hint: str | rx.Var = "",
          autocomplete: str = "off", required: bool | rx.Var = True, read_only: bool | rx.Var = False) -> rx.Component:
    return dsfr.input_group(
        f"champ-{name}", label, error=S.field_errors.get(name, ""), hint=hint,
        name=name, type=type_, default_value=value, required=required, read_only=read_only,
        auto_complete=autocomplete, on_blur=lambda typed: S.check_field(name, typed),
    )


def error_summary() -> rx.Component:
    """Every error of the last submission; each goes as its field is fixed."""
    return forms_error_summary(S.error_summary)


def submit(label: str, busy: str = "Envoi en cours…") -> rx.Component:
    return dsfr.button(rx.cond(S.submitting, busy, label), type_="submit", full_width=True, disabled=S.submitting,
                       aria_busy=rx.cond(S.submitting, "true", "false"))


def choice_list(items: rx.Var) -> rx.Component:
    def item(choice: Choice) -> rx.Component:
        return rx.el.li(styled_link(
            rx.el.span(choice.label, font_weight="600", font_size="1.05rem", display="block", color=styles.var("text")),
            rx.cond(choice.detail != "", rx.el.span(choice.detail, display="block", color=styles.var("text-muted")),
                    rx.fragment()),
            rx.cond(choice.extra != "", rx.el.span(choice.extra, display="block", color=styles.var("success"),
                                                   font_weight="600", margin_top="0.25rem"), rx.fragment()),
            href=choice.href, style=_CARD,
        ))

    return rx.el.ul(rx.foreach(items, item), style={"list_style": "none", "padding": 0, "margin": 0,
                                                    "display": "grid", "gap": "0.75rem", "width": "100%"})


def summary() -> rx.Component:
    def row(line: Recap) -> rx.Component:
        return rx.box(rx.el.dt(line.label, font_weight="600"), rx.el.dd(line.value, margin="0 0 0.5rem 0"))

    return rx.cond(S.summary.length() > 0, rx.el.dl(rx.foreach(S.summary, row), class_name="booking-summary",
                                                    style={"background": styles.var("surface"), "padding": "0.75rem 1rem",
                                                           "border_radius": "0.5rem", "margin": 0, "width": "100%",
                                                           "box_sizing": "border-box"}), rx.fragment())


def back_link() -> rx.Component:
    return rx.cond(S.change_href != "", rx.link("← Modifier l'étape précédente", href=S.change_href), rx.fragment())


def step_heading(text: str) -> rx.Component:
    return rx.heading(text, as_="h2", size="5")


def signed_in_line() -> rx.Component:
    return rx.hstack(rx.text("Connecté(e) : ", rx.el.strong(S.account_name)),
                     rx.button("Se déconnecter", variant="outline", on_click=S.sign_out, size="3"),
                     align="center", justify="between", width="100%", wrap="wrap")


def place_view() -> rx.Component:
    return rx.vstack(
        step_heading("Où habitez-vous ?"),
        rx.form(rx.vstack(
            rx.box(
                rx.el.label("Département ou code postal", html_for="champ-departement", class_name="field-label"),
                rx.el.p("Par exemple 62 ou 62000", id="champ-departement-aide", class_name="field-hint"),
                rx.el.input(id="champ-departement", name="departement", default_value=S.place, required=True,
                            inputmode="numeric", auto_complete="postal-code", class_name="text-input",
                            aria_describedby="champ-departement-aide champ-departement-erreur",
                            aria_invalid=rx.cond(S.place_error != "", "true", "false")),
                rx.el.p(S.place_error, id="champ-departement-erreur", class_name="field-error", aria_live="polite"),
                width="100%"),
            rx.button("Rechercher", type="submit", size="3", width="100%"),
            width="100%"), on_submit=S.search_place, reset_on_submit=False, width="100%",
            aria_label="Recherche"),
        rx.text("Ou, pour les services qui reçoivent selon votre adresse :", color=styles.TEXT_MUTED),
        address_search(),
        width="100%", spacing="3",
    )


def address_search() -> rx.Component:
    """The usager's address with Base Adresse Nationale suggestions, each a link that keeps the address in
    the page's address (reload and sharing keep it)."""
    return rx.vstack(
        rx.box(
            rx.el.label("Votre adresse", html_for="champ-adresse", class_name="field-label"),
            rx.el.p("Certains services reçoivent selon votre adresse. Commencez à la saisir, puis choisissez-la "
                    "parmi les adresses proposées.", id="champ-adresse-aide", class_name="field-hint"),
            rx.el.input(id="champ-adresse", name="adresse", type="text", auto_complete="street-address",
                        class_name="text-input", aria_describedby="champ-adresse-aide",
                        on_change=lambda value: S.type_address(value)),
            width="100%"),
        rx.box(
            rx.cond(S.address_suggestions.length() > 0,
                    rx.el.nav(choice_list(S.address_suggestions), aria_label="Adresses proposées", width="100%"),
                    rx.fragment()),
            rx.cond(S.address_hint != "", rx.el.p(S.address_hint, class_name="field-hint"), rx.fragment()),
            aria_live="polite", width="100%"),
        width="100%", spacing="2",
    )


def address_view() -> rx.Component:
    return rx.vstack(step_heading("Quelle est votre adresse ?"), back_link(), address_search(),
                     width="100%", spacing="3")


def address_line() -> rx.Component:
    """In a sectorised territory: the address chosen and a link to change it, or a link to give it."""
    return rx.cond(
        S.address_href != "",
        rx.el.p(rx.cond(S.address_label != "", rx.fragment(rx.el.span("Votre adresse : "),
                                                            rx.el.strong(S.address_label), rx.el.span(" · ")),
                        rx.fragment()),
                rx.link(rx.cond(S.address_label != "", "Changer d'adresse",
                                "Indiquez votre adresse pour voir tous les rendez-vous proposés près de chez vous"),
                        href=S.address_href)),
        rx.fragment())


def uncovered_view() -> rx.Component:
    def contact(line: Choice) -> rx.Component:
        return rx.el.li(rx.el.strong(line.label, display="block"),
                        rx.cond(line.detail != "", rx.el.span("Téléphone : ", rx.link(line.detail, href="tel:" + line.detail),
                                                              display="block"), rx.fragment()),
                        rx.cond(line.extra != "", rx.el.span("Email : ", rx.link(line.extra, href="mailto:" + line.extra),
                                                             display="block"), rx.fragment()),
                        style=_CARD)

    return rx.vstack(
        step_heading("Votre adresse n'est couverte par aucun secteur"), summary(), back_link(),
        rx.text("Aucun service ne propose de rendez-vous en ligne à votre adresse. Contactez l'une de ces "
                "organisations :"),
        rx.el.ul(rx.foreach(S.contacts, contact), style={"list_style": "none", "padding": 0, "margin": 0,
                                                         "display": "grid", "gap": "0.75rem", "width": "100%"}),
        width="100%", spacing="3",
    )


def choices_view(title: str, empty: str) -> rx.Component:
    return rx.vstack(
        step_heading(title), back_link(), address_line(),
        rx.cond(S.notice != "", rx.el.p(S.notice, role="status"), rx.fragment()),
        rx.cond(S.choices.length() > 0, choice_list(S.choices), rx.text(empty)),
        width="100%", spacing="3",
    )


def week_view() -> rx.Component:
    return rx.vstack(
        step_heading("Choisissez un horaire"), back_link(), summary(),
        rx.cond(S.notice != "", rx.el.div(S.notice, role="alert", class_name="form-alert"), rx.fragment()),
        slot_week(title=S.week_title, days=S.days, slot_base_href=S.slot_base_href, previous_href=S.previous_week_href,
                  next_href=S.next_week_href, is_empty=S.week_is_empty, following_href=S.next_href,
                  following_label=S.next_label, on_week=S.change_week),
        width="100%", spacing="3",
    )


def identification_view() -> rx.Component:
    return rx.vstack(
        step_heading("Identifiez-vous pour confirmer"), back_link(), summary(),
        rx.cond(S.link_sent != "", rx.el.div(S.link_sent, role="status", class_name="success-box"), rx.fragment()),
        form_alert(S.form_error), error_summary(),
        rx.cond(S.franceconnect_href != "",
                rx.box(rx.el.a("S'identifier avec FranceConnect", href=S.franceconnect_href, style=BUTTON_LINK,
                               on_click=S.start_franceconnect.prevent_default,
                               width="100%", box_sizing="border-box"),
                       rx.text("FranceConnect est la solution proposée par l'État pour sécuriser et simplifier la "
                               "connexion à vos services en ligne.", size="2", color=styles.var("text-muted")),
                       width="100%"),
                rx.fragment()),
        rx.heading("Créer un compte", as_="h3", size="4"),
        rx.form(rx.vstack(
            field("first_name", "Prénom", autocomplete="given-name"),
            field("last_name", "Nom", autocomplete="family-name"),
            field("email", "Adresse email", type_="email", autocomplete="email",
                  hint="Nous vous enverrons un lien pour confirmer votre adresse."),
            field("phone_number", "Téléphone (facultatif)", type_="tel", autocomplete="tel", required=False,
                  hint="Pour recevoir la confirmation et le rappel par SMS."),
            submit("Créer mon compte"), width="100%"),
            on_submit=S.create_account, reset_on_submit=False, width="100%", aria_label="Créer un compte", no_validate=True),
        rx.heading("Vous avez déjà un compte ?", as_="h3", size="4"),
        rx.form(rx.vstack(
            field("sign_in_email", "Adresse email du compte", type_="email", autocomplete="email"),
            dsfr.button("Recevoir un lien de connexion", kind="secondary", type_="submit", full_width=True,
                        disabled=S.submitting),
            width="100%"), on_submit=S.send_sign_in_link, reset_on_submit=False, width="100%",
            aria_label="Recevoir un lien de connexion", no_validate=True),
        width="100%", spacing="3",
    )


def informations_view() -> rx.Component:
    return rx.vstack(
        step_heading("Vos informations"), signed_in_line(), back_link(), summary(), form_alert(S.form_error),
        error_summary(),
        rx.form(rx.vstack(
            field("first_name", "Prénom", value=S.first_name, autocomplete="given-name", read_only=S.names_certified,
                  hint=rx.cond(S.names_certified, "Certifié par FranceConnect", "")),
            field("last_name", "Nom", value=S.last_name, autocomplete="family-name", read_only=S.names_certified),
            field("phone_number", rx.cond(S.phone_required, "Téléphone", "Téléphone (facultatif)"),
                  type_="tel", value=S.phone_number, autocomplete="tel", required=S.phone_required),
            field("address", rx.cond(S.address_required, "Adresse", "Adresse (facultatif)"),
                  value=S.address, autocomplete="street-address", required=S.address_required),
            submit("Continuer"), width="100%"),
            on_submit=S.save_informations, reset_on_submit=False, width="100%", aria_label="Vos informations", no_validate=True),
        width="100%", spacing="3",
    )


def for_whom_view() -> rx.Component:
    return rx.vstack(
        step_heading("Pour qui est ce rendez-vous ?"), signed_in_line(), back_link(), summary(),
        choice_list(S.relatives), form_alert(S.form_error), error_summary(),
        rx.heading("Ajouter un proche", as_="h3", size="4"),
        rx.form(rx.vstack(
            field("relative_first_name", "Prénom du proche"),
            field("relative_last_name", "Nom du proche"),
            field("relative_birth_date", "Date de naissance (facultatif)", type_="date", required=False),
            submit("Ajouter ce proche et continuer"), width="100%"),
            on_submit=S.add_relative, reset_on_submit=False, width="100%", aria_label="Ajouter un proche", no_validate=True),
        width="100%", spacing="3",
    )


def ants_number_field() -> rx.Component:
    """The pre-demande number of an ANTS motif, checked with ANTS when the person leaves the field.

    The field keeps what the person types (`default_value`, shown upper-cased by CSS): a field whose value
    came from the state would be put back by React to the state's previous value until the server's answer
    arrives, so that on a slow connection characters typed meanwhile were lost and leaving the field sent
    the previous number to be checked. The field mounts when the page's loading ends, with the number
    stored for the participant."""
    field_id = "champ-ants_pre_demande_number"
    return rx.box(
        rx.el.label("Numéro de pré-demande ANTS", html_for=field_id, class_name="field-label"),
        rx.el.p("10 chiffres et lettres, reçus après votre pré-demande en ligne sur ",
                rx.link("passeport.ants.gouv.fr", href=ants.HELP_URL, is_external=True, underline="always"), ".",
                id=f"{field_id}-aide", class_name="field-hint"),
        rx.el.input(id=field_id, name="ants_pre_demande_number", type="text", default_value=S.ants_number,
                    on_change=S.set_ants_number, on_blur=S.check_ants_number, required=True, auto_complete="off",
                    max_length=20, class_name="text-input", style={"text_transform": "uppercase"},
                    aria_describedby=f"{field_id}-aide {field_id}-erreur",
                    aria_invalid=rx.cond(S.ants_error != "", "true", "false")),
        rx.el.div(
            rx.cond(S.ants_checking, rx.hstack(rx.spinner(size="1"), rx.text("Vérification auprès de l'ANTS…"),
                                                align="center"), rx.fragment()),
            rx.el.p(S.ants_error, id=f"{field_id}-erreur", class_name="field-error"),
            rx.cond((S.ants_checked != "") & (S.ants_error == "") & (S.ants_warning == "") & ~S.ants_checking,
                    rx.text("Numéro reconnu par l'ANTS.", color=styles.var("success"), font_weight="600"), rx.fragment()),
            aria_live="polite"),
        rx.cond(S.ants_warning != "",
                rx.box(rx.text(S.ants_warning),
                       rx.link("Voir ce rendez-vous", href=S.ants_warning_link, is_external=True, underline="always"),
                       rx.checkbox("J'ai compris, je souhaite tout de même prendre ce rendez-vous",
                                   checked=S.ants_warning_confirmed, on_change=S.set_ants_warning_confirmed, size="3"),
                       role="alert", padding="0.75rem", border=f"1px solid {styles.var('border')}", border_radius="0.4rem",
                       width="100%"),
                rx.fragment()),
        width="100%",
    )


def recap_view() -> rx.Component:
    ants_blocks = S.ants_required & ((S.ants_number == "") | S.ants_checking | (S.ants_error != "")
                                     | ((S.ants_warning != "") & ~S.ants_warning_confirmed))
    return rx.vstack(
        step_heading("Vérifiez votre rendez-vous"), signed_in_line(), back_link(), summary(), form_alert(S.form_error),
        rx.cond(S.ants_required, ants_number_field(), rx.fragment()),
        rx.cond(S.restriction != "",
                rx.box(rx.heading("Conditions", as_="h3", size="3"), rx.text(S.restriction, white_space="pre-line"),
                       rx.checkbox("J'ai lu et j'accepte ces conditions", checked=S.accepted,
                                   on_change=S.set_accepted, size="3"),
                       width="100%"),
                rx.fragment()),
        rx.button(rx.cond(S.submitting, rx.spinner(size="2"), rx.fragment()),
                  rx.cond(S.submitting, "Confirmation en cours…", "Confirmer mon RDV"),
                  on_click=S.confirm, size="4", width="100%",
                  disabled=S.submitting | ((S.restriction != "") & ~S.accepted) | ants_blocks),
        width="100%", spacing="3",
    )


def confirmation_view() -> rx.Component:
    return rx.vstack(
        dsfr.alert("Votre rendez-vous est confirmé", kind="success", heading_level="h2"),
        rx.cond(S.notice != "", rx.el.p(S.notice, role="status", font_weight="600"),
                rx.text("Vous allez recevoir une confirmation par email, et par SMS si vous avez donné un numéro de "
                        "mobile.")),
        summary(),
        rx.cond(S.instruction != "", rx.box(rx.heading("À savoir avant votre rendez-vous", as_="h3", size="4"),
                                            rx.text(S.instruction, white_space="pre-line")), rx.fragment()),
        rx.cond(S.calendar_href != "",
                rx.el.a("Ajouter à mon agenda", href=S.calendar_href, download=True, class_name="tap-button",
                        on_click=S.add_to_calendar.prevent_default),
                rx.fragment()),
        rx.box(rx.heading("Contact", as_="h3", size="4"),
               rx.text(S.organisation_name),
               rx.cond(S.organisation_phone != "",
                       rx.text("Téléphone : ", rx.el.a(S.organisation_phone, href=S.organisation_phone_href,
                                                       class_name="tap-link")),
                       rx.fragment()),
               rx.cond(S.organisation_email != "",
                       rx.text("Email : ", rx.el.a(S.organisation_email, href="mailto:" + S.organisation_email,
                                                   class_name="tap-link")),
                       rx.fragment())),
        rx.text("Pour annuler, rendez-vous dans « Mes rendez-vous » ou utilisez le lien « Infos et annulation » reçu "
                "par SMS ou email, jusqu'à 4 heures avant le rendez-vous."),
        rx.link("Voir mes rendez-vous", href=routes.USAGER_RDVS, font_weight="600", class_name="tap-link"),
        rx.link("Prendre un autre rendez-vous", href=routes.PUBLIC_BOOKING, class_name="tap-link"),
        width="100%", spacing="3",
    )


def error_view() -> rx.Component:
    return rx.vstack(rx.el.div(S.page_error, role="alert", class_name="form-alert"),
                     rx.link("Recommencer la recherche", href=routes.PUBLIC_BOOKING), width="100%", spacing="3")


# The booking's steps as the DSFR stepper shows them: the state's step → its number among STEP_TITLES.
STEP_NUMBERS = {"place": 1, "service": 1, "motif": 1, "lieu": 2, "organisation": 2, "creneau": 3,
                "identification": 4, "informations": 4, "pour": 4, "recap": 5}
STEP_TITLES = ("Choisir le motif", "Choisir le lieu", "Choisir un créneau", "Vous identifier", "Vérifier et confirmer")


def booking_stepper() -> rx.Component:
    total = len(STEP_TITLES)
    return rx.match(
        S.step,
        *[(step, dsfr.stepper(number, total, STEP_TITLES[number - 1], STEP_TITLES[number] if number < total else ""))
          for step, number in STEP_NUMBERS.items()],
        rx.fragment(),
    )


# What a booking's first screen says before its steps: in the HTML shell, the same after the page has loaded,
# and the largest text of the screen, so a phone's largest paint (LCP) is its first, the JavaScript not awaited
# (issue 24). Not on the confirmation, where it is no longer true.
BOOKING_INTRO = ("Prenez rendez-vous en ligne avec un service public près de chez vous : choisissez le motif de votre "
                 "rendez-vous, le lieu, puis l'horaire qui vous convient.")


def booking_page(intro: str = BOOKING_INTRO) -> rx.Component:
    return rx.vstack(
        rx.cond(S.has_session, rx.el.nav(rx.link("Mes rendez-vous", href=routes.USAGER_RDVS, font_weight="600",
                                                 class_name="tap-link"),
                                         aria_label="Mon compte", style={"align_self": "flex-end"}),
                rx.fragment()),
        rx.heading("Prendre rendez-vous", as_="h1", size="7"),
        rx.el.p(intro, class_name="booking-intro") if intro else rx.fragment(),
        rx.cond(S.scope_title != "", rx.text(S.scope_title, size="4", color=styles.var("text-muted")), rx.fragment()),
        rx.cond(S.prescripteur_href != "", rx.link("Je suis un prescripteur", href=S.prescripteur_href),
                rx.fragment()),
        rx.cond(S.loading, rx.fragment(), booking_stepper()),
        rx.cond(
            S.loading,
            rx.vstack(
                rx.hstack(rx.spinner(size="3"), rx.text("Chargement…"), role="status", align="center", spacing="2"),
                # Shown by CSS once loading has lasted 15 seconds (the connection may be lost): the page
                # can be loaded again without the server's help.
                rx.box(rx.el.p("Le chargement prend plus de temps que prévu. Vérifiez votre connexion, puis "
                               "réessayez."),
                       rx.button("Réessayer", on_click=rx.call_script("window.location.reload()"), size="3"),
                       class_name="slow-loading", role="alert"),
                width="100%", spacing="3"),
            rx.match(
                S.step,
                ("place", place_view()),
                ("adresse", address_view()),
                ("hors-secteur", uncovered_view()),
                ("service", choices_view("Choisissez un service", "Aucun service ne propose de rendez-vous en ligne.")),
                ("motif", choices_view("Choisissez le motif de votre rendez-vous",
                                       "Aucun motif n'est proposé en ligne pour ce service.")),
                ("lieu", choices_view("Choisissez un lieu", "Aucun lieu ne propose ce motif pour le moment.")),
                ("organisation", choices_view("Choisissez un service près de chez vous",
                                              "Aucune organisation ne propose ce motif pour le moment.")),
                ("creneau", week_view()),
                ("session", choices_view("Inscrivez-vous à l'atelier",
                                         "Aucune date n'est ouverte à l'inscription pour le moment.")),
                ("identification", identification_view()),
                ("informations", informations_view()),
                ("pour", for_whom_view()),
                ("recap", recap_view()),
                ("confirmation", confirmation_view()),
                error_view(),
            ),
        ),
        width="100%", max_width="40rem", spacing="4", class_name="public-booking",
    )


def confirmation_page() -> rx.Component:
    return booking_page(intro="")


BOOKING_DESCRIPTION = "Prenez rendez-vous en ligne avec un service public près de chez vous : motif, lieu, horaire."
ORGANISATION_DESCRIPTION = "Prenez rendez-vous en ligne avec ce service public : choisissez le motif, le lieu et l'horaire."
# One title per step (PublicBookingState.page_title).
template(routes.PUBLIC_BOOKING, S.page_title, on_load=S.load, description=BOOKING_DESCRIPTION)(booking_page)
template(routes.PUBLIC_ORGANISATION, S.page_title, on_load=S.load, description=ORGANISATION_DESCRIPTION)(booking_page)
template(routes.PUBLIC_ORGANISATION_SLUG, S.page_title, on_load=S.load,
         description=ORGANISATION_DESCRIPTION)(booking_page)
template(routes.PUBLIC_CONFIRMATION, S.page_title, on_load=S.load,
         description="Votre rendez-vous est confirmé : la date, le lieu et ce qu'il faut apporter.")(
    confirmation_page)
