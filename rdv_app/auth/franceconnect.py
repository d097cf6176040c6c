"""FranceConnect v2 client: OpenID Connect authorization code flow (integrations.md section 3).

- Discovery from `<base>/.well-known/openid-configuration`; the issuer must be the configured base.
- The authorize URL (built with authlib) carries `state` and `nonce` (32 random bytes each),
  `acr_values=eidas1` and `prompt=login consent`. Both values live only in a short-lived HttpOnly cookie
  of the browser that started the flow (`Flow`): the callback must come back with the same `state`, and
  the id_token must carry the same `nonce`.
- Token: `client_secret_post`. The id_token's signature is checked against the provider's JWKS (RS256 or
  ES256; the keys are fetched again once when no key matches, after a key rotation), then its claims:
  `iss`, `aud` = client id, `exp`, `iat`, `nonce`, `acr` = eidas1.
- Userinfo: a signed JWT (`application/jwt`, v2) checked like the id_token, or plain JSON; its `sub`
  must be the id_token's.
- Logout: a browser redirect to the `end_session_endpoint` with the raw id_token kept in the session.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from rdv_app.domain import clock

ALGORITHMS = ["RS256", "ES256"]
SCOPE = "openid given_name family_name preferred_username birthdate email"
ACR = "eidas1"
FLOW_LIFETIME_SECONDS = 15 * 60
_LEEWAY_SECONDS = 60


@dataclass(frozen=True)
class FranceConnectIdentity:
    sub: str
    given_name: str
    family_name: str
    birthdate: date | None
    email: str | None
    preferred_username: str | None = None


class FranceConnectError(Exception):
    """The sign-in failed; `message` is French and shown to the usager."""

    def __init__(self, message: str = "La connexion avec FranceConnect a échoué. Réessayez ou créez un compte.") \
            -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class FranceConnectSettings:
    base_url: str  # the issuer, e.g. https://oidc.franceconnect.gouv.fr/api/v2
    client_id: str
    client_secret: str

    @classmethod
    def from_env(cls) -> FranceConnectSettings | None:
        """None when FranceConnect is not configured: the button is then not shown."""
        base = os.environ.get("RDV_FRANCECONNECT_URL", "").strip().rstrip("/")
        client_id = os.environ.get("RDV_FRANCECONNECT_CLIENT_ID", "").strip()
        secret = os.environ.get("RDV_FRANCECONNECT_CLIENT_SECRET", "").strip()
        return cls(base, client_id, secret) if base and client_id and secret else None


@dataclass(frozen=True)
class Flow:
    """What the browser keeps between the redirect to FranceConnect and the callback."""

    state: str
    nonce: str
    next_path: str
    started_at: int

    @classmethod
    def start(cls, next_path: str) -> Flow:
        return cls(secrets.token_urlsafe(32), secrets.token_urlsafe(32), next_path, int(clock.timestamp()))

    def dumps(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def loads(cls, value: str | None) -> Flow | None:
        try:
            data = json.loads(value or "")
            flow = cls(str(data["state"]), str(data["nonce"]), str(data["next_path"]), int(data["started_at"]))
        except (ValueError, KeyError, TypeError):
            return None
        return flow if clock.timestamp() - flow.started_at < FLOW_LIFETIME_SECONDS else None


class FranceConnectClient:
    def __init__(self, settings: FranceConnectSettings, redirect_uri: str,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.redirect_uri = redirect_uri
        self._transport = transport
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None

    def _http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self._transport, timeout=10.0)

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            url = f"{self.settings.base_url}/.well-known/openid-configuration"
            async with self._http() as http:
                response = await http.get(url)
            if response.status_code != 200:
                raise FranceConnectError
            metadata = response.json()
            if metadata.get("issuer") != self.settings.base_url:
                raise FranceConnectError
            self._metadata = metadata
        return self._metadata

    async def authorize_url(self, flow: Flow) -> str:
        metadata = await self.metadata()
        return prepare_grant_uri(metadata["authorization_endpoint"], self.settings.client_id, "code",
                                 redirect_uri=self.redirect_uri, scope=SCOPE, state=flow.state, nonce=flow.nonce,
                                 acr_values=ACR, prompt="login consent")

    async def logout_url(self, id_token: str, post_logout_redirect_uri: str) -> str:
        """Where the browser goes to end the FranceConnect session too (it then comes back to us)."""
        metadata = await self.metadata()
        endpoint = metadata.get("end_session_endpoint")
        if not endpoint:
            raise FranceConnectError
        query = urlencode({"id_token_hint": id_token, "state": secrets.token_urlsafe(32),
                           "post_logout_redirect_uri": post_logout_redirect_uri})
        return f"{endpoint}?{query}"

    async def finish(self, flow: Flow | None, *, code: str | None, state: str | None,
                     error: str | None = None) -> tuple[FranceConnectIdentity, str]:
        """The identity and the raw id_token (kept for FranceConnect's logout)."""
        if flow is None or not state or not secrets.compare_digest(flow.state, state):
            raise FranceConnectError("La connexion avec FranceConnect a expiré. Recommencez, s'il vous plaît.")
        if error:
            raise FranceConnectError("La connexion avec FranceConnect a été annulée.")
        if not code:
            raise FranceConnectError
        metadata = await self.metadata()
        async with self._http() as http:
            response = await http.post(metadata["token_endpoint"], data={
                "grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri,
                "client_id": self.settings.client_id, "client_secret": self.settings.client_secret})
            if response.status_code != 200:
                raise FranceConnectError
            tokens = response.json()
            id_token, access_token = tokens.get("id_token"), tokens.get("access_token")
            if not id_token or not access_token:
                raise FranceConnectError
            claims = await self._verified(id_token, nonce=flow.nonce)
            info_response = await http.get(metadata["userinfo_endpoint"],
                                           headers={"Authorization": f"Bearer {access_token}"})
        if info_response.status_code != 200:
            raise FranceConnectError
        if info_response.headers.get("content-type", "").startswith("application/jwt"):
            info = await self._verified(info_response.text.strip(), nonce=None)
        else:
            info = info_response.json()
        if info.get("sub") != claims["sub"]:
            raise FranceConnectError
        return _identity(info), id_token

    async def _key_set(self, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            metadata = await self.metadata()
            async with self._http() as http:
                response = await http.get(metadata["jwks_uri"])
            if response.status_code != 200:
                raise FranceConnectError
            self._keys = KeySet.import_key_set(response.json())
        return self._keys

    async def _verified(self, token: str, *, nonce: str | None) -> dict[str, Any]:
        """Signature (refreshing the keys once), then iss, aud, exp, iat, and nonce and acr for id_tokens."""
        try:
            decoded = jwt.decode(token, await self._key_set(), algorithms=ALGORITHMS)
        except JoseError:
            try:
                decoded = jwt.decode(token, await self._key_set(refresh=True), algorithms=ALGORITHMS)
            except JoseError as error:
                raise FranceConnectError from error
        expected: dict[str, Any] = {
            "iss": {"essential": True, "value": self.settings.base_url},
            "aud": {"essential": True, "value": self.settings.client_id},
            "exp": {"essential": True},
            "sub": {"essential": True},
        }
        if nonce is not None:
            expected |= {"nonce": {"essential": True, "value": nonce}, "acr": {"essential": True, "value": ACR},
                         "iat": {"essential": True}}
        try:
            jwt.JWTClaimsRegistry(leeway=_LEEWAY_SECONDS, **expected).validate(decoded.claims)
        except JoseError as error:
            raise FranceConnectError from error
        return dict(decoded.claims)


def _identity(info: dict[str, Any]) -> FranceConnectIdentity:
    given, family = str(info.get("given_name") or "").strip(), str(info.get("family_name") or "").strip()
    if not given or not family:
        raise FranceConnectError("FranceConnect n'a pas transmis vos nom et prénom. Créez un compte pour continuer.")
    birthdate = None
    if info.get("birthdate"):
        try:
            birthdate = date.fromisoformat(str(info["birthdate"]))
        except ValueError:
            birthdate = None
    return FranceConnectIdentity(sub=str(info["sub"]), given_name=given, family_name=family, birthdate=birthdate,
                                 email=(str(info.get("email") or "").strip() or None),
                                 preferred_username=(str(info.get("preferred_username") or "").strip() or None))
