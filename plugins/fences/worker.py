"""Worker side: one process per session, forked from a warm fork server.

A session process gets fences one at a time from the host, runs each in the session's
namespace, and sends back a FenceResult. Whatever it does (segfault, ``os._exit``, an
infinite loop) only this process dies; the host notices and fails this session alone. The
process that runs fences is a child of a guardian (``fences.containment``) that kills
whatever the session started once it ends.
"""

from __future__ import annotations

import contextlib
import linecache
import logging
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
import traceback
import types
import warnings
from collections.abc import Iterator
from typing import Any

from .backends import ArrayBackend, BackendResolver, BackendUnavailable
from .bounds import bound_line, bound_output
from .capture import StreamCapture
from .containment import exit_now, guard
from .manager import make_manager
from .model import (
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
from .paths import content_root, scrub


class Session:
    """The state of one session: namespace, backend, outputs of the running fence."""

    def __init__(self, plugins: list[str], capture_dir: str, settings: dict[str, Any]):
        self.pm = make_manager(plugins)
        self.settings = settings
        self.kinds: dict[str, FenceKind] = {
            kind.name: kind for kinds in self.pm.hook.fences_kinds() for kind in kinds
        }
        self.backends = BackendResolver(
            c for cands in self.pm.hook.fences_backend_candidates() for c in cands
        )
        # The namespace is a real ``__main__`` module, as in a script: functions defined in
        # a fence pickle by reference, so multiprocessing pools can run them.
        main = types.ModuleType("__main__")
        sys.modules["__main__"] = main
        self.namespace: dict[str, Any] = main.__dict__
        self.namespace["__builtins__"] = __builtins__
        self.pid = os.getpid()
        self.lines: list[str] = []  # the post as far as the session knows it (tracebacks)
        self.backend: ArrayBackend | None = None
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
        """Add an output after whatever was printed so far, bounded (see ``fences.bounds``)."""
        self._drain()
        self.outputs.append(bound_output(output))

    def display(self, value: Any) -> None:
        """Show a value with the first plugin that can format it (IPython protocol...)."""
        self._drain()
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
        self.fence, self.outputs, self.ran_with = fence, [], None
        self.logs.clear()
        self._remember_lines(fence)
        kind = self.kinds[fence.kind]
        os.chdir(os.path.dirname(fence.path))  # relative paths (inputs=...) are the post's
        started = time.perf_counter()
        status, message, line = RAN, "", None
        with self.capture, _warnings_hidden(fence.options.get("warning") is False):
            try:
                try:
                    if kind.uses_backend:
                        self._bind_backend(fence.options.get("backend") or "auto")
                    kind.run(fence, self)
                finally:
                    self._exit_if_forked()
            except FenceError as exc:
                status = EXPECTED_ERROR if fence.options.get("error") else FAILED
                message, line = str(exc), exc.line
                self.emit(Output(ERROR, exc.detail or message, {}))
            except BackendUnavailable as exc:
                status, message = FAILED, f"backend={fence.options.get('backend')}: {exc}"
                self.emit(Output(ERROR, message, {}))
            except BaseException as exc:  # noqa: BLE001 - author code may raise anything
                text, line = format_error(exc, fence.source)
                status = EXPECTED_ERROR if fence.options.get("error") else FAILED
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
            seconds=time.perf_counter() - started,
            backend=(self.backend.describe() if kind.uses_backend and self.backend
                     else self.ran_with),
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
        backend = self.backends.get(request)
        if backend is not self.backend:
            self.backend = backend
            self.pm.hook.fences_session_setup(
                namespace=self.namespace, backend=backend, backends=self.backends,
                settings=self.settings,
            )
            self.namespace["display"] = self._display_many

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
    """Entry point of a session process: a guardian (see ``fences.containment``) around the
    process that runs fences until the host sends None."""

    def serve() -> None:
        os.environ.setdefault("MPLBACKEND", "Agg")
        # Pools in fences fork from the session, as a script's do on Linux (the fork
        # server's default would look for the fence's functions in the fork server).
        multiprocessing.set_start_method("fork", force=True)
        session = Session(plugins, capture_dir, settings)
        session.capture.attach()
        conn.send(("ready", None))
        while True:
            try:
                fence = conn.recv()
            except EOFError:
                return
            if fence is None:
                return
            conn.send(("result", session.run(fence)))

    guard(host_pid, serve, in_guardian=conn.close,
          on_host_death=lambda: shutil.rmtree(capture_dir, ignore_errors=True))


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
