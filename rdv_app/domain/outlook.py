"""What an agent's Outlook event says about an RDV (admin-domain.md 11.4), as pure data.

- Subject: the motif's name; a collective RDV: "motif : name (n/max)", as the webcal feed.
- Body (HTML): a link to the RDV in the agents' space, and the warning that a change made in Outlook is
  not carried back. Location: the lieu's name and address, "Par téléphone", "Par visioconférence" or "À
  domicile", never the usager's address. No usager name, phone or note anywhere (FAQ, "Synchroniser avec
  mon agenda": only the motif, the address and a link).
- Start and end: the organisation's local wall-clock time with the Windows name of its IANA zone, which
  Graph expects (`windows_zone`, from the CLDR windowsZones table that `tzlocal` ships and regenerates at
  each CLDR release). A zone the table lacks is sent in UTC: the instant stays right.
- `attendees` is empty: Outlook sends no invitation. `transactionId` makes a create idempotent at Graph:
  one per agent, RDV and generation (a new generation after the event was removed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from tzlocal.windows_tz import tz_win

from rdv_app.domain.labels import impersonal_place

# Microsoft's refresh tokens live 90 days, renewed each time one is issued: the connection must be renewed
# before that if the agent's calendar stays untouched (no RDV change to sync) that long.
REFRESH_TOKEN_LIFETIME = timedelta(days=90)
BACKFILL_WINDOW = timedelta(days=31)  # on connecting, RDVs from one month back are sent
_UTC_WINDOWS_NAME = "UTC"
@dataclass(frozen=True, slots=True)
class OutlookRdv:
    motif_name: str
    collectif: bool
    name: str | None
    users_count: int
    max_participants_count: int | None
    starts_at: datetime
    ends_at: datetime
    time_zone: str  # IANA
    location_type: str
    lieu_name: str | None
    lieu_address: str | None
    link: str  # the RDV's page in the agents' space
    site_name: str  # the instance's host, as the links show it
    lieu_single_use: bool = False  # a lieu ponctuel, typed for this RDV


def windows_zone(time_zone: str) -> str | None:
    """The Windows time zone name of an IANA zone (CLDR windowsZones), None when the table has none."""
    return tz_win.get(time_zone)


def transaction_id(rdv_uuid: str, agent_id: int, generation: int) -> str:
    return f"rdv-{rdv_uuid}-agent-{agent_id}-{generation}"


def subject(rdv: OutlookRdv) -> str:
    if not rdv.collectif:
        return rdv.motif_name
    title = f"{rdv.motif_name} : {rdv.name}" if rdv.name else rdv.motif_name
    seats = f"{rdv.users_count}/{rdv.max_participants_count}" if rdv.max_participants_count else f"{rdv.users_count}"
    return f"{title} ({seats})"


def place(rdv: OutlookRdv) -> str:
    return impersonal_place(rdv.location_type, rdv.lieu_name, rdv.lieu_address, rdv.lieu_single_use)


def body(rdv: OutlookRdv) -> str:
    link, site = escape(rdv.link), escape(rdv.site_name)
    return (f'<p>Plus d\'infos sur <a href="{link}">{site}</a>.</p>'
            f"<p>Attention : ne modifiez pas cet évènement directement dans Outlook, car il ne sera pas mis à jour "
            f'sur {site}. Pour modifier ce rendez-vous, allez sur <a href="{link}">{site}</a>.</p>')


def _moment(instant: datetime, time_zone: str) -> dict[str, str]:
    zone_name = windows_zone(time_zone)
    if zone_name is None:
        return {"dateTime": instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": _UTC_WINDOWS_NAME}
    local = instant.astimezone(ZoneInfo(time_zone))
    return {"dateTime": local.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": zone_name}


def event_payload(rdv: OutlookRdv, transaction: str | None = None) -> dict[str, object]:
    """The JSON of a create (with its `transactionId`) or of an update (without)."""
    payload: dict[str, object] = {
        "subject": subject(rdv),
        "body": {"contentType": "HTML", "content": body(rdv)},
        "start": _moment(rdv.starts_at, rdv.time_zone),
        "end": _moment(rdv.ends_at, rdv.time_zone),
        "location": {"displayName": place(rdv)},
        "attendees": [],
    }
    if transaction is not None:
        payload["transactionId"] = transaction
    return payload


def renewal_due(refresh_issued_at: datetime) -> datetime:
    """When the connection stops working unless a sync (or a new connection) renews it first."""
    return refresh_issued_at + REFRESH_TOKEN_LIFETIME
