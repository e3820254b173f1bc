"""Array backends: what a candidate offers, what a resolved backend gives a session.

Candidates come from the ``fences_backend_candidates`` hook. ``installed()`` runs on the
host and must not import the array library; ``probe()`` runs in a worker only (it may
initialise CUDA, which the Pelican process never does). Everything shown about a backend
(its display name, whether it is a GPU, how the benchmark times it) comes from the
candidate and the :class:`ArrayBackend` it resolves to: the engine knows no backend by name.
"""

from __future__ import annotations

import math
import platform
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Protocol

AUTO = "auto"

#: NumPy's preference. ``backend=auto`` never picks a candidate below it; such a backend
#: runs only when a fence asks for it by name.
FALLBACK_PREFERENCE = 0

#: Wall-clock calls faster than this are timed in batches so the clock's own cost stays small.
BATCH_TARGET_S = 20e-6
MAX_LOOPS = 10_000
MAX_REPEATS = 10_000


class BackendUnavailable(RuntimeError):
    """A requested backend cannot run here; the message says why."""


@dataclass
class Timing:
    """Seconds per call, one value per timed repeat; ``loops`` calls per repeat."""

    samples: list[float]
    loops: int = 1


class Timer(Protocol):
    """How a backend times a thunk: ``name`` goes in each benchmark row, ``description`` in
    the table's footnote; calling it warms up, then times repeats within ``budget`` seconds."""

    name: str
    description: str

    def __call__(
        self, thunk: Callable[[], Any], *, budget: float, warmup: int, min_repeats: int
    ) -> Timing: ...


def _no_sync() -> None:
    return None


@dataclass(frozen=True)
class WallClock:
    """``time.perf_counter`` around each repeat, then ``sync()``; very fast calls in batches."""

    sync: Callable[[], None] = _no_sync
    name: str = "perf_counter"
    description: str = (
        f"wall-clock time.perf_counter, calls under {BATCH_TARGET_S * 1e6:g} µs timed in batches"
    )

    def __call__(
        self, thunk: Callable[[], Any], *, budget: float, warmup: int, min_repeats: int
    ) -> Timing:
        """Warm up, then time repeats until ``budget`` seconds passed and ``min_repeats`` ran."""
        for _ in range(warmup):
            thunk()
        self.sync()
        loops = self._calibrate(thunk)
        clock = time.perf_counter
        samples: list[float] = []
        start = clock()
        while len(samples) < min_repeats or (
            clock() - start < budget and len(samples) < MAX_REPEATS
        ):
            t0 = clock()
            for _ in range(loops):
                thunk()
            self.sync()
            samples.append((clock() - t0) / loops)
        return Timing(samples, loops)

    def _calibrate(self, thunk: Callable[[], Any]) -> int:
        """Calls per repeat: 1 unless one call (an extra warm-up) is under BATCH_TARGET_S."""
        t0 = time.perf_counter()
        thunk()
        self.sync()
        one = time.perf_counter() - t0
        if one >= BATCH_TARGET_S:
            return 1
        return min(MAX_LOOPS, math.ceil(BATCH_TARGET_S / max(one, 1e-9)))


