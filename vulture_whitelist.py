"""Names vulture cannot see used: read through `dataclasses.asdict`, or by a library."""

from bench.measure import Stats
from tests.offline import OfflineRequest

_used = (
    Stats.p99_ms,  # the benchmark's results, written as JSON
    Stats.mean_ms,
    Stats.per_second,
    Stats.ratio_to_baseline,
    OfflineRequest.read_timeout,  # PTB's BaseRequest interface, and do_request's arguments
    OfflineRequest.write_timeout,
    OfflineRequest.connect_timeout,
    OfflineRequest.pool_timeout,
)
