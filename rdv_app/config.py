"""Settings read from the environment (see the README's configuration table)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def number_setting(name: str, default: float, low: float, high: float, what: str) -> float:
    """The number the environment gives `name` (`default` when unset), from `low` to `high`; otherwise a
    French message naming the setting, what it must be (« une durée en secondes ») and what it was."""
    raw = _env(name)
    try:
        value = float(raw) if raw else default
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise RuntimeError(f"{name} doit être {what}, de {low:g} à {high:g} (reçu : {raw!r}).")
    return value


SECRET_KEY_MIN_LENGTH = 32
# Without RDV_SECRET_KEY: a key drawn once on this machine and kept here (mode 600), so that every process
# of the app (the `prepare` step that seeds the demo, the server, its workers, a restart) shares it.
LOCAL_SECRET_KEY_FILE = Path("data") / "secret-key"


def demo_mode() -> bool:
    """`make run` serves the demo (RDV_DEMO=1): seeded data with published passwords, the demo mailbox, SMS
    written to the log. Any other start is a real instance: nothing is seeded, nothing of the demo is served."""
    return _env("RDV_DEMO").casefold() in {"1", "true", "oui", "yes"}


def _secret_key() -> str:
    value = _env("RDV_SECRET_KEY")
    if value and len(value) < SECRET_KEY_MIN_LENGTH:
        raise ValueError(f"RDV_SECRET_KEY doit compter au moins {SECRET_KEY_MIN_LENGTH} caractères "
                         f"(par exemple : python -c 'import secrets; print(secrets.token_urlsafe(32))').")
    return value or _local_secret_key()


def _local_secret_key() -> str:
    try:
        LOCAL_SECRET_KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
        with os.fdopen(os.open(LOCAL_SECRET_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            out.write(secrets.token_hex(32))
    except FileExistsError:
        pass  # drawn before, or by another process of the app at the same time
    except OSError:
        return secrets.token_hex(32)  # a read-only checkout: this process's own key
    key = LOCAL_SECRET_KEY_FILE.read_text().strip()
    return key if len(key) >= SECRET_KEY_MIN_LENGTH else secrets.token_hex(32)


def _trusted_proxies() -> int:
    value = _env("RDV_TRUSTED_PROXIES", "0")
    if not value.isdigit():
        raise ValueError(f"RDV_TRUSTED_PROXIES doit être le nombre de relais inverses devant l'application "
                         f"(0, 1, 2…), reçu : {value!r}.")
    return int(value)


def _agent_session_hours() -> int:
    value = _env("RDV_AGENT_SESSION_HOURS", "12")
    if not value.isdigit() or not 1 <= int(value) <= 24 * 14:
        raise ValueError(f"RDV_AGENT_SESSION_HOURS doit être une durée en heures, de 1 à 336, reçu : {value!r}.")
    return int(value)


def _export_link_hours() -> int:
    value = _env("RDV_EXPORT_LINK_HOURS", "6")
    if not value.isdigit() or not 1 <= int(value) <= 24 * 14:
        raise ValueError(f"RDV_EXPORT_LINK_HOURS doit être une durée en heures, de 1 à 336, reçu : {value!r}.")
    return int(value)


@dataclass(frozen=True)
class Settings:
    public_url: str = field(default_factory=lambda: _env("RDV_PUBLIC_URL", "http://localhost:3000").rstrip("/"))
    # In `make dev` the HTTP routes answer on the backend port while pages are on the frontend port.
    api_url: str = field(default_factory=lambda: _env("RDV_API_URL").rstrip("/"))
    # The product's name in every title, header, email and calendar file (RDV_PRODUCT_NAME per deployment).
    product_name: str = field(default_factory=lambda: _env("RDV_PRODUCT_NAME", "RDV Services Publics"))
    environment_name: str = field(
        default_factory=lambda: _env("RDV_ENVIRONMENT", "démo" if demo_mode() else "production"))
    # Signs short-lived cookies (the usager's link access) and seals the secrets kept at rest. Without it
    # the processes of one machine share a key kept in data/ (`_local_secret_key`); several machines need
    # RDV_SECRET_KEY.
    # Reverse proxies in front of the app, each appending to X-Forwarded-For (rdv_app.api.client_address).
    trusted_proxies: int = field(default_factory=_trusted_proxies)
    secret_key: str = field(default_factory=_secret_key, repr=False)
    # An agent's session ends this many hours after the sign-in, whatever the activity.
    agent_session_hours: int = field(default_factory=_agent_session_hours)
    # An export of the RDV list can be downloaded this many hours after it is ready.
    export_link_hours: int = field(default_factory=_export_link_hours)
    # The Base Adresse Nationale's search API, which suggests addresses in the usagers' records.
    ban_url: str = field(default_factory=lambda: _env("RDV_BAN_URL", "https://api-adresse.data.gouv.fr").rstrip("/"))

    # RDV_MARQUE_ETAT=1: the deployment is a State service and its public pages carry the "Marque État"
    # block (Marianne, République Française), reserved to the State; otherwise a neutral header.
    marque_etat: bool = field(default_factory=lambda: _env("RDV_MARQUE_ETAT", "0").casefold() in {"1", "true", "oui", "yes"})
    # The legal pages (mentions légales, données personnelles): who runs this deployment and how to reach them.
    operator_name: str = field(
        default_factory=lambda: _env("RDV_OPERATOR_NAME", "Opérateur de démonstration de RDV Services Publics"))
    operator_address: str = field(
        default_factory=lambda: _env("RDV_OPERATOR_ADDRESS", "1 place de la Démonstration, 75000 Paris"))
    contact_email: str = field(default_factory=lambda: _env("RDV_CONTACT_EMAIL", "contact@rdv.exemple.fr"))
    publication_director: str = field(
        default_factory=lambda: _env("RDV_PUBLICATION_DIRECTOR", "La direction de l'opérateur de démonstration"))
    hosting_provider: str = field(
        default_factory=lambda: _env("RDV_HOSTING_PROVIDER", "Hébergeur de démonstration, 2 rue des Serveurs, 59000 Lille"))
    dpo_contact: str = field(default_factory=lambda: _env("RDV_DPO_CONTACT", "dpo@rdv.exemple.fr"))

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")

    @property
    def metrics_token(self) -> str:
        """RDV_METRICS_TOKEN: `/metrics` answers a scraper that sends it as a bearer token; unset, `/metrics`
        does not exist (the default). Read at each scrape."""
        return _env("RDV_METRICS_TOKEN")

    @property
    def ants_editor_token(self) -> str:
        """RDV_ANTS_EDITOR_TOKEN: the token the ANTS hub sends (`X-HUB-RDV-AUTH-TOKEN`) to our editor API
        (`/api/ants/...`); empty, every request of that API is refused. Read at each request."""
        return _env("RDV_ANTS_EDITOR_TOKEN")

    @property
    def ants_api_url(self) -> str:
        """RDV_ANTS_API_URL: the ANTS coordination API (pre-demande numbers, appointments declared);
        empty, no RDV is declared to ANTS and numbers are checked for their format only."""
        return _env("RDV_ANTS_API_URL").rstrip("/")

    @property
    def ants_api_token(self) -> str:
        """RDV_ANTS_API_TOKEN: our token at the coordination API (`x-rdv-opt-auth-token`)."""
        return _env("RDV_ANTS_API_TOKEN")

    @property
    def mfa_required(self) -> bool:
        """RDV_MFA_REQUIRED=1: admins sign in with a second factor, and set it up at their next sign-in.
        Read at each sign-in, so that turning it on needs no restart."""
        return _env("RDV_MFA_REQUIRED", "0") == "1"

    @property
    def loopback_webhooks_allowed(self) -> bool:
        """Development and tests: an app served without https may send webhooks to this machine."""
        return self.public_url.startswith("http://")

    def frontend_url(self, path: str) -> str:
        return f"{self.public_url}{path}" if self.api_url else path

    def api_path(self, path: str) -> str:
        return f"{self.api_url}{path}" if self.api_url else path


settings = Settings()
