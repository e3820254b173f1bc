"""Worker side: one process per session, forked from a warm fork server.

A session process gets fences one at a time from the host, runs each in the session's
namespace, and sends back a FenceResult. Whatever it does (segfault, ``os._exit``, an
infinite loop) only this process dies; the host notices and fails this session alone. The
process that runs fences is a child of a guardian (``execblog.executors.local.containment``) that
kills whatever the session started once it ends.
"""

from __future__ import annotations

import contextlib
import linecache
import logging
import multiprocessing
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
import types
import warnings
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any

from execblog.engine import profiling
from execblog.engine.backends import (
    AUTO,
    BackendResolver,
    BackendUnavailable,
    LazyBackend,
    combine,
)
from execblog.engine.bounds import bound_line, bound_output
from execblog.engine.manager import make_manager
from execblog.engine.model import (
    ERROR,
    EXPECTED_ERROR,
    FAILED,
    RAN,
    STREAM,
    Fence,
    FenceError,
    FenceKind,
    FenceResult,
    Output,
)
from execblog.kernel.paths import content_root, scrub

from .capture import StreamCapture
from .containment import PR_SET_CHILD_SUBREAPER, _prctl, descendants, exit_now, guard
from .forking import fork, gpu_files_open, gpu_in_use
from .memory import MEMORY_NOTE, MemoryLimit


