"""Opt-in timing of a build's phases, for ``invoke bench --profile`` (``tools.perf``).

With ``EXECBLOG_PROFILE=FILE`` in the environment, every process of a build (Pelican, the
fork server, each session and its guardian) appends one JSON line per finished phase to
FILE: ``{"phase", "cpu", "wall", "pid"}``, ``cpu`` being the core-seconds the thread spent
in the phase itself (nested phases are subtracted), and each process's total
(``total: ...`` phases), so that what no phase names shows as the rest of that process.
Lines are single ``write`` calls to a file opened for appending: processes never
interleave within a line. Without the
variable, :func:`phase` costs one dictionary look-up.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

VARIABLE = "EXECBLOG_PROFILE"
_local = threading.local()  # .open: per thread, the CPU seconds of the phases nested in each
F = TypeVar("F", bound=Callable[..., Any])


def enabled() -> bool:
    return bool(os.environ.get(VARIABLE))


def record(name: str, cpu: float, wall: float = 0.0, pid: int | None = None) -> None:
    """Append one phase line of process ``pid`` (this one by default; nothing when
    profiling is off)."""
    path = os.environ.get(VARIABLE)
    if not path:
        return
    line = json.dumps({"phase": name, "cpu": round(cpu, 6), "wall": round(wall, 6),
                       "pid": pid or os.getpid()}) + "\n"
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)


@contextlib.contextmanager
def phase(name: str) -> Iterator[None]:
    """Time the block as phase ``name`` in this process (exclusive of nested phases)."""
    if not os.environ.get(VARIABLE):
        yield
        return
    stack = _local.__dict__.setdefault("open", [])
    cpu, wall = time.thread_time(), time.perf_counter()
    stack.append([0.0])
    try:
        yield
    finally:
        spent = time.thread_time() - cpu
        nested = stack.pop()[0]
        if stack:
            stack[-1][0] += spent
        record(name, spent - nested, time.perf_counter() - wall)


def timed(name: str) -> Callable[[F], F]:
    """Decorator: every call of the function is phase ``name``."""
    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with phase(name):
                return func(*args, **kwargs)
        return wrapper  # type: ignore[return-value]
    return decorate


def process_cpu(pid: int | None = None) -> float:
    """Core-seconds a process (this one by default) has used so far, from ``/proc``."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") if fields else 0.0


def parent_of(pid: int) -> int:
    """The parent process of ``pid`` (0 when unknown)."""
    fields = _stat(pid)
    return int(fields[1]) if fields else 0


def _stat(pid: int) -> list[str]:
    """``/proc/PID/stat``'s fields after the command name (state first), or []."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def record_at_exit(name: str) -> None:
    """Record this process's whole CPU time as ``name`` when it exits normally (a forked
    child that leaves with ``os._exit`` records nothing: call :func:`record` there)."""
    if enabled():
        atexit.register(lambda: record(name, process_cpu()))
