"""The CuPy backend: picked by ``backend=auto`` only when a GPU really works.

The probe imports CuPy, asks ``cupy.is_available()`` and runs a tiny kernel; it runs in a
worker process, never in Pelican's (which must not initialise CUDA). Benchmarks on it are
timed with CUDA events (``cupyx.profiler.benchmark``).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from execblog.engine.backends import (
    MAX_REPEATS,
    ArrayBackend,
    BackendCandidate,
    BackendUnavailable,
    Timing,
    shallow_values,
)
from execblog.engine.hookspecs import hookimpl

PRETTY = "CuPy"


@dataclass(frozen=True)
class CudaEvents:
    """GPU time per call from CUDA events recorded around each call (cupyx.profiler)."""

    name: str = "cuda-events"
    description: str = "CUDA events (cupyx.profiler.benchmark)"

    def __call__(
        self, thunk: Callable[[], Any], *, budget: float, warmup: int, min_repeats: int
    ) -> Timing:
        from cupyx.profiler import benchmark

        # ``name`` is given: without it cupyx reads ``thunk.__name__``, which a
        # functools.partial or a callable object does not have
        result = benchmark(thunk, name="fence", n_repeat=MAX_REPEATS, n_warmup=warmup,
                           max_duration=budget)
        samples = [float(t) for t in result.gpu_times[0]]
        if len(samples) < min_repeats:  # the budget ran out first: top up to the minimum
            more = benchmark(thunk, name="fence", n_repeat=min_repeats - len(samples),
                             n_warmup=0)
            samples += [float(t) for t in more.gpu_times[0]]
        return Timing(samples, 1)


def _installed() -> bool:
    return importlib.util.find_spec("cupy") is not None


def _probe() -> ArrayBackend:
    try:
        import cupy
    except Exception as exc:  # ImportError, or a CUDA library missing at import
        raise BackendUnavailable(f"CuPy does not import: {exc}") from exc
    if not cupy.is_available():
        raise BackendUnavailable("CuPy is installed but no usable CUDA device was found")
    try:
        total = int(cupy.arange(8, dtype=cupy.int32).sum())
        cupy.cuda.Stream.null.synchronize()
    except Exception as exc:
        raise BackendUnavailable(f"a test kernel failed on the GPU: {exc}") from exc
    if total != 28:
        raise BackendUnavailable(f"a test kernel gave a wrong result ({total} != 28)")
    return backend_on(cupy)


def backend_on(cupy: Any) -> ArrayBackend:
    """The CuPy backend on the current device (no kernel run)."""
    import numpy

    device = cupy.cuda.Device()
    props = cupy.cuda.runtime.getDeviceProperties(device.id)
    name = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
    versions = {"NumPy": numpy.__version__, PRETTY: cupy.__version__}
    try:
        versions["CUDA runtime"] = _cuda_version(cupy.cuda.runtime.runtimeGetVersion())
        versions["CUDA driver"] = _cuda_version(cupy.cuda.runtime.driverGetVersion())
    except Exception:
        pass
    return ArrayBackend(
        name="cupy",
        xp=cupy,
        device=name,
        versions=versions,
        is_gpu=True,
        to_numpy=cupy.asnumpy,
        synchronize=cupy.cuda.Stream.null.synchronize,
        pretty=PRETTY,
        timer=CudaEvents(),
        array_device=device,
    )


class CupyTracker:
    """Whether CuPy computed in a fence that did not go through ``xp``: the CuPy arrays it
    bound or displayed."""

    def start(self) -> None:
        return None

    def finish(self, values: Sequence[Any]) -> list[dict[str, Any]]:
        cupy = sys.modules.get("cupy")
        if cupy is None:
            return []
        if any(isinstance(v, cupy.ndarray) for v in shallow_values(values)):
            return [backend_on(cupy).describe()]
        return []

    def synchronize(self) -> None:
        cupy = sys.modules.get("cupy")
        if cupy is not None:
            cupy.cuda.runtime.deviceSynchronize()


def _cuda_version(code: int) -> str:
    return f"{code // 1000}.{(code % 1000) // 10}"


@hookimpl
def fences_backend_candidates() -> list[BackendCandidate]:
    return [BackendCandidate(name="cupy", pretty=PRETTY, preference=10, installed=_installed,
                             probe=_probe, gpu=True, tracker=CupyTracker)]
