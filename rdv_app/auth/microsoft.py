"""Microsoft identity platform client for the Outlook sync (admin-domain.md 11.2): authorization code flow
with PKCE, then refresh.

- Off unless RDV_MICROSOFT_CLIENT_ID and RDV_MICROSOFT_CLIENT_SECRET are set (`MicrosoftSettings.from_env`).
  The tenant (RDV_MICROSOFT_TENANT, `common` by default), the login and Graph base addresses
  (RDV_MICROSOFT_LOGIN_URL, RDV_MICROSOFT_GRAPH_URL) are configurable, so tests talk to a loopback fake.
- The authorize URL (built with authlib) asks for `offline_access openid email profile User.Read
  Calendars.ReadWrite`, carries `state` and an S256 `code_challenge` (RFC 7636), and `login_hint` = the
  agent's email. State, verifier and agent live only in a short-lived HttpOnly cookie of the browser that
  started, sealed with RDV_SECRET_KEY (`Flow`): the callback must come back to the same browser and agent.
- Token endpoint `<login>/<tenant>/oauth2/v2.0/token`, client_secret_post. A refresh answer's new refresh
  token replaces the old one (the port note of 11.2: Microsoft rotates them). An answer with `error`
  (invalid_grant: revoked, expired, password changed) is `RefreshRefused`: the agent must connect again;
  no answer, or a 5xx, is `TokenEndpointUnavailable`: try again later.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from rdv_app.auth.sealed import seal, unseal
from rdv_app.domain import clock

SCOPE = "offline_access openid email profile User.Read Calendars.ReadWrite"
DEFAULT_LOGIN_URL = "https://login.microsoftonline.com"
DEFAULT_GRAPH_URL = "https://graph.microsoft.com/v1.0"
FLOW_LIFETIME_SECONDS = 15 * 60
TIMEOUT_SECONDS = 15.0
# An access token is refreshed this long before Microsoft says it expires, so that no call carries one
# that dies on the way.
EXPIRY_MARGIN = timedelta(minutes=2)


class MicrosoftError(Exception):
    """The connection failed; `message` is French and shown to the agent."""

    def __init__(self, message: str = "Votre compte Outlook n'a pas pu être connecté. Réessayez, s'il vous "
                                      "plaît.") -> None:
        super().__init__(message)
        self.message = message


class RefreshRefused(Exception):
    """Microsoft refused the refresh token: only a new connection by the agent helps."""


class TokenEndpointUnavailable(Exception):
    """No usable answer from the token endpoint: worth trying again later."""


@dataclass(frozen=True)
class MicrosoftSettings:
    client_id: str
    client_secret: str
    tenant: str = "common"
    login_url: str = DEFAULT_LOGIN_URL
    graph_url: str = DEFAULT_GRAPH_URL

    @classmethod
    def from_env(cls) -> MicrosoftSettings | None:
        """None when the Azure application is not configured: the whole feature is then off."""
        client_id = os.environ.get("RDV_MICROSOFT_CLIENT_ID", "").strip()
        secret = os.environ.get("RDV_MICROSOFT_CLIENT_SECRET", "").strip()
        if not client_id or not secret:
            return None
        return cls(client_id, secret, os.environ.get("RDV_MICROSOFT_TENANT", "").strip() or "common",
                   (os.environ.get("RDV_MICROSOFT_LOGIN_URL", "").strip() or DEFAULT_LOGIN_URL).rstrip("/"),
                   (os.environ.get("RDV_MICROSOFT_GRAPH_URL", "").strip() or DEFAULT_GRAPH_URL).rstrip("/"))

    @property
    def authorize_endpoint(self) -> str:
        return f"{self.login_url}/{self.tenant}/oauth2/v2.0/authorize"

    @property
    def token_endpoint(self) -> str:
        return f"{self.login_url}/{self.tenant}/oauth2/v2.0/token"


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str | None  # None when Microsoft did not send a new one
    expires_at: datetime


@dataclass(frozen=True)
class Flow:
    """What the browser keeps (sealed) between the redirect to Microsoft and the callback."""

    state: str
    verifier: str
    agent_id: int
    started_at: int

    @classmethod
    def start(cls, agent_id: int) -> Flow:
        return cls(secrets.token_urlsafe(32), secrets.token_urlsafe(48), agent_id, int(clock.timestamp()))

    def dumps(self) -> str:
        return seal(json.dumps(asdict(self), separators=(",", ":")))

    @classmethod
    def loads(cls, value: str | None) -> Flow | None:
        try:
            data = json.loads(unseal(value) or "")
            flow = cls(str(data["state"]), str(data["verifier"]), int(data["agent_id"]), int(data["started_at"]))
        except (ValueError, KeyError, TypeError):
            return None
        return flow if clock.timestamp() - flow.started_at < FLOW_LIFETIME_SECONDS else None


def authorize_url(settings: MicrosoftSettings, flow: Flow, redirect_uri: str, login_hint: str | None) -> str:
    extra = {"login_hint": login_hint} if login_hint else {}
    return prepare_grant_uri(settings.authorize_endpoint, settings.client_id, "code", redirect_uri=redirect_uri,
                             scope=SCOPE, state=flow.state, code_challenge=create_s256_code_challenge(flow.verifier),
                             code_challenge_method="S256", response_mode="query", **extra)


def exchange_code(settings: MicrosoftSettings, flow: Flow | None, *, code: str | None, state: str | None,
                  error: str | None, redirect_uri: str) -> Tokens:
    """The tokens of a finished authorization, or MicrosoftError with what to tell the agent."""
    if flow is None or not state or not secrets.compare_digest(flow.state, state):
        raise MicrosoftError("La connexion à Microsoft a expiré. Recommencez, s'il vous plaît.")
    if error:
        raise MicrosoftError("La connexion à Microsoft a été annulée : votre compte Outlook n'est pas connecté.")
    if not code:
        raise MicrosoftError
    try:
        tokens = _token_request(settings, {"grant_type": "authorization_code", "code": code,
                                           "redirect_uri": redirect_uri, "code_verifier": flow.verifier,
                                           "scope": SCOPE})
    except (RefreshRefused, TokenEndpointUnavailable) as failure:
        raise MicrosoftError from failure
    if tokens.refresh_token is None:
        raise MicrosoftError
    return tokens


def refresh(settings: MicrosoftSettings, refresh_token: str) -> Tokens:
    return _token_request(settings, {"grant_type": "refresh_token", "refresh_token": refresh_token,
                                     "scope": SCOPE})


def _token_request(settings: MicrosoftSettings, form: dict[str, str]) -> Tokens:
    now = clock.now()
    try:
        with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False) as http:
            response = http.post(settings.token_endpoint, data={**form, "client_id": settings.client_id,
                                                                "client_secret": settings.client_secret})
    except httpx.HTTPError as failure:
        raise TokenEndpointUnavailable(type(failure).__name__) from failure
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.status_code >= 500 or not isinstance(answer, dict):
        raise TokenEndpointUnavailable(f"HTTP {response.status_code}")
    if "error" in answer or not answer.get("access_token"):
        raise RefreshRefused(str(answer.get("error") or f"HTTP {response.status_code}"))
    lifetime = answer.get("expires_in")
    seconds = int(lifetime) if isinstance(lifetime, int | str) and str(lifetime).isdigit() else 3600
    return Tokens(access_token=str(answer["access_token"]),
                  refresh_token=str(answer["refresh_token"]) if answer.get("refresh_token") else None,
                  expires_at=now + timedelta(seconds=seconds) - EXPIRY_MARGIN)
