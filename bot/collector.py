"""The garbage collector, told which objects are the process's for good.

CPython's full collection walks every tracked object, and a running bot holds hundreds of
thousands from its start (modules, PTB's and SQLAlchemy's machinery, the catalogs) that never
become garbage. Under a burst of updates, full collections come every few seconds, and each
walk of those objects stopped the event loop for 50-130 ms: every send waiting for Telegram's
window then left that much later, and so did every window chained to it. `gc.freeze()` moves
the objects alive at start to a generation the collector never walks (the standard library's
advice for long-running servers); garbage made later is collected as before.
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Collect what start-up left behind, then keep the collector off everything still alive."""
    gc.collect()
    gc.freeze()
