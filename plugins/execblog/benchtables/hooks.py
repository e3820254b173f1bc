"""The fence-engine plugin: injects ``benchmark`` into every session namespace."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from execblog.fences import hookimpl

from .api import make_benchmark

if TYPE_CHECKING:
    from execblog.fences.backends import ArrayBackend, BackendResolver


@hookimpl
def fences_session_setup(
    namespace: dict[str, Any], backend: ArrayBackend, backends: BackendResolver
) -> None:
    namespace["benchmark"] = make_benchmark(backend, backends)
