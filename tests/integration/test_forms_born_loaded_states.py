"""Forms are born loaded (issue 25) at the state level, as the browser's events reach them: a form submitted
with the key of no load (what the page rendered before its values arrived, or for another record) saves
nothing and says why in French; sent as loaded, it saves. On SQLite and PostgreSQL, through the tab of
tests/integration/test_rights_forged_events.py."""

from __future__ import annotations

import asyncio

from sqlmodel import select
from test_rights_forged_events import _open, world  # noqa: F401  (`world` is a fixture)

from rdv_app.db.models import WebhookEndpoint
from rdv_app.db.uow import UnitOfWork
from rdv_app.state.admin_webhooks import AdminWebhooksState
from rdv_app.state.loaded import NOT_LOADED


def _webhooks(db_url: str, organisation_id: int) -> list[str]:
    with UnitOfWork(db_url, read_only=True) as uow:
        return list(uow.session.exec(select(WebhookEndpoint.target_url)
                                     .where(WebhookEndpoint.organisation_id == organisation_id)))


def test_a_webhook_form_sent_before_its_load_saves_nothing(db_url: str, world: dict[str, int]) -> None:  # noqa: F811
    async def scenario() -> None:
        tab = await _open(db_url, "/admin/webhooks", AdminWebhooksState)
        page = await tab.root.get_state(AdminWebhooksState)
        await tab.send(AdminWebhooksState, "open_new")
        form = {"target_url": "https://crm.arras.test/rdv", "abonnement_rdv": "on"}

        await tab.send(AdminWebhooksState, "save", form={**form, "loaded_for": ""})
        assert page.form_error == NOT_LOADED  # type: ignore[attr-defined]
        assert _webhooks(db_url, world["org"]) == []

        await tab.send(AdminWebhooksState, "save", form={**form, "loaded_for": page.loaded_for})  # type: ignore[attr-defined]
        assert page.message.startswith("Webhook ajouté.")  # type: ignore[attr-defined]
        assert _webhooks(db_url, world["org"]) == ["https://crm.arras.test/rdv"]

    asyncio.run(scenario())
