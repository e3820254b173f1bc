"""Execute: sessions run in processes forked from a warm fork server, several at once.

The fork server imports NumPy and matplotlib once (``execblog.executors.local.preload``); each
session is a fresh fork of it, so sessions never share state, start in milliseconds, and whatever
kills one (segfault, ``os._exit``, a timeout) kills nothing else. The Pelican process never
imports CuPy, and the fork server never initialises CUDA, so nothing forks after CUDA.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing import forkserver, resource_tracker, spawn
from multiprocessing.connection import Client
from typing import Any

from execblog.engine import profiling
from execblog.engine.model import Fence, FenceResult, Output
from execblog.kernel.paths import content_root, scrub

from ..session_loop import Died, Grace, TimedOut, interrupted, run_session
from . import worker
from .capture import read_left_behind
from .containment import descendants
from .memory import memory_note
from .snapshots import MAX_SNAPSHOT_BYTES, MAX_SNAPSHOTS, SnapshotStore, Tree

STARTUP_TIMEOUT = 120.0
BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
HOST_MAIN_VARIABLE = "FENCES_HOST_MAIN"
PRELOAD_VARIABLE = "FENCES_PRELOAD_BACKENDS"  # FENCES_PRELOAD, for fences.preload


@dataclass
class Resumed:
    """What :meth:`SessionPool.resume` gives: the results of ``fences[start:]`` (the
    earlier ones were not run: the engine has them cached), and a note to log."""

    start: int
    results: list[FenceResult]
    note: tuple[Fence, str] | None = None


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
        self.snapshots: SnapshotStore | None = None  # see enable_snapshots
        # priming runs (see prime), one at a time, never in front of a real run
        self._priming = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fences-prime")
        # Off the worker threads: ending the sessions whose results are in (_end) and
        # starting spare session processes for queued sessions (_session_process), so that
        # a worker goes from one session's last fence to the next session's first at once.
        self._aside = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fences-aside")
        self._queued = 0  # sessions submitted, not yet started
        self._spares: deque[Future[tuple[Any, Any, str]]] = deque()
        # Queued sessions, the longest expected first (see expect), then in submission order.
        self._heap: list[tuple[float, int, list[Fence], Future[list[FenceResult]]]] = []
        self._order = itertools.count()
        self._expected: dict[str, float] = {}
        profiling.record_at_exit("total: Pelican process")

    def _context(self) -> Any:
        with self._lock:
            if self._ctx is None:
                self._ctx = fork_context(self.workers,
                                         list(self.settings.get("FENCES_PRELOAD") or []))
            return self._ctx

    def start(self) -> None:
        """Start the fork server now: it imports NumPy and matplotlib while Pelican reads."""
        self._context()
        _ensure_fork_server()

    def expect(self, seconds: dict[str, float]) -> None:
        """Seconds each fence (by cache key) took when it last ran: of the sessions waiting
        for a worker, the one expected to take longest starts first, so that a long one
        queued last does not run alone at the end of the build. Sessions with nothing known
        start in the order they came."""
        self._expected = dict(seconds)

    def submit(self, fences: list[Fence]) -> Future[list[FenceResult]]:
        future: Future[list[FenceResult]] = Future()
        weight = sum(self._expected.get(fence.key, 0.0) for fence in fences)
        with self._lock:
            heapq.heappush(self._heap, (-weight, next(self._order), fences, future))
            self._queued += 1
        self._threads.submit(self._next_session)
        return future

    def _next_session(self) -> None:
        """A worker's turn: get a session process, then take the queued session expected to
        take longest (so that the choice is made once the fork server is up, when a cold
        build's sessions are all queued)."""
        with self._lock:
            self._queued -= 1
        opened = None
        if not self.cancelled:
            with contextlib.suppress(Exception):  # raised again in _run_session, located
                opened = self._session_process()
        with self._lock:
            _, _, fences, future = heapq.heappop(self._heap)
        if not future.set_running_or_notify_cancel():
            if opened is not None:
                self._end(*opened)
            return
        try:
            future.set_result(self._run_session(fences, opened))
        except BaseException as exc:  # noqa: BLE001 - the engine raises it where it waits
            future.set_exception(exc)

    def enable_snapshots(self, count: int = MAX_SNAPSHOTS,
                         memory: int = MAX_SNAPSHOT_BYTES) -> None:
        """Park snapshots of sessions so that an edited session resumes at the edit (see
        ``execblog.executors.local.snapshots``): for an executor that outlives one build (the
        preview). At most ``count`` snapshots and ``memory`` bytes of private memory are kept."""
        if self.snapshots is None:
            self.snapshots = SnapshotStore(self._stop_tree, count, memory)

    def resume(self, fences: list[Fence], reusable: int,
               inputs: list[Any]) -> Future[Resumed]:
        """Run a session from the latest parked snapshot among its first ``reusable``
        fences (the engine has their results), or from the start in a new tree.
        ``inputs`` are each fence's declared input digests (to say why, when they changed)."""
        return self._threads.submit(self._resume_session, fences, reusable, inputs)

    def prime(self, fences: list[Fence], inputs: list[Any]) -> Future[Resumed] | None:
        """Run a session whose results are all cached only to park its snapshots, so that
        the first edit after a preview starts resumes too. Nothing it returns is kept: the
        cached results stay as they are. On a thread of its own, one session at a time, so
        a real run never waits behind it. None when there is nothing to prime."""
        store = self.snapshots
        if store is None or self.cancelled or len(fences) < 2 or store.has(fences[-2]):
            return None
        return self._priming.submit(self._resume_session, fences, len(fences), inputs)

    def probe(self) -> tuple[dict[str, Any] | None, list[str]]:
        """Ask a worker which backend ``auto`` gives here, and why the others were passed over."""
        ctx = self._context()
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=worker.probe_main, args=(child, self.plugins, self.settings),
                           daemon=True)
        _ensure_fork_server()
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
        for *_, queued in list(self._heap):  # their turns were just dropped
            queued.cancel()
        self._priming.shutdown(wait=False, cancel_futures=True)
        for proc in list(self._live):
            _signal(proc.pid, signal.SIGTERM)  # the session's thread sees it die and joins
        for spare in list(self._spares):  # a spare has no thread: its folder goes here
            if spare.done() and spare.exception() is None:
                shutil.rmtree(spare.result()[2], ignore_errors=True)
        for proc in self.snapshots.guardians() if self.snapshots is not None else ():
            _signal(proc.pid, signal.SIGTERM)  # runs and snapshots go with their tree

    def shutdown(self) -> None:
        self._priming.shutdown(wait=False, cancel_futures=True)  # its runs die with the trees
        self._threads.shutdown(wait=True)
        with self._lock:
            spares, self._spares = list(self._spares), deque()
        for spare in spares:  # (none left unless a session failed to start)
            with contextlib.suppress(Exception):
                self._end(*spare.result())
        self._aside.shutdown(wait=True)  # no session outlives the executor
        if self.snapshots is not None:
            self.snapshots.close()  # no parked process outlives the executor

    @profiling.timed("host: starting and supervising sessions")
    def _run_session(self, fences: list[Fence],
                     opened: tuple[Any, Any, str] | None = None) -> list[FenceResult]:
        if self.cancelled:
            if opened is not None:
                self._end(*opened)
            return interrupted(fences)
        try:
            proc, parent, capture_dir = opened or self._session_process()
        except Exception:
            if self.cancelled:  # Ctrl-C reached the fork server too
                return interrupted(fences)
            raise
        try:
            if self.cancelled:  # cancel() ran between the check above and the start
                return interrupted(fences)
            channel = _LocalChannel(proc, parent, capture_dir)
            results = run_session(channel, fences, self.default_timeout, lambda: self.cancelled)
            self._label(results)
            return results
        finally:
            self._end(proc, parent, capture_dir)

    def _session_process(self) -> tuple[Any, Any, str]:
        """A session process for the session about to run: a spare started while the last
        one ran, or a new one; and a spare started for the next, while sessions are queued.
        A spare is a fresh fork of the fork server like any session process, only forked a
        little earlier; one that died meanwhile is replaced."""
        with self._lock:
            spare = self._spares.popleft() if self._spares else None
            if self._queued > len(self._spares) and not self.cancelled:
                with contextlib.suppress(RuntimeError):  # shut down: no spare
                    made = self._aside.submit(self._spare)
                    made.add_done_callback(self._drop_if_cancelled)
                    self._spares.append(made)
        if spare is not None:
            try:
                proc, parent, capture_dir = spare.result()
            except Exception:  # noqa: BLE001 - it could not start: one is started here
                pass
            else:
                if proc.is_alive():
                    return proc, parent, capture_dir
                self._end(proc, parent, capture_dir)
        return self._open()

    def _spare(self) -> tuple[Any, Any, str]:
        opened = self._open()
        if self.cancelled:  # cancel() may have come before it was listed: end it here
            proc, conn, folder = opened
            _stop(proc, conn)
            self._live.discard(proc)
            shutil.rmtree(folder, ignore_errors=True)
            raise RuntimeError("the build was interrupted")
        return opened

    def _drop_if_cancelled(self, made: Future[tuple[Any, Any, str]]) -> None:
        """A spare started as the build was interrupted: its folder goes (cancel() took
        those of the spares started before)."""
        if self.cancelled and not made.cancelled() and made.exception() is None:
            shutil.rmtree(made.result()[2], ignore_errors=True)

    def _open(self) -> tuple[Any, Any, str]:
        """Fork a session process: (the process, the host's end of its pipe, its folder)."""
        ctx = self._context()
        parent, child = ctx.Pipe()
        capture_dir = tempfile.mkdtemp(prefix="fences-session-")
        # Not daemonic: author code may start its own pools (daemonic processes may not).
        # The session's guardian, not multiprocessing, makes sure nothing outlives it.
        proc = ctx.Process(target=worker.session_main,
                           args=(child, self.plugins, self.settings, os.getpid(), capture_dir),
                           daemon=False)
        with profiling.phase("host: forking a session"):
            _start(proc, capture_dir, parent, child)
        self._live.add(proc)
        child.close()
        return proc, parent, capture_dir

    def _end(self, proc: Any, conn: Any, capture_dir: str) -> None:
        """End a session (ask it to leave, its guardian kills what it started) and remove its
        folder: on a thread of its own, so that the worker starts its next session at once;
        here when that thread is gone (the pool shut down or cancelled)."""
        def end() -> None:
            with profiling.phase("host: ending a session"):
                _stop(proc, conn)
            self._live.discard(proc)
            shutil.rmtree(capture_dir, ignore_errors=True)

        try:
            self._aside.submit(end)
        except RuntimeError:  # cannot schedule new futures after shutdown
            end()

    def _label(self, results: list[FenceResult]) -> None:
        for result in results:
            result.ran_on = {"executor": self.name, "worker": socket.gethostname(),
                             "device": (result.backend or {}).get("device")}

    # -- resumable sessions ---------------------------------------------------------------------
    def _resume_session(self, fences: list[Fence], reusable: int,
                        inputs: list[Any]) -> Resumed:
        store = self.snapshots
        if self.cancelled or store is None:
            return Resumed(0, interrupted(fences) if self.cancelled else self._run_session(fences))
        plan = store.plan(fences, reusable, inputs)
        tree = plan.snapshot.tree if plan.snapshot is not None else self._start_tree(store)
        if tree is None:  # no tree could start: a plain session, as without snapshots
            return Resumed(0, self._run_session(fences), plan.note)
        try:
            address = plan.snapshot.address if plan.snapshot is not None else tree.address
            channel = _TreeChannel(Client(address, family="AF_UNIX"), tree.run_dir(), store,
                                   tree)
        except OSError:  # the snapshot is gone (killed from outside): start afresh
            store.release(plan.snapshot, tree)
            if plan.snapshot is None:
                return Resumed(0, self._run_session(fences), plan.note)
            store.forget(plan.snapshot)
            return self._resume_session(fences, 0, inputs)
        try:
            results = run_session(channel, fences[plan.start:], self.default_timeout,
                                  lambda: self.cancelled)
            self._label(results)
            return Resumed(plan.start, results, plan.note)
        finally:
            channel.finish()
            store.release(plan.snapshot, tree)

    def _start_tree(self, store: SnapshotStore) -> Tree | None:
        ctx = self._context()
        parent, child = ctx.Pipe()
        folder = tempfile.mkdtemp(prefix="fences-tree-")
        proc = ctx.Process(target=worker.tree_main,
                           args=(child, self.plugins, self.settings, os.getpid(), folder),
                           daemon=False)
        _start(proc, folder, parent, child)
        child.close()
        msg = _receive(parent, STARTUP_TIMEOUT)
        if not (isinstance(msg, tuple) and msg[0] == "ready"):
            _stop(proc, parent)
            shutil.rmtree(folder, ignore_errors=True)
            return None
        tree = Tree(proc, parent, folder, address=msg[1], root=msg[2])
        store.add_tree(tree)
        return tree

    @staticmethod
    def _stop_tree(tree: Tree) -> None:
        _stop(tree.proc, tree.lifeline)  # the root leaves; its guardian kills the rest
        shutil.rmtree(tree.folder, ignore_errors=True)


