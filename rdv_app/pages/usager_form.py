"""Créer un usager / Modifier l'usager: one form for both (admin-domain.md 1.3), and the territory's "Fiches
usagers" settings, which decide its optional fields."""

from __future__ import annotations

from typing import Any

import reflex as rx

from rdv_app import routes, styles
from rdv_app.choices import Option
from rdv_app.components.admin import admin_page, section, textarea_field
from rdv_app.components.fields import checkbox, fieldset, input_field, select_field
from rdv_app.components.forms import form_alert
from rdv_app.components.layout import loading_block
from rdv_app.components.planning import status_region
from rdv_app.domain.labels import (
    CAISSE_AFFILIATION_LABELS,
    FAMILY_SITUATION_LABELS,
    LOGEMENT_LABELS,
    USAGER_KIND_LABELS,
)
from rdv_app.pages.template import agent_page
from rdv_app.services.usagers.usager_form import RESPONSIBLE_PREFIX
from rdv_app.state.usager_fields import TOGGLE_LABELS, UsagerFieldsState
from rdv_app.state.usager_form import (
    CREATE,
    EXISTING,
    FORM_HEADING_ID,
    WARNINGS_HEADING_ID,
    DuplicateRow,
    UsagerFormState,
)

S = UsagerFormState
PHONE_HINT = "Numéro à 10 chiffres (métropole ou outre-mer), ou international avec l'indicatif (+33…)."
FRANCECONNECT_NOTE = ("Cet usager s'est connecté avec FranceConnect : son prénom, son nom de naissance et sa date de "
                      "naissance sont certifiés et ne peuvent pas être modifiés.")
NOTIFICATIONS_NOTE = "L'usager ayant validé son compte, vous ne pouvez plus modifier ses préférences."


def _at(var: Any, key: str) -> Any:
    """An entry of a dict var (the form's values, errors and toggles)."""
    return var[key]


def _options(labels: dict) -> list[Option]:
    return [Option(value.value, label) for value, label in labels.items()]


def _id(prefix: str, name: str) -> str:
    return f"usager-{prefix}{name}".replace("_", "-")


def _values(prefix: str) -> Any:
    return S.r_values if prefix else S.values


def _text(prefix: str, name: str, label: str, *, required: bool = False, type_: str = "text", hint: str = "",
          locked: Any = False, **props: Any) -> rx.Component:
    setter = S.set_responsible_value if prefix else S.set_value
    return input_field(_id(prefix, name), label, initial=_at(_values(prefix), name), key=S.form_key,
                       on_change=lambda value: setter(name, value), error=_at(S.errors, prefix + name), type_=type_,
                       hint=hint, required=required, disabled=locked, **props)


def _select(prefix: str, name: str, label: str, labels: dict) -> rx.Component:
    setter = S.set_responsible_value if prefix else S.set_value
    return select_field(_id(prefix, name), label, value=_at(_values(prefix), name),
                        on_change=lambda value: setter(name, value), options=_options(labels),
                        error=_at(S.errors, prefix + name), placeholder="Non renseigné")


def _notes(prefix: str) -> rx.Component:
    setter = S.set_responsible_value if prefix else S.set_value
    return rx.cond(_at(S.toggles, "enable_notes_field"),
                   textarea_field(_id(prefix, "notes"), "Remarques", initial=_at(_values(prefix), "notes"), key=S.form_key,
                                  on_change=lambda value: setter("notes", value), error=_at(S.errors, prefix + "notes")),
                   rx.fragment())


