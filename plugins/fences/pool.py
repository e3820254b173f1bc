"""Execute: sessions run in processes forked from a warm fork server, several at once.

The fork server imports NumPy and matplotlib once (``fences.preload``); each session is a
fresh fork of it, so sessions never share state, start in milliseconds, and whatever kills
one (segfault, ``os._exit``, a timeout) kills nothing else. The Pelican process never
imports CuPy, and the fork server never initialises CUDA, so nothing forks after CUDA.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from multiprocessing import forkserver, spawn
from typing import Any

from . import worker
from .capture import read_left_behind
from .model import Fence, FenceResult, Output
from .paths import content_root, scrub
from .session_loop import Died, TimedOut, interrupted, run_session

STARTUP_TIMEOUT = 120.0
BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
HOST_MAIN_VARIABLE = "FENCES_HOST_MAIN"


class SessionPool:
    """The ``local`` executor: sessions in isolated processes, ``workers`` at a time."""

    name = "local"

    def __init__(self, workers: int, plugins: list[str], default_timeout: float,
                 settings: dict[str, Any] | None = None):
        self.plugins = plugins
        self.settings = settings or {}  # what hooks in the sessions get as ``settings``
        self.workers = workers
        self.default_timeout = default_timeout
        self._threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fences")
        self._ctx: Any = None
        self._lock = threading.Lock()
        self._live: set[Any] = set()  # session processes now running
        self.cancelled = False

    def _context(self) -> Any:
        with self._lock:
            if self._ctx is None:
                # Sessions run side by side: share the cores instead of letting every
                # session's BLAS start one thread per core (25x slower when oversubscribed).
                threads = str(max(1, (os.cpu_count() or 1) // self.workers))
                for var in BLAS_THREAD_VARIABLES:
                    os.environ.setdefault(var, threads)
                ctx = multiprocessing.get_context("forkserver")
                os.environ[HOST_MAIN_VARIABLE] = _main_script()
                ctx.set_forkserver_preload(["fences.preload"])
                self._ctx = ctx
            return self._ctx

    def start(self) -> None:
        """Start the fork server now: it imports NumPy and matplotlib while Pelican reads."""
        self._context()
        forkserver.ensure_running()

    def submit(self, fences: list[Fence]) -> Future[list[FenceResult]]:
        return self._threads.submit(self._run_session, fences)

    def probe(self) -> tuple[dict[str, Any] | None, list[str]]:
        """Ask a worker which backend ``auto`` gives here, and why the others were passed over."""
        ctx = self._context()
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=worker.probe_main, args=(child, self.plugins, self.settings),
                           daemon=True)
        proc.start()
        child.close()
        try:
            msg = _receive(parent, STARTUP_TIMEOUT)
            if isinstance(msg, tuple):
                return msg[1], msg[2]
            return None, [f"the backend probe {_death(proc)}"]
        finally:
            _stop(proc, parent)

    def cancel(self) -> None:
        """Stop now (the build was interrupted): drop queued sessions, kill running ones.

        Safe to call from a signal handler: it only sends signals and sets flags.
        """
        self.cancelled = True
        self._threads.shutdown(wait=False, cancel_futures=True)
        for proc in list(self._live):
            _signal(proc.pid, signal.SIGTERM)  # the session's thread sees it die and joins

    def shutdown(self) -> None:
        self._threads.shutdown(wait=True)

    def _run_session(self, fences: list[Fence]) -> list[FenceResult]:
        if self.cancelled:
            return interrupted(fences)
        ctx = self._context()
        parent, child = ctx.Pipe()
        capture_dir = tempfile.mkdtemp(prefix="fences-session-")
        # Not daemonic: author code may start its own pools (daemonic processes may not).
        # The session's guardian, not multiprocessing, makes sure nothing outlives it.
        proc = ctx.Process(target=worker.session_main,
                           args=(child, self.plugins, self.settings, os.getpid(), capture_dir),
                           daemon=False)
        proc.start()
        self._live.add(proc)
        child.close()
        try:
            if self.cancelled:  # cancel() ran between the check above and add()
                return interrupted(fences)
            channel = _LocalChannel(proc, parent, capture_dir)
            results = run_session(channel, fences, self.default_timeout, lambda: self.cancelled)
            for result in results:
                result.ran_on = {"executor": self.name, "worker": socket.gethostname(),
                                 "device": (result.backend or {}).get("device")}
            return results
        finally:
            _stop(proc, parent)
            self._live.discard(proc)
            shutil.rmtree(capture_dir, ignore_errors=True)


class _LocalChannel:
    """A session process forked from the fork server, talked to over a pipe."""

    def __init__(self, proc: Any, conn: Any, capture_dir: str):
        self.proc, self.conn, self.capture_dir = proc, conn, capture_dir

    def ready(self) -> bool:
        return isinstance(_receive(self.conn, STARTUP_TIMEOUT), tuple)

    def send(self, fence: Fence) -> None:
        self.conn.send(fence)

    def receive(self, timeout: float) -> FenceResult | TimedOut | Died:
        msg = _receive(self.conn, timeout)
        return msg if isinstance(msg, TimedOut | Died) else msg[1]

    def left_behind(self, fence: Fence) -> list[Output]:
        """What the fence printed, read from the session's capture files, paths scrubbed."""
        root = content_root(fence.path, fence.source)
        printed = read_left_behind(self.capture_dir)
        for output in printed:
            output.data = scrub(str(output.data), root)
        return printed

    def stop(self) -> None:
        _terminate(self.proc)

    def death(self) -> str:
        return _death(self.proc)


def _main_script() -> str:
    """The script this process runs as (``bin/pelican``), as multiprocessing sends it.

    A forkserver child re-runs the parent's main script unless its own ``__main__`` already
    has that ``__file__`` (the stdlib's ``"__main__"`` preload does not pass the path in
    3.11), so ``fences.preload`` adopts the path: no session re-imports Pelican (0.1 s each).
    Run with ``-m``, there is no path: children skip ``*.__main__`` modules anyway.
    """
    return spawn.get_preparation_data("fences").get("init_main_from_path", "")


def _receive(conn: Any, timeout: float) -> Any:
    try:
        if not conn.poll(timeout):
            return TimedOut()
        return conn.recv()
    except (EOFError, OSError):
        return Died()


def _death(proc: Any) -> str:
    proc.join(10)  # the fork server reports the exit status; give it time on a busy machine
    code = proc.exitcode
    if code is None:
        return "stopped answering"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"crashed ({name})"
    return f"exited with status {code}"


def _stop(proc: Any, conn: Any) -> None:
    """End a session: ask politely (None), then have its guardian kill everything."""
    try:
        if proc.is_alive():
            conn.send(None)
    except (OSError, ValueError):
        pass
    proc.join(1)
    if proc.is_alive():
        _terminate(proc)
    conn.close()


def _terminate(proc: Any) -> None:
    """SIGTERM to the guardian, which kills the fence process and all it started; SIGKILL
    to the whole process group if the guardian does not go within a second."""
    _signal(proc.pid, signal.SIGTERM)
    proc.join(1)
    if proc.is_alive():
        _signal(-proc.pid, signal.SIGKILL)  # its process group (the guardian called setsid)
        proc.join(1)
    if proc.is_alive():
        proc.kill()
        proc.join(1)


def _signal(pid: int | None, sig: int) -> None:
    if pid:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
