"""The FullCalendar wrapper renders the props FullCalendar expects (its own names, not React's on*)."""

from __future__ import annotations

import reflex as rx

from rdv_app.components.calendar import FULLCALENDAR_VERSION, fullcalendar


class _CalendarProbe(rx.State):
    @rx.event
    def range_changed(self, start: str, end: str, view: str) -> None:
        pass

    @rx.event
    def opened(self, event_id: str) -> None:
        pass


def test_callbacks_and_plugins_are_wired_with_fullcalendar_names() -> None:
    calendar = fullcalendar(events=[], time_zone="Europe/Paris", dates_set=_CalendarProbe.range_changed,
                            event_click=_CalendarProbe.opened)
    rendered = str(calendar)
    assert "datesSet:" in rendered and "eventClick:" in rendered
    assert "onDatesSet" not in rendered
    assert "plugins: [dayGridPlugin, timeGridPlugin, interactionPlugin], locale: frLocale" in rendered
    assert 'initialView:"timeGridWeek"' in rendered
    imports = calendar._get_all_imports()
    assert "@fullcalendar/core/locales/fr" in imports
    assert f"@fullcalendar/core@{FULLCALENDAR_VERSION}" in calendar.lib_dependencies
