"""The NumPy backend: always available, the fallback for ``backend=auto``."""

from __future__ import annotations

import importlib.util

from execblog.engine.backends import (
    FALLBACK_PREFERENCE,
    ArrayBackend,
    BackendCandidate,
    WallClock,
    cpu_name,
)
from execblog.engine.hookspecs import hookimpl

PRETTY = "NumPy"


def _probe() -> ArrayBackend:
    import numpy

    return ArrayBackend(
        name="numpy",
        xp=numpy,
        device=cpu_name(),
        versions={PRETTY: numpy.__version__},
        is_gpu=False,
        to_numpy=numpy.asarray,
        pretty=PRETTY,
        timer=WallClock(),
    )


@hookimpl
def fences_backend_candidates() -> list[BackendCandidate]:
    return [
        BackendCandidate(
            name="numpy",
            pretty=PRETTY,
            preference=FALLBACK_PREFERENCE,
            installed=lambda: importlib.util.find_spec("numpy") is not None,
            probe=_probe,
        )
    ]
