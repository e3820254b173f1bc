"""One benchmark row at a time on this machine's GPUs.

Sessions run side by side (``FENCES_WORKERS``); two of them timing kernels on one GPU at once
would each measure the other's work. A GPU row holds an exclusive lock on a file shared by
every session of this user while it is timed (CPU rows never wait: they share the cores
as the workers do, which ``FENCES_WORKERS=1`` avoids when CPU timings must be quiet too).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator


def lock_path() -> str:
    return os.path.join(tempfile.gettempdir(), f"execblog-gpu-bench-{os.getuid()}.lock")


@contextlib.contextmanager
def gpu_lock(gpu: bool) -> Iterator[None]:
    """Hold the machine's GPU benchmark lock while the body runs (nothing for a CPU row)."""
    if not gpu:
        yield
        return
    fd = os.open(lock_path(), os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
