"""Memory limits of sessions: ``FENCES_MEMORY`` and the ``memory=`` fence option.

The fence process runs under a memory limit enforced by the OS. Where this process may make
a cgroup v2 group with the memory controller (the build's cgroup is the hierarchy's root, or
its parent delegates the controller), the session's guardian
(``execblog.executors.local.containment``) makes one per session, the fence process moves into it,
and the limit is its ``memory.max``; the guardian reads ``memory.events`` afterwards and leaves a
note for the host when the out-of-memory killer ended the session. Elsewhere the limit is
``RLIMIT_DATA``: private writable memory only, so neither shared libraries nor CUDA's address-space
reservations count (``RLIMIT_AS`` would break GPU sessions), and an allocation beyond it fails with
``MemoryError``, which is reported as the fence running out of memory, with its limit.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import resource
import signal
import time
from collections.abc import Callable
from typing import Any

from execblog.engine.bounds import bound_line
from execblog.engine.model import ERROR, EXPECTED_ERROR, FAILED, Fence, FenceResult, Output
from execblog.engine.settings import format_bytes, parse_memory

from .forking import pid_alive

# -- memory limits -------------------------------------------------------------------------------
MEMORY_NOTE = "memory-note.json"  # the guardian's note to the host, in the capture folder
CGROUP_PREFIX = "execblog-"
# Exceptions that say host memory ran out: Python's, NumPy's. (CuPy's OutOfMemoryError is
# about the GPU's memory, which no limit here covers.)
MEMORY_ERRORS = frozenset({"MemoryError", "_ArrayMemoryError"})
RAISE_HINT = "raise it with the fence option memory=SIZE or the FENCES_MEMORY setting"
_NO_LIMIT = 2**62  # cgroup and rlimit values at or above this mean "none"


class MemoryLimit:
    """The memory limit of one session's fence process: ``FENCES_MEMORY`` (half of this
    machine's memory by default), or a fence's ``memory=`` while that fence runs.

    Made before the guardian forks; :meth:`prepare` (guardian), :meth:`enter` (fence
    process, first thing) and :meth:`finish` (guardian, at the end) handle the cgroup;
    :meth:`limit` puts a session's fences under the limit. Without a cgroup (none can be
    made here, or ``guard`` was not given this object: session trees) the limit is
    ``RLIMIT_DATA`` above what the process holds when the session starts, so it counts
    what the fences allocate, as a new cgroup does.
    """

    def __init__(self, settings: dict[str, Any], note: str | None = None):
        try:
            size = parse_memory(settings.get("FENCES_MEMORY"))
        except ValueError:  # checked by the build; a worker's copy is never worse
            size = None
        self.default = default_memory() if size is None else size
        self.note = note
        self.cgroup: str | None = None
        self.baseline = 0
        self.current: int | None = None  # the limit in effect now (0: none)
        hard = resource.getrlimit(resource.RLIMIT_DATA)[1]
        self._hard = hard
        self._lifted = (hard, hard)  # made now: lifting must not need memory

    # -- the guardian ----------------------------------------------------------------------
    def prepare(self) -> None:
        """Make this session's cgroup, when this process may (else: RLIMIT_DATA)."""
        parent = session_cgroup_parent()
        if parent is not None:
            self.cgroup = _make_cgroup(parent, f"{CGROUP_PREFIX}{os.getpid()}")

    def finish(self, status: int | None) -> None:
        """After the fence process ended and everything it started is gone: leave a note
        for the host when the out-of-memory killer ended it, and remove the cgroup."""
        if self.cgroup is None:
            return
        killed = status is not None and os.WIFSIGNALED(status) and (
            os.WTERMSIG(status) == signal.SIGKILL)
        if killed and self.note and _oom_kills(self.cgroup):
            with open(self.note, "w", encoding="utf-8") as fh:
                json.dump({"limit": _read_limit(self.cgroup)}, fh)
        _remove_cgroup(self.cgroup)

    # -- the fence process -----------------------------------------------------------------
    def enter(self) -> None:
        """Move this process into the session's cgroup before it runs anything."""
        if self.cgroup is None:
            return
        try:
            with open(os.path.join(self.cgroup, "cgroup.procs"), "w") as fh:
                fh.write("0\n")
        except OSError:
            self.cgroup = None  # not allowed after all: the rlimit does it

    def limit(self, session: Any) -> None:
        """From now on every ``session.run(fence)`` runs under the fence's limit."""
        self.baseline = 0 if self.cgroup is not None else _data_size()
        run = session.run
        session.run = lambda fence: self.run(run, fence)

    def run(self, run: Callable[[Fence], FenceResult], fence: Fence) -> FenceResult:
        """``run(fence)`` under its limit; a fence that ran out of memory says so."""
        size = getattr(fence.options, "memory", None)
        size = self.default if size is None else int(size)
        kills = _oom_kills(self.cgroup) if self.cgroup is not None else 0
        self.apply(size)
        try:
            result = run(fence)
        except MemoryError:  # no room left even to report the fence's own MemoryError
            self.lift()
            status = EXPECTED_ERROR if getattr(fence.options, "error", False) else FAILED
            result = FenceResult(status=status, message="MemoryError",
                                 outputs=[Output(ERROR, "MemoryError", {"ename": "MemoryError"})])
        finally:
            self.lift()
        if result.status == FAILED and size:
            if _error_name(result) in MEMORY_ERRORS:
                _explain(result, f"ran out of memory (limit {format_bytes(size)}; {RAISE_HINT})")
            elif self.cgroup is not None and _oom_kills(self.cgroup) > kills:
                _explain(result, f"ran out of memory (limit {format_bytes(size)}; {RAISE_HINT}): "
                         "the out-of-memory killer stopped a process it started")
        return result

    def apply(self, size: int) -> None:
        """Set the limit to ``size`` bytes (0: none) for what runs next."""
        if self.cgroup is not None and size != self.current:
            try:
                with open(os.path.join(self.cgroup, "memory.max"), "w") as fh:
                    fh.write(f"{size}\n" if size else "max\n")
            except OSError:  # not writable after all: the rlimit, from now on
                self.cgroup, self.baseline = None, _data_size()
        if self.cgroup is None:
            soft = self._hard if not size else self.baseline + size
            if self._hard != resource.RLIM_INFINITY:
                soft = min(soft, self._hard)
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(resource.RLIMIT_DATA, (soft, self._hard))
        self.current = size

    def lift(self) -> None:
        """No rlimit between fences: the session can always send its result."""
        if self.cgroup is None:
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(resource.RLIMIT_DATA, self._lifted)
            self.current = 0


