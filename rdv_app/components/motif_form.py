"""The motif's fields in four tabs, for any state built on `MotifFormMixin` (organisation and territory
pages)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from rdv_app.components.admin import textarea_field
from rdv_app.components.fields import checkbox, fieldset, input_field, select_field
from rdv_app.domain.labels import (
    BOOKABLE_BY_LABELS,
    LOCATION_TYPE_LABELS,
    SECTORISATION_LEVEL_LABELS,
    VISIBILITY_TYPE_LABELS,
)
from rdv_app.domain.motif_rules import DELAY_UNITS
from rdv_app.state.admin_motifs import TAB_ADVANCED, TAB_GENERAL, TAB_INSTRUCTIONS, TAB_ONLINE
from rdv_app.state.creneaux import Option

LOCATION_OPTIONS = [Option(k.value, v) for k, v in LOCATION_TYPE_LABELS.items()]
BOOKABLE_OPTIONS = [Option(k.value, v) for k, v in BOOKABLE_BY_LABELS.items()]
VISIBILITY_OPTIONS = [Option(k.value, v) for k, v in VISIBILITY_TYPE_LABELS.items()]
SECTORISATION_OPTIONS = [Option(k.value, v) for k, v in SECTORISATION_LEVEL_LABELS.items()]
UNIT_OPTIONS = [Option(unit, plural) for unit, (_, _, plural) in reversed(DELAY_UNITS.items())]


def _error(state: Any, field: str) -> rx.Var:
    return rx.cond(state.error_field == field, state.error_message, "")


def _text(state: Any, prefix: str, var: str, label: str, field: str, **props: Any) -> rx.Component:
    return input_field(f"{prefix}-{var.replace('_', '-')}", label, initial=getattr(state, var), key=state.form_key,
                       on_change=lambda value: state.set_text(var, value), error=_error(state, field), **props)


def _select(state: Any, prefix: str, var: str, label: str, options: list[Option] | rx.Var, field: str,
            **props: Any) -> rx.Component:
    return select_field(f"{prefix}-{var.replace('_', '-')}", label, value=getattr(state, var),
                        on_change=lambda value: state.set_text(var, value), options=options,
                        error=_error(state, field), **props)


def _flag(state: Any, var: str, label: str) -> rx.Component:
    return checkbox(label, initial=getattr(state, var), key=state.form_key,
                    on_change=lambda checked: state.set_flag(var, checked))


def _delay(state: Any, prefix: str, which: str, legend: str, hint: str) -> rx.Component:
    field = f"{which}_public_booking_delay"
    return fieldset(
        f"{prefix}-delai-{which}", legend,
        rx.grid(
            input_field(f"{prefix}-delai-{which}-nombre", f"{legend} (nombre)", initial=getattr(state, f"{which}_amount"),
                        key=state.form_key, input_mode="numeric",
                        on_change=lambda value: state.set_text(f"{which}_amount", value), error=""),
            select_field(f"{prefix}-delai-{which}-unite", f"{legend} (unité)", value=getattr(state, f"{which}_unit"),
                         on_change=lambda value: state.set_text(f"{which}_unit", value), options=UNIT_OPTIONS,
                         error=None),
            columns="2", spacing="3", max_width="24rem",
        ),
        error=_error(state, field), hint=hint,
    )


def _general(state: Any, prefix: str, services: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.grid(
            _text(state, prefix, "name", "Nom du motif", "name"),
            _select(state, prefix, "service_id", "Service", services, "service_id", placeholder="Choisissez un service",
                    required=True),
            columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%",
        ),
        rx.grid(
            _text(state, prefix, "color", "Couleur", "color", type_="color", hint="Couleur du motif dans l'agenda."),
            _text(state, prefix, "duration", "Durée par défaut (minutes)", "default_duration_in_min",
                  input_mode="numeric"),
            _select(state, prefix, "location_type", "Type de lieu", LOCATION_OPTIONS, "location_type"),
            columns=rx.breakpoints(initial="1", md="3"), spacing="4", width="100%",
        ),
        fieldset(f"{prefix}-collectif", "Type de rendez-vous",
                 _flag(state, "collectif", "Motif collectif (plusieurs participants, sur place uniquement)"),
                 error=_error(state, "collectif")),
        spacing="4", width="100%",
    )


def _online(state: Any, prefix: str) -> rx.Component:
    return rx.vstack(
        rx.box(
            _select(state, prefix, "bookable_by", "Qui peut réserver ce motif ?", BOOKABLE_OPTIONS, "bookable_by",
                    hint="« Ouvert aux agents et aux usagers » ouvre le motif à la réservation en ligne."),
            max_width="32rem", width="100%",
        ),
        _delay(state, prefix, "min", "Délai minimum de réservation",
               "Temps minimum entre la réservation en ligne et le rendez-vous (30 minutes au moins)."),
        _delay(state, prefix, "max", "Délai maximum de réservation",
               "Jusqu'à quand à l'avance un usager peut réserver (1 an au plus). Les agents ne sont pas limités."),
        spacing="4", width="100%",
    )


def _instructions(state: Any, prefix: str) -> rx.Component:
    return rx.vstack(
        textarea_field(f"{prefix}-conditions", "Conditions à accepter avant la réservation (facultatif)",
                       initial=state.restriction, key=state.form_key,
                       on_change=lambda value: state.set_text("restriction", value),
                       error=_error(state, "restriction_for_rdv"),
                       hint="L'usager doit les accepter pour réserver en ligne."),
        textarea_field(f"{prefix}-instructions", "Instructions après la prise de RDV (facultatif)",
                       initial=state.instruction, key=state.form_key,
                       on_change=lambda value: state.set_text("instruction", value),
                       error=_error(state, "instruction_for_rdv"),
                       hint="Affichées après la réservation et dans l'email de confirmation."),
        textarea_field(f"{prefix}-avertissement", "Message d'avertissement à l'annulation (facultatif)",
                       initial=state.cancel_warning, key=state.form_key,
                       on_change=lambda value: state.set_text("cancel_warning", value),
                       error=_error(state, "custom_cancel_warning_message"),
                       hint="Remplace « Voulez-vous vraiment annuler ce RDV ? »."),
        _select(state, prefix, "visibility_type", "Visibilité et notifications", VISIBILITY_OPTIONS,
                "visibility_type"),
        spacing="4", width="100%",
    )


def _advanced(state: Any, prefix: str) -> rx.Component:
    return rx.vstack(
        fieldset(f"{prefix}-options", "Options",
                 _flag(state, "follow_up", "Suivi par le référent : seuls les usagers ayant un référent réservent, "
                                           "avec lui"),
                 _flag(state, "for_secretariat", "Ouvert au secrétariat : les secrétaires peuvent aussi avoir des "
                                                 "plages et des RDV pour ce motif"),
                 _flag(state, "editable_by_usager", "L'usager peut modifier son RDV en ligne"),
                 _flag(state, "cancellable_by_usager", "L'usager peut annuler son RDV en ligne"),
                 error=rx.cond(state.error_field == "follow_up", state.error_message,
                               rx.cond(state.error_field == "for_secretariat", state.error_message, ""))),
        rx.box(
            _select(state, prefix, "sectorisation_level", "Sectorisation géographique", SECTORISATION_OPTIONS,
                    "sectorisation_level", hint="Qui l'usager peut réserver selon son adresse."),
            max_width="32rem", width="100%",
        ),
        spacing="4", width="100%",
    )


def motif_tabs(state: Any, prefix: str, services: rx.Var) -> rx.Component:
    """The four tabs; an error opens the tab of its field (the state's `tab`)."""
    return rx.tabs.root(
        rx.tabs.list(
            rx.tabs.trigger("Général", value=TAB_GENERAL),
            rx.tabs.trigger("Réservation en ligne", value=TAB_ONLINE),
            rx.tabs.trigger("Instruction et notification", value=TAB_INSTRUCTIONS),
            rx.tabs.trigger("Options avancées", value=TAB_ADVANCED),
        ),
        rx.tabs.content(_general(state, prefix, services), value=TAB_GENERAL, padding_top="1rem"),
        rx.tabs.content(_online(state, prefix), value=TAB_ONLINE, padding_top="1rem"),
        rx.tabs.content(_instructions(state, prefix), value=TAB_INSTRUCTIONS, padding_top="1rem"),
        rx.tabs.content(_advanced(state, prefix), value=TAB_ADVANCED, padding_top="1rem"),
        value=state.tab,
        on_change=state.set_tab,
        width="100%",
    )
