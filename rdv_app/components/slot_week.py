"""A week of bookable start times, phone first: the days one under the other, each start a link (the
choice rides in the address, so the back button and a reload keep it). Used by online booking and by
"Changer la date"; `days` is a list of objects with `label`, `closed` and `times` (each with `label` and
`value`), as the booking state's `DayView` and `TimeButton`: each start's link is `slot_base_href` followed by
its `value`, and its accessible name "<day> à <time>", both joined here in the browser (a week sends little).

The links to other weeks may also run an event on a plain click (`rdv_app.components.in_place`): the page
then shows the week without navigating, as one event, and keeps the link for a new tab, a copied address or
no script."""

from __future__ import annotations

from typing import Any

import reflex as rx

from rdv_app import styles
from rdv_app.components.in_place import plain_click

# A start of the week, also the look of the booking page's button links.
BUTTON_LINK = styles.hover_tinted({
    "display": "inline-block", "padding": "0.7rem 0.9rem", "border_radius": "0.4rem", "background": styles.var("blue"),
    "color": styles.var("on-colour"), "font_weight": "600", "text_decoration": "none", "min_width": "4.5rem",
    "text_align": "center", "_hover": {"color": styles.var("on-colour"), "background": styles.var("blue-hover")}})


def styled_link(*children: Any, style: dict[str, Any], **props: Any) -> rx.Component:
    """`rx.link` in `style`, its hover included: Radix's link sets its own `_hover` (the accent colour, 2.5:1 on
    the blue of a time) as a prop, which wins over the `_hover` of a `style`; given as a prop, ours is kept."""
    plain = {name: value for name, value in style.items() if name != "_hover"}
    return rx.link(*children, style=plain, _hover=style.get("_hover", {}), **props)


def heading_case(label: rx.Var[str]) -> rx.Var[str]:
    """A day's label as in a sentence ("lundi 7 décembre") with its first letter capitalised, for its heading."""
    text = label.to(str)
    return text[:1].upper() + text[1:]


def time_link(base_href: rx.Var[str], day_label: rx.Var[str], button: Any, style: dict[str, Any]) -> rx.Component:
    """A start of the week: its link is the week's `base_href` followed by the start's value, its accessible
    name "lundi 7 décembre à 09h30"."""
    return rx.el.li(styled_link(button.label, href=base_href + button.value.to(str),
                                aria_label=day_label.to(str) + " à " + button.label.to(str), style=style))


def slot_week(*, title: rx.Var[str], days: Any, slot_base_href: rx.Var[str], previous_href: rx.Var[str],
              next_href: rx.Var[str], is_empty: rx.Var[bool], following_href: rx.Var[str],
              following_label: rx.Var[str], on_week: Any = None) -> rx.Component:
    """The week's heading, its previous and next links, and its days; an empty week names the next
    availability (`following_label`, a link to `following_href`) or says there is none. With `on_week` (an
    event handler taking "previous", "next" or "following"), a plain click on these links runs it instead of
    navigating."""

    def week_link(label: Any, href: rx.Var[str], which: str, **style: Any) -> rx.Component:
        clicked = {"on_click": plain_click(on_week(which))} if on_week is not None else {}
        return rx.link(label, href=href, **clicked, **style)

    def day(view: Any) -> rx.Component:
        return rx.el.section(
            rx.heading(heading_case(view.label), as_="h3", size="3"),
            rx.cond(view.closed, rx.text("Fermé à la réservation en ligne", color=styles.var("text-muted")),
                    # In rx.foreach, `view.times` is already a Var: Var.create returns it as is, typed for mypy.
                    rx.cond(rx.Var.create(view.times).length() > 0,
                            rx.el.ul(rx.foreach(view.times,
                                                lambda button: time_link(slot_base_href, view.label, button,
                                                                         BUTTON_LINK)),
                                     style={"list_style": "none", "padding": 0, "margin": "0.5rem 0 0",
                                            "display": "flex", "flex_wrap": "wrap", "gap": "0.5rem"}),
                            rx.text("Aucun créneau disponible", color=styles.var("text-muted")))),
            style={"padding": "0.75rem 0", "border_bottom": f"1px solid {styles.var('border')}"},
        )

    return rx.fragment(
        # A live region: a week shown in place (`on_week`) is announced by its title, as a new page would be.
        rx.box(rx.heading(title, as_="h3", size="4"), aria_live="polite", aria_atomic="true"),
        rx.hstack(
            rx.cond(previous_href != "", week_link("← Semaine précédente", previous_href, "previous"), rx.el.span()),
            rx.cond(next_href != "", week_link("Semaine suivante →", next_href, "next"), rx.el.span()),
            justify="between", width="100%",
        ),
        rx.cond(is_empty,
                rx.box(rx.text("Aucun créneau disponible cette semaine."),
                       rx.cond(following_href != "", week_link(following_label, following_href, "following", font_weight="600"),
                               rx.text("Pas d'autre créneau ouvert à la réservation en ligne : consultez les semaines "
                                       "précédentes ou contactez l'organisation.")),
                       role="status"),
                rx.fragment()),
        rx.box(rx.foreach(days, day), width="100%"),
    )
