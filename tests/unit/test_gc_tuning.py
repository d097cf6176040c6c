"""What start-up leaves alive is frozen out of later collections; what comes afterwards is collected."""

from __future__ import annotations

import gc

from rdv_app.gc_tuning import freeze_startup_objects


def test_objects_alive_after_start_up_are_frozen_and_later_garbage_is_still_collected():
    try:
        freeze_startup_objects()
        frozen = gc.get_freeze_count()
        assert frozen > 1000
        cycle: list[object] = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
