"""Plain data shared by the host (collect, cache, render) and the workers (execute)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .diagnostics import place, shown_path

# Statuses, as written in the report. STATUSES is the one list (the report's summary keys).
RAN, CACHED, FAILED, EXPECTED_ERROR = "ran", "cached", "failed", "expected-error"
TIMEOUT, CRASHED, SKIPPED = "timeout", "crashed", "skipped"
NOT_RUN = "not-run"  # ``eval=false``: shown, never run, never cached; no failure
STATUSES = (RAN, CACHED, FAILED, EXPECTED_ERROR, TIMEOUT, CRASHED, SKIPPED, NOT_RUN)
FAILURES = {FAILED, TIMEOUT, CRASHED}

STREAM = "application/vnd.fences.stream"
ERROR = "application/vnd.fences.error"


@dataclass
class Output:
    """One thing a fence produced. ``data`` is text, or bytes for binary payloads."""

    mime: str
    data: str | bytes
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Fence:
    """One engine fence as collected from a post."""

    path: str  # absolute path of the post file
    source: str  # path relative to the content root, as in the report
    line: int  # 1-based line of the opening ``` in the post
    body_line: int  # 1-based line of the first body line in the post
    kind: str
    code: str  # body as shown: option lines removed
    exec_code: str  # body as run: option lines blanked so line numbers still match the post
    options: dict[str, Any]
    index: int  # position among the post's engine fences
    code_line: int = 0  # 1-based post line of the first line of ``code``
    session: str = ""  # session id within the post
    key: str = ""  # cache key, set by the plan
    problem: str | None = None  # a collect-time error (bad option, unterminated fence...)
    problem_line: int | None = None

    @property
    def anchor(self) -> str:
        return f"{self.source}#{self.index}"

    @property
    def log_path(self) -> str:
        """The post as the build log names it (``content/posts/x.md``; see
        :func:`execblog.fences.diagnostics.shown_path`)."""
        return shown_path(self.path)

    def location(self, line: int | None = None) -> str:
        """``content/posts/x.md:12``, for the build log (see :attr:`log_path`)."""
        return place(self.log_path, line or self.line, self.path)

    def public_location(self, line: int | None = None) -> str:
        """``posts/x.md:12``, relative to the content folder: what pages and feeds show."""
        return place(self.source, line or self.line, self.path)


@dataclass
class FenceResult:
    """What running (or looking up) one fence gave."""

    status: str
    outputs: list[Output] = field(default_factory=list)
    seconds: float = 0.0
    backend: dict[str, Any] | None = None
    message: str = ""  # one-line error summary for the log
    line: int | None = None  # post line the error points at
    logs: list[tuple[int, str]] = field(default_factory=list)  # (level, message) from plugins
    ran_on: dict[str, Any] | None = None  # where it ran: {"executor", "worker", "device"}


@dataclass(frozen=True)
class Toolchain:
    """What runs a kind's fences on this machine, as the host sees it (a compiler...).

    ``identity`` names it exactly (resolved path and version line); results record the
    identity they were made with, and a cached result made with another one is re-run
    where this machine has a toolchain. ``None`` means this machine cannot run the kind:
    ``missing`` says why (``rustc not found on PATH``), is logged once per build, and
    cached results are kept, as results made on a GPU are kept on a machine without one.
    """

    identity: str | None
    missing: str = ""


@dataclass(frozen=True)
class FenceKind:
    """A fence kind: which openers it claims and how one of its fences runs in a worker.

    ``language`` and ``marker`` select openers: ```` ```python exec ```` is language
    "python" with marker "exec"; ```` ```diagram ```` has no marker. ``aliases`` are other
    languages it claims (``sh`` for bash). ``comment`` starts its option lines
    (``#| key: value``; ``//| key: value`` for C-like kinds). ``options`` adds
    kind-specific :class:`OptionSpec` entries. ``run(fence, session)`` executes one fence
    in the worker (``session`` is a :class:`fences.Session`) and emits outputs through
    ``session.emit``/``session.display``.

    ``toolchain`` (host, optional) tells what runs the kind here; see :class:`Toolchain`.
    ``session_for(options)`` (optional) names the kind whose default session a fence
    joins when it has no ``session=`` (a C fence that exports functions to Python joins
    ``"python"``); by default each kind has its own. ``needs_gpu``: its fences run only
    on a GPU (cuda), so a cluster executor sends their sessions to GPU workers.

    ``notebook_cell``: how its fences appear in a post's notebook download: the language
    of the code cell they become. The kernel's own (``"python"``) gives a plain code cell,
    another one a cell run by IPython's cell magic of that name (``"bash"``: ``%%bash``).
    ``None`` (the default): a Markdown cell with the code and its outputs, for what a
    Python kernel cannot run (compiled languages, diagrams).
    """

    name: str
    language: str
    run: Callable[[Fence, Any], None]
    marker: str | None = None
    options: tuple[Any, ...] = ()
    shares_session: bool = True
    uses_backend: bool = True
    version: str = "1"
    defaults: tuple[tuple[str, Any], ...] = ()  # option defaults of this kind, e.g. echo off
    aliases: tuple[str, ...] = ()
    comment: str = "#"
    toolchain: Callable[[], Toolchain] | None = None
    session_for: Callable[[dict[str, Any]], str | None] | None = None
    needs_gpu: bool = False
    notebook_cell: str | None = None


class FenceError(Exception):
    """A located problem a kind reports without a traceback (bad diagram JSON, a compile
    error...).

    ``line`` is the line in the post, when known. ``message`` is one line for the log;
    ``detail``, when given, is what the page's error block shows instead (a compiler's
    whole diagnostic with the offending source line).
    """

    def __init__(self, message: str, line: int | None = None, detail: str = ""):
        super().__init__(message)
        self.line = line
        self.detail = detail


@dataclass
class RenderContext:
    """What an output renderer may use (host side)."""

    fence: Fence
    result: FenceResult
    link: Callable[[bytes, str], str]  # (payload, extension) -> "{static}/fences/<hash>.ext"
    markdown: Callable[[str], str]  # Markdown -> HTML with the site's settings
