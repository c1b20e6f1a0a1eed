"""Timing loops, percentiles and the markdown rows of the benchmarks' reports."""
from __future__ import annotations

import statistics
import time
from typing import Callable, Sequence

QUANTILES_HEADER = "| {what} | n | p50 (ms) | p90 (ms) | p99 (ms) |\n|---|---|---|---|---|"


def percentile(values: Sequence[float], q: float) -> float:
    """The value at quantile q (0..1) of the sorted values: the nearest index, no interpolation."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def timed_ms(call: Callable[[int], object], runs: int, warmup: int = 0) -> list[float]:
    """Milliseconds of each of `runs` calls after `warmup` untimed ones; each call gets its running number."""
    for i in range(warmup):
        call(i)
    times = []
    for i in range(warmup, warmup + runs):
        started = time.perf_counter()
        call(i)
        times.append((time.perf_counter() - started) * 1000)
    return times


def quantiles_row(label: str, values: Sequence[float], digits: int = 2) -> str:
    """`| label | n | p50 | p90 | p99 |`, under QUANTILES_HEADER."""
    cells = " | ".join(f"{percentile(values, q):.{digits}f}" for q in (0.5, 0.9, 0.99))
    return f"| {label} | {len(values)} | {cells} |"


def spread_row(label: str, values: Sequence[float], digits: int = 3, count: bool = False) -> str:
    """`| label | median | p90 | min | max |` (with n after the label if `count`): a few runs of something slow."""
    cells = " | ".join(f"{v:.{digits}f}" for v in (statistics.median(values), percentile(values, 0.9), min(values),
                                                   max(values)))
    return f"| {label} | {len(values)} | {cells} |" if count else f"| {label} | {cells} |"
