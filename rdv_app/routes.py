"""Every path of the app, in one place."""

from __future__ import annotations

from urllib.parse import urlencode

HOME = "/"
LOGIN = "/connexion"
WORKSPACE = "/espace"
ACCOUNT = "/mon-compte"
CRENEAUX = "/trouver-un-rdv"
AGENDA = "/agenda"
PLAGES = "/planning/plages"
ABSENCES = "/planning/indisponibilites"
NOT_FOUND = "404"

# Plain HTTP routes (Starlette, mounted next to the Reflex app).
HEALTH = "/_health"
AUTH_OPEN_SESSION = "/_auth/session"
AUTH_CLEAR_SESSION = "/_auth/sortie"

AGENT_SESSION_COOKIE = "rdv_agent_session"


def login(next_path: str | None = None) -> str:
    return f"{LOGIN}?{urlencode({'suivant': next_path})}" if next_path else LOGIN


def open_session(ticket: str) -> str:
    return f"{AUTH_OPEN_SESSION}?{urlencode({'ticket': ticket})}"
