"""The NumPy backend: always available, the fallback for ``backend=auto``."""

from __future__ import annotations

import importlib.util

from ..backends import ArrayBackend, BackendCandidate, cpu_name
from ..hookspecs import hookimpl


def _probe() -> ArrayBackend:
    import numpy

    return ArrayBackend(
        name="numpy",
        xp=numpy,
        device=cpu_name(),
        versions={"numpy": numpy.__version__},
        to_numpy=numpy.asarray,
    )


@hookimpl
def fences_backend_candidates() -> list[BackendCandidate]:
    return [
        BackendCandidate(
            name="numpy",
            preference=0,
            installed=lambda: importlib.util.find_spec("numpy") is not None,
            probe=_probe,
        )
    ]