def _ants_number() -> rx.Component:
    """The usager's own pre-demande number (a relative's too), checked with ANTS as the agent leaves it."""
    field_id = _id("", "ants_pre_demande_number")
    return rx.box(
        input_field(field_id, "Numéro de pré-demande ANTS (facultatif)",
                    initial=_at(S.values, "ants_pre_demande_number"), key=S.form_key.to_string() + "-" + S.ants_key.to_string(),
                    on_change=lambda value: S.set_value("ants_pre_demande_number", value),
                    on_blur=S.check_ants_number, error=_at(S.errors, "ants_pre_demande_number"),
                    hint="10 chiffres et lettres ; vérifié auprès de l'ANTS dès que vous quittez le champ.",
                    required=False, auto_complete="off", max_length=20),
        rx.el.div(
            rx.cond(S.ants_checking, rx.hstack(rx.spinner(size="1"), rx.text("Vérification auprès de l'ANTS…"),
                                               align="center"), rx.fragment()),
            rx.cond((S.ants_checked != "") & (_at(S.errors, "ants_pre_demande_number") == "")
                    & (S.ants_warning == "") & ~S.ants_checking,
                    rx.text("Numéro reconnu par l'ANTS.", color=styles.var("success"), font_weight="600"),
                    rx.fragment()),
            rx.cond(S.ants_warning != "",
                    rx.box(rx.text(S.ants_warning),
                           rx.link("Voir ce rendez-vous", href=S.ants_warning_link, is_external=True,
                                   underline="always"),
                           rx.text("Vous devrez confirmer ce numéro en enregistrant la fiche.", class_name="field-hint"),
                           class_name="warning-box"),
                    rx.fragment()),
            role="status",
        ),
        width="100%",
    )


def _toggled(toggle: str, field: rx.Component) -> rx.Component:
    return rx.cond(_at(S.toggles, toggle), field, rx.fragment())


def _address(prefix: str) -> rx.Component:
    values = _values(prefix)
    mine = S.suggestions_for == prefix
    return rx.box(
        input_field(_id(prefix, "address"), "Adresse (facultatif)", initial=_at(values, "address"), key=S.form_key,
                    on_change=lambda value: S.set_address(prefix, value), error=_at(S.errors, prefix + "address"),
                    required=False, auto_complete="off",
                    hint="Commencez à saisir l'adresse, puis choisissez-la parmi les adresses proposées, ou "
                         "saisissez-la en entier."),
        rx.el.div(
            rx.cond(mine & (S.suggestions.length() > 0),
                    rx.el.ul(rx.foreach(S.suggestions, lambda label, index: rx.el.li(
                        rx.button(rx.icon("map-pin", size=14), label, type="button", variant="ghost", size="2",
                                  on_click=S.choose_address(index), class_name="address-suggestion"))),
                             aria_label="Adresses proposées", class_name="address-suggestions"),
                    rx.fragment()),
            rx.cond(mine & (S.address_hint != ""), rx.text(S.address_hint, class_name="field-hint"), rx.fragment()),
            aria_live="polite",
        ),
        rx.cond(_at(values, "post_code") != "",
                rx.text("Code postal " + _at(values, "post_code") + " · " + _at(values, "city_name") + " (code INSEE "
                        + _at(values, "city_code") + ")", class_name="field-hint"),
                rx.fragment()),
        width="100%",
    )


def _notifications(prefix: str) -> rx.Component:
    """The usager's own preferences lock once they confirmed their account; a new responsible's never are."""
    sms = S.r_notify_by_sms if prefix else S.notify_by_sms
    email = S.r_notify_by_email if prefix else S.notify_by_email
    locked = S.notifications_locked if prefix == "" else False
    return fieldset(
        _id(prefix, "notifications"), "Préférences de notifications",
        rx.cond(locked, rx.text(NOTIFICATIONS_NOTE, class_name="field-hint"), rx.fragment()),
        rx.flex(
            checkbox("Accepte les notifications par SMS", initial=sms, key=S.form_key, disabled=locked,
                     on_change=lambda checked: S.set_check(prefix + "notify_by_sms", checked)),
            checkbox("Accepte les notifications par email", initial=email, key=S.form_key, disabled=locked,
                     on_change=lambda checked: S.set_check(prefix + "notify_by_email", checked)),
            spacing="5", wrap="wrap",
        ),
        error=_at(S.errors, prefix + "notify_by_sms") + _at(S.errors, prefix + "notify_by_email"),
    )


