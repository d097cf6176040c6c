"""The services an agent form's checkboxes chose ("service-<id>"), among those its page listed."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

SERVICE_PREFIX = "service-"


def chosen_services(form: Mapping[str, Any], offered: Collection[str]) -> tuple[int, ...]:
    """The ids ticked, in ascending order: anything else the browser sends is ignored."""
    return tuple(sorted(int(key.removeprefix(SERVICE_PREFIX)) for key, value in form.items()
                        if value and key.startswith(SERVICE_PREFIX) and key.removeprefix(SERVICE_PREFIX) in offered))