class Session:
    """The state of one session: namespace, backend, outputs of the running fence."""

    def __init__(self, plugins: list[str], capture_dir: str, settings: dict[str, Any]):
        self.pm = make_manager(plugins)
        self.settings = settings
        self.kinds: dict[str, FenceKind] = {
            kind.name: kind for kinds in self.pm.hook.fences_kinds() for kind in kinds
        }
        candidates = [c for cands in self.pm.hook.fences_backend_candidates() for c in cands]
        self.backends = BackendResolver(candidates)
        self.trackers = [c.tracker() for c in self.backends.candidates if c.tracker]
        # how a fence tells the host it spent time starting a backend (see session_loop.Grace)
        self.notify: Any = lambda message: None
        self.startup = 0.0  # seconds the running fence spent starting backends
        self.shown: list[Any] = []  # values the running fence displayed
        # The namespace is a real ``__main__`` module, as in a script: functions defined in
        # a fence pickle by reference, so multiprocessing pools can run them.
        main = types.ModuleType("__main__")
        sys.modules["__main__"] = main
        self.namespace: dict[str, Any] = main.__dict__
        self.namespace["__builtins__"] = __builtins__
        self.pid = os.getpid()
        self.lines: list[str] = []  # the post as far as the session knows it (tracebacks)
        self.backend: LazyBackend | None = None
        self.fence: Fence | None = None
        self.outputs: list[Output] = []
        self.capture = StreamCapture(capture_dir)
        self.capture_dir = capture_dir
        self.ran_with: dict[str, Any] | None = None
        self.logs: list[tuple[int, str]] = []
        handler = _ListHandler(self.logs)
        logging.getLogger("fences").addHandler(handler)  # plugins log under "fences.*"
        logging.getLogger("fences").propagate = False

    # -- used by kinds and by the names injected into the namespace ------------------------
    def emit(self, output: Output) -> None:
        """Add an output after whatever was printed so far, bounded (see
        ``execblog.engine.bounds``)."""
        self._drain()
        self.outputs.append(bound_output(output))

    def display(self, value: Any) -> None:
        """Show a value with the first plugin that can format it (IPython protocol...)."""
        self._drain()
        self.shown.append(value)
        options = self.fence.options if self.fence is not None else {}
        outputs = self.pm.hook.fences_format_value(value=value, options=options,
                                                   settings=self.settings) or []
        self.outputs.extend(bound_output(o) for o in outputs)

    @property
    def workdir(self) -> str:
        """A private folder for files the session makes (compiled programs); it goes when
        the session does, however it ends (it lives in the host's capture folder)."""
        path = os.path.join(self.capture_dir, "work")
        os.makedirs(path, exist_ok=True)
        return path

    def label(self, record: dict[str, Any]) -> None:
        """Say what made this fence's result when no array backend did (a compiler, a GPU):
        ``name``, ``label``, ``device``, ``gpu``, ``versions`` and, for kinds with a
        toolchain, its ``toolchain`` identity. Shown beside the outputs and cached."""
        self.ran_with = dict(record)

    # -- one fence ---------------------------------------------------------------------------
    def run(self, fence: Fence) -> FenceResult:
        if self.fence is None:
            sys.argv = [fence.source]  # as if the post were the script; no build paths
            sys.path.insert(0, os.path.dirname(fence.path))  # and, as for a script, its
            # folder comes first on sys.path: a module next to the post imports
        self.fence, self.outputs, self.ran_with = fence, [], None
        self.logs.clear()
        self.shown, self.startup = [], 0.0
        self.backends.touched.clear()
        bound = {name: id(value) for name, value in self.namespace.items()}
        for tracker in self.trackers:
            tracker.start()
        self._remember_lines(fence)
        kind = self.kinds[fence.kind]
        os.chdir(os.path.dirname(fence.path))  # relative paths (inputs=...) are the post's
        started = time.perf_counter()
        status, message, line = RAN, "", None
        with self.capture, _warnings_hidden(fence.options.warning is False):
            try:
                try:
                    if kind.uses_backend:
                        self._bind_backend(getattr(fence.options, "backend", None) or AUTO)
                    kind.run(fence, self)
                    self._finish_gpu_work()
                finally:
                    self._exit_if_forked()
            except FenceError as exc:
                status = EXPECTED_ERROR if fence.options.error else FAILED
                message, line = str(exc), exc.line
                self.emit(Output(ERROR, exc.detail or message, {}))
            except BackendUnavailable as exc:
                chosen = getattr(fence.options, "backend", None)
                status, message = FAILED, f"backend={chosen}: {exc}"
                self.emit(Output(ERROR, message, {}))
            except BaseException as exc:  # noqa: BLE001 - author code may raise anything
                text, line = format_error(exc, fence.source)
                status = EXPECTED_ERROR if fence.options.error else FAILED
                message = traceback.format_exception_only(type(exc), exc)[-1].strip()
                self.emit(Output(ERROR, text, {"ename": type(exc).__name__}))
            problem = self._capture_leftovers(fence)
            if problem and status not in (FAILED, EXPECTED_ERROR):
                status, message = FAILED, problem
            self._drain()
        root = content_root(fence.path, fence.source)
        return FenceResult(
            status=status,
            outputs=[_located(o, fence, root) for o in _merge_streams(self.outputs)],
            seconds=time.perf_counter() - started - self.startup,
            backend=self._ran_on(bound) if kind.uses_backend else self.ran_with,
            message=scrub(bound_line(message), root),
            line=line,
            logs=[(level, scrub(text, root)) for level, text in self.logs],
        )

    def _remember_lines(self, fence: Fence) -> None:
        """Give tracebacks the post's lines under its content path (no file is read)."""
        lines = fence.exec_code.splitlines(keepends=True)
        if len(self.lines) < len(lines):
            self.lines += ["\n"] * (len(lines) - len(self.lines))
        first = max(fence.code_line - 1, 0)
        self.lines[first : len(lines)] = lines[first:]
        linecache.cache[fence.source] = (len(self.lines), None, self.lines, fence.source)

    def _exit_if_forked(self) -> None:
        """A process the fence forked (``os.fork()``) that comes back here ends quietly:
        only the session itself reports results."""
        if os.getpid() != self.pid:
            exit_now(sys.exc_info()[1])

    def _bind_backend(self, request: str) -> None:
        """Bind ``xp``, ``to_numpy`` and ``backend`` for ``request``. ``auto`` is resolved at
        its first use (see :class:`execblog.engine.backends.LazyBackend`); a backend asked for by
        name now, so that one that cannot run fails the fence even if it never uses it."""
        if self.backend is None or self.backend.request != request:
            self.backend = LazyBackend(self.backends, request, self._starting_backend)
            self.pm.hook.fences_session_setup(
                namespace=self.namespace, backend=self.backend, backends=self.backends,
                settings=self.settings,
            )
            self.namespace["display"] = self._display_many
        if request != AUTO:
            self.backend.resolve()

    @contextlib.contextmanager
    def _starting_backend(self) -> Iterator[None]:
        """Starting a backend (CuPy's import, CUDA's set-up) is not the fence's time: the
        host's clock for the fence stops meanwhile (``session_loop.Grace``)."""
        self.notify(("grace", True))
        started = time.perf_counter()
        try:
            yield
        finally:
            self.startup += time.perf_counter() - started
            self.notify(("grace", False))

    def _finish_gpu_work(self) -> None:
        """Wait for the GPU work the fence queued, so that a faulting kernel fails this
        fence (not the next) and its ``seconds`` include that work."""
        if not gpu_files_open():
            return
        for backend in self.backends.resolved():
            if backend.is_gpu:
                backend.synchronize()
        for tracker in self.trackers:
            tracker.synchronize()

    def _ran_on(self, bound: dict[str, int]) -> dict[str, Any] | None:
        """What the fence computed with: the backends it was handed (``xp``, or
        ``benchmark(backends=...)``), then what the trackers saw in the values it bound or
        displayed. None of them: the fallback (NumPy), marked ``plain``, or the backend the
        fence asked for by name."""
        records = [backend.describe() for backend in self.backends.touched]
        values = [value for name, value in self.namespace.items()
                  if bound.get(name) != id(value) and not name.startswith("__")]
        values += self.shown
        for tracker in self.trackers:
            try:
                records += tracker.finish(values)
            except Exception as exc:  # noqa: BLE001 - a label must never fail a fence
                logging.getLogger("fences.backends").debug("usage tracker failed: %r", exc)
        found = combine(records)
        if found is not None:
            return found
        try:
            fallback = self.backends.fallback()
        except BackendUnavailable:
            return None
        return {**fallback.describe(), "plain": True}

    def _display_many(self, *values: Any) -> None:
        for value in values:
            self.display(value)

    def _capture_leftovers(self, fence: Fence) -> str:
        """Emit what plugins collect at the end of a fence (open figures...); return a
        one-line problem when that failed (the fence then fails: nothing is cached)."""
        try:
            for outputs in self.pm.hook.fences_capture_outputs(
                namespace=self.namespace, options=fence.options, settings=self.settings
            ):
                for output in outputs or []:
                    self.emit(output)
        except Exception as exc:
            problem = f"capturing outputs failed: {type(exc).__name__}: {exc}"
            text, _ = format_error(exc, fence.source)
            self.emit(Output(ERROR, f"{problem}\n\n{text}", {"ename": type(exc).__name__}))
            return problem
        return ""

    def _drain(self) -> None:
        self.outputs.extend(self.capture.drain())


