"""A territory's own OVH SMS account (integrations.md section 4), instead of the instance's provider.

The super admins' back office (rdv_app.services.instance.backoffice) saves it in the territory's row:
`has_own_sms_provider`, `sms_sender`, and `sms_configuration`, the account (endpoint, service name and the
three keys) as JSON sealed with the app key (rdv_app.auth.sealed). The worker (rdv_app.notify.worker) sends
the SMS of the territory's organisations through it.

Providers are built once per territory and version of its settings, and shared by the workers of the
process (like the instance's, rdv_app.notify.sms): their OVH clients keep their connections and clock
offset. The version is the sealed text and the sender: sealing draws a new IV, so every save of the
account changes it, and the next SMS uses the new settings without restarting anything.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping

from rdv_app.auth.sealed import seal, unseal
from rdv_app.notify.sms import OvhSettings, OvhSmsProvider

logger = logging.getLogger(__name__)

OVH_SECRETS = ("application_key", "application_secret", "consumer_key")
OVH_FIELDS = ("endpoint", "service_name", *OVH_SECRETS)

# Territory id -> (version of its settings, its provider or None when they cannot be read).
_providers: dict[int, tuple[tuple[str, str | None], OvhSmsProvider | None]] = {}
_providers_lock = threading.Lock()


def seal_ovh_account(account: Mapping[str, str]) -> str:
    """The sealed text of an account (the fields of OVH_FIELDS), for `Territory.sms_configuration`."""
    return seal(json.dumps({field: account[field] for field in OVH_FIELDS}))


def open_ovh_account(sealed: str | None) -> dict[str, str]:
    """The fields saved in `Territory.sms_configuration`; empty when there is none, or when it was sealed
    under another key (rdv_app.auth.sealed) or holds something else than an account."""
    opened = unseal(sealed)
    if not opened:
        return {}
    try:
        value = json.loads(opened)
    except ValueError:
        return {}
    return {key: str(item) for key, item in value.items()} if isinstance(value, dict) else {}


def ovh_account_settings(sealed: str | None, sender: str | None) -> OvhSettings | None:
    """The account as the OVH provider takes it, or None when it cannot be read whole."""
    account = open_ovh_account(sealed)
    if not all(account.get(field) for field in OVH_FIELDS):
        return None
    return OvhSettings(**{field: account[field] for field in OVH_FIELDS}, sender=sender)


def territory_provider(territory_id: int, sealed: str | None, sender: str | None) -> OvhSmsProvider | None:
    """The provider of a territory that has its own account, from its row's `sms_configuration` and
    `sms_sender`; built at the first SMS of each version of the settings.

    None when the account cannot be read (sealed under another RDV_SECRET_KEY): the instance's provider
    then sends, as a sealed value that cannot be opened is done without, and the back office shows the
    keys as not configured until a super admin types them again.
    """
    version = (sealed or "", sender)
    with _providers_lock:
        cached = _providers.get(territory_id)
        if cached is not None and cached[0] == version:
            return cached[1]
        settings = ovh_account_settings(sealed, sender)
        if settings is None:
            logger.warning("territory %s: its own OVH account cannot be read, its SMS go through the instance's "
                           "provider until a super admin saves the account again", territory_id)
        provider = None if settings is None else OvhSmsProvider(settings, name=f"ovh:{settings.service_name}")
        _providers[territory_id] = (version, provider)
        return provider
