"""Array backends: what a candidate offers, what a resolved backend gives a session.

Candidates come from the ``fences_backend_candidates`` hook. ``installed()`` runs on the
host and must not import the array library; ``probe()`` runs in a worker only (it may
initialise CUDA, which the Pelican process never does).
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

AUTO = "auto"


class BackendUnavailable(RuntimeError):
    """A requested backend cannot run here; the message says why."""


@dataclass
class ArrayBackend:
    """A usable array library, as a session sees it through the name ``backend``."""

    name: str  # "numpy", "cupy"
    xp: ModuleType
    device: str  # CPU model or GPU name
    versions: dict[str, str] = field(default_factory=dict)
    is_gpu: bool = False
    to_numpy: Callable[[Any], Any] = lambda a: a
    synchronize: Callable[[], None] = lambda: None

    @property
    def label(self) -> str:
        """Short label shown under outputs: "NumPy" or "CuPy · NVIDIA H100"."""
        pretty = {"numpy": "NumPy", "cupy": "CuPy"}.get(self.name, self.name)
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
    """An array library the engine may pick; higher ``preference`` wins for ``auto``."""

    name: str
    preference: int
    installed: Callable[[], bool]
    probe: Callable[[], ArrayBackend]


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


class BackendResolver:
    """Resolves backend requests (``auto``, ``numpy``, ``cupy``) inside a worker, once each."""

    def __init__(self, candidates: Iterable[BackendCandidate]):
        self.candidates = sorted(candidates, key=lambda c: -c.preference)
        self._resolved: dict[str, ArrayBackend | BackendUnavailable] = {}
        self.auto_reasons: list[str] = []

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.candidates]

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
                    return cand.probe()
                except BackendUnavailable as exc:
                    return exc
                except Exception as exc:  # a broken driver must not kill the session
                    return BackendUnavailable(f"{name} probe failed: {exc!r}")
        return BackendUnavailable(f"unknown backend {name!r} (known: {', '.join(self.names)})")

    def _auto(self) -> ArrayBackend:
        if AUTO not in self._resolved:
            reasons = []
            for cand in self.candidates:
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