@contextlib.contextmanager
def _warnings_hidden(hide: bool) -> Iterator[None]:
    """``warning=false``: Python warnings raised while the fence runs and its figures are
    drawn are ignored (the ``warnings`` module only: other stderr output is still shown).
    Otherwise the filters are left alone, so a fence's ``warnings.filterwarnings`` holds
    for the rest of its session."""
    if not hide:
        yield
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


class _ListHandler(logging.Handler):
    """Keeps plugin log records with the fence's result; the host logs them, located."""

    def __init__(self, records: list[tuple[int, str]]):
        super().__init__(logging.INFO)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.levelno, bound_line(record.getMessage())))


def format_error(exc: BaseException, filename: str) -> tuple[str, int | None]:
    """Traceback trimmed to the author's code (frames in the post file and below).

    Fences are compiled with the post's content path as file name (``posts/x.md``), so the
    text never holds the build machine's absolute path: it lands in pages and, for
    ``error=true``, in the cache.
    """
    tbe = traceback.TracebackException.from_exception(exc)
    frames = list(tbe.stack)
    first = next((i for i, f in enumerate(frames) if f.filename == filename), len(frames))
    tbe.stack = traceback.StackSummary.from_list(frames[first:])
    ours = [f.lineno for f in frames if f.filename == filename]
    line = ours[-1] if ours else None
    if isinstance(exc, SyntaxError) and exc.filename == filename:
        line = exc.lineno
    return "".join(tbe.format()), line


def _located(output: Output, fence: Fence, root: str) -> Output:
    """Text that may name paths is scrubbed; an error remembers where its post was, so a
    cached traceback is re-located when the post is renamed or its lines move."""
    if output.mime in (STREAM, ERROR) and isinstance(output.data, str):
        output.data = scrub(output.data, root)
    if output.mime == ERROR:
        output.meta["origin"] = [fence.source, fence.line]
    return output


def _merge_streams(outputs: list[Output]) -> list[Output]:
    merged: list[Output] = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and out.mime == STREAM == prev.mime
            and prev.meta.get("name") == out.meta.get("name")
            and "truncated" not in prev.meta
        ):
            prev.data = str(prev.data) + str(out.data)
            prev.meta.update(out.meta)
        else:
            merged.append(out)
    return merged


