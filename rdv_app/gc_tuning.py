"""The garbage collector in a long-running process (the app, an external worker).

What start-up builds (modules, SQLAlchemy mappers, compiled pages and routes, the models' metadata) lives
as long as the process, yet every full collection would walk through it again: hundreds of thousands of
objects, paid by whichever request happens to trigger the collection. Freezing them once start-up is
done moves them out of the collector's generations; objects made afterwards are collected as usual.
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Collects start-up's garbage, then exempts everything still alive from later collections.

    Call it once, when the process has finished starting (the app: as a lifespan task registered last)."""
    gc.collect()
    gc.freeze()
