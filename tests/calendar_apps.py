"""Reading our ICS as other calendar software does (vobject), one file at a time.

vobject keeps, for the whole process, the first VTIMEZONE it read for each TZID
(`vobject.icalendar.registerTzid`): an earlier file's Europe/Paris, whose transitions cover only its own
dates, would then place another file's summer times in winter time. Each read here forgets them first,
as a calendar application opening one file would.
"""

from __future__ import annotations

from typing import Any

import vobject
import vobject.icalendar


def read_with_vobject(text: str) -> Any:
    registered = vars(vobject.icalendar)["__tzidMap"]
    for tzid in [tzid for tzid in registered if tzid != "UTC"]:
        del registered[tzid]
    return vobject.readOne(text)
