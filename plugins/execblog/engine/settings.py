"""The engine's settings (``FENCES_*``), read and checked once with a clear message."""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from typing import Any

MODES = ("run", "frozen", "rerun")
MAX_TIMEOUT = 86_400.0  # one day: longer waits overflow the OS timers a pool relies on
TIMEOUT_EXPECTED = f"a number of seconds > 0 and at most {MAX_TIMEOUT:g}"
MIN_MEMORY = 16 * 2**20  # below this a session cannot even start: surely a missing unit
MEMORY_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}
MEMORY_EXPECTED = ('a size of at least 16M: bytes, or a number with a unit K, M, G or T '
                   '(powers of 1024: "512M", "4G", "1.5G"), or 0 / "none" for no limit')
MEMORY_SETTING_EXPECTED = (MEMORY_EXPECTED + ", or null for the default (half of the "
                           "machine's memory)")
# Keys of distributed.security.Security a client uses (FENCES_DASK_SECURITY).
DASK_SECURITY_KEYS = ("tls_ca_file", "tls_client_cert", "tls_client_key", "tls_ciphers",
                      "tls_min_version", "tls_max_version", "require_encryption")


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
    # FENCES_MEMORY in bytes: None for the default (half of the memory of the machine a
    # session runs on, found there: see containment.default_memory), 0 for no limit.
    memory: int | None = None
    dask_security: dict[str, Any] | None = None  # FENCES_DASK_SECURITY
    # The site's settings that plugins may read (hooks take them as ``settings``): every
    # upper-case setting whose value is plain data, so it can travel to any worker.
    site: dict[str, Any] = field(default_factory=dict)


def check_timeout(value: float) -> float:
    """A fence timeout in seconds: finite, > 0 and at most :data:`MAX_TIMEOUT`."""
    if not (math.isfinite(value) and 0 < value <= MAX_TIMEOUT):
        raise ValueError(f"expected {TIMEOUT_EXPECTED}")
    return value


def parse_memory(value: Any) -> int | None:
    """A memory limit in bytes (``FENCES_MEMORY``, the ``memory`` option): 0 is no limit,
    None (unset) stays None. Numbers are bytes; strings take a unit K, M, G or T (powers
    of 1024, with or without ``B``/``iB``): ``"512M"``, ``"4G"``, ``"1.5G"``; ``"none"``
    is 0. Raises ValueError naming what is expected."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"expected {MEMORY_EXPECTED}")
    if isinstance(value, int | float):
        number, unit = float(value), ""
    elif isinstance(value, str):
        text = value.strip().lower()
        if text in ("none", "0"):
            return 0
        match = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)\s*([kmgt]?)(?:i?b)?", text)
        if not match:
            raise ValueError(f"expected {MEMORY_EXPECTED}")
        number, unit = float(match[1]), match[2]
    else:
        raise ValueError(f"expected {MEMORY_EXPECTED}")
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"expected {MEMORY_EXPECTED}")
    size = int(number * MEMORY_UNITS[unit])
    if 0 < size < MIN_MEMORY or (size == 0 and number > 0):
        raise ValueError(f"expected {MEMORY_EXPECTED}")
    return size


def format_bytes(size: int) -> str:
    """``2.0 GiB``, ``300 MiB``: how messages name a memory limit."""
    if size >= 2**30:
        return f"{size / 2**30:.1f} GiB"
    if size >= 2**20:
        return f"{size / 2**20:.0f} MiB"
    return f"{size / 2**10:.0f} KiB"


def check_dask_security(value: Any) -> dict[str, Any] | None:
    """``FENCES_DASK_SECURITY``: None, or a dict of ``distributed.security.Security``
    arguments a client uses (file paths, or PEM text, and ``require_encryption``)."""
    if value is None:
        return None
    expected = ("a dict of Dask TLS settings such as {\"tls_ca_file\": PATH, "
                "\"tls_client_cert\": PATH, \"tls_client_key\": PATH}; keys: "
                + ", ".join(DASK_SECURITY_KEYS))
    if not isinstance(value, dict):
        raise SettingsError("FENCES_DASK_SECURITY", value, expected)
    for key, item in value.items():
        if key not in DASK_SECURITY_KEYS:
            raise SettingsError("FENCES_DASK_SECURITY", value, expected)
        if key == "require_encryption":
            ok = isinstance(item, bool | None)
        elif key in ("tls_min_version", "tls_max_version"):
            ok = item in (None, 1.2, 1.3)
        else:
            ok = isinstance(item, str | None)
        if not ok:
            raise SettingsError("FENCES_DASK_SECURITY", value, expected)
    return dict(value)


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
    raw_memory = settings.get("FENCES_MEMORY")
    try:
        memory = parse_memory(raw_memory)
    except ValueError:
        raise SettingsError("FENCES_MEMORY", raw_memory, MEMORY_SETTING_EXPECTED) from None
    dask_security = check_dask_security(settings.get("FENCES_DASK_SECURITY"))
    build_id = settings.get("FENCES_BUILD_ID")
    executor = settings.get("FENCES_EXECUTOR") or "local"
    if not isinstance(executor, str):
        raise SettingsError("FENCES_EXECUTOR", executor, '"local" or a scheduler address')
    return EngineSettings(mode=mode, strict=bool(strict), plugins=tuple(plugins),
                          cache_path=str(cache_path), timeout=timeout, workers=workers,
                          backend=backend, build_id=None if build_id is None else str(build_id),
                          executor=executor, memory=memory, dask_security=dask_security,
                          site=plain_settings(settings))


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


NOTEBOOK_MODES = ("run", "stored")


def notebook_execute(settings: dict[str, Any]) -> str:
    """``NOTEBOOK_EXECUTE``: how notebook posts show their code cells: ``run`` them (the
    default) or show the outputs ``stored`` in the notebook (nothing runs). A notebook's own
    ``execute`` metadata wins."""
    mode = settings.get("NOTEBOOK_EXECUTE") or "run"
    if mode not in NOTEBOOK_MODES:
        raise SettingsError("NOTEBOOK_EXECUTE", mode, f"one of {', '.join(NOTEBOOK_MODES)}")
    return mode
