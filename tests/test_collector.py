"""The objects alive at start are kept out of the collector's full walks (`bot.collector`)."""

from __future__ import annotations

import gc

from bot.collector import freeze_startup_objects


def test_the_objects_alive_at_start_are_frozen_and_later_garbage_still_collected() -> None:
    try:
        freeze_startup_objects()
        frozen = gc.get_freeze_count()
        assert frozen > 1000  # modules, PTB, SQLAlchemy: the start-up's objects
        cycle: list[object] = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1  # garbage made after the freeze is found as before
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
