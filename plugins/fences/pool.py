"""Execute: sessions run in processes forked from a warm fork server, several at once.

The fork server imports NumPy and matplotlib once (``fences.preload``); each session is a
fresh fork of it, so sessions never share state, start in milliseconds, and whatever kills
one (segfault, ``os._exit``, a timeout) kills nothing else. The Pelican process never
imports CuPy, and the fork server never initialises CUDA, so nothing forks after CUDA.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from multiprocessing import forkserver, spawn
from typing import Any

from . import worker
from .model import CRASHED, ERROR, FAILED, SKIPPED, TIMEOUT, Fence, FenceResult, Output

STARTUP_TIMEOUT = 120.0
BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
HOST_MAIN_VARIABLE = "FENCES_HOST_MAIN"
_TIMED_OUT = object()
_DIED = object()


class SessionPool:
    """Runs sessions (lists of fences) in isolated processes, ``workers`` at a time."""

    def __init__(
        self,
        workers: int,
        plugins: list[str],
        default_timeout: float,
        on_fence_done: Callable[[Fence, FenceResult], None] = lambda f, r: None,
    ):
        self.plugins = plugins
        self.workers = workers
        self.default_timeout = default_timeout
        self.on_fence_done = on_fence_done
        self._threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fences")
        self._ctx: Any = None
        self._lock = threading.Lock()

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
        proc = ctx.Process(target=worker.probe_main, args=(child, self.plugins), daemon=True)
        proc.start()
        child.close()
        try:
            msg = _receive(parent, STARTUP_TIMEOUT)
            if isinstance(msg, tuple):
                return msg[1], msg[2]
            return None, [f"the backend probe {_death(proc)}"]
        finally:
            _stop(proc, parent)

    def shutdown(self) -> None:
        self._threads.shutdown(wait=True)

    def _run_session(self, fences: list[Fence]) -> list[FenceResult]:
        ctx = self._context()
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=worker.session_main, args=(child, self.plugins, os.getpid()),
                           daemon=True)
        proc.start()
        child.close()
        results: list[FenceResult] = []
        try:
            ready = _receive(parent, STARTUP_TIMEOUT)
            if not isinstance(ready, tuple):
                why = f"the session process {_death(proc)} before running anything"
                return [self._done(f, _broken(CRASHED, why)) for f in fences]
            for i, fence in enumerate(fences):
                parent.send(fence)
                limit = float(fence.options.get("timeout") or self.default_timeout)
                msg = _receive(parent, limit)
                if msg is _TIMED_OUT:
                    proc.kill()
                    result = _broken(
                        TIMEOUT, f"timed out after {limit:g} s; the session was stopped"
                    )
                elif msg is _DIED:
                    result = _broken(CRASHED, f"the session process {_death(proc)}")
                else:
                    result = msg[1]
                results.append(self._done(fence, result))
                if result.status in (FAILED, TIMEOUT, CRASHED):
                    why = f"not run: {fence.location(result.line)} failed earlier in this session"
                    results += [self._done(f, _broken(SKIPPED, why)) for f in fences[i + 1 :]]
                    break
            return results
        finally:
            _stop(proc, parent)

    def _done(self, fence: Fence, result: FenceResult) -> FenceResult:
        self.on_fence_done(fence, result)
        return result


def _main_script() -> str:
    """The script this process runs as (``bin/pelican``), as multiprocessing sends it.

    A forkserver child re-runs the parent's main script unless its own ``__main__`` already
    has that ``__file__`` (the stdlib's ``"__main__"`` preload does not pass the path in
    3.11), so ``fences.preload`` adopts the path: no session re-imports Pelican (0.1 s each).
    Run with ``-m``, there is no path: children skip ``*.__main__`` modules anyway.
    """
    return spawn.get_preparation_data("fences").get("init_main_from_path", "")


def _broken(status: str, message: str) -> FenceResult:
    return FenceResult(status=status, outputs=[Output(ERROR, message, {})], message=message)


def _receive(conn: Any, timeout: float) -> Any:
    try:
        if not conn.poll(timeout):
            return _TIMED_OUT
        return conn.recv()
    except (EOFError, OSError):
        return _DIED


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
    try:
        if proc.is_alive():
            conn.send(None)
    except (OSError, ValueError):
        pass
    proc.join(1)
    if proc.is_alive():
        proc.kill()
        proc.join(1)
    conn.close()
