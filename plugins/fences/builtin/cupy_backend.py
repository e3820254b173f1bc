"""The CuPy backend: picked by ``backend=auto`` only when a GPU really works.

The probe imports CuPy, asks ``cupy.is_available()`` and runs a tiny kernel; it runs in a
worker process, never in Pelican's (which must not initialise CUDA).
"""

from __future__ import annotations

import importlib.util

from ..backends import ArrayBackend, BackendCandidate, BackendUnavailable
from ..hookspecs import hookimpl


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
    device = cupy.cuda.Device()
    props = cupy.cuda.runtime.getDeviceProperties(device.id)
    name = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
    versions = {"cupy": cupy.__version__}
    try:
        versions["cuda-runtime"] = _cuda_version(cupy.cuda.runtime.runtimeGetVersion())
        versions["cuda-driver"] = _cuda_version(cupy.cuda.runtime.driverGetVersion())
    except Exception:
        pass
    import numpy

    versions["numpy"] = numpy.__version__
    return ArrayBackend(
        name="cupy",
        xp=cupy,
        device=name,
        versions=versions,
        is_gpu=True,
        to_numpy=cupy.asnumpy,
        synchronize=cupy.cuda.Stream.null.synchronize,
    )


def _cuda_version(code: int) -> str:
    return f"{code // 1000}.{(code % 1000) // 10}"


@hookimpl
def fences_backend_candidates() -> list[BackendCandidate]:
    return [BackendCandidate(name="cupy", preference=10, installed=_installed, probe=_probe)]
