"""The ``local`` executor: sessions forked from a warm fork server on this machine."""

from __future__ import annotations

from typing import Any

from execblog.engine.hookspecs import Executor, hookimpl
from execblog.engine.settings import EngineSettings

from .pool import SessionPool


@hookimpl(trylast=True)
def fences_executor(settings: dict[str, Any], engine: EngineSettings) -> Executor | None:
    if engine.executor != "local":
        return None
    return SessionPool(engine.workers, list(engine.plugins), engine.timeout, settings)
