"""Which change of the booking page's address is a change of week only (services.online_booking.week_paging)."""

from __future__ import annotations

from rdv_app.services.online_booking.week_paging import REUSE_SECONDS, only_week_changed, walk_still_fresh

PATH = "/prendre_rdv"
SHOWN = {"departement": "62", "motif": "consultation", "m": "4", "lieu": "7", "semaine": "2026-12-07"}


def test_another_week_alone_is_a_change_of_week() -> None:
    assert only_week_changed(PATH, SHOWN, PATH, {**SHOWN, "semaine": "2026-12-14"})
    without_week = {k: v for k, v in SHOWN.items() if k != "semaine"}
    assert only_week_changed(PATH, without_week, PATH, SHOWN)  # the first « Semaine suivante »
    assert only_week_changed(PATH, SHOWN, PATH, without_week)  # back to this week


def test_the_same_address_again_is_not_a_change_of_week() -> None:
    assert not only_week_changed(PATH, SHOWN, PATH, dict(SHOWN))
    without_week = {k: v for k, v in SHOWN.items() if k != "semaine"}
    assert not only_week_changed(PATH, without_week, PATH, {**without_week, "semaine": ""})
    assert not only_week_changed(PATH, {}, PATH, {})


def test_any_other_change_is_not_a_change_of_week() -> None:
    week = {**SHOWN, "semaine": "2026-12-14"}
    assert not only_week_changed(PATH, SHOWN, "/org/3", week)
    assert not only_week_changed(PATH, SHOWN, PATH, {**week, "lieu": "8"})
    assert not only_week_changed(PATH, SHOWN, PATH, {**week, "m": "5"})
    assert not only_week_changed(PATH, SHOWN, PATH, {**week, "creneau": "2026-12-14T08:00:00+00:00"})
    assert not only_week_changed(PATH, SHOWN, PATH, {**week, "indisponible": "1"})  # a parameter added
    assert not only_week_changed(PATH, SHOWN, PATH, {k: v for k, v in week.items() if k != "lieu"})  # dropped


def test_a_walk_is_trusted_for_a_minute_and_never_when_the_clock_went_back() -> None:
    walked_at = 1_800_000_000.0
    assert walk_still_fresh(walked_at, walked_at)
    assert walk_still_fresh(walked_at, walked_at + REUSE_SECONDS)
    assert REUSE_SECONDS == 60
    assert not walk_still_fresh(walked_at, walked_at + REUSE_SECONDS + 0.5)
    assert not walk_still_fresh(walked_at, walked_at - 1)