def session_main(conn: Any, plugins: list[str], settings: dict[str, Any], host_pid: int,
                 capture_dir: str) -> None:
    """Entry point of a session process: a guardian (see ``execblog.executors.local.containment``)
    around the process that runs fences until the host sends None, under a memory limit."""
    memory = MemoryLimit(settings, note=os.path.join(capture_dir, MEMORY_NOTE))

    def serve() -> None:
        guardian = profiling.process_cpu(os.getppid()) if profiling.enabled() else 0.0
        profiling.record("session: fork and guardian", guardian, pid=os.getppid())
        profiling.record("session: fork and guardian", profiling.process_cpu())
        os.environ.setdefault("MPLBACKEND", "Agg")
        # Pools in fences fork from the session, as a script's do on Linux (the fork
        # server's default would look for the fence's functions in the fork server).
        multiprocessing.set_start_method("fork", force=True)
        with profiling.phase("session: start (plugins, namespace, limits)"):
            session = Session(plugins, capture_dir, settings)
            memory.limit(session)
            session.notify = conn.send
            session.capture.attach()
        conn.send(("ready", None))
        try:
            while True:
                try:
                    fence = conn.recv()
                except EOFError:
                    return
                if fence is None:
                    return
                with profiling.phase("session: fences (their code, imports, outputs)"):
                    result = session.run(fence)
                conn.send(("result", result))
        finally:
            if profiling.enabled():  # the session leaves with os._exit: no atexit
                profiling.record("total: session process", profiling.process_cpu())
                profiling.record("session: fork and guardian",
                                 profiling.process_cpu(os.getppid()) - guardian,
                                 pid=os.getppid())
                server = profiling.parent_of(os.getppid())  # forks every session
                profiling.record("total: fork server", profiling.process_cpu(server),
                                 pid=server)

    guard(host_pid, serve, in_guardian=conn.close,
          on_host_death=lambda: shutil.rmtree(capture_dir, ignore_errors=True), memory=memory)


# -- session trees: resumable sessions (snapshots on; see fences.snapshots) --------------------
REAP_SECONDS = 0.5  # how often a parked process reaps the snapshots it inherited


def tree_main(conn: Any, plugins: list[str], settings: dict[str, Any], host_pid: int,
              tree_dir: str) -> None:
    """Entry point of a session tree: a guardian around a process that holds a fresh session
    and parks. Each run (the host connects to a parked process) is a fork of the parked
    state; after each successful fence the run forks a snapshot of itself that parks too.
    The tree ends when the host sends None over ``conn``, dies, or kills the guardian."""

    def serve() -> None:
        os.environ.setdefault("MPLBACKEND", "Agg")
        multiprocessing.set_start_method("fork", force=True)
        _prctl(PR_SET_CHILD_SUBREAPER, 1)  # snapshots orphaned by their run are reaped here
        session = Session(plugins, tree_dir, settings)
        MemoryLimit(settings).limit(session)  # RLIMIT_DATA: runs and snapshots inherit it
        session.capture.attach()
        listener = _listen(os.path.join(tree_dir, "root"))
        conn.send(("ready", listener.getsockname(), os.getpid()))
        _park(session, listener, conn)

    guard(host_pid, serve, in_guardian=conn.close,
          on_host_death=lambda: shutil.rmtree(tree_dir, ignore_errors=True))


