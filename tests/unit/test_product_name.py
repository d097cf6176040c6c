"""The product's name (issue 26, point 10): one setting per deployment, in page titles and headers, in the
emails' sender and header, never the old product's singular name."""

from __future__ import annotations

import re

import pytest

from rdv_app.api.html_page import page
from rdv_app.config import Settings, settings
from rdv_app.notify.email_html import html_from_text
from rdv_app.notify.mailer import SmtpSettings


def test_a_deployment_names_its_product() -> None:
    assert settings.product_name == "RDV Services Publics"  # the default
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RDV_PRODUCT_NAME", "RDV Mairie de Lens")
        assert Settings().product_name == "RDV Mairie de Lens"


def test_pages_and_emails_carry_the_name_and_a_header() -> None:
    html = page("Connexion", "<h1>Connexion</h1>")
    assert re.search(r"<title>Connexion – RDV Services Publics</title>", html)
    assert '<header class="site-header">' in html and "RDV Services Publics</span>" in html
    email = html_from_text("Votre lien de connexion", "Bonjour,\n\nCliquez sur le lien.")
    assert re.search(r"<header[^>]*>RDV Services Publics</header>", email)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("RDV_MAIL_FROM", raising=False)
        assert SmtpSettings.from_env().mail_from == "RDV Services Publics <ne-pas-repondre@localhost>"
    for text in (html, email):
        assert "RDV Service Public<" not in text and "RDV Service Public " not in text
