"""Executors that outlive one build.

A normal build chooses its executor, runs its sessions on it and shuts it down when Pelican
finishes. A long-lived process that builds again and again (``invoke livereload``: Pelican
runs in-process on every save) calls :func:`hold` once: from then on the engine takes its
executor from here, and the same one (with its threads, its fork server and whatever its
sessions keep between builds) serves every later build whose executor settings are
unchanged; a held executor that can keep session snapshots (the local one) is told to, so
an edit resumes its session at the edited fence. ``Engine.close`` leaves a held executor
alive (:func:`held`); :func:`release` shuts it down when the process is done. Only the
process that called :func:`hold` keeps anything: without it, :func:`executor` simply makes
a new one each time.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .hookspecs import Executor, ResumableExecutor
from .settings import EngineSettings

# Site settings that differ from build to build without changing what a session does (the
# preview's pages-only builds skip the search index).
VOLATILE_SETTINGS = frozenset({"FENCES_BUILD_ID", "FENCES_MODE", "SEARCH_INDEX"})


@dataclass
class _Held:
    key: str | None = None
    executor: Executor | None = None


_lock = threading.Lock()
_holding: list[_Held] = []  # empty: nothing is held (a normal one-build process)


def settings_key(settings: EngineSettings) -> str:
    """What an executor depends on: a new executor is made when this changes."""
    site = {k: v for k, v in settings.site.items() if k not in VOLATILE_SETTINGS}
    material = [settings.executor, settings.workers, list(settings.plugins), settings.timeout,
                site]
    return json.dumps(material, sort_keys=True, default=repr)


def hold() -> None:
    """Keep executors alive across builds in this process, until :func:`release`."""
    with _lock:
        if not _holding:
            _holding.append(_Held())


def holding() -> bool:
    """Whether this process keeps its executor between builds."""
    return bool(_holding)


def executor(settings: EngineSettings, make: Callable[[], Executor]) -> Executor:
    """The executor for a build with ``settings``: the held one when its settings are the
    same (and it was not cancelled), else ``make()`` (held, when holding)."""
    with _lock:
        if not _holding:
            return make()
        slot = _holding[0]
        key = settings_key(settings)
        current = slot.executor
        if current is not None and slot.key == key and not _cancelled(current):
            return current
        slot.executor, slot.key = None, None
    if current is not None:  # settings changed: the old one goes (outside the lock)
        current.shutdown()
    made = make()
    if isinstance(made, ResumableExecutor):  # resumable sessions: only in a held executor
        made.enable_snapshots()
    with _lock:
        if _holding:
            _holding[0].executor, _holding[0].key = made, key
    return made


def held(candidate: Executor) -> bool:
    """Whether ``candidate`` is the executor this process keeps (so a build must not shut
    it down)."""
    with _lock:
        return bool(_holding) and _holding[0].executor is candidate


def release() -> None:
    """Stop holding; shut the held executor down (its fork server and sessions end)."""
    with _lock:
        slot = _holding.pop() if _holding else None
    if slot is not None and slot.executor is not None:
        slot.executor.shutdown()


def _cancelled(candidate: Any) -> bool:
    """An interrupted build cancels its executor for good (the local one drops its threads)."""
    return bool(getattr(candidate, "cancelled", False))
