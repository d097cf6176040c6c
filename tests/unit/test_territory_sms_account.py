"""A territory's own OVH account (rdv_app.notify.territory_sms): sealed and opened again, refused when it
cannot be read whole, and its provider built once per version of the settings."""

from __future__ import annotations

from rdv_app.auth.sealed import seal
from rdv_app.notify.sms import OvhSettings
from rdv_app.notify.territory_sms import (
    open_ovh_account,
    ovh_account_settings,
    seal_ovh_account,
    territory_provider,
)

ACCOUNT = {"endpoint": "ovh-eu", "service_name": "sms-cd62000-1", "application_key": "ak-62",
           "application_secret": "as-62", "consumer_key": "ck-62"}


def test_an_account_is_sealed_and_opened_again() -> None:
    sealed = seal_ovh_account({**ACCOUNT, "unknown": "dropped"})
    assert "as-62" not in sealed
    assert open_ovh_account(sealed) == ACCOUNT
    assert ovh_account_settings(sealed, "PMI 62") == OvhSettings(**ACCOUNT, sender="PMI 62")


def test_an_account_that_cannot_be_read_whole_gives_no_settings() -> None:
    under_another_key = seal('{"endpoint": "ovh-eu"}', key="une autre clé de l'instance, assez longue")
    incomplete = seal('{"endpoint": "ovh-eu", "service_name": "sms-cd62000-1"}')
    for sealed in (None, "", under_another_key, seal("pas du JSON"), seal("[1, 2]"), incomplete):
        assert ovh_account_settings(sealed, None) is None
    assert open_ovh_account(under_another_key) == {}
    assert territory_provider(9_001, under_another_key, None) is None


def test_a_provider_is_built_once_per_version_of_the_settings() -> None:
    sealed = seal_ovh_account(ACCOUNT)
    first = territory_provider(9_002, sealed, "PMI 62")
    assert first is not None and first.name == "ovh:sms-cd62000-1" and first.sender == "PMI 62"
    assert territory_provider(9_002, sealed, "PMI 62") is first
    # Saved again (a new seal, even of the same account), or another sender: a new provider.
    resaved = territory_provider(9_002, seal_ovh_account(ACCOUNT), "PMI 62")
    assert resaved is not None and resaved is not first
    other_sender = territory_provider(9_002, sealed, "CD 62")
    assert other_sender is not None and other_sender.sender == "CD 62" and other_sender is not first
