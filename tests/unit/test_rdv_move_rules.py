"""`editable_by_user?` (rdv_app.domain.rdv_move): when an usager may change the date of their RDV online."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rdv_app.domain.enums import AuthorType, BookableBy, RdvStatus
from rdv_app.domain.rdv_move import EDIT_NOTICE, EditRefusal, edit_rule, refusal_message

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
OK = dict(status=RdvStatus.UNKNOWN, starts_at=NOW + timedelta(days=3), now=NOW, collectif=False, motif_allows=True,
          bookable_by=BookableBy.EVERYONE.value, created_by_type=AuthorType.USAGER.value)


def test_an_individual_rdv_booked_online_more_than_two_days_ahead_may_be_moved() -> None:
    assert edit_rule(**OK).allowed  # type: ignore[arg-type]
    invited = dict(OK, bookable_by=BookableBy.AGENTS_AND_PRESCRIPTEURS_AND_INVITED_USERS.value)
    assert edit_rule(**invited).allowed  # type: ignore[arg-type]
    by_prescripteur = dict(OK, created_by_type=AuthorType.PRESCRIPTEUR.value)
    assert edit_rule(**by_prescripteur).allowed  # type: ignore[arg-type]


@pytest.mark.parametrize(("change", "refusal"), [
    ({"status": RdvStatus.EXCUSED}, EditRefusal.CANCELLED),
    ({"status": RdvStatus.REVOKED}, EditRefusal.CANCELLED),
    ({"starts_at": NOW - timedelta(minutes=1)}, EditRefusal.PAST),
    ({"status": RdvStatus.SEEN}, EditRefusal.PAST),
    ({"collectif": True}, EditRefusal.COLLECTIVE),
    ({"motif_allows": False}, EditRefusal.MOTIF),
    ({"bookable_by": BookableBy.AGENTS.value}, EditRefusal.NOT_ONLINE),
    ({"bookable_by": BookableBy.AGENTS_AND_PRESCRIPTEURS.value}, EditRefusal.NOT_ONLINE),
    ({"created_by_type": AuthorType.AGENT.value}, EditRefusal.BY_AGENT),
    ({"starts_at": NOW + EDIT_NOTICE}, EditRefusal.TOO_LATE),
    ({"starts_at": NOW + timedelta(hours=5)}, EditRefusal.TOO_LATE),
])
def test_each_rule_refuses_with_its_reason(change: dict[str, object], refusal: EditRefusal) -> None:
    assert edit_rule(**dict(OK, **change)).refusal == refusal  # type: ignore[arg-type]


@given(st.timedeltas(min_value=timedelta(seconds=-86400 * 30), max_value=timedelta(days=60)))
def test_the_two_days_are_the_boundary(ahead: timedelta) -> None:
    allowed = edit_rule(**dict(OK, starts_at=NOW + ahead)).allowed  # type: ignore[arg-type]
    assert allowed == (ahead > EDIT_NOTICE)


def test_messages_are_french_sentences_naming_whom_to_contact_while_the_rdv_is_to_come() -> None:
    assert refusal_message(EditRefusal.TOO_LATE, "PMI Arras au 03 21 00 00 00") == (
        "Ce rendez-vous a lieu dans moins de 2 jours : sa date ne peut plus être changée en ligne. "
        "Pour la changer, contactez PMI Arras au 03 21 00 00 00.")
    assert refusal_message(EditRefusal.MOTIF, None) == "La date de ce rendez-vous ne peut pas être changée en ligne."
    assert "contactez" not in refusal_message(EditRefusal.CANCELLED, "PMI Arras")
    for refusal in EditRefusal:
        assert refusal_message(refusal, "PMI Arras").endswith(".")
