from datetime import date

import pytest

from rdv_app.domain.required_fields import is_empty, missing
from rdv_app.services.availability import creneaux
from rdv_app.services.errors import FieldErrors


def test_empty_means_nothing_given() -> None:
    assert [is_empty(v) for v in (None, "", "  \t", [], (), set())] == [True] * 6
    assert [is_empty(v) for v in ("a", 0, [1], False)] == [False] * 4


def test_every_empty_field_is_named_in_the_forms_order() -> None:
    assert missing({"title": ("", "Le titre est obligatoire."), "agent_id": (3, "Choisissez l'agent."),
                    "first_day": (None, "Choisissez la date.")}) == {
        "title": "Le titre est obligatoire.", "first_day": "Choisissez la date."}
    assert missing({"title": ("Permanence", "Le titre est obligatoire.")}) == {}


def test_a_slot_search_names_each_missing_criterion() -> None:
    with pytest.raises(FieldErrors) as error:
        creneaux.check_criteria(None, None)
    assert error.value.errors == {"motif_id": "Choisissez un motif pour afficher les créneaux.",
                                  "from_day": "Indiquez le jour à partir duquel chercher."}
    creneaux.check_criteria(3, date(2026, 12, 7))
