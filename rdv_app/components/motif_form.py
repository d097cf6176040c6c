"""The motif's fields in four tabs, bound through `MotifFormProps` to any state that holds a motif form
(the organisation's page and the territory's "create in several organisations")."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import reflex as rx

from rdv_app.choices import Option
from rdv_app.components.admin import textarea_field
from rdv_app.components.fields import checkbox, fieldset, input_field, select_field
from rdv_app.domain.labels import (
    BOOKABLE_BY_LABELS,
    LOCATION_TYPE_LABELS,
    SECTORISATION_LEVEL_LABELS,
    VISIBILITY_TYPE_LABELS,
)
from rdv_app.domain.motif_rules import DELAY_UNITS


@dataclass(frozen=True)
class MotifFormProps:
    values: Mapping[str, rx.Var]  # each field's value, by the name the handlers take
    key: rx.Var  # a new key mounts the uncontrolled inputs again with new values
    error_field: rx.Var  # the service's name of the field in error
    error_message: rx.Var
    on_text: Callable[[str, Any], Any]  # (field, value) of a text, number or select field
    on_flag: Callable[[str, Any], Any]  # (field, checked)
    tab: rx.Var
    on_tab: Any
    tab_ids: tuple[str, str, str, str]  # general, online booking, instructions, advanced options


LOCATION_OPTIONS = [Option(k.value, v) for k, v in LOCATION_TYPE_LABELS.items()]
BOOKABLE_OPTIONS = [Option(k.value, v) for k, v in BOOKABLE_BY_LABELS.items()]
VISIBILITY_OPTIONS = [Option(k.value, v) for k, v in VISIBILITY_TYPE_LABELS.items()]
SECTORISATION_OPTIONS = [Option(k.value, v) for k, v in SECTORISATION_LEVEL_LABELS.items()]
UNIT_OPTIONS = [Option(unit, plural) for unit, (_, _, plural) in reversed(DELAY_UNITS.items())]


def _error(form: MotifFormProps, field: str) -> rx.Var:
    return rx.cond(form.error_field == field, form.error_message, "")


def _text(form: MotifFormProps, prefix: str, var: str, label: str, field: str, **props: Any) -> rx.Component:
    return input_field(f"{prefix}-{var.replace('_', '-')}", label, initial=form.values[var], key=form.key,
                       on_change=lambda value: form.on_text(var, value), error=_error(form, field), **props)


def _select(form: MotifFormProps, prefix: str, var: str, label: str, options: list[Option] | rx.Var, field: str,
            **props: Any) -> rx.Component:
    return select_field(f"{prefix}-{var.replace('_', '-')}", label, value=form.values[var],
                        on_change=lambda value: form.on_text(var, value), options=options,
                        error=_error(form, field), **props)


def _flag(form: MotifFormProps, var: str, label: str) -> rx.Component:
    return checkbox(label, initial=form.values[var], key=form.key,
                    on_change=lambda checked: form.on_flag(var, checked))


def _delay(form: MotifFormProps, prefix: str, which: str, legend: str, hint: str) -> rx.Component:
    field = f"{which}_public_booking_delay"
    return fieldset(
        f"{prefix}-delai-{which}", legend,
        rx.grid(
            input_field(f"{prefix}-delai-{which}-nombre", f"{legend} (nombre)", initial=form.values[f"{which}_amount"],
                        key=form.key, input_mode="numeric",
                        on_change=lambda value: form.on_text(f"{which}_amount", value), error=""),
            select_field(f"{prefix}-delai-{which}-unite", f"{legend} (unité)", value=form.values[f"{which}_unit"],
                         on_change=lambda value: form.on_text(f"{which}_unit", value), options=UNIT_OPTIONS,
                         error=None),
            columns="2", spacing="3", max_width="24rem",
        ),
        error=_error(form, field), hint=hint,
    )


def _general(form: MotifFormProps, prefix: str, services: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.grid(
            _text(form, prefix, "name", "Nom du motif", "name"),
            _select(form, prefix, "service_id", "Service", services, "service_id", placeholder="Choisissez un service",
                    required=True),
            columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%",
        ),
        rx.grid(
            _text(form, prefix, "color", "Couleur", "color", type_="color", hint="Couleur du motif dans l'agenda."),
            _text(form, prefix, "duration", "Durée par défaut (minutes)", "default_duration_in_min",
                  input_mode="numeric"),
            _select(form, prefix, "location_type", "Type de lieu", LOCATION_OPTIONS, "location_type"),
            columns=rx.breakpoints(initial="1", md="3"), spacing="4", width="100%",
        ),
        fieldset(f"{prefix}-collectif", "Type de rendez-vous",
                 _flag(form, "collectif", "Motif collectif (plusieurs participants, sur place uniquement)"),
                 error=_error(form, "collectif")),
        spacing="4", width="100%",
    )


def _online(form: MotifFormProps, prefix: str) -> rx.Component:
    return rx.vstack(
        rx.box(
            _select(form, prefix, "bookable_by", "Qui peut réserver ce motif ?", BOOKABLE_OPTIONS, "bookable_by",
                    hint="« Ouvert aux prescripteurs » : les agents des autres organisations du territoire "
                         "peuvent le réserver (« Élargir la recherche »). « Ouvert aux agents et aux usagers » "
                         "l'ouvre aussi à la réservation en ligne."),
            max_width="32rem", width="100%",
        ),
        _delay(form, prefix, "min", "Délai minimum de réservation",
               "Temps minimum entre la réservation en ligne et le rendez-vous (30 minutes au moins)."),
        _delay(form, prefix, "max", "Délai maximum de réservation",
               "Jusqu'à quand à l'avance un usager peut réserver (1 an au plus). Les agents ne sont pas limités."),
        spacing="4", width="100%",
    )


def _instructions(form: MotifFormProps, prefix: str) -> rx.Component:
    return rx.vstack(
        textarea_field(f"{prefix}-conditions", "Conditions à accepter avant la réservation (facultatif)",
                       initial=form.values["restriction"], key=form.key,
                       on_change=lambda value: form.on_text("restriction", value),
                       error=_error(form, "restriction_for_rdv"),
                       hint="L'usager doit les accepter pour réserver en ligne."),
        textarea_field(f"{prefix}-instructions", "Instructions après la prise de RDV (facultatif)",
                       initial=form.values["instruction"], key=form.key,
                       on_change=lambda value: form.on_text("instruction", value),
                       error=_error(form, "instruction_for_rdv"),
                       hint="Affichées après la réservation et dans l'email de confirmation."),
        textarea_field(f"{prefix}-avertissement", "Message d'avertissement à l'annulation (facultatif)",
                       initial=form.values["cancel_warning"], key=form.key,
                       on_change=lambda value: form.on_text("cancel_warning", value),
                       error=_error(form, "custom_cancel_warning_message"),
                       hint="Remplace « Voulez-vous vraiment annuler ce RDV ? »."),
        _select(form, prefix, "visibility_type", "Visibilité et notifications", VISIBILITY_OPTIONS,
                "visibility_type"),
        spacing="4", width="100%",
    )


def _advanced(form: MotifFormProps, prefix: str) -> rx.Component:
    return rx.vstack(
        fieldset(f"{prefix}-options", "Options",
                 _flag(form, "follow_up", "Suivi par le référent : seuls les usagers ayant un référent réservent, "
                                           "avec lui"),
                 _flag(form, "for_secretariat", "Ouvert au secrétariat : les secrétaires peuvent aussi avoir des "
                                                 "plages et des RDV pour ce motif"),
                 _flag(form, "editable_by_usager", "L'usager peut modifier son RDV en ligne"),
                 _flag(form, "cancellable_by_usager", "L'usager peut annuler son RDV en ligne"),
                 error=rx.cond(form.error_field == "follow_up", form.error_message,
                               rx.cond(form.error_field == "for_secretariat", form.error_message, ""))),
        rx.box(
            _select(form, prefix, "sectorisation_level", "Sectorisation géographique", SECTORISATION_OPTIONS,
                    "sectorisation_level", hint="Qui l'usager peut réserver selon son adresse."),
            max_width="32rem", width="100%",
        ),
        spacing="4", width="100%",
    )


def motif_tabs(form: MotifFormProps, prefix: str, services: rx.Var) -> rx.Component:
    """The four tabs; the state opens the tab of a field in error (`form.tab`)."""
    general, online, instructions, advanced = form.tab_ids
    return rx.tabs.root(
        rx.tabs.list(
            rx.tabs.trigger("Général", value=general),
            rx.tabs.trigger("Réservation en ligne", value=online),
            rx.tabs.trigger("Instruction et notification", value=instructions),
            rx.tabs.trigger("Options avancées", value=advanced),
        ),
        rx.tabs.content(_general(form, prefix, services), value=general, padding_top="1rem"),
        rx.tabs.content(_online(form, prefix), value=online, padding_top="1rem"),
        rx.tabs.content(_instructions(form, prefix), value=instructions, padding_top="1rem"),
        rx.tabs.content(_advanced(form, prefix), value=advanced, padding_top="1rem"),
        value=form.tab,
        on_change=form.on_tab,
        width="100%",
    )
