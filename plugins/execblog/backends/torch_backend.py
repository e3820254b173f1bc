"""The PyTorch backend: ``backend=torch``, and the label of any fence that computes with it.

``xp`` is PyTorch's array-API namespace (``array_api_compat.torch``; PyTorch itself when
array-api-compat is missing); ``backend.device`` is the framework's device (``cuda`` when a
GPU is usable, else ``cpu``), made PyTorch's default device in the session, so ``xp.ones(3)``
and a fence's own ``torch.ones(3)`` land on it. ``backend=auto`` never picks PyTorch (its
namespace is not NumPy's); a fence under ``auto`` that computes with PyTorch is still
labelled with it: its tracker reads the tensors and modules a fence binds or displays, and
PyTorch's CUDA allocation counter. GPU benchmarks are timed with CUDA events.
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
    WallClock,
    cpu_name,
    shallow_values,
)
from execblog.engine.hookspecs import hookimpl

NAME = "torch"


def pretty(torch: Any) -> str:
    """ "PyTorch 2.5" (major.minor: the label stays put across patch releases)."""
    return "PyTorch " + ".".join(torch.__version__.split("+")[0].split(".")[:2])


@dataclass(frozen=True)
class TorchCudaEvents:
    """GPU time per call from a pair of CUDA events around each call (torch.cuda.Event)."""

    name: str = "torch-cuda-events"
    description: str = "CUDA events (torch.cuda.Event)"

    def __call__(self, thunk: Callable[[], Any], *, budget: float, warmup: int,
                 min_repeats: int) -> Timing:
        import torch

        for _ in range(warmup):
            thunk()
        torch.cuda.synchronize()
        samples: list[float] = []
        spent = 0.0
        while len(samples) < min_repeats or (spent < budget and len(samples) < MAX_REPEATS):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            thunk()
            end.record()
            end.synchronize()
            seconds = start.elapsed_time(end) / 1000.0
            samples.append(seconds)
            spent += seconds
        return Timing(samples, 1)


def _installed() -> bool:
    return importlib.util.find_spec("torch") is not None


def _warm() -> None:
    """Import PyTorch without touching CUDA (for the fork server)."""
    import torch  # noqa: F401


def _namespace(torch: Any) -> Any:
    try:
        from array_api_compat import torch as xp
    except ImportError:
        return torch
    return xp


def _to_numpy(array: Any) -> Any:
    import numpy

    if type(array).__module__.startswith("torch"):
        array = array.detach()
        if array.dtype.is_floating_point and array.element_size() < 4:
            array = array.float()  # bfloat16 and float16 have no NumPy twin everywhere
        return array.cpu().numpy()
    return numpy.asarray(array)


def backend_on(torch: Any, device_type: str) -> ArrayBackend:
    """The PyTorch backend on ``cuda`` or ``cpu`` (no kernel run)."""
    import numpy

    versions = {"NumPy": numpy.__version__, "PyTorch": torch.__version__.split("+")[0]}
    if device_type == "cuda":
        index = torch.cuda.current_device()
        if torch.version.cuda:
            versions["CUDA runtime"] = torch.version.cuda
        return ArrayBackend(
            name=NAME, xp=_namespace(torch), device=torch.cuda.get_device_name(index),
            versions=versions, is_gpu=True, to_numpy=_to_numpy,
            synchronize=torch.cuda.synchronize, pretty=pretty(torch), timer=TorchCudaEvents(),
            array_device=torch.device("cuda", index),
        )
    return ArrayBackend(name=NAME, xp=_namespace(torch), device=cpu_name(), versions=versions,
                        to_numpy=_to_numpy, pretty=pretty(torch), timer=WallClock(),
                        where="CPU", array_device=torch.device("cpu"))


def _probe() -> ArrayBackend:
    try:
        import torch
    except Exception as exc:
        raise BackendUnavailable(f"PyTorch does not import: {exc}") from exc
    device_type = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        total = int(torch.arange(8, device=device_type).sum())
    except Exception as exc:
        raise BackendUnavailable(f"a test kernel failed on {device_type}: {exc}") from exc
    if total != 28:
        raise BackendUnavailable(f"a test kernel gave a wrong result ({total} != 28)")
    if device_type == "cuda":
        torch.set_default_device(device_type)  # xp.ones(3) and torch.ones(3) land on it
    return backend_on(torch, device_type)


class TorchTracker:
    """Which devices PyTorch computed on in a fence: the tensors, modules and optimisers it
    bound or displayed, and CUDA allocations counted by PyTorch while it ran."""

    def __init__(self) -> None:
        self._allocations: int | None = None

    def start(self) -> None:
        self._allocations = _cuda_allocations()

    def finish(self, values: Sequence[Any]) -> list[dict[str, Any]]:
        torch = sys.modules.get("torch")
        if torch is None:
            return []
        devices: list[str] = []
        for value in shallow_values(values):
            found = _device_of(torch, value)
            if found and found not in devices:
                devices.append(found)
        allocations = _cuda_allocations()
        if allocations is not None and allocations != (self._allocations or 0):
            devices.append("cuda")
        return [backend_on(torch, d).describe() for d in dict.fromkeys(devices)
                if d in ("cuda", "cpu")]

    def synchronize(self) -> None:
        torch = sys.modules.get("torch")
        if torch is not None and torch.cuda.is_initialized():
            torch.cuda.synchronize()


def _device_of(torch: Any, value: Any) -> str | None:
    if isinstance(value, torch.Tensor):
        return value.device.type
    if isinstance(value, torch.nn.Module | torch.optim.Optimizer):
        params = (value.parameters() if isinstance(value, torch.nn.Module)
                  else (p for group in value.param_groups for p in group["params"]))
        first = next(iter(params), None)
        return first.device.type if first is not None else None
    return None


def _cuda_allocations() -> int | None:
    """PyTorch's running count of CUDA allocations (None: CUDA not set up by PyTorch)."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_initialized():
        return None
    return int(torch.cuda.memory_stats().get("allocation.all.allocated", 0))


@hookimpl
def fences_backend_candidates() -> list[BackendCandidate]:
    return [BackendCandidate(name=NAME, pretty="PyTorch", preference=-10, installed=_installed,
                             probe=_probe, gpu=True, tracker=TorchTracker, warm=_warm)]
