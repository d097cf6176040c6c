"""FullCalendar (MIT, npm) wrapped as a Reflex component: day, week and month views in French.

Only what the agenda needs is exposed: the events of the visible range, the view, and three callbacks
(the visible range changed, an event was clicked, an empty time was clicked). The page loads events for
the range FullCalendar reports, so moving weeks never reloads the page.

FullCalendar follows most props as they change (events, hiddenDays...), but reads `now` and
`initial_date` only when it starts: render it once their values are known (the agenda waits for its
state), or give it a new `key` to start it again.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.utils.imports import ImportDict, ImportVar
from reflex.vars.base import Var
from reflex.vars.object import ObjectVar

FULLCALENDAR_VERSION = "6.1.20"
_PLUGINS = {
    "@fullcalendar/daygrid": "dayGridPlugin",
    "@fullcalendar/timegrid": "timeGridPlugin",
    "@fullcalendar/interaction": "interactionPlugin",
}


_DESCRIBE = """(info) => {
  const text = info.event.extendedProps.description;
  if (!text) { return; }
  info.el.dataset.description = text;
  const spoken = document.createElement("span");
  spoken.className = "visually-hidden";
  spoken.textContent = " (" + text + ")";
  info.el.appendChild(spoken);
}"""


# A month's day cell is named by its date (aria-labelledby its day number) while it shows that day's events too:
# its name no longer contains its visible text (WCAG 2.5.3). Named by its content instead, the day number first.
# The day and week views are as tall as the screen and their hours scroll inside: a keyboard must reach that
# scrolling area even when no event is there to tab to (WCAG 2.1.1), so the first day's column (a grid
# cell, which may take the focus inside the calendar's grid) joins the tab order; the arrows then scroll.
_DAY_CELL = """(info) => {
  if (info.el.getAttribute("role") === "gridcell") { info.el.removeAttribute("aria-labelledby"); }
  const before = info.el.previousElementSibling;
  if (info.el.classList.contains("fc-timegrid-col") && !(before && before.classList.contains("fc-day"))) {
    info.el.tabIndex = 0;
  }
}"""


def _dates_set(info: ObjectVar[dict]) -> tuple[Var[str], Var[str], Var[str]]:
    return info["startStr"].to(str), info["endStr"].to(str), info["view"].to(dict)["type"].to(str)


def _event_click(info: ObjectVar[dict]) -> tuple[Var[str]]:
    return (info["event"].to(dict)["id"].to(str),)


def _date_click(info: ObjectVar[dict]) -> tuple[Var[str], Var[bool]]:
    return info["dateStr"].to(str), info["allDay"].to(bool)


class FullCalendar(rx.Component):
    library = f"@fullcalendar/react@{FULLCALENDAR_VERSION}"
    tag = "FullCalendar"
    is_default = True
    lib_dependencies: list[str] = [
        f"@fullcalendar/core@{FULLCALENDAR_VERSION}",
        *(f"{package}@{FULLCALENDAR_VERSION}" for package in _PLUGINS),
    ]

    initial_view: rx.Var[str]
    initial_date: rx.Var[str]
    now: rx.Var[str]
    events: rx.Var[list[dict[str, Any]]]
    time_zone: rx.Var[str]
    weekends: rx.Var[bool]
    hidden_days: rx.Var[list[int]]
    slot_min_time: rx.Var[str]
    slot_max_time: rx.Var[str]
    scroll_time: rx.Var[str]
    height: rx.Var[str]
    now_indicator: rx.Var[bool]
    all_day_slot: rx.Var[bool]
    header_toolbar: rx.Var[dict[str, str]]
    button_text: rx.Var[dict[str, str]]
    button_icons: rx.Var[bool]
    event_time_format: rx.Var[dict[str, Any]]

    # Reflex's way to declare a trigger's arguments: a function as the type argument (not a type to mypy).
    dates_set: rx.EventHandler[_dates_set]  # type: ignore[type-arg, valid-type]
    event_click: rx.EventHandler[_event_click]  # type: ignore[type-arg, valid-type]
    date_click: rx.EventHandler[_date_click]  # type: ignore[type-arg, valid-type]

    def add_imports(self) -> ImportDict:
        imports: ImportDict = {
            f"{package}@{FULLCALENDAR_VERSION}": [ImportVar(tag=name, is_default=True)]
            for package, name in _PLUGINS.items()
        }
        imports["@fullcalendar/core/locales/fr"] = [ImportVar(tag="frLocale", is_default=True)]
        return imports

    @classmethod
    def create(cls, *children: Any, **props: Any) -> FullCalendar:
        props.setdefault("initial_view", "timeGridWeek")
        # Text buttons ("Précédent", "Suivant"): FullCalendar's icon spans have role="img" without a name.
        props.setdefault("button_icons", False)
        # "09:00" and "09:30" in every view (FullCalendar's French default mixes "9 h" and "9:30").
        props.setdefault("event_time_format", {"hour": "2-digit", "minute": "2-digit", "hour12": False})
        props.setdefault("header_toolbar", {"left": "prev,next today", "center": "title",
                                            "right": "timeGridDay,timeGridWeek,dayGridMonth"})
        component = super().create(*children, **props)
        # Imported JS identifiers and a function, not serialisable values: spread into the props object as is.
        # Each event's `description` (extendedProps) becomes its tooltip (styles.css) and, for screen
        # readers, the end of its link's name.
        component.special_props = [Var(_js_expr=f"{{plugins: [{', '.join(_PLUGINS.values())}], locale: frLocale, "
                                                f"eventDidMount: {_DESCRIBE}, dayCellDidMount: {_DAY_CELL}}}")]
        return component


fullcalendar = FullCalendar.create
