"""Containment: nothing a session starts outlives the session, or the build.

Each session process is a *guardian* that runs no author code. It becomes the leader of a
new process session (so a Ctrl-C in the terminal reaches only the build, which then stops
its sessions itself) and a child subreaper (so a double-forked daemon comes back to it as
an orphan instead of escaping to init), then forks the process that runs the fences. It
waits, in a plain ``poll``, for that process to end or for the build process to die; then
it kills every process left below it and exits with the session's own status. Because the
guardian never runs fences, it reacts even while a fence is stuck in C code holding the
GIL, and even when the build was killed with SIGKILL.

The fence process asks the kernel to kill it if the guardian dies (``PR_SET_PDEATHSIG``),
so killing the guardian's process group is the last resort that always works.

Memory: the guardian also makes and removes the session's cgroup where one can be made
(``execblog.executors.local.memory``).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import select
import signal
import sys
import time
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn

from . import forking

if TYPE_CHECKING:
    from .memory import MemoryLimit

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
POLL_SECONDS = 0.2  # only where pidfds are missing (kernels before 5.3)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class _Stop(Exception):
    """Raised in the guardian by a stop signal: kill everything and leave."""


def _prctl(option: int, value: int) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False  # not Linux: process groups still apply


def guard(
    host_pid: int,
    run: Callable[[], None],
    in_guardian: Callable[[], None],
    on_host_death: Callable[[], None],
    memory: MemoryLimit | None = None,
) -> NoReturn:
    """Run ``run()`` in a child of this process and contain everything it starts.

    Returns never: exits with the child's status (by the same signal when it was killed).
    ``in_guardian`` runs in the guardian right after the fork (close the child's pipe end
    there, so the host sees the child's death); ``on_host_death`` cleans what the build
    would have cleaned had it lived. ``memory``: the child runs in a cgroup of its own
    where one can be made (see :class:`MemoryLimit`).
    """
    os.setsid()
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    guardian = os.getpid()
    if memory is not None:
        with contextlib.suppress(Exception):  # no cgroup: the rlimit does it
            memory.prepare()
    child = forking.fork()
    if child == 0:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != guardian:  # the guardian died before the request took effect
            os._exit(1)
        if memory is not None:
            memory.enter()
        _run_and_exit(run)
    in_guardian()
    status: int | None = None
    host_died = False

    def stop(signum: int, frame: object) -> None:
        raise _Stop

    for sig in STOP_SIGNALS:
        signal.signal(sig, stop)
    try:
        status, host_died = _wait(child, host_pid)
    except _Stop:
        pass
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    with contextlib.suppress(ProcessLookupError):
        os.kill(child, signal.SIGKILL)
    kill_descendants(guardian)
    if memory is not None:
        with contextlib.suppress(Exception):
            memory.finish(status)
    if host_died:
        with contextlib.suppress(Exception):
            on_host_death()
    _exit_like(status)


def _run_and_exit(run: Callable[[], None]) -> NoReturn:
    try:
        run()
    except BaseException as exc:  # noqa: BLE001 - report and leave, whatever it was
        exit_now(exc)
    exit_now(None)


def exit_now(exc: BaseException | None) -> NoReturn:
    """Leave this process at once, as a script ending with ``exc`` would (its exit code for
    SystemExit, 1 and a traceback on stderr for anything else), streams flushed."""
    code = 0
    if isinstance(exc, SystemExit):
        code = exc.code if isinstance(exc.code, int) else 1
    elif exc is not None:
        traceback.print_exception(exc)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def _wait(child: int, host_pid: int) -> tuple[int | None, bool]:
    """Block until ``child`` ends (its wait status, False) or the host dies (None, True)."""
    try:
        fds = [os.pidfd_open(child), os.pidfd_open(host_pid)]
    except (AttributeError, OSError):
        return _wait_polling(child, host_pid)
    poller = select.poll()
    for fd in fds:
        poller.register(fd, select.POLLIN)
    while True:
        ready = {fd for fd, _ in poller.poll()}
        if fds[0] in ready:
            return os.waitpid(child, 0)[1], False
        if fds[1] in ready:
            return None, True


def _wait_polling(child: int, host_pid: int) -> tuple[int | None, bool]:
    while True:
        pid, status = os.waitpid(child, os.WNOHANG)
        if pid:
            return status, False
        if not forking.pid_alive(host_pid):
            return None, True
        time.sleep(POLL_SECONDS)


def kill_descendants(root: int) -> None:
    """SIGKILL every process below ``root`` and reap them; returns when none is left.

    Orphans come back to ``root`` (a subreaper), so waiting on its children is enough to
    know when everything is gone. The common case, nothing left, costs one ``waitpid``.
    """
    while True:
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            return
        for pid in descendants(root):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.005)


def descendants(root: int) -> list[int]:
    """Every process whose chain of parents leads to ``root``, read from /proc."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat.rpartition(b")")[2].split()
        if len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(name))
    found, todo = [], list(children.get(root, ()))
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def _exit_like(status: int | None) -> NoReturn:
    """Exit with the wait ``status`` of the fence process: same code, or same signal."""
    if status is None:
        os._exit(70)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(
                resource.RLIMIT_CORE)[1]))
        with contextlib.suppress(ValueError, OSError):  # SIGKILL takes no handler: no need
            signal.signal(sig, signal.SIG_DFL)
        with contextlib.suppress(OSError):
            os.kill(os.getpid(), sig)
        os._exit(128 + sig)
    os._exit(os.waitstatus_to_exitcode(status))
