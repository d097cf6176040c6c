"""RDV and participation statuses: cancelled_at, propagation both ways, collective limits, labels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rdv_app.domain.enums import RdvStatus
from rdv_app.domain.rdv_status import (
    StatusError,
    allowed_statuses,
    cancelled_at_after,
    change_participation_status,
    change_rdv_status,
    is_cancelled,
    parse_status,
    participations_after_rdv_status,
    rdv_status_from_participations,
    status_label,
)

U, SEEN, EXC, REV, NOSHOW = (RdvStatus.UNKNOWN, RdvStatus.SEEN, RdvStatus.EXCUSED, RdvStatus.REVOKED,
                             RdvStatus.NOSHOW)
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # 11:00 in Paris
EARLIER = NOW - timedelta(days=2)


@pytest.mark.parametrize(("status", "stamped"), [(U, False), (SEEN, False), (EXC, True), (REV, True),
                                                 (NOSHOW, True)])
def test_cancelled_at_is_stamped_exactly_for_excused_revoked_and_noshow(status: RdvStatus, stamped: bool) -> None:
    assert cancelled_at_after(U, None, status, NOW) == (NOW if stamped else None)
    # Leaving a stamped status for seen or unknown clears the stamp.
    assert cancelled_at_after(REV, EARLIER, status, NOW) == ((EARLIER if status == REV else NOW) if stamped else None)


def test_the_first_stamp_is_kept_when_the_status_does_not_change() -> None:
    assert cancelled_at_after(EXC, EARLIER, EXC, NOW) == EARLIER
    assert cancelled_at_after(EXC, EARLIER, NOSHOW, NOW) == NOW


def test_rdv_to_participations() -> None:
    before = {1: U, 2: EXC, 3: SEEN, 4: NOSHOW, 5: REV}
    assert participations_after_rdv_status(U, before) == dict.fromkeys(before, U)
    assert participations_after_rdv_status(REV, before) == {1: REV, 2: EXC, 3: REV, 4: REV, 5: REV}
    assert participations_after_rdv_status(EXC, before) == {1: EXC, 2: EXC, 3: EXC, 4: EXC, 5: REV}
    assert participations_after_rdv_status(SEEN, before) == {1: SEEN, 2: EXC, 3: SEEN, 4: NOSHOW, 5: REV}
    assert participations_after_rdv_status(NOSHOW, before) == {1: NOSHOW, 2: EXC, 3: SEEN, 4: NOSHOW, 5: REV}


@pytest.mark.parametrize(("statuses", "expected"), [
    ([SEEN, EXC], SEEN),
    ([NOSHOW, U, SEEN], SEEN),
    ([EXC, EXC], EXC),
    ([REV], REV),
    ([NOSHOW, NOSHOW], NOSHOW),
    ([EXC, REV], U),
    ([U, EXC], U),
    ([U], U),
])
def test_participations_to_an_individual_rdv(statuses: list[RdvStatus], expected: RdvStatus) -> None:
    participations = dict(enumerate(statuses))
    assert rdv_status_from_participations(REV, participations, collectif=False, is_past=True) == expected


def test_participations_to_a_collective_rdv() -> None:
    assert rdv_status_from_participations(U, {1: SEEN, 2: EXC}, collectif=True, is_past=False) == SEEN
    # Past, nobody left to come: the session is revoked; future or someone still expected: unchanged.
    assert rdv_status_from_participations(U, {1: EXC, 2: NOSHOW}, collectif=True, is_past=True) == REV
    assert rdv_status_from_participations(U, {1: EXC, 2: NOSHOW}, collectif=True, is_past=False) == U
    assert rdv_status_from_participations(U, {1: EXC, 2: U}, collectif=True, is_past=True) == U
    assert rdv_status_from_participations(REV, {1: EXC}, collectif=True, is_past=False) == REV
    assert rdv_status_from_participations(U, {}, collectif=True, is_past=True) == U


def test_change_rdv_status_propagates_and_stamps() -> None:
    outcome = change_rdv_status(current=U, cancelled_at=None, new=REV, participations={7: U, 8: EXC},
                                collectif=False, now=NOW)
    assert (outcome.status, outcome.cancelled_at, outcome.participations) == (REV, NOW, {7: REV, 8: EXC})
    back = change_rdv_status(current=REV, cancelled_at=NOW, new=U, participations=outcome.participations,
                             collectif=False, now=NOW)
    assert (back.status, back.cancelled_at, back.participations) == (U, None, {7: U, 8: U})


@pytest.mark.parametrize("status", [EXC, NOSHOW])
def test_a_collective_rdv_is_only_unknown_seen_or_revoked(status: RdvStatus) -> None:
    with pytest.raises(StatusError, match="collectif"):
        change_rdv_status(current=U, cancelled_at=None, new=status, participations={}, collectif=True, now=NOW)
    assert allowed_statuses(collectif=True) == (U, SEEN, REV)
    assert allowed_statuses(collectif=False) == (U, SEEN, EXC, REV, NOSHOW)


def test_change_participation_status_moves_the_rdv() -> None:
    first = change_participation_status(rdv_status=U, cancelled_at=None, participations={1: U, 2: U}, key=1,
                                        new=EXC, collectif=False, is_past=False, now=NOW)
    assert (first.status, first.cancelled_at, first.participations) == (U, None, {1: EXC, 2: U})
    both = change_participation_status(rdv_status=U, cancelled_at=None, participations=first.participations,
                                       key=2, new=EXC, collectif=False, is_past=False, now=NOW)
    assert (both.status, both.cancelled_at) == (EXC, NOW)
    seen = change_participation_status(rdv_status=EXC, cancelled_at=NOW, participations=both.participations,
                                       key=2, new=SEEN, collectif=False, is_past=True, now=NOW)
    assert (seen.status, seen.cancelled_at) == (SEEN, None)
    with pytest.raises(StatusError):
        change_participation_status(rdv_status=U, cancelled_at=None, participations={1: U}, key=99, new=SEEN,
                                    collectif=False, is_past=False, now=NOW)


def test_parse_and_cancelled() -> None:
    assert parse_status("noshow") == NOSHOW
    with pytest.raises(StatusError, match="n'existe pas"):
        parse_status("annule")
    assert is_cancelled("excused") and is_cancelled(REV) and not is_cancelled(NOSHOW)


def test_labels_follow_the_local_day() -> None:
    paris = "Europe/Paris"
    # 23:30 UTC on the 6th is 00:30 on the 7th in Paris: today there, although yesterday in UTC.
    assert status_label(U, datetime(2026, 12, 6, 23, 30, tzinfo=UTC), NOW, paris) == "Aujourd'hui"
    assert status_label(U, datetime(2026, 12, 6, 22, 30, tzinfo=UTC), NOW, paris) == "À renseigner"
    assert status_label(U, NOW + timedelta(days=1), NOW, paris) == "À venir"
    assert status_label(U, NOW - timedelta(hours=1), NOW, paris) == "Aujourd'hui"
    # 20:00 UTC on the 7th is already the 8th in La Réunion.
    assert status_label(U, datetime(2026, 12, 7, 20, 30, tzinfo=UTC), NOW, "Indian/Reunion") == "À venir"
    assert status_label("revoked", NOW, NOW, paris) == "Annulé (par le service)"
    assert status_label(SEEN, NOW - timedelta(days=3), NOW, paris) == "Rendez-vous honoré"
