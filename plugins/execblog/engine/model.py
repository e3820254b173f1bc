"""Plain data shared by the host (collect, cache, render) and the workers (execute)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from execblog.kernel.diagnostics import place, shown_path

# Statuses, as written in the report. STATUSES is the one list (the report's summary keys).
RAN, CACHED, FAILED, EXPECTED_ERROR = "ran", "cached", "failed", "expected-error"
TIMEOUT, CRASHED, SKIPPED = "timeout", "crashed", "skipped"
NOT_RUN = "not-run"  # ``eval=false``: shown, never run, never cached; no failure
STATUSES = (RAN, CACHED, FAILED, EXPECTED_ERROR, TIMEOUT, CRASHED, SKIPPED, NOT_RUN)
FAILURES = {FAILED, TIMEOUT, CRASHED}

# An output's role in feeds: rendered HTML marks elements with ``data-feed="<role>"`` and
# feeds (execblog.formats.feeds) act on that attribute alone, never on another package's classes.
FEED_ATTRIBUTE = "data-feed"
FEED_DROP = "drop"  # page only: controls needing the page's script, a dark variant, a copy
FEED_ONLY = "feed-only"  # hidden on the page, shown in feeds (a diagram's standalone image)
FEED_STATIC = "static"  # feeds keep it without its ``data-*`` state (a parameter grid)
FEED_ROLES = (FEED_DROP, FEED_ONLY, FEED_STATIC)


def feed_role(role: str) -> str:
    """The attribute that gives an element of rendered HTML its ``role`` in feeds."""
    if role not in FEED_ROLES:
        raise ValueError(f"unknown feed role {role!r}: one of {', '.join(FEED_ROLES)}")
    return f' {FEED_ATTRIBUTE}="{role}"'


STREAM = "application/vnd.fences.stream"
ERROR = "application/vnd.fences.error"


@dataclass
class Output:
    """One thing a fence produced. ``data`` is text, or bytes for binary payloads."""

    mime: str
    data: str | bytes
    meta: dict[str, Any] = field(default_factory=dict)


class FenceOptions(Mapping[str, Any]):
    """A fence's validated options: frozen, read by attribute (``opts.echo``,
    ``opts.fig_subcap`` for ``fig-subcap``, ``opts.hl_lines``).

    Built once by :func:`execblog.engine.options.validate` from the option table, with
    Quarto's aliases resolved, so the names are the canonical ones and the values are what
    each spec's parser made. Which names exist depends on the fence's kind (its own
    options: ``flags``, ``export``...); reading any other raises AttributeError naming the
    valid ones. It is also a read-only Mapping of canonical name -> value (the cache key,
    notebooks and ``dict(opts)`` use that view); an option whose name is a Mapping method
    (``get``, ``items``, ``keys``, ``values``) is read as ``opts["values"]``.
    """

    __slots__ = ("_values",)
    _values: dict[str, Any]

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        object.__setattr__(self, "_values", dict(values or {}))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        values = self._values
        for key in (name, name.replace("_", "-")):
            if key in values:
                return values[key]
        raise AttributeError(f"fence option {name!r} does not exist for this fence; its "
                             f"options are: {', '.join(self.attribute_names())}")

    def attribute_names(self) -> list[str]:
        """The options as attribute names (dashes as underscores), sorted."""
        return sorted(name.replace("-", "_") for name in self._values)

    def updated(self, changes: Mapping[str, Any]) -> FenceOptions:
        """A copy with ``changes`` (canonical names) applied; this one is unchanged."""
        return FenceOptions({**self._values, **changes})

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError(f"fence options are frozen: cannot set {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"fence options are frozen: cannot delete {name!r}")

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self.attribute_names()})

    def __reduce__(self) -> tuple[Any, ...]:
        return (FenceOptions, (self._values,))

    def __repr__(self) -> str:
        return f"FenceOptions({self._values!r})"


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
    options: FenceOptions  # a plain mapping given here is made a FenceOptions
    index: int  # position among the post's engine fences
    code_line: int = 0  # 1-based post line of the first line of ``code``
    session: str = ""  # session id within the post
    key: str = ""  # cache key, set by the plan
    problem: str | None = None  # a collect-time error (bad option, unterminated fence...)
    problem_line: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.options, FenceOptions):
            self.options = FenceOptions(self.options)

    @property
    def anchor(self) -> str:
        return f"{self.source}#{self.index}"

    @property
    def log_path(self) -> str:
        """The post as the build log names it (``content/posts/x.md``; see
        :func:`execblog.kernel.diagnostics.shown_path`)."""
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
    ``session_for(options)`` (optional; ``options`` is the fence's :class:`FenceOptions`)
    names the kind whose default session a fence joins when it has no ``session=`` (a C
    fence that exports functions to Python joins ``"python"``); by default each kind has
    its own. ``needs_gpu``: its fences run only
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
