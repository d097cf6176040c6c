"""Issue 24: the "Marque État" block (Marianne, République Française) only for a State service
(RDV_MARQUE_ETAT=1), otherwise a neutral header and footer with the product's name; the legal pages'
details per deployment."""

from __future__ import annotations

import codecs

import pytest

from rdv_app.components import dsfr
from rdv_app.config import Settings


def _html(component: object) -> str:
    """The component as the browser receives it (JavaScript, its strings \\u-escaped), escapes read."""
    return codecs.decode(str(component), "unicode_escape")


@pytest.mark.parametrize("value", ["1", "true", "oui"])
def test_a_state_service_says_so(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("RDV_MARQUE_ETAT", value)
    assert Settings().marque_etat is True


@pytest.mark.parametrize("value", [None, "", "0", "non"])
def test_any_other_deployment_is_no_state_service(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    if value is None:
        monkeypatch.delenv("RDV_MARQUE_ETAT", raising=False)
    else:
        monkeypatch.setenv("RDV_MARQUE_ETAT", value)
    assert Settings().marque_etat is False


def test_the_marianne_block_shows_only_for_a_state_service() -> None:
    state_header = _html(dsfr.header("Prise de RDV", "Vos services publics", marque_etat=True))
    state_footer = _html(dsfr.footer("Prise de RDV", "Description", marque_etat=True))
    neutral_header = _html(dsfr.header("Mairie de Lens RDV", "Vos services publics", marque_etat=False))
    neutral_footer = _html(dsfr.footer("Mairie de Lens RDV", "Description", marque_etat=False))

    assert "fr-logo" in state_header and "République" in state_header and "Française" in state_header
    assert "fr-logo" in state_footer and "legifrance.gouv.fr" in state_footer
    for html in (neutral_header, neutral_footer):
        assert "fr-logo" not in html and "République" not in html and "gouv.fr" not in html
        assert "Mairie de Lens RDV" in html
    for html in (state_footer, neutral_footer):
        assert "Mentions légales" in html and "Paramètres d'affichage" in html


def test_the_operators_details_come_from_the_deployment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RDV_OPERATOR_NAME", "Mairie de Lens")
    monkeypatch.setenv("RDV_DPO_CONTACT", "dpo@mairie-lens.exemple.fr")
    monkeypatch.setenv("RDV_CONTACT_EMAIL", "rdv@mairie-lens.exemple.fr")
    details = Settings()
    assert (details.operator_name, details.dpo_contact, details.contact_email) == (
        "Mairie de Lens", "dpo@mairie-lens.exemple.fr", "rdv@mairie-lens.exemple.fr")
    monkeypatch.delenv("RDV_OPERATOR_NAME")
    assert Settings().operator_name  # a demo default, never empty
