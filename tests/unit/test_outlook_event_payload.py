"""What an agent's Outlook event says (rdv_app.domain.outlook): the organisation's zone under the Windows
name Graph expects, at the right wall-clock time on both sides of a DST change; the place without personal
data; the link and the warning; idempotency keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from tzlocal.windows_tz import win_tz

from rdv_app.domain import outlook
from rdv_app.domain.enums import LocationType


def _rdv(starts_at: datetime, time_zone: str, **fields: object) -> outlook.OutlookRdv:
    values: dict[str, object] = {
        "motif_name": "Consultation prénatale", "collectif": False, "name": None, "users_count": 1,
        "max_participants_count": None, "starts_at": starts_at, "ends_at": starts_at + timedelta(minutes=30),
        "time_zone": time_zone, "location_type": LocationType.PUBLIC_OFFICE.value, "lieu_name": "Centre Arras",
        "lieu_address": "1 rue A, 62000 Arras", "link": "https://rdv.exemple.fr/agenda/rdv/12",
        "site_name": "rdv.exemple.fr"}
    values.update(fields)
    return outlook.OutlookRdv(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("time_zone", "windows", "local", "instant"), [
    ("Indian/Reunion", "Mauritius Standard Time", "2027-03-28T09:00:00", datetime(2027, 3, 28, 5, 0, tzinfo=UTC)),
    ("America/Cayenne", "SA Eastern Standard Time", "2027-03-28T09:00:00", datetime(2027, 3, 28, 12, 0, tzinfo=UTC)),
    # Paris on the day clocks go forward: 09:00 is already summer time (UTC+2).
    ("Europe/Paris", "Romance Standard Time", "2027-03-28T09:00:00", datetime(2027, 3, 28, 7, 0, tzinfo=UTC)),
    ("Europe/Paris", "Romance Standard Time", "2027-01-04T09:00:00", datetime(2027, 1, 4, 8, 0, tzinfo=UTC)),
    ("America/Guadeloupe", "SA Western Standard Time", "2027-01-04T09:00:00", datetime(2027, 1, 4, 13, 0, tzinfo=UTC)),
    ("Indian/Mayotte", "E. Africa Standard Time", "2027-01-04T09:00:00", datetime(2027, 1, 4, 6, 0, tzinfo=UTC)),
])
def test_start_is_the_local_time_of_the_organisation_under_its_windows_zone(time_zone: str, windows: str,
                                                                            local: str, instant: datetime) -> None:
    payload = outlook.event_payload(_rdv(instant, time_zone))
    assert payload["start"] == {"dateTime": local, "timeZone": windows}
    # Read back through the same table, as Graph does, the instant is the RDV's.
    back = datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(win_tz[windows]))
    assert back == instant


def test_a_zone_without_windows_name_is_sent_in_utc() -> None:
    instant = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
    payload = outlook.event_payload(_rdv(instant, "Antarctica/Troll"))
    assert payload["start"] == {"dateTime": "2027-01-04T08:00:00", "timeZone": "UTC"}


def test_body_links_the_rdv_and_warns_not_to_edit_in_outlook() -> None:
    payload = outlook.event_payload(_rdv(datetime(2027, 1, 4, 8, tzinfo=UTC), "Europe/Paris",
                                         link="https://rdv.exemple.fr/agenda/rdv/12?a=<b>"))
    body = payload["body"]
    assert isinstance(body, dict) and body["contentType"] == "HTML"
    assert 'href="https://rdv.exemple.fr/agenda/rdv/12?a=&lt;b&gt;"' in body["content"]
    assert "ne modifiez pas cet évènement directement dans Outlook" in body["content"]
    assert payload["attendees"] == []
    assert "transactionId" not in payload


@pytest.mark.parametrize(("location_type", "expected"), [
    (LocationType.PUBLIC_OFFICE.value, "Centre Arras (1 rue A, 62000 Arras)"),
    (LocationType.HOME.value, "À domicile"),
    (LocationType.PHONE.value, "Par téléphone"),
    (LocationType.VISIO.value, "Par visioconférence"),
])
def test_the_place_never_holds_the_usager_address(location_type: str, expected: str) -> None:
    payload = outlook.event_payload(_rdv(datetime(2027, 1, 4, 8, tzinfo=UTC), "Europe/Paris",
                                         location_type=location_type))
    assert payload["location"] == {"displayName": expected}


def test_a_lieu_ponctuel_says_so() -> None:
    payload = outlook.event_payload(_rdv(datetime(2027, 1, 4, 8, tzinfo=UTC), "Europe/Paris", lieu_single_use=True))
    assert payload["location"] == {"displayName": "Centre Arras (1 rue A, 62000 Arras) (Lieu ponctuel)"}


def test_collective_subject_and_transaction_ids() -> None:
    rdv = _rdv(datetime(2027, 1, 4, 8, tzinfo=UTC), "Europe/Paris", collectif=True, name="Atelier",
               users_count=3, max_participants_count=8)
    assert outlook.subject(rdv) == "Consultation prénatale : Atelier (3/8)"
    first, second = outlook.transaction_id("u-1", 4, 0), outlook.transaction_id("u-1", 4, 1)
    assert first != second and outlook.event_payload(rdv, first)["transactionId"] == first
