"""The ``cuda exec`` fence kind (also ``cu``): a CUDA C++ program, compiled with ``nvcc``
(or ``NVCC``) and run on the GPU of the machine that builds the site.

Rules an author sees (the rest are :mod:`execblog.kinds.languages.compiled`'s, as for C and C++):

* A fence is a whole ``.cu`` program with its own ``main``: kernels and the host code that
  launches them. Default flags ``-O2 -std=c++20 -arch=native`` (code for the GPU that is
  there); ``flags="..."`` adds to them. nvcc's errors are located in the post
  (``content/posts/x.md:14: error: identifier "y" is undefined``).
* ``export="name(type, ...) -> type; ..."`` builds a shared library (``-shared -Xcompiler
  -fPIC``) whose ``extern "C"`` functions later Python fences call; pointer arguments take
  GPU arrays (CuPy arrays pass their device pointers).
* It runs only where a GPU is usable: an NVIDIA driver and a device, checked in the worker
  before compiling. Results are labelled with the device, like CuPy's (``CUDA · NVIDIA
  H200``), and record nvcc's identity.
* On a machine without a GPU (a laptop, CI) or without nvcc, the build says once
  ``cuda fences cannot run on this machine: <what is missing>``; cached results, made on a
  GPU machine and committed, are kept and shown with their GPU label; a fence that must
  run (new or edited, no cached result) fails with a located error naming what is missing
  (``cuda: no usable GPU here (libcuda.so.1 not found: no NVIDIA driver)``); Python fences
  of the same post still run.
* The host (the Pelican process) never loads the CUDA driver: it looks for nvcc on PATH and
  a GPU device node (``/dev/nvidiaN``, any index, or ``/proc/driver/nvidia/gpus``); the
  worker asks the driver in a short child process (:mod:`execblog.kinds.languages.cuda_device`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from execblog.engine import hookimpl
from execblog.engine.model import FenceError, FenceKind, Toolchain

from . import cuda_device
from .compiled import Language, make_kind
from .diagnostics import nvcc_first_error
from .toolchain import Compiler, version_of

PRETTY = "CUDA"


@dataclass(frozen=True)
class Nvcc(Compiler):
    """nvcc: its missing message names the toolkit; in the worker, a missing nvcc is
    reported together with a missing GPU (both are what the author has to fix)."""

    def missing(self) -> str:
        words = self.command()
        name = words[0] if words else f"${self.variable}"
        return f"{name} not found on PATH (install {self.package}, or set {self.variable})"

    def require(self, line: int) -> tuple[list[str], str]:
        command, identity = self.resolve(), self.identity()
        if command is None or identity is None:
            found = cuda_device.check()
            gpu = "" if found.get("ok") else f"no usable GPU here ({found.get('reason')}), and "
            raise FenceError(f"cuda: {gpu}{self.missing()}", line)
        return command, identity


NVCC = Nvcc("NVCC", "nvcc", "the CUDA toolkit")


_GPU_NODE = re.compile(r"nvidia\d+")  # nvidia0, nvidia3: not nvidiactl, nvidia-uvm, nvidia-caps


def gpu_node(dev: str = "/dev", gpus: str = "/proc/driver/nvidia/gpus") -> str | None:
    """Why the host sees no NVIDIA GPU, or None when it sees one (device nodes only: the
    driver library is never loaded here).

    A GPU is a ``/dev/nvidiaN`` node (any index: a container often shows its one GPU under
    its index on the host, ``/dev/nvidia3`` alone) or an entry of the driver's ``gpus``
    folder; ``/dev/nvidiactl``, ``/dev/nvidia-uvm`` and ``/dev/nvidia-caps`` are no GPU.
    ``CUDA_VISIBLE_DEVICES`` set to ``""`` or ``-1`` hides them all. ``dev`` and ``gpus``
    are the folders looked at (for tests)."""
    try:
        listed = bool(os.listdir(gpus))
    except OSError:
        listed = False
    if not listed:
        try:
            names = os.listdir(dev)
        except OSError:
            names = []
        listed = any(_GPU_NODE.fullmatch(name) for name in names)
    if not listed:
        return "no NVIDIA GPU on this machine"
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1"):  # the GPU is hidden
        return f"no NVIDIA GPU visible (CUDA_VISIBLE_DEVICES={visible.strip()!r})"
    return None


def toolchain() -> Toolchain:
    """Host side (``FenceKind.toolchain``): nvcc's identity where a GPU is there too."""
    identity = NVCC.identity()
    no_gpu = gpu_node()
    if identity and not no_gpu:
        return Toolchain(identity)
    if identity:
        path = identity.split(" ", 1)[0]
        return Toolchain(None, f"{no_gpu} (nvcc found: {path}, release {version_of(identity)})")
    return Toolchain(None, f"{no_gpu}, and {NVCC.missing()}" if no_gpu else NVCC.missing())


def check_device(line: int) -> dict[str, Any]:
    """Worker side, before compiling: the device for the label, or a located error."""
    found = cuda_device.check()
    if not found.get("ok"):
        raise FenceError(f"cuda: no usable GPU here ({found.get('reason')})", line)
    return {"device": found["device"], "gpu": True,
            "versions": {"CUDA driver": found["driver"]}}


CUDA = Language(
    name="cuda", pretty=PRETTY, aliases=("cu",), compiler=NVCC, suffix=".cu",
    flags=("-O2", "-std=c++20", "-arch=native", "-Xcompiler", "-fdiagnostics-color=never"),
    shared=("-shared", "-Xcompiler", "-fPIC"), first_error=nvcc_first_error,
    device_pointers=True, check_device=check_device, toolchain=toolchain, needs_gpu=True,
)


@hookimpl
def fences_kinds() -> list[FenceKind]:
    return [make_kind(CUDA)]