def _responsible_fields(prefix: str) -> rx.Component:
    """The fields of a responsible: the usager's own, or the new responsible of a relative (`prefix`)."""
    certified = S.franceconnect if prefix == "" else False
    grid: dict[str, Any] = {"columns": rx.breakpoints(initial="1", md="2"), "spacing": "4", "width": "100%"}
    return rx.fragment(
        rx.grid(
            _text(prefix, "first_name", "Prénom", required=True, locked=certified, auto_complete="off"),
            _text(prefix, "last_name", "Nom d'usage", required=True, auto_complete="off"),
            _text(prefix, "birth_name", "Nom de naissance (facultatif)", locked=certified),
            _text(prefix, "birth_date", "Date de naissance (facultatif)", type_="date", locked=certified),
            _text(prefix, "phone_number", "Téléphone (facultatif)", type_="tel", hint=PHONE_HINT),
            _text(prefix, "email", "Email (facultatif)", type_="email", hint="Format attendu : prenom.nom@exemple.fr"),
            **grid,
        ),
        *([] if prefix else [rx.cond(
            S.editing, rx.fragment(),
            checkbox("Inviter l'usager à se créer un compte sur RDV Services Publics (il faut son email)",
                     initial=S.invite, key=S.form_key, on_change=lambda checked: S.set_check("invite", checked)))]),
        _notifications(prefix),
        _address(prefix),
        rx.grid(
            _toggled("enable_address_details", _text(prefix, "address_details", "Complément d'adresse")),
            _toggled("enable_case_number", _text(prefix, "case_number", "Numéro de dossier")),
            _toggled("enable_caisse_affiliation_field",
                     _select(prefix, "caisse_affiliation", "Caisse d'affiliation", CAISSE_AFFILIATION_LABELS)),
            _toggled("enable_affiliation_number_field", _text(prefix, "affiliation_number", "Numéro d'allocataire")),
            _toggled("enable_family_situation_field",
                     _select(prefix, "family_situation", "Situation familiale", FAMILY_SITUATION_LABELS)),
            _toggled("enable_number_of_children_field",
                     _text(prefix, "number_of_children", "Nombre d'enfants", type_="number", min="0", max="15")),
            _toggled("enable_logement_field", _select(prefix, "logement", "Logement", LOGEMENT_LABELS)),
            *([] if prefix else [_toggled("ants", _ants_number())]),
            **grid,
        ),
        _notes(prefix),
    )


def _relative_fields() -> rx.Component:
    return rx.fragment(
        rx.grid(
            _text("", "first_name", "Prénom", required=True, locked=S.franceconnect, auto_complete="off"),
            _text("", "last_name", "Nom d'usage", required=True, auto_complete="off"),
            _text("", "birth_date", "Date de naissance (facultatif)", type_="date", locked=S.franceconnect),
            _toggled("ants", _ants_number()),
            columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%",
        ),
        _notes(""),
        rx.el.section(
            rx.heading("Usager responsable", as_="h2", size="4", id="responsable-titre"),
            rx.tabs.root(
                rx.tabs.list(rx.tabs.trigger("Usager existant", value=EXISTING),
                             rx.tabs.trigger("Nouvel usager", value=CREATE)),
                rx.tabs.content(_existing_responsible(), value=EXISTING, padding_top="1rem"),
                rx.tabs.content(rx.vstack(_responsible_fields(RESPONSIBLE_PREFIX), spacing="4", width="100%"),
                                value=CREATE, padding_top="1rem"),
                value=S.responsible_mode, on_change=S.set_responsible_mode, width="100%",
            ),
            aria_labelledby="responsable-titre",
            class_name="planning-section",
        ),
    )


