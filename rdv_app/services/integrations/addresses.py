"""Address suggestions from the Base Adresse Nationale's search API (`GET <RDV_BAN_URL>/search/?q=…&limit=5`,
GeoJSON features whose properties give `label`, `postcode`, `citycode` and `city`), for the address of an
usager's record: choosing one fills its postal code, INSEE code and town.

The service is outside: it is asked with a short timeout, and whatever goes wrong (unreachable, slow, an
error status, an answer of another shape) gives None, never an error, so that the person simply types the
address by hand."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx

from rdv_app.config import settings

TIMEOUT = httpx.Timeout(2.0)
LIMIT = 5
MIN_QUERY_LENGTH = 3  # the API refuses shorter queries
MAX_QUERY_LENGTH = 200

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AddressSuggestion:
    label: str  # "20 Avenue de Ségur 75007 Paris"
    post_code: str
    city_code: str  # INSEE
    city_name: str
    ban_id: str = ""  # the feature's id: "62041_0570_00001" (a number), "62041_0570" (a street), "62041" (a town)
    street_name: str = ""  # "Rue de la Paix"; "" for a town


def worth_asking(query: str) -> bool:
    return MIN_QUERY_LENGTH <= len(query.strip()) <= MAX_QUERY_LENGTH


def _suggestion(feature: Any) -> AddressSuggestion | None:
    properties = feature.get("properties") if isinstance(feature, dict) else None
    if not isinstance(properties, dict) or not isinstance(properties.get("label"), str):
        return None
    street = properties.get("street") or (properties.get("name") if properties.get("type") == "street" else "")
    return AddressSuggestion(label=properties["label"], post_code=str(properties.get("postcode") or ""),
                             city_code=str(properties.get("citycode") or ""), city_name=str(properties.get("city") or ""),
                             ban_id=str(properties.get("id") or ""), street_name=str(street or ""))


async def suggest_addresses(query: str, *, base_url: str | None = None) -> list[AddressSuggestion] | None:
    """Up to five addresses matching what was typed; [] for too short a query; None when the service did
    not answer usefully. `base_url`: another instance of the API than RDV_BAN_URL's."""
    if not worth_asking(query):
        return []
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as client:
            response = await client.get(f"{base_url or settings.ban_url}/search/", params={"q": query.strip(), "limit": LIMIT})
            response.raise_for_status()
            features = response.json().get("features")
    except (httpx.HTTPError, ValueError, AttributeError) as error:
        logger.info("Base Adresse Nationale unavailable: %s", type(error).__name__)
        return None
    if not isinstance(features, list):
        return None
    return [s for s in (_suggestion(f) for f in features[:LIMIT]) if s is not None]


@dataclass(frozen=True)
class Location:
    label: str
    post_code: str
    city_name: str
    longitude: float
    latitude: float


def locate(query: str, *, base_url: str | None = None) -> Location | None:
    """The best match of an address with its coordinates (WGS84), for a lieu; None when the service did not
    answer usefully (the lieu is then saved without coordinates)."""
    if not worth_asking(query):
        return None
    try:
        with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client:
            response = client.get(f"{base_url or settings.ban_url}/search/", params={"q": query.strip(), "limit": 1})
            response.raise_for_status()
            feature = (response.json().get("features") or [None])[0]
            longitude, latitude = feature["geometry"]["coordinates"]
            found = _suggestion(feature)
            if found is None:
                return None
            return Location(found.label, found.post_code, found.city_name, float(longitude), float(latitude))
    except (httpx.HTTPError, ValueError, AttributeError, KeyError, TypeError, IndexError) as error:
        logger.info("Base Adresse Nationale unavailable: %s", type(error).__name__)
        return None
