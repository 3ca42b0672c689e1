"""Measuring: median wall times, side-by-side rounds whose ratios cancel machine drift, and
FLOP counts."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_time(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Median wall time of ``fn`` over ``repeats`` runs, after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def count_flops(fn: Callable[[], object]) -> int:
    """FLOPs of one call of ``fn`` (eager), as PyTorch's FlopCounterMode counts them
    (convolutions and matrix products, 2 per multiply-add)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def alternate(fns: list[Callable[[], object]], rounds: int) -> list[list[float]]:
    """Wall times of ``fns``, run one after another in each of ``rounds`` rounds after a
    warm-up run each: drift in this machine's speed (within seconds) then hits them alike,
    and a ratio taken within each round cancels it."""
    for fn in fns:
        fn()
    return [[median_time(fn, 1, 0) for fn in fns] for _ in range(rounds)]


def round_ratio(rounds: list[list[float]]) -> float:
    """The median over rounds of the first time over the second."""
    return statistics.median(a / b for a, b in rounds)
