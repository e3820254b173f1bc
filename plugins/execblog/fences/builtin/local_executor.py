"""The ``local`` executor: sessions forked from a warm fork server on this machine."""

from __future__ import annotations

from ..hookspecs import Executor, hookimpl
from ..pool import SessionPool
from ..settings import EngineSettings


@hookimpl(trylast=True)
def fences_executor(settings: EngineSettings) -> Executor | None:
    if settings.executor != "local":
        return None
    return SessionPool(settings.workers, list(settings.plugins), settings.timeout,
                       settings.site)
