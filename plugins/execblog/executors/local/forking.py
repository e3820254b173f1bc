"""Forks of a session, and whether one would be the same state.

A CUDA context does not survive a fork, so a session that set up a GPU is never forked
(no snapshot, no figures drawn in copies). Whether it did is read from the kernel: once the
driver is initialised (by CuPy, PyTorch, JAX or a ``cuda`` fence's program) the process holds
the NVIDIA device files open and mapped. Importing a GPU library does not open them, so a
session that imported CuPy or PyTorch without computing on the GPU stays forkable.
"""

from __future__ import annotations

import os
import warnings

DEVICE_PREFIX = "/dev/nvidia"


def gpu_in_use() -> bool:
    """True when this process set up an NVIDIA GPU (a device file is open or mapped)."""
    if gpu_files_open():
        return True
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as fh:
            return any(DEVICE_PREFIX in line for line in fh)
    except OSError:
        return False


def gpu_files_open() -> bool:
    """True when this process holds an NVIDIA device file open: the cheap half of
    :func:`gpu_in_use` (about 0.1 ms), for the check after every fence. On an H200 the open
    files and the mappings appeared together, exactly when CUDA was set up."""
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith(DEVICE_PREFIX):
                return True
        except OSError:
            continue
    return False


def fork() -> int:
    """``os.fork()`` without Python 3.12's DeprecationWarning about other threads.

    The engine forks only where it checked the state first (no Python thread; a fork server
    whose libraries left an idle pool thread, which they re-create in the child): the
    warning would only land in a fence's stderr, whose ``warnings`` filters are the
    author's.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning,
                                message=r"This process .* is multi-threaded")
        return os.fork()


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (a zombie counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
