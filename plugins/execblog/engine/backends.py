"""Array backends: what a candidate offers, what a resolved backend gives a session.

Candidates come from the ``fences_backend_candidates`` hook. ``installed()`` runs on the
host and must not import the array library; ``probe()`` runs in a worker only (it may
initialise CUDA, which the Pelican process never does). Everything shown about a backend
(its display name, whether it is a GPU, how the benchmark times it) comes from the
candidate and the :class:`ArrayBackend` it resolves to: the engine knows no backend by name.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import platform
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
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
    ``device`` names the hardware for people (a CPU model, a GPU name); ``where`` is what
    the label says after the name when it is not a GPU's ("CPU" for PyTorch on the CPU;
    empty for NumPy, whose label is its name alone); ``array_device`` is the framework's own
    device object for ``device=`` arguments (``torch.device("cuda")``), or None.
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
    where: str = ""
    array_device: Any = None

    def __post_init__(self) -> None:
        if self.timer is None:
            self.timer = WallClock(self.synchronize)

    @property
    def label(self) -> str:
        """Short label shown under outputs: "NumPy", "CuPy · NVIDIA H100", "JAX · CPU"."""
        pretty = self.pretty or self.name
        where = self.device if self.is_gpu else self.where
        return f"{pretty} · {where}" if where else pretty

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


class UsageTracker(Protocol):
    """Tells which devices an array framework computed on during one fence (worker).

    ``start()`` runs before each fence (read the framework's own counters); ``finish(values)``
    after it, with the values the fence bound or displayed, and returns one
    :meth:`ArrayBackend.describe` record per device the framework computed on (empty when it
    did not). ``synchronize()`` waits for the framework's queued device work (called at each
    fence's end once a GPU is set up in the session). None of them may import the library:
    when it is not in ``sys.modules`` the fence did not use it.
    """

    def start(self) -> None: ...

    def finish(self, values: Sequence[Any]) -> list[dict[str, Any]]: ...

    def synchronize(self) -> None: ...


@dataclass(frozen=True)
class BackendCandidate:
    """An array library the engine may pick; higher ``preference`` wins for ``auto``.

    ``pretty`` is its display name (the name itself when empty). A preference below
    :data:`FALLBACK_PREFERENCE` (NumPy's) keeps it out of ``auto``. ``gpu``: it may compute
    on a GPU, so a cluster executor sends the sessions that ask for it to GPU workers.
    ``tracker`` (optional) makes the :class:`UsageTracker` a session uses to label each
    fence with what it really computed with. ``warm`` (optional) imports the library
    without touching a device, in the fork server, when ``FENCES_PRELOAD`` names it.
    """

    name: str
    preference: int
    installed: Callable[[], bool]
    probe: Callable[[], ArrayBackend]
    pretty: str = ""
    gpu: bool = False
    tracker: Callable[[], UsageTracker] | None = None
    warm: Callable[[], None] | None = None


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


def shallow_values(values: Iterable[Any], limit: int = 64) -> Iterator[Any]:
    """``values`` and, one level down, the items of the lists, tuples, sets and dicts among
    them (at most ``limit`` of each): where a fence keeps the arrays it computed."""
    for value in values:
        yield value
        if isinstance(value, dict):
            yield from itertools.islice(value.values(), limit)
        elif isinstance(value, list | tuple | set | frozenset):
            yield from itertools.islice(value, limit)


def request_names(candidates: Iterable[BackendCandidate]) -> tuple[str, ...]:
    """What ``backend=`` and ``FENCES_BACKEND`` accept: ``auto`` and every candidate name."""
    return (AUTO, *dict.fromkeys(c.name for c in candidates))


class BackendResolver:
    """Resolves backend requests (``auto`` or a candidate name) inside a worker, once each.

    ``touched`` collects the backends handed out since it was last cleared (the session
    clears it before each fence: what a fence asked for, through ``benchmark(backends=...)``
    too, is what it computed with).
    """

    def __init__(self, candidates: Iterable[BackendCandidate]):
        self.candidates = sorted(candidates, key=lambda c: -c.preference)
        self._resolved: dict[str, ArrayBackend | BackendUnavailable] = {}
        self.auto_reasons: list[str] = []
        self.touched: list[ArrayBackend] = []

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
        self._touch(found)
        return found

    def fallback(self) -> ArrayBackend:
        """The backend at :data:`FALLBACK_PREFERENCE` (NumPy): what a fence that computed
        with no tracked framework is labelled with."""
        for cand in self.candidates:
            if cand.preference == FALLBACK_PREFERENCE:
                backend = self.get(cand.name)
                self.touched = [b for b in self.touched if b is not backend]
                return backend
        raise BackendUnavailable("no fallback backend")

    def resolved(self) -> list[ArrayBackend]:
        """The backends resolved so far in this process."""
        found: list[ArrayBackend] = []
        for backend in self._resolved.values():  # ``auto`` is one of the others: once each
            if isinstance(backend, ArrayBackend) and all(backend is not f for f in found):
                found.append(backend)
        return found

    def _touch(self, backend: ArrayBackend) -> None:
        if all(b is not backend for b in self.touched):
            self.touched.append(backend)

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
        self._touch(found)
        return found


class LazyBackend:
    """The backend a session asked for, resolved at its first use, not before.

    ``backend=auto`` binds one: ``xp``, ``to_numpy`` and ``backend`` in the namespace stand
    in for the real ones, and the first attribute asked of them resolves the request (so a
    session that never computes with ``xp`` never imports CuPy or sets up CUDA, and stays
    safe to fork). ``on_startup(seconds)`` is told how long resolving took (the host does not
    count it against the fence's timeout). ``used`` says whether the fence now running
    touched it (the session clears it before each fence). ``starting()`` is a context
    manager around the resolution (the session pauses the fence's clock in it).
    """

    def __init__(self, resolver: BackendResolver, request: str,
                 starting: Callable[[], AbstractContextManager[Any]] = contextlib.nullcontext):
        self._resolver, self.request, self._starting = resolver, request, starting
        self._real: ArrayBackend | None = None
        self.used = False
        self.xp: ModuleType = LazyNamespace(self)

    def resolve(self) -> ArrayBackend:
        """The real backend (raises ``BackendUnavailable`` when the request cannot run)."""
        self.used = True
        if self._real is None:
            with self._starting():
                self._real = self._resolver.get(self.request)
        else:
            self._resolver._touch(self._real)
        return self._real

    @property
    def resolved(self) -> ArrayBackend | None:
        """The real backend when something already asked for it, else None."""
        return self._real

    def to_numpy(self, array: Any) -> Any:
        """``to_numpy`` of the bound backend; an array in host memory (one with
        ``__array_interface__``) needs no backend at all."""
        if self._real is None and hasattr(array, "__array_interface__"):
            import numpy

            return numpy.asarray(array)
        return self.resolve().to_numpy(array)

    def __getattr__(self, name: str) -> Any:  # name, device, label, timer, describe()...
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.resolve(), name)

    def __repr__(self) -> str:
        return repr(self._real) if self._real else f"<backend {self.request}, not yet used>"


class LazyNamespace(ModuleType):
    """``xp`` before its backend is known: every attribute comes from the resolved backend's
    namespace (``xp.linspace`` resolves ``auto`` then), and each use marks the fence."""

    def __init__(self, owner: LazyBackend):
        super().__init__("xp")
        object.__setattr__(self, "_lazy_owner", owner)

    def __getattribute__(self, name: str) -> Any:
        owner = object.__getattribute__(self, "_lazy_owner")
        return getattr(owner.resolve().xp, name)

    def __setattr__(self, name: str, value: Any) -> None:
        owner = object.__getattribute__(self, "_lazy_owner")
        setattr(owner.resolve().xp, name, value)


def combine(records: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """One label record for a fence that computed with several frameworks (in order):
    the first one's name and device, every label joined ("CuPy · NVIDIA H200 + PyTorch 2.5
    · CPU"), every version, GPU when any was one. None for no record."""
    unique = list({(r.get("name"), r.get("device")): r for r in records}.values())
    if not unique:
        return None
    if len(unique) == 1:
        return dict(unique[0])
    first = unique[0]
    versions: dict[str, str] = {}
    for record in unique:
        versions.update(record.get("versions") or {})
    return {"name": first.get("name"), "label": " + ".join(str(r.get("label")) for r in unique),
            "device": first.get("device"), "gpu": any(r.get("gpu") for r in unique),
            "versions": versions, "frameworks": [dict(r) for r in unique]}
