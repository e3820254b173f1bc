"""The JAX backend: ``backend=jax``, and the label of any fence that computes with it.

``xp`` is ``jax.numpy`` (JAX's own array-API namespace); ``backend.device`` is JAX's first
device (a GPU where jaxlib has CUDA, else the CPU). ``backend=auto`` never picks JAX; a fence
that computes with it is labelled with it (its tracker reads the JAX arrays a fence binds or
displays). JAX dispatches asynchronously, so benchmarks time each call up to
``jax.block_until_ready`` on its result.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from execblog.engine.backends import (
    ArrayBackend,
    BackendCandidate,
    BackendUnavailable,
    Timing,
    WallClock,
    cpu_name,
    shallow_values,
)
from execblog.engine.hookspecs import hookimpl

NAME = "jax"
PRETTY = "JAX"


@dataclass(frozen=True)
class BlockUntilReady:
    """Wall-clock time of each call up to ``jax.block_until_ready`` on its result."""

    name: str = "jax-block-until-ready"
    description: str = "wall-clock time.perf_counter up to jax.block_until_ready"

    def __call__(self, thunk: Callable[[], Any], *, budget: float, warmup: int,
                 min_repeats: int) -> Timing:
        import jax

        return WallClock()(lambda: jax.block_until_ready(thunk()), budget=budget,
                           warmup=warmup, min_repeats=min_repeats)


def _installed() -> bool:
    return importlib.util.find_spec("jax") is not None


def _to_numpy(array: Any) -> Any:
    import numpy

    return numpy.asarray(array)


def backend_on(jax: Any, device: Any) -> ArrayBackend:
    """The JAX backend on ``device`` (a ``jax.Device``)."""
    import numpy

    gpu = device.platform in ("gpu", "cuda", "rocm")
    versions = {"NumPy": numpy.__version__, PRETTY: jax.__version__}
    return ArrayBackend(
        name=NAME, xp=jax.numpy, device=str(device.device_kind) if gpu else cpu_name(),
        versions=versions, is_gpu=gpu, to_numpy=_to_numpy, pretty=PRETTY,
        timer=BlockUntilReady(), where="" if gpu else "CPU", array_device=device,
    )


def _probe() -> ArrayBackend:
    try:
        import jax
        import jax.numpy as jnp
    except Exception as exc:
        raise BackendUnavailable(f"JAX does not import: {exc}") from exc
    try:
        device = jax.devices()[0]
        total = int(jnp.arange(8).sum())
    except Exception as exc:
        raise BackendUnavailable(f"a test kernel failed: {exc}") from exc
    if total != 28:
        raise BackendUnavailable(f"a test kernel gave a wrong result ({total} != 28)")
    return backend_on(jax, device)


class JaxTracker:
    """Which devices JAX computed on in a fence: those of the JAX arrays it bound or
    displayed."""

    def start(self) -> None:
        return None

    def finish(self, values: Sequence[Any]) -> list[dict[str, Any]]:
        jax = sys.modules.get("jax")
        if jax is None:
            return []
        records: dict[str, dict[str, Any]] = {}
        for value in shallow_values(values):
            if isinstance(value, jax.Array):
                for device in value.devices():
                    records.setdefault(device.platform, backend_on(jax, device).describe())
        return list(records.values())

    def synchronize(self) -> None:
        return None  # a JAX computation's errors surface where its value is read


@hookimpl
def fences_backend_candidates() -> list[BackendCandidate]:
    return [BackendCandidate(name=NAME, pretty=PRETTY, preference=-10, installed=_installed,
                             probe=_probe, gpu=True, tracker=JaxTracker)]