def memory_note(folder: str) -> str | None:
    """How the session process ended, from its guardian's note (None: no note): the
    out-of-memory killer stopped it."""
    try:
        with open(os.path.join(folder, MEMORY_NOTE), encoding="utf-8") as fh:
            limit = json.load(fh).get("limit")
    except (OSError, ValueError, AttributeError):
        return None
    if not limit:
        return "was killed by the out-of-memory killer (the machine ran out of memory)"
    return (f"ran out of memory (limit {format_bytes(int(limit))}; {RAISE_HINT}) and was "
            "killed by the kernel's out-of-memory killer")


def _error_name(result: FenceResult) -> str:
    for output in reversed(result.outputs):
        if output.mime == ERROR:
            return str(output.meta.get("ename", ""))
    return ""


def _explain(result: FenceResult, why: str) -> None:
    """Say first that the fence ran out of memory: in the log line and its error block."""
    result.message = bound_line(f"{why}: {result.message}" if result.message else why)
    for output in reversed(result.outputs):
        if output.mime == ERROR and isinstance(output.data, str):
            output.data = f"The fence {why}.\n\n{output.data}"
            break


def _data_size() -> int:
    """This process's private writable memory (what RLIMIT_DATA counts), in bytes."""
    try:
        with open("/proc/self/status", "rb") as fh:
            match = re.search(rb"^VmData:\s+(\d+) kB", fh.read(), re.M)
    except OSError:
        return 0
    return int(match[1]) * 1024 if match else 0


def machine_memory() -> int | None:
    """The memory this machine gives, in bytes: MemTotal, or less where the build's cgroup
    (v2 ``memory.max``, v1 ``memory.limit_in_bytes``, or an ancestor's) is limited."""
    total = None
    try:
        with open("/proc/meminfo", "rb") as fh:
            match = re.search(rb"^MemTotal:\s+(\d+) kB", fh.read(), re.M)
        total = int(match[1]) * 1024 if match else None
    except OSError:
        pass
    for limit in _cgroup_limits():
        total = limit if total is None else min(total, limit)
    return total


def default_memory() -> int:
    """``FENCES_MEMORY``'s default: half of :func:`machine_memory` (0, no limit, where it
    cannot be read). Not divided by ``FENCES_WORKERS``: one session may use that much."""
    total = machine_memory()
    return total // 2 if total else 0


def _cgroup_mounts() -> dict[str, tuple[str, str]]:
    """{"v2": (root, mount point), "v1": (...)}: the cgroup2 hierarchy, the v1 memory one."""
    found: dict[str, tuple[str, str]] = {}
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return found
    for line in lines:
        fields = line.split()
        if "-" not in fields:
            continue
        sep = fields.index("-")
        fstype = fields[sep + 1] if len(fields) > sep + 1 else ""
        options = fields[sep + 3].split(",") if len(fields) > sep + 3 else []
        if fstype == "cgroup2":
            found.setdefault("v2", (fields[3], fields[4]))
        elif fstype == "cgroup" and "memory" in options:
            found.setdefault("v1", (fields[3], fields[4]))
    return found


