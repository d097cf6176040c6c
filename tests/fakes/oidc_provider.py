"""An OpenID Connect provider on loopback that speaks FranceConnect v2 (integrations.md section 3).

- `GET  /api/v2/.well-known/openid-configuration`: discovery;
- `GET  /api/v2/authorize`: checks the client, the registered redirect_uri, `response_type=code`, the
  `openid` scope, `state` and `nonce` (at least 32 characters) and `acr_values=eidas1`, then redirects
  back with a single-use code, or with `error=access_denied` when `deny` is set;
- `POST /api/v2/token`: client_secret_post, the code once, the same redirect_uri; answers an RS256
  id_token (`iss`, `sub`, `aud`, `exp`, `iat`, `nonce`, `acr`) and a 60-second access token;
- `GET  /api/v2/userinfo`: a signed JWT (`application/jwt`) with the identity's claims;
- `GET  /api/v2/jwks`: the public key;
- `GET  /api/v2/session/end`: logout with `id_token_hint`, `state` and `post_logout_redirect_uri`.

A test logs someone in by setting `identity`, and may make the provider misbehave: `id_token_claims`
overrides claims of the next id_token (wrong nonce, audience, issuer...), `sign_with_foreign_key`
signs with a key the JWKS does not publish, `userinfo_sub` answers userinfo for someone else.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey
from pg import free_port

from rdv_app.auth.franceconnect import FranceConnectSettings

PREFIX = "/api/v2"


class FakeFranceConnect:
    def __init__(self, *, client_id: str = "rdv-client", client_secret: str = "rdv-secret-0123456789",
                 redirect_uris: tuple[str, ...] = ()) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris = set(redirect_uris)
        self.port = free_port()
        self.key = RSAKey.generate_key(2048, parameters={"kid": "fc-key-1", "use": "sig", "alg": "RS256"})
        self.foreign_key = RSAKey.generate_key(2048, parameters={"kid": "fc-key-1", "alg": "RS256"})
        self.identity: dict[str, Any] = {
            "sub": "fc-sub-0001", "given_name": "Marie Claire", "family_name": "DUPONT",
            "preferred_username": "MARTIN", "birthdate": "1985-04-12", "email": "marie.dupont@franceconnect.test",
        }
        self.deny = False
        self.id_token_claims: dict[str, Any] = {}
        self.sign_with_foreign_key = False
        self.userinfo_sub: str | None = None
        self.authorize_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self.logout_requests: list[dict[str, str]] = []
        self._codes: dict[str, dict[str, str]] = {}
        self._access_tokens: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> FakeFranceConnect:
        server = ThreadingHTTPServer(("127.0.0.1", self.port), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}{PREFIX}"

    def settings(self) -> FranceConnectSettings:
        return FranceConnectSettings(self.issuer, self.client_id, self.client_secret)

    def environment(self) -> dict[str, str]:
        return {"RDV_FRANCECONNECT_URL": self.issuer, "RDV_FRANCECONNECT_CLIENT_ID": self.client_id,
                "RDV_FRANCECONNECT_CLIENT_SECRET": self.client_secret}

    # ------------------------------------------------------------------------------------ protocol

    def metadata(self) -> dict[str, Any]:
        return {"issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token", "userinfo_endpoint": f"{self.issuer}/userinfo",
                "jwks_uri": f"{self.issuer}/jwks", "end_session_endpoint": f"{self.issuer}/session/end",
                "response_types_supported": ["code"], "acr_values_supported": ["eidas1"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "userinfo_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_post"]}

    def authorize(self, params: dict[str, str]) -> tuple[int, dict[str, str], str]:
        self.authorize_requests.append(params)
        redirect_uri = params.get("redirect_uri", "")
        problems = []
        if params.get("client_id") != self.client_id:
            problems.append("client_id")
        if redirect_uri not in self.redirect_uris:
            problems.append("redirect_uri")
        if params.get("response_type") != "code" or "openid" not in params.get("scope", "").split():
            problems.append("response_type or scope")
        if len(params.get("state", "")) < 32 or len(params.get("nonce", "")) < 32:
            problems.append("state or nonce")
        if params.get("acr_values") != "eidas1":
            problems.append("acr_values")
        if problems:
            return 400, {}, f"invalid request: {', '.join(problems)}"
        if self.deny:
            query = {"error": "access_denied", "error_description": "User auth aborted", "state": params["state"]}
        else:
            code = secrets.token_urlsafe(24)
            with self._lock:
                self._codes[code] = params
            query = {"code": code, "state": params["state"]}
        return 302, {"Location": f"{redirect_uri}?{urlencode(query)}"}, ""

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.token_requests.append(form)
        if (form.get("client_id"), form.get("client_secret")) != (self.client_id, self.client_secret):
            return 401, {"error": "invalid_client"}
        with self._lock:
            request = self._codes.pop(form.get("code", ""), None)
        if request is None or form.get("grant_type") != "authorization_code" \
                or form.get("redirect_uri") != request["redirect_uri"]:
            return 400, {"error": "invalid_grant"}
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": self.identity["sub"], "aud": self.client_id, "exp": now + 60,
                  "iat": now, "nonce": request["nonce"], "acr": "eidas1", "amr": ["fc"]}
        claims.update(self.id_token_claims)
        access_token = secrets.token_urlsafe(24)
        with self._lock:
            self._access_tokens[access_token] = {"expires": now + 60}
        return 200, {"access_token": access_token, "token_type": "Bearer", "expires_in": 60,
                     "id_token": self._sign(claims, self.foreign_key if self.sign_with_foreign_key else self.key)}

    def userinfo(self, authorization: str) -> tuple[int, str]:
        token = authorization.removeprefix("Bearer ").strip()
        with self._lock:
            known = self._access_tokens.get(token)
        if known is None or known["expires"] < time.time():
            return 401, ""
        now = int(time.time())
        claims = {**self.identity, "iss": self.issuer, "aud": self.client_id, "exp": now + 60, "iat": now}
        if self.userinfo_sub is not None:
            claims["sub"] = self.userinfo_sub
        return 200, self._sign(claims, self.key)

    def end_session(self, params: dict[str, str]) -> tuple[int, dict[str, str], str]:
        """Logout: a valid id_token of ours, a state, a known return address; then back there with the state."""
        self.logout_requests.append(params)
        try:
            jwt.decode(params.get("id_token_hint", ""), self.key, algorithms=["RS256"])
        except JoseError:
            return 400, {}, "invalid id_token_hint"
        target = params.get("post_logout_redirect_uri", "")
        if not params.get("state") or urlparse(target).hostname not in ("127.0.0.1", "localhost"):
            return 400, {}, "invalid request"
        return 302, {"Location": f"{target}?{urlencode({'state': params['state']})}"}, ""

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    def _sign(self, claims: dict[str, Any], key: RSAKey) -> str:
        return jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "JWT"}, claims, key)


class _Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    def log_message(self, *_args: object) -> None:
        return

    @property
    def fake(self) -> FakeFranceConnect:
        return self.server.fake  # type: ignore[attr-defined]

    def _send(self, status: int, body: str | bytes = b"", content_type: str = "application/json",
              headers: dict[str, str] | None = None) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        url = urlparse(self.path)
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == f"{PREFIX}/.well-known/openid-configuration":
            self._send(200, json.dumps(self.fake.metadata()))
        elif url.path == f"{PREFIX}/jwks":
            self._send(200, json.dumps(self.fake.jwks()))
        elif url.path == f"{PREFIX}/authorize":
            status, headers, text = self.fake.authorize(params)
            self._send(status, text, "text/plain", headers)
        elif url.path == f"{PREFIX}/session/end":
            status, headers, text = self.fake.end_session(params)
            self._send(status, text, "text/plain", headers)
        elif url.path == f"{PREFIX}/userinfo":
            status, token = self.fake.userinfo(self.headers.get("Authorization", ""))
            self._send(status, token, "application/jwt")
        else:
            self._send(404, "{}")

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if urlparse(self.path).path == f"{PREFIX}/token":
            status, body = self.fake.token(form)
            self._send(status, json.dumps(body))
        else:
            self._send(404, "{}")