def _existing_responsible() -> rx.Component:
    return rx.vstack(
        rx.cond(S.responsible_label != "",
                rx.text(rx.el.strong("Responsable : "), S.responsible_label),
                rx.text("Aucun responsable choisi pour l'instant.", color=styles.TEXT_MUTED)),
        input_field("usager-responsable-recherche", "Rechercher l'usager responsable", initial=S.responsible_query,
                    key=S.form_key, on_change=S.search_responsible.debounce(300), error=_at(S.errors, "responsible_id"),
                    type_="search", required=False, hint="Prénom ou nom d'un usager de votre organisation.",
                    auto_complete="off"),
        rx.cond(S.responsible_results.length() > 0,
                rx.el.ul(rx.foreach(S.responsible_results, lambda o: rx.el.li(
                    rx.hstack(rx.text(o.label),
                              rx.button("Choisir", type="button", size="2", variant="outline",
                                        on_click=S.choose_responsible(o.value), aria_label="Choisir " + o.label),
                              align="center", justify="between", wrap="wrap", width="100%"),
                    class_name="planning-row")), class_name="planning-list"),
                rx.fragment()),
        status_region(S.responsible_message),
        spacing="3", width="100%",
    )


def _duplicate(row: DuplicateRow) -> rx.Component:
    return rx.el.li(
        rx.text(row.message, weight="bold"),
        rx.cond(row.shown,
                rx.fragment(
                    rx.text(row.name),
                    rx.el.ul(rx.foreach(row.details, lambda d: rx.el.li(d, class_name="field-hint"))),
                    rx.hstack(
                        rx.cond(row.in_organisation,
                                rx.fragment(
                                    rx.button("Choisir cet usager", type="button", size="2", variant="outline",
                                              on_click=S.open_match(row.index, False)),
                                    rx.button("Modifier cet usager", type="button", size="2", variant="outline",
                                              on_click=S.open_match(row.index, True))),
                                rx.button(rx.cond(S.importing, rx.spinner(size="2"), rx.icon("user-plus", size=14)),
                                          "Importer cet usager", type="button", size="2", disabled=S.importing,
                                          on_click=S.import_match(row.index))),
                        spacing="3", wrap="wrap"),
                ),
                rx.fragment()),
        class_name="planning-row",
    )


def _duplicates() -> rx.Component:
    return rx.cond(
        S.duplicates.length() > 0,
        rx.el.section(
            rx.heading(rx.cond(S.warned, "Avertissements", "Usager déjà existant"), as_="h2", size="4",
                       id=WARNINGS_HEADING_ID, tab_index=-1),
            rx.cond(S.warned,
                    rx.text("Cet usager ressemble à un usager déjà enregistré. Vérifiez qu'il ne s'agit pas de la "
                            "même personne avant de continuer."),
                    rx.fragment()),
            rx.el.ul(rx.foreach(S.duplicates, _duplicate), class_name="planning-list"),
            rx.cond(S.warned,
                    rx.button(rx.cond(S.saving, rx.spinner(size="2"), rx.icon("check", size=16)),
                              "Confirmer en ignorant les avertissements", type="button", size="3", disabled=S.saving,
                              on_click=S.save(True), width="fit-content"),
                    rx.fragment()),
            aria_labelledby=WARNINGS_HEADING_ID,
            class_name="warning-box",
        ),
        rx.fragment(),
    )


def _kind() -> rx.Component:
    return fieldset(
        "usager-type", "Type d'usager",
        rx.hstack(*[rx.el.label(
            rx.el.input(type="radio", name="usager-type", value=kind.value, checked=S.kind == kind.value,
                        disabled=S.editing, on_change=S.set_kind(kind.value)),
            label, class_name="checkbox-label") for kind, label in USAGER_KIND_LABELS.items()], spacing="5", wrap="wrap"),
        rx.cond(S.editing, rx.text("Le type d'usager ne change plus une fois l'usager enregistré.",
                                   class_name="field-hint"), rx.fragment()),
        error=_at(S.errors, "kind"),
    )


