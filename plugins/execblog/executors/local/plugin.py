"""The ``local`` executor: sessions forked from a warm fork server on this machine."""

from __future__ import annotations

from execblog.engine.hookspecs import Executor, hookimpl
from execblog.engine.settings import EngineSettings

from .pool import SessionPool


@hookimpl(trylast=True)
def fences_executor(settings: EngineSettings) -> Executor | None:
    if settings.executor != "local":
        return None
    return SessionPool(settings.workers, list(settings.plugins), settings.timeout,
                       settings.site)