def fork_context(workers: int, preload: list[str]) -> Any:
    """The forkserver context, and what the fork server must find in the environment when
    it starts (the BLAS threads of a session, the script Pelican runs as, the backends to
    import ahead)."""
    # Sessions run side by side: share the cores instead of letting every session's BLAS
    # start one thread per core (25x slower when oversubscribed).
    threads = str(max(1, (os.cpu_count() or 1) // workers))
    for var in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(var, threads)
    ctx = multiprocessing.get_context("forkserver")
    os.environ[HOST_MAIN_VARIABLE] = _main_script()
    os.environ[PRELOAD_VARIABLE] = ",".join(preload)
    ctx.set_forkserver_preload(["execblog.executors.local.preload"])
    return ctx


def start_fork_server(workers: int, preload: list[str]) -> None:
    """Start the fork server as :meth:`SessionPool.start` does, before any pool exists: the
    engine does so for the local executor before it loads its plugins (0.1 s sooner)."""
    fork_context(workers, preload)
    _ensure_fork_server()


class _LocalChannel:
    """A session process forked from the fork server, talked to over a pipe."""

    def __init__(self, proc: Any, conn: Any, capture_dir: str):
        self.proc, self.conn, self.capture_dir = proc, conn, capture_dir

    def ready(self) -> bool:
        return isinstance(_receive(self.conn, STARTUP_TIMEOUT), tuple)

    def send(self, fence: Fence) -> None:
        self.conn.send(fence)

    def receive(self, timeout: float) -> FenceResult | TimedOut | Died | Grace:
        msg = _receive(self.conn, timeout)
        if isinstance(msg, TimedOut | Died):
            return msg
        return Grace(msg[1]) if msg[0] == "grace" else msg[1]

    def left_behind(self, fence: Fence) -> list[Output]:
        """What the fence printed, read from the session's capture files, paths scrubbed."""
        return _left_behind(self.capture_dir, fence)

    def stop(self) -> None:
        _terminate(self.proc)

    def death(self) -> str:
        how = _death(self.proc)  # waits for the guardian, which leaves its note first
        return memory_note(self.capture_dir) or how


class _TreeChannel:
    """A run forked from a parked state of a session tree, talked to over a Unix socket.

    The parked process it forked from reports how it ended (``("exit", wait status)``).
    """

    def __init__(self, conn: Any, run_dir: str, store: SnapshotStore, tree: Tree):
        self.conn, self.capture_dir, self.store, self.tree = conn, run_dir, store, tree
        self.pid: int | None = None
        self.status: int | None = None
        self.made: list[int] = []  # snapshots this run parked
        self.fence: Fence | None = None

    def ready(self) -> bool:
        try:
            self.conn.send(self.capture_dir)
        except OSError:
            return False
        msg = _receive(self.conn, STARTUP_TIMEOUT)
        if isinstance(msg, tuple) and msg[0] == "ready":
            self.pid = msg[1]
            return True
        if isinstance(msg, tuple) and msg[0] == "exit":
            self.status = msg[1]
        return False

    def send(self, fence: Fence) -> None:
        self.fence = fence
        self.conn.send(fence)

    def receive(self, timeout: float) -> FenceResult | TimedOut | Died | Grace:
        msg = _receive(self.conn, timeout)
        if isinstance(msg, TimedOut | Died):
            return msg
        if msg[0] == "grace":
            return Grace(msg[1])
        if msg[0] == "exit":
            self.status = msg[1]
            return Died()
        _, result, note = msg
        if self.fence is not None and note is not None:
            if note[0] == "snapshot":
                self.made.append(note[2])
                self.store.parked(self.fence, self.tree, note[1], note[2])
            else:
                self.store.refused(self.fence, note[1])
        return result

    def left_behind(self, fence: Fence) -> list[Output]:
        return _left_behind(self.capture_dir, fence)

    def stop(self) -> None:
        """Kill the run and what its fences started; the snapshots it parked stay."""
        if self.pid is None:
            return
        spared = set(self.made)
        for pid in self.made:
            spared.update(descendants(pid))
        for pid in [p for p in descendants(self.pid) if p not in spared] + [self.pid]:
            _signal(pid, signal.SIGKILL)

    def death(self) -> str:
        if self.status is None:
            return "stopped answering"
        return _describe_exit(os.waitstatus_to_exitcode(self.status))

    def finish(self) -> None:
        """End the run (it kills what its fences started), then close the channel."""
        try:
            if self.status is None:
                self.conn.send(None)
                msg = _receive(self.conn, 2)
                if not (isinstance(msg, tuple) and msg[0] == "exit"):
                    self.stop()
        except (OSError, ValueError):
            pass
        self.conn.close()


def _left_behind(capture_dir: str, fence: Fence) -> list[Output]:
    root = content_root(fence.path, fence.source)
    printed = read_left_behind(capture_dir)
    for output in printed:
        output.data = scrub(str(output.data), root)
    return printed


def _main_script() -> str:
    """The script this process runs as (``bin/pelican``), as multiprocessing sends it.

    A forkserver child re-runs the parent's main script unless its own ``__main__`` already
    has that ``__file__`` (the stdlib's ``"__main__"`` preload does not pass the path in
    3.11), so ``execblog.executors.local.preload`` adopts the path: no session re-imports Pelican
    (0.1 s each).
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
    return _describe_exit(proc.exitcode)


# What a signal that ends a session usually means, for messages.
SIGNAL_MEANINGS = {
    signal.SIGKILL: "often the out-of-memory killer",
    signal.SIGSEGV: "an invalid memory access, often in native code",
    signal.SIGABRT: "aborted, often by a failed check or a failed allocation in native code",
    signal.SIGBUS: "a bad memory access, often past the end of a memory-mapped file",
    signal.SIGFPE: "an arithmetic error, such as an integer division by zero",
    signal.SIGILL: "an illegal instruction, often code built for another CPU",
    signal.SIGTERM: "asked to stop",
    signal.SIGPIPE: "wrote to a pipe nobody reads",
}


def _describe_exit(code: int | None) -> str:
    """``exited with status 3``, ``crashed (SIGSEGV: an invalid memory access...)``,
    ``was killed (SIGKILL), often the out-of-memory killer``. A status above 128 is how a
    shell reports a signal (137 = 128 + SIGKILL): it is described as that signal too."""
    if code is None:
        return "stopped answering"
    if code < 0:
        return _describe_signal(-code)
    if 128 < code < 128 + signal.NSIG:
        with contextlib.suppress(ValueError):
            sig = signal.Signals(code - 128)
            meaning = SIGNAL_MEANINGS.get(sig)
            return f"exited with status {code} (128 + {sig.name}" + (
                f": {meaning})" if meaning else ")")
    return f"exited with status {code}"


def _describe_signal(number: int) -> str:
    try:
        sig = signal.Signals(number)
    except ValueError:
        return f"was killed by signal {number}"
    meaning = SIGNAL_MEANINGS.get(sig)
    if sig == signal.SIGKILL:
        return f"was killed (SIGKILL), {meaning}"
    if sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        return f"was stopped ({sig.name})"
    return f"crashed ({sig.name}: {meaning})" if meaning else f"crashed ({sig.name})"


def _ensure_fork_server() -> None:
    """Start the fork server (if not running) with SIGINT blocked: the terminal's Ctrl-C
    reaches it too, and waits until ``execblog.executors.local.preload`` can end it quietly instead
    of printing a ``KeyboardInterrupt`` traceback from wherever its start-up was.

    multiprocessing's resource tracker is started first, on its own: its ``ensure_running``
    unblocks SIGINT when it is done (it does not restore the mask), which, were it started
    from inside ``forkserver.ensure_running``, would leave the fork server unprotected."""
    resource_tracker.ensure_running()
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        forkserver.ensure_running()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _start(proc: Any, folder: str, *conns: Any) -> None:
    """Start ``proc``; when it cannot start (the fork server is gone: Ctrl-C reaches it
    too), leave nothing behind: its pipe is closed and its folder removed."""
    try:
        _ensure_fork_server()
        proc.start()
    except BaseException:
        for conn in conns:
            conn.close()
        shutil.rmtree(folder, ignore_errors=True)
        raise


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
