"""Issue 24: the legal pages say what the app does: every cookie it sets is listed on "Gestion des
cookies", and "Données personnelles" gives the durations the daily purges apply."""

from __future__ import annotations

from rdv_app import routes
from rdv_app.pages.legal import COOKIES
from rdv_app.services.retention import RETENTION_TABLE


def test_every_cookie_the_app_sets_is_listed() -> None:
    set_by_the_app = {value for name, value in vars(routes).items() if name.endswith("_COOKIE")}
    assert {name for name, _, _ in COOKIES} == set_by_the_app


def test_the_retention_table_gives_the_purges_durations() -> None:
    table = dict(RETENTION_TABLE)
    assert table["Rendez-vous, avec leurs participants, leurs agents et les messages envoyés"] == (
        "2 ans après la date du rendez-vous")
    assert table["Comptes créés en ligne dont l'adresse email n'a pas été confirmée"] == "24 heures"
    assert table["Contenu des SMS, emails et webhooks"] == "30 jours après leur envoi"
    assert table["Accusés de réception des SMS et emails"] == (
        "numéro, adresse et contenu effacés après 6 mois, supprimés après 2 ans")
    assert table["Historique de la configuration (sans son auteur)"] == "5 ans"
