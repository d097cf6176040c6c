"""The weeks and months of the statistics (rdv_app.domain.stats_weeks) and what the pages make of them
(rdv_app.state.stats.chart_view): Monday weeks on the organisation's wall clock across DST changes, cut
to the period, French labels, the table and the summary that carry a chart's numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from rdv_app.domain import stats_weeks
from rdv_app.domain.stats_weeks import PeriodError
from rdv_app.services.stats import AgentActivity, Series, WeeklyCounts
from rdv_app.state.stats import activity_lines, chart_view


def test_weeks_start_on_monday_at_local_midnight_across_the_end_of_summer_time() -> None:
    weeks = stats_weeks.weeks(date(2026, 10, 21), date(2026, 11, 3), "Europe/Paris")
    assert [w.label for w in weeks] == ["Semaine du 19/10/2026", "Semaine du 26/10/2026", "Semaine du 02/11/2026"]
    # The first week starts on the period's first day, the last ends with its last day.
    assert weeks[0].starts_at == datetime(2026, 10, 20, 22, tzinfo=UTC)  # 21 October, 00:00 summer time
    assert weeks[0].ends_at == weeks[1].starts_at == datetime(2026, 10, 25, 23, tzinfo=UTC)  # winter time
    assert weeks[1].ends_at - weeks[1].starts_at == timedelta(days=7)
    assert weeks[2].ends_at == datetime(2026, 11, 3, 23, tzinfo=UTC)
    # The week of the change lasts 169 hours.
    full = stats_weeks.weeks(date(2026, 10, 19), date(2026, 10, 25), "Europe/Paris")
    assert full[0].ends_at - full[0].starts_at == timedelta(hours=169)


def test_weeks_follow_the_organisations_time_zone() -> None:
    [week] = stats_weeks.weeks(date(2026, 3, 23), date(2026, 3, 29), "Indian/Reunion")
    assert week.starts_at == datetime(2026, 3, 22, 20, tzinfo=UTC)
    assert week.ends_at - week.starts_at == timedelta(days=7)  # no DST in La Réunion


def test_days_are_local_days_and_the_change_of_time_lasts_25_hours() -> None:
    days = stats_weeks.days(date(2026, 10, 24), date(2026, 10, 26), "Europe/Paris")
    assert [d.label for d in days] == ["24/10/2026", "25/10/2026", "26/10/2026"]
    assert days[1].starts_at == datetime(2026, 10, 24, 22, tzinfo=UTC)
    assert days[1].ends_at - days[1].starts_at == timedelta(hours=25)
    daily = chart_view("canal", "Notifications par canal", WeeklyCounts(days, [Series("sms", "SMS")], [[1], [0], [2]]),
                       unit="notification(s)", by_day=True)
    assert daily.headers == ["Jour", "SMS", "Total"]
    assert daily.summary == "Notifications par canal : 3 notification(s) en 3 jours (SMS : 3)."


def test_the_agents_activity_reads_today_next_to_30_days_ago() -> None:
    lines = activity_lines(AgentActivity(8, 6, 4, 2, 3), AgentActivity(0, 0, 0, 0, 0))
    assert [(line.label, line.today, line.month_ago) for line in lines] == [
        ("Agents invités", "8", "0"),
        ("Agents ayant accepté leur invitation", "6 (75 %)", "0"),
        ("Agents ayant au moins un RDV", "4 (50 %)", "0"),
        ("Agents ayant un RDV créé dans les 30 jours précédents", "2 (25 %)", "0"),
        ("Agents ayant des créneaux ouverts au public", "3", "0")]


def test_months_and_refused_periods() -> None:
    months = stats_weeks.months(date(2026, 10, 15), date(2026, 12, 6), "Europe/Paris")
    assert [m.label for m in months] == ["octobre 2026", "novembre 2026", "décembre 2026"]
    assert months[0].starts_at == datetime(2026, 10, 14, 22, tzinfo=UTC)
    assert months[1].starts_at == datetime(2026, 10, 31, 23, tzinfo=UTC)
    with pytest.raises(PeriodError, match="après la date de début"):
        stats_weeks.weeks(date(2026, 10, 2), date(2026, 10, 1), "Europe/Paris")
    with pytest.raises(PeriodError, match="deux ans"):
        stats_weeks.weeks(date(2024, 9, 1), date(2026, 10, 1), "Europe/Paris")


def test_a_chart_carries_its_numbers_as_a_table_and_a_summary() -> None:
    weeks = stats_weeks.weeks(date(2026, 10, 19), date(2026, 11, 1), "Europe/Paris")
    counts = WeeklyCounts(weeks, [Series("seen", "Vu(s)"), Series("noshow", "Non excusé(s)")], [[3, 1], [0, 0]])
    chart = chart_view("statut", "RDV par statut", counts, shares=True)
    assert chart.title == "RDV par statut (4)"
    assert chart.headers == ["Semaine", "Vu(s)", "Non excusé(s)", "Total"]
    assert chart.rows == [["Semaine du 19/10/2026", "3 (75 %)", "1 (25 %)", "4"],
                          ["Semaine du 26/10/2026", "0 (0 %)", "0 (0 %)", "0"]]
    assert chart.data[0] == {"semaine": "Semaine du 19/10/2026", "s0": 75.0, "s1": 25.0}
    assert chart.summary.startswith("RDV par statut : 4 RDV en 2 semaines (Vu(s) : 3, Non excusé(s) : 1).")
    empty = chart_view("origine", "RDV créés", WeeklyCounts(weeks, [Series("agent", "Agent")], [[0], [0]]))
    assert empty.empty and empty.summary == "RDV créés : aucun RDV sur la période."
