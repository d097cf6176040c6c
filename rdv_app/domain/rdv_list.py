"""The filters of "Liste des RDV" (admin-domain.md 9.1), as they ride in the page's address (see
`rdv_app.routes.rdv_list`): read from the query string into plain values, never trusted further than
their shape. Which organisations, agents, lieux, motifs and usagers the agent may name is the service's
business (rdv_app.services.rdv.rdv_search).

- `organisations`, `lieux`, `motifs`: comma-separated ids; `agent`, `usager`: one id;
- `statut`: one of `STATUSES` ("unknown" split by time: `unknown_past` is "À renseigner", an RDV of
  unknown status that started before now; `unknown_future` "Rendez-vous à venir", one that starts later);
- `du`, `au`: local days "2026-12-07"; an RDV is listed when `du` ≤ its local start day and its local
  end day ≤ `au`.
A value that does not parse is dropped and named in `ignored`, so that the page says so instead of
listing something else silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

STATUSES = ("seen", "excused", "revoked", "noshow", "unknown_past", "unknown_future")
STATUS_LABELS = {
    "seen": "Rendez-vous honoré",
    "excused": "Annulé (excusé)",
    "revoked": "Annulé (par le service)",
    "noshow": "Absence non excusée",
    "unknown_past": "À renseigner",
    "unknown_future": "Rendez-vous à venir",
}
MAX_IDS = 100  # far more than any organisation's lieux or motifs picked at once
_INT_MAX = 2**31 - 1


@dataclass(frozen=True)
class RdvFilters:
    """What the list shows; empty values filter nothing. No organisation: the one shown in the header."""

    organisation_ids: tuple[int, ...] = ()
    agent_id: int | None = None
    usager_id: int | None = None
    lieu_ids: tuple[int, ...] = ()
    motif_ids: tuple[int, ...] = ()
    status: str = ""
    start: date | None = None
    end: date | None = None


@dataclass(frozen=True)
class ParsedFilters:
    filters: RdvFilters
    ignored: tuple[str, ...] = field(default=())  # French names of the values dropped


def _one_id(raw: str) -> int | None:
    raw = raw.strip()
    if not raw.isdigit() or len(raw) > 10:
        return None
    value = int(raw)
    return value if 0 < value <= _INT_MAX else None


def _ids(raw: str) -> tuple[tuple[int, ...], bool]:
    parts = [part for part in raw.split(",") if part.strip()]
    ids = [_one_id(part) for part in parts]
    valid = tuple(dict.fromkeys(i for i in ids if i is not None))
    return valid[:MAX_IDS], len(valid) != len(parts) or len(valid) > MAX_IDS


def _day(raw: str) -> date | None:
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        return None
    return day if 1900 <= day.year <= 2199 else None


def parse_query(query: Mapping[str, str]) -> ParsedFilters:
    """The filters of a query string (see the module's docstring)."""
    ignored: list[str] = []
    organisation_ids, bad = _ids(query.get("organisations", ""))
    if bad:
        ignored.append("organisations")
    lieu_ids, bad = _ids(query.get("lieux", ""))
    if bad:
        ignored.append("lieux")
    motif_ids, bad = _ids(query.get("motifs", ""))
    if bad:
        ignored.append("motifs")
    single: dict[str, int | None] = {}
    for key, label in (("agent", "agent"), ("usager", "usager")):
        raw = query.get(key, "")
        single[key] = _one_id(raw) if raw.strip() else None
        if raw.strip() and single[key] is None:
            ignored.append(label)
    status = query.get("statut", "").strip()
    if status and status not in STATUSES:
        ignored.append("statut")
        status = ""
    days: dict[str, date | None] = {}
    for key, label in (("du", "début de période"), ("au", "fin de période")):
        raw = query.get(key, "")
        days[key] = _day(raw) if raw.strip() else None
        if raw.strip() and days[key] is None:
            ignored.append(label)
    return ParsedFilters(RdvFilters(organisation_ids=organisation_ids, agent_id=single["agent"],
                                    usager_id=single["usager"], lieu_ids=lieu_ids, motif_ids=motif_ids,
                                    status=status, start=days["du"], end=days["au"]), tuple(ignored))
