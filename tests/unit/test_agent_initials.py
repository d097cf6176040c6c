"""Agents are told apart in a shared agenda by their initials and colour (issue 25)."""

from __future__ import annotations

from rdv_app.domain.colours import AGENT_PALETTE, agent_colour, agent_colour_problem, contrast_ratio
from rdv_app.domain.names import distinct_initials, initials, name_slug


def test_initials_follow_the_names() -> None:
    assert initials("Camille", "Martin") == "CM"
    assert initials("Jean-Marc", "Lefèvre") == "JML"
    assert initials(None, "Petit") == "P"
    assert initials("  ", "Étienne") == "É"


def test_shared_initials_take_the_next_letters_of_the_last_name_or_a_number() -> None:
    assert distinct_initials({1: ("Camille", "Martin"), 2: ("Claire", "Moreau"), 3: ("Léa", "Dupont")}) == {
        1: "CMa", 2: "CMo", 3: "LD"}
    assert distinct_initials({1: ("Camille", "Martin"), 2: ("Claire", "Martinez"), 3: ("Cyril", "Marchand")}) == {
        1: "CM1", 2: "CM2", 3: "CM3"}


def test_agent_colours_carry_white_text_and_stay_the_same() -> None:
    assert all(contrast_ratio(colour, "#ffffff") >= 4.5 for colour in AGENT_PALETTE)
    assert all(agent_colour_problem(colour) is None for colour in AGENT_PALETTE)
    assert len(set(AGENT_PALETTE)) == len(AGENT_PALETTE)
    assert agent_colour(7) == agent_colour(7 + len(AGENT_PALETTE))
    assert len({agent_colour(agent_id) for agent_id in range(1, 6)}) == 5


def test_a_name_slug_is_readable_in_an_address() -> None:
    assert name_slug("Marie", "Dupont") == "marie-dupont"
    assert name_slug("Jean-Marc", "Lefèvre d'Ornano") == "jean-marc-lefevre-d-ornano"
    assert name_slug(None, "Œ  Ñ") == "n"
    assert name_slug("", "李") == "agent"
    assert name_slug("A" * 30, "B" * 30) == "a" * 30 + "-" + "b" * 9
