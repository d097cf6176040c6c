"""An agent's own preferences and identity, against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from rdv_app.db.models import Agent, AuditLog
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.colours import AGENT_PALETTE, agent_colour
from rdv_app.services.agents import agent_account
from rdv_app.services.agents.agent_account import Preferences
from rdv_app.services.errors import DomainError, NotFound

DEFAULTS = Preferences(rdv_notifications_level="others", plage_ouverture_notification_level="all",
                       absence_notification_level="all", display_saturdays=False, display_cancelled_rdv=True)
WANTED: dict[str, Any] = {"rdv_notifications_level": "none", "plage_ouverture_notification_level": "none",
                          "absence_notification_level": "all", "display_saturdays": True,
                          "display_cancelled_rdv": False}


@pytest.fixture
def agent_id(uow: UnitOfWork) -> int:
    agent = Agent(email="lea.durand@demo.test", first_name="Léa", last_name="Durand")
    uow.session.add(agent)
    uow.commit()
    return agent.id  # type: ignore[return-value]


def _audit_rows(db_url: str) -> list[dict[str, Any]]:
    with UnitOfWork(db_url) as uow:
        return [row.model_dump() for row in uow.session.exec(select(AuditLog).order_by(AuditLog.id)).all()]


def test_a_new_agent_has_the_default_preferences(uow: UnitOfWork, agent_id: int) -> None:
    assert agent_account.get_preferences(uow, agent_id) == DEFAULTS


def test_saved_preferences_are_read_back_and_audited(db_url: str, uow: UnitOfWork, agent_id: int) -> None:
    saved = agent_account.update_preferences(uow, agent_id, **WANTED)

    assert saved == Preferences(**WANTED)
    with UnitOfWork(db_url) as other:
        assert agent_account.get_preferences(other, agent_id) == Preferences(**WANTED)
    [row] = _audit_rows(db_url)
    assert (row["action"], row["entity_type"], row["entity_id"]) == ("update_preferences", "agent", str(agent_id))
    assert (row["actor_type"], row["actor_agent_id"], row["organisation_id"]) == ("agent", agent_id, None)
    assert row["changes"] == {"rdv_notifications_level": ["others", "none"],
                           "plage_ouverture_notification_level": ["all", "none"],
                           "display_saturdays": [False, True], "display_cancelled_rdv": [True, False]}


def test_saving_the_same_preferences_again_writes_no_audit_row(db_url: str, uow: UnitOfWork,
                                                                agent_id: int) -> None:
    agent_account.update_preferences(uow, agent_id, **WANTED)
    agent_account.update_preferences(uow, agent_id, **WANTED)
    assert len(_audit_rows(db_url)) == 1


@pytest.mark.parametrize(("field", "value"), [
    ("rdv_notifications_level", "everything"),
    ("rdv_notifications_level", ""),
    ("plage_ouverture_notification_level", "others"),
    ("absence_notification_level", "soon"),
    ("display_saturdays", "yes"),
])
def test_a_bad_value_is_refused_and_nothing_changes(db_url: str, uow: UnitOfWork, agent_id: int, field: str,
                                                    value: Any) -> None:
    with pytest.raises(DomainError) as refused:
        agent_account.update_preferences(uow, agent_id, **{**WANTED, field: value})

    assert refused.value.field == field
    assert refused.value.message
    with UnitOfWork(db_url) as other:
        assert agent_account.get_preferences(other, agent_id) == DEFAULTS
    assert _audit_rows(db_url) == []


def test_an_unknown_agent_is_not_found(uow: UnitOfWork) -> None:
    with pytest.raises(NotFound):
        agent_account.get_preferences(uow, 999)
    with pytest.raises(NotFound):
        agent_account.update_preferences(uow, 999, **WANTED)


def test_an_agent_has_a_palette_colour_until_they_choose_one(db_url: str, uow: UnitOfWork, agent_id: int) -> None:
    assert agent_account.get_agenda_colour(uow, agent_id) == agent_colour(agent_id)

    assert agent_account.update_agenda_colour(uow, agent_id, " #3949AB") == "#3949ab"

    with UnitOfWork(db_url) as other:
        assert agent_account.get_agenda_colour(other, agent_id) == "#3949ab"
    [row] = _audit_rows(db_url)
    assert (row["action"], row["actor_agent_id"]) == ("update_agenda_colour", agent_id)
    assert row["changes"] == {"agenda_colour": [None, "#3949ab"]}


def test_a_colour_of_ones_own_is_kept_when_white_text_reads_on_it(db_url: str, uow: UnitOfWork,
                                                                   agent_id: int) -> None:
    assert agent_account.update_agenda_colour(uow, agent_id, "#234") == "#223344"
    with UnitOfWork(db_url) as other:
        assert agent_account.get_agenda_colour(other, agent_id) == "#223344"


@pytest.mark.parametrize(("colour", "message"), [
    ("#ffd700", "Cette couleur est trop claire : un texte blanc n'y atteint qu'un contraste de 1,4:1, il faut 4,5:1 "
                "au moins. Choisissez une couleur plus foncée."),
    ("#c25e00", "Cette couleur est trop claire : un texte blanc n'y atteint qu'un contraste de 4,2:1, il faut 4,5:1 "
                "au moins. Choisissez une couleur plus foncée."),
    ("bleu", "Saisissez une couleur au format #RRGGBB, par exemple #1f5fbf."),
    ("", "Saisissez une couleur au format #RRGGBB, par exemple #1f5fbf."),
])
def test_a_colour_white_text_does_not_read_on_is_refused_and_nothing_changes(
        db_url: str, uow: UnitOfWork, agent_id: int, colour: str, message: str) -> None:
    agent_account.update_agenda_colour(uow, agent_id, AGENT_PALETTE[0])

    with pytest.raises(DomainError) as refused:
        agent_account.update_agenda_colour(uow, agent_id, colour)

    assert (refused.value.field, refused.value.message) == ("agenda_colour", message)
    with UnitOfWork(db_url) as other:
        assert agent_account.get_agenda_colour(other, agent_id) == AGENT_PALETTE[0]
    assert len(_audit_rows(db_url)) == 1


def test_a_save_from_a_form_that_loaded_other_preferences_is_refused_and_changes_nothing(
        db_url: str, uow: UnitOfWork, agent_id: int) -> None:
    """Issue 25: two tabs load "Mon compte"; the first saves; the second, showing what it loaded before, is
    refused instead of switching back what the first changed."""
    loaded = agent_account.preferences_version(agent_account.get_preferences(uow, agent_id))
    agent_account.update_preferences(uow, agent_id, **{**WANTED, "display_saturdays": True},
                                     expected_version=loaded)

    with pytest.raises(DomainError) as refused:
        agent_account.update_preferences(uow, agent_id, **{**WANTED, "display_saturdays": False},
                                         expected_version=loaded)

    assert refused.value.message == "Ces informations ont été modifiées entre-temps. Rechargez la page."
    with UnitOfWork(db_url) as other:
        assert agent_account.get_preferences(other, agent_id) == Preferences(**{**WANTED, "display_saturdays": True})
    assert len(_audit_rows(db_url)) == 1


def test_a_form_submitted_before_its_preferences_were_loaded_saves_nothing(db_url: str, uow: UnitOfWork,
                                                                          agent_id: int) -> None:
    """A form rendered before its load carries no version: its unticked boxes are not the agent's choice."""
    with pytest.raises(DomainError):
        agent_account.update_preferences(uow, agent_id, **WANTED, expected_version="")

    with UnitOfWork(db_url) as other:
        assert agent_account.get_preferences(other, agent_id) == DEFAULTS
    assert _audit_rows(db_url) == []


def test_the_agenda_colour_does_not_make_the_preferences_form_stale(db_url: str, uow: UnitOfWork,
                                                                    agent_id: int) -> None:
    """The colour has its own form on the same page: saving it first leaves the preferences' version."""
    loaded = agent_account.preferences_version(agent_account.get_preferences(uow, agent_id))
    agent_account.update_agenda_colour(uow, agent_id, AGENT_PALETTE[1])

    agent_account.update_preferences(uow, agent_id, **WANTED, expected_version=loaded)

    with UnitOfWork(db_url) as other:
        assert agent_account.get_preferences(other, agent_id) == Preferences(**WANTED)
