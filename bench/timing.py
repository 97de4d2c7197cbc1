"""Timing for the benchmarks: the median of repeated runs after one warm-up."""

from __future__ import annotations

import statistics
import time


def median_ms(action, rounds: int = 5) -> float:
    """Run once to warm up (caches, the PDF font), then the median of `rounds` runs, in milliseconds."""
    action()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)
