"""Timing one thunk: perf_counter on the CPU, CUDA events (cupyx.profiler.benchmark) on CuPy."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: CPU calls faster than this are timed in batches so the timer's own cost stays small.
BATCH_TARGET_S = 20e-6
MAX_LOOPS = 10_000
MAX_REPEATS = 10_000

PERF_COUNTER = "perf_counter"
CUDA_EVENTS = "cuda-events"


@dataclass
class Timing:
    """Seconds per call, one value per timed repeat."""

    samples: list[float]
    loops: int  # calls per repeat (>1 only for very fast CPU thunks)
    timer: str  # PERF_COUNTER or CUDA_EVENTS


def time_cpu(
    thunk: Callable[[], Any],
    *,
    budget: float,
    warmup: int,
    min_repeats: int,
    sync: Callable[[], None] = lambda: None,
) -> Timing:
    """Warm up, then time repeats until ``budget`` seconds passed and ``min_repeats`` ran."""
    for _ in range(warmup):
        thunk()
    sync()
    loops = _calibrate(thunk, sync)
    clock = time.perf_counter
    samples: list[float] = []
    start = clock()
    while len(samples) < min_repeats or (
        clock() - start < budget and len(samples) < MAX_REPEATS
    ):
        t0 = clock()
        for _ in range(loops):
            thunk()
        sync()
        samples.append((clock() - t0) / loops)
    return Timing(samples, loops, PERF_COUNTER)


def _calibrate(thunk: Callable[[], Any], sync: Callable[[], None]) -> int:
    """Calls per repeat: 1 unless one call is shorter than BATCH_TARGET_S (an extra warm-up)."""
    t0 = time.perf_counter()
    thunk()
    sync()
    one = time.perf_counter() - t0
    if one >= BATCH_TARGET_S:
        return 1
    return min(MAX_LOOPS, math.ceil(BATCH_TARGET_S / max(one, 1e-9)))


def time_cuda(
    thunk: Callable[[], Any], *, budget: float, warmup: int, min_repeats: int
) -> Timing:
    """GPU time per call from CUDA events recorded around each call (cupyx.profiler)."""
    from cupyx.profiler import benchmark as cupy_benchmark

    result = cupy_benchmark(
        thunk, n_repeat=MAX_REPEATS, n_warmup=warmup, max_duration=budget
    )
    samples = [float(t) for t in result.gpu_times[0]]
    if len(samples) < min_repeats:  # the budget ran out first: top up to the minimum
        more = cupy_benchmark(thunk, n_repeat=min_repeats - len(samples), n_warmup=0)
        samples += [float(t) for t in more.gpu_times[0]]
    return Timing(samples, 1, CUDA_EVENTS)
