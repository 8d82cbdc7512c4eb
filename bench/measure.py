"""Timing helpers for the benchmark: medians and 99th percentiles of per-update times, rates,
and the process's resident memory (now, at its peak, and its child processes')."""

from __future__ import annotations

import gc
import glob
import os
import resource
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass


@dataclass
class Stats:
    name: str
    runs: int
    median_ms: float
    p99_ms: float
    mean_ms: float
    per_second: float
    ratio_to_baseline: float | None = None
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def stats(name: str, samples: list[float], note: str = "") -> Stats:
    """Samples are seconds per update."""
    mean = statistics.fmean(samples)
    return Stats(
        name=name,
        runs=len(samples),
        median_ms=statistics.median(samples) * 1000,
        p99_ms=percentile(samples, 0.99) * 1000,
        mean_ms=mean * 1000,
        per_second=1 / mean if mean else 0.0,
        note=note,
    )


async def timed(
    name: str,
    step: Callable[[int], Awaitable[object]],
    runs: int,
    *,
    prepare: Callable[[int], Awaitable[object]] | None = None,
    warmup: int = 3,
    note: str = "",
) -> Stats:
    """Run `step(i)` `runs` times (after a few warm-up runs), timing only the step itself."""
    return stats(name, await samples_of(step, runs, prepare=prepare, warmup=warmup), note)


async def samples_of(
    step: Callable[[int], Awaitable[object]],
    runs: int,
    *,
    prepare: Callable[[int], Awaitable[object]] | None = None,
    warmup: int = 3,
    first: int = 0,
) -> list[float]:
    """Seconds taken by `step(first)` ... `step(first + runs - 1)`, after a few warm-up runs."""
    for i in range(warmup):
        if prepare is not None:
            await prepare(-1 - i)
        await step(-1 - i)
    gc.collect()  # start without the garbage of what ran before
    samples: list[float] = []
    for i in range(first, first + runs):
        if prepare is not None:
            await prepare(i)
        start = time.perf_counter()
        await step(i)
        samples.append(time.perf_counter() - start)
    return samples


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def current_rss_mb() -> float:
    """Resident memory now (Linux), the figure a host's memory limit applies to."""
    try:
        for line in open("/proc/self/status").read().splitlines():  # noqa: SIM115
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_rss_mb()


def _rss_mb_of(pid: int | str) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:  # gone meanwhile
        pass
    return 0.0


def children_rss_mb() -> float:
    """Resident memory of the process's live child processes, summed (Linux; 0 elsewhere): a
    worker process that stayed would hold memory the bot's own figure does not show."""
    children: set[str] = set()
    for task in glob.glob(f"/proc/{os.getpid()}/task/*/children"):  # each thread's children
        try:
            with open(task) as listing:
                children.update(listing.read().split())
        except OSError:
            continue
    return sum(_rss_mb_of(pid) for pid in children)
