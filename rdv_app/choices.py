"""What a select or a group of checkboxes offers. States fill lists of `Option` and components show them:
both import it from here, so that neither imports the other."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Option:
    value: str  # what the browser sends back
    label: str  # what the person reads
    group: str = ""  # e.g. the service of a motif, to narrow a second select
