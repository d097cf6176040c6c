from rdv_app.domain.required_fields import is_empty, missing


def test_empty_means_nothing_given() -> None:
    assert [is_empty(v) for v in (None, "", "  \t", [], (), set())] == [True] * 6
    assert [is_empty(v) for v in ("a", 0, [1], False)] == [False] * 4


def test_every_empty_field_is_named_in_the_forms_order() -> None:
    assert missing({"title": ("", "Le titre est obligatoire."), "agent_id": (3, "Choisissez l'agent."),
                    "first_day": (None, "Choisissez la date.")}) == {
        "title": "Le titre est obligatoire.", "first_day": "Choisissez la date."}
    assert missing({"title": ("Permanence", "Le titre est obligatoire.")}) == {}
