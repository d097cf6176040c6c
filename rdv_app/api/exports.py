"""`GET /_exports/<id>`: an export's file (rdv_app.services.rdv.rdv_export), for the agent who asked for it,
recognised by their session cookie, while its link is valid. Anyone else, or an expired link, gets a page
that says so in French; the file is never cached."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from rdv_app import routes
from rdv_app.api import html_page
from rdv_app.blocking import within
from rdv_app.config import settings
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.agents import agent_auth
from rdv_app.services.errors import DomainError
from rdv_app.services.rdv import rdv_export


def _refusal(title: str, message: str, status_code: int, link: str, label: str) -> Response:
    return HTMLResponse(html_page.page(title, f"""<h1>{html_page.e(title)}</h1>
<p>{html_page.e(message)}</p>
<div class="actions"><a class="button button-primary" href="{html_page.e(settings.frontend_url(link))}">
{html_page.e(label)}</a></div>"""), status_code=status_code, headers={"Cache-Control": "no-store"})


async def download_export(request: Request) -> Response:
    export_id: str = request.path_params["export_id"]
    token = request.cookies.get(routes.AGENT_SESSION_COOKIE, "")
    identity = await within(UnitOfWork(), lambda uow: agent_auth.resolve_session(uow, token or None))
    if identity is None:
        return _refusal("Connexion nécessaire", "Connectez-vous pour télécharger vos exports.", 401,
                        routes.login(routes.EXPORTS), "Se connecter")
    agent_id = identity.agent_id
    try:
        file = await within(UnitOfWork(read_only=True),
                            lambda uow: rdv_export.export_file(uow, agent_id, export_id))
    except DomainError as refused:
        return _refusal("Export indisponible", refused.message, 404, routes.EXPORTS, "Voir vos exports")
    return Response(file.content, media_type=file.media_type, headers={
        "Content-Disposition": f"attachment; filename=\"{file.file_name}\"; filename*=UTF-8''{quote(file.file_name)}",
        "Cache-Control": "no-store"})