def _listen(path: str) -> socket.socket:
    """A Unix socket in the tree's private folder (mode 0700: only this user connects)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(8)
    return listener


def _park(session: Session, listener: socket.socket, lifeline: Any = None) -> None:
    """Hold this state: each connection gets a fresh fork of it that runs fences. Returns
    when the lifeline (the tree's root only) says stop or closes."""
    watched: list[Any] = [listener] + ([lifeline] if lifeline is not None else [])
    while True:
        ready = select.select(watched, [], [], REAP_SECONDS)[0]
        _reap()
        if lifeline is not None and lifeline in ready:
            with contextlib.suppress(EOFError, OSError):
                lifeline.recv()
            return
        if listener in ready:
            client, _ = listener.accept()
            _fork_run(session, Connection(client.detach()), listener, lifeline)


def _reap() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def _fork_run(session: Session, conn: Connection, listener: socket.socket,
              lifeline: Any) -> None:
    """Fork a run of this state over ``conn``; tell the host how it ended (its wait status)."""
    try:
        run_dir = conn.recv()
    except (EOFError, OSError):
        conn.close()
        return
    pid = fork()
    if pid == 0:
        listener.close()
        if lifeline is not None:
            lifeline.close()
        try:
            _run(session, conn, run_dir)
        except BaseException as exc:  # noqa: BLE001 - report and leave, whatever it was
            exit_now(exc)
        exit_now(None)
    try:
        status = os.waitpid(pid, 0)[1]
        conn.send(("exit", status))
    except OSError:
        pass  # the host is gone or closed first: nothing to tell
    finally:
        conn.close()


def _run(session: Session, conn: Connection, run_dir: str) -> None:
    """One run: fences until the host sends None, a snapshot parked after each success."""
    _prctl(PR_SET_CHILD_SUBREAPER, 1)  # what its fences start comes back here to be killed
    os.makedirs(run_dir, exist_ok=True)
    session.capture = StreamCapture(run_dir)  # this run's own prints and working folder
    session.capture.attach()
    session.capture_dir = run_dir
    session.pid = os.getpid()
    session.notify = conn.send
    made: list[int] = []  # the snapshots this run parked
    snapping = True
    conn.send(("ready", os.getpid()))
    while True:
        try:
            fence = conn.recv()
        except EOFError:
            break
        if fence is None:
            break
        result = session.run(fence)
        note: tuple[Any, ...] | None = None
        if snapping and result.status in (RAN, EXPECTED_ERROR):
            why = unsafe_to_fork(made)
            if not why:
                try:
                    note = ("snapshot", *_snapshot(session, conn, run_dir, made))
                except OSError as exc:  # a socket path too long for TMPDIR, no more pids...
                    why = f"cannot park a snapshot ({exc})"
            if why:
                snapping, note = False, ("unsafe", why)
        conn.send(("result", result, note))
    _kill_started(made)


def _snapshot(session: Session, conn: Connection, run_dir: str,
              made: list[int]) -> tuple[str, int]:
    """Fork a copy of this state that parks (its address, its pid); the run goes on."""
    path = os.path.join(os.path.dirname(run_dir), f"s{os.getpid()}-{len(made)}")
    listener = _listen(path)  # before the fork: the host may connect at once
    pid = fork()
    if pid == 0:
        try:
            conn.close()  # the run's end must close the host's channel
            _park(session, listener)
        finally:
            os._exit(0)
    listener.close()
    made.append(pid)
    return path, pid


def unsafe_to_fork(snapshots: list[int] | None) -> str:
    """Why a fork of this session would not be the same state (empty: it would be).

    A fork keeps only the calling thread and shares the processes the session started
    instead of copying them; CUDA contexts do not survive a fork at all. ``snapshots``
    None: the processes the session started are not asked about (a fork that only draws
    figures and exits shares none of them).
    """
    if gpu_in_use():
        return "the GPU was set up in this session (a CUDA context does not survive a fork)"
    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    if others:
        return f"a thread started in this session is still running ({others[0].name})"
    native = len(os.listdir("/proc/self/task")) - 1
    if native > 0:
        return (f"{native} native thread(s) run besides the main one (a BLAS or OpenMP pool?); "
                "a fork keeps only the main thread")
    started = _started(snapshots) if snapshots is not None else []
    if started:
        return f"a process started in this session is still running (pid {started[0]})"
    return ""


def _started(snapshots: list[int]) -> list[int]:
    """Live processes below this one that are not snapshots (or runs of them)."""
    spared = set(snapshots)
    for pid in snapshots:
        spared.update(descendants(pid))
    return [pid for pid in descendants(os.getpid()) if pid not in spared and _running(pid)]


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rpartition(b")")[2].split()[0] != b"Z"
    except (OSError, IndexError):
        return False


def _kill_started(snapshots: list[int]) -> None:
    """End of a run: kill what its fences started (never its snapshots), as a session's
    guardian would."""
    while True:
        _reap()
        left = _started(snapshots)
        if not left:
            return
        for pid in left:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.005)


def probe_main(conn: Any, plugins: list[str], settings: dict[str, Any]) -> None:
    """Entry point of the backend probe: which backend does ``auto`` give on this machine?"""
    with tempfile.TemporaryDirectory(prefix="fences-probe-") as folder:
        _probe(conn, Session(plugins, folder, settings))


def _probe(conn: Any, session: Session) -> None:
    try:
        backend = session.backends.get("auto")
        conn.send(("probe", backend.describe(), session.backends.auto_reasons))
    except BackendUnavailable as exc:
        conn.send(("probe", None, [str(exc)]))
