"""The engine's settings (``FENCES_*``), read and checked once with a clear message."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any

MODES = ("run", "frozen", "rerun")
MAX_TIMEOUT = 86_400.0  # one day: longer waits overflow the OS timers a pool relies on
TIMEOUT_EXPECTED = f"a number of seconds > 0 and at most {MAX_TIMEOUT:g}"


class SettingsError(SystemExit):
    """A bad ``FENCES_*`` value: the build stops with one line naming it, no traceback."""

    def __init__(self, name: str, value: Any, expected: str):
        super().__init__(f"settings: error: {name} = {value!r} is not valid: expected {expected}")


@dataclass(frozen=True)
class EngineSettings:
    mode: str
    strict: bool
    plugins: tuple[str, ...]
    cache_path: str
    timeout: float
    workers: int
    backend: str
    build_id: str | None
    executor: str = "local"
    # The site's settings that plugins may read (hooks take them as ``settings``): every
    # upper-case setting whose value is plain data, so it can travel to any worker.
    site: dict[str, Any] = field(default_factory=dict)


def check_timeout(value: float) -> float:
    """A fence timeout in seconds: finite, > 0 and at most :data:`MAX_TIMEOUT`."""
    if not (math.isfinite(value) and 0 < value <= MAX_TIMEOUT):
        raise ValueError(f"expected {TIMEOUT_EXPECTED}")
    return value


def read(settings: dict[str, Any]) -> EngineSettings:
    """Check every ``FENCES_*`` setting; raise :class:`SettingsError` on the first bad one."""
    mode = settings.get("FENCES_MODE") or "run"
    if mode not in MODES:
        raise SettingsError("FENCES_MODE", mode, f"one of {', '.join(MODES)}")
    strict = settings.get("FENCES_STRICT", False)
    if not isinstance(strict, bool | None):
        raise SettingsError("FENCES_STRICT", strict, "true or false")
    plugins = settings.get("FENCES_PLUGINS") or []
    if not isinstance(plugins, list | tuple) or not all(isinstance(p, str) for p in plugins):
        raise SettingsError("FENCES_PLUGINS", plugins, "a list of importable module names")
    cache_path = settings.get("FENCES_CACHE_PATH") or os.path.join(os.getcwd(), "fence-cache")
    if not isinstance(cache_path, str | os.PathLike):
        raise SettingsError("FENCES_CACHE_PATH", cache_path, "a folder path")
    raw_timeout = settings.get("FENCES_TIMEOUT")
    try:
        timeout = check_timeout(float(60 if raw_timeout is None else raw_timeout))
    except (TypeError, ValueError):
        raise SettingsError("FENCES_TIMEOUT", raw_timeout, TIMEOUT_EXPECTED) from None
    workers = settings.get("FENCES_WORKERS")
    if workers is None:
        workers = os.cpu_count() or 1
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 1024:
        raise SettingsError("FENCES_WORKERS", workers,
                            "a whole number of sessions from 1 to 1024, or null for one per core")
    backend = settings.get("FENCES_BACKEND") or "auto"
    if not isinstance(backend, str):
        raise SettingsError("FENCES_BACKEND", backend, "a backend name such as auto or numpy")
    build_id = settings.get("FENCES_BUILD_ID")
    executor = settings.get("FENCES_EXECUTOR") or "local"
    if not isinstance(executor, str):
        raise SettingsError("FENCES_EXECUTOR", executor, '"local" or a scheduler address')
    return EngineSettings(mode=mode, strict=bool(strict), plugins=tuple(plugins),
                          cache_path=str(cache_path), timeout=timeout, workers=workers,
                          backend=backend, build_id=None if build_id is None else str(build_id),
                          executor=executor, site=plain_settings(settings))


def plain_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """The upper-case settings whose values are plain data (JSON), copied."""
    plain = {}
    for name, value in settings.items():
        if not name.isupper():
            continue
        try:
            plain[name] = json.loads(json.dumps(value))
        except (TypeError, ValueError):
            continue  # functions, extension objects, paths...: host-only
    return plain
