"""Worker side: one process per session, forked from a warm fork server.

A session process gets fences one at a time from the host, runs each in the session's
namespace, and sends back a FenceResult. Whatever it does (segfault, ``os._exit``, an
infinite loop) only this process dies; the host notices and fails this session alone.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import traceback
from typing import Any

from .backends import ArrayBackend, BackendResolver, BackendUnavailable
from .capture import StreamCapture
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


class Session:
    """The state of one session: namespace, backend, outputs of the running fence."""

    def __init__(self, plugins: list[str]):
        self.pm = make_manager(plugins)
        self.kinds: dict[str, FenceKind] = {
            kind.name: kind for kinds in self.pm.hook.fences_kinds() for kind in kinds
        }
        self.backends = BackendResolver(
            c for cands in self.pm.hook.fences_backend_candidates() for c in cands
        )
        self.namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
        self.backend: ArrayBackend | None = None
        self.fence: Fence | None = None
        self.outputs: list[Output] = []
        self.capture = StreamCapture()
        self.logs: list[tuple[int, str]] = []
        handler = _ListHandler(self.logs)
        logging.getLogger("fences").addHandler(handler)  # plugins log under "fences.*"
        logging.getLogger("fences").propagate = False

    # -- used by kinds and by the names injected into the namespace ------------------------
    def emit(self, output: Output) -> None:
        """Add an output after whatever was printed so far."""
        self._drain()
        self.outputs.append(output)

    def display(self, value: Any) -> None:
        """Show a value with the first plugin that can format it (IPython protocol...)."""
        self._drain()
        self.outputs.extend(self.pm.hook.fences_format_value(value=value) or [])

    # -- one fence ---------------------------------------------------------------------------
    def run(self, fence: Fence) -> FenceResult:
        self.fence, self.outputs = fence, []
        self.logs.clear()
        kind = self.kinds[fence.kind]
        os.chdir(os.path.dirname(fence.path))  # relative paths (inputs=...) are the post's
        started = time.perf_counter()
        status, message, line = RAN, "", None
        with self.capture:
            try:
                if kind.uses_backend:
                    self._bind_backend(fence.options.get("backend") or "auto")
                kind.run(fence, self)
            except FenceError as exc:
                status = EXPECTED_ERROR if fence.options.get("error") else FAILED
                message, line = str(exc), exc.line
                self.emit(Output(ERROR, message, {}))
            except BackendUnavailable as exc:
                status, message = FAILED, f"backend={fence.options.get('backend')}: {exc}"
                self.emit(Output(ERROR, message, {}))
            except BaseException as exc:  # noqa: BLE001 - author code may raise anything
                text, line = format_error(exc, fence.path, fence.source)
                status = EXPECTED_ERROR if fence.options.get("error") else FAILED
                message = traceback.format_exception_only(type(exc), exc)[-1].strip()
                self.emit(Output(ERROR, text, {"ename": type(exc).__name__}))
            self._capture_leftovers(fence)
            self._drain()
        return FenceResult(
            status=status,
            outputs=_merge_streams(self.outputs),
            seconds=time.perf_counter() - started,
            backend=self.backend.describe() if kind.uses_backend and self.backend else None,
            message=message,
            line=line,
            logs=list(self.logs),
        )

    def _bind_backend(self, request: str) -> None:
        backend = self.backends.get(request)
        if backend is not self.backend:
            self.backend = backend
            self.pm.hook.fences_session_setup(
                namespace=self.namespace, backend=backend, backends=self.backends
            )
            self.namespace["display"] = self._display_many

    def _display_many(self, *values: Any) -> None:
        for value in values:
            self.display(value)

    def _capture_leftovers(self, fence: Fence) -> None:
        try:
            for outputs in self.pm.hook.fences_capture_outputs(
                namespace=self.namespace, options=fence.options
            ):
                for output in outputs or []:
                    self.emit(output)
        except Exception as exc:
            self.emit(Output(ERROR, f"capturing outputs failed: {exc!r}", {}))

    def _drain(self) -> None:
        self.outputs.extend(self.capture.drain())


class _ListHandler(logging.Handler):
    """Keeps plugin log records with the fence's result; the host logs them, located."""

    def __init__(self, records: list[tuple[int, str]]):
        super().__init__(logging.INFO)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.levelno, record.getMessage()))


def format_error(exc: BaseException, path: str, shown: str) -> tuple[str, int | None]:
    """Traceback trimmed to the author's code (frames in the post file and below).

    The post is named by ``shown`` (its path in the content folder), never by the build
    machine's absolute path: the text lands in pages and, for ``error=true``, in the cache.
    """
    tbe = traceback.TracebackException.from_exception(exc)
    frames = list(tbe.stack)
    first = next((i for i, f in enumerate(frames) if f.filename == path), len(frames))
    tbe.stack = traceback.StackSummary.from_list(frames[first:])
    ours = [f.lineno for f in frames if f.filename == path]
    line = ours[-1] if ours else None
    if isinstance(exc, SyntaxError) and exc.filename == path:
        line = exc.lineno
    text = "".join(tbe.format()).replace(f'File "{path}"', f'File "{shown}"')
    return text, line


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


def _die_with_host(host_pid: int) -> None:
    """If the build is interrupted, a fence stuck in a loop must not outlive it.

    The session's parent is the fork server, which itself waits for its clients, so watch
    the Pelican process instead.
    """

    def watch() -> None:
        while True:
            time.sleep(1.0)
            try:
                os.kill(host_pid, 0)
            except ProcessLookupError:
                os._exit(70)
            except PermissionError:
                pass

    threading.Thread(target=watch, name="fences-watchdog", daemon=True).start()


def session_main(conn: Any, plugins: list[str], host_pid: int) -> None:
    """Entry point of a session process: run fences until the host sends None."""
    _die_with_host(host_pid)
    os.environ.setdefault("MPLBACKEND", "Agg")
    session = Session(plugins)
    conn.send(("ready", None))
    while True:
        try:
            fence = conn.recv()
        except EOFError:
            return
        if fence is None:
            return
        conn.send(("result", session.run(fence)))


def probe_main(conn: Any, plugins: list[str]) -> None:
    """Entry point of the backend probe: which backend does ``auto`` give on this machine?"""
    session = Session(plugins)
    try:
        backend = session.backends.get("auto")
        conn.send(("probe", backend.describe(), session.backends.auto_reasons))
    except BackendUnavailable as exc:
        conn.send(("probe", None, [str(exc)]))
