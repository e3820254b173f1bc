"""Run a program inside a fence: its stdout and stderr are the session's (captured like
Python's prints), and a non-zero exit is a located failure that says how it ended."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Sequence

from execblog.engine.model import FenceError

_SIGNALS = {
    signal.SIGSEGV: "segmentation fault",
    signal.SIGABRT: "aborted",
    signal.SIGFPE: "arithmetic error",
    signal.SIGBUS: "bus error",
    signal.SIGILL: "illegal instruction",
    signal.SIGKILL: "killed",
}


def exit_message(what: str, returncode: int) -> str:
    """``the program exited with status 3`` / ``... was killed by SIGSEGV (segmentation
    fault)``."""
    if returncode >= 0:
        return f"{what} exited with status {returncode}"
    try:
        sig = signal.Signals(-returncode)
    except ValueError:
        return f"{what} was killed by signal {-returncode}"
    known = _SIGNALS.get(sig)
    return f"{what} was killed by {sig.name}" + (f" ({known})" if known else "")


def run_program(argv: Sequence[str], *, what: str, line: int, cwd: str | None = None,
                env: dict[str, str] | None = None, pass_fds: Sequence[int] = ()) -> int:
    """Run ``argv`` with the session's stdout/stderr and no stdin; raise a
    :class:`FenceError` at ``line`` unless it exits with status 0."""
    try:
        proc = subprocess.run(list(argv), cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                              pass_fds=tuple(pass_fds), check=False)
    except OSError as exc:
        raise FenceError(f"cannot start {what}: {exc.strerror or exc}", line) from None
    if proc.returncode != 0:
        raise FenceError(exit_message(what, proc.returncode), line)
    return proc.returncode
