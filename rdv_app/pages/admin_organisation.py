"""Admin > Organisation (its details and time zone) and Admin > Réservation en ligne (the public link)."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes
from rdv_app.components.admin import admin_page, online_badge, section, textarea_field
from rdv_app.components.fields import input_field, select_field
from rdv_app.components.forms import form_alert, loaded_fieldset
from rdv_app.components.planning import status_region
from rdv_app.pages.template import agent_page
from rdv_app.state.admin_organisation import AdminOrganisationState, OnlineBookingState, OnlineMotifRow

Org = AdminOrganisationState
B = OnlineBookingState


def _error(field: str) -> rx.Var:
    return rx.cond(Org.error_field == field, Org.error_message, "")


def _field(field: str, label: str, **props) -> rx.Component:
    return input_field(f"organisation-{field.replace('_', '-')}", label, initial=getattr(Org, field), key=Org.form_key,
                       on_change=lambda value: Org.set_text(field, value), error=_error(field), **props)


@agent_page(routes.ADMIN_ORGANISATION, "Organisation", load=AdminOrganisationState.load)
def admin_organisation_page() -> rx.Component:
    return admin_page(
        "Organisation", "Une organisation est une structure du territoire (PMI, MDS, mairie…) avec ses agents, "
        "ses lieux et ses motifs. Ses coordonnées sont proposées aux usagers quand aucun créneau n'est "
        "disponible.",
        denied=Org.denied, loading=Org.loading, loading_text="Chargement de l'organisation…",
        content=section(
            "organisation-titre", "Informations de l'organisation",
            rx.form(loaded_fieldset(
                _field("name", "Nom de l'organisation"),
                rx.grid(
                    _field("phone_number", "Téléphone (facultatif)", type_="tel", required=False,
                           hint="Numéro français ou d'outre-mer, ou numéro court à 4 chiffres."),
                    _field("email", "Adresse email (facultatif)", type_="email", required=False,
                           hint="Format attendu : accueil@exemple.fr"),
                    _field("website", "Site internet (facultatif)", required=False,
                           hint="Par exemple https://www.exemple.fr"),
                    columns=rx.breakpoints(initial="1", md="3"), spacing="4", width="100%",
                ),
                textarea_field("organisation-horaires", "Horaires d'ouverture (facultatif)", initial=Org.horaires,
                               key=Org.form_key, on_change=lambda value: Org.set_text("horaires", value),
                               error=_error("horaires"),
                               hint="Texte libre, par exemple : du lundi au vendredi, de 9 h à 12 h."),
                rx.box(
                    select_field("organisation-fuseau", "Fuseau horaire", value=Org.timezone,
                                 on_change=lambda value: Org.set_text("timezone", value), options=Org.timezone_options,
                                 error=_error("timezone"), required=True,
                                 hint="Les plages, créneaux et rendez-vous de l'organisation sont à cette heure."),
                    max_width="32rem", width="100%",
                ),
                form_alert(Org.form_error),
                rx.button(rx.cond(Org.saving, rx.spinner(size="2"), rx.icon("save", size=16)),
                          "Enregistrer", type="submit", size="3", disabled=Org.saving, width="fit-content"),
                status_region(Org.saved_message),
                loaded_for=Org.loaded_for, class_name="stack-form"),
                no_validate=True, on_submit=lambda _form: Org.save(),
                aria_labelledby="organisation-titre",
            ),
        ),
    )


def _online_row(row: OnlineMotifRow) -> rx.Component:
    return rx.el.li(
        rx.hstack(rx.text(row.name, weight="bold"), online_badge(), align="center", spacing="2", wrap="wrap"),
        rx.text(row.service + " · " + row.location),
        rx.cond(row.offered, rx.fragment(),
                rx.text("Aucune plage d'ouverture ne le propose : il n'est pas réservable pour l'instant.",
                        class_name="field-error")),
        class_name="planning-row online-motif",
    )


@agent_page(routes.ADMIN_ONLINE_BOOKING, "Réservation en ligne", load=OnlineBookingState.load)
def admin_online_booking_page() -> rx.Component:
    return admin_page(
        "Réservation en ligne", "Les usagers prennent rendez-vous seuls, depuis un ordinateur ou un téléphone, "
        "sur les motifs « Ouvert aux agents et aux usagers » proposés dans une plage d'ouverture.",
        denied=B.denied, loading=B.loading, loading_text="Chargement de la réservation en ligne…",
        content=rx.fragment(
            section(
                "lien-public-titre", "Votre lien de prise de rendez-vous",
                rx.text("Partagez ce lien (site internet, courrier, plaquette) : il mène directement à vos "
                        "disponibilités."),
                rx.box(
                    rx.el.label("Lien public", html_for="lien-public", class_name="field-label"),
                    rx.el.input(id="lien-public", value=B.url, read_only=True, class_name="text-input"),
                    width="100%",
                ),
                rx.hstack(
                    rx.button(rx.icon("copy", size=16), "Copier le lien", type="button", size="3",
                              on_click=B.copy("lien")),
                    rx.link(rx.icon("external-link", size=16), "Ouvrir la page publique", href=B.url,
                            is_external=True, class_name="back-link"),
                    spacing="4", align="center", wrap="wrap",
                ),
                rx.box(
                    rx.el.label("Code d'intégration (iframe) pour votre site", html_for="code-integration",
                                class_name="field-label"),
                    rx.el.textarea(B.snippet, id="code-integration", read_only=True, rows=3,
                                   class_name="text-input code-block"),
                    width="100%",
                ),
                rx.button(rx.icon("code", size=16), "Copier le code d'intégration", type="button", size="3",
                          variant="outline", on_click=B.copy("code"), width="fit-content"),
                status_region(B.copied_message),
            ),
            section(
                "motifs-en-ligne-titre", "Motifs ouverts à la réservation en ligne",
                rx.cond(
                    B.not_offered.length() > 0,
                    rx.el.div(
                        rx.heading("Des motifs ouverts en ligne ne sont pas réservables", as_="h3", size="4"),
                        rx.text("Aucune plage d'ouverture en cours ne propose ces motifs : ajoutez-les à une plage "
                                "pour que les usagers puissent les réserver."),
                        rx.el.ul(rx.foreach(B.not_offered, lambda name: rx.el.li(name))),
                        rx.link("Gérer les plages d'ouverture", href=routes.PLAGES, class_name="back-link"),
                        class_name="warning-box",
                    ),
                    rx.fragment(),
                ),
                rx.cond(
                    B.motifs.length() > 0,
                    rx.el.ul(rx.foreach(B.motifs, _online_row), class_name="planning-list"),
                    rx.el.p("Aucun motif n'est ouvert à la réservation en ligne. Dans « Motifs », choisissez "
                            "« Ouvert aux agents et aux usagers » pour au moins un motif.", class_name="info-box"),
                ),
                rx.link("Configurer les motifs", href=routes.ADMIN_MOTIFS, class_name="back-link"),
            ),
        ),
    )