def _form(title: str) -> rx.Component:
    # Until its record is loaded the form shows, disabled: nothing rendered before can be sent. Going to
    # another usager's form (a duplicate's "Modifier") disables it at the click (`is_hydrated`, as
    # `loaded_fieldset` does), not when the server starts loading the other usager.
    ready = rx.State.is_hydrated & (S.loaded_for != "") & ~S.loading
    # Back to the usager's page, or to the list of usagers.
    cancel = rx.cond(S.editing, routes.USAGERS + "/" + S.loaded_for, routes.USAGERS)
    return rx.vstack(
        rx.heading(title, as_="h1", size="7", id=FORM_HEADING_ID, tab_index=-1),
        rx.cond(
            S.denied != "",
            rx.el.div(rx.heading("Accès impossible", as_="h2", size="5"), rx.text(S.denied),
                      rx.link("Retour à l'accueil de l'espace agents", href=routes.WORKSPACE, class_name="back-link"),
                      role="alert", class_name="form-alert denied-box"),
            rx.fragment(
                rx.cond(S.loading, loading_block("Chargement de la fiche usager…"), rx.fragment()),
                rx.form(
                    rx.el.fieldset(
                        rx.el.legend(title, class_name="visually-hidden"),
                        rx.cond(S.franceconnect, rx.el.p(FRANCECONNECT_NOTE, class_name="info-box"), rx.fragment()),
                        _kind(),
                        rx.cond(S.is_relative, _relative_fields(), _responsible_fields("")),
                        form_alert(S.form_error),
                        _duplicates(),
                        rx.hstack(
                            rx.link("Annuler", href=cancel, class_name="back-link"),
                            rx.button(rx.cond(S.saving, rx.spinner(size="2"), rx.icon("save", size=16)),
                                      rx.cond(S.editing, "Enregistrer", "Créer usager"), type="submit", size="3",
                                      disabled=S.saving),
                            spacing="5", align="center", wrap="wrap",
                        ),
                        disabled=~ready,
                        class_name="stack-form bare-fieldset",
                    ),
                    no_validate=True, on_submit=lambda _form: S.save(False),
                    aria_labelledby=FORM_HEADING_ID,
                    on_unmount=S.leave,
                    width="100%",
                ),
            ),
        ),
        spacing="5", width="100%", max_width="60rem",
    )


@agent_page(routes.USAGER_NEW, "Créer un usager", load=UsagerFormState.load)
def usager_new_page() -> rx.Component:
    return _form("Créer un usager")


@agent_page(routes.USAGER_EDIT, "Modifier l'usager", load=UsagerFormState.load)
def usager_edit_page() -> rx.Component:
    return _form("Modifier l'usager")


# --------------------------------------------------------------------------- Fiches usagers (territory)

F = UsagerFieldsState


@agent_page(routes.ADMIN_TERRITORY_USAGER_FIELDS, "Fiches usagers", load=UsagerFieldsState.load)
def usager_fields_page() -> rx.Component:
    return admin_page(
        "Fiches usagers", "Choisissez les champs facultatifs des fiches usagers de votre territoire. Les champs "
        "seront simplement masqués, les données ne seront pas supprimées.",
        denied=F.denied, loading=F.loading, loading_text="Chargement des champs des fiches usagers…",
        content=section(
            "fiches-usagers-titre", "Champs affichés dans les fiches usagers de " + F.territory_name,
            rx.form(
                fieldset("fiches-usagers-champs", "Champs facultatifs",
                         *[checkbox(label, initial=_at(F.toggles, toggle), key=F.form_key,
                                    on_change=lambda checked, toggle=toggle: F.set_toggle(toggle, checked))
                           for toggle, label in TOGGLE_LABELS],
                         hint="Les champs seront simplement masqués, les données ne seront pas supprimées."),
                form_alert(F.form_error),
                rx.button(rx.cond(F.saving, rx.spinner(size="2"), rx.icon("save", size=16)), "Enregistrer",
                          type="submit", size="3", disabled=F.saving, width="fit-content"),
                status_region(F.saved_message),
                no_validate=True, on_submit=lambda _form: F.save(),
                aria_labelledby="fiches-usagers-titre",
                class_name="stack-form",
            ),
        ),
    )