@dataclass
class ArrayBackend:
    """A usable array library, as a session sees it through the name ``backend``.

    ``pretty`` is the display name ("NumPy"; the candidate's when empty), ``versions`` maps
    display names to versions ({"NumPy": "2.1.0"}), and ``timer`` is how benchmarks time a
    thunk on it (default: the wall clock, with ``synchronize`` after each repeat).
    """

    name: str  # "numpy", "cupy"
    xp: ModuleType
    device: str  # CPU model or GPU name
    versions: dict[str, str] = field(default_factory=dict)
    is_gpu: bool = False
    to_numpy: Callable[[Any], Any] = lambda a: a
    synchronize: Callable[[], None] = _no_sync
    pretty: str = ""
    timer: Timer | None = None

    def __post_init__(self) -> None:
        if self.timer is None:
            self.timer = WallClock(self.synchronize)

    @property
    def label(self) -> str:
        """Short label shown under outputs: "NumPy" or "CuPy · NVIDIA H100"."""
        pretty = self.pretty or self.name
        return f"{pretty} · {self.device}" if self.is_gpu else pretty

    def describe(self) -> dict[str, Any]:
        """JSON-able record stored with every output made on this backend."""
        return {
            "name": self.name,
            "label": self.label,
            "device": self.device,
            "gpu": self.is_gpu,
            "versions": dict(self.versions),
        }

    def __repr__(self) -> str:
        versions = ", ".join(f"{k} {v}" for k, v in self.versions.items())
        return f"<backend {self.label} ({versions})>"


@dataclass(frozen=True)
class BackendCandidate:
    """An array library the engine may pick; higher ``preference`` wins for ``auto``.

    ``pretty`` is its display name (the name itself when empty). A preference below
    :data:`FALLBACK_PREFERENCE` (NumPy's) keeps it out of ``auto``.
    """

    name: str
    preference: int
    installed: Callable[[], bool]
    probe: Callable[[], ArrayBackend]
    pretty: str = ""


def cpu_name() -> str:
    """Best-effort CPU model name for benchmark footnotes."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "CPU"


def request_names(candidates: Iterable[BackendCandidate]) -> tuple[str, ...]:
    """What ``backend=`` and ``FENCES_BACKEND`` accept: ``auto`` and every candidate name."""
    return (AUTO, *dict.fromkeys(c.name for c in candidates))


class BackendResolver:
    """Resolves backend requests (``auto`` or a candidate name) inside a worker, once each."""

    def __init__(self, candidates: Iterable[BackendCandidate]):
        self.candidates = sorted(candidates, key=lambda c: -c.preference)
        self._resolved: dict[str, ArrayBackend | BackendUnavailable] = {}
        self.auto_reasons: list[str] = []

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.candidates]

    def pretty(self, name: str) -> str:
        """Display name of the candidate called ``name`` (``name`` itself if none is)."""
        cand = next((c for c in self.candidates if c.name == name), None)
        return (cand.pretty or cand.name) if cand else name

    def get(self, request: str) -> ArrayBackend:
        """Return the backend for ``request`` or raise BackendUnavailable with the reason."""
        if request == AUTO:
            return self._auto()
        if request not in self._resolved:
            self._resolved[request] = self._probe(request)
        found = self._resolved[request]
        if isinstance(found, BackendUnavailable):
            raise found
        return found

    def _probe(self, name: str) -> ArrayBackend | BackendUnavailable:
        for cand in self.candidates:
            if cand.name == name:
                try:
                    if not cand.installed():
                        return BackendUnavailable(f"{name} is not installed")
                    backend = cand.probe()
                except BackendUnavailable as exc:
                    return exc
                except Exception as exc:  # a broken driver must not kill the session
                    return BackendUnavailable(f"{name} probe failed: {exc!r}")
                if not backend.pretty:
                    backend.pretty = cand.pretty or cand.name
                return backend
        return BackendUnavailable(f"unknown backend {name!r} (known: {', '.join(self.names)})")

    def _auto(self) -> ArrayBackend:
        if AUTO not in self._resolved:
            reasons = []
            # below NumPy's preference: only for fences that ask for it by name
            for cand in (c for c in self.candidates if c.preference >= FALLBACK_PREFERENCE):
                try:
                    backend = self.get(cand.name)
                except BackendUnavailable as exc:
                    reasons.append(str(exc))
                    continue
                self._resolved[AUTO] = backend
                break
            else:
                self._resolved[AUTO] = BackendUnavailable("; ".join(reasons) or "no backend")
            self.auto_reasons = reasons
        found = self._resolved[AUTO]
        if isinstance(found, BackendUnavailable):
            raise found
        return found
