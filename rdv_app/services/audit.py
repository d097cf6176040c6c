"""The audit log: who changed what, when. Written in the same transaction as the change."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlmodel import Session

from rdv_app.db.models import AuditLog
from rdv_app.domain.enums import AuthorType


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields whose value changed."""
    return {key: [_plain(before.get(key)), _plain(after.get(key))]
            for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key)}


def record(session: Session, *, action: str, entity_type: str, entity_id: int | str,
           changes: dict[str, Any] | None = None, organisation_id: int | None = None,
           actor_agent_id: int | None = None, actor_usager_id: int | None = None) -> None:
    """Adds an audit row to the caller's transaction (no commit)."""
    actor_type = (AuthorType.AGENT if actor_agent_id is not None
                  else AuthorType.USAGER if actor_usager_id is not None else AuthorType.SYSTEM)
    session.add(AuditLog(actor_type=actor_type.value, actor_agent_id=actor_agent_id, actor_usager_id=actor_usager_id,
                         organisation_id=organisation_id, action=action, entity_type=entity_type,
                         entity_id=str(entity_id), changes=_plain(changes or {})))
