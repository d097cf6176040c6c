"""Paging the weeks of slots on the usagers' booking page without working the whole page out again.

The page works out every step from its address. A change of week (« Semaine suivante », « Semaine
précédente », « Prochaine disponibilité ») changes only `semaine`: what came before the week (the place,
the address, the motif, the lieu) was found by the walk of the previous address, and only the week is
read again. That walk is trusted for `REUSE_SECONDS` at most; after that, and for any other change, the
whole page is worked out again (a motif or a lieu closed meanwhile is noticed there). A chosen slot
changes `creneau`, so a booking always walks the whole page and its recap re-checks everything.
"""

from __future__ import annotations

from collections.abc import Mapping

REUSE_SECONDS = 60.0
WEEK_PARAM = "semaine"


def only_week_changed(before_path: str, before_query: Mapping[str, str], path: str,
                      query: Mapping[str, str]) -> bool:
    """Whether the address `path?query` differs from `before_path?before_query` by the week alone: same
    path, every other parameter equal (none added, none dropped), and another `semaine`. The same address
    again (a reload) is not a change of week: it asks for the whole page."""
    if path != before_path or query.get(WEEK_PARAM, "") == before_query.get(WEEK_PARAM, ""):
        return False
    others = {name: value for name, value in query.items() if name != WEEK_PARAM}
    return others == {name: value for name, value in before_query.items() if name != WEEK_PARAM}


def walk_still_fresh(walked_at: float, now: float) -> bool:
    """Whether a walk of the page done at `walked_at` (seconds, the clock's `timestamp`) may still be
    trusted at `now`: for `REUSE_SECONDS`, and never when the clock went back."""
    return 0 <= now - walked_at <= REUSE_SECONDS