def _own_cgroups() -> dict[str, str]:
    """{"v2": path, "v1": path} of this process, from /proc/self/cgroup."""
    found: dict[str, str] = {}
    try:
        with open("/proc/self/cgroup", encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return found
    for line in lines:
        hierarchy, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        if hierarchy == "0" and not controllers:
            found["v2"] = path
        elif "memory" in controllers.split(","):
            found["v1"] = path
    return found


def cgroup_dir(mount: tuple[str, str], path: str) -> str | None:
    """The folder of cgroup ``path`` in a hierarchy mounted as ``mount`` (None: not there)."""
    root, point = mount
    if root not in ("/", ""):
        if path != root and not path.startswith(root.rstrip("/") + "/"):
            return None
        path = path[len(root):]
    folder = os.path.normpath(os.path.join(point, path.lstrip("/")))
    return folder if os.path.isdir(folder) else None


def _cgroup_limits() -> list[int]:
    """The memory limits of this process's cgroups and their ancestors, in bytes."""
    limits = []
    mounts, own = _cgroup_mounts(), _own_cgroups()
    for version, name in (("v2", "memory.max"), ("v1", "memory.limit_in_bytes")):
        if version not in mounts or version not in own:
            continue
        folder = cgroup_dir(mounts[version], own[version])
        point = os.path.normpath(mounts[version][1])
        while folder is not None:
            value = _read_int(os.path.join(folder, name))
            if value is not None and 0 < value < _NO_LIMIT:
                limits.append(value)
            if folder == point or len(folder) <= len(point):
                break
            folder = os.path.dirname(folder)
    return limits


def _read_int(path: str) -> int | None:
    try:
        with open(path, encoding="ascii") as fh:
            text = fh.read().strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def _read_limit(cgroup: str) -> int | None:
    value = _read_int(os.path.join(cgroup, "memory.max"))
    return value if value is not None and value < _NO_LIMIT else None


def _oom_kills(cgroup: str) -> int:
    """How many processes of ``cgroup`` the out-of-memory killer killed (``memory.events``)."""
    try:
        with open(os.path.join(cgroup, "memory.events"), encoding="ascii") as fh:
            text = fh.read()
    except OSError:
        return 0
    match = re.search(r"^oom_kill (\d+)$", text, re.M)
    return int(match[1]) if match else 0


def session_cgroup_parent(mounts: dict[str, tuple[str, str]] | None = None,
                          own: dict[str, str] | None = None) -> str | None:
    """Where this process may make cgroups with a ``memory.max`` of their own: its cgroup2
    group when that is the hierarchy's root, else that group's parent; in either case
    only when the memory controller is enabled for its children (``cgroup.subtree_control``:
    the root, or a delegated subtree) and the folder is writable. None: use RLIMIT_DATA.
    ``mounts`` and ``own`` default to this process's (see :func:`_cgroup_mounts`)."""
    mounts = _cgroup_mounts() if mounts is None else mounts
    own = _own_cgroups() if own is None else own
    if "v2" not in mounts or "v2" not in own:
        return None
    folder = cgroup_dir(mounts["v2"], own["v2"])
    if folder is None:
        return None
    point = os.path.normpath(mounts["v2"][1])
    candidate = folder if folder == point else os.path.dirname(folder)
    if len(candidate) < len(point):
        return None
    try:
        with open(os.path.join(candidate, "cgroup.subtree_control"), encoding="ascii") as fh:
            enabled = fh.read().split()
    except OSError:
        return None
    if "memory" not in enabled or not os.access(candidate, os.W_OK):
        return None
    return candidate


def _make_cgroup(parent: str, name: str) -> str | None:
    """Make ``parent/name`` with the memory controller (and no swap, so reaching the limit
    ends the fence instead of slowing it to a crawl); None where that fails. Groups left by
    guardians that were killed (their pid is gone) are removed first."""
    with contextlib.suppress(OSError):
        for entry in os.listdir(parent):
            pid = entry[len(CGROUP_PREFIX):]
            if entry.startswith(CGROUP_PREFIX) and pid.isdigit() and (
                    int(pid) == os.getpid() or not pid_alive(int(pid))):
                with contextlib.suppress(OSError):
                    os.rmdir(os.path.join(parent, entry))
    path = os.path.join(parent, name)
    try:
        os.mkdir(path)
    except OSError:
        return None
    if not os.path.exists(os.path.join(path, "memory.max")):
        _remove_cgroup(path)
        return None
    with contextlib.suppress(OSError):
        with open(os.path.join(path, "memory.swap.max"), "w") as fh:
            fh.write("0\n")
    return path


def _remove_cgroup(path: str) -> None:
    """rmdir a cgroup once its last process is gone (a reaped process may linger briefly)."""
    for _ in range(50):
        try:
            os.rmdir(path)
            return
        except OSError as exc:
            if exc.errno != errno.EBUSY:
                return
            time.sleep(0.01)
